//! `request` ("Webhook / Request URL"): an HTTP request through the host. Result
//! `{status, statusText, headers, data}`; a status outside 2xx rejects with the same
//! object (in the error's extensions).

use crate::{info, text};
use rectus_sdk::{Context, Host, HostError, HttpRequest, Operation, OperationInfo};
use serde_json::{json, Map, Value as Json};

pub struct Request;

impl Operation for Request {
    fn info(&self) -> OperationInfo {
        info(
            "request",
            "Webhook / Request URL",
            "Makes an HTTP request.",
            json!({
                "url": {"type": "string"},
                "method": {"enum": ["GET", "POST", "PATCH", "PUT", "DELETE"]},
                "headers": {"type": "array", "items": {"type": "object", "properties": {"header": {"type": "string"}, "value": {"type": "string"}}}},
                "body": {},
            }),
        )
    }

    async fn run<H: Host>(
        &self,
        host: &H,
        ctx: &Context,
        options: Json,
        _data: Json,
    ) -> Result<Json, HostError> {
        let url = text(&options, "url")
            .filter(|u| !u.is_empty())
            .ok_or_else(|| HostError::invalid_payload("\"url\" is required"))?;
        let method = text(&options, "method")
            .unwrap_or_else(|| "GET".into())
            .to_ascii_uppercase();
        let mut headers: Vec<(String, String)> = match options.get("headers") {
            Some(Json::Array(list)) => list
                .iter()
                .filter_map(|h| {
                    Some((
                        h.get("header")?.as_str()?.to_string(),
                        match h.get("value")? {
                            Json::String(s) => s.clone(),
                            other => other.to_string(),
                        },
                    ))
                })
                .collect(),
            _ => Vec::new(),
        };
        let body = match options.get("body") {
            None | Some(Json::Null) => None,
            Some(Json::String(s)) if s.is_empty() => None,
            // Text that is JSON is sent as JSON, as Directus's editor stores it as text.
            Some(Json::String(s)) => match serde_json::from_str::<Json>(s) {
                Ok(v) if v.is_object() || v.is_array() => Some(json_body(&mut headers, &v)),
                _ => Some(s.clone().into_bytes()),
            },
            Some(v) => Some(json_body(&mut headers, v)),
        };
        let res = host
            .http_request(
                ctx,
                HttpRequest {
                    method,
                    url,
                    headers,
                    body,
                },
            )
            .await?;
        let headers: Map<String, Json> = res
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), Json::String(v.clone())))
            .collect();
        let out = json!({
            "status": res.status,
            "statusText": res.status_text,
            "headers": headers,
            "data": res.data,
        });
        if (200..300).contains(&res.status) {
            return Ok(out);
        }
        let mut e = HostError::new(
            res.status.clamp(400, 599),
            "REQUEST_FAILED",
            format!("Request failed with status code {}", res.status),
        );
        if let Json::Object(o) = out {
            e.extensions.extend(o);
        }
        Err(e)
    }
}

fn json_body(headers: &mut Vec<(String, String)>, v: &Json) -> Vec<u8> {
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        headers.push(("Content-Type".into(), "application/json".into()));
    }
    v.to_string().into_bytes()
}

//! The HTTP client behind the request operation: http(s) URLs only, the body parsed as
//! JSON when it is JSON, at most [`MAX_BODY`] bytes read.

use rectus_sdk::{HostError, HttpRequest, HttpResponse};
use serde_json::Value as Json;

const MAX_BODY: usize = 10 * 1024 * 1024;

fn unavailable(reason: String) -> HostError {
    HostError::new(
        503,
        "SERVICE_UNAVAILABLE",
        format!("Service \"request\" is unavailable. {reason}."),
    )
    .with("service", "request")
    .with("reason", reason)
}

pub async fn send(client: &reqwest::Client, r: HttpRequest) -> Result<HttpResponse, HostError> {
    let url = reqwest::Url::parse(&r.url)
        .map_err(|e| HostError::invalid_payload(format!("\"url\" is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(HostError::invalid_payload("\"url\" must be http or https"));
    }
    let method = reqwest::Method::from_bytes(r.method.as_bytes())
        .map_err(|_| HostError::invalid_payload(format!("\"{}\" is not a method", r.method)))?;
    let mut req = client.request(method, url);
    for (k, v) in r.headers {
        req = req.header(k, v);
    }
    if let Some(body) = r.body {
        req = req.body(body);
    }
    let mut res = req.send().await.map_err(|e| unavailable(e.to_string()))?;
    let status = res.status();
    let headers = res
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(|e| unavailable(e.to_string()))? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(unavailable("the response is larger than 10 MB".into()));
        }
        body.extend_from_slice(&chunk);
    }
    let data = serde_json::from_slice::<Json>(&body)
        .unwrap_or_else(|_| Json::String(String::from_utf8_lossy(&body).into_owned()));
    Ok(HttpResponse {
        status: status.as_u16(),
        status_text: status.canonical_reason().unwrap_or_default().to_string(),
        headers,
        data,
    })
}

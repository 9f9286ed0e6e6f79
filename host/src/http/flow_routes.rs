//! `GET|POST /flows/trigger/:id`: webhook flows (method per the flow's options) and
//! manual flows (`POST {collection, keys}` by a signed-in user who may read those items).
//! The answer is the flow's `return` value as raw JSON (not wrapped in `data`), `204`
//! when it is empty or the flow runs asynchronously; with `error_on_reject` a rejected
//! run answers with its error. An unknown id or a wrong method is `403`, as in Directus.

use super::error::ApiError;
use super::extract::Caller;
use crate::app::AppState;
use crate::flows::run::{self, Started};
use crate::flows::Flows;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use rectus_sdk::{Context, Host, QueryInput};
use serde_json::{json, Map, Value as Json};
use std::sync::Arc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/flows/trigger/{id}", any(trigger))
}

fn query_object(q: Option<&str>) -> Json {
    let mut out = Map::new();
    for pair in q.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        out.insert(
            super::extract::percent_decode(k),
            Json::String(super::extract::percent_decode(v)),
        );
    }
    Json::Object(out)
}

fn headers_object(h: &HeaderMap) -> Json {
    Json::Object(
        h.iter()
            .filter_map(|(k, v)| Some((k.to_string(), Json::String(v.to_str().ok()?.to_string()))))
            .collect(),
    )
}

#[allow(clippy::too_many_arguments)]
async fn trigger(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    caller: Result<Caller, ApiError>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Caller(acc) = caller?;
    let flow = state
        .flows
        .flow(&id)
        .filter(|f| matches!(f.trigger.as_str(), "webhook" | "manual"))
        .ok_or_else(ApiError::forbidden)?;
    let wanted = match flow.trigger.as_str() {
        "manual" => "POST",
        _ => flow.option_str("method").unwrap_or("GET"),
    };
    if !method.as_str().eq_ignore_ascii_case(wanted) {
        return Err(ApiError::forbidden());
    }
    let body_json: Json = if body.is_empty() {
        Json::Null
    } else {
        serde_json::from_slice(&body)
            .map_err(|_| ApiError::invalid_payload("The body must be JSON"))?
    };
    let ctx = Context {
        user: acc.user.clone(),
        role: acc.role.clone(),
        admin: acc.admin,
        ip: Some(peer.ip().to_string()),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(512).collect()),
    };
    if flow.trigger == "manual" {
        check_manual(&state, &flow, &ctx, &body_json).await?;
    }
    let trigger = json!({
        "path": uri.path(),
        "query": query_object(uri.query()),
        "body": body_json,
        "method": method.as_str(),
        "headers": headers_object(&headers),
    });
    let depth = crate::events::current_depth() + 1;
    let started = Started {
        trigger,
        ctx,
        depth,
    };
    if flow.option_bool("async") {
        let (s, f) = (state.clone(), flow.clone());
        tokio::spawn(async move {
            Flows::run_now(&s.flows, &s, &f, started).await;
        });
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let outcome = state.flows.run_now(&state, &flow, started).await;
    if outcome.status == run::Status::Reject && flow.option_bool("error_on_reject") {
        let (status, code, message, extensions) = run::error_of(outcome.last());
        return Err(ApiError {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            code,
            message,
            extensions,
        });
    }
    let ret = if flow.trigger == "manual" {
        None
    } else {
        flow.option_str("return")
    };
    Ok(match outcome.returned(ret) {
        Json::Null => StatusCode::NO_CONTENT.into_response(),
        v => (
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            v.to_string(),
        )
            .into_response(),
    })
}

/// A manual flow needs a signed-in caller, a collection the flow lists, and keys the
/// caller may read (each one; a missing item counts as unreadable).
async fn check_manual(
    state: &Arc<AppState>,
    flow: &crate::flows::model::Flow,
    ctx: &Context,
    body: &Json,
) -> Result<(), ApiError> {
    if ctx.user.is_none() {
        return Err(ApiError::forbidden());
    }
    let collection = body
        .get("collection")
        .and_then(Json::as_str)
        .ok_or_else(|| ApiError::invalid_payload("\"collection\" is required"))?;
    if !flow
        .option_list("collections")
        .iter()
        .any(|c| c == collection)
    {
        return Err(ApiError::forbidden());
    }
    let keys = match body.get("keys") {
        Some(Json::Array(k)) => k.clone(),
        None | Some(Json::Null) => Vec::new(),
        Some(_) => return Err(ApiError::invalid_payload("\"keys\" must be an array")),
    };
    let require_selection = !matches!(flow.option("requireSelection"), Some(Json::Bool(false)));
    if keys.is_empty() && require_selection {
        return Err(ApiError::invalid_payload(
            "\"keys\" must name at least one item",
        ));
    }
    let host = crate::registry::NativeHost::new(state.clone());
    for k in &keys {
        let key = match k {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        };
        host.read_item(
            ctx,
            collection,
            &key,
            QueryInput::Json(json!({"fields": ["*"]})),
        )
        .await
        .map_err(|_| ApiError::forbidden())?;
    }
    Ok(())
}

//! Routes served by modules: the request is handed to the enabled module mounted at its
//! first path segment (`/items/…` → REST, `/<extension-id>/…` → a guest's endpoint). A
//! disabled module's routes are not found.

use super::error::ApiError;
use super::extract::Caller;
use crate::app::AppState;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use std::sync::Arc;

/// A route for every mount point of every registered module (enabled or not: switching
/// a module on must not need a new router).
pub fn routes(mounts: &[&'static str]) -> Router<Arc<AppState>> {
    mounts.iter().fold(Router::new(), |r, m| {
        r.route(&format!("/{m}"), any(dispatch))
            .route(&format!("/{m}/{{*rest}}"), any(dispatch))
    })
}

pub(super) async fn dispatch(
    State(state): State<Arc<AppState>>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    caller: Result<Caller, ApiError>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let mut segments = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(super::extract::percent_decode);
    let mount = segments.next().unwrap_or_default();
    let Some(handle) = state.modules.endpoint(&mount) else {
        return ApiError::route_not_found(path).into_response();
    };
    let Caller(acc) = match caller {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let ctx = rectus_sdk::Context {
        user: acc.user,
        role: acc.role,
        admin: acc.admin,
        ip: Some(peer.ip().to_string()),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(512).collect()),
    };
    let req = rectus_sdk::Request {
        mount: mount.clone(),
        method: method.as_str().to_string(),
        segments: segments.collect(),
        query: uri.query().unwrap_or_default().to_string(),
        body: body.to_vec(),
    };
    let res = (*handle)(state.clone(), ctx, req).await;
    let mut out = (
        StatusCode::from_u16(res.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        res.body,
    )
        .into_response();
    if res.status != 204 {
        out.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(res.content_type),
        );
    }
    for (k, v) in res.headers {
        if let (Ok(k), Ok(v)) = (header::HeaderName::try_from(k), HeaderValue::try_from(v)) {
            out.headers_mut().insert(k, v);
        }
    }
    out
}

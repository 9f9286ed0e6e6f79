//! Routes served by modules: the request is handed to the enabled module mounted at its
//! first path segment (`/items/…` → REST, `/<extension-id>/…` → a guest's endpoint). A
//! disabled module's routes are not found.

use super::error::ApiError;
use super::extract::Caller;
use super::socket::{self, ModuleSocket};
use crate::app::AppState;
use axum::body::Bytes;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
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

// An axum handler takes each extractor as an argument; grouping them would only hide them.
#[allow(clippy::too_many_arguments)]
pub(super) async fn dispatch(
    State(state): State<Arc<AppState>>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    caller: Result<Caller, ApiError>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: axum::http::HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
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
    let ctx = context(acc, peer, &headers);
    // A WebSocket upgrade goes to the module's socket handler, if it serves sockets.
    if let (Ok(upgrade), Some((protocol, serve))) = (upgrade, state.modules.socket(&mount)) {
        let expires = bearer_token(&headers, uri.query()).and_then(|t| socket::token_expiry(&t));
        let state = state.clone();
        return upgrade
            .protocols([protocol])
            .on_upgrade(move |ws| serve(state, ctx, ModuleSocket::new(ws, expires)));
    }
    let req = rectus_sdk::Request {
        mount: mount.clone(),
        method: method.as_str().to_string(),
        segments: segments.collect(),
        query: uri.query().unwrap_or_default().to_string(),
        body: body.to_vec(),
    };
    into_http(handle(state.clone(), ctx, req).await)
}

/// The caller's token: the bearer header, or `access_token` in the query.
fn bearer_token(headers: &axum::http::HeaderMap, query: Option<&str>) -> Option<String> {
    if let Some(h) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        return h.strip_prefix("Bearer ").map(str::to_string);
    }
    query?
        .split('&')
        .find_map(|p| p.strip_prefix("access_token="))
        .map(super::extract::percent_decode)
}

/// The caller as modules see it.
pub(super) fn context(
    acc: crate::auth::Accountability,
    peer: std::net::SocketAddr,
    headers: &axum::http::HeaderMap,
) -> rectus_sdk::Context {
    rectus_sdk::Context {
        user: acc.user,
        role: acc.role,
        admin: acc.admin,
        ip: Some(peer.ip().to_string()),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(512).collect()),
    }
}

/// A module's response as HTTP.
pub(super) fn into_http(res: rectus_sdk::Response) -> Response {
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

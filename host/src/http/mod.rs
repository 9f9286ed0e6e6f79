//! The HTTP edge: the router, request logging, graceful shutdown, and the mapping of
//! typed errors to Directus's error envelope (`error.rs`).
//!
//! Owns: routes and their thin handlers. Must not touch: SQL — handlers call the schema
//! service, the auth module or the database layer's builders, and return typed errors.

pub mod access_routes;
pub mod auth_routes;
pub mod error;
pub mod extensions;
pub mod extract;
pub mod flow_routes;
pub mod invite_routes;
pub mod log;
pub mod me_routes;
pub mod modules;
pub mod password_routes;
pub mod schema_routes;
pub mod schema_snapshot_routes;
pub mod server_routes;
pub mod socket;
pub mod specs;

use crate::app::AppState;
use axum::extract::{DefaultBodyLimit, OriginalUri};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Router;
use error::ApiError;
use std::sync::Arc;

pub fn router(state: Arc<AppState>) -> Router {
    let limit = state.config.max_payload_size;
    Router::new()
        .merge(server_routes::routes())
        .merge(specs::routes())
        .merge(auth_routes::routes())
        .merge(password_routes::routes())
        .merge(me_routes::routes())
        .merge(access_routes::routes())
        .merge(invite_routes::routes())
        .merge(schema_routes::routes())
        .merge(flow_routes::routes())
        .merge(modules::routes(&state.modules.mounts()))
        .merge(extensions::routes())
        .merge(schema_snapshot_routes::routes())
        // Guests' endpoints (`/<extension-id>/…`) come and go at runtime: any path no
        // route claims is offered to the registry, which answers 404 when nothing serves it.
        .fallback(modules::dispatch)
        .method_not_allowed_fallback(not_found)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn(log::log_requests))
        .layer(axum::middleware::map_response(no_cache))
        .with_state(state)
}

async fn not_found(OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::route_not_found(uri.path())
}

async fn no_cache(mut res: Response) -> Response {
    res.headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(header::HeaderValue::from_static("no-cache"));
    res.into_response()
}

/// Serves until SIGINT or SIGTERM, then stops accepting and lets in-flight requests
/// finish.
pub async fn serve(state: Arc<AppState>, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

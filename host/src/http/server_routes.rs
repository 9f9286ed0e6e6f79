//! `/server/ping`, `/server/health`, `/server/info`.

use super::error::ApiError;
use super::extract::Caller;
use crate::app::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/server/ping", get(ping))
        .route("/server/health", get(health))
        .route("/server/info", get(info))
}

async fn ping() -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], "pong").into_response()
}

/// `{status}` for everyone (Directus 11 behaviour; probes need no token), with the
/// checks for admins. `503` when the database does not answer.
async fn health(State(state): State<Arc<AppState>>, caller: Result<Caller, ApiError>) -> Response {
    let started = Instant::now();
    let ping = tokio::time::timeout(std::time::Duration::from_secs(3), state.db.ping()).await;
    let ok = matches!(ping, Ok(Ok(())));
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    let status = if ok { "ok" } else { "error" };
    let vendor = state.db.dialect().vendor();
    let (size, idle) = state.db.pool_stats();
    let is_admin = caller.is_ok_and(|Caller(a)| a.admin);
    let body = if is_admin {
        json!({
            "status": status,
            "releaseId": env!("CARGO_PKG_VERSION"),
            "serviceId": state.service_id,
            "checks": {
                format!("{vendor}:responseTime"): [{
                    "status": status,
                    "componentType": "datastore",
                    "observedUnit": "ms",
                    "observedValue": (elapsed * 1000.0).round() / 1000.0,
                    "threshold": 150,
                }],
                format!("{vendor}:connectionsAvailable"): [{
                    "status": "ok", "componentType": "datastore", "observedValue": idle,
                }],
                format!("{vendor}:connectionsUsed"): [{
                    "status": "ok", "componentType": "datastore",
                    "observedValue": (size as usize).saturating_sub(idle),
                }],
                "flows:queue": [state.flows.health(&state)],
            }
        })
    } else {
        json!({ "status": status })
    };
    let code = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        code,
        [(header::CONTENT_TYPE, "application/health+json")],
        body.to_string(),
    )
        .into_response()
}

async fn info(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    let mut sql = state.db.sql();
    sql.push("SELECT * FROM ")
        .ident("rectus_settings")
        .push(" ORDER BY ")
        .ident("id");
    let settings = state.db.fetch_optional(&sql).await?.unwrap_or_default();
    let get = |k: &str| settings.get(k).cloned().unwrap_or(serde_json::Value::Null);
    let mut project = json!({
        "project_name": get("project_name"),
        "project_descriptor": get("project_descriptor"),
        "project_logo": get("project_logo"),
        "project_color": get("project_color"),
        "default_appearance": get("default_appearance"),
        "default_theme_light": get("default_theme_light"),
        "default_theme_dark": get("default_theme_dark"),
        "theme_light_overrides": get("theme_light_overrides"),
        "theme_dark_overrides": get("theme_dark_overrides"),
        "default_language": get("default_language"),
        "public_foreground": get("public_foreground"),
        "public_background": get("public_background"),
        "public_favicon": get("public_favicon"),
        "public_note": get("public_note"),
        "custom_css": get("custom_css"),
        "public_registration": get("public_registration").as_i64().map(|n| n == 1).or(get("public_registration").as_bool()),
        "public_registration_verify_email": get("public_registration_verify_email").as_i64().map(|n| n == 1).or(get("public_registration_verify_email").as_bool()),
    });
    for key in ["theme_light_overrides", "theme_dark_overrides"] {
        if let Some(text) = project[key].as_str() {
            project[key] = serde_json::from_str(text).unwrap_or(serde_json::Value::Null);
        }
    }
    let mut data = json!({ "project": project });
    if caller.user.is_some() {
        data["version"] = json!(env!("CARGO_PKG_VERSION"));
        data["rateLimit"] = json!(false);
        data["rateLimitGlobal"] = json!(false);
        data["queryLimit"] = json!({ "default": 100, "max": -1 });
        data["websocket"] = json!(false);
        data["extensions"] = json!({ "limit": null });
    }
    Ok(Json(json!({ "data": data })))
}

//! `POST /auth/login` (local e-mail + password, `json` mode). The rest of the auth
//! surface (refresh, logout, cookies and sessions, password reset) belongs to the access
//! issue and lands with `rectus_sessions`.

use super::error::ApiError;
use super::extract::JsonBody;
use crate::app::AppState;
use crate::auth::{self, jwt, password};
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/auth/login", post(login))
}

#[derive(Deserialize)]
struct Login {
    email: Option<serde_json::Value>,
    password: Option<serde_json::Value>,
    mode: Option<String>,
}

/// A hash of a random password, verified against when the e-mail is unknown so that an
/// unknown account costs the same time as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| password::hash_now(&uuid::Uuid::new_v4().to_string()))
}

async fn login(
    State(state): State<Arc<AppState>>,
    JsonBody(body): JsonBody<Login>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let email = match body.email.as_ref().and_then(|v| v.as_str()) {
        Some(e) if auth::is_plausible_email(e) => e.to_ascii_lowercase(),
        Some(_) => return Err(ApiError::invalid_payload("\"email\" must be a valid email")),
        None => return Err(ApiError::invalid_payload("\"email\" is required")),
    };
    let Some(given) = body
        .password
        .as_ref()
        .and_then(|v| v.as_str())
        .map(str::to_string)
    else {
        return Err(ApiError::invalid_payload("\"password\" is required"));
    };
    if let Some(mode) = body.mode.as_deref() {
        if mode != "json" {
            return Err(ApiError::invalid_payload(format!(
                "\"mode\" \"{mode}\" is not supported yet; use \"json\""
            )));
        }
    }
    let mut sql = state.db.sql();
    sql.push("SELECT ")
        .idents(["id", "role", "password", "status"])
        .push(" FROM ")
        .ident("rectus_users")
        .push(" WHERE ")
        .ident("email")
        .push(" = ")
        .bind(email);
    let user = state.db.fetch_optional(&sql).await?;
    let stored = user
        .as_ref()
        .and_then(|u| u.get("password")?.as_str().map(str::to_string))
        .unwrap_or_else(|| decoy_hash().to_string());
    let matches = password::verify(given, stored).await;
    let Some(user) = user.filter(|_| matches) else {
        return Err(ApiError::unauthenticated());
    };
    if user.get("status").and_then(|s| s.as_str()) != Some("active") {
        return Err(ApiError::unauthenticated());
    }
    let id = user
        .get("id")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string();
    let role = user
        .get("role")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let (admin, app) = auth::global_access(&state.db, &id, role.as_deref()).await?;
    let now = chrono::Utc::now().timestamp();
    let ttl = state.config.access_token_ttl;
    let token = jwt::sign(
        &state.secret,
        &jwt::Claims {
            id,
            role,
            app_access: app,
            admin_access: admin,
            iat: now,
            exp: now + ttl.as_secs() as i64,
            iss: jwt::ISSUER.to_string(),
        },
    );
    Ok(Json(json!({
        "data": {
            "access_token": token,
            "expires": ttl.as_millis() as u64,
            "refresh_token": null,
        }
    })))
}

//! `POST /users/invite` and `POST /users/invite/accept`, as Directus has them.
//!
//! Inviting creates the user (`status: invited`, the given role) through the items
//! service under the caller's permissions — so only a caller that may create users can
//! invite — and issues a signed seven-day token naming the e-mail. Inviting an address
//! that is already invited issues a new token; an existing active account is `400`.
//! Sending the invitation by e-mail arrives with the mail issue; until then the token is
//! written to the log, like password reset tokens. Accepting sets the password and
//! activates the account, once: afterwards the account is no longer `invited`.

use super::error::ApiError;
use super::extract::{Caller, JsonBody};
use crate::app::AppState;
use crate::auth::{jwt, password, AuthError};
use crate::registry::NativeHost;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use rectus_sdk::Host;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;

const SCOPE: &str = "invite";
const TTL_SECS: i64 = 7 * 24 * 3600;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/users/invite", post(invite))
        .route("/users/invite/accept", post(accept))
}

/// The status of the account with this e-mail, if there is one.
async fn status_of(state: &AppState, email: &str) -> Result<Option<String>, ApiError> {
    let mut sql = state.db.sql();
    sql.push("SELECT ")
        .ident("status")
        .push(" AS status FROM ")
        .ident("rectus_users")
        .push(" WHERE ")
        .ident("email")
        .push(" = ")
        .bind(email);
    Ok(state.db.fetch_optional(&sql).await?.map(|r| {
        r.get("status")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    }))
}

async fn invite(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    let emails: Vec<String> = match body.get("email") {
        Some(Value::String(e)) => vec![e.clone()],
        Some(Value::Array(list)) => list
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| ApiError::invalid_payload("\"email\" must be a valid email"))?,
        _ => return Err(ApiError::invalid_payload("\"email\" is required")),
    };
    if emails.is_empty() || emails.iter().any(|e| !crate::auth::is_plausible_email(e)) {
        return Err(ApiError::invalid_payload("\"email\" must be a valid email"));
    }
    let role = body
        .get("role")
        .and_then(Value::as_str)
        .filter(|r| uuid::Uuid::parse_str(r).is_ok())
        .ok_or_else(|| ApiError::invalid_payload("\"role\" must be a valid GUID"))?;
    if body
        .get("invite_url")
        .is_some_and(|u| !u.is_null() && !u.is_string())
    {
        return Err(ApiError::invalid_payload("\"invite_url\" must be a string"));
    }
    let ctx = rectus_sdk::Context {
        user: caller.user.clone(),
        role: caller.role.clone(),
        admin: caller.admin,
        ip: Some(peer.ip().to_string()),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(512).collect()),
    };
    let host = NativeHost::new(state.clone());
    for email in emails {
        let email = email.to_ascii_lowercase();
        match status_of(&state, &email).await?.as_deref() {
            None => {
                host.create_items(
                    &ctx,
                    "directus_users",
                    json!({"email": email, "role": role, "status": "invited"}),
                )
                .await?;
            }
            Some("invited") => {}
            Some(_) => {
                return Err(ApiError::invalid_payload(format!(
                    "User with email \"{email}\" already exists"
                )))
            }
        }
        let now = chrono::Utc::now().timestamp();
        let token = jwt::sign_json(
            &state.secret,
            &json!({"scope": SCOPE, "email": email, "iat": now, "exp": now + TTL_SECS, "iss": jwt::ISSUER}),
        );
        tracing::info!(
            email,
            token,
            "user invited (no mail transport yet: the token is logged)"
        );
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn accept(
    State(state): State<Arc<AppState>>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    let token = body
        .get("token")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::invalid_payload("\"token\" is required"))?;
    let new_password = body
        .get("password")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| ApiError::invalid_payload("\"password\" is required"))?;
    let claims = jwt::verify_json(&state.secret, token)?;
    if claims.get("scope").and_then(Value::as_str) != Some(SCOPE) {
        return Err(AuthError::InvalidToken.into());
    }
    let email = claims
        .get("email")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if status_of(&state, &email).await?.as_deref() != Some("invited") {
        return Err(ApiError::invalid_payload(format!(
            "Email address {email} hasn't been invited"
        )));
    }
    let hash = password::hash(new_password.to_string()).await;
    let mut sql = state.db.sql();
    sql.push("UPDATE ")
        .ident("rectus_users")
        .push(" SET ")
        .ident("password")
        .push(" = ")
        .bind(hash)
        .push(", ")
        .ident("status")
        .push(" = ")
        .bind("active")
        .push(" WHERE ")
        .ident("email")
        .push(" = ")
        .bind(email.as_str())
        .push(" AND ")
        .ident("status")
        .push(" = ")
        .bind("invited");
    state.db.execute(&sql).await?;
    state.token_cache.clear();
    state.access.clear();
    Ok(StatusCode::NO_CONTENT.into_response())
}

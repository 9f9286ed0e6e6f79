//! `POST /users/invite` (admin: `{email: string | string[], role, invite_url?}`) creates
//! each user with `status: "invited"` and mails a link with a signed, 7-day token (the
//! built-in `user-invitation` template); `POST /users/invite/accept` (`{token,
//! password}`) sets the password and activates the account. A user that already exists
//! and is not invited is left alone (no mail); an invited one gets a new link.

use super::error::ApiError;
use super::extract::{Admin, JsonBody};
use crate::app::AppState;
use crate::auth::{jwt, AuthError};
use crate::registry::NativeHost;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use rectus_sdk::{Context, Host, Target};
use serde_json::{json, Value};
use std::sync::Arc;

const SCOPE: &str = "invite";
const TTL_SECS: i64 = 7 * 86_400;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/users/invite", post(invite))
        .route("/users/invite/accept", post(accept))
}

/// The system acting on its own account (creating and activating invited users).
fn system() -> Context {
    Context {
        user: None,
        role: None,
        admin: true,
        ip: None,
        user_agent: None,
    }
}

/// `(id, status)` of the user with this e-mail.
async fn user(state: &AppState, email: &str) -> Result<Option<(String, String)>, ApiError> {
    let mut sql = state.db.sql();
    sql.push("SELECT ")
        .idents(["id", "status"])
        .push(" FROM ")
        .ident("rectus_users")
        .push(" WHERE ")
        .ident("email")
        .push(" = ")
        .bind(email.to_ascii_lowercase());
    Ok(state.db.fetch_optional(&sql).await?.map(|r| {
        let s = |k: &str| {
            r.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        (s("id"), s("status"))
    }))
}

async fn invite(
    State(state): State<Arc<AppState>>,
    Admin(admin): Admin,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    let emails: Vec<String> = match body.get("email") {
        Some(Value::String(e)) => vec![e.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .map(|e| e.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| {
                ApiError::invalid_payload("\"email\" must be an e-mail address or a list of them")
            })?,
        _ => return Err(ApiError::invalid_payload("\"email\" is required")),
    };
    if emails.is_empty() || !emails.iter().all(|e| crate::auth::is_plausible_email(e)) {
        return Err(ApiError::invalid_payload("\"email\" must be a valid email"));
    }
    let role = body
        .get("role")
        .and_then(Value::as_str)
        .filter(|r| uuid::Uuid::parse_str(r).is_ok())
        .ok_or_else(|| ApiError::invalid_payload("\"role\" must be a role id"))?;
    let base = match body.get("invite_url").filter(|v| !v.is_null()) {
        Some(Value::String(u)) if state.config.user_invite_url_allow_list.contains(u) => u.clone(),
        Some(_) => {
            return Err(ApiError::invalid_payload(
                "\"invite_url\" can't be used to invite users",
            ))
        }
        None => format!(
            "{}/admin/accept-invite",
            state.config.public_url.trim_end_matches('/')
        ),
    };
    let host = NativeHost::new(state.clone());
    let ctx = Context {
        user: admin.user.clone(),
        role: admin.role.clone(),
        admin: admin.admin,
        ip: None,
        user_agent: None,
    };
    for email in emails {
        let email = email.to_ascii_lowercase();
        match user(&state, &email).await? {
            Some((_, status)) if status != "invited" => continue,
            Some(_) => {}
            None => {
                host.create_items(
                    &ctx,
                    "directus_users",
                    json!({"email": email, "role": role, "status": "invited"}),
                )
                .await
                .map_err(|e| ApiError {
                    status: StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
                    code: e.code,
                    message: e.message,
                    extensions: e.extensions,
                })?;
            }
        }
        let now = chrono::Utc::now().timestamp();
        let token = jwt::sign_json(
            &state.secret,
            &json!({"scope": SCOPE, "email": email, "iat": now, "exp": now + TTL_SECS, "iss": jwt::ISSUER}),
        );
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}token={token}");
        let mail = rectus_sdk::Mail {
            to: vec![email.clone()],
            subject: "You have been invited".into(),
            body: rectus_sdk::MailBody::Template {
                name: "user-invitation".into(),
                data: json!({"url": url, "email": email}),
            },
            ..Default::default()
        };
        if let Err(e) = state.mailer.send(mail).await {
            tracing::warn!(error = %e, "could not send the invitation mail");
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVICE_UNAVAILABLE",
                format!("Service \"email\" is unavailable. {e}."),
            )
            .with("service", "email"));
        }
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
    let password = body
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
        .unwrap_or_default();
    let Some((id, status)) = user(&state, email).await? else {
        return Err(AuthError::InvalidToken.into());
    };
    // Accepted once already: the account is no longer invited.
    if status != "invited" {
        return Err(AuthError::InvalidToken.into());
    }
    NativeHost::new(state.clone())
        .update_items(
            &system(),
            "directus_users",
            Target::Keys(vec![json!(id)]),
            json!({"password": password, "status": "active"}),
        )
        .await
        .map_err(|e| ApiError {
            status: StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
            code: e.code,
            message: e.message,
            extensions: e.extensions,
        })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

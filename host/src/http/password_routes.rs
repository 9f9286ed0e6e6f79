//! `POST /auth/password/request` and `/auth/password/reset`.
//!
//! A reset token is a signed, one-hour JWT naming the account and a fingerprint of its
//! current password hash, so it works once: after the reset the hash changes and the
//! token no longer matches. The request always answers 204 (no account enumeration).
//! Sending the link by e-mail arrives with the mail issue; until then the token is
//! written to the log, as the access issue specifies.

use super::error::ApiError;
use super::extract::JsonBody;
use crate::app::AppState;
use crate::auth::{jwt, password, AuthError};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::sync::Arc;

const SCOPE: &str = "password-reset";
const TTL_SECS: i64 = 3600;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/auth/password/request", post(request))
        .route("/auth/password/reset", post(reset))
}

/// A short fingerprint of the stored hash: enough to tell "changed since", nothing more.
fn fingerprint(hash: &str) -> String {
    let digest = Sha256::digest(hash.as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

async fn user_by_email(
    state: &AppState,
    email: &str,
) -> Result<Option<(String, String)>, ApiError> {
    let mut sql = state.db.sql();
    sql.push("SELECT ")
        .idents(["id", "password"])
        .push(" FROM ")
        .ident("rectus_users");
    sql.push(" WHERE ")
        .ident("email")
        .push(" = ")
        .bind(email.to_ascii_lowercase());
    sql.push(" AND ").ident("status").push(" = ").bind("active");
    Ok(state.db.fetch_optional(&sql).await?.map(|r| {
        let s = |k: &str| {
            r.get(k)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        (s("id"), s("password"))
    }))
}

async fn request(
    State(state): State<Arc<AppState>>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    let email = body
        .get("email")
        .and_then(Value::as_str)
        .filter(|e| crate::auth::is_plausible_email(e))
        .ok_or_else(|| ApiError::invalid_payload("\"email\" must be a valid email"))?;
    if let Some(url) = body.get("reset_url").filter(|v| !v.is_null()) {
        let url = url
            .as_str()
            .ok_or_else(|| ApiError::invalid_payload("\"reset_url\" must be a string"))?;
        if !state
            .config
            .password_reset_url_allow_list
            .iter()
            .any(|a| a == url)
        {
            return Err(ApiError::invalid_payload(
                "\"reset_url\" can't be used to reset passwords",
            ));
        }
    }
    if let Some((id, hash)) = user_by_email(&state, email).await? {
        let now = chrono::Utc::now().timestamp();
        let token = jwt::sign_json(
            &state.secret,
            &json!({"scope": SCOPE, "id": id, "email": email.to_ascii_lowercase(), "hash": fingerprint(&hash),
                    "iat": now, "exp": now + TTL_SECS, "iss": jwt::ISSUER}),
        );
        let base = match body.get("reset_url").and_then(Value::as_str) {
            Some(u) => u.to_string(),
            None => format!(
                "{}/admin/reset-password",
                state.config.public_url.trim_end_matches('/')
            ),
        };
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}token={token}");
        if state.mailer.transport_name() == "log" {
            tracing::info!(
                email,
                token,
                "password reset requested (no EMAIL_TRANSPORT: the token is logged)"
            );
        }
        // Sent after the answer: the response time must not tell whether the account exists.
        let (state, to) = (state.clone(), email.to_string());
        tokio::spawn(async move {
            let mail = rectus_sdk::Mail {
                to: vec![to.clone()],
                subject: "Password Reset Request".into(),
                body: rectus_sdk::MailBody::Template {
                    name: "password-reset".into(),
                    data: json!({"url": url, "email": to}),
                },
                ..Default::default()
            };
            if let Err(e) = state.mailer.send(mail).await {
                tracing::warn!(error = %e, "could not send the password reset mail");
            }
        });
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn reset(
    State(state): State<Arc<AppState>>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    let (claims, new_password) =
        super::extract::scoped_token_and_password(&state.secret, &body, SCOPE)?;
    let email = claims
        .get("email")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some((id, hash)) = user_by_email(&state, email).await? else {
        return Err(AuthError::InvalidToken.into());
    };
    // Used once already (the password changed since), or issued for another account.
    if claims.get("hash").and_then(Value::as_str) != Some(fingerprint(&hash).as_str())
        || claims.get("id").and_then(Value::as_str) != Some(id.as_str())
    {
        return Err(AuthError::InvalidToken.into());
    }
    let new_hash = password::hash(new_password).await;
    let mut tx = state.db.begin().await?;
    let mut sql = tx.sql();
    sql.push("UPDATE ")
        .ident("rectus_users")
        .push(" SET ")
        .ident("password")
        .push(" = ")
        .bind(new_hash);
    sql.push(" WHERE ")
        .ident("id")
        .push(" = ")
        .bind_cast(id.as_str(), Some("uuid"));
    tx.execute(&sql).await?;
    // Every open session ends with the old password.
    let mut end = tx.sql();
    end.push("DELETE FROM ")
        .ident("rectus_sessions")
        .push(" WHERE ")
        .ident("user")
        .push(" = ");
    end.bind_cast(id.as_str(), Some("uuid"));
    tx.execute(&end).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

//! `POST /users/invite` and `POST /users/invite/accept`, as Directus has them.
//!
//! Inviting creates the user (`status: invited`, the given role) through the items
//! service under the caller's permissions — so only a caller that may create users can
//! invite — and issues a signed seven-day token naming the e-mail. Inviting an address
//! that is already invited issues a new token; an existing active account is `400`.
//! The link (`invite_url`, which must be in `USER_INVITE_URL_ALLOW_LIST`, or the Studio's
//! accept page) goes out by mail with the built-in `user-invitation` template; with no
//! mail transport configured the token is written to the log instead. Accepting sets the
//! password and activates the account, once: afterwards the account is no longer
//! `invited`.

use super::error::ApiError;
use super::extract::{Caller, JsonBody};
use crate::app::AppState;
use crate::auth::{jwt, password};
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
    // Whether the caller may create users at all comes first, so the answers below
    // (which say whether an address has an account) are never given to anyone else.
    let access = crate::access::for_caller(
        &state.access,
        &state.db,
        caller.user.as_deref(),
        caller.role.as_deref(),
        caller.admin,
        Some(&peer.ip().to_string()),
    )
    .await?;
    if let Some(access) = &access {
        let may_create = access
            .permissions()
            .get("directus_users", crate::access::permissions::Action::Create)
            .is_some();
        if !may_create {
            return Err(ApiError::forbidden());
        }
    }
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
    let base = match body.get("invite_url").filter(|v| !v.is_null()) {
        Some(Value::String(u)) if state.config.user_invite_url_allow_list.contains(u) => u.clone(),
        Some(Value::String(_)) => {
            return Err(ApiError::invalid_payload(
                "\"invite_url\" can't be used to invite users",
            ))
        }
        Some(_) => return Err(ApiError::invalid_payload("\"invite_url\" must be a string")),
        None => format!(
            "{}/admin/accept-invite",
            state.config.public_url.trim_end_matches('/')
        ),
    };
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
        if state.mailer.transport_name() == "log" {
            tracing::info!(
                email,
                token,
                "user invited (no EMAIL_TRANSPORT: the token is logged, not mailed)"
            );
            continue;
        }
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
    let (claims, new_password) =
        super::extract::scoped_token_and_password(&state.secret, &body, SCOPE)?;
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
    let hash = password::hash(new_password).await;
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

//! `/auth/login`, `/auth/refresh`, `/auth/logout` with Directus's three modes:
//! - `json`: tokens in the body (`access_token`, `refresh_token`, `expires` in ms);
//! - `cookie`: the refresh token in an HttpOnly cookie, the access token in the body;
//! - `session`: the access token itself in an HttpOnly cookie, tied to a session row so
//!   logout revokes it.
//!
//! Refresh rotates the refresh token; the old one stops working at once. Login attempts
//! are throttled per client IP, and an account is suspended after
//! `settings.auth_login_attempts` consecutive wrong passwords.

use super::error::ApiError;
use super::extract::{cookie, JsonBody};
use crate::app::AppState;
use crate::auth::sessions::{self, Origin};
use crate::auth::{self, jwt, password};
use axum::extract::{ConnectInfo, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/refresh", post(refresh))
        .route("/auth/logout", post(logout))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Json,
    Cookie,
    Session,
}

fn mode(v: Option<&Value>, default: Mode) -> Result<Mode, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(default),
        Some(Value::String(s)) if s == "json" => Ok(Mode::Json),
        Some(Value::String(s)) if s == "cookie" => Ok(Mode::Cookie),
        Some(Value::String(s)) if s == "session" => Ok(Mode::Session),
        Some(_) => Err(ApiError::invalid_payload(
            "\"mode\" must be one of [json, cookie, session]",
        )),
    }
}

#[derive(Deserialize)]
struct Login {
    email: Option<Value>,
    password: Option<Value>,
    mode: Option<Value>,
}

/// A hash of a random password, verified against when the e-mail is unknown so that an
/// unknown account costs the same time as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| password::hash_now(&uuid::Uuid::new_v4().to_string()))
}

fn origin(headers: &HeaderMap, addr: SocketAddr) -> Origin {
    Origin {
        ip: Some(addr.ip().to_string()),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(512).collect()),
    }
}

fn cookie_header(state: &AppState, name: &str, value: &str, max_age: u64) -> HeaderValue {
    let secure = if state.config.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Lax{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// An access token for `user`, optionally tied to a session row.
async fn access_token(
    state: &AppState,
    user: &str,
    session: Option<String>,
    ttl: std::time::Duration,
) -> Result<String, ApiError> {
    let mut sql = state.db.sql();
    sql.push("SELECT ")
        .ident("role")
        .push(" FROM ")
        .ident("rectus_users")
        .push(" WHERE ")
        .ident("id")
        .push(" = ");
    sql.bind_cast(user, Some("uuid"));
    let role = state
        .db
        .fetch_optional(&sql)
        .await?
        .and_then(|r| r.get("role").and_then(|v| v.as_str()).map(str::to_string));
    let (admin, app) = auth::global_access(&state.db, user, role.as_deref()).await?;
    let now = chrono::Utc::now().timestamp();
    Ok(jwt::sign(
        &state.secret,
        &jwt::Claims {
            id: user.to_string(),
            role,
            app_access: app,
            admin_access: admin,
            iat: now,
            exp: now + ttl.as_secs() as i64,
            iss: jwt::ISSUER.to_string(),
            session,
        },
    ))
}

/// The response for a fresh login or refresh in `mode`, with a new session row.
async fn issue(
    state: &AppState,
    user: &str,
    mode: Mode,
    origin: &Origin,
    refresh: Option<String>,
) -> Result<Response, ApiError> {
    let config = &state.config;
    let ttl = if mode == Mode::Session {
        config.session_cookie_ttl
    } else {
        config.refresh_token_ttl
    };
    let token = match refresh {
        Some(t) => t,
        None => sessions::create(&state.db, user, ttl, origin).await?,
    };
    let mut headers = HeaderMap::new();
    let body = match mode {
        Mode::Json => {
            let access = access_token(state, user, None, config.access_token_ttl).await?;
            json!({"data": {"access_token": access, "refresh_token": token, "expires": config.access_token_ttl.as_millis() as u64}})
        }
        Mode::Cookie => {
            let access = access_token(state, user, None, config.access_token_ttl).await?;
            headers.append(
                header::SET_COOKIE,
                cookie_header(
                    state,
                    &config.refresh_token_cookie_name,
                    &token,
                    config.refresh_token_ttl.as_secs(),
                ),
            );
            json!({"data": {"access_token": access, "expires": config.access_token_ttl.as_millis() as u64}})
        }
        Mode::Session => {
            let access = access_token(state, user, Some(token), config.session_cookie_ttl).await?;
            headers.append(
                header::SET_COOKIE,
                cookie_header(
                    state,
                    &config.session_cookie_name,
                    &access,
                    config.session_cookie_ttl.as_secs(),
                ),
            );
            json!({"data": {"expires": config.session_cookie_ttl.as_millis() as u64}})
        }
    };
    Ok((headers, Json(body)).into_response())
}

async fn login(
    State(state): State<Arc<AppState>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Login>,
) -> Result<Response, ApiError> {
    if let Err(retry) = state.login_limits.attempt(addr.ip()) {
        let mut res = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "REQUESTS_EXCEEDED",
            format!("Too many requests, retry after {retry}s."),
        )
        .into_response();
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry));
        return Ok(res);
    }
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
    let mode = mode(body.mode.as_ref(), Mode::Json)?;
    let mut sql = state.db.sql();
    sql.push("SELECT ")
        .idents(["id", "password", "status"])
        .push(" FROM ")
        .ident("rectus_users");
    sql.push(" WHERE ").ident("email").push(" = ").bind(email);
    let user = state.db.fetch_optional(&sql).await?;
    let stored = user
        .as_ref()
        .and_then(|u| u.get("password")?.as_str().map(str::to_string))
        .unwrap_or_else(|| decoy_hash().to_string());
    let matches = password::verify(given, stored).await;
    let Some(user) = user else {
        return Err(ApiError::unauthenticated());
    };
    let id = user
        .get("id")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string();
    if user.get("status").and_then(|s| s.as_str()) != Some("active") {
        return Err(ApiError::unauthenticated());
    }
    if !matches {
        let failures = state.login_limits.failed(&id);
        if failures >= login_attempts(&state).await? {
            suspend(&state, &id).await?;
            tracing::warn!(user = %id, failures, "account suspended after repeated failed logins");
        }
        return Err(ApiError::unauthenticated());
    }
    state.login_limits.succeeded(&id);
    let origin = origin(&headers, addr);
    issue(&state, &id, mode, &origin, None).await
}

/// `settings.auth_login_attempts` (Directus's default 25; null or 0: unlimited).
async fn login_attempts(state: &AppState) -> Result<u32, ApiError> {
    let mut sql = state.db.sql();
    sql.push("SELECT ")
        .ident("auth_login_attempts")
        .push(" AS n FROM ")
        .ident("rectus_settings");
    let n = state
        .db
        .fetch_optional(&sql)
        .await?
        .and_then(|r| r.get("n").and_then(|n| n.as_i64()));
    Ok(match n {
        Some(n) if n > 0 => n as u32,
        _ => u32::MAX,
    })
}

async fn suspend(state: &AppState, user: &str) -> Result<(), ApiError> {
    let mut sql = state.db.sql();
    sql.push("UPDATE ")
        .ident("rectus_users")
        .push(" SET ")
        .ident("status")
        .push(" = ")
        .bind("suspended");
    sql.push(" WHERE ")
        .ident("id")
        .push(" = ")
        .bind_cast(user, Some("uuid"));
    state.db.execute(&sql).await?;
    state.token_cache.clear();
    Ok(())
}

#[derive(Deserialize, Default)]
struct Refresh {
    refresh_token: Option<Value>,
    mode: Option<Value>,
}

/// The body of `/auth/refresh` and `/auth/logout`: JSON, or nothing at all.
fn refresh_body(bytes: &[u8]) -> Result<Refresh, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Refresh::default());
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::invalid_payload(e.to_string()))
}

/// The parts, body and mode of a `/auth/refresh` or `/auth/logout` request. The mode
/// defaults to json when the body carries a token, cookie otherwise (as Directus).
async fn refresh_request(
    state: &AppState,
    req: axum::extract::Request,
) -> Result<(Parts, Refresh, Mode), ApiError> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, state.config.max_payload_size)
        .await
        .map_err(|_| ApiError::invalid_payload("Unreadable body"))?;
    let body = refresh_body(&bytes)?;
    let default = if body.refresh_token.is_some() {
        Mode::Json
    } else {
        Mode::Cookie
    };
    let mode = mode(body.mode.as_ref(), default)?;
    Ok((parts, body, mode))
}

/// The refresh token of a request in `mode`: the body's, the refresh cookie, or the
/// session named inside the session cookie's token.
fn presented_token(
    state: &AppState,
    parts: &Parts,
    body: &Refresh,
    mode: Mode,
) -> Result<Option<String>, ApiError> {
    if let Some(v) = &body.refresh_token {
        return match v.as_str() {
            Some(t) if !t.is_empty() => Ok(Some(t.to_string())),
            _ => Err(ApiError::invalid_payload(
                "\"refresh_token\" must be a string",
            )),
        };
    }
    Ok(match mode {
        Mode::Json => None,
        Mode::Cookie => cookie(parts, &state.config.refresh_token_cookie_name),
        Mode::Session => cookie(parts, &state.config.session_cookie_name)
            .and_then(|t| jwt::verify(&state.secret, &t).ok())
            .and_then(|c| c.session),
    })
}

async fn refresh(
    State(state): State<Arc<AppState>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    req: axum::extract::Request,
) -> Result<Response, ApiError> {
    let (parts, body, mode) = refresh_request(&state, req).await?;
    let token = presented_token(&state, &parts, &body, mode)?.ok_or_else(|| {
        ApiError::invalid_payload("The refresh token is required in either the payload or cookie")
    })?;
    let ttl = if mode == Mode::Session {
        state.config.session_cookie_ttl
    } else {
        state.config.refresh_token_ttl
    };
    let origin = origin(&parts.headers, addr);
    let (user, new) = sessions::rotate(&state.db, &token, ttl, &origin)
        .await?
        .ok_or_else(ApiError::unauthenticated)?;
    issue(&state, &user, mode, &origin, Some(new)).await
}

async fn logout(
    State(state): State<Arc<AppState>>,
    req: axum::extract::Request,
) -> Result<Response, ApiError> {
    let (parts, body, mode) = refresh_request(&state, req).await?;
    let token = presented_token(&state, &parts, &body, mode)?
        .or_else(|| {
            presented_token(&state, &parts, &body, Mode::Session)
                .ok()
                .flatten()
        })
        .ok_or_else(|| {
            ApiError::invalid_payload(
                "The refresh token is required in either the payload or cookie",
            )
        })?;
    if !sessions::delete(&state.db, &token).await? {
        return Err(ApiError::unauthenticated());
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    for name in [
        &state.config.refresh_token_cookie_name,
        &state.config.session_cookie_name,
    ] {
        res.headers_mut()
            .append(header::SET_COOKIE, cookie_header(&state, name, "", 0));
    }
    Ok(res)
}

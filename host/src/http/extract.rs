//! Extractors: the caller's accountability from its token, admin-only routes, and JSON
//! bodies whose parse errors answer `INVALID_PAYLOAD` in the Directus envelope.

use super::error::ApiError;
use crate::app::AppState;
use crate::auth::{self, Accountability};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// The token a request carries: `Authorization: Bearer …` or `?access_token=`; both at
/// once is refused as Directus does.
fn token_of(parts: &Parts, session_cookie: &str) -> Result<Option<String>, ApiError> {
    let header = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_string())
        });
    let query = parts.uri.query().and_then(|q| {
        q.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == "access_token").then(|| percent_decode(v))
        })
    });
    match (header, query) {
        (Some(_), Some(_)) => Err(ApiError::invalid_payload(
            "The request uses more than one method for including an access token",
        )),
        // The session cookie counts only when neither of the others is present.
        (h, q) => Ok(h
            .or(q)
            .or_else(|| cookie(parts, session_cookie))
            .filter(|t| !t.is_empty())),
    }
}

/// A cookie's value from the request's `Cookie` headers.
pub(crate) fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name).then(|| percent_decode(v))
        })
}

/// Percent-decoding as query strings use it (the query parser's).
pub(crate) use crate::query::qs::decode as percent_decode;

/// Who is calling; anonymous requests get the Public accountability.
pub struct Caller(pub Accountability);

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        match token_of(parts, &state.config.session_cookie_name)? {
            None => Ok(Caller(Accountability::public())),
            Some(token) => {
                // Our JWTs carry their claims; only static tokens need the database.
                if !auth::jwt::looks_like_ours(&token) {
                    if let Some(acc) = state.token_cache.get(&token) {
                        return Ok(Caller(acc));
                    }
                }
                let acc = auth::accountability_for_token(&state.db, &state.secret, &token).await?;
                if !auth::jwt::looks_like_ours(&token) {
                    state.token_cache.put(&token, &acc);
                }
                Ok(Caller(acc))
            }
        }
    }
}

/// An administrator; anyone else gets `403 FORBIDDEN` (`401` when not logged in at all).
pub struct Admin(pub Accountability);

impl FromRequestParts<Arc<AppState>> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        let Caller(acc) = Caller::from_request_parts(parts, state).await?;
        if acc.admin {
            Ok(Admin(acc))
        } else {
            Err(ApiError::forbidden())
        }
    }
}

/// A JSON body; malformed JSON or a wrong content type is `400 INVALID_PAYLOAD`.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        e.status(),
                        "CONTENT_TOO_LARGE",
                        "Uploaded content is too large.",
                    )
                } else {
                    ApiError::invalid_payload(e.body_text())
                }
            })?;
        if bytes.is_empty() {
            return Err(ApiError::invalid_payload("A JSON body is required"));
        }
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::invalid_payload(e.to_string()))
    }
}

/// The body of the password-reset and invite-accept requests, `{token, password}`: the
/// token checked (signed by us, unexpired, issued for `scope`), and its claims with the
/// new password.
pub fn scoped_token_and_password(
    secret: &[u8],
    body: &serde_json::Value,
    scope: &str,
) -> Result<(serde_json::Value, String), ApiError> {
    use serde_json::Value;
    let token = body
        .get("token")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::invalid_payload("\"token\" is required"))?;
    let password = body
        .get("password")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| ApiError::invalid_payload("\"password\" is required"))?;
    let claims = auth::jwt::verify_json(secret, token)?;
    if claims.get("scope").and_then(Value::as_str) != Some(scope) {
        return Err(auth::AuthError::InvalidToken.into());
    }
    Ok((claims, password.to_string()))
}

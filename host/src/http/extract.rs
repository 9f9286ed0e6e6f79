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

pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

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
            Some(token) => Ok(Caller(
                auth::accountability_for_token(&state.db, &state.secret, &token).await?,
            )),
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

#[cfg(test)]
mod tests {
    #[test]
    fn decodes_percent_escapes() {
        assert_eq!(super::percent_decode("a%20b+c"), "a b c");
        assert_eq!(super::percent_decode("100%"), "100%");
        assert_eq!(super::percent_decode("%zz"), "%zz");
    }
}

//! Access tokens: compact JWTs signed with HMAC-SHA256, with Directus's claims
//! (`id, role, app_access, admin_access, iat, exp, iss: "directus"`) so tokens look the
//! same to clients that decode them.

use super::AuthError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

pub const ISSUER: &str = "directus";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    pub id: String,
    pub role: Option<String>,
    pub app_access: bool,
    pub admin_access: bool,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    /// The session a cookie-session token belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
}

fn mac(secret: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts keys of any length")
}

pub fn sign(secret: &[u8], claims: &Claims) -> String {
    sign_json(
        secret,
        &serde_json::to_value(claims).expect("claims serialize"),
    )
}

/// Signs any JSON payload (password-reset and invite tokens carry their own claims).
pub fn sign_json(secret: &[u8], payload: &serde_json::Value) -> String {
    let header = B64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = B64.encode(payload.to_string());
    let signing_input = format!("{header}.{payload}");
    let mut m = mac(secret);
    m.update(signing_input.as_bytes());
    let sig = B64.encode(m.finalize().into_bytes());
    format!("{signing_input}.{sig}")
}

/// Whether a token is a JWT that claims to be ours (three parts, issuer `directus`);
/// anything else is looked up as a static token.
pub fn looks_like_ours(token: &str) -> bool {
    let mut parts = token.split('.');
    let (Some(_), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    B64.decode(payload)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .and_then(|v| v.get("iss").and_then(|i| i.as_str()).map(|i| i == ISSUER))
        .unwrap_or(false)
}

/// Checks the signature (in constant time), the algorithm and expiry.
pub fn verify(secret: &[u8], token: &str) -> Result<Claims, AuthError> {
    let payload = verify_json(secret, token)?;
    serde_json::from_value(payload).map_err(|_| AuthError::InvalidToken)
}

/// [`verify`] for any payload: signature, algorithm, issuer and `exp` are checked.
pub fn verify_json(secret: &[u8], token: &str) -> Result<serde_json::Value, AuthError> {
    let (signing_input, sig) = token.rsplit_once('.').ok_or(AuthError::InvalidToken)?;
    let (header, payload) = signing_input
        .split_once('.')
        .ok_or(AuthError::InvalidToken)?;
    let header: serde_json::Value = B64
        .decode(header)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(AuthError::InvalidToken)?;
    if header.get("alg").and_then(|a| a.as_str()) != Some("HS256") {
        return Err(AuthError::InvalidToken);
    }
    let sig = B64.decode(sig).map_err(|_| AuthError::InvalidToken)?;
    let mut m = mac(secret);
    m.update(signing_input.as_bytes());
    m.verify_slice(&sig).map_err(|_| AuthError::InvalidToken)?;
    let payload: serde_json::Value = B64
        .decode(payload)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(AuthError::InvalidToken)?;
    if payload.get("iss").and_then(|i| i.as_str()) != Some(ISSUER) {
        return Err(AuthError::InvalidToken);
    }
    let exp = payload
        .get("exp")
        .and_then(|e| e.as_i64())
        .ok_or(AuthError::InvalidToken)?;
    if exp <= chrono::Utc::now().timestamp() {
        return Err(AuthError::TokenExpired);
    }
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp_in: i64) -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims {
            id: "u1".into(),
            role: None,
            app_access: true,
            admin_access: true,
            iat: now,
            exp: now + exp_in,
            iss: ISSUER.into(),
            session: None,
        }
    }

    #[test]
    fn signs_and_verifies() {
        let t = sign(b"k", &claims(60));
        assert!(looks_like_ours(&t));
        assert_eq!(verify(b"k", &t).unwrap().id, "u1");
    }

    #[test]
    fn rejects_tampering_other_keys_and_expiry() {
        let t = sign(b"k", &claims(60));
        assert!(matches!(verify(b"other", &t), Err(AuthError::InvalidToken)));
        let mut forged = claims(60);
        forged.id = "admin".into();
        let forged_payload = B64.encode(serde_json::to_vec(&forged).unwrap());
        let parts: Vec<&str> = t.split('.').collect();
        let tampered = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
        assert!(matches!(
            verify(b"k", &tampered),
            Err(AuthError::InvalidToken)
        ));
        let expired = sign(b"k", &claims(-1));
        assert!(matches!(
            verify(b"k", &expired),
            Err(AuthError::TokenExpired)
        ));
        assert!(!looks_like_ours("static-token"));
    }
}

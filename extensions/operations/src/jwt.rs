//! `json-web-token`: `operation` = `sign` (payload + secret → token), `verify` (token +
//! secret → payload, rejecting a bad signature or an expired token) or `decode` (token →
//! payload, unchecked). HMAC algorithms (`HS256` default, `HS384`, `HS512`); `options`
//! takes jsonwebtoken's `expiresIn` (seconds or `"15m"`-style text), `algorithm`,
//! `issuer`, `subject`, `audience`.

use crate::{info, json_option, required, text};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use rectus_sdk::{Context, Host, HostError, Operation, OperationInfo};
use serde_json::{json, Value as Json};

pub struct JsonWebToken;

fn invalid(reason: &str) -> HostError {
    HostError::new(400, "INVALID_TOKEN", reason.to_string())
}

fn mac(alg: &str, secret: &[u8], input: &[u8]) -> Result<Vec<u8>, HostError> {
    macro_rules! run {
        ($d:ty) => {{
            let mut m = Hmac::<$d>::new_from_slice(secret)
                .map_err(|_| HostError::invalid_payload("\"secret\" can't be used"))?;
            m.update(input);
            Ok(m.finalize().into_bytes().to_vec())
        }};
    }
    match alg {
        "HS256" => run!(sha2::Sha256),
        "HS384" => run!(sha2::Sha384),
        "HS512" => run!(sha2::Sha512),
        other => Err(HostError::invalid_payload(format!(
            "algorithm \"{other}\" is not supported (HS256, HS384, HS512)"
        ))),
    }
}

/// `"90"`, `90`, `"15m"`, `"2h"`, `"7d"` → seconds.
fn seconds(v: &Json) -> Option<i64> {
    match v {
        Json::Number(n) => n.as_i64(),
        Json::String(s) => {
            let s = s.trim();
            let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
            let (n, unit) = s.split_at(split);
            let n: i64 = n.parse().ok()?;
            let mult = match unit.trim() {
                "" | "s" => 1,
                "m" => 60,
                "h" => 3600,
                "d" => 86_400,
                "w" => 604_800,
                "y" => 31_557_600,
                _ => return None,
            };
            Some(n * mult)
        }
        _ => None,
    }
}

fn parts(token: &str) -> Result<(Json, Json, &str, &str), HostError> {
    let mut it = token.split('.');
    let (Some(h), Some(p), Some(sig), None) = (it.next(), it.next(), it.next(), it.next()) else {
        return Err(invalid("jwt malformed"));
    };
    let decode = |s: &str| -> Result<Json, HostError> {
        let bytes = B64.decode(s).map_err(|_| invalid("jwt malformed"))?;
        serde_json::from_slice(&bytes).map_err(|_| invalid("jwt malformed"))
    };
    let signed = &token[..h.len() + 1 + p.len()];
    Ok((decode(h)?, decode(p)?, signed, sig))
}

pub fn sign(payload: &Json, secret: &str, options: &Json, now: i64) -> Result<String, HostError> {
    let alg = options
        .get("algorithm")
        .and_then(Json::as_str)
        .unwrap_or("HS256");
    let mut claims = match payload {
        Json::Object(o) => o.clone(),
        _ => return Err(HostError::invalid_payload("\"payload\" must be an object")),
    };
    claims.entry("iat").or_insert(json!(now));
    if let Some(exp) = options.get("expiresIn").and_then(seconds) {
        claims.insert("exp".into(), json!(now + exp));
    }
    for (opt, claim) in [("issuer", "iss"), ("subject", "sub"), ("audience", "aud")] {
        if let Some(v) = options.get(opt).filter(|v| !v.is_null()) {
            claims.insert(claim.into(), v.clone());
        }
    }
    let header = json!({"alg": alg, "typ": "JWT"});
    let input = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(Json::Object(claims).to_string())
    );
    let sig = mac(alg, secret.as_bytes(), input.as_bytes())?;
    Ok(format!("{input}.{}", B64.encode(sig)))
}

pub fn verify(token: &str, secret: &str, now: i64) -> Result<Json, HostError> {
    let (header, payload, signed, sig) = parts(token)?;
    let alg = header.get("alg").and_then(Json::as_str).unwrap_or("");
    let expected =
        mac(alg, secret.as_bytes(), signed.as_bytes()).map_err(|_| invalid("invalid algorithm"))?;
    let given = B64.decode(sig).map_err(|_| invalid("invalid signature"))?;
    // Constant-time comparison through the MAC's own verifier would need the key again;
    // compare without early exit instead.
    if given.len() != expected.len()
        || given
            .iter()
            .zip(&expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            != 0
    {
        return Err(invalid("invalid signature"));
    }
    if payload
        .get("exp")
        .and_then(Json::as_i64)
        .is_some_and(|exp| exp <= now)
    {
        return Err(HostError::new(401, "TOKEN_EXPIRED", "jwt expired"));
    }
    Ok(payload)
}

impl Operation for JsonWebToken {
    fn info(&self) -> OperationInfo {
        info(
            "json-web-token",
            "JSON Web Token",
            "Signs, verifies or decodes a JSON web token.",
            json!({
                "operation": {"enum": ["sign", "verify", "decode"]},
                "payload": {"type": "object"},
                "token": {"type": "string"},
                "secret": {"type": "string"},
                "options": {"type": "object"},
            }),
        )
    }

    async fn run<H: Host>(
        &self,
        _host: &H,
        _ctx: &Context,
        options: Json,
        _data: Json,
    ) -> Result<Json, HostError> {
        let now = chrono::Utc::now().timestamp();
        match text(&options, "operation").as_deref().unwrap_or("sign") {
            "sign" => {
                let payload = json_option(&options, "payload").unwrap_or_else(|| json!({}));
                let secret = required(&options, "secret")?;
                let opts = json_option(&options, "options").unwrap_or_else(|| json!({}));
                Ok(Json::String(sign(&payload, &secret, &opts, now)?))
            }
            "verify" => {
                let token = required(&options, "token")?;
                let secret = required(&options, "secret")?;
                verify(&token, &secret, now)
            }
            "decode" => {
                let token = required(&options, "token")?;
                Ok(parts(&token)?.1)
            }
            other => Err(HostError::invalid_payload(format!(
                "\"operation\" must be sign, verify or decode, not \"{other}\""
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_verifies_and_refuses() {
        let t = sign(
            &json!({"id": 7}),
            "s3cret",
            &json!({"expiresIn": "1h"}),
            1000,
        )
        .unwrap();
        let p = verify(&t, "s3cret", 1001).unwrap();
        assert_eq!(p["id"], 7);
        assert_eq!(p["exp"], 1000 + 3600);
        assert_eq!(verify(&t, "other", 1001).unwrap_err().code, "INVALID_TOKEN");
        assert_eq!(
            verify(&t, "s3cret", 99_999).unwrap_err().code,
            "TOKEN_EXPIRED"
        );
        assert_eq!(
            verify("a.b", "s3cret", 0).unwrap_err().code,
            "INVALID_TOKEN"
        );
        assert_eq!(parts(&t).unwrap().1["id"], 7);
        // A token from another implementation (jwt.io's HS256 example, secret
        // "your-256-bit-secret") verifies.
        let known = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
        assert_eq!(
            verify(known, "your-256-bit-secret", 0).unwrap()["name"],
            "John Doe"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(seconds(&json!(30)), Some(30));
        assert_eq!(seconds(&json!("15m")), Some(900));
        assert_eq!(seconds(&json!("2d")), Some(172_800));
        assert_eq!(seconds(&json!("soon")), None);
    }
}

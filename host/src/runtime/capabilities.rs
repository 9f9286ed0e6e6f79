//! Capabilities: what an extension may do through the host API, beyond computing.
//!
//! The manifest *asks* (`capabilities = ["items:read:orders", "http:api.example.com"]`);
//! an admin *grants* (`PATCH /extensions/:id {"meta": {"granted": [...]}}`, kept in
//! `rectus_extension_grants`). Only `log` is granted without asking. A call whose
//! capability is not granted fails with `FORBIDDEN`, naming the capability.
//!
//! Grants narrow what a guest may do; they never widen it: every items call still runs
//! under the caller's accountability (the request's or flow's `Context`).
//!
//! Owns: the capability syntax and the check. Must not touch: storage of grants (the
//! registry), what a capability's call does (`host_api`).

use rectus_sdk::HostError;
use std::sync::{Arc, RwLock};

/// Granted without asking.
pub const DEFAULT: &[&str] = &["log"];

/// Whether `c` is a capability this host knows:
/// `log`, `cache`, `items:read:<collection|*>`, `items:write:<collection|*>`,
/// `http:<host>`, `env:<KEY>`.
pub fn is_valid(c: &str) -> bool {
    if c == "log" || c == "cache" {
        return true;
    }
    let parts: Vec<&str> = c.splitn(3, ':').collect();
    match parts.as_slice() {
        ["items", "read" | "write", collection] => !collection.is_empty(),
        ["http", host] => !host.is_empty() && !host.contains('/') && !host.contains(':'),
        ["env", key] => {
            !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        }
        _ => false,
    }
}

/// What an extension was granted; shared with its running calls, so a new grant or a
/// revocation applies to the next host call.
#[derive(Clone, Default)]
pub struct Grants(Arc<RwLock<Vec<String>>>);

impl std::fmt::Debug for Grants {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Grants").field(&self.list()).finish()
    }
}

impl Grants {
    pub fn new(granted: Vec<String>) -> Self {
        Grants(Arc::new(RwLock::new(granted)))
    }

    pub fn set(&self, granted: Vec<String>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = granted;
    }

    /// The explicit grants (without the defaults).
    pub fn list(&self) -> Vec<String> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn has(&self, wanted: impl Fn(&str) -> bool) -> bool {
        DEFAULT.iter().any(|c| wanted(c))
            || self
                .0
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .any(|c| wanted(c))
    }

    /// `Ok` when `capability` (or a wildcard covering it) is granted.
    pub fn check(&self, capability: &str) -> Result<(), HostError> {
        let wildcard = capability
            .rsplit_once(':')
            .filter(|(kind, _)| kind.starts_with("items:"))
            .map(|(kind, _)| format!("{kind}:*"));
        if self.has(|c| c == capability || Some(c) == wildcard.as_deref()) {
            return Ok(());
        }
        Err(HostError::forbidden()
            .with(
                "reason",
                format!("The extension was not granted the capability \"{capability}\"."),
            )
            .with("capability", capability))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax() {
        for good in [
            "log",
            "cache",
            "items:read:orders",
            "items:write:*",
            "http:api.example.com",
            "env:STRIPE_KEY",
        ] {
            assert!(is_valid(good), "{good}");
        }
        for bad in [
            "net",
            "items:delete:orders",
            "items:read:",
            "http:",
            "http:https://x",
            "env:A-B",
            "",
        ] {
            assert!(!is_valid(bad), "{bad}");
        }
    }

    #[test]
    fn checks_grants_defaults_and_wildcards() {
        let g = Grants::new(vec!["items:read:orders".into(), "items:write:*".into()]);
        assert!(g.check("log").is_ok(), "log is granted by default");
        assert!(g.check("items:read:orders").is_ok());
        assert!(g.check("items:write:anything").is_ok());
        let err = g.check("items:read:users").unwrap_err();
        assert_eq!((err.status, err.code), (403, "FORBIDDEN"));
        assert!(g.check("http:example.com").is_err());
        g.set(vec![]);
        assert!(
            g.check("items:read:orders").is_err(),
            "revocation applies at once"
        );
    }
}

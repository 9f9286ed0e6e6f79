//! The built-in flow operations, with Directus's types and options: `log`, `condition`,
//! `transform`, `sleep`, `throw-error`, `exec` (run script), `trigger` (another flow),
//! `item-create|read|update|delete`, `mail`, `notification`, `request`, `json-web-token`.
//!
//! Each implements [`rectus_sdk::Operation`] against [`rectus_sdk::Host`] only: options
//! arrive rendered (templates already applied by the flow engine); a result is the
//! operation's `$last`, an error takes the reject path. What an operation cannot do on its
//! own (send mail, run a script in the host's sandbox, check a filter with the query
//! language's semantics, run another flow) is a `Host` capability, so the same source
//! could build as a guest component.
//!
//! Owns: option parsing and each operation's behaviour. Must not touch: the flow engine
//! (triggers, the data chain, run logs), transports.

mod basic;
mod items;
mod jwt;
mod mail;
mod request;

pub use basic::{Condition, Exec, Log, Sleep, ThrowError, Transform, TriggerFlow};
pub use items::{ItemCreate, ItemDelete, ItemRead, ItemUpdate};
pub use jwt::JsonWebToken;
pub use mail::{Mail, Notification};
pub use request::Request;

use rectus_sdk::{Context, HostError, OperationInfo};
use serde_json::{json, Value as Json};

fn info(id: &str, name: &str, description: &str, options: Json) -> OperationInfo {
    OperationInfo {
        id: id.into(),
        name: name.into(),
        description: description.into(),
        options: json!({"type": "object", "properties": options}),
    }
}

/// A string option; numbers and booleans are taken as their text.
fn text(options: &Json, key: &str) -> Option<String> {
    match options.get(key)? {
        Json::String(s) => Some(s.clone()),
        Json::Null => None,
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        other => Some(other.to_string()),
    }
}

fn required(options: &Json, key: &str) -> Result<String, HostError> {
    text(options, key)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| HostError::invalid_payload(format!("\"{key}\" is required")))
}

/// A value that may also come as JSON text (Directus's editors store some options as
/// strings): `"{\"a\":1}"` is the object.
fn json_option(options: &Json, key: &str) -> Option<Json> {
    match options.get(key)? {
        Json::Null => None,
        Json::String(s) => Some(
            serde_json::from_str(s)
                .ok()
                .unwrap_or_else(|| Json::String(s.clone())),
        ),
        other => Some(other.clone()),
    }
}

/// One or many strings: `"a"`, `"a, b"`, `["a", "b"]`.
fn list(options: &Json, key: &str) -> Vec<String> {
    match options.get(key) {
        Some(Json::Array(a)) => a
            .iter()
            .filter_map(|v| match v {
                Json::String(s) => Some(s.trim().to_string()),
                Json::Null => None,
                other => Some(other.to_string()),
            })
            .filter(|s| !s.is_empty())
            .collect(),
        Some(Json::String(s)) => s
            .split(',')
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect(),
        _ => Vec::new(),
    }
}

/// Whom an item operation acts as (`permissions`): `$trigger` (the default: who started
/// the flow), `$public` (no one), `$full` (the system, all access), or a role id.
fn acting_as(ctx: &Context, options: &Json) -> Context {
    let base = Context {
        user: None,
        role: None,
        admin: false,
        ip: ctx.ip.clone(),
        user_agent: ctx.user_agent.clone(),
    };
    match text(options, "permissions").as_deref() {
        None | Some("") | Some("$trigger") => ctx.clone(),
        Some("$public") => base,
        Some("$full") => Context {
            admin: true,
            ..base
        },
        Some(role) => Context {
            role: Some(role.to_string()),
            ..base
        },
    }
}

//! One run of a flow: the data chain (`$trigger`, `$last`, `$accountability`, `$env`, and
//! each operation's result under its key), operations followed along `resolve` / `reject`,
//! options rendered before each step. An operation's error becomes its value in the chain
//! (`{message, code, status, …extensions}`) and takes the reject path.

use super::model::Flow;
use super::template;
use crate::app::AppState;
use crate::events::{Rejection, CAUSE_DEPTH};
use rectus_sdk::{Context, HostError};
use serde_json::{json, Map, Value as Json};
use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};

/// What started a run.
#[derive(Debug, Clone)]
pub struct Started {
    pub trigger: Json,
    /// Who started it: the `$trigger` permissions of item operations.
    pub ctx: Context,
    /// The flow-run depth of this run (1 for a run a client's request started).
    pub depth: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Resolve,
    Reject,
    /// An operation type no module provides: the run stopped there.
    Unknown,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Resolve => "resolve",
            Status::Reject => "reject",
            Status::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub data: Map<String, Json>,
    /// The status of the last operation that ran (resolve when none ran).
    pub status: Status,
    /// `{operation, key, status, options}` per step, for the run log.
    pub steps: Vec<Json>,
}

impl Outcome {
    pub fn last(&self) -> &Json {
        self.data.get("$last").unwrap_or(&Json::Null)
    }

    /// The flow's `return` option: `$last` (default), `$all` (the whole chain), or a path.
    pub fn returned(&self, ret: Option<&str>) -> Json {
        match ret.map(str::trim) {
            None | Some("") | Some("$last") => self.last().clone(),
            Some("$all") => Json::Object(self.data.clone()),
            Some(path) => {
                let all = Json::Object(self.data.clone());
                template::lookup(&all, path).cloned().unwrap_or(Json::Null)
            }
        }
    }
}

/// `$accountability` as Directus shows it.
pub fn accountability_json(ctx: &Context) -> Json {
    // The public and the system (schedules) have no accountability to show.
    if ctx.user.is_none() && ctx.role.is_none() {
        return Json::Null;
    }
    json!({
        "user": ctx.user,
        "role": ctx.role,
        "admin": ctx.admin,
        "ip": ctx.ip,
        "userAgent": ctx.user_agent,
    })
}

/// An operation's error as its value in the data chain. A thrown error's own code
/// (`custom_code`) is reported as its `code`.
pub fn error_json(e: &HostError) -> Json {
    let mut o = Map::new();
    o.insert("message".into(), json!(e.message));
    o.insert("status".into(), json!(e.status));
    o.insert("code".into(), json!(e.code));
    for (k, v) in &e.extensions {
        if k == "custom_code" {
            o.insert("code".into(), v.clone());
        } else {
            o.insert(k.clone(), v.clone());
        }
    }
    Json::Object(o)
}

/// Error codes are static strings at the HTTP edge; the codes flows throw (few, chosen by
/// admins) are interned once each, up to a bound, after which they read `FLOW_ERROR`.
pub fn static_code(code: &str) -> &'static str {
    const MAX_INTERNED: usize = 512;
    static CODES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let valid = !code.is_empty()
        && code.len() <= 64
        && code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        return "FLOW_ERROR";
    }
    let mut set = CODES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(c) = set.get(code) {
        return c;
    }
    if set.len() >= MAX_INTERNED {
        return "FLOW_ERROR";
    }
    let leaked: &'static str = Box::leak(code.to_string().into_boxed_str());
    set.insert(leaked);
    leaked
}

/// A rejected run's `$last` as an error: its status, code, message and the rest as
/// extensions. A condition's failure keeps Directus's `FAILED_VALIDATION` shape.
pub fn error_of(last: &Json) -> (u16, &'static str, String, Map<String, Json>) {
    let Json::Object(o) = last else {
        let message = match last {
            Json::String(s) => s.clone(),
            Json::Null => "The flow was rejected.".into(),
            other => other.to_string(),
        };
        return (400, "FAILED_VALIDATION", message, Map::new());
    };
    let status = o
        .get("status")
        .and_then(Json::as_u64)
        .filter(|s| (400..600).contains(s))
        .unwrap_or(400) as u16;
    let code = static_code(
        o.get("code")
            .and_then(Json::as_str)
            .unwrap_or("FAILED_VALIDATION"),
    );
    let message = o
        .get("message")
        .and_then(Json::as_str)
        .unwrap_or("The flow was rejected.")
        .to_string();
    let extensions = o
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "message" | "code" | "status"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (status, code, message, extensions)
}

pub fn rejection_of(last: &Json) -> Rejection {
    let (status, code, message, extensions) = error_of(last);
    Rejection {
        message,
        status,
        code,
        extensions,
    }
}

/// Runs `flow` from its first operation to the end of its path.
pub async fn execute(state: &Arc<AppState>, flow: &Flow, started: Started) -> Outcome {
    let depth = started.depth;
    CAUSE_DEPTH.scope(depth, steps(state, flow, started)).await
}

async fn steps(state: &Arc<AppState>, flow: &Flow, started: Started) -> Outcome {
    let mut data = Map::new();
    data.insert("$trigger".into(), started.trigger.clone());
    data.insert("$last".into(), started.trigger);
    data.insert("$accountability".into(), accountability_json(&started.ctx));
    let env: Map<String, Json> = state
        .config
        .flows
        .env
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    data.insert("$env".into(), Json::Object(env));
    let mut status = Status::Resolve;
    let mut steps = Vec::new();
    let mut next = flow.first.clone();
    // Links are checked for cycles on save; this bounds a run even if a row was edited
    // behind the API's back.
    let mut budget = flow.operations.len();
    while let Some(id) = next.take() {
        let Some(op) = flow.operations.get(&id) else {
            break;
        };
        if budget == 0 {
            tracing::warn!(flow = %flow.id, "flow stopped: its operations form a loop");
            break;
        }
        budget -= 1;
        let chain = Json::Object(std::mem::take(&mut data));
        let options = template::render(&op.options, &chain);
        let Json::Object(d) = chain else {
            unreachable!("the chain is an object")
        };
        data = d;
        let Some(runner) = state.modules.operation(&op.kind) else {
            tracing::warn!(flow = %flow.id, operation = %op.key, kind = %op.kind, "unknown operation type: the flow stops");
            status = Status::Unknown;
            steps.push(
                json!({"operation": op.id, "key": op.key, "status": "unknown", "options": options}),
            );
            break;
        };
        let result = runner
            .run(
                state.clone(),
                started.ctx.clone(),
                options.clone(),
                Json::Object(data.clone()),
            )
            .await;
        let (value, step_status) = match result {
            Ok(v) => (v, Status::Resolve),
            Err(e) => (error_json(&e), Status::Reject),
        };
        steps.push(json!({"operation": op.id, "key": op.key, "status": step_status.name(), "options": options}));
        data.insert(op.key.clone(), value.clone());
        data.insert("$last".into(), value);
        status = step_status;
        next = match step_status {
            Status::Resolve => op.resolve.clone(),
            _ => op.reject.clone(),
        };
    }
    Outcome {
        data,
        status,
        steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_become_values_and_back() {
        let thrown = HostError::new(418, "FLOW_ERROR", "teapot").with("custom_code", "MY_CODE");
        let v = error_json(&thrown);
        assert_eq!(
            v,
            json!({"message": "teapot", "status": 418, "code": "MY_CODE"})
        );
        let (status, code, message, ext) = error_of(&v);
        assert_eq!((status, code, message.as_str()), (418, "MY_CODE", "teapot"));
        assert!(ext.is_empty());
        assert_eq!(static_code("lower case"), "FLOW_ERROR");
        assert!(std::ptr::eq(static_code("MY_CODE"), static_code("MY_CODE")));
        let (s, c, m, _) = error_of(&json!("plain"));
        assert_eq!((s, c, m.as_str()), (400, "FAILED_VALIDATION", "plain"));
    }
}

//! Operations that work on the data chain alone, or hand it to the host: log, condition,
//! transform, sleep, throw error, run script, trigger another flow.

use crate::{info, json_option, required, text};
use rectus_sdk::{Context, Host, HostError, Operation, OperationInfo};
use serde_json::{json, Value as Json};

/// `log`: writes `message` to the server log. Result: null.
pub struct Log;

impl Operation for Log {
    fn info(&self) -> OperationInfo {
        info(
            "log",
            "Log to Console",
            "Writes a message to the server log.",
            json!({"message": {"type": ["string", "object", "array", "number", "boolean", "null"]}}),
        )
    }

    async fn run<H: Host>(
        &self,
        host: &H,
        ctx: &Context,
        options: Json,
        _data: Json,
    ) -> Result<Json, HostError> {
        let message = match options.get("message") {
            Some(Json::String(s)) => s.clone(),
            None | Some(Json::Null) => String::new(),
            Some(other) => other.to_string(),
        };
        host.log(ctx, &message);
        Ok(Json::Null)
    }
}

/// `condition`: checks the data chain against `filter`. Passes with null (resolve);
/// fails with the first `FAILED_VALIDATION` error (reject).
pub struct Condition;

impl Operation for Condition {
    fn info(&self) -> OperationInfo {
        info(
            "condition",
            "Condition",
            "Continues on the resolve path when the data chain matches the filter, else on the reject path.",
            json!({"filter": {"type": "object"}}),
        )
    }

    async fn run<H: Host>(
        &self,
        host: &H,
        _ctx: &Context,
        options: Json,
        data: Json,
    ) -> Result<Json, HostError> {
        let filter = json_option(&options, "filter").unwrap_or_else(|| json!({}));
        let failures = host.check_filter(&filter, &data)?;
        match failures.into_iter().next() {
            None => Ok(Json::Null),
            Some(first) => Err(first),
        }
    }
}

/// `transform`: its result is the rendered `json` option.
pub struct Transform;

impl Operation for Transform {
    fn info(&self) -> OperationInfo {
        info(
            "transform",
            "Transform Payload",
            "Builds a new value from the data chain.",
            json!({"json": {}}),
        )
    }

    async fn run<H: Host>(
        &self,
        _host: &H,
        _ctx: &Context,
        options: Json,
        _data: Json,
    ) -> Result<Json, HostError> {
        Ok(json_option(&options, "json").unwrap_or(Json::Null))
    }
}

/// `sleep`: waits `milliseconds`. Result: null.
pub struct Sleep;

impl Operation for Sleep {
    fn info(&self) -> OperationInfo {
        info(
            "sleep",
            "Sleep",
            "Waits before the next operation.",
            json!({"milliseconds": {"type": ["integer", "string"]}}),
        )
    }

    async fn run<H: Host>(
        &self,
        host: &H,
        _ctx: &Context,
        options: Json,
        _data: Json,
    ) -> Result<Json, HostError> {
        let ms = text(&options, "milliseconds")
            .unwrap_or_default()
            .trim()
            .parse::<f64>()
            .map_err(|_| HostError::invalid_payload("\"milliseconds\" must be a number"))?;
        if ms > 0.0 {
            host.sleep(ms as u64).await;
        }
        Ok(Json::Null)
    }
}

/// `throw-error`: always rejects with `status` (default 500), `code` and `message`.
pub struct ThrowError;

impl Operation for ThrowError {
    fn info(&self) -> OperationInfo {
        info(
            "throw-error",
            "Throw Error",
            "Stops with an error of the given status, code and message.",
            json!({"status": {"type": ["integer", "string"]}, "code": {"type": "string"}, "message": {"type": "string"}}),
        )
    }

    async fn run<H: Host>(
        &self,
        _host: &H,
        _ctx: &Context,
        options: Json,
        _data: Json,
    ) -> Result<Json, HostError> {
        let status = text(&options, "status")
            .and_then(|s| s.trim().parse::<u16>().ok())
            .filter(|s| (400..600).contains(s))
            .unwrap_or(500);
        let code = text(&options, "code").filter(|c| !c.is_empty());
        let message = text(&options, "message").unwrap_or_else(|| "An error occurred".into());
        // `HostError` codes are static strings; the user's code travels as
        // `custom_code`, and the flow engine reports it as the error's `code`.
        let mut e = HostError::new(status, "FLOW_ERROR", message);
        if let Some(code) = code {
            e = e.with("custom_code", code);
        }
        Err(e)
    }
}

/// `exec` ("Run Script"): `code` runs in the host's script sandbox; it defines
/// `fn main(data)` and its return value is the result.
pub struct Exec;

impl Operation for Exec {
    fn info(&self) -> OperationInfo {
        info(
            "exec",
            "Run Script",
            "Runs a sandboxed Rhai script: fn main(data) { … } returns the result.",
            json!({"code": {"type": "string"}}),
        )
    }

    async fn run<H: Host>(
        &self,
        host: &H,
        ctx: &Context,
        options: Json,
        data: Json,
    ) -> Result<Json, HostError> {
        let code = required(&options, "code")?;
        host.run_script(ctx, &code, data).await
    }
}

/// `trigger`: runs the flow `flow` with `payload` — once, or once per element of an
/// array payload (`iterationMode`: `serial`, `batch` or `parallel`; the host runs them in
/// order either way, so results keep the payload's order).
pub struct TriggerFlow;

impl Operation for TriggerFlow {
    fn info(&self) -> OperationInfo {
        info(
            "trigger",
            "Trigger Flow",
            "Runs another flow (trigger: another flow) with a payload.",
            json!({"flow": {"type": "string"}, "payload": {}, "iterationMode": {"enum": ["serial", "batch", "parallel"]}, "batchSize": {"type": "integer"}}),
        )
    }

    async fn run<H: Host>(
        &self,
        host: &H,
        ctx: &Context,
        options: Json,
        _data: Json,
    ) -> Result<Json, HostError> {
        let flow = required(&options, "flow")?;
        match json_option(&options, "payload").unwrap_or(Json::Null) {
            Json::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(host.trigger_flow(ctx, &flow, item).await?);
                }
                Ok(Json::Array(out))
            }
            single => host.trigger_flow(ctx, &flow, single).await,
        }
    }
}

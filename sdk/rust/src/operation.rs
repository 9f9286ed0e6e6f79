//! Flow operations: a module that takes the options a flow gave it and the flow's data
//! chain, and returns a value that becomes the operation's entry in the chain (`$last`).
//!
//! The built-in operations (log, condition, send email, item CRUD …) and the custom
//! operations that guest extensions add implement the same contract, so the flow engine
//! runs them alike.

use crate::{Context, Host, HostError};
use serde_json::Value as Json;
use std::future::Future;

/// What an operation says about itself: `/extensions` and the Studio list it, and the
/// flow editor renders `options` (a JSON Schema of its options object).
#[derive(Debug, Clone, PartialEq)]
pub struct OperationInfo {
    /// The `type` an operation row names (`log`, `mail`, `my-extension-op` …).
    pub id: String,
    pub name: String,
    pub description: String,
    /// JSON Schema of the options object.
    pub options: Json,
}

pub trait Operation: Send + Sync + 'static {
    fn info(&self) -> OperationInfo;

    /// Runs once per flow step. `options` arrive with their `{{ … }}` templates already
    /// rendered against `data` (the data chain: `$trigger`, `$last`, `$accountability`,
    /// `$env` and earlier operations' results). `Ok` takes the operation's `resolve` path,
    /// `Err` its `reject` path.
    fn run<H: Host>(
        &self,
        host: &H,
        ctx: &Context,
        options: Json,
        data: Json,
    ) -> impl Future<Output = Result<Json, HostError>> + Send;
}

//! Flow operations by type: the built-in ones (linked crates implementing
//! [`rectus_sdk::Operation`]) and the ones guests add (WASM components, Rhai scripts) sit
//! in one table, so the flow engine finds an operation by its `type` without knowing
//! where it comes from. An operation whose module is disabled is not found.
//!
//! Owns: the table and the native adapter. Must not touch: flows (the engine is
//! `crate::flows`), how a guest runtime calls its guest.

use super::{NativeHost, Registry};
use crate::app::AppState;
use rectus_sdk::{Context, HostError, Operation, OperationInfo};
use serde_json::Value as Json;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub type RunFuture = Pin<Box<dyn Future<Output = Result<Json, HostError>> + Send>>;

/// An operation as the flow engine calls it, whatever its source.
pub trait OperationRunner: Send + Sync {
    fn info(&self) -> &OperationInfo;

    /// Runs once; `options` are rendered, `data` is the flow's data chain.
    fn run(&self, state: Arc<AppState>, ctx: Context, options: Json, data: Json) -> RunFuture;
}

/// One entry of the table: the runner, the module that provides it, and that module's
/// enabled flag (shared with the module, so switching it off hides its operations).
#[derive(Clone)]
pub struct RegisteredOperation {
    pub module: String,
    pub runner: Arc<dyn OperationRunner>,
    pub enabled: Arc<AtomicBool>,
}

impl RegisteredOperation {
    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Acquire)
    }
}

/// A linked operation crate, run with the native host.
pub struct NativeOperation<O: Operation> {
    operation: Arc<O>,
    info: OperationInfo,
}

impl<O: Operation> NativeOperation<O> {
    pub fn new(operation: O) -> Self {
        let info = operation.info();
        NativeOperation {
            operation: Arc::new(operation),
            info,
        }
    }
}

impl<O: Operation> OperationRunner for NativeOperation<O> {
    fn info(&self) -> &OperationInfo {
        &self.info
    }

    fn run(&self, state: Arc<AppState>, ctx: Context, options: Json, data: Json) -> RunFuture {
        let operation = self.operation.clone();
        Box::pin(async move {
            let host = NativeHost::new(state);
            operation.run(&host, &ctx, options, data).await
        })
    }
}

impl Registry {
    /// The built-in operations (`extensions/operations`), under the module `operations`.
    pub fn add_builtin_operations(&self) {
        use rectus_operations as ops;
        let on = Arc::new(AtomicBool::new(true));
        let all: Vec<Arc<dyn OperationRunner>> = vec![
            Arc::new(NativeOperation::new(ops::Log)),
            Arc::new(NativeOperation::new(ops::Condition)),
            Arc::new(NativeOperation::new(ops::Transform)),
            Arc::new(NativeOperation::new(ops::Sleep)),
            Arc::new(NativeOperation::new(ops::ThrowError)),
            Arc::new(NativeOperation::new(ops::Exec)),
            Arc::new(NativeOperation::new(ops::TriggerFlow)),
            Arc::new(NativeOperation::new(ops::ItemCreate)),
            Arc::new(NativeOperation::new(ops::ItemRead)),
            Arc::new(NativeOperation::new(ops::ItemUpdate)),
            Arc::new(NativeOperation::new(ops::ItemDelete)),
            Arc::new(NativeOperation::new(ops::Mail)),
            Arc::new(NativeOperation::new(ops::Notification)),
            Arc::new(NativeOperation::new(ops::Request)),
            Arc::new(NativeOperation::new(ops::JsonWebToken)),
        ];
        for runner in all {
            self.put_operation("operations", on.clone(), runner);
        }
    }

    /// Adds `runner` under `module`, replacing an operation of the same type from the same
    /// module (a reloaded guest). Another module's operation of that type is kept, and the
    /// newer one wins lookups, so a guest can override a built-in.
    pub fn put_operation(
        &self,
        module: &str,
        enabled: Arc<AtomicBool>,
        runner: Arc<dyn OperationRunner>,
    ) {
        let mut ops = self.operations.write().unwrap_or_else(|e| e.into_inner());
        let id = runner.info().id.clone();
        ops.retain(|o| !(o.module == module && o.runner.info().id == id));
        ops.push(RegisteredOperation {
            module: module.to_string(),
            runner,
            enabled,
        });
    }

    /// Removes every operation `module` provided (its folder was removed or reloaded).
    pub fn remove_operations_of(&self, module: &str) {
        let mut ops = self.operations.write().unwrap_or_else(|e| e.into_inner());
        ops.retain(|o| o.module != module);
    }

    /// The enabled operation of type `id`, the most recently added first.
    pub fn operation(&self, id: &str) -> Option<Arc<dyn OperationRunner>> {
        let ops = self.operations.read().unwrap_or_else(|e| e.into_inner());
        ops.iter()
            .rev()
            .find(|o| o.enabled() && o.runner.info().id == id)
            .map(|o| o.runner.clone())
    }

    /// Every registered operation with its module and enabled state (for listings).
    pub fn operations(&self) -> Vec<RegisteredOperation> {
        self.operations
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Fixed(OperationInfo);

    fn echo(name: &str) -> Arc<Fixed> {
        Arc::new(Fixed(OperationInfo {
            id: "echo".into(),
            name: name.into(),
            description: String::new(),
            options: json!({}),
        }))
    }

    impl OperationRunner for Fixed {
        fn info(&self) -> &OperationInfo {
            &self.0
        }
        fn run(&self, _: Arc<AppState>, _: Context, _: Json, _: Json) -> RunFuture {
            Box::pin(async { Ok(Json::Null) })
        }
    }

    #[test]
    fn newest_enabled_operation_wins_and_disabled_modules_hide_theirs() {
        let r = Registry::default();
        let builtin_on = Arc::new(AtomicBool::new(true));
        let guest_on = Arc::new(AtomicBool::new(true));
        r.put_operation("builtin", builtin_on.clone(), echo("builtin"));
        r.put_operation("guest", guest_on.clone(), echo("guest"));
        assert_eq!(r.operation("echo").unwrap().info().name, "guest");

        guest_on.store(false, Ordering::Release);
        assert_eq!(r.operation("echo").unwrap().info().name, "builtin");

        // A reload replaces the module's entry instead of stacking a second one.
        guest_on.store(true, Ordering::Release);
        r.put_operation("guest", guest_on.clone(), echo("guest v2"));
        assert_eq!(r.operations().len(), 2);
        assert_eq!(r.operation("echo").unwrap().info().name, "guest v2");

        r.remove_operations_of("guest");
        assert_eq!(r.operation("echo").unwrap().info().name, "builtin");
        builtin_on.store(false, Ordering::Release);
        assert!(r.operation("echo").is_none());
        assert!(r.operation("missing").is_none());
    }
}

//! The events bus: what hooks and flows hang on.
//!
//! Every item write emits, for `items.create|update|delete` and the collection's own
//! `<collection>.items.create|update|delete`:
//! - a **filter** event before the write: handlers run in registration order, each may
//!   replace the payload or reject the write (the error reaches the client, nothing is
//!   written);
//! - an **action** event after commit: delivered to subscribers through a bounded
//!   broadcast channel, so it never delays the request (a subscriber that falls behind
//!   misses events and is told how many).
//!
//! Filter handlers may carry an **owner** (a guest extension's folder): removing an
//! extension removes every handler it registered in one call ([`Bus::remove_owner`]).
//!
//! Owns: registration and delivery. Must not touch: what handlers do.

use serde_json::Value as Json;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use tokio::sync::broadcast;

/// What a filter handler sees and may change.
#[derive(Debug, Clone)]
pub struct FilterEvent {
    /// `items.create`, `orders.items.update`, …
    pub name: String,
    pub collection: String,
    /// The item payload (create), the update data (update), or the keys (delete).
    pub payload: Json,
    /// Keys targeted by an update or delete.
    pub keys: Vec<Json>,
    pub user: Option<String>,
}

/// What action subscribers receive after commit.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionEvent {
    pub name: String,
    pub collection: String,
    pub payload: Json,
    pub keys: Vec<Json>,
    pub user: Option<String>,
    /// How many flow runs led to this write ([`current_depth`] when it was emitted): 0
    /// for a client's request. Flows use it to stop loops (`FLOWS_MAX_DEPTH`).
    pub depth: u32,
}

tokio::task_local! {
    /// The flow-run depth of the code running in this task: a flow run sets it (one more
    /// than what started it) around its operations, so writes they make carry it.
    pub static CAUSE_DEPTH: u32;
}

/// The flow-run depth of the current task (0 outside any flow run).
pub fn current_depth() -> u32 {
    CAUSE_DEPTH.try_with(|d| *d).unwrap_or(0)
}

/// A filter handler's refusal: the write is rejected with this message — by default as
/// `400 FAILED_VALIDATION`; a handler may name another status, code and extensions
/// (a flow's thrown error, `INVALID_PAYLOAD` for a flow that can't be saved).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct Rejection {
    pub message: String,
    pub status: u16,
    pub code: &'static str,
    pub extensions: serde_json::Map<String, Json>,
}

impl Rejection {
    /// `400 FAILED_VALIDATION` with `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Rejection {
            message: message.into(),
            status: 400,
            code: "FAILED_VALIDATION",
            extensions: serde_json::Map::new(),
        }
    }
}

type FilterFuture = Pin<Box<dyn Future<Output = Result<Json, Rejection>> + Send>>;
/// A filter handler: receives the event, returns the (possibly changed) payload.
pub type FilterHandler = Arc<dyn Fn(FilterEvent) -> FilterFuture + Send + Sync>;

/// Action events buffered per subscriber before the slowest one starts missing events.
const ACTION_BUFFER: usize = 4096;

/// One registered filter handler: its owner (empty for the host's own), event name and
/// the handler.
type Registered = (String, String, FilterHandler);

pub struct Bus {
    filters: RwLock<Vec<Registered>>,
    actions: broadcast::Sender<ActionEvent>,
}

impl Default for Bus {
    fn default() -> Self {
        Bus {
            filters: RwLock::new(Vec::new()),
            actions: broadcast::channel(ACTION_BUFFER).0,
        }
    }
}

impl Bus {
    /// Registers a filter handler for an event name (`items.create`, `orders.items.create`).
    pub fn on_filter(&self, event: &str, handler: FilterHandler) {
        self.on_filter_owned("", event, handler);
    }

    /// Registers a filter handler on behalf of `owner`, so [`Bus::remove_owner`] can take
    /// it away again (an extension unloaded or reloaded).
    pub fn on_filter_owned(&self, owner: &str, event: &str, handler: FilterHandler) {
        self.filters.write().expect("filter list lock").push((
            owner.to_string(),
            event.to_string(),
            handler,
        ));
    }

    /// Removes every filter handler `owner` registered; returns how many. Writes already
    /// running keep the handlers they started with; the next write no longer sees them.
    pub fn remove_owner(&self, owner: &str) -> usize {
        let mut filters = self.filters.write().expect("filter list lock");
        let before = filters.len();
        filters.retain(|(o, _, _)| o != owner);
        before - filters.len()
    }

    /// Receives every action event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<ActionEvent> {
        self.actions.subscribe()
    }

    /// Runs the filter handlers of `items.<op>` then `<collection>.items.<op>` over the
    /// payload; the first rejection stops the write.
    pub async fn filter(
        &self,
        op: &str,
        collection: &str,
        payload: Json,
        keys: &[Json],
        user: Option<&str>,
    ) -> Result<Json, Rejection> {
        let names = [format!("items.{op}"), format!("{collection}.items.{op}")];
        let handlers: Vec<(String, FilterHandler)> = {
            let filters = self.filters.read().expect("filter list lock");
            if filters.is_empty() {
                return Ok(payload);
            }
            names
                .iter()
                .flat_map(|n| {
                    filters
                        .iter()
                        .filter(move |(_, e, _)| e == n)
                        .map(|(_, e, h)| (e.clone(), h.clone()))
                })
                .collect()
        };
        let mut payload = payload;
        for (name, handler) in handlers {
            payload = handler(FilterEvent {
                name,
                collection: collection.to_string(),
                payload,
                keys: keys.to_vec(),
                user: user.map(str::to_string),
            })
            .await?;
        }
        Ok(payload)
    }

    /// Emits `items.<op>` and `<collection>.items.<op>` after a commit. Never waits.
    pub fn action(
        &self,
        op: &str,
        collection: &str,
        payload: Json,
        keys: Vec<Json>,
        user: Option<&str>,
    ) {
        if self.actions.receiver_count() == 0 {
            return;
        }
        for name in [format!("items.{op}"), format!("{collection}.items.{op}")] {
            let _ = self.actions.send(ActionEvent {
                name,
                collection: collection.to_string(),
                payload: payload.clone(),
                keys: keys.clone(),
                user: user.map(str::to_string),
                depth: current_depth(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn handler(
        f: impl Fn(FilterEvent) -> Result<Json, Rejection> + Send + Sync + 'static,
    ) -> FilterHandler {
        let f = Arc::new(f);
        Arc::new(move |e| {
            let f = f.clone();
            Box::pin(async move { f(e) })
        })
    }

    #[tokio::test]
    async fn filters_change_and_reject_in_order() {
        let bus = Bus::default();
        bus.on_filter(
            "items.create",
            handler(|e| {
                let mut p = e.payload;
                p["n"] = json!(p["n"].as_i64().unwrap() + 1);
                Ok(p)
            }),
        );
        bus.on_filter(
            "orders.items.create",
            handler(|e| {
                let mut p = e.payload;
                p["n"] = json!(p["n"].as_i64().unwrap() * 10);
                Ok(p)
            }),
        );
        assert_eq!(
            bus.filter("create", "orders", json!({"n": 1}), &[], None)
                .await
                .unwrap(),
            json!({"n": 20})
        );
        assert_eq!(
            bus.filter("create", "other", json!({"n": 1}), &[], None)
                .await
                .unwrap(),
            json!({"n": 2})
        );
        bus.on_filter(
            "items.create",
            handler(|e| {
                if e.payload["n"].as_i64() < Some(0) {
                    Err(Rejection::new("negative"))
                } else {
                    Ok(e.payload)
                }
            }),
        );
        assert_eq!(
            bus.filter("create", "x", json!({"n": -5}), &[], None).await,
            Err(Rejection::new("negative"))
        );
        assert!(
            bus.filter("update", "x", json!({"n": -5}), &[], None)
                .await
                .is_ok(),
            "only create handlers ran"
        );
    }

    #[tokio::test]
    async fn handlers_are_removed_by_owner() {
        let bus = Bus::default();
        let reject = || handler(|_| Err(Rejection::new("no")));
        bus.on_filter_owned("ext:a", "items.create", reject());
        bus.on_filter_owned("ext:a", "orders.items.update", reject());
        bus.on_filter_owned("ext:b", "items.delete", reject());
        bus.on_filter(
            "items.create",
            handler(|e| {
                let mut p = e.payload;
                p["host"] = json!(true);
                Ok(p)
            }),
        );
        assert!(bus
            .filter("create", "orders", json!({}), &[], None)
            .await
            .is_err());
        assert_eq!(bus.remove_owner("ext:a"), 2);
        assert_eq!(bus.remove_owner("ext:a"), 0, "nothing left to remove");
        assert_eq!(
            bus.filter("create", "orders", json!({}), &[], None)
                .await
                .unwrap(),
            json!({"host": true}),
            "the host's own handler stays"
        );
        assert!(bus
            .filter("update", "orders", json!({}), &[], None)
            .await
            .is_ok());
        assert!(
            bus.filter("delete", "orders", json!([1]), &[], None)
                .await
                .is_err(),
            "another owner's handler stays"
        );
    }

    #[tokio::test]
    async fn actions_reach_subscribers_without_waiting() {
        let bus = Bus::default();
        bus.action("create", "orders", json!({}), vec![json!(1)], None); // no subscriber: dropped
        let mut rx = bus.subscribe();
        bus.action("delete", "orders", json!([1]), vec![json!(1)], Some("u"));
        assert_eq!(rx.recv().await.unwrap().name, "items.delete");
        assert_eq!(rx.recv().await.unwrap().name, "orders.items.delete");
    }
}

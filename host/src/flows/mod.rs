//! The flow engine (the host's, not a module): loads active flows from `rectus_flows` /
//! `rectus_operations`, reloads them when either is written through the API, and runs
//! them from their triggers:
//! - **event** — *filter* flows run inside the write, before it (they may change the
//!   payload or reject the write with the flow's error); *action* flows are queued after
//!   commit and never delay the request;
//! - **webhook** / **manual** — `GET|POST /flows/trigger/:id` (`http/flow_routes.rs`);
//! - **schedule** — cron with optional seconds (croner), one run at a time per flow;
//! - **operation** — another flow's trigger-flow operation.
//!
//! Queued runs (action events, async webhooks) go through a bounded queue
//! (`FLOWS_QUEUE_SIZE`) served by `FLOWS_CONCURRENCY` runners; when it is full the event
//! dispatcher waits (back-pressure), and the queue length is reported in
//! `/server/health`. Every run carries its depth (`events::CAUSE_DEPTH`): a run deeper
//! than `FLOWS_MAX_DEPTH` is refused, which stops flows that trigger themselves.
//!
//! Operations are looked up by type in the registry's operations table only (built-ins
//! from `extensions/operations` and guests' alike).
//!
//! Owns: triggers, the data chain, run logs, flow validation on save. Must not touch:
//! what operations do (modules), HTTP shapes beyond the trigger route.

pub mod http;
pub mod model;
pub mod run;
pub mod runlog;
pub mod template;
mod triggers;
pub mod validate;

use crate::app::AppState;
use model::Flow;
use rectus_sdk::{Context, HostError};
use run::{Outcome, Started};
use serde_json::{json, Value as Json};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// The loaded flows: every flow by id, and action flows by bus event name.
#[derive(Default)]
struct Index {
    flows: HashMap<String, Arc<Flow>>,
    actions: HashMap<String, Vec<Arc<Flow>>>,
}

/// A queued run.
struct Job {
    flow: Arc<Flow>,
    started: Started,
}

/// Counters for `/server/health` and the bench.
#[derive(Default)]
pub struct Stats {
    pub completed: AtomicU64,
    pub failed: AtomicU64,
    /// Action events the dispatcher missed because it fell behind the bus.
    pub missed_events: AtomicU64,
    /// Runs refused at `FLOWS_MAX_DEPTH`.
    pub too_deep: AtomicU64,
}

pub struct Flows {
    index: arc_swap::ArcSwap<Index>,
    queue: OnceLock<mpsc::Sender<Job>>,
    queued: AtomicUsize,
    pub stats: Stats,
    /// Filter handlers are registered under `flows#<generation>`; a reload registers the
    /// new set before removing the old one.
    generation: AtomicU64,
    /// Running schedule loops, stopped by the next reload.
    schedules: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// Flows with a scheduled run in progress (no overlap, across reloads too).
    running: Arc<Mutex<HashSet<String>>>,
    /// Serialises reloads so two writes can't interleave their registrations.
    reloading: tokio::sync::Mutex<()>,
    /// user id → who they are, for runs started by events (which carry only the id).
    who: Mutex<HashMap<String, (Instant, Context)>>,
    pub http: reqwest::Client,
}

impl Default for Flows {
    fn default() -> Self {
        Flows {
            index: Default::default(),
            queue: OnceLock::new(),
            queued: AtomicUsize::new(0),
            stats: Stats::default(),
            generation: AtomicU64::new(0),
            schedules: Mutex::new(Vec::new()),
            running: Default::default(),
            reloading: tokio::sync::Mutex::new(()),
            who: Mutex::new(HashMap::new()),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .redirect(reqwest::redirect::Policy::limited(5))
                .build()
                .unwrap_or_default(),
        }
    }
}

/// How long a user's resolved role and admin flag are reused for event-started runs.
const WHO_TTL: Duration = Duration::from_secs(5);

/// Rectus's table names for Directus's system collection names, and back.
pub fn bus_collection(collection: &str) -> String {
    crate::schema::system::table_of(collection)
        .map(str::to_string)
        .unwrap_or_else(|| collection.to_string())
}

pub fn api_collection(table: &str) -> String {
    crate::schema::system::SERVED
        .iter()
        .find(|(_, t)| *t == table)
        .map(|(c, _)| c.to_string())
        .unwrap_or_else(|| table.to_string())
}

/// The bus event names an event flow listens to: `items.<op>` scopes × its collections.
/// (`server.start` is the one other scope: its action flows run once the engine starts.)
pub fn event_names(flow: &Flow) -> Vec<String> {
    let collections = flow.option_list("collections");
    let mut out = Vec::new();
    for scope in flow.option_list("scope") {
        let Some(op) = scope.strip_prefix("items.") else {
            // server.start is handled at start; other scopes (auth.login …) are not emitted
            // by this host yet.
            continue;
        };
        for c in &collections {
            out.push(format!("{}.items.{op}", bus_collection(c)));
        }
    }
    out
}

impl Flows {
    /// Queued runs not yet started.
    pub fn queue_len(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    pub fn flow(&self, id: &str) -> Option<Arc<Flow>> {
        self.index.load().flows.get(id).cloned()
    }

    /// Starts the runners, the event dispatcher, and loads the flows.
    pub async fn start(state: &Arc<AppState>) {
        let cfg = &state.config.flows;
        let (tx, rx) = mpsc::channel(cfg.queue_size);
        if state.flows.queue.set(tx).is_err() {
            return;
        }
        triggers::spawn_runners(state, rx);
        triggers::spawn_dispatcher(state);
        if let Err(e) = state.flows.reload(state).await {
            tracing::error!(error = %e, "could not load flows");
        }
        state.flows.server_started().await;
    }

    /// Queues the action flows whose scope has `server.start` (run as the system).
    async fn server_started(&self) {
        let flows: Vec<Arc<Flow>> = self
            .index
            .load()
            .flows
            .values()
            .filter(|f| {
                f.trigger == "event"
                    && f.option_str("type") == Some("action")
                    && f.option_list("scope").iter().any(|s| s == "server.start")
            })
            .cloned()
            .collect();
        for flow in flows {
            let started = Started {
                trigger: json!({"event": "server.start"}),
                ctx: Context {
                    user: None,
                    role: None,
                    admin: true,
                    ip: None,
                    user_agent: None,
                },
                depth: 1,
            };
            self.enqueue(flow, started).await;
        }
    }

    /// Reads every flow again and re-registers triggers. Called after any write to
    /// flows or operations through the API, before that request answers.
    pub async fn reload(&self, state: &Arc<AppState>) -> Result<(), crate::db::DbError> {
        let _one_at_a_time = self.reloading.lock().await;
        let flows = model::load(&state.db).await?;
        let mut index = Index::default();
        for f in flows.into_iter().filter(|f| f.active) {
            let f = Arc::new(f);
            if f.trigger == "event" && f.option_str("type") == Some("action") {
                for name in event_names(&f) {
                    index.actions.entry(name).or_default().push(f.clone());
                }
            }
            index.flows.insert(f.id.clone(), f);
        }
        let index = Arc::new(index);
        let old = self.generation.fetch_add(1, Ordering::AcqRel);
        let owner = format!("flows#{}", old + 1);
        triggers::register_filters(state, &index, &owner);
        state.events.remove_owner(&format!("flows#{old}"));
        self.index.store(index.clone());
        triggers::restart_schedules(state, &index);
        tracing::debug!(flows = index.flows.len(), "flows loaded");
        Ok(())
    }

    /// Who a user is (role, admin), for runs started by an event that carries only the
    /// user id. Cached briefly; an unknown or missing user is the public.
    pub async fn who(&self, state: &AppState, user: Option<&str>) -> Context {
        let public = Context {
            user: None,
            role: None,
            admin: false,
            ip: None,
            user_agent: None,
        };
        let Some(user) = user else {
            return public;
        };
        if let Some((at, ctx)) = self.who.lock().unwrap_or_else(|e| e.into_inner()).get(user) {
            if at.elapsed() < WHO_TTL {
                return ctx.clone();
            }
        }
        let mut sql = state.db.sql();
        sql.push("SELECT ")
            .ident("role")
            .push(" FROM ")
            .ident("rectus_users")
            .push(" WHERE ")
            .ident("id")
            .push(" = ");
        sql.bind_cast(
            user.to_string(),
            crate::schema::types::pg_cast(crate::schema::FieldType::Uuid),
        );
        let Ok(Some(row)) = state.db.fetch_optional(&sql).await else {
            return public;
        };
        let role = row.get("role").and_then(Json::as_str).map(str::to_string);
        let (admin, _) = crate::auth::global_access(&state.db, user, role.as_deref())
            .await
            .unwrap_or((false, false));
        let ctx = Context {
            user: Some(user.to_string()),
            role,
            admin,
            ip: None,
            user_agent: None,
        };
        let mut who = self.who.lock().unwrap_or_else(|e| e.into_inner());
        if who.len() > 10_000 {
            who.clear();
        }
        who.insert(user.to_string(), (Instant::now(), ctx.clone()));
        ctx
    }

    /// Queues a run, waiting for room when the queue is full.
    async fn enqueue(&self, flow: Arc<Flow>, started: Started) {
        let Some(tx) = self.queue.get() else {
            return;
        };
        self.queued.fetch_add(1, Ordering::Relaxed);
        if tx.send(Job { flow, started }).await.is_err() {
            self.queued.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Runs `flow` now, in the caller's task, and logs the run.
    pub async fn run_now(&self, state: &Arc<AppState>, flow: &Flow, started: Started) -> Outcome {
        let ctx = started.ctx.clone();
        let outcome = run::execute(state, flow, started).await;
        self.finish(state, flow, &ctx, &outcome).await;
        outcome
    }

    async fn finish(&self, state: &Arc<AppState>, flow: &Flow, ctx: &Context, outcome: &Outcome) {
        let counter = if outcome.status == run::Status::Resolve {
            &self.stats.completed
        } else {
            &self.stats.failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if !matches!(flow.accountability.as_deref(), Some("all" | "activity")) {
            return;
        }
        // Written in its own transaction, in its own task: a filter flow runs inside the
        // write's transaction, which on SQLite holds the only write lock until it ends.
        let (state, id, acc, ctx, outcome) = (
            state.clone(),
            flow.id.clone(),
            flow.accountability.clone(),
            ctx.clone(),
            outcome.clone(),
        );
        tokio::spawn(async move {
            if let Err(e) = runlog::record(&state, &id, acc.as_deref(), &ctx, &outcome).await {
                tracing::warn!(flow = %id, error = %e, "could not log the flow run");
            }
        });
    }

    /// Whether a run at `depth` may start; counts and logs a refusal.
    pub fn depth_allowed(&self, state: &AppState, flow: &Flow, depth: u32) -> bool {
        if depth <= state.config.flows.max_depth {
            return true;
        }
        self.stats.too_deep.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(flow = %flow.id, depth, "flow not run: FLOWS_MAX_DEPTH reached (a flow that triggers itself?)");
        false
    }

    /// The trigger-flow operation: runs the active flow `id` (trigger "another flow")
    /// with `payload` in the caller's task, one level deeper; returns its `return` value.
    pub async fn trigger_flow(
        &self,
        state: &Arc<AppState>,
        ctx: &Context,
        id: &str,
        payload: Json,
    ) -> Result<Json, HostError> {
        let flow = self
            .flow(id)
            .filter(|f| f.trigger == "operation")
            .ok_or_else(|| {
                HostError::invalid_payload(format!(
                    "there is no active flow \"{id}\" with the \"another flow\" trigger"
                ))
            })?;
        let depth = crate::events::current_depth() + 1;
        if !self.depth_allowed(state, &flow, depth) {
            return Err(HostError::new(
                400,
                "FLOW_DEPTH_EXCEEDED",
                format!("Flow \"{id}\" was not run: FLOWS_MAX_DEPTH reached."),
            ));
        }
        let started = Started {
            trigger: payload,
            ctx: ctx.clone(),
            depth,
        };
        let outcome = self.run_now(state, &flow, started).await;
        Ok(outcome.returned(flow.option_str("return")))
    }

    /// `/server/health`'s view of the engine.
    pub fn health(&self, state: &AppState) -> Json {
        json!({
            "status": "ok",
            "componentType": "system",
            "observedUnit": "runs",
            "observedValue": self.queue_len(),
            "threshold": state.config.flows.queue_size,
            "completed": self.stats.completed.load(Ordering::Relaxed),
            "failed": self.stats.failed.load(Ordering::Relaxed),
            "missedEvents": self.stats.missed_events.load(Ordering::Relaxed),
            "tooDeep": self.stats.too_deep.load(Ordering::Relaxed),
        })
    }
}

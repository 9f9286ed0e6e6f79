//! Wiring flows to what starts them: filter handlers on the bus, the action-event
//! dispatcher feeding the bounded run queue, the runners, and schedule loops.

use super::model::Flow;
use super::run::{self, Started};
use super::{api_collection, event_names, Index, Job};
use crate::app::AppState;
use crate::events::{current_depth, FilterEvent, FilterHandler, Rejection};
use serde_json::{json, Value as Json};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use tokio::sync::{broadcast, mpsc, Semaphore};

/// One filter handler per event name of each active filter flow, under `owner`.
pub(super) fn register_filters(state: &Arc<AppState>, index: &Index, owner: &str) {
    for flow in index.flows.values() {
        if flow.trigger != "event" || flow.option_str("type") != Some("filter") {
            continue;
        }
        for name in event_names(flow) {
            let weak = Arc::downgrade(state);
            let flow = flow.clone();
            let handler: FilterHandler = Arc::new(move |e: FilterEvent| {
                let (weak, flow) = (weak.clone(), flow.clone());
                Box::pin(async move { filter(weak, flow, e).await })
            });
            state.events.on_filter_owned(owner, &name, handler);
        }
    }
}

/// A filter flow, run inside the write: a rejected last step rejects the write with the
/// flow's error; otherwise `return` (if set and not null) replaces the payload.
async fn filter(state: Weak<AppState>, flow: Arc<Flow>, e: FilterEvent) -> Result<Json, Rejection> {
    let Some(state) = state.upgrade() else {
        return Ok(e.payload);
    };
    let depth = current_depth() + 1;
    if !state.flows.depth_allowed(&state, &flow, depth) {
        return Err(Rejection::new(format!(
            "Flow \"{}\" was not run: FLOWS_MAX_DEPTH reached.",
            flow.name
        )));
    }
    let op = e.name.rsplit('.').next().unwrap_or_default().to_string();
    let mut trigger = json!({
        "event": format!("{}.items.{op}", api_collection(&e.collection)),
        "payload": e.payload,
        "collection": api_collection(&e.collection),
    });
    if !e.keys.is_empty() {
        trigger["keys"] = Json::Array(e.keys.clone());
    }
    let ctx = state.flows.who(&state, e.user.as_deref()).await;
    let started = Started {
        trigger,
        ctx,
        depth,
    };
    let outcome = state.flows.run_now(&state, &flow, started).await;
    if outcome.status == run::Status::Reject {
        return Err(run::rejection_of(outcome.last()));
    }
    match flow.option_str("return") {
        None | Some("") => Ok(e.payload),
        ret => match outcome.returned(ret) {
            Json::Null => Ok(e.payload),
            v if v.is_object() == e.payload.is_object() => Ok(v),
            _ => Err(Rejection::new(format!(
                "Flow \"{}\" must return the payload, an object.",
                flow.name
            ))),
        },
    }
}

/// The runners: at most `FLOWS_CONCURRENCY` queued runs at once.
pub(super) fn spawn_runners(state: &Arc<AppState>, mut rx: mpsc::Receiver<Job>) {
    let weak = Arc::downgrade(state);
    let slots = Arc::new(Semaphore::new(state.config.flows.concurrency));
    tokio::spawn(async move {
        while let Some(job) = rx.recv().await {
            let Ok(permit) = slots.clone().acquire_owned().await else {
                break;
            };
            let Some(state) = weak.upgrade() else {
                break;
            };
            state.flows.queued.fetch_sub(1, Ordering::Relaxed);
            tokio::spawn(async move {
                let _permit = permit;
                state.flows.run_now(&state, &job.flow, job.started).await;
            });
        }
    });
}

/// Reads action events from the bus and queues a run per matching action flow. When the
/// queue is full it waits, and the bus buffers; if the bus overflows, the missed events
/// are counted and logged.
pub(super) fn spawn_dispatcher(state: &Arc<AppState>) {
    let mut rx = state.events.subscribe();
    let weak = Arc::downgrade(state);
    tokio::spawn(async move {
        loop {
            let e = match rx.recv().await {
                Ok(e) => e,
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    if let Some(state) = weak.upgrade() {
                        state
                            .flows
                            .stats
                            .missed_events
                            .fetch_add(n, Ordering::Relaxed);
                    }
                    tracing::warn!(missed = n, "flow dispatcher fell behind: events missed");
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => break,
            };
            let Some(state) = weak.upgrade() else {
                break;
            };
            // Writes to flows and operations reload synchronously (NativeHost); nothing
            // to do for them here.
            let flows = match state.flows.index.load().actions.get(&e.name) {
                Some(f) => f.clone(),
                None => continue,
            };
            let depth = e.depth + 1;
            let op = e.name.rsplit('.').next().unwrap_or_default().to_string();
            let collection = api_collection(&e.collection);
            let mut trigger = json!({
                "event": format!("{collection}.items.{op}"),
                "payload": e.payload,
                "collection": collection,
            });
            if op == "create" && e.keys.len() == 1 {
                trigger["key"] = e.keys[0].clone();
            } else {
                trigger["keys"] = Json::Array(e.keys.clone());
            }
            let ctx = state.flows.who(&state, e.user.as_deref()).await;
            for flow in flows {
                if !state.flows.depth_allowed(&state, &flow, depth) {
                    continue;
                }
                let started = Started {
                    trigger: trigger.clone(),
                    ctx: ctx.clone(),
                    depth,
                };
                state.flows.enqueue(flow, started).await;
            }
        }
    });
}

/// Parses a schedule flow's cron: 5 fields, or 6 with seconds first.
pub fn parse_cron(text: &str) -> Result<croner::Cron, String> {
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Optional)
        .build()
        .parse(text)
        .map_err(|e| e.to_string())
}

/// Stops the previous schedule loops and starts one per active schedule flow. A loop
/// runs its flow in its own task and computes the next tick after the run ends, so runs
/// of one flow never overlap; a flow whose previous run (from before a reload) is still
/// going skips the tick.
pub(super) fn restart_schedules(state: &Arc<AppState>, index: &Index) {
    let mut loops = state
        .flows
        .schedules
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    for l in loops.drain(..) {
        l.abort();
    }
    for flow in index.flows.values().filter(|f| f.trigger == "schedule") {
        let cron = match flow.option_str("cron").map(parse_cron) {
            Some(Ok(c)) => c,
            _ => {
                tracing::warn!(flow = %flow.id, "schedule flow without a valid cron: not scheduled");
                continue;
            }
        };
        let (weak, flow) = (Arc::downgrade(state), flow.clone());
        let running = state.flows.running.clone();
        loops.push(tokio::spawn(async move {
            loop {
                let now = chrono::Utc::now();
                let Ok(next) = cron.find_next_occurrence(&now, false) else {
                    break;
                };
                let wait = (next - now).to_std().unwrap_or_default();
                tokio::time::sleep(wait).await;
                let Some(state) = weak.upgrade() else {
                    break;
                };
                if !running
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(flow.id.clone())
                {
                    tracing::info!(flow = %flow.id, "schedule tick skipped: the previous run is still going");
                    continue;
                }
                // The run itself is a separate task: aborting this loop on reload must not
                // cut a run in half. The loop waits for it, so ticks never overlap.
                let (s, f, r) = (state.clone(), flow.clone(), running.clone());
                let run = tokio::spawn(async move {
                    // A schedule acts as the system, as Directus's null accountability does.
                    let ctx = rectus_sdk::Context {
                        user: None,
                        role: None,
                        admin: true,
                        ip: None,
                        user_agent: None,
                    };
                    let started = Started {
                        trigger: Json::Null,
                        ctx,
                        depth: 1,
                    };
                    s.flows.run_now(&s, &f, started).await;
                    r.lock().unwrap_or_else(|e| e.into_inner()).remove(&f.id);
                });
                drop(state);
                let _ = run.await;
            }
        }));
    }
}

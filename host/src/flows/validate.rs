//! Checks on saving flows and operations (filter handlers on `rectus_flows` /
//! `rectus_operations` writes, so a bad one is refused with `400 INVALID_PAYLOAD` and
//! nothing is written): known trigger, status and accountability values, a valid cron for
//! schedules, a registered operation type, and no cycle through `resolve` / `reject`.

use super::model::json_column;
use super::triggers::parse_cron;
use crate::app::AppState;
use crate::events::{FilterEvent, FilterHandler, Rejection};
use crate::schema::types::pg_cast;
use crate::schema::FieldType;
use serde_json::{Map, Value as Json};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Weak};

pub fn invalid(reason: impl Into<String>) -> Rejection {
    let reason = reason.into();
    let mut extensions = Map::new();
    extensions.insert("reason".into(), Json::String(reason.clone()));
    Rejection {
        message: format!("Invalid payload. {}.", reason.trim_end_matches('.')),
        status: 400,
        code: "INVALID_PAYLOAD",
        extensions,
    }
}

/// Registers the checks on the bus (once, at start).
pub fn register(state: &Arc<AppState>) {
    for (event, check) in [
        ("rectus_flows.items.create", Check::Flow),
        ("rectus_flows.items.update", Check::Flow),
        ("rectus_operations.items.create", Check::Operation),
        ("rectus_operations.items.update", Check::Operation),
    ] {
        let weak = Arc::downgrade(state);
        let handler: FilterHandler = Arc::new(move |e: FilterEvent| {
            let weak = weak.clone();
            Box::pin(async move { run(weak, check, e).await })
        });
        state
            .events
            .on_filter_owned("flows-validation", event, handler);
    }
}

#[derive(Clone, Copy)]
enum Check {
    Flow,
    Operation,
}

async fn run(state: Weak<AppState>, check: Check, e: FilterEvent) -> Result<Json, Rejection> {
    let Some(state) = state.upgrade() else {
        return Ok(e.payload);
    };
    match check {
        Check::Flow => flow(&state, &e).await?,
        Check::Operation => operation(&state, &e).await?,
    }
    Ok(e.payload)
}

fn str_field<'a>(o: &'a Map<String, Json>, key: &str) -> Option<&'a str> {
    o.get(key).and_then(Json::as_str)
}

async fn stored(
    state: &AppState,
    table: &str,
    columns: &[&str],
    keys: &[Json],
) -> Result<Vec<crate::db::Row>, Rejection> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = state.db.sql();
    sql.push("SELECT ")
        .idents(columns.iter().copied())
        .push(" FROM ")
        .ident(table)
        .push(" WHERE ")
        .ident("id")
        .push(" IN (");
    for (i, k) in keys.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind_cast(
            k.as_str().unwrap_or_default().to_string(),
            pg_cast(FieldType::Uuid),
        );
    }
    sql.push(")");
    state
        .db
        .fetch_all(&sql)
        .await
        .map_err(|e| Rejection::new(format!("could not check the change: {}", e.message)))
}

/// One flow's settings as they will be after the write.
fn check_flow(f: &Map<String, Json>) -> Result<(), Rejection> {
    if let Some(t) = f.get("trigger").filter(|t| !t.is_null()) {
        match t.as_str() {
            Some("event" | "webhook" | "schedule" | "operation" | "manual") => {}
            _ => {
                return Err(invalid(format!(
                    "\"trigger\" must be event, webhook, schedule, operation or manual, not {t}"
                )))
            }
        }
    }
    if let Some(s) = f.get("status") {
        if !matches!(s.as_str(), Some("active" | "inactive")) {
            return Err(invalid(format!(
                "\"status\" must be active or inactive, not {s}"
            )));
        }
    }
    if let Some(a) = f.get("accountability").filter(|a| !a.is_null()) {
        if !matches!(a.as_str(), Some("all" | "activity")) {
            return Err(invalid(format!(
                "\"accountability\" must be all, activity or null, not {a}"
            )));
        }
    }
    let options = json_column(f.get("options"));
    if !options.is_null() && !options.is_object() {
        return Err(invalid("\"options\" must be an object"));
    }
    let opt = |k: &str| options.get(k).filter(|v| !v.is_null());
    match str_field(f, "trigger") {
        Some("schedule") => {
            let cron = opt("cron")
                .and_then(Json::as_str)
                .ok_or_else(|| invalid("a schedule flow needs \"options.cron\""))?;
            parse_cron(cron)
                .map_err(|e| invalid(format!("\"{cron}\" is not a valid cron: {e}")))?;
        }
        Some("event") => {
            if let Some(t) = opt("type") {
                if !matches!(t.as_str(), Some("filter" | "action")) {
                    return Err(invalid(format!(
                        "\"options.type\" must be filter or action, not {t}"
                    )));
                }
            }
        }
        Some("webhook") => {
            if let Some(m) = opt("method") {
                if !matches!(m.as_str(), Some("GET" | "POST")) {
                    return Err(invalid(format!(
                        "\"options.method\" must be GET or POST, not {m}"
                    )));
                }
            }
        }
        _ => {}
    }
    Ok(())
}

async fn flow(state: &AppState, e: &FilterEvent) -> Result<(), Rejection> {
    let Json::Object(payload) = &e.payload else {
        return Ok(());
    };
    if e.keys.is_empty() {
        return check_flow(payload);
    }
    for mut row in stored(
        state,
        "rectus_flows",
        &["trigger", "status", "accountability", "options"],
        &e.keys,
    )
    .await?
    {
        for (k, v) in payload {
            row.insert(k.clone(), v.clone());
        }
        check_flow(&row)?;
    }
    Ok(())
}

fn text(v: Option<&Json>) -> Option<String> {
    v.and_then(Json::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Whether following `resolve` / `reject` from any node comes back to a node on the way.
pub fn has_cycle(links: &HashMap<String, (Option<String>, Option<String>)>) -> bool {
    fn visit(
        n: &str,
        links: &HashMap<String, (Option<String>, Option<String>)>,
        path: &mut HashSet<String>,
        done: &mut HashSet<String>,
    ) -> bool {
        if done.contains(n) {
            return false;
        }
        if !path.insert(n.to_string()) {
            return true;
        }
        if let Some((a, b)) = links.get(n) {
            for next in [a, b].into_iter().flatten() {
                if visit(next, links, path, done) {
                    return true;
                }
            }
        }
        path.remove(n);
        done.insert(n.to_string());
        false
    }
    let (mut path, mut done) = (HashSet::new(), HashSet::new());
    links.keys().any(|n| visit(n, links, &mut path, &mut done))
}

async fn operation(state: &AppState, e: &FilterEvent) -> Result<(), Rejection> {
    let Json::Object(payload) = &e.payload else {
        return Ok(());
    };
    let creating = e.keys.is_empty();
    match payload.get("type") {
        Some(Json::String(t)) if state.modules.operation(t).is_some() => {}
        Some(Json::String(t)) => {
            return Err(invalid(format!("operation type \"{t}\" does not exist")))
        }
        None if !creating => {}
        other => {
            return Err(invalid(format!(
                "\"type\" must name an operation type, not {}",
                other.unwrap_or(&Json::Null)
            )))
        }
    }
    if creating && text(payload.get("key")).is_none() {
        return Err(invalid("\"key\" is required"));
    }
    for link in ["resolve", "reject"] {
        if let Some(v) = payload.get(link).filter(|v| !v.is_null()) {
            if v.as_str()
                .and_then(|s| uuid::Uuid::parse_str(s).ok())
                .is_none()
            {
                return Err(invalid(format!("\"{link}\" must be an operation id")));
            }
        }
    }
    // The operations of the flow(s) concerned, with this change applied.
    let mut changed: Vec<(Option<String>, Option<String>)> = Vec::new(); // (id, flow)
    if creating {
        changed.push((text(payload.get("id")), text(payload.get("flow"))));
    } else {
        for row in stored(state, "rectus_operations", &["id", "flow"], &e.keys).await? {
            let flow = text(payload.get("flow")).or_else(|| text(row.get("flow")));
            changed.push((text(row.get("id")), flow));
        }
    }
    for (id, flow) in changed {
        let mut links: HashMap<String, (Option<String>, Option<String>)> = HashMap::new();
        if let Some(flow) = &flow {
            let mut sql = state.db.sql();
            sql.push("SELECT ")
                .idents(["id", "resolve", "reject"])
                .push(" FROM ")
                .ident("rectus_operations")
                .push(" WHERE ")
                .ident("flow")
                .push(" = ");
            sql.bind_cast(flow.clone(), pg_cast(FieldType::Uuid));
            let rows = state.db.fetch_all(&sql).await.map_err(|e| {
                Rejection::new(format!("could not check the change: {}", e.message))
            })?;
            for r in rows {
                if let Some(i) = text(r.get("id")) {
                    links.insert(i, (text(r.get("resolve")), text(r.get("reject"))));
                }
            }
        }
        let me = id.unwrap_or_else(|| "(new)".to_string());
        let entry = links.entry(me.clone()).or_default();
        if let Some(v) = payload.get("resolve") {
            entry.0 = text(Some(v));
        }
        if let Some(v) = payload.get("reject") {
            entry.1 = text(Some(v));
        }
        if has_cycle(&links) {
            return Err(invalid(
                "\"resolve\" and \"reject\" would form a cycle: a flow's operations can't lead back to themselves",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(
        pairs: &[(&str, Option<&str>, Option<&str>)],
    ) -> HashMap<String, (Option<String>, Option<String>)> {
        pairs
            .iter()
            .map(|(a, r, j)| {
                (
                    a.to_string(),
                    (r.map(str::to_string), j.map(str::to_string)),
                )
            })
            .collect()
    }

    #[test]
    fn cycles() {
        assert!(!has_cycle(&links(&[
            ("a", Some("b"), Some("c")),
            ("b", Some("c"), None),
            ("c", None, None)
        ])));
        assert!(has_cycle(&links(&[
            ("a", Some("b"), None),
            ("b", None, Some("a"))
        ])));
        assert!(has_cycle(&links(&[("a", Some("a"), None)])));
        assert!(!has_cycle(&links(&[("a", Some("missing"), None)])));
    }

    #[test]
    fn flow_settings() {
        let ok = |v: Json| check_flow(v.as_object().unwrap());
        assert!(ok(
            serde_json::json!({"trigger": "schedule", "options": {"cron": "*/5 * * * * *"}})
        )
        .is_ok());
        assert!(ok(
            serde_json::json!({"trigger": "schedule", "options": {"cron": "every tuesday"}})
        )
        .is_err());
        assert!(ok(serde_json::json!({"trigger": "schedule", "options": {}})).is_err());
        assert!(ok(serde_json::json!({"trigger": "sometimes"})).is_err());
        assert!(ok(serde_json::json!({"trigger": "event", "options": {"type": "later"}})).is_err());
        assert!(ok(serde_json::json!({"status": "paused"})).is_err());
        assert!(ok(serde_json::json!({"accountability": null, "trigger": "webhook", "options": {"method": "POST"}})).is_ok());
    }
}

//! `GET /permissions/me`: what the caller may do, per collection and action, in
//! Directus's shape: `{"orders": {"read": {"access": "partial", "fields": ["id"],
//! "presets": null}, "create": {"access": "none"}, …}}`. `full` when a permission reaches
//! every row, `partial` when all of them are row-filtered. Anonymous callers get `403`.
//!
//! `GET /permissions/me/:collection/:key?`: whether the caller may update, delete and
//! share that item (or, without a key, the collection at all — singletons):
//! `{"update": {"access": true}, "delete": {"access": false}, "share": {"access": false}}`.

use super::error::ApiError;
use super::extract::Caller;
use crate::access::permissions::{Action, Fields};
use crate::access::{self};
use crate::app::AppState;
use crate::query::compile::compile_condition;
use crate::query::{Condition, Filter, Op};
use crate::schema::system;
use axum::extract::{ConnectInfo, Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/permissions/me", get(permissions_me))
        .route("/permissions/me/{collection}", get(item_permissions))
        .route("/permissions/me/{collection}/{key}", get(item_permissions))
}

/// The name a collection is served under (`rectus_users` → `directus_users`).
pub fn served_name(name: &str) -> &str {
    system::SERVED
        .iter()
        .find(|(_, t)| *t == name)
        .map(|(c, _)| *c)
        .unwrap_or(name)
}

async fn permissions_me(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Result<Json<Value>, ApiError> {
    if caller.user.is_none() {
        return Err(ApiError::forbidden());
    }
    let access = access::for_caller(
        &state.access,
        &state.db,
        caller.user.as_deref(),
        caller.role.as_deref(),
        caller.admin,
        Some(&peer.ip().to_string()),
    )
    .await?;
    let (user, sys) = (state.schema.current(), state.schema.system());
    let mut out = Map::new();
    for c in user.collections.values().chain(sys.collections.values()) {
        let mut actions = Map::new();
        for action in Action::ALL {
            let entry = match &access {
                None => json!({"access": "full", "fields": ["*"], "presets": null}),
                Some(a) => match a.permissions().get(&c.name, action) {
                    None => json!({"access": "none"}),
                    Some(rules) => {
                        let full = rules.row_filter().is_none();
                        let presets = if rules.presets.is_empty() {
                            Value::Null
                        } else {
                            Value::Object(rules.presets.clone())
                        };
                        json!({
                            "access": if full { "full" } else { "partial" },
                            "fields": match rules.fields() {
                                Fields::All => json!(["*"]),
                                some => some.to_json(),
                            },
                            "presets": presets,
                        })
                    }
                },
            };
            actions.insert(action.name().to_string(), entry);
        }
        out.insert(served_name(&c.name).to_string(), Value::Object(actions));
    }
    Ok(Json(json!({ "data": out })))
}

async fn item_permissions(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(params): Path<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    if caller.user.is_none() {
        return Err(ApiError::forbidden());
    }
    let collection = params.get("collection").cloned().unwrap_or_default();
    let key = params.get("key");
    let (schema, name) = match system::table_of(&collection) {
        Some(t) => (state.schema.system(), t.to_string()),
        None => (state.schema.current(), collection.clone()),
    };
    let c = schema
        .collection(&name)
        .filter(|c| c.primary_key().is_some())
        .ok_or_else(ApiError::forbidden)?;
    let pk = c.primary_key().expect("checked");
    let access = access::for_caller(
        &state.access,
        &state.db,
        caller.user.as_deref(),
        caller.role.as_deref(),
        caller.admin,
        Some(&peer.ip().to_string()),
    )
    .await?;
    let mut out = Map::new();
    for action in [Action::Update, Action::Delete, Action::Share] {
        let allowed = match &access {
            None => true,
            Some(a) => match a.permissions().get(&name, action) {
                None => false,
                Some(rules) => match key {
                    None => true,
                    Some(key) => {
                        let by_key = Filter::Field {
                            key: pk.to_string(),
                            condition: Condition::Ops(vec![(Op::Eq, Value::String(key.clone()))]),
                        };
                        let filter = match rules.row_filter() {
                            None => by_key,
                            Some(fs) => Filter::And(vec![
                                by_key,
                                Filter::Or(fs.into_iter().map(|f| a.vars.apply(f)).collect()),
                            ]),
                        };
                        match compile_condition(&schema, c, "k", &filter, chrono::Utc::now()) {
                            // A key that can't be one of this collection's: no such item.
                            Err(_) => false,
                            Ok(cond) => {
                                let mut sql = state.db.sql();
                                sql.push("SELECT COUNT(*) AS n FROM ")
                                    .ident(&c.name)
                                    .push(" k WHERE ")
                                    .append(&cond);
                                let row = state.db.fetch_optional(&sql).await?.unwrap_or_default();
                                row.get("n")
                                    .and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()))
                                    .unwrap_or(0)
                                    > 0
                            }
                        }
                    }
                },
            },
        };
        out.insert(action.name().to_string(), json!({ "access": allowed }));
    }
    Ok(Json(json!({ "data": out })))
}

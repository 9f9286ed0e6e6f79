//! `GET /permissions/me`: what the caller may do, per collection and action, in
//! Directus's shape: `{"orders": {"read": {"access": "partial", "fields": ["id"],
//! "presets": null}, "create": {"access": "none"}, …}}`. `full` when a permission reaches
//! every row, `partial` when all of them are row-filtered. Anonymous callers get `403`.

use super::error::ApiError;
use super::extract::Caller;
use crate::access::permissions::{Action, Fields};
use crate::access::{self};
use crate::app::AppState;
use crate::schema::system;
use axum::extract::{ConnectInfo, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use std::net::SocketAddr;
use std::sync::Arc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/permissions/me", get(permissions_me))
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

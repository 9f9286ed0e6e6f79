//! `GET /roles/me` (the caller's role and its ancestors, root first) and
//! `GET /policies/me/globals` (`{app_access, admin_access, enforce_tfa}` over the caller's
//! policies), as Directus answers them.

use super::error::ApiError;
use super::extract::Caller;
use crate::app::AppState;
use crate::auth;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::Arc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/roles/me", get(roles_me))
        .route("/policies/me/globals", get(globals))
}

/// Roles nest at most this deep; a cycle stops here too.
const MAX_ROLE_DEPTH: usize = 32;

async fn roles_me(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
) -> Result<Json<Value>, ApiError> {
    let mut next = caller.role.clone().ok_or_else(ApiError::forbidden)?;
    let mut chain: Vec<Value> = Vec::new();
    for _ in 0..MAX_ROLE_DEPTH {
        let mut sql = state.db.sql();
        sql.push("SELECT ")
            .idents(["id", "name", "icon", "description", "parent"])
            .push(" FROM ")
            .ident("rectus_roles");
        sql.push(" WHERE ")
            .ident("id")
            .push(" = ")
            .bind_cast(next.as_str(), Some("uuid"));
        let Some(row) = state.db.fetch_optional(&sql).await? else {
            break;
        };
        let parent = row
            .get("parent")
            .and_then(Value::as_str)
            .map(str::to_string);
        if chain.iter().any(|r| r["id"] == row["id"]) {
            break;
        }
        chain.push(Value::Object(row));
        match parent {
            Some(p) => next = p,
            None => break,
        }
    }
    chain.reverse();
    Ok(Json(json!({ "data": chain })))
}

async fn globals(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
) -> Result<Json<Value>, ApiError> {
    let (admin, app) = match &caller.user {
        Some(user) => auth::global_access(&state.db, user, caller.role.as_deref()).await?,
        None => (false, false),
    };
    Ok(Json(
        json!({ "data": { "app_access": app, "admin_access": admin, "enforce_tfa": false } }),
    ))
}

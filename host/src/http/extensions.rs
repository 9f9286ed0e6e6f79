//! `GET /extensions` and `PATCH /extensions/:id` (`{"meta": {"enabled": false}}`, as
//! Directus): list the modules and switch them at runtime. A disabled module's routes
//! answer 404 at once, a disabled guest's hooks stop at the next event; the state is kept
//! in `rectus_extensions`. Guests that failed to load are listed with their `error`.

use super::error::ApiError;
use super::extract::{Admin, JsonBody};
use crate::app::AppState;
use axum::extract::{Path, State};
use axum::routing::{get, patch};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::Arc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/extensions", get(list))
        .route("/extensions/{id}", patch(update))
}

async fn list(State(state): State<Arc<AppState>>, _: Admin) -> Json<Value> {
    Json(json!({ "data": state.modules.to_api() }))
}

async fn update(
    State(state): State<Arc<AppState>>,
    _: Admin,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<Value>, ApiError> {
    let enabled = body
        .get("meta")
        .and_then(|m| m.get("enabled"))
        .ok_or_else(|| ApiError::invalid_payload("\"meta.enabled\" is required"))?
        .as_bool()
        .ok_or_else(|| ApiError::invalid_payload("\"meta.enabled\" must be a boolean"))?;
    let module = state
        .modules
        .set_enabled(&state.db, &id, enabled)
        .await?
        .ok_or_else(ApiError::forbidden)?;
    tracing::info!(module = %id, enabled, "module switched");
    Ok(Json(json!({ "data": module })))
}

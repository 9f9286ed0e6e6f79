//! `GET /extensions` and `PATCH /extensions/:id` (`{"meta": {"enabled": false}}`, as
//! Directus; and `{"meta": {"granted": ["items:read:orders"]}}`, Rectus's own: grant a
//! guest some of the capabilities its manifest asks for, replacing earlier grants): list
//! the modules, switch them and grant capabilities at runtime. A disabled module's routes
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
    let meta = body
        .get("meta")
        .and_then(Value::as_object)
        .ok_or_else(|| ApiError::invalid_payload("\"meta\" is required"))?;
    let enabled = match meta.get("enabled") {
        None => None,
        Some(v) => Some(
            v.as_bool()
                .ok_or_else(|| ApiError::invalid_payload("\"meta.enabled\" must be a boolean"))?,
        ),
    };
    let granted = meta
        .get("granted")
        .map(|v| granted_list(&state, &id, v))
        .transpose()?;
    if enabled.is_none() && granted.is_none() {
        return Err(ApiError::invalid_payload(
            "\"meta.enabled\" or \"meta.granted\" is required",
        ));
    }
    let mut module = None;
    if let Some(granted) = granted {
        module = state
            .modules
            .set_grants(&state.db, &id, granted.clone())
            .await?;
        if module.is_some() {
            tracing::info!(module = %id, ?granted, "extension capabilities granted");
        }
    }
    if let Some(enabled) = enabled {
        module = state.modules.set_enabled(&state.db, &id, enabled).await?;
        if module.is_some() {
            tracing::info!(module = %id, enabled, "module switched");
        }
    }
    let module = module.ok_or_else(ApiError::forbidden)?;
    Ok(Json(json!({ "data": module })))
}

/// `meta.granted`: a list of capabilities the extension's manifest asked for.
fn granted_list(state: &AppState, id: &str, value: &Value) -> Result<Vec<String>, ApiError> {
    let Some(guest) = state
        .modules
        .guests()
        .into_iter()
        .find(|g| g.id == id && g.error.is_none())
    else {
        // Built-in modules have no capabilities to grant; unknown ids are forbidden.
        return Err(if state.modules.get(id).is_some() {
            ApiError::invalid_payload("built-in modules have no capabilities to grant")
        } else {
            ApiError::forbidden()
        });
    };
    let list = value.as_array().ok_or_else(|| {
        ApiError::invalid_payload("\"meta.granted\" must be an array of capabilities")
    })?;
    let mut out = Vec::new();
    for c in list {
        let c = c.as_str().ok_or_else(|| {
            ApiError::invalid_payload("\"meta.granted\" must be an array of capabilities")
        })?;
        if !guest.capabilities.iter().any(|asked| asked == c) {
            return Err(ApiError::invalid_payload(format!(
                "\"{c}\" is not a capability the extension asks for (it asks for: {})",
                guest.capabilities.join(", ")
            )));
        }
        if !out.iter().any(|g| g == c) {
            out.push(c.to_string());
        }
    }
    Ok(out)
}

//! `GET /schema/snapshot`, `POST /schema/diff`, `POST /schema/apply` (admin only), and
//! `POST /utils/cache/clear`, which re-reads the schema so tables made with plain SQL
//! while the server runs become visible.
//!
//! Directus's outer shapes are kept: `{data: snapshot}`; `{data: {hash, diff:
//! {collections, fields, systemFields, relations}}}` or `204` when nothing differs; `204`
//! after an apply. The entries inside `diff` are Rectus's plan steps (`{action, target,
//! collection, field?, payload?, changes?}`, see `schema::snapshot::Step`) rather than
//! Directus's deep-diff records: `POST /schema/apply` takes them back unchanged. Each step
//! is atomic on its own (see `schema::service`); when one fails, the answer is that step's
//! error with `extensions.step` naming it, and the steps before it stay applied.

use super::error::ApiError;
use super::extract::{percent_decode, Admin};
use crate::app::AppState;
use crate::schema::snapshot::{self, Format, Mode, Plan, Snapshot};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::Arc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/schema/snapshot", get(read_snapshot))
        .route("/schema/diff", post(diff))
        .route("/schema/apply", post(apply))
        .route("/utils/cache/clear", post(clear_cache))
}

/// The value of one query parameter, decoded.
fn param(query: &Option<String>, name: &str) -> Option<String> {
    query.as_deref()?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k) == name).then(|| percent_decode(v))
    })
}

fn flag(query: &Option<String>, name: &str) -> bool {
    param(query, name).is_some_and(|v| v.is_empty() || v == "true" || v == "1")
}

async fn read_snapshot(
    State(s): State<Arc<AppState>>,
    _: Admin,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let snap = Snapshot::of(&s.schema.current());
    let Some(export) = param(&query, "export") else {
        return Ok(Json(json!({ "data": snap })).into_response());
    };
    let format = Format::parse(&export)?;
    let (ext, content_type) = match format {
        Format::Yaml => ("yaml", "text/yaml; charset=utf-8"),
        Format::Json => ("json", "application/json; charset=utf-8"),
    };
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"snapshot {stamp}.{ext}\""),
            ),
        ],
        snap.to_text(format),
    )
        .into_response())
}

/// A snapshot sent as JSON, or as YAML when the content type says so (Directus accepts a
/// YAML upload here).
fn snapshot_body(headers: &HeaderMap, body: &Bytes) -> Result<Snapshot, ApiError> {
    if body.is_empty() {
        return Err(ApiError::invalid_payload("A snapshot is required"));
    }
    let yaml = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.contains("yaml"));
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::invalid_payload("The snapshot is not UTF-8 text"))?;
    Ok(Snapshot::parse(
        text,
        if yaml { Format::Yaml } else { Format::Json },
    )?)
}

/// `?mode=mirror` (default) deletes what the snapshot lacks; `?mode=merge` keeps it.
/// Directus's `?force` (skip its version and vendor check) is accepted: Rectus checks
/// neither, since a snapshot is meant to move between databases and versions.
async fn diff(
    State(s): State<Arc<AppState>>,
    _: Admin,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mode = match param(&query, "mode") {
        None => Mode::Mirror,
        Some(m) => Mode::parse(&m)?,
    };
    let desired = snapshot_body(&headers, &body)?;
    let current = Snapshot::of(&s.schema.current());
    let plan = snapshot::diff_in(&current, &desired, mode)?;
    if plan.is_empty() {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Ok(Json(json!({
        "data": { "hash": current.hash(), "diff": plan.to_api() }
    }))
    .into_response())
}

async fn apply(
    State(s): State<Arc<AppState>>,
    _: Admin,
    RawQuery(query): RawQuery,
    super::extract::JsonBody(body): super::extract::JsonBody<Value>,
) -> Result<StatusCode, ApiError> {
    let Some(diff) = body.get("diff") else {
        return Err(ApiError::invalid_payload("\"diff\" is required"));
    };
    let plan = Plan::from_api(diff)?;
    if !flag(&query, "force") {
        let Some(hash) = body.get("hash").and_then(Value::as_str) else {
            return Err(ApiError::invalid_payload("\"hash\" is required"));
        };
        if hash != Snapshot::of(&s.schema.current()).hash() {
            return Err(ApiError::invalid_payload(
                "Provided hash does not match the current instance's schema hash, indicating the schema has changed after this diff was generated. Please generate a new diff and try again",
            ));
        }
    }
    snapshot::apply(&s.schema, &plan, |step| {
        tracing::info!(step = %step.describe(), "schema apply");
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Rectus caches nothing but the schema, so clearing the cache is re-reading it; Directus
/// answers `200` with no body.
async fn clear_cache(State(s): State<Arc<AppState>>, _: Admin) -> Result<StatusCode, ApiError> {
    s.schema.reload().await?;
    Ok(StatusCode::OK)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_query_parameters() {
        let q = Some("export=yaml&force&x=a%20b".to_string());
        assert_eq!(super::param(&q, "export").as_deref(), Some("yaml"));
        assert_eq!(super::param(&q, "x").as_deref(), Some("a b"));
        assert!(super::flag(&q, "force"));
        assert!(!super::flag(&q, "export"));
        assert!(!super::flag(&None, "force"));
    }
}

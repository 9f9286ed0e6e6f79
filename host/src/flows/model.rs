//! Flows as the engine holds them: read from `rectus_flows` / `rectus_operations` in two
//! statements, operations grouped under their flow.

use crate::db::{Db, DbError, Row};
use serde_json::Value as Json;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub id: String,
    pub key: String,
    pub kind: String,
    pub options: Json,
    pub resolve: Option<String>,
    pub reject: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    pub id: String,
    pub name: String,
    pub active: bool,
    /// `event`, `webhook`, `schedule`, `operation`, `manual`.
    pub trigger: String,
    /// `all`, `activity`, or none.
    pub accountability: Option<String>,
    pub options: Json,
    /// The first operation.
    pub first: Option<String>,
    pub operations: HashMap<String, Operation>,
}

impl Flow {
    pub fn option(&self, key: &str) -> Option<&Json> {
        self.options.get(key).filter(|v| !v.is_null())
    }

    pub fn option_str(&self, key: &str) -> Option<&str> {
        self.option(key).and_then(Json::as_str)
    }

    pub fn option_bool(&self, key: &str) -> bool {
        matches!(self.option(key), Some(Json::Bool(true))) || self.option_str(key) == Some("true")
    }

    /// A list option (`scope`, `collections`): an array, or comma-separated text.
    pub fn option_list(&self, key: &str) -> Vec<String> {
        match self.option(key) {
            Some(Json::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            Some(Json::String(s)) => s
                .split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// JSON columns read back as text on SQLite and MySQL.
pub fn json_column(v: Option<&Json>) -> Json {
    match v {
        Some(Json::String(s)) => serde_json::from_str(s).unwrap_or(Json::String(s.clone())),
        Some(Json::Null) | None => Json::Null,
        Some(other) => other.clone(),
    }
}

fn text(row: &Row, key: &str) -> Option<String> {
    match row.get(key)? {
        Json::String(s) if !s.is_empty() => Some(s.clone()),
        Json::Null => None,
        Json::String(_) => None,
        other => Some(other.to_string()),
    }
}

pub fn operation_of(row: &Row) -> Option<(String, Operation)> {
    let op = Operation {
        id: text(row, "id")?,
        key: text(row, "key").unwrap_or_default(),
        kind: text(row, "type").unwrap_or_default(),
        options: json_column(row.get("options")),
        resolve: text(row, "resolve"),
        reject: text(row, "reject"),
    };
    Some((text(row, "flow")?, op))
}

/// Every flow with its operations.
pub async fn load(db: &Db) -> Result<Vec<Flow>, DbError> {
    let mut sql = db.sql();
    sql.push("SELECT ")
        .idents([
            "id",
            "name",
            "status",
            "trigger",
            "accountability",
            "options",
            "operation",
        ])
        .push(" FROM ")
        .ident("rectus_flows");
    let flows = db.fetch_all(&sql).await?;
    let mut sql = db.sql();
    sql.push("SELECT ")
        .idents(["id", "key", "type", "options", "resolve", "reject", "flow"])
        .push(" FROM ")
        .ident("rectus_operations");
    let mut by_flow: HashMap<String, HashMap<String, Operation>> = HashMap::new();
    for row in db.fetch_all(&sql).await? {
        if let Some((flow, op)) = operation_of(&row) {
            by_flow.entry(flow).or_default().insert(op.id.clone(), op);
        }
    }
    Ok(flows
        .iter()
        .filter_map(|r| {
            let id = text(r, "id")?;
            Some(Flow {
                name: text(r, "name").unwrap_or_default(),
                active: text(r, "status").as_deref() == Some("active"),
                trigger: text(r, "trigger").unwrap_or_default(),
                accountability: text(r, "accountability"),
                options: match json_column(r.get("options")) {
                    Json::Null => Json::Object(Default::default()),
                    other => other,
                },
                first: text(r, "operation"),
                operations: by_flow.remove(&id).unwrap_or_default(),
                id,
            })
        })
        .collect())
}

//! A GraphQL selection as one Directus query: the selected fields become `fields` paths,
//! each relation's arguments become its `deep` entry, and the root field's arguments the
//! query's own `filter`, `sort`, `limit` … — so the host compiles the whole selection to
//! one SQL statement, as a REST read with relations.
//!
//! Owns: that translation (and GraphQL's filter spellings → Directus's: `date_func:
//! {year: …}` → `year(date)`). Must not touch: execution or the host.

use crate::model::{Collection, FieldShape, Model};
use crate::shape::to_json;
use async_graphql::context::SelectionField;
use async_graphql::Value;
use serde_json::{Map, Value as Json};

/// A selection the host can't express (the same relation twice with different arguments).
#[derive(Debug, Clone, PartialEq)]
pub struct PlanError(pub String);

/// The read query for a root field: its arguments and the fields and `deep` of its
/// selection.
pub fn read_query(
    model: &Model,
    collection: &Collection,
    field: &SelectionField<'_>,
) -> Result<Json, PlanError> {
    let mut query = Map::new();
    let args = field
        .arguments()
        .map_err(|e| PlanError(e.message.clone()))?;
    put_arguments(model, collection, &args, "", &mut query);
    let mut fields = Vec::new();
    let mut deep = Map::new();
    select(model, collection, field, "", &mut fields, &mut deep)?;
    query.insert("fields".into(), Json::from(fields));
    if !deep.is_empty() {
        query.insert("deep".into(), Json::Object(deep));
    }
    Ok(Json::Object(query))
}

/// Only the fields and `deep` of a selection (for re-reads after writes).
pub fn selection_query(
    model: &Model,
    collection: &Collection,
    field: &SelectionField<'_>,
) -> Result<Json, PlanError> {
    let mut fields = Vec::new();
    let mut deep = Map::new();
    select(model, collection, field, "", &mut fields, &mut deep)?;
    let mut query = Map::new();
    query.insert("fields".into(), Json::from(fields));
    if !deep.is_empty() {
        query.insert("deep".into(), Json::Object(deep));
    }
    Ok(Json::Object(query))
}

/// `filter`, `sort`, `limit`, `offset`, `page`, `search` (and `groupBy`) under their
/// query names, with `prefix` `_` inside `deep`.
pub fn put_arguments(
    model: &Model,
    collection: &Collection,
    args: &[(async_graphql::Name, Value)],
    prefix: &str,
    out: &mut Map<String, Json>,
) {
    for (name, value) in args {
        if matches!(value, Value::Null) {
            continue;
        }
        let json = match name.as_str() {
            "filter" => filter(model, collection, value),
            "sort" | "limit" | "offset" | "page" | "search" | "groupBy" => to_json(value),
            _ => continue,
        };
        out.insert(format!("{prefix}{name}"), json);
    }
}

/// Adds the paths a selection reads to `fields` and its relations' arguments to `deep`.
fn select(
    model: &Model,
    collection: &Collection,
    selection: &SelectionField<'_>,
    prefix: &str,
    fields: &mut Vec<String>,
    deep: &mut Map<String, Json>,
) -> Result<(), PlanError> {
    let before = fields.len();
    let push = |fields: &mut Vec<String>, path: String| {
        if !fields.contains(&path) {
            fields.push(path);
        }
    };
    for sub in selection.selection_set() {
        let name = sub.name();
        if name.starts_with("__") {
            continue;
        }
        if let Some(base) = name.strip_suffix("_func") {
            if collection.field(base).is_some() {
                for part in sub.selection_set() {
                    if !part.name().starts_with("__") {
                        push(fields, format!("{prefix}{}({base})", part.name()));
                    }
                }
                continue;
            }
        }
        let Some(field) = collection.field(name) else {
            continue; // the schema validated the selection; nothing else can be here
        };
        match &field.shape {
            FieldShape::Scalar(_) => push(fields, format!("{prefix}{name}")),
            FieldShape::ToAny => push(fields, format!("{prefix}{name}.*")),
            FieldShape::ToOne(target) | FieldShape::ToMany(target) => {
                let Some(related) = model.get(target) else {
                    continue;
                };
                let mut nested = Map::new();
                let args = sub.arguments().map_err(|e| PlanError(e.message.clone()))?;
                put_arguments(model, related, &args, "_", &mut nested);
                select(
                    model,
                    related,
                    &sub,
                    &format!("{prefix}{name}."),
                    fields,
                    &mut nested,
                )?;
                if nested.is_empty() {
                    continue;
                }
                match deep.get(name) {
                    Some(existing) if *existing != Json::Object(nested.clone()) => {
                        return Err(PlanError(format!(
                            "\"{name}\" is selected twice with different arguments; \
                             select it once"
                        )));
                    }
                    _ => {
                        deep.insert(name.to_string(), Json::Object(nested));
                    }
                }
            }
        }
    }
    // A selection of only `__typename` still needs a row: read the key.
    if fields.len() == before {
        push(fields, format!("{prefix}{}", collection.primary_key));
    }
    Ok(())
}

/// A `<collection>_filter` value as a Directus filter: `<field>_func: {year: ops}` becomes
/// `"year(<field>)": ops`, relations recurse into their collection, `_and`/`_or` into
/// their items.
pub fn filter(model: &Model, collection: &Collection, value: &Value) -> Json {
    let Value::Object(map) = value else {
        return to_json(value);
    };
    let mut out = Map::new();
    for (key, v) in map {
        let key = key.as_str();
        match key {
            "_and" | "_or" => {
                let items = match v {
                    Value::List(items) => {
                        items.iter().map(|i| filter(model, collection, i)).collect()
                    }
                    other => vec![filter(model, collection, other)],
                };
                out.insert(key.to_string(), Json::Array(items));
            }
            "_some" | "_none" => {
                out.insert(key.to_string(), filter(model, collection, v));
            }
            _ => {
                if let Some(base) = key.strip_suffix("_func") {
                    if collection.field(base).is_some() {
                        if let Value::Object(parts) = v {
                            for (part, ops) in parts {
                                out.insert(format!("{part}({base})"), to_json(ops));
                            }
                        }
                        continue;
                    }
                }
                let related = collection.field(key).and_then(|f| match &f.shape {
                    FieldShape::ToOne(t) | FieldShape::ToMany(t) => model.get(t),
                    _ => None,
                });
                let json = match related {
                    Some(related) => filter(model, related, v),
                    None => to_json(v),
                };
                out.insert(key.to_string(), json);
            }
        }
    }
    Json::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Scope;
    use serde_json::json;

    fn model() -> Model {
        let snapshot = json!({
            "collections": [
                {"collection": "orders", "meta": null, "schema": {}},
                {"collection": "customers", "meta": null, "schema": {}},
            ],
            "fields": [
                {"collection": "orders", "field": "id", "type": "integer", "schema": {"is_primary_key": true}},
                {"collection": "orders", "field": "placed", "type": "dateTime", "schema": {}},
                {"collection": "orders", "field": "customer", "type": "integer", "schema": {}},
                {"collection": "customers", "field": "id", "type": "integer", "schema": {"is_primary_key": true}},
                {"collection": "customers", "field": "name", "type": "string", "schema": {}},
            ],
            "relations": [
                {"collection": "orders", "field": "customer", "related_collection": "customers", "meta": null},
            ],
        });
        let p = json!({"orders": {"read": ["*"]}, "customers": {"read": ["*"]}});
        Model::from_view(&snapshot, &p, Scope::Items)
    }

    #[test]
    fn filters_spell_functions_and_recurse() {
        let m = model();
        let v = Value::from_json(json!({
            "_and": [
                {"placed_func": {"year": {"_eq": 2024}}},
                {"customer": {"name": {"_contains": "a"}}},
            ]
        }))
        .unwrap();
        assert_eq!(
            filter(&m, m.get("orders").unwrap(), &v),
            json!({"_and": [
                {"year(placed)": {"_eq": 2024}},
                {"customer": {"name": {"_contains": "a"}}},
            ]})
        );
    }
}

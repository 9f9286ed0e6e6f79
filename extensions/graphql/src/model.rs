//! The caller's schema view (`Host::schema`) read into what the GraphQL schema is built
//! from: per scope (`items` for user collections, `system` for `directus_*`), the
//! servable collections with their GraphQL names, typed fields, relations and the
//! actions the caller may take.
//!
//! Owns: which collections and fields exist for GraphQL and under which names. Must not
//! touch: GraphQL types (`build.rs`) or execution.

use serde_json::Value as Json;
use std::collections::BTreeMap;

/// `/graphql` serves user collections, `/graphql/system` the system ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Items,
    System,
}

/// How a field's values look in GraphQL (Directus's `getGraphQLType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    BigInt,
    Float,
    /// Decimals come back as strings, exactly.
    Decimal,
    String,
    Boolean,
    Json,
    Csv,
    Date,
    DateTime,
    Time,
    Hash,
    GeoJson,
}

impl Kind {
    fn of(field_type: &str) -> Option<Kind> {
        Some(match field_type {
            "integer" => Kind::Int,
            "bigInteger" => Kind::BigInt,
            "float" => Kind::Float,
            "decimal" => Kind::Decimal,
            "string" | "text" | "uuid" | "binary" | "unknown" => Kind::String,
            "boolean" => Kind::Boolean,
            "json" => Kind::Json,
            "csv" => Kind::Csv,
            "date" => Kind::Date,
            "dateTime" | "timestamp" => Kind::DateTime,
            "time" => Kind::Time,
            "hash" => Kind::Hash,
            t if t.starts_with("geometry") => Kind::GeoJson,
            _ => return None,
        })
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, Kind::Int | Kind::BigInt | Kind::Float | Kind::Decimal)
    }

    /// Date parts a `<field>_func` offers.
    pub fn date_functions(self) -> &'static [&'static str] {
        match self {
            Kind::Date => &["year", "month", "week", "day", "weekday"],
            Kind::DateTime => &[
                "year", "month", "week", "day", "weekday", "hour", "minute", "second",
            ],
            Kind::Time => &["hour", "minute", "second"],
            _ => &[],
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum FieldShape {
    /// A column value.
    Scalar(Kind),
    /// Many-to-one: the related collection's name.
    ToOne(String),
    /// One-to-many (and the junction side of many-to-many): the child collection.
    ToMany(String),
    /// Many-to-any item: served as JSON (`item.*` per allowed collection).
    ToAny,
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub shape: FieldShape,
    pub primary_key: bool,
    /// The column's own kind, for a many-to-one whose collection the caller can't see:
    /// it is served as its plain key then, as in Directus.
    pub column: Option<Kind>,
}

#[derive(Debug, Clone)]
pub struct Collection {
    /// The collection's name for the host (`orders`, `directus_users`).
    pub name: String,
    /// Its GraphQL type name (`orders`, `users` in the system scope).
    pub gql: String,
    pub primary_key: String,
    pub singleton: bool,
    pub fields: Vec<Field>,
    pub can_create: bool,
    pub can_read: bool,
    pub can_update: bool,
    pub can_delete: bool,
}

impl Collection {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// The collections of one scope, by host name.
#[derive(Debug, Clone, Default)]
pub struct Model {
    pub collections: BTreeMap<String, Collection>,
}

/// System collections Directus serves through dedicated resolvers, not as item types.
const SYSTEM_HIDDEN: &[&str] = &[
    "directus_collections",
    "directus_fields",
    "directus_relations",
    "directus_migrations",
    "directus_sessions",
    "directus_extensions",
];

/// A GraphQL name: `[_A-Za-z][_0-9A-Za-z]*`, not starting with `__`.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
        && !name.starts_with("__")
}

impl Model {
    pub fn get(&self, name: &str) -> Option<&Collection> {
        self.collections.get(name)
    }

    /// The collections of `scope` the caller may see. Collections without a single-column
    /// primary key, folders and names GraphQL can't spell are left out, as in Directus.
    pub fn from_view(snapshot: &Json, permissions: &Json, scope: Scope) -> Model {
        let in_scope = |name: &str| match scope {
            Scope::Items => !name.starts_with("directus_"),
            Scope::System => name.starts_with("directus_") && !SYSTEM_HIDDEN.contains(&name),
        };
        let list = |key: &str| {
            snapshot
                .get(key)
                .and_then(Json::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let mut collections = BTreeMap::new();
        for c in list("collections") {
            let Some(name) = c.get("collection").and_then(Json::as_str) else {
                continue;
            };
            if !in_scope(name) || c.get("schema").is_none_or(Json::is_null) {
                continue;
            }
            let gql = match scope {
                Scope::Items => name.to_string(),
                Scope::System => name.trim_start_matches("directus_").to_string(),
            };
            if !valid_name(&gql) {
                continue;
            }
            let actions = permissions.get(name);
            let allowed = |action: &str| {
                actions
                    .and_then(|a| a.get(action))
                    .and_then(Json::as_array)
                    .is_some_and(|fields| !fields.is_empty())
            };
            let singleton = c
                .pointer("/meta/singleton")
                .and_then(Json::as_bool)
                .unwrap_or(false);
            collections.insert(
                name.to_string(),
                Collection {
                    name: name.to_string(),
                    gql,
                    primary_key: String::new(),
                    singleton,
                    fields: Vec::new(),
                    can_create: allowed("create"),
                    can_read: allowed("read"),
                    can_update: allowed("update"),
                    can_delete: allowed("delete"),
                },
            );
        }
        let relations = list("relations");
        // (collection, field) → shape, from the relations.
        let mut relational: BTreeMap<(String, String), FieldShape> = BTreeMap::new();
        for r in &relations {
            let many = r.get("collection").and_then(Json::as_str).unwrap_or("");
            let field = r.get("field").and_then(Json::as_str).unwrap_or("");
            match r.get("related_collection").and_then(Json::as_str) {
                Some(one) => {
                    relational.insert(
                        (many.to_string(), field.to_string()),
                        FieldShape::ToOne(one.to_string()),
                    );
                    if let Some(one_field) = r.pointer("/meta/one_field").and_then(Json::as_str) {
                        relational.insert(
                            (one.to_string(), one_field.to_string()),
                            FieldShape::ToMany(many.to_string()),
                        );
                    }
                }
                None => {
                    relational.insert((many.to_string(), field.to_string()), FieldShape::ToAny);
                }
            }
        }
        for f in list("fields") {
            let (Some(collection), Some(name), Some(field_type)) = (
                f.get("collection").and_then(Json::as_str),
                f.get("field").and_then(Json::as_str),
                f.get("type").and_then(Json::as_str),
            ) else {
                continue;
            };
            let Some(c) = collections.get_mut(collection) else {
                continue;
            };
            // Readable fields only: a role sees the fields its read permission names.
            if !field_allowed(permissions, collection, "read", name) || !valid_name(name) {
                continue;
            }
            let primary_key = f
                .pointer("/schema/is_primary_key")
                .and_then(Json::as_bool)
                .unwrap_or(false);
            let shape = match relational.get(&(collection.to_string(), name.to_string())) {
                Some(shape) => shape.clone(),
                None => match Kind::of(field_type) {
                    Some(kind) if f.get("schema").is_some_and(|s| !s.is_null()) => {
                        FieldShape::Scalar(kind)
                    }
                    _ => continue,
                },
            };
            if primary_key {
                c.primary_key = name.to_string();
            }
            let column = match f.get("schema") {
                Some(s) if !s.is_null() => Kind::of(field_type),
                _ => None,
            };
            c.fields.push(Field {
                name: name.to_string(),
                shape,
                primary_key,
                column,
            });
        }
        // Relations into collections the caller can't see (or out of scope) are left out,
        // a many-to-one keeping its plain key; so are collections without a readable
        // primary key. Dropping a collection never empties another of its key, so a
        // second pass settles relations into the dropped ones.
        for pass in 0..2 {
            let names: Vec<String> = collections.keys().cloned().collect();
            for c in collections.values_mut() {
                c.fields.retain_mut(|f| match &f.shape {
                    FieldShape::ToOne(t) if !names.contains(t) => match f.column {
                        Some(kind) => {
                            f.shape = FieldShape::Scalar(kind);
                            true
                        }
                        None => false,
                    },
                    FieldShape::ToMany(t) => names.contains(t),
                    _ => true,
                });
            }
            if pass == 0 {
                collections.retain(|_, c| !c.primary_key.is_empty() && !c.fields.is_empty());
            }
        }
        Model { collections }
    }
}

/// Whether `permissions[collection][action]` names `field` (or `*`).
fn field_allowed(permissions: &Json, collection: &str, action: &str, field: &str) -> bool {
    permissions
        .get(collection)
        .and_then(|a| a.get(action))
        .and_then(Json::as_array)
        .is_some_and(|fields| {
            fields
                .iter()
                .any(|f| f.as_str() == Some("*") || f.as_str() == Some(field))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn view() -> (Json, Json) {
        let snapshot = json!({
            "collections": [
                {"collection": "orders", "meta": null, "schema": {"name": "orders"}},
                {"collection": "customers", "meta": null, "schema": {"name": "customers"}},
                {"collection": "settings", "meta": {"singleton": true}, "schema": {"name": "settings"}},
                {"collection": "folder", "meta": {}, "schema": null},
                {"collection": "directus_users", "meta": null, "schema": {"name": "directus_users"}},
                {"collection": "bad-name", "meta": null, "schema": {"name": "bad-name"}},
            ],
            "fields": [
                {"collection": "orders", "field": "id", "type": "integer", "schema": {"is_primary_key": true}},
                {"collection": "orders", "field": "amount", "type": "decimal", "schema": {}},
                {"collection": "orders", "field": "customer", "type": "integer", "schema": {}},
                {"collection": "orders", "field": "placed", "type": "dateTime", "schema": {}},
                {"collection": "customers", "field": "id", "type": "integer", "schema": {"is_primary_key": true}},
                {"collection": "customers", "field": "name", "type": "string", "schema": {}},
                {"collection": "customers", "field": "orders", "type": "alias", "schema": null},
                {"collection": "customers", "field": "secret", "type": "string", "schema": {}},
                {"collection": "settings", "field": "id", "type": "integer", "schema": {"is_primary_key": true}},
                {"collection": "directus_users", "field": "id", "type": "uuid", "schema": {"is_primary_key": true}},
                {"collection": "bad-name", "field": "id", "type": "integer", "schema": {"is_primary_key": true}},
            ],
            "relations": [
                {"collection": "orders", "field": "customer", "related_collection": "customers",
                 "meta": {"one_field": "orders"}},
            ],
        });
        let permissions = json!({
            "orders": {"read": ["*"], "create": ["*"]},
            "customers": {"read": ["id", "name", "orders"]},
            "settings": {"read": ["*"], "update": ["*"]},
            "directus_users": {"read": ["*"]},
            "bad-name": {"read": ["*"]},
        });
        (snapshot, permissions)
    }

    #[test]
    fn reads_collections_fields_and_relations() {
        let (s, p) = view();
        let m = Model::from_view(&s, &p, Scope::Items);
        assert_eq!(
            m.collections.keys().collect::<Vec<_>>(),
            ["customers", "orders", "settings"]
        );
        let orders = m.get("orders").unwrap();
        assert_eq!(orders.primary_key, "id");
        assert!(orders.can_create && orders.can_read && !orders.can_update);
        assert_eq!(
            orders.field("customer").unwrap().shape,
            FieldShape::ToOne("customers".into())
        );
        assert_eq!(
            orders.field("amount").unwrap().shape,
            FieldShape::Scalar(Kind::Decimal)
        );
        let customers = m.get("customers").unwrap();
        assert_eq!(
            customers.field("orders").unwrap().shape,
            FieldShape::ToMany("orders".into())
        );
        assert!(customers.field("secret").is_none(), "not readable");
        assert!(m.get("settings").unwrap().singleton);
    }

    #[test]
    fn system_scope_strips_the_prefix() {
        let (s, p) = view();
        let m = Model::from_view(&s, &p, Scope::System);
        assert_eq!(m.collections.len(), 1);
        assert_eq!(m.get("directus_users").unwrap().gql, "users");
    }

    #[test]
    fn relations_to_unreadable_collections_are_left_out() {
        let (s, mut p) = view();
        p.as_object_mut().unwrap().remove("customers");
        let m = Model::from_view(&s, &p, Scope::Items);
        assert!(m.get("customers").is_none());
        assert_eq!(
            m.get("orders").unwrap().field("customer").unwrap().shape,
            FieldShape::Scalar(Kind::Int),
            "the plain key stays"
        );
    }
}

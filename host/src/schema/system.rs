//! The system schema: Rectus's own tables that the API serves as Directus's system
//! collections (`/users` is `directus_users`, stored in `rectus_users` …), with the
//! metadata Directus ships for them built in: concealed secrets, hashed passwords, and
//! the one-to-many sides of their relations. Served through the same query compiler and
//! items service as user collections.

use super::introspect::{build_with, Catalogue};
use super::meta::MetaRows;
use super::Schema;
use crate::db::Dialect;
use serde_json::{json, Map, Value as Json};

/// Directus's system collection names and the tables that hold them.
pub const SERVED: &[(&str, &str)] = &[
    ("directus_users", "rectus_users"),
    ("directus_roles", "rectus_roles"),
    ("directus_policies", "rectus_policies"),
    ("directus_permissions", "rectus_permissions"),
    ("directus_access", "rectus_access"),
    ("directus_activity", "rectus_activity"),
    ("directus_revisions", "rectus_revisions"),
    ("directus_flows", "rectus_flows"),
    ("directus_operations", "rectus_operations"),
    ("directus_notifications", "rectus_notifications"),
];

/// System collections that only Rectus writes (the API reads them).
pub const READ_ONLY: &[&str] = &["directus_activity", "directus_revisions"];

/// The table behind a Directus system collection name.
pub fn table_of(collection: &str) -> Option<&'static str> {
    SERVED
        .iter()
        .find(|(c, _)| *c == collection)
        .map(|(_, t)| *t)
}

/// The Directus system collection name of a table (`rectus_users` → `directus_users`).
pub fn collection_of(table: &str) -> Option<String> {
    SERVED
        .iter()
        .find(|(_, t)| *t == table)
        .map(|(c, _)| c.to_string())
}

fn row(pairs: &[(&str, Json)]) -> Map<String, Json> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// Field specials and one-to-many sides, as Directus's system data defines them.
fn builtin_meta() -> MetaRows {
    let mut m = MetaRows::default();
    let special = |c: &str, f: &str, s: &[&str]| {
        (
            (c.to_string(), f.to_string()),
            row(&[
                ("collection", json!(c)),
                ("field", json!(f)),
                ("special", json!(s)),
            ]),
        )
    };
    for (key, value) in [
        special("rectus_users", "password", &["hash", "conceal"]),
        special("rectus_users", "token", &["conceal"]),
        special("rectus_users", "tfa_secret", &["conceal"]),
        special("rectus_users", "policies", &["m2m"]),
        special("rectus_roles", "users", &["o2m"]),
        special("rectus_roles", "policies", &["m2m"]),
        special("rectus_roles", "children", &["o2m"]),
        special("rectus_policies", "permissions", &["o2m"]),
        special("rectus_policies", "ip_access", &["cast-csv"]),
        special("rectus_permissions", "fields", &["cast-csv"]),
        special("rectus_activity", "revisions", &["o2m"]),
        special("rectus_flows", "operations", &["o2m"]),
        special("rectus_flows", "options", &["cast-json"]),
        special("rectus_flows", "date_created", &["date-created"]),
        special("rectus_flows", "user_created", &["user-created"]),
        special("rectus_operations", "options", &["cast-json"]),
        special("rectus_operations", "date_created", &["date-created"]),
        special("rectus_operations", "user_created", &["user-created"]),
    ] {
        m.fields.insert(key, value);
    }
    let o2m = |many: &str, field: &str, one: &str, one_field: &str, junction: Option<&str>| {
        (
            (many.to_string(), field.to_string()),
            row(&[
                ("many_collection", json!(many)),
                ("many_field", json!(field)),
                ("one_collection", json!(one)),
                ("one_field", json!(one_field)),
                ("junction_field", json!(junction)),
                ("one_deselect_action", json!("nullify")),
            ]),
        )
    };
    for (key, value) in [
        o2m("rectus_users", "role", "rectus_roles", "users", None),
        o2m("rectus_roles", "parent", "rectus_roles", "children", None),
        o2m(
            "rectus_access",
            "role",
            "rectus_roles",
            "policies",
            Some("policy"),
        ),
        o2m(
            "rectus_access",
            "user",
            "rectus_users",
            "policies",
            Some("policy"),
        ),
        o2m(
            "rectus_revisions",
            "activity",
            "rectus_activity",
            "revisions",
            None,
        ),
        o2m(
            "rectus_operations",
            "flow",
            "rectus_flows",
            "operations",
            None,
        ),
        o2m(
            "rectus_permissions",
            "policy",
            "rectus_policies",
            "permissions",
            None,
        ),
    ] {
        m.relations.insert(key, value);
    }
    m
}

pub fn build(dialect: Dialect, catalogue: &Catalogue) -> Schema {
    let tables: Vec<&str> = SERVED.iter().map(|(_, t)| *t).collect();
    let catalogue = Catalogue {
        tables: catalogue.tables.clone(),
        foreign_keys: catalogue.foreign_keys.clone(),
    };
    build_with(dialect, catalogue, builtin_meta(), |name| {
        tables.contains(&name)
    })
}

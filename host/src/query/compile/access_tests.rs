//! SQL snapshots per dialect for reads under a caller's permissions: the caller's view of
//! a collection is a derived table at every FROM, with the row rules OR-ed and a CASE for
//! fields only some rules grant.

use super::tests::schema;
use super::*;
use crate::access::permissions::{Action, PermissionRow, Permissions};
use crate::access::view;
use crate::query::parse_query_string;
use serde_json::{json, Value as Json};
use std::sync::Arc;

fn read(collection: &str, fields: Json, filter: Json) -> PermissionRow {
    PermissionRow::from_stored(
        collection,
        Action::Read,
        Some(&fields),
        Some(&filter),
        None,
        None,
    )
}

/// Compiles `qs` on `collection` as a caller with `rows`.
fn sql_as(
    d: Dialect,
    rows: &[PermissionRow],
    collection: &str,
    qs: &str,
) -> Result<Sql, CompileError> {
    let full = Arc::new(schema(d));
    let perms = Permissions::from_rows(rows);
    let readable = view::readable_schema(&full, &perms);
    let opts = ReadOptions {
        access: Some(Arc::new(ReadAccess {
            rows: Arc::new(view::row_views(&full, &perms)),
            full,
        })),
        ..ReadOptions::default()
    };
    compile_read(
        &readable,
        collection,
        &parse_query_string(qs).unwrap(),
        &opts,
    )
}

#[test]
fn a_row_rule_is_a_derived_table_per_dialect() {
    let rows = [read(
        "customers",
        json!("*"),
        json!({"name": {"_eq": "Ada"}}),
    )];
    assert_eq!(
        sql_as(Dialect::Postgres, &rows, "customers", "fields=id").unwrap().text(),
        "SELECT coalesce(json_agg(json_build_object(CAST($1 AS text), t0.\"id\") ORDER BY t0.\"id\" ASC), '[]'::json)::text AS data FROM (SELECT t0.* FROM (SELECT p1.* FROM \"customers\" p1 WHERE ((p1.\"name\" = $2))) t0 ORDER BY t0.\"id\" ASC LIMIT $3) t0"
    );
    assert_eq!(
        sql_as(Dialect::Sqlite, &rows, "customers", "fields=id").unwrap().text(),
        "SELECT coalesce(json_group_array(json_object(?, t0.\"id\") ORDER BY t0.\"id\" ASC), '[]') AS data FROM (SELECT t0.* FROM (SELECT p1.* FROM \"customers\" p1 WHERE ((p1.\"name\" = ?))) t0 ORDER BY t0.\"id\" ASC LIMIT ?) t0"
    );
    assert_eq!(
        sql_as(Dialect::MySql, &rows, "customers", "fields=id").unwrap().text(),
        "SELECT COALESCE(JSON_ARRAYAGG(JSON_OBJECT(?, t0.`id`) ORDER BY t0.`id` ASC), JSON_ARRAY()) AS data FROM (SELECT t0.* FROM (SELECT p1.* FROM `customers` p1 WHERE ((p1.`name` = ?))) t0 ORDER BY t0.`id` ASC LIMIT ?) t0"
    );
}

#[test]
fn fields_granted_by_some_rules_are_cases() {
    let rows = [
        read("orders", json!("*"), json!({"status": {"_eq": "Paid"}})),
        read(
            "orders",
            json!(["id", "status"]),
            json!({"status": {"_eq": "Pending"}}),
        ),
    ];
    let s = sql_as(
        Dialect::Postgres,
        &rows,
        "orders",
        "fields=id,amount&meta=total_count",
    )
    .unwrap();
    assert_eq!(
        s.text(),
        "SELECT coalesce(json_agg(json_build_object(CAST($1 AS text), t0.\"id\", CAST($2 AS text), t0.\"amount\") ORDER BY t0.\"id\" ASC), '[]'::json)::text AS data, (SELECT COUNT(*) FROM (SELECT p2.\"id\", CASE WHEN ((p2.\"status\" = $3)) THEN p2.\"customer\" END AS \"customer\", CASE WHEN ((p2.\"status\" = $4)) THEN p2.\"amount\" END AS \"amount\", p2.\"status\", CASE WHEN ((p2.\"status\" = $5)) THEN p2.\"date_created\" END AS \"date_created\" FROM \"orders\" p2 WHERE ((p2.\"status\" = $6) OR (p2.\"status\" = $7))) t3) AS total_count FROM (SELECT t0.* FROM (SELECT p1.\"id\", CASE WHEN ((p1.\"status\" = $8)) THEN p1.\"customer\" END AS \"customer\", CASE WHEN ((p1.\"status\" = $9)) THEN p1.\"amount\" END AS \"amount\", p1.\"status\", CASE WHEN ((p1.\"status\" = $10)) THEN p1.\"date_created\" END AS \"date_created\" FROM \"orders\" p1 WHERE ((p1.\"status\" = $11) OR (p1.\"status\" = $12))) t0 ORDER BY t0.\"id\" ASC LIMIT $13) t0"
    );
}

#[test]
fn relations_read_through_the_related_view_and_unreadable_ones_are_gone() {
    let rows = [
        read("orders", json!("*"), json!({})),
        read("items", json!("*"), json!({"qty": {"_gt": 1}})),
    ];
    let s = sql_as(Dialect::Sqlite, &rows, "orders", "fields=id,items.qty").unwrap();
    assert!(
        s.text().contains("FROM (SELECT p2.* FROM \"items\" p2 WHERE ((p2.\"qty\" > ?))) t1 WHERE t1.\"order\" = t0.\"id\""),
        "{}",
        s.text()
    );
    // customers is not readable: `customer` is the raw key, a path through it is dropped,
    // a filter through it is forbidden.
    let s = sql_as(Dialect::Sqlite, &rows, "orders", "fields=id,customer.name").unwrap();
    assert!(!s.text().contains("customers"), "{}", s.text());
    assert!(matches!(
        sql_as(
            Dialect::Sqlite,
            &rows,
            "orders",
            "filter[customer][name][_eq]=x"
        ),
        Err(CompileError::Forbidden(_))
    ));
    assert!(matches!(
        sql_as(Dialect::Sqlite, &rows, "customers", ""),
        Err(CompileError::Forbidden(_))
    ));
}

#[test]
fn a_rule_on_a_missing_field_matches_nothing() {
    let rows = [read("customers", json!("*"), json!({"gone": {"_eq": 1}}))];
    let s = sql_as(Dialect::Postgres, &rows, "customers", "fields=id").unwrap();
    assert!(s.text().contains("WHERE ((1 = 0))"), "{}", s.text());
}

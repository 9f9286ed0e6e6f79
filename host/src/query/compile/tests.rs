//! SQL snapshots per dialect for the read compiler, over a hand-built schema (orders →
//! customers many-to-one, orders → items one-to-many). The black-box suite runs the same
//! shapes against the real databases.

use super::*;
use crate::query::parse_query_string;
use crate::schema::introspect::{build, Catalogue, RawColumn, RawForeignKey, RawTable};
use crate::schema::meta::MetaRows;
use chrono::TimeZone;
use serde_json::json;

fn column(name: &str, base: &str) -> RawColumn {
    RawColumn {
        name: name.into(),
        base_type: base.into(),
        full_type: base.into(),
        data_type: base.into(),
        nullable: true,
        ..Default::default()
    }
}

pub(super) fn schema(d: Dialect) -> Schema {
    let table = |name: &str, cols: Vec<RawColumn>| RawTable {
        name: name.into(),
        columns: cols,
        primary_key: vec!["id".into()],
        ..Default::default()
    };
    let fk = |table: &str, column: &str, foreign: &str| RawForeignKey {
        constraint_name: format!("{table}_{column}_fk"),
        table: table.into(),
        column: column.into(),
        foreign_schema: None,
        foreign_table: foreign.into(),
        foreign_column: Some("id".into()),
        on_update: "NO ACTION".into(),
        on_delete: "SET NULL".into(),
    };
    let ts = if d == Dialect::Postgres {
        "timestamptz"
    } else {
        "timestamp"
    };
    let catalogue = Catalogue {
        tables: vec![
            table(
                "customers",
                vec![column("id", "integer"), column("name", "varchar")],
            ),
            table(
                "orders",
                vec![
                    column("id", "integer"),
                    column("customer", "integer"),
                    column("amount", "float"),
                    column("status", "varchar"),
                    column("date_created", ts),
                ],
            ),
            table(
                "items",
                vec![
                    column("id", "integer"),
                    column("order", "integer"),
                    column("qty", "integer"),
                ],
            ),
        ],
        foreign_keys: vec![
            fk("orders", "customer", "customers"),
            fk("items", "order", "orders"),
        ],
    };
    let mut meta = MetaRows::default();
    let mut alias = serde_json::Map::new();
    alias.insert("collection".into(), json!("orders"));
    alias.insert("field".into(), json!("items"));
    alias.insert("special".into(), json!(["o2m"]));
    meta.fields.insert(("orders".into(), "items".into()), alias);
    let mut rel = serde_json::Map::new();
    rel.insert("many_collection".into(), json!("items"));
    rel.insert("many_field".into(), json!("order"));
    rel.insert("one_collection".into(), json!("orders"));
    rel.insert("one_field".into(), json!("items"));
    meta.relations.insert(("items".into(), "order".into()), rel);
    build(d, catalogue, meta, &[])
}

fn opts() -> ReadOptions {
    ReadOptions {
        default_limit: 100,
        max_depth: 10,
        now: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        access: None,
    }
}

fn sql(d: Dialect, collection: &str, qs: &str) -> Result<Sql, CompileError> {
    compile_read(
        &schema(d),
        collection,
        &parse_query_string(qs).unwrap(),
        &opts(),
    )
}

#[test]
fn list_postgres() {
    let s = sql(Dialect::Postgres, "customers", "").unwrap();
    assert_eq!(
        s.text(),
        "SELECT coalesce(json_agg(json_build_object(CAST($1 AS text), t0.\"id\", CAST($2 AS text), t0.\"name\") ORDER BY t0.\"id\" ASC), '[]'::json)::text AS data FROM (SELECT t0.* FROM \"customers\" t0 ORDER BY t0.\"id\" ASC LIMIT $3) t0"
    );
    assert_eq!(
        s.params(),
        &[crate::db::Value::from("id"), "name".into(), 100i64.into()]
    );
}

#[test]
fn list_sqlite_and_mysql() {
    assert_eq!(
        sql(Dialect::Sqlite, "customers", "limit=-1&offset=5").unwrap().text(),
        "SELECT coalesce(json_group_array(json_object(?, t0.\"id\", ?, t0.\"name\") ORDER BY t0.\"id\" ASC), '[]') AS data FROM (SELECT t0.* FROM \"customers\" t0 ORDER BY t0.\"id\" ASC LIMIT -1 OFFSET ?) t0"
    );
    assert_eq!(
        sql(Dialect::MySql, "customers", "page=3&limit=10").unwrap().text(),
        "SELECT COALESCE(JSON_ARRAYAGG(JSON_OBJECT(?, t0.`id`, ?, t0.`name`) ORDER BY t0.`id` ASC), JSON_ARRAY()) AS data FROM (SELECT t0.* FROM `customers` t0 ORDER BY t0.`id` ASC LIMIT ? OFFSET ?) t0"
    );
    let s = sql(Dialect::MySql, "customers", "page=3&limit=10").unwrap();
    assert_eq!(
        &s.params()[2..],
        &[crate::db::Value::Int(10), crate::db::Value::Int(20)]
    );
}

#[test]
fn filter_sort_and_meta_postgres() {
    let s = sql(
        Dialect::Postgres,
        "orders",
        "fields=id,amount&filter[status][_eq]=Paid&filter[amount][_gte]=10&sort=-amount&meta=*",
    )
    .unwrap();
    assert_eq!(
        s.text(),
        "SELECT coalesce(json_agg(json_build_object(CAST($1 AS text), t0.\"id\", CAST($2 AS text), t0.\"amount\") ORDER BY t0.\"amount\" DESC, t0.\"id\" ASC), '[]'::json)::text AS data, (SELECT COUNT(*) FROM \"orders\") AS total_count, (SELECT COUNT(*) FROM \"orders\" t1 WHERE (t1.\"status\" = $3 AND t1.\"amount\" >= $4)) AS filter_count FROM (SELECT t0.* FROM \"orders\" t0 WHERE (t0.\"status\" = $5 AND t0.\"amount\" >= $6) ORDER BY t0.\"amount\" DESC, t0.\"id\" ASC LIMIT $7) t0"
    );
}

#[test]
fn many_to_one_and_one_to_many_are_subqueries_of_one_statement() {
    let pg = sql(
        Dialect::Postgres,
        "orders",
        "fields=id,customer.name,items.qty&deep[items][_sort]=-qty&deep[items][_limit]=2",
    )
    .unwrap();
    assert_eq!(
        pg.text(),
        "SELECT coalesce(json_agg(json_build_object(CAST($1 AS text), t0.\"id\", CAST($2 AS text), (SELECT json_build_object(CAST($3 AS text), t1.\"name\") FROM \"customers\" t1 WHERE t1.\"id\" = t0.\"customer\"), CAST($4 AS text), (SELECT coalesce(json_agg(qt2.j ORDER BY qt2.n), '[]'::json) FROM (SELECT json_build_object(CAST($5 AS text), t2.\"qty\") AS j, row_number() OVER (ORDER BY t2.\"qty\" DESC, t2.\"id\" ASC) AS n FROM \"items\" t2 WHERE t2.\"order\" = t0.\"id\" ORDER BY t2.\"qty\" DESC, t2.\"id\" ASC LIMIT $6) qt2)) ORDER BY t0.\"id\" ASC), '[]'::json)::text AS data FROM (SELECT t0.* FROM \"orders\" t0 ORDER BY t0.\"id\" ASC LIMIT $7) t0"
    );
    let my = sql(
        Dialect::MySql,
        "orders",
        "fields=id,items.qty&deep[items][_limit]=2",
    )
    .unwrap();
    assert!(my.text().contains("JSON_EXTRACT((SELECT COALESCE(JSON_ARRAYAGG(JSON_OBJECT(?, t1.`qty`) ORDER BY t1.`id` ASC LIMIT ?), JSON_ARRAY()) FROM `items` t1 WHERE t1.`order` = t0.`id`), '$')"), "{}", my.text());
    let lite = sql(Dialect::Sqlite, "orders", "fields=customer.*").unwrap();
    assert!(lite.text().contains("json((SELECT json_object(?, t1.\"id\", ?, t1.\"name\") FROM \"customers\" t1 WHERE t1.\"id\" = t0.\"customer\"))"), "{}", lite.text());
}

#[test]
fn star_lists_o2m_keys_and_relational_filters_use_exists_and_left_joins() {
    let s = sql(
        Dialect::Sqlite,
        "orders",
        "filter[items][_some][qty][_gt]=3&filter[customer][name][_contains]=a_b",
    )
    .unwrap();
    assert!(
        s.text().contains("EXISTS (SELECT 1 FROM \"items\" t"),
        "{}",
        s.text()
    );
    assert!(
        s.text().contains("EXISTS (SELECT 1 FROM (SELECT 1 AS one) t3x LEFT JOIN \"customers\" t3 ON t3.\"id\" = t0.\"customer\" WHERE t3.\"name\" GLOB ?)"),
        "{}",
        s.text()
    );
    assert!(s.text().contains("GLOB ?"), "{}", s.text());
    assert!(
        s.params().contains(&crate::db::Value::from("*a_b*")),
        "{:?}",
        s.params()
    );
    // `*` includes the o2m alias as an array of child keys.
    assert!(
        s.text().contains("json_group_array(json(qt"),
        "{}",
        s.text()
    );
}

#[test]
fn like_values_match_literally() {
    let s = sql(
        Dialect::Postgres,
        "customers",
        "filter[name][_icontains]=50%25_Off",
    )
    .unwrap();
    assert!(
        s.text().contains("LOWER(t0.\"name\") LIKE $3 ESCAPE '!'"),
        "{}",
        s.text()
    );
    assert_eq!(s.params()[2], crate::db::Value::from("%50!%!_off%"));
}

#[test]
fn dynamic_now_and_functions() {
    let s = sql(Dialect::Postgres, "orders", "fields=date_created_year&fields=year(date_created)&filter[date_created][_gt]=$NOW(-1 year)").unwrap_err();
    assert!(
        matches!(s, CompileError::Forbidden(_)),
        "unknown field date_created_year"
    );
    let s = sql(
        Dialect::Postgres,
        "orders",
        "fields=year(date_created)&filter[date_created][_gt]=$NOW(-1 year)",
    )
    .unwrap();
    assert!(
        s.text()
            .contains("CAST(EXTRACT(YEAR FROM t0.\"date_created\") AS integer)"),
        "{}",
        s.text()
    );
    assert!(
        s.text()
            .contains("t0.\"date_created\" > CAST($2 AS timestamptz)"),
        "{}",
        s.text()
    );
    assert!(s
        .params()
        .contains(&crate::db::Value::from("2025-01-01 00:00:00.000")));
}

#[test]
fn bad_queries_are_refused() {
    let e = |qs: &str| sql(Dialect::Postgres, "orders", qs).unwrap_err();
    assert_eq!(
        e("fields=nope"),
        CompileError::Forbidden("You don't have permission to access field \"nope\" in collection \"orders\" or it does not exist. Queried in root.".into())
    );
    assert!(
        matches!(e("fields=customer.nope"), CompileError::Forbidden(m) if m.ends_with("Queried in \"customer\"."))
    );
    assert_eq!(
        e("filter[amount][_contains]=1"),
        CompileError::Invalid(
            "\"float\" field type does not contain the \"_contains\" filter operator".into()
        )
    );
    assert!(matches!(
        e("filter[amount][_eq]=abc"),
        CompileError::Invalid(_)
    ));
    assert!(matches!(
        e("filter[customer][_some][name][_eq]=x"),
        CompileError::Invalid(_)
    ));
    assert!(matches!(
        e("filter[status][name][_eq]=x"),
        CompileError::Invalid(_)
    ));
    assert!(matches!(e("sort=items.qty"), CompileError::Invalid(_)));
    assert!(matches!(e("fields=year(status)"), CompileError::Invalid(_)));
    assert!(matches!(
        sql(Dialect::Postgres, "nope", ""),
        Err(CompileError::Forbidden(_))
    ));
    let deep = format!("fields={}id", "customer.".repeat(12));
    assert!(matches!(e(&deep), CompileError::Invalid(m) if m.contains("depth")));
}

/// pages.sections (m2a) → pages_sections {pages_id, item, collection} → headings | texts.
fn m2a_schema(d: Dialect) -> Schema {
    let table = |name: &str, cols: Vec<RawColumn>| RawTable {
        name: name.into(),
        columns: cols,
        primary_key: vec!["id".into()],
        ..Default::default()
    };
    let catalogue = Catalogue {
        tables: vec![
            table("pages", vec![column("id", "integer")]),
            table(
                "headings",
                vec![column("id", "integer"), column("title", "varchar")],
            ),
            table(
                "texts",
                vec![column("id", "integer"), column("body", "text")],
            ),
            table("other", vec![column("id", "integer")]),
            table(
                "pages_sections",
                vec![
                    column("id", "integer"),
                    column("pages_id", "integer"),
                    column("item", "varchar"),
                    column("collection", "varchar"),
                ],
            ),
        ],
        foreign_keys: vec![RawForeignKey {
            constraint_name: "ps_pages_fk".into(),
            table: "pages_sections".into(),
            column: "pages_id".into(),
            foreign_schema: None,
            foreign_table: "pages".into(),
            foreign_column: Some("id".into()),
            on_update: "NO ACTION".into(),
            on_delete: "SET NULL".into(),
        }],
    };
    let mut meta = MetaRows::default();
    let map = |v: serde_json::Value| v.as_object().unwrap().clone();
    meta.fields.insert(
        ("pages".into(), "sections".into()),
        map(json!({"collection": "pages", "field": "sections", "special": ["m2a"]})),
    );
    meta.relations.insert(
        ("pages_sections".into(), "pages_id".into()),
        map(json!({"many_collection": "pages_sections", "many_field": "pages_id", "one_collection": "pages", "one_field": "sections", "junction_field": "item"})),
    );
    meta.relations.insert(
        ("pages_sections".into(), "item".into()),
        map(json!({"many_collection": "pages_sections", "many_field": "item", "one_collection": null, "one_collection_field": "collection", "one_allowed_collections": ["headings", "texts"], "junction_field": "pages_id"})),
    );
    build(d, catalogue, meta, &[])
}

fn m2a_sql(d: Dialect, collection: &str, qs: &str) -> Result<Sql, CompileError> {
    compile_read(
        &m2a_schema(d),
        collection,
        &parse_query_string(qs).unwrap(),
        &opts(),
    )
}

#[test]
fn many_to_any_items_are_case_subqueries_with_bound_collection_names() {
    let qs = "fields=sections.item:headings.title,sections.item:texts.body&filter[sections][item:headings][title][_eq]=x";
    let pg = m2a_sql(Dialect::Postgres, "pages", qs).unwrap();
    assert_eq!(pg.text(), "SELECT coalesce(json_agg(json_build_object(CAST($1 AS text), (SELECT coalesce(json_agg(qt1.j ORDER BY qt1.n), '[]'::json) FROM (SELECT json_build_object(CAST($2 AS text), (CASE WHEN t1.\"collection\" = CAST($3 AS text) THEN (SELECT json_build_object(CAST($4 AS text), t2.\"title\") FROM \"headings\" t2 WHERE CAST(t2.\"id\" AS text) = t1.\"item\") WHEN t1.\"collection\" = CAST($5 AS text) THEN (SELECT json_build_object(CAST($6 AS text), t3.\"body\") FROM \"texts\" t3 WHERE CAST(t3.\"id\" AS text) = t1.\"item\") ELSE to_json(t1.\"item\") END)) AS j, row_number() OVER (ORDER BY t1.\"id\" ASC) AS n FROM \"pages_sections\" t1 WHERE t1.\"pages_id\" = t0.\"id\" ORDER BY t1.\"id\" ASC LIMIT $7) qt1)) ORDER BY t0.\"id\" ASC), '[]'::json)::text AS data FROM (SELECT t0.* FROM \"pages\" t0 WHERE EXISTS (SELECT 1 FROM \"pages_sections\" t4 WHERE t4.\"pages_id\" = t0.\"id\" AND EXISTS (SELECT 1 FROM (SELECT 1 AS one) t5x LEFT JOIN \"headings\" t5 ON CAST(t5.\"id\" AS text) = CASE WHEN t4.\"collection\" = CAST($8 AS text) THEN t4.\"item\" END WHERE t5.\"title\" = $9)) ORDER BY t0.\"id\" ASC LIMIT $10) t0");
    assert_eq!(
        pg.params(),
        &[
            crate::db::Value::from("sections"),
            "item".into(),
            "headings".into(),
            "title".into(),
            "texts".into(),
            "body".into(),
            100i64.into(),
            "headings".into(),
            "x".into(),
            100i64.into()
        ]
    );
    assert_eq!(m2a_sql(Dialect::Sqlite, "pages", qs).unwrap().text(), "SELECT coalesce(json_group_array(json_object(?, json((SELECT coalesce(json_group_array(json(qt1.j) ORDER BY qt1.n), '[]') FROM (SELECT json_object(?, json(CASE WHEN t1.\"collection\" = ? THEN (SELECT json_object(?, t2.\"title\") FROM \"headings\" t2 WHERE t2.\"id\" = t1.\"item\") WHEN t1.\"collection\" = ? THEN (SELECT json_object(?, t3.\"body\") FROM \"texts\" t3 WHERE t3.\"id\" = t1.\"item\") ELSE json_quote(t1.\"item\") END)) AS j, row_number() OVER (ORDER BY t1.\"id\" ASC) AS n FROM \"pages_sections\" t1 WHERE t1.\"pages_id\" = t0.\"id\" ORDER BY t1.\"id\" ASC LIMIT ?) qt1))) ORDER BY t0.\"id\" ASC), '[]') AS data FROM (SELECT t0.* FROM \"pages\" t0 WHERE EXISTS (SELECT 1 FROM \"pages_sections\" t4 WHERE t4.\"pages_id\" = t0.\"id\" AND EXISTS (SELECT 1 FROM (SELECT 1 AS one) t5x LEFT JOIN \"headings\" t5 ON t5.\"id\" = CASE WHEN t4.\"collection\" = ? THEN t4.\"item\" END WHERE t5.\"title\" = ?)) ORDER BY t0.\"id\" ASC LIMIT ?) t0");
    assert_eq!(m2a_sql(Dialect::MySql, "pages", qs).unwrap().text(), "SELECT COALESCE(JSON_ARRAYAGG(JSON_OBJECT(?, JSON_EXTRACT((SELECT COALESCE(JSON_ARRAYAGG(JSON_OBJECT(?, JSON_EXTRACT(CASE WHEN t1.`collection` = ? THEN (SELECT JSON_OBJECT(?, t2.`title`) FROM `headings` t2 WHERE CONCAT(t2.`id`) = t1.`item`) WHEN t1.`collection` = ? THEN (SELECT JSON_OBJECT(?, t3.`body`) FROM `texts` t3 WHERE CONCAT(t3.`id`) = t1.`item`) ELSE JSON_EXTRACT(JSON_ARRAY(t1.`item`), '$[0]') END, '$')) ORDER BY t1.`id` ASC LIMIT ?), JSON_ARRAY()) FROM `pages_sections` t1 WHERE t1.`pages_id` = t0.`id`), '$')) ORDER BY t0.`id` ASC), JSON_ARRAY()) AS data FROM (SELECT t0.* FROM `pages` t0 WHERE EXISTS (SELECT 1 FROM `pages_sections` t4 WHERE t4.`pages_id` = t0.`id` AND EXISTS (SELECT 1 FROM (SELECT 1 AS one) t5x LEFT JOIN `headings` t5 ON CONCAT(t5.`id`) = CASE WHEN t4.`collection` = ? THEN t4.`item` END WHERE t5.`title` = ?)) ORDER BY t0.`id` ASC LIMIT ?) t0");
    // No collection name ever enters the SQL text.
    for d in [Dialect::Postgres, Dialect::Sqlite, Dialect::MySql] {
        let s = m2a_sql(d, "pages", qs).unwrap();
        assert!(!s.text().contains("'headings'") && !s.text().contains("'texts'"));
    }
}

#[test]
fn many_to_any_wildcards_sorts_and_raw_keys() {
    // `item.*` gives every allowed collection a branch; `*` on the junction keeps keys.
    let s = m2a_sql(Dialect::Sqlite, "pages_sections", "fields=item.*").unwrap();
    assert!(s.text().contains("CASE WHEN t0.\"collection\" = ? THEN (SELECT json_object(?, t1.\"id\", ?, t1.\"title\") FROM \"headings\" t1 WHERE t1.\"id\" = t0.\"item\") WHEN t0.\"collection\" = ? THEN (SELECT json_object(?, t2.\"id\", ?, t2.\"body\") FROM \"texts\" t2"), "{}", s.text());
    let s = m2a_sql(Dialect::Postgres, "pages_sections", "fields=*").unwrap();
    assert!(!s.text().contains("CASE"), "{}", s.text());
    // A scope for one collection: the other collection's rows keep the raw key.
    let s = m2a_sql(Dialect::MySql, "pages_sections", "fields=item:texts.id").unwrap();
    assert!(s.text().contains("JSON_EXTRACT(CASE WHEN t0.`collection` = ? THEN (SELECT JSON_OBJECT(?, t1.`id`) FROM `texts` t1 WHERE CONCAT(t1.`id`) = t0.`item`) ELSE JSON_EXTRACT(JSON_ARRAY(t0.`item`), '$[0]') END, '$')"), "{}", s.text());
    let s = m2a_sql(
        Dialect::Postgres,
        "pages_sections",
        "fields=id&sort=-item:headings.title",
    )
    .unwrap();
    assert!(s.text().contains("ORDER BY (SELECT t1.\"title\" FROM \"headings\" t1 WHERE CAST(t1.\"id\" AS text) = CASE WHEN t0.\"collection\" = CAST($2 AS text) THEN t0.\"item\" END) DESC, t0.\"id\" ASC"), "{}", s.text());
}

#[test]
fn many_to_any_item_asked_plain_and_scoped_is_output_once() {
    for d in [Dialect::Postgres, Dialect::Sqlite, Dialect::MySql] {
        let s = m2a_sql(
            d,
            "pages_sections",
            "fields=item,collection,item:headings.title",
        )
        .unwrap();
        let keys: Vec<_> = s
            .params()
            .iter()
            .filter(|p| **p == crate::db::Value::from("item"))
            .collect();
        assert_eq!(keys.len(), 1, "{d:?}: {}", s.text());
        assert!(s.text().contains("CASE WHEN"), "{}", s.text());
    }
}

#[test]
fn many_to_any_bad_scopes() {
    let e = |qs: &str| m2a_sql(Dialect::Postgres, "pages", qs).unwrap_err();
    assert!(matches!(
        e("fields=sections.item:nope.x"),
        CompileError::Forbidden(_)
    ));
    assert!(matches!(
        e("filter[sections][item:nope][x][_eq]=1"),
        CompileError::Forbidden(_)
    ));
    assert!(
        matches!(e("fields=sections.item:other.id"), CompileError::Invalid(m) if m.contains("not one of the collections allowed"))
    );
    assert!(matches!(
        e("filter[sections][item:other][id][_eq]=1"),
        CompileError::Invalid(_)
    ));
    assert!(
        matches!(e("filter[sections][item][title][_eq]=x"), CompileError::Invalid(m) if m.contains("collection scope"))
    );
    assert!(matches!(
        e("fields=sections.pages_id:headings.title"),
        CompileError::Invalid(_)
    ));
    assert!(matches!(
        e("filter[sections][item:headings][_eq]=1"),
        CompileError::Invalid(_)
    ));
    assert!(matches!(
        e("fields=sections.item:headings.nope"),
        CompileError::Forbidden(_)
    ));
}

#[test]
fn negated_operators_do_not_match_null_like_directus() {
    let s = sql(
        Dialect::Postgres,
        "orders",
        "fields=id&filter[status][_nin]=a,b&filter[amount][_nbetween]=1,2&filter[status][_neq]=c",
    )
    .unwrap();
    assert!(
        s.text().contains("WHERE ((t0.\"status\" NOT IN ($2, $3) AND t0.\"status\" <> $4) AND t0.\"amount\" NOT BETWEEN $5 AND $6)"),
        "{}",
        s.text()
    );
    let s = sql(Dialect::MySql, "orders", "fields=id&filter[id][_in]=1,2").unwrap();
    assert!(
        s.text().contains("WHERE t0.`id` IN (?, ?) ORDER BY"),
        "{}",
        s.text()
    );
}

#[test]
fn sqlite_compares_date_times_as_normalised_instants() {
    // Stored `2022-01-01 00:00:00` must equal a filter value `2022-01-01T00:00:00`.
    let s = sql(
        Dialect::Sqlite,
        "orders",
        "fields=id&filter[date_created][_gte]=2022-01-01T00:00:00&filter[date_created][_in]=2022-01-01,2023-01-01",
    )
    .unwrap();
    assert!(
        s.text().contains("strftime('%Y-%m-%d %H:%M:%f', t0.\"date_created\") >= strftime('%Y-%m-%d %H:%M:%f', ?)"),
        "{}",
        s.text()
    );
    assert!(
        s.text().contains("strftime('%Y-%m-%d %H:%M:%f', t0.\"date_created\") IN (strftime('%Y-%m-%d %H:%M:%f', ?), strftime('%Y-%m-%d %H:%M:%f', ?))"),
        "{}",
        s.text()
    );
    // NULL tests look at the stored value as it is.
    let s = sql(
        Dialect::Sqlite,
        "orders",
        "fields=id&filter[date_created][_null]=true",
    )
    .unwrap();
    assert!(
        s.text().contains("WHERE t0.\"date_created\" IS NULL"),
        "{}",
        s.text()
    );
    // The other databases compare typed columns directly.
    let s = sql(
        Dialect::Postgres,
        "orders",
        "fields=id&filter[date_created][_gte]=2022-01-01T00:00:00",
    )
    .unwrap();
    assert!(
        s.text()
            .contains("t0.\"date_created\" >= CAST($2 AS timestamptz)"),
        "{}",
        s.text()
    );
}

fn rows(d: Dialect, collection: &str, qs: &str) -> RowsRead {
    compile_rows(
        &schema(d),
        collection,
        &parse_query_string(qs).unwrap(),
        &opts(),
    )
    .unwrap()
}

#[test]
fn rows_shape_per_dialect() {
    let qs = "fields=id,amount,date_created,customer.name,items.qty&filter[status][_eq]=Paid&sort=-amount";
    let pg = rows(Dialect::Postgres, "orders", qs);
    let sqlite = rows(Dialect::Sqlite, "orders", qs);
    let mysql = rows(Dialect::MySql, "orders", qs);
    use crate::db::{Cell, CellKind::*};
    let customer = Object(vec![Cell::new("name", Auto)]);
    let expected = |date| {
        vec![
            Cell::new("id", Auto),
            Cell::new("amount", Auto),
            Cell::new("date_created", date),
            Cell::new("customer", customer.clone()),
            Cell::new("items", Json),
        ]
    };
    // The hand-built schema's `float` is no PostgreSQL type name: through `to_json`.
    let mut pg_cells = expected(Auto);
    pg_cells[1] = Cell::new("amount", Json);
    assert_eq!(pg.cells, pg_cells);
    assert_eq!(sqlite.cells, expected(Text));
    assert_eq!(mysql.cells, expected(Text));
    assert_eq!(
        pg.sql.text(),
        "SELECT t0.\"id\", to_json(t0.\"amount\")::text, t0.\"date_created\", t1.\"id\", t1.\"name\", ((SELECT coalesce(json_agg(qt2.j ORDER BY qt2.n), '[]'::json) FROM (SELECT json_build_object(CAST($1 AS text), t2.\"qty\") AS j, row_number() OVER (ORDER BY t2.\"id\" ASC) AS n FROM \"items\" t2 WHERE t2.\"order\" = t0.\"id\" ORDER BY t2.\"id\" ASC LIMIT $2) qt2))::text FROM (SELECT t0.* FROM \"orders\" t0 WHERE t0.\"status\" = $3 ORDER BY t0.\"amount\" DESC, t0.\"id\" ASC LIMIT $4) t0 LEFT JOIN \"customers\" t1 ON t1.\"id\" = t0.\"customer\" ORDER BY t0.\"amount\" DESC, t0.\"id\" ASC"
    );
    assert_eq!(
        sqlite.sql.text(),
        "SELECT t0.\"id\", t0.\"amount\", strftime('%Y-%m-%dT%H:%M:%fZ', t0.\"date_created\"), t1.\"id\", t1.\"name\", json((SELECT coalesce(json_group_array(json(qt2.j) ORDER BY qt2.n), '[]') FROM (SELECT json_object(?, t2.\"qty\") AS j, row_number() OVER (ORDER BY t2.\"id\" ASC) AS n FROM \"items\" t2 WHERE t2.\"order\" = t0.\"id\" ORDER BY t2.\"id\" ASC LIMIT ?) qt2)) FROM (SELECT t0.* FROM \"orders\" t0 WHERE t0.\"status\" = ? ORDER BY t0.\"amount\" DESC, t0.\"id\" ASC LIMIT ?) t0 LEFT JOIN \"customers\" t1 ON t1.\"id\" = t0.\"customer\" ORDER BY t0.\"amount\" DESC, t0.\"id\" ASC"
    );
    assert_eq!(
        mysql.sql.text(),
        "SELECT t0.`id`, t0.`amount`, DATE_FORMAT(t0.`date_created`, '%Y-%m-%dT%H:%i:%s.000Z'), t1.`id`, t1.`name`, JSON_EXTRACT((SELECT COALESCE(JSON_ARRAYAGG(JSON_OBJECT(?, t2.`qty`) ORDER BY t2.`id` ASC LIMIT ?), JSON_ARRAY()) FROM `items` t2 WHERE t2.`order` = t0.`id`), '$') FROM (SELECT t0.* FROM `orders` t0 WHERE t0.`status` = ? ORDER BY t0.`amount` DESC, t0.`id` ASC LIMIT ?) t0 LEFT JOIN `customers` t1 ON t1.`id` = t0.`customer` ORDER BY t0.`amount` DESC, t0.`id` ASC"
    );
}

//! PostgreSQL catalogue: three queries over `pg_catalog` (columns, indexes, foreign
//! keys) for the current schema. `pg_catalog` rather than `information_schema`, which is
//! a stack of views and many times slower on a thousand tables.

use super::{parse_default, Catalogue, RawColumn, RawForeignKey, RawTable};
use crate::db::{Db, DbError, Row};
use serde_json::Value as Json;
use std::collections::HashMap;

const COLUMNS: &str = r#"
SELECT c.relname AS table_name,
       n.nspname AS schema_name,
       obj_description(c.oid, 'pg_class') AS table_comment,
       a.attname AS column_name,
       t.typname AS base_type,
       format_type(a.atttypid, a.atttypmod) AS full_type,
       NOT a.attnotnull AS is_nullable,
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END AS default_expr,
       CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END AS generation_expr,
       (a.attidentity <> '' OR coalesce(pg_get_expr(d.adbin, d.adrelid), '') LIKE 'nextval(%') AS is_auto,
       a.attgenerated <> '' AS is_generated,
       CASE WHEN t.typname IN ('varchar', 'bpchar') AND a.atttypmod > 4 THEN a.atttypmod - 4 END AS max_length,
       CASE WHEN t.typname = 'numeric' AND a.atttypmod > 4 THEN ((a.atttypmod - 4) >> 16) & 65535
            WHEN t.typname = 'int2' THEN 16 WHEN t.typname = 'int4' THEN 32 WHEN t.typname = 'int8' THEN 64
            WHEN t.typname = 'float4' THEN 24 WHEN t.typname = 'float8' THEN 53 END AS numeric_precision,
       CASE WHEN t.typname = 'numeric' AND a.atttypmod > 4 THEN (a.atttypmod - 4) & 65535
            WHEN t.typname IN ('int2', 'int4', 'int8') THEN 0 END AS numeric_scale,
       col_description(c.oid, a.attnum) AS column_comment
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname = current_schema()
ORDER BY c.relname, a.attnum
"#;

/// Key columns only (`INCLUDE` columns are carried, not constrained), and a partial
/// unique index (`WHERE …`) does not make its column unique.
const INDEXES: &str = r#"
SELECT c.relname AS table_name,
       i.indisprimary AS is_primary,
       i.indisunique AND i.indpred IS NULL AS is_unique,
       ARRAY(SELECT a.attname::text FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
             WHERE k.ord <= i.indnkeyatts
             ORDER BY k.ord) AS columns
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
"#;

const FOREIGN_KEYS: &str = r#"
SELECT con.conname::text AS constraint_name,
       c.relname AS table_name,
       fc.relname AS foreign_table,
       fn.nspname AS foreign_schema,
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS columns,
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord) AS foreign_columns,
       con.confupdtype::text AS on_update,
       con.confdeltype::text AS on_delete
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_class fc ON fc.oid = con.confrelid
JOIN pg_namespace fn ON fn.oid = fc.relnamespace
WHERE con.contype = 'f' AND n.nspname = current_schema()
"#;

fn s(row: &Row, k: &str) -> Option<String> {
    row.get(k).and_then(Json::as_str).map(str::to_string)
}
fn b(row: &Row, k: &str) -> bool {
    row.get(k).and_then(Json::as_bool).unwrap_or(false)
}
fn i(row: &Row, k: &str) -> Option<i64> {
    row.get(k).and_then(Json::as_i64)
}
fn list(row: &Row, k: &str) -> Vec<String> {
    row.get(k)
        .and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn action(code: &str) -> String {
    match code {
        "a" => "NO ACTION",
        "r" => "RESTRICT",
        "c" => "CASCADE",
        "n" => "SET NULL",
        "d" => "SET DEFAULT",
        _ => "NO ACTION",
    }
    .to_string()
}

/// `character varying(255)` → `character varying`.
fn strip_modifiers(full: &str) -> String {
    match full.find('(') {
        Some(i) => {
            let rest = full[i..]
                .find(')')
                .map(|j| &full[i + j + 1..])
                .unwrap_or("");
            format!("{}{}", full[..i].trim_end(), rest)
        }
        None => full.to_string(),
    }
}

pub(super) async fn read(db: &Db) -> Result<Catalogue, DbError> {
    let columns = db.fetch_all(&sql(db, COLUMNS)).await?;
    let indexes = db.fetch_all(&sql(db, INDEXES)).await?;
    let fks = db.fetch_all(&sql(db, FOREIGN_KEYS)).await?;

    // (table, column) → (unique alone, indexed at all); table → primary key.
    let mut unique: HashMap<(String, String), bool> = HashMap::new();
    let mut primary: HashMap<String, Vec<String>> = HashMap::new();
    for ix in &indexes {
        let table = s(ix, "table_name").unwrap_or_default();
        let cols = list(ix, "columns");
        if b(ix, "is_primary") {
            primary.insert(table.clone(), cols.clone());
        }
        if let Some(first) = cols.first() {
            let single_unique = b(ix, "is_unique") && cols.len() == 1;
            let e = unique.entry((table, first.clone())).or_insert(false);
            *e |= single_unique;
        }
    }

    let mut tables: Vec<RawTable> = Vec::new();
    for row in &columns {
        let table = s(row, "table_name").unwrap_or_default();
        if tables.last().map(|t| &t.name) != Some(&table) {
            tables.push(RawTable {
                name: table.clone(),
                schema: s(row, "schema_name"),
                comment: s(row, "table_comment"),
                columns: Vec::new(),
                primary_key: primary.get(&table).cloned().unwrap_or_default(),
            });
        }
        let name = s(row, "column_name").unwrap_or_default();
        let base = s(row, "base_type").unwrap_or_default();
        let full = s(row, "full_type").unwrap_or_default();
        let numeric = matches!(
            base.as_str(),
            "int2" | "int4" | "int8" | "float4" | "float8" | "numeric"
        );
        let key = (table.clone(), name.clone());
        let t = tables.last_mut().expect("pushed above");
        t.columns.push(RawColumn {
            data_type: strip_modifiers(&full),
            default_value: parse_default(s(row, "default_expr").as_deref(), numeric),
            nullable: b(row, "is_nullable"),
            max_length: i(row, "max_length"),
            numeric_precision: i(row, "numeric_precision"),
            numeric_scale: i(row, "numeric_scale"),
            auto_increment: b(row, "is_auto"),
            generated: b(row, "is_generated"),
            generation_expression: s(row, "generation_expr"),
            unique: unique.get(&key).copied().unwrap_or(false),
            indexed: unique.contains_key(&key),
            comment: s(row, "column_comment"),
            json_check: false,
            name,
            base_type: base,
            full_type: full,
        });
    }

    let foreign_keys = fks
        .iter()
        .filter_map(|row| {
            let cols = list(row, "columns");
            let fcols = list(row, "foreign_columns");
            // Only single-column keys become relations.
            let ([col], [fcol]) = (cols.as_slice(), fcols.as_slice()) else {
                return None;
            };
            Some(RawForeignKey {
                constraint_name: s(row, "constraint_name").unwrap_or_default(),
                table: s(row, "table_name").unwrap_or_default(),
                column: col.clone(),
                foreign_schema: s(row, "foreign_schema"),
                foreign_table: s(row, "foreign_table").unwrap_or_default(),
                foreign_column: Some(fcol.clone()),
                on_update: action(&s(row, "on_update").unwrap_or_default()),
                on_delete: action(&s(row, "on_delete").unwrap_or_default()),
            })
        })
        .collect();
    Ok(Catalogue {
        tables,
        foreign_keys,
    })
}

fn sql(db: &Db, text: &str) -> crate::db::Sql {
    let mut q = db.sql();
    q.push(text);
    q
}

#[cfg(test)]
mod tests {
    #[test]
    fn strips_type_modifiers() {
        assert_eq!(
            super::strip_modifiers("character varying(255)"),
            "character varying"
        );
        assert_eq!(super::strip_modifiers("numeric(10,2)"), "numeric");
        assert_eq!(
            super::strip_modifiers("timestamp(3) with time zone"),
            "timestamp with time zone"
        );
        assert_eq!(super::strip_modifiers("integer"), "integer");
    }
}

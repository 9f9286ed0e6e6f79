//! SQLite catalogue: `sqlite_schema` joined with the table-valued pragmas
//! (`pragma_table_xinfo`, `pragma_index_list`, `pragma_foreign_key_list`) — three
//! queries for the whole database.

use super::{parse_default, Catalogue, RawColumn, RawForeignKey, RawTable};
use crate::db::{Db, DbError, Row};
use serde_json::Value as Json;
use std::collections::HashMap;

const COLUMNS: &str = r#"
SELECT m.name AS table_name, m.sql AS table_sql, p.cid AS cid, p.name AS column_name,
       p.type AS declared_type, p."notnull" AS not_null, p.dflt_value AS default_expr,
       p.pk AS pk, p.hidden AS hidden
FROM sqlite_schema m JOIN pragma_table_xinfo(m.name) p
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
ORDER BY m.name, p.cid
"#;

const INDEXES: &str = r#"
SELECT m.name AS table_name, il.name AS index_name, il."unique" AS is_unique, il.origin AS origin,
       il.partial AS is_partial,
       ii.name AS column_name, ii.seqno AS seqno
FROM sqlite_schema m JOIN pragma_index_list(m.name) il JOIN pragma_index_info(il.name) ii
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
ORDER BY m.name, il.name, ii.seqno
"#;

const FOREIGN_KEYS: &str = r#"
SELECT m.name AS table_name, f.id AS id, f.seq AS seq, f."table" AS foreign_table,
       f."from" AS column_name, f."to" AS foreign_column, f.on_update AS on_update,
       f.on_delete AS on_delete
FROM sqlite_schema m JOIN pragma_foreign_key_list(m.name) f
WHERE m.type = 'table'
ORDER BY m.name, f.id, f.seq
"#;

fn s(row: &Row, k: &str) -> Option<String> {
    row.get(k).and_then(Json::as_str).map(str::to_string)
}
fn i(row: &Row, k: &str) -> i64 {
    row.get(k).and_then(Json::as_i64).unwrap_or(0)
}

/// `varchar(255)` → (`varchar`, Some(255), None); `numeric(10,2)` → (`numeric`, 10, 2).
fn split_type(declared: &str) -> (String, Option<i64>, Option<i64>) {
    let lower = declared.trim().to_ascii_lowercase();
    match lower.find('(') {
        None => (lower, None, None),
        Some(i) => {
            let base = lower[..i].trim().to_string();
            let args: Vec<i64> = lower[i + 1..]
                .trim_end_matches(')')
                .split(',')
                .filter_map(|a| a.trim().parse().ok())
                .collect();
            (base, args.first().copied(), args.get(1).copied())
        }
    }
}

/// Whether a `CREATE TABLE` statement ends with the `WITHOUT ROWID` table option (after
/// the column list, possibly beside `STRICT`).
fn without_rowid(create_sql: &str) -> bool {
    let lower = create_sql.to_ascii_lowercase();
    let options = lower.rsplit_once(')').map_or("", |(_, rest)| rest);
    let words: Vec<&str> = options
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect();
    words.windows(2).any(|w| w == ["without", "rowid"])
}

pub(super) async fn read(db: &Db) -> Result<Catalogue, DbError> {
    let q = |text: &str| {
        let mut s = db.sql();
        s.push(text);
        s
    };
    let columns = db.fetch_all(&q(COLUMNS)).await?;
    let indexes = db.fetch_all(&q(INDEXES)).await?;
    let fks = db.fetch_all(&q(FOREIGN_KEYS)).await?;

    // index name → (table, unique, columns)
    let mut by_index: Vec<(String, String, bool, Vec<String>)> = Vec::new();
    for row in &indexes {
        let table = s(row, "table_name").unwrap_or_default();
        let name = s(row, "index_name").unwrap_or_default();
        let col = s(row, "column_name").unwrap_or_default();
        match by_index.last_mut() {
            Some(last) if last.0 == table && last.1 == name => last.3.push(col),
            // A partial unique index only constrains the rows it covers.
            _ => by_index.push((
                table,
                name,
                i(row, "is_unique") == 1 && i(row, "is_partial") == 0,
                vec![col],
            )),
        }
    }
    let mut unique: HashMap<(String, String), bool> = HashMap::new();
    for (table, _, is_unique, cols) in &by_index {
        if let Some(first) = cols.first() {
            let e = unique
                .entry((table.clone(), first.clone()))
                .or_insert(false);
            *e |= *is_unique && cols.len() == 1;
        }
    }

    let mut tables: Vec<RawTable> = Vec::new();
    let mut rowid_tables: HashMap<String, bool> = HashMap::new();
    let mut pk_order: HashMap<String, Vec<(i64, String)>> = HashMap::new();
    for row in &columns {
        let table = s(row, "table_name").unwrap_or_default();
        if tables.last().map(|t| &t.name) != Some(&table) {
            rowid_tables.insert(
                table.clone(),
                !without_rowid(&s(row, "table_sql").unwrap_or_default()),
            );
            tables.push(RawTable {
                name: table.clone(),
                ..Default::default()
            });
        }
        let name = s(row, "column_name").unwrap_or_default();
        let declared = s(row, "declared_type").unwrap_or_default();
        let (base, a, b) = split_type(&declared);
        let pk = i(row, "pk");
        if pk > 0 {
            pk_order
                .entry(table.clone())
                .or_default()
                .push((pk, name.clone()));
        }
        let numeric = matches!(
            base.as_str(),
            "integer" | "int" | "bigint" | "float" | "real" | "double" | "numeric" | "decimal"
        );
        let hidden = i(row, "hidden");
        let key = (table.clone(), name.clone());
        let t = tables.last_mut().expect("pushed above");
        t.columns.push(RawColumn {
            max_length: if matches!(
                base.as_str(),
                "varchar" | "char" | "character varying" | "nvarchar" | "nchar"
            ) {
                a
            } else {
                None
            },
            numeric_precision: if matches!(base.as_str(), "numeric" | "decimal") {
                a
            } else {
                None
            },
            numeric_scale: if matches!(base.as_str(), "numeric" | "decimal") {
                b
            } else {
                None
            },
            data_type: base.clone(),
            nullable: i(row, "not_null") == 0,
            default_value: parse_default(s(row, "default_expr").as_deref(), numeric),
            generated: hidden == 2 || hidden == 3,
            unique: unique.get(&key).copied().unwrap_or(false),
            indexed: unique.contains_key(&key),
            full_type: declared.to_ascii_lowercase(),
            base_type: base,
            name,
            ..Default::default()
        });
    }
    for t in &mut tables {
        let mut pk = pk_order.remove(&t.name).unwrap_or_default();
        pk.sort();
        t.primary_key = pk.into_iter().map(|(_, n)| n).collect();
        // A lone INTEGER PRIMARY KEY is the rowid, which numbers itself; a WITHOUT ROWID
        // table has no rowid, so there it is an ordinary column.
        let has_rowid = rowid_tables.get(&t.name).copied().unwrap_or(true);
        if let ([only], true) = (t.primary_key.as_slice(), has_rowid) {
            if let Some(c) = t.columns.iter_mut().find(|c| &c.name == only) {
                if c.base_type == "integer" {
                    c.auto_increment = true;
                }
            }
        }
    }

    // Group the pragma's rows by (table, id); only single-column keys become relations.
    let mut grouped: Vec<(String, i64, Vec<&Row>)> = Vec::new();
    for row in &fks {
        let table = s(row, "table_name").unwrap_or_default();
        let id = i(row, "id");
        match grouped.last_mut() {
            Some(last) if last.0 == table && last.1 == id => last.2.push(row),
            _ => grouped.push((table, id, vec![row])),
        }
    }
    let foreign_keys = grouped
        .into_iter()
        .filter(|(_, _, rows)| rows.len() == 1)
        .map(|(table, _, rows)| {
            let row = rows[0];
            let column = s(row, "column_name").unwrap_or_default();
            RawForeignKey {
                constraint_name: format!("{table}_{column}_foreign"),
                table,
                column,
                foreign_schema: None,
                foreign_table: s(row, "foreign_table").unwrap_or_default(),
                foreign_column: s(row, "foreign_column"),
                on_update: s(row, "on_update").unwrap_or_else(|| "NO ACTION".into()),
                on_delete: s(row, "on_delete").unwrap_or_else(|| "NO ACTION".into()),
            }
        })
        .collect();
    Ok(Catalogue {
        tables,
        foreign_keys,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn splits_declared_types() {
        assert_eq!(
            super::split_type("VARCHAR(255)"),
            ("varchar".into(), Some(255), None)
        );
        assert_eq!(
            super::split_type("numeric(10, 2)"),
            ("numeric".into(), Some(10), Some(2))
        );
        assert_eq!(super::split_type("text"), ("text".into(), None, None));
        assert_eq!(super::split_type(""), ("".into(), None, None));
    }

    #[test]
    fn recognises_without_rowid_tables() {
        assert!(super::without_rowid(
            "CREATE TABLE wr (id integer PRIMARY KEY, v text) WITHOUT ROWID"
        ));
        assert!(super::without_rowid(
            "create table t (id integer primary key)\n  strict,  without\trowid"
        ));
        assert!(!super::without_rowid(
            "CREATE TABLE t (id integer PRIMARY KEY, note text DEFAULT 'without rowid')"
        ));
        assert!(!super::without_rowid(
            "CREATE TABLE t (id integer PRIMARY KEY)"
        ));
    }
}

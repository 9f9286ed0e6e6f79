//! MySQL / MariaDB catalogue: `information_schema` for the current database, four
//! queries (columns, indexes, foreign keys, and MariaDB's `json_valid` checks that mark a
//! LONGTEXT as JSON).

use super::{parse_default, Catalogue, RawColumn, RawForeignKey, RawTable};
use crate::db::{Db, DbError, Row};
use serde_json::Value as Json;
use std::collections::{HashMap, HashSet};

const COLUMNS: &str = r#"
SELECT c.TABLE_NAME AS table_name, t.TABLE_COMMENT AS table_comment, c.COLUMN_NAME AS column_name,
       c.DATA_TYPE AS data_type, c.COLUMN_TYPE AS column_type, c.IS_NULLABLE AS is_nullable,
       c.COLUMN_DEFAULT AS column_default, c.CHARACTER_MAXIMUM_LENGTH AS max_length,
       c.NUMERIC_PRECISION AS numeric_precision, c.NUMERIC_SCALE AS numeric_scale,
       c.EXTRA AS extra, c.COLUMN_KEY AS column_key, c.COLUMN_COMMENT AS column_comment,
       c.GENERATION_EXPRESSION AS generation_expression
FROM information_schema.COLUMNS c
JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
WHERE c.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE'
ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION
"#;

const INDEXES: &str = r#"
SELECT TABLE_NAME AS table_name, INDEX_NAME AS index_name, NON_UNIQUE AS non_unique,
       SEQ_IN_INDEX AS seq, COLUMN_NAME AS column_name
FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = DATABASE()
ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX
"#;

const FOREIGN_KEYS: &str = r#"
SELECT k.CONSTRAINT_NAME AS constraint_name, k.TABLE_NAME AS table_name, k.COLUMN_NAME AS column_name,
       k.REFERENCED_TABLE_NAME AS foreign_table, k.REFERENCED_COLUMN_NAME AS foreign_column,
       r.UPDATE_RULE AS on_update, r.DELETE_RULE AS on_delete
FROM information_schema.KEY_COLUMN_USAGE k
JOIN information_schema.REFERENTIAL_CONSTRAINTS r
  ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME
WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL
ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION
"#;

/// MariaDB only (MySQL's CHECK_CONSTRAINTS has no TABLE_NAME, and MySQL has a real JSON
/// type, so the query failing there is expected and ignored).
const JSON_CHECKS: &str = r#"
SELECT TABLE_NAME AS table_name, CHECK_CLAUSE AS check_clause
FROM information_schema.CHECK_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = DATABASE() AND CHECK_CLAUSE LIKE 'json_valid(%'
"#;

fn s(row: &Row, k: &str) -> Option<String> {
    row.get(k).and_then(Json::as_str).map(str::to_string)
}
fn i(row: &Row, k: &str) -> Option<i64> {
    row.get(k).and_then(|v| {
        v.as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    })
}

/// MariaDB writes a string default as a literal with backslash escapes (`'a\\b'` for
/// `a\b`) besides doubled quotes; turns the escapes into the characters so the literal
/// only needs the standard `''` unquoting. Anything not a quoted literal is returned as is.
fn unescape_mariadb_literal(raw: &str) -> String {
    if raw.len() < 2 || !raw.starts_with('\'') || !raw.ends_with('\'') {
        return raw.to_string();
    }
    let inner = &raw[1..raw.len() - 1];
    let mut out = String::with_capacity(raw.len());
    out.push('\'');
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some('Z') => out.push('\u{1a}'),
            Some('\'') => out.push_str("''"),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out.push('\'');
    out
}

pub(super) async fn read(db: &Db) -> Result<Catalogue, DbError> {
    let q = |text: &str| {
        let mut s = db.sql();
        s.push(text);
        s
    };
    let version = db.fetch_optional(&q("SELECT VERSION() AS v")).await?;
    let mariadb = version
        .as_ref()
        .and_then(|r| s(r, "v"))
        .is_some_and(|v| v.to_ascii_lowercase().contains("mariadb"));
    let columns = db.fetch_all(&q(COLUMNS)).await?;
    let indexes = db.fetch_all(&q(INDEXES)).await?;
    let fks = db.fetch_all(&q(FOREIGN_KEYS)).await?;
    let json_checks: HashSet<(String, String)> = if mariadb {
        db.fetch_all(&q(JSON_CHECKS))
            .await
            .unwrap_or_default()
            .iter()
            .filter_map(|r| {
                let clause = s(r, "check_clause")?;
                let col = clause
                    .trim_start_matches("json_valid(")
                    .trim_end_matches(')')
                    .trim_matches('`')
                    .to_string();
                Some((s(r, "table_name")?, col))
            })
            .collect()
    } else {
        HashSet::new()
    };

    let mut by_index: Vec<(String, String, bool, Vec<String>)> = Vec::new();
    for row in &indexes {
        let table = s(row, "table_name").unwrap_or_default();
        let name = s(row, "index_name").unwrap_or_default();
        let col = s(row, "column_name").unwrap_or_default();
        match by_index.last_mut() {
            Some(last) if last.0 == table && last.1 == name => last.3.push(col),
            _ => by_index.push((table, name, i(row, "non_unique") == Some(0), vec![col])),
        }
    }
    let mut unique: HashMap<(String, String), bool> = HashMap::new();
    let mut primary: HashMap<String, Vec<String>> = HashMap::new();
    for (table, name, is_unique, cols) in &by_index {
        if name == "PRIMARY" {
            primary.insert(table.clone(), cols.clone());
        }
        if let Some(first) = cols.first() {
            let e = unique
                .entry((table.clone(), first.clone()))
                .or_insert(false);
            *e |= *is_unique && cols.len() == 1;
        }
    }

    let mut tables: Vec<RawTable> = Vec::new();
    for row in &columns {
        let table = s(row, "table_name").unwrap_or_default();
        if tables.last().map(|t| &t.name) != Some(&table) {
            tables.push(RawTable {
                name: table.clone(),
                schema: None,
                comment: s(row, "table_comment").filter(|c| !c.is_empty()),
                columns: Vec::new(),
                primary_key: primary.get(&table).cloned().unwrap_or_default(),
            });
        }
        let name = s(row, "column_name").unwrap_or_default();
        let base = s(row, "data_type").unwrap_or_default().to_ascii_lowercase();
        let full = s(row, "column_type")
            .unwrap_or_default()
            .to_ascii_lowercase();
        let extra = s(row, "extra").unwrap_or_default().to_ascii_lowercase();
        let numeric = matches!(
            base.as_str(),
            "int"
                | "tinyint"
                | "smallint"
                | "mediumint"
                | "bigint"
                | "float"
                | "double"
                | "decimal"
        );
        let raw_default = s(row, "column_default");
        // MariaDB reports defaults as SQL expressions (`'text'`, `NULL`); MySQL as bare
        // values. Quote MySQL's plain strings so both parse the same way.
        let default_expr = match (&raw_default, mariadb) {
            (Some(d), false)
                if !numeric
                    && !d.eq_ignore_ascii_case("current_timestamp")
                    && !extra.contains("default_generated") =>
            {
                Some(format!("'{}'", d.replace('\'', "''")))
            }
            (Some(d), true) => Some(unescape_mariadb_literal(d)),
            _ => raw_default.clone(),
        };
        let key = (table.clone(), name.clone());
        let t = tables.last_mut().expect("pushed above");
        t.columns.push(RawColumn {
            data_type: base.clone(),
            nullable: s(row, "is_nullable").as_deref() == Some("YES"),
            default_value: parse_default(default_expr.as_deref(), numeric),
            max_length: if matches!(base.as_str(), "varchar" | "char") {
                i(row, "max_length")
            } else {
                None
            },
            numeric_precision: i(row, "numeric_precision"),
            numeric_scale: i(row, "numeric_scale"),
            auto_increment: extra.contains("auto_increment"),
            generated: extra.contains("generated") && !extra.contains("default_generated"),
            generation_expression: s(row, "generation_expression").filter(|g| !g.is_empty()),
            unique: unique.get(&key).copied().unwrap_or(false),
            indexed: unique.contains_key(&key),
            comment: s(row, "column_comment").filter(|c| !c.is_empty()),
            json_check: json_checks.contains(&key),
            name,
            base_type: base,
            full_type: full,
        });
    }

    let mut grouped: Vec<(String, String, Vec<&Row>)> = Vec::new();
    for row in &fks {
        let table = s(row, "table_name").unwrap_or_default();
        let name = s(row, "constraint_name").unwrap_or_default();
        match grouped.last_mut() {
            Some(last) if last.0 == table && last.1 == name => last.2.push(row),
            _ => grouped.push((table, name, vec![row])),
        }
    }
    let foreign_keys = grouped
        .into_iter()
        .filter(|(_, _, rows)| rows.len() == 1)
        .map(|(table, name, rows)| RawForeignKey {
            constraint_name: name,
            table,
            column: s(rows[0], "column_name").unwrap_or_default(),
            foreign_schema: None,
            foreign_table: s(rows[0], "foreign_table").unwrap_or_default(),
            foreign_column: s(rows[0], "foreign_column"),
            on_update: s(rows[0], "on_update").unwrap_or_else(|| "NO ACTION".into()),
            on_delete: s(rows[0], "on_delete").unwrap_or_else(|| "NO ACTION".into()),
        })
        .collect();
    Ok(Catalogue {
        tables,
        foreign_keys,
    })
}

#[cfg(test)]
mod tests {
    use super::unescape_mariadb_literal as u;

    #[test]
    fn unescapes_mariadb_default_literals() {
        assert_eq!(u(r"'a\\b'"), r"'a\b'");
        assert_eq!(u("'it''s'"), "'it''s'");
        assert_eq!(u(r"'it\'s'"), "'it''s'");
        assert_eq!(u(r"'line\nnext'"), "'line\nnext'");
        assert_eq!(u("''"), "''");
        assert_eq!(u("NULL"), "NULL");
        assert_eq!(u("current_timestamp()"), "current_timestamp()");
        assert_eq!(u("-1.5"), "-1.5");
        let parsed = super::parse_default(Some(&u(r"'a\\b'")), false);
        assert_eq!(parsed, serde_json::json!("a\\b"));
    }
}

//! SQLite's table rebuild. SQLite cannot change a column's type, nullability or default,
//! nor add a foreign key to an existing table; the documented way ("Making Other Kinds Of
//! Table Schema Changes") is to create the new table, copy the rows, drop the old table
//! and rename the new one, with foreign keys off (see `Db::sqlite_rebuild`).
//!
//! The table definition is read from SQLite's own pragmas, so untouched columns keep
//! their declared type and default text exactly, and foreign keys and indexes survive.

use super::SchemaError;
use crate::db::{Db, Dialect, Row};
use crate::schema::ddl::{self, ColumnSpec, ForeignKeySpec};
use crate::schema::types::{field_type_of, ColumnType};
use crate::schema::Schema;
use serde_json::Value as Json;

/// A table as SQLite declares it.
#[derive(Debug, Clone)]
pub(super) struct TableDef {
    pub name: String,
    pub columns: Vec<ColumnSpec>,
    pub foreign_keys: Vec<ForeignKeySpec>,
    /// Indexes that are not part of a column definition: `(name, columns, CREATE text)`.
    pub indexes: Vec<(String, Vec<String>, String)>,
}

impl TableDef {
    pub fn column_mut(&mut self, name: &str) -> Option<&mut ColumnSpec> {
        self.columns.iter_mut().find(|c| c.name == name)
    }
}

/// One index as the pragmas list it: name, origin (`pk`, `u`, `c`), unique, columns,
/// and its CREATE text (none for constraint indexes).
type IndexRows = (String, String, bool, Vec<String>, Option<String>);

fn text(row: &Row, key: &str) -> Option<String> {
    row.get(key).and_then(Json::as_str).map(str::to_string)
}
fn int(row: &Row, key: &str) -> i64 {
    row.get(key).and_then(Json::as_i64).unwrap_or(0)
}

/// The foreign key name Rectus uses (and SQLite introspection reports).
pub(super) fn fk_name(table: &str, column: &str) -> String {
    let name = format!("{table}_{column}_foreign");
    if name.len() <= crate::schema::names::MAX_NAME_LEN {
        return name;
    }
    // Too long for PostgreSQL and MySQL identifiers: a stable short form.
    let mut h: u64 = 0xcbf29ce484222325;
    for b in name.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x100000001b3);
    }
    format!("{}_{h:016x}_foreign", &table[..table.len().min(30)])
}

pub(super) async fn read(db: &Db, schema: &Schema, table: &str) -> Result<TableDef, SchemaError> {
    let mut q = db.sql();
    q.push(
        "SELECT name, type, \"notnull\" AS not_null, dflt_value, pk, hidden \
         FROM pragma_table_xinfo(",
    )
    .bind(table)
    .push(") ORDER BY cid");
    let cols = db.fetch_all(&q).await?;
    let mut q = db.sql();
    q.push(
        "SELECT il.name AS index_name, il.origin AS origin, il.\"unique\" AS is_unique, \
         ii.name AS column_name, s.sql AS sql \
         FROM pragma_index_list(",
    )
    .bind(table)
    .push(
        ") il JOIN pragma_index_info(il.name) ii \
         LEFT JOIN sqlite_schema s ON s.type = 'index' AND s.name = il.name \
         ORDER BY il.name, ii.seqno",
    );
    let index_rows = db.fetch_all(&q).await?;
    let mut q = db.sql();
    q.push(
        "SELECT id, seq, \"table\" AS foreign_table, \"from\" AS column_name, \
         \"to\" AS foreign_column, on_update, on_delete FROM pragma_foreign_key_list(",
    )
    .bind(table)
    .push(") ORDER BY id, seq");
    let fk_rows = db.fetch_all(&q).await?;

    let pk: Vec<String> = {
        let mut pk: Vec<(i64, String)> = cols
            .iter()
            .filter(|r| int(r, "pk") > 0)
            .map(|r| (int(r, "pk"), text(r, "name").unwrap_or_default()))
            .collect();
        pk.sort();
        pk.into_iter().map(|(_, n)| n).collect()
    };

    // Group index rows by index.
    let mut indexes: Vec<IndexRows> = Vec::new();
    for r in &index_rows {
        let name = text(r, "index_name").unwrap_or_default();
        let col = text(r, "column_name").unwrap_or_default();
        match indexes.last_mut() {
            Some(last) if last.0 == name => last.3.push(col),
            _ => indexes.push((
                name,
                text(r, "origin").unwrap_or_default(),
                int(r, "is_unique") == 1,
                vec![col],
                text(r, "sql"),
            )),
        }
    }

    let mut columns = Vec::new();
    for r in &cols {
        let name = text(r, "name").unwrap_or_default();
        if matches!(int(r, "hidden"), 2 | 3) {
            return Err(SchemaError::Invalid(format!(
                "\"{table}\" has generated columns, which cannot be changed on SQLite"
            )));
        }
        let declared = text(r, "type").unwrap_or_default();
        let base = declared
            .split('(')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let field_type = field_type_of(
            Dialect::Sqlite,
            ColumnType {
                base: &base,
                full: &declared,
            },
        );
        let mut spec = ColumnSpec::new(&name, field_type);
        spec.raw_type = Some(declared);
        spec.raw_default = text(r, "dflt_value");
        spec.nullable = int(r, "not_null") == 0;
        if pk.contains(&name) {
            spec.primary_key = true;
            if pk.len() == 1 && base == "integer" {
                spec.auto_increment = true;
            }
        }
        spec.unique = indexes.iter().any(|(_, origin, unique, cols, _)| {
            origin == "u" && *unique && cols.as_slice() == std::slice::from_ref(&name)
        });
        columns.push(spec);
    }

    let mut other_indexes = Vec::new();
    for (name, origin, _, cols, sql) in indexes {
        match (origin.as_str(), sql) {
            ("pk", _) => {}
            ("u", _) if cols.len() == 1 => {}
            ("u", _) => {
                // A multi-column UNIQUE constraint: kept as a unique index.
                let quoted: Vec<String> = cols.iter().map(|c| Dialect::Sqlite.quote(c)).collect();
                let idx = format!("{table}_{}_unique", cols.join("_"));
                other_indexes.push((
                    idx.clone(),
                    cols,
                    format!(
                        "CREATE UNIQUE INDEX {} ON {} ({})",
                        Dialect::Sqlite.quote(&idx),
                        Dialect::Sqlite.quote(table),
                        quoted.join(", ")
                    ),
                ));
            }
            (_, Some(sql)) => other_indexes.push((name, cols, sql)),
            (_, None) => {}
        }
    }

    let mut foreign_keys = Vec::new();
    let mut i = 0;
    while i < fk_rows.len() {
        let id = int(&fk_rows[i], "id");
        let group: Vec<&Row> = fk_rows[i..]
            .iter()
            .take_while(|r| int(r, "id") == id)
            .collect();
        i += group.len();
        if group.len() != 1 {
            return Err(SchemaError::Invalid(format!(
                "\"{table}\" has a multi-column foreign key, which cannot be kept when changing it on SQLite"
            )));
        }
        let r = group[0];
        let column = text(r, "column_name").unwrap_or_default();
        let foreign_table = text(r, "foreign_table").unwrap_or_default();
        let foreign_column = match text(r, "foreign_column") {
            Some(c) => c,
            None => schema
                .collection(&foreign_table)
                .and_then(|c| c.primary_key())
                .map(str::to_string)
                .ok_or_else(|| {
                    SchemaError::Invalid(format!(
                        "the foreign key on \"{table}.{column}\" names no column"
                    ))
                })?,
        };
        foreign_keys.push(ForeignKeySpec {
            name: fk_name(table, &column),
            column,
            foreign_table,
            foreign_column,
            on_delete: text(r, "on_delete").unwrap_or_else(|| "NO ACTION".into()),
            on_update: text(r, "on_update").unwrap_or_else(|| "NO ACTION".into()),
        });
    }

    Ok(TableDef {
        name: table.to_string(),
        columns,
        foreign_keys,
        indexes: other_indexes,
    })
}

/// The statements that turn table `from` into `to` (same name), and those that turn it
/// back. Columns present in both keep their values; new columns take their default.
pub(super) fn statements(
    from: &TableDef,
    to: &TableDef,
) -> Result<(Vec<String>, Vec<String>), SchemaError> {
    Ok((one_way(from, to)?, one_way(to, from)?))
}

fn one_way(from: &TableDef, to: &TableDef) -> Result<Vec<String>, SchemaError> {
    let d = Dialect::Sqlite;
    let tmp = format!("rectus_rebuild_{}", to.name);
    let mut out = vec![ddl::create_table(d, &tmp, &to.columns, &to.foreign_keys)?];
    let shared: Vec<String> = to
        .columns
        .iter()
        .filter(|c| from.columns.iter().any(|f| f.name == c.name))
        .map(|c| d.quote(&c.name))
        .collect();
    if !shared.is_empty() {
        out.push(format!(
            "INSERT INTO {} ({cols}) SELECT {cols} FROM {}",
            d.quote(&tmp),
            d.quote(&from.name),
            cols = shared.join(", ")
        ));
    }
    out.push(ddl::drop_table(d, &from.name));
    out.push(format!(
        "ALTER TABLE {} RENAME TO {}",
        d.quote(&tmp),
        d.quote(&to.name)
    ));
    for (_, cols, sql) in &to.indexes {
        if cols
            .iter()
            .all(|c| to.columns.iter().any(|col| &col.name == c))
        {
            out.push(sql.clone());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::FieldType;

    fn table(columns: Vec<ColumnSpec>) -> TableDef {
        TableDef {
            name: "orders".into(),
            columns,
            foreign_keys: Vec::new(),
            indexes: vec![(
                "orders_note_idx".into(),
                vec!["note".into()],
                "CREATE INDEX \"orders_note_idx\" ON \"orders\" (\"note\")".into(),
            )],
        }
    }

    #[test]
    fn rebuild_copies_shared_columns_and_keeps_indexes() {
        let mut id = ColumnSpec::new("id", FieldType::Integer).auto_increment();
        id.raw_type = Some("integer".into());
        let mut note = ColumnSpec::new("note", FieldType::Text);
        note.raw_type = Some("TEXT".into());
        note.raw_default = Some("'x'".into());
        let from = table(vec![id.clone(), note.clone()]);
        let mut to = from.clone();
        to.columns
            .push(ColumnSpec::new("qty", FieldType::Integer).default(serde_json::json!(1)));
        to.foreign_keys.push(ForeignKeySpec {
            name: fk_name("orders", "qty"),
            column: "qty".into(),
            foreign_table: "stock".into(),
            foreign_column: "id".into(),
            on_delete: "SET NULL".into(),
            on_update: "NO ACTION".into(),
        });
        let (forward, undo) = statements(&from, &to).unwrap();
        assert_eq!(
            forward,
            vec![
                "CREATE TABLE \"rectus_rebuild_orders\" (\n  \"id\" integer PRIMARY KEY AUTOINCREMENT,\n  \"note\" TEXT DEFAULT 'x',\n  \"qty\" integer DEFAULT 1,\n  CONSTRAINT \"orders_qty_foreign\" FOREIGN KEY (\"qty\") REFERENCES \"stock\" (\"id\") ON DELETE SET NULL ON UPDATE NO ACTION\n)".to_string(),
                "INSERT INTO \"rectus_rebuild_orders\" (\"id\", \"note\") SELECT \"id\", \"note\" FROM \"orders\"".into(),
                "DROP TABLE \"orders\"".into(),
                "ALTER TABLE \"rectus_rebuild_orders\" RENAME TO \"orders\"".into(),
                "CREATE INDEX \"orders_note_idx\" ON \"orders\" (\"note\")".into(),
            ]
        );
        // The way back leaves the new column and its key out.
        assert!(undo[0].contains("\"note\" TEXT DEFAULT 'x'") && !undo[0].contains("qty"));
        // An index on a dropped column is not recreated.
        let mut without_note = from.clone();
        without_note.columns.retain(|c| c.name != "note");
        let (forward, _) = statements(&from, &without_note).unwrap();
        assert!(!forward.iter().any(|s| s.contains("orders_note_idx")));
    }

    #[test]
    fn long_foreign_key_names_are_shortened_stably() {
        let long = "a".repeat(60);
        let name = fk_name(&long, "customer");
        assert!(name.len() <= crate::schema::names::MAX_NAME_LEN, "{name}");
        assert_eq!(name, fk_name(&long, "customer"));
        assert_ne!(name, fk_name(&long, "customer2"));
        assert_eq!(fk_name("orders", "customer"), "orders_customer_foreign");
    }
}

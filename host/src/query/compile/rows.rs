//! The list read as rows: one result column per top-level key, for the host to write as
//! JSON (`db::Db::fetch_json_array`), instead of one row holding the array the database
//! built. Building JSON is most of a database's work on a plain list (see
//! `db/json_rows.rs`), so the top level — by far the most rows — is left to Rust.
//! Many-to-one relations are `LEFT JOIN`ed to the page's rows and written as nested objects
//! from their columns; one-to-many and many-to-any are still JSON subqueries of the same
//! statement: one statement per read either way.
//!
//! `meta` counts and aggregates keep the one-row shape of [`super::compile_read`]: their
//! counts must come back even when the page is empty.

use super::{
    col, join_path, json, refuse_group_by_alone, servable, CompileError, Compiler, Node, Output,
    ReadOptions, Relation,
};
use crate::db::{Cell, CellKind, Dialect, Sql};
use crate::query::Query;
use crate::schema::{Field, FieldType, Schema};

/// A list read in the rows shape: the statement and, per column, how to write it.
#[derive(Debug)]
pub struct RowsRead {
    pub sql: Sql,
    pub cells: Vec<Cell>,
}

/// Compiles a list read of `collection` into the rows shape. The query must not ask for
/// `meta` or `aggregate` (those need [`super::compile_read`]).
pub fn compile_rows<'s>(
    schema: &'s Schema,
    collection: &str,
    query: &Query,
    opts: &'s ReadOptions,
) -> Result<RowsRead, CompileError> {
    debug_assert!(query.meta.is_empty() && query.aggregate.is_empty());
    let c = servable(schema, collection)?;
    refuse_group_by_alone(query)?;
    let mut compiler = Compiler::new(schema, opts);
    let d = compiler.dialect;
    let node = compiler.resolve(c, query)?;
    let alias = compiler.alias();
    let mut columns = Columns {
        compiler: &mut compiler,
        select: Sql::new(d),
        joins: Sql::new(d),
        count: 0,
    };
    let cells = columns.of(&node, &alias, "")?;
    let (mut select, joins) = (columns.select, columns.joins);
    if cells.is_empty() {
        select.push("NULL");
    }

    let order = compiler.order_by(c, &alias, &query.sort)?;
    let inner = compiler.page(c, &alias, query, &order)?;

    let mut sql = Sql::new(d);
    sql.push("SELECT ")
        .append(&select)
        .push(" FROM (")
        .append(&inner)
        .push(") ")
        .push(&alias)
        .append(&joins)
        .push(" ORDER BY ")
        .append(&order);
    Ok(RowsRead { sql, cells })
}

/// The select list of the rows shape, built level by level.
struct Columns<'c, 's> {
    compiler: &'c mut Compiler<'s>,
    select: Sql,
    /// Many-to-one relations joined to the page's rows (`LEFT JOIN … ON key = fk`).
    joins: Sql,
    count: usize,
}

impl<'s> Columns<'_, 's> {
    fn push(&mut self, expr: &Sql) {
        if self.count > 0 {
            self.select.push(", ");
        }
        self.select.append(expr);
        self.count += 1;
    }

    /// The cells of one object of `node`, whose row is `alias`.
    ///
    /// A many-to-one is joined: its related row is `LEFT JOIN`ed once to the page's rows
    /// and its values become columns, which PostgreSQL answers in well under the time of
    /// one JSON subquery per row. Everything else that nests (one-to-many, many-to-any)
    /// stays a JSON subquery, evaluated per row of the page.
    fn of(&mut self, node: &Node<'s>, alias: &str, path: &str) -> Result<Vec<Cell>, CompileError> {
        let d = self.compiler.dialect;
        let mut cells = Vec::with_capacity(node.outputs.len());
        for out in &node.outputs {
            let kind = match out {
                Output::Column { field, .. } => {
                    let (expr, kind) = column_value(d, field, &col(d, alias, &field.name));
                    let mut sql = Sql::new(d);
                    sql.push(&expr);
                    self.push(&sql);
                    kind
                }
                Output::Function { .. } | Output::Count { .. } => {
                    let expr = self.compiler.output_expr(out, alias, path)?;
                    self.push(&expr);
                    CellKind::Auto
                }
                Output::ToOne {
                    key,
                    relation: relation @ Relation::ToOne { related_pk, .. },
                    node,
                } => {
                    let a = self.compiler.alias();
                    let source = self.compiler.source(relation.related());
                    self.joins
                        .push(" LEFT JOIN ")
                        .append(&source)
                        .push(" ")
                        .push(&a)
                        .push(" ON ")
                        .push(&relation.join(d, alias, &a));
                    // NULL when there is no related row: the object is null.
                    let mut present = Sql::new(d);
                    present.push(&col(d, &a, related_pk));
                    self.push(&present);
                    CellKind::Object(self.of(node, &a, &join_path(path, key))?)
                }
                _ => {
                    let expr = self.compiler.output_expr(out, alias, path)?;
                    let mut sql = Sql::new(d);
                    match d {
                        // `json` to text; the other two hand JSON over as text already.
                        Dialect::Postgres => sql.push("(").append(&expr).push(")::text"),
                        Dialect::Sqlite | Dialect::MySql => sql.append(&expr),
                    };
                    self.push(&sql);
                    CellKind::Json
                }
            };
            cells.push(Cell::new(out.key(), kind));
        }
        Ok(cells)
    }
}

/// PostgreSQL column types whose binary wire value `db::json_rows` writes itself, in the
/// same text PostgreSQL's JSON functions would produce. Anything else goes through
/// `to_json` in the statement.
const PG_PLAIN_TYPES: &[&str] = &[
    "integer",
    "int4",
    "smallint",
    "int2",
    "real",
    "float4",
    "double precision",
    "float8",
    "boolean",
    "bool",
    "text",
    "character varying",
    "varchar",
    "character",
    "bpchar",
    "uuid",
    "date",
    "timestamp with time zone",
    "timestamptz",
    "timestamp without time zone",
    "timestamp",
];

/// The select-list expression for a plain column, and how its value is written.
fn column_value(d: Dialect, field: &Field, col: &str) -> (String, CellKind) {
    use FieldType as T;
    let ty = field.field_type;
    let formatted = || json::value(d, ty, col);
    match (d, ty) {
        (_, T::Binary) => ("NULL".into(), CellKind::Json),
        (_, T::Hash | T::Decimal | T::BigInteger) => (formatted(), CellKind::Text),
        (_, T::Csv) | (Dialect::MySql | Dialect::Sqlite, T::Json) => {
            let expr = match (d, ty) {
                (Dialect::Postgres, _) => format!("to_json({})::text", formatted()),
                // Text that is not JSON is a JSON string, as in the one-row shape.
                (Dialect::Sqlite, T::Json) => format!(
                    "CASE WHEN json_valid({col}) THEN json({col}) ELSE json_quote({col}) END"
                ),
                _ => formatted(),
            };
            (expr, CellKind::Json)
        }
        (Dialect::Postgres, T::Json) => (format!("{col}::text"), CellKind::Json),
        (Dialect::Postgres, _) => {
            let data_type = field.column.as_ref().map(|c| c.data_type.as_str());
            let plain = data_type.is_some_and(|t| PG_PLAIN_TYPES.contains(&t));
            let timestamp_with_zone =
                data_type.is_some_and(|t| t == "timestamp with time zone" || t == "timestamptz");
            match ty {
                // Written from the driver's value (no per-row `to_char`), when the column
                // really is of the type the field says.
                T::Timestamp if timestamp_with_zone => (col.to_string(), CellKind::Auto),
                T::DateTime if plain && !timestamp_with_zone => (col.to_string(), CellKind::Auto),
                T::Timestamp | T::DateTime => (formatted(), CellKind::Text),
                _ if plain => (col.to_string(), CellKind::Auto),
                _ => (format!("to_json({})::text", formatted()), CellKind::Json),
            }
        }
        (Dialect::Sqlite, T::Boolean) => (
            format!("CASE WHEN {col} IS NULL THEN NULL WHEN {col} THEN 1 ELSE 0 END"),
            CellKind::Bool,
        ),
        (Dialect::MySql, T::Boolean) => (col.to_string(), CellKind::Bool),
        (_, T::Timestamp | T::DateTime | T::Date | T::Time) if d == Dialect::MySql => {
            (formatted(), CellKind::Text)
        }
        (Dialect::Sqlite, T::Timestamp | T::DateTime) => (formatted(), CellKind::Text),
        _ => (col.to_string(), CellKind::Auto),
    }
}

//! Reading through a caller's permissions. `access/` decides what a caller may read and
//! hands the compiler two things: the schema reduced to the readable collections, fields
//! and relations (so every name in a query resolves only to what may be read), and per
//! collection a [`RowView`]. Wherever the statement reads such a collection — the root,
//! many-to-one and one-to-many subqueries, many-to-any branches, relational filters,
//! sorts, counts — it reads a derived table instead of the table:
//!
//! ```sql
//! (SELECT p0."id", p0."amount", CASE WHEN (<rule 0>) THEN p0."email" END AS "email"
//!    FROM "orders" p0 WHERE (<rule 0>) OR (<rule 1>))
//! ```
//!
//! so rows no rule matches do not exist for the query, and a field granted only by some
//! rules is NULL on rows none of those rules match — for output, filters, search, sort
//! and aggregates alike. The databases merge such derived tables into the outer query
//! (PostgreSQL subquery pull-up, SQLite flattening, MariaDB `derived_merge`), so it
//! stays one statement with plain predicates.
//!
//! Permission filters are compiled against the full schema (a rule may test fields the
//! caller can't read, as in Directus). A rule that no longer compiles (it names a field
//! that was dropped) matches no row, with a warning, instead of failing the request.

use super::{CompileError, Compiler};
use crate::db::{Dialect, Sql};
use crate::query::Filter;
use crate::schema::{Collection, Schema};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;

/// What a caller may read, as the compiler applies it.
#[derive(Debug, Clone)]
pub struct ReadAccess {
    /// The unrestricted snapshot the permission filters are compiled against.
    pub full: Arc<Schema>,
    /// The collections whose rows or fields depend on the row.
    pub rows: Arc<HashMap<String, RowView>>,
}

/// One collection's read rules.
#[derive(Debug, Clone, PartialEq)]
pub struct RowView {
    /// Each distinct rule's row filter, caller variables substituted (`None`: every row).
    pub rules: Vec<Option<Filter>>,
    /// Fields visible only where some rules match: the field and those rules' indexes.
    pub masked: Vec<(String, Vec<usize>)>,
}

impl<'s> Compiler<'s> {
    /// The source of `c`'s rows in a FROM clause: the table, or the caller's view of it.
    pub(super) fn source(&mut self, c: &Collection) -> Sql {
        let d = self.dialect;
        let mut out = Sql::new(d);
        let Some(access) = self.access else {
            out.ident(&c.name);
            return out;
        };
        let (Some(view), Some(full)) = (access.rows.get(&c.name), access.full.collection(&c.name))
        else {
            out.ident(&c.name);
            return out;
        };
        let p = format!("p{}", self.next_alias);
        self.next_alias += 1;
        // Each rule compiled once: `None` for an unfiltered rule.
        let mut rules: Vec<Option<Sql>> = Vec::with_capacity(view.rules.len());
        for rule in &view.rules {
            rules.push(rule.as_ref().map(|f| self.rule(&access.full, full, &p, f)));
        }
        let any = |idx: &mut dyn Iterator<Item = usize>| -> Option<Sql> {
            let mut s = Sql::new(d);
            s.push("(");
            for (n, i) in idx.enumerate() {
                if n > 0 {
                    s.push(" OR ");
                }
                s.push("(").append(rules[i].as_ref()?).push(")");
            }
            s.push(")");
            Some(s)
        };
        out.push("(SELECT ");
        if view.masked.is_empty() {
            out.push(&p).push(".*");
        } else {
            let mut first = true;
            for f in full.fields.values().filter(|f| f.column.is_some()) {
                if !first {
                    out.push(", ");
                }
                first = false;
                let column = super::col(d, &p, &f.name);
                match view.masked.iter().find(|(name, _)| *name == f.name) {
                    Some((_, granting)) => {
                        let cond = any(&mut granting.iter().copied()).unwrap_or_else(|| {
                            let mut t = Sql::new(d);
                            t.push("1 = 1");
                            t
                        });
                        out.push("CASE WHEN ")
                            .append(&cond)
                            .push(" THEN ")
                            .push(&column)
                            .push(" END AS ")
                            .ident(&f.name);
                    }
                    None => {
                        out.push(&column);
                    }
                }
            }
        }
        out.push(" FROM ").ident(&c.name).push(" ").push(&p);
        if let Some(cond) = any(&mut (0..rules.len())) {
            out.push(" WHERE ").append(&cond);
        }
        out.push(")");
        out
    }

    /// One permission filter on the table aliased `alias`, compiled against the full
    /// schema without the caller's views (a permission is not itself restricted).
    fn rule(&mut self, full: &Schema, c: &Collection, alias: &str, filter: &Filter) -> Sql {
        let mut sub = Compiler {
            schema: full,
            dialect: self.dialect,
            max_depth: usize::MAX / 2,
            default_limit: self.default_limit,
            now: self.now,
            next_alias: self.next_alias,
            access: None,
        };
        let result = sub.filter(c, alias, filter, "", 0);
        self.next_alias = sub.next_alias;
        result.unwrap_or_else(|e| {
            tracing::warn!(collection = %c.name, "a permission filter can't be applied ({e}); it matches no row");
            never(self.dialect)
        })
    }
}

/// The collection a field of `collection` leads to in the unrestricted schema, when the
/// caller's schema has no such relation (the related collection is not readable).
pub(super) fn hidden_relation(
    full: Option<&Schema>,
    collection: &Collection,
    field: &str,
) -> Option<String> {
    let full = full?;
    let c = full.collection(&collection.name)?;
    super::Relation::of(full, c, field).map(|r| r.related().name.clone())
}

fn never(d: Dialect) -> Sql {
    let mut s = Sql::new(d);
    s.push("1 = 0");
    s
}

/// `filter` on rows of `collection` aliased `alias`, as a predicate (for checking which
/// targeted items a write may reach). Errors as [`Compiler::filter`].
pub fn compile_condition(
    schema: &Schema,
    collection: &Collection,
    alias: &str,
    filter: &Filter,
    now: DateTime<Utc>,
) -> Result<Sql, CompileError> {
    let mut c = Compiler {
        schema,
        dialect: schema.dialect,
        max_depth: usize::MAX / 2,
        default_limit: 100,
        now,
        next_alias: 0,
        access: None,
    };
    c.filter(collection, alias, filter, "", 0)
}

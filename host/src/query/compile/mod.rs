//! Compiling a read query into ONE SQL statement per request, relations included: the
//! database builds the whole JSON document (`json_build_object`/`json_agg` on PostgreSQL,
//! `json_object`/`json_group_array` on SQLite, `JSON_OBJECT`/`JSON_ARRAYAGG` on MariaDB),
//! so the host streams one text value into the response and there is no N+1.
//!
//! Statement shape (PostgreSQL; the others differ only in function names):
//!
//! ```sql
//! SELECT coalesce(json_agg(q.j ORDER BY q.n), '[]')::text AS data
//! FROM (SELECT json_build_object('id', t0."id", 'customer',
//!                (SELECT json_build_object(…) FROM "customers" t1 WHERE t1."id" = t0."customer")) AS j,
//!              row_number() OVER (ORDER BY t0."amount" DESC) AS n
//!       FROM "orders" t0 WHERE … ORDER BY t0."amount" DESC LIMIT $k OFFSET $m) q
//! ```
//!
//! One-to-many children are a correlated subquery per parent with its own order and
//! limit: a derived table with `row_number()` on PostgreSQL and SQLite, an ordered and
//! limited `JSON_ARRAYAGG` on MariaDB (which refuses correlated derived tables).
//!
//! Values are bound parameters (JSON keys included); identifiers come from the schema.

mod access;
mod aggregate;
mod json;
mod predicate;
mod rows;
mod select;

pub use access::{compile_condition, ReadAccess, RowView};
pub use rows::{compile_rows, RowsRead};
pub use select::{Node, Output};

use crate::db::{Dialect, Sql};
use crate::query::{split_function, Meta, Query, Sort};
use crate::schema::{Collection, FieldType, Schema};
use chrono::{DateTime, Utc};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CompileError {
    /// A collection or field that does not exist (or may not be read): `403 FORBIDDEN`,
    /// so that existence does not leak.
    #[error("{0}")]
    Forbidden(String),
    /// A query that cannot be run as asked: `400 INVALID_QUERY`.
    #[error("{0}")]
    Invalid(String),
}

impl CompileError {
    pub fn collection_forbidden(name: &str) -> Self {
        CompileError::Forbidden(format!(
            "You don't have permission to access collection \"{name}\" or it does not exist. Queried in root."
        ))
    }

    pub fn field_forbidden(field: &str, collection: &str, path: &str) -> Self {
        let at = if path.is_empty() {
            "root".to_string()
        } else {
            format!("\"{path}\"")
        };
        CompileError::Forbidden(format!(
            "You don't have permission to access field \"{field}\" in collection \"{collection}\" or it does not exist. Queried in {at}."
        ))
    }
}

/// How a field leads to other items.
#[derive(Debug, Clone, Copy)]
pub enum Relation<'s> {
    /// `collection.field` holds the key of one `related` item.
    ToOne {
        field: &'s str,
        related: &'s Collection,
        related_pk: &'s str,
    },
    /// Items of `child` whose `fk` holds our `pk`.
    ToMany {
        child: &'s Collection,
        fk: &'s str,
        pk: &'s str,
    },
}

impl<'s> Relation<'s> {
    /// The relation a field of `collection` stands for, if any (and if both ends can be
    /// served: they exist and have a single-column primary key).
    pub fn of(schema: &'s Schema, collection: &'s Collection, field: &str) -> Option<Relation<'s>> {
        if let Some(r) = schema.relation(&collection.name, field) {
            let related = schema.collection(r.related_collection.as_deref()?)?;
            let related_pk = related.primary_key()?;
            let field = collection.fields.get_key_value(field)?.0.as_str();
            return Some(Relation::ToOne {
                field,
                related,
                related_pk,
            });
        }
        let r = schema.relations.iter().find(|r| {
            r.related_collection.as_deref() == Some(collection.name.as_str())
                && r.one_field() == Some(field)
        })?;
        let child = schema.collection(&r.collection)?;
        child.primary_key()?;
        Some(Relation::ToMany {
            child,
            fk: r.field.as_str(),
            pk: collection.primary_key()?,
        })
    }

    pub fn related(&self) -> &'s Collection {
        match self {
            Relation::ToOne { related, .. } => related,
            Relation::ToMany { child, .. } => child,
        }
    }

    /// The join condition between the parent row (`parent`) and the related row (`related`).
    pub fn join(&self, d: Dialect, parent: &str, related: &str) -> String {
        match self {
            Relation::ToOne {
                field, related_pk, ..
            } => format!(
                "{} = {}",
                col(d, related, related_pk),
                col(d, parent, field)
            ),
            Relation::ToMany { fk, pk, .. } => {
                format!("{} = {}", col(d, related, fk), col(d, parent, pk))
            }
        }
    }
}

/// A many-to-any's item field (Directus's a2o): `collection.field` holds the key of an
/// item of the collection named in `collection.collection_field`, one of `allowed`
/// (`one_allowed_collections`). The junction of an m2a has one.
#[derive(Debug, Clone)]
pub struct AnyRelation<'s> {
    pub field: &'s str,
    pub collection_field: &'s str,
    /// The item column's type.
    pub item_type: FieldType,
    /// The allowed collections that exist and can be served (single-column key).
    pub allowed: Vec<&'s Collection>,
}

impl<'s> AnyRelation<'s> {
    /// The a2o relation of `collection.field`: a relation row with no `one_collection`
    /// but a `one_collection_field`.
    pub fn of(
        schema: &'s Schema,
        collection: &'s Collection,
        field: &str,
    ) -> Option<AnyRelation<'s>> {
        let r = schema.relation(&collection.name, field)?;
        if r.related_collection.is_some() {
            return None;
        }
        let meta = r.meta.as_ref()?;
        let cf = meta.get("one_collection_field")?.as_str()?;
        let collection_field = collection.fields.get_key_value(cf)?.0.as_str();
        let (field, item) = collection.fields.get_key_value(field)?;
        let field = field.as_str();
        let names: Vec<String> = match meta.get("one_allowed_collections") {
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            Some(serde_json::Value::String(s)) => s
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        };
        let allowed = names
            .iter()
            .filter_map(|n| schema.collection(n))
            .filter(|c| c.primary_key().is_some())
            .collect();
        Some(AnyRelation {
            field,
            collection_field,
            item_type: item.field_type,
            allowed,
        })
    }

    /// The allowed collection `name`: a collection that does not exist is `403` (as any
    /// unknown name), one the relation does not allow is `400`.
    pub fn target(&self, schema: &Schema, name: &str) -> Result<&'s Collection, CompileError> {
        if let Some(c) = self.allowed.iter().find(|c| c.name == name) {
            return Ok(c);
        }
        if schema.collection(name).is_none() {
            return Err(CompileError::collection_forbidden(name));
        }
        Err(CompileError::Invalid(format!(
            "Collection \"{name}\" is not one of the collections allowed in the many-to-any field \"{}\"",
            self.field
        )))
    }

    /// `<related key> = CASE WHEN parent.collection = <name> THEN parent.item END`; the
    /// name is bound. The collection test sits inside the comparison with the related
    /// key because MariaDB ignores an `ON` condition that names only outer columns in a
    /// correlated `LEFT JOIN` (see the many-to-one filters in `predicate.rs`).
    pub fn join(&self, d: Dialect, parent: &str, target: &Collection, related: &str) -> Sql {
        let (key, item) = self.sides(d, parent, target, related);
        let mut out = Sql::new(d);
        out.push(&key)
            .push(" = CASE WHEN ")
            .push(&col(d, parent, self.collection_field))
            .push(" = ")
            .bind_cast(target.name.as_str(), Some("text"))
            .push(" THEN ")
            .push(&item)
            .push(" END");
        out
    }

    /// `<related key> = parent.item`.
    pub fn key_match(&self, d: Dialect, parent: &str, target: &Collection, related: &str) -> Sql {
        let (key, item) = self.sides(d, parent, target, related);
        let mut out = Sql::new(d);
        out.push(&format!("{key} = {item}"));
        out
    }

    /// The related key and the item as comparable expressions.
    fn sides(
        &self,
        d: Dialect,
        parent: &str,
        target: &Collection,
        related: &str,
    ) -> (String, String) {
        let pk = target.primary_key().expect("allowed collections have keys");
        let key_ty = target.fields[pk].field_type;
        let (key, item) = (col(d, related, pk), col(d, parent, self.field));
        // The item column is usually text while the key is a number or uuid. PostgreSQL
        // compares only equal types; MariaDB would compare `1 = '1x'` as numbers (true),
        // so the key becomes text there (`CONCAT` keeps the column's collation); SQLite
        // converts only text that is a number.
        let is_text = |ty: FieldType| matches!(ty, FieldType::String | FieldType::Text);
        if d == Dialect::MySql
            && key_ty != self.item_type
            && is_text(self.item_type)
            && !is_text(key_ty)
        {
            (format!("CONCAT({key})"), item)
        } else if d == Dialect::Postgres && key_ty != self.item_type {
            let text = |ty: FieldType, e: String| {
                if is_text(ty) {
                    e
                } else {
                    format!("CAST({e} AS text)")
                }
            };
            (text(key_ty, key), text(self.item_type, item))
        } else {
            (key, item)
        }
    }
}

/// `alias."column"`.
pub fn col(d: Dialect, alias: &str, column: &str) -> String {
    format!("{alias}.{}", d.quote(column))
}

#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// `QUERY_LIMIT_DEFAULT`: rows per list (and per parent for one-to-many children).
    pub default_limit: i64,
    /// `MAX_RELATIONAL_DEPTH`.
    pub max_depth: usize,
    /// The time `$NOW` stands for.
    pub now: DateTime<Utc>,
    /// The caller's read permissions; `None` reads everything (administrators).
    pub access: Option<std::sync::Arc<ReadAccess>>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            default_limit: 100,
            max_depth: 10,
            now: Utc::now(),
            access: None,
        }
    }
}

pub struct Compiler<'s> {
    schema: &'s Schema,
    dialect: Dialect,
    max_depth: usize,
    default_limit: i64,
    now: DateTime<Utc>,
    next_alias: usize,
    /// The caller's read permissions (see `access.rs`).
    access: Option<&'s ReadAccess>,
}

/// Compiles a list read of `collection`. The statement returns one row: `data` (the JSON
/// array as text), and `total_count` / `filter_count` when `meta` asks for them.
pub fn compile_read<'s>(
    schema: &'s Schema,
    collection: &str,
    query: &Query,
    opts: &'s ReadOptions,
) -> Result<Sql, CompileError> {
    Compiler::new(schema, opts).read(servable(schema, collection)?, query)
}

/// The collection a read names, if it can be served (it exists and has a primary key).
fn servable<'s>(schema: &'s Schema, collection: &str) -> Result<&'s Collection, CompileError> {
    schema
        .collection(collection)
        .filter(|c| c.primary_key().is_some())
        .ok_or_else(|| CompileError::collection_forbidden(collection))
}

/// `groupBy` only means something with an `aggregate`.
fn refuse_group_by_alone(query: &Query) -> Result<(), CompileError> {
    if query.aggregate.is_empty() && !query.group_by.is_empty() {
        return Err(CompileError::Invalid(
            "\"groupBy\" needs an \"aggregate\"".into(),
        ));
    }
    Ok(())
}

impl<'s> Compiler<'s> {
    fn new(schema: &'s Schema, opts: &'s ReadOptions) -> Self {
        Compiler {
            schema,
            dialect: schema.dialect,
            max_depth: opts.max_depth,
            default_limit: opts.default_limit,
            now: opts.now,
            next_alias: 0,
            access: opts.access.as_deref(),
        }
    }

    /// The selection tree of a read of `c`.
    fn resolve(&self, c: &'s Collection, query: &Query) -> Result<Node<'s>, CompileError> {
        select::Resolver {
            schema: self.schema,
            max_depth: self.max_depth,
            full: self.access.map(|a| &*a.full),
        }
        .resolve(c, query)
    }

    fn alias(&mut self) -> String {
        let a = format!("t{}", self.next_alias);
        self.next_alias += 1;
        a
    }

    fn read(&mut self, c: &'s Collection, query: &Query) -> Result<Sql, CompileError> {
        if !query.aggregate.is_empty() {
            return self.aggregate(c, query);
        }
        refuse_group_by_alone(query)?;
        let d = self.dialect;
        let node = self.resolve(c, query)?;
        let alias = self.alias();
        let object = self.object(&node, &alias, "")?;
        let order = self.order_by(c, &alias, &query.sort)?;
        // The outer alias repeats the inner one, so the object's column references stay
        // valid.
        let inner = self.page(c, &alias, query, &order)?;

        let mut out = Sql::new(d);
        out.push(match d {
            Dialect::Postgres => "SELECT coalesce(json_agg(",
            Dialect::Sqlite => "SELECT coalesce(json_group_array(",
            Dialect::MySql => "SELECT COALESCE(JSON_ARRAYAGG(",
        });
        out.append(&object).push(" ORDER BY ").append(&order);
        out.push(match d {
            Dialect::Postgres => "), '[]'::json)::text",
            Dialect::Sqlite => "), '[]')",
            Dialect::MySql => "), JSON_ARRAY())",
        });
        out.push(" AS data");
        if query.meta.contains(&Meta::TotalCount) {
            out.push(", (SELECT COUNT(*) FROM ").append(&self.source(c));
            if self.access.is_some() {
                // The caller's view is a derived table, which needs a name.
                let a = self.alias();
                out.push(" ").push(&a);
            }
            out.push(") AS total_count");
        }
        if query.meta.contains(&Meta::FilterCount) {
            let a = self.alias();
            let w = self.where_clause(c, &a, query)?;
            out.push(", (SELECT COUNT(*) FROM ")
                .append(&self.source(c))
                .push(" ")
                .push(&a)
                .append(&w)
                .push(") AS filter_count");
        }
        out.push(" FROM (").append(&inner).push(") ").push(&alias);
        Ok(out)
    }

    /// The page's rows, chosen first — filter, sort, limit: the database keeps only the
    /// top rows (a top-N sort, no window function) — so that values, JSON and relations are
    /// computed for those rows alone: `SELECT alias.* FROM c alias WHERE … ORDER BY …
    /// LIMIT …`. The caller selects from it under the same alias, ordered by `order` again.
    fn page(
        &mut self,
        c: &'s Collection,
        alias: &str,
        query: &Query,
        order: &Sql,
    ) -> Result<Sql, CompileError> {
        let where_ = self.where_clause(c, alias, query)?;
        let (limit, offset) = self.paging(query);
        let mut inner = Sql::new(self.dialect);
        inner
            .push("SELECT ")
            .push(alias)
            .push(".* FROM ")
            .append(&self.source(c))
            .push(" ")
            .push(alias);
        inner.append(&where_);
        inner.push(" ORDER BY ").append(order);
        self.limit_offset(&mut inner, limit, offset);
        Ok(inner)
    }

    /// `filter AND search`, or `None` when the query has neither.
    fn predicates(
        &mut self,
        c: &'s Collection,
        alias: &str,
        query: &Query,
    ) -> Result<Option<Sql>, CompileError> {
        let mut parts = Vec::new();
        if let Some(f) = &query.filter {
            parts.push(self.filter(c, alias, f, "", 0)?);
        }
        if let Some(term) = &query.search {
            parts.push(self.search(c, alias, term));
        }
        if parts.is_empty() {
            return Ok(None);
        }
        let mut out = Sql::new(self.dialect);
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                out.push(" AND ");
            }
            out.append(p);
        }
        Ok(Some(out))
    }

    /// ` WHERE <predicates>`, or nothing.
    fn where_clause(
        &mut self,
        c: &'s Collection,
        alias: &str,
        query: &Query,
    ) -> Result<Sql, CompileError> {
        let mut out = Sql::new(self.dialect);
        if let Some(p) = self.predicates(c, alias, query)? {
            out.push(" WHERE ").append(&p);
        }
        Ok(out)
    }

    fn paging(&self, query: &Query) -> (Option<i64>, i64) {
        let limit = match query.limit {
            Some(-1) => None,
            Some(n) => Some(n),
            None => Some(self.default_limit),
        };
        let offset = match (query.page, limit) {
            (Some(p), Some(l)) if p >= 1 => l.saturating_mul(p as i64 - 1),
            _ => query
                .offset
                .map(|o| o.min(i64::MAX as u64) as i64)
                .unwrap_or(0),
        };
        (limit, offset)
    }

    fn limit_offset(&self, sql: &mut Sql, limit: Option<i64>, offset: i64) {
        match (self.dialect, limit) {
            (_, Some(l)) => {
                sql.push(" LIMIT ").bind(l);
            }
            (Dialect::Postgres, None) => {}
            (Dialect::Sqlite, None) => {
                sql.push(" LIMIT -1");
            }
            (Dialect::MySql, None) => {
                sql.push(" LIMIT 18446744073709551615");
            }
        }
        if offset > 0 {
            sql.push(" OFFSET ").bind(offset);
        }
    }

    /// `ORDER BY` terms; always ends with the primary key so paging is stable.
    fn order_by(
        &mut self,
        c: &'s Collection,
        alias: &str,
        sort: &[Sort],
    ) -> Result<Sql, CompileError> {
        let d = self.dialect;
        let pk = c.primary_key().expect("served collections have a key");
        let default_sort;
        let sort = if sort.is_empty() {
            let field = c
                .meta
                .as_ref()
                .and_then(|m| m.get("sort_field"))
                .and_then(|v| v.as_str())
                .filter(|f| c.fields.contains_key(*f))
                .unwrap_or(pk);
            default_sort = vec![Sort {
                field: field.to_string(),
                descending: false,
            }];
            &default_sort[..]
        } else {
            sort
        };
        let mut out = Sql::new(d);
        let mut has_pk = false;
        for (i, s) in sort.iter().enumerate() {
            if i > 0 {
                out.push(", ");
            }
            has_pk |= s.field == pk;
            let expr = self.sort_expr(c, alias, &s.field, "", 0)?;
            out.append(&expr)
                .push(if s.descending { " DESC" } else { " ASC" });
        }
        if !has_pk {
            out.push(", ").push(&col(d, alias, pk)).push(" ASC");
        }
        Ok(out)
    }

    /// A sort key: a field, `fn(field)`, or a many-to-one path `author.name`.
    fn sort_expr(
        &mut self,
        c: &'s Collection,
        alias: &str,
        path: &str,
        seen: &str,
        depth: usize,
    ) -> Result<Sql, CompileError> {
        let d = self.dialect;
        if depth > self.max_depth {
            return Err(CompileError::Invalid(
                "Max relational depth exceeded".into(),
            ));
        }
        let mut out = Sql::new(d);
        let (head, rest) = match path.split_once('.') {
            Some((h, r)) => (h, Some(r)),
            None => (path, None),
        };
        if rest.is_none() {
            if let Some((function, inner)) =
                split_function(head).map_err(|e| CompileError::Invalid(e.reason))?
            {
                let field = c
                    .fields
                    .get(inner)
                    .ok_or_else(|| CompileError::field_forbidden(inner, &c.name, seen))?;
                select::check_date_function(function, field, head)?;
                out.push(&predicate::date_part(d, function, &col(d, alias, inner)));
                return Ok(out);
            }
        }
        if let (Some((name, scope)), Some(rest)) = (head.split_once(':'), rest) {
            // A many-to-any item scoped to one collection: rows naming another sort as NULL.
            if !c.fields.contains_key(name) {
                return Err(CompileError::field_forbidden(name, &c.name, seen));
            }
            let rel = AnyRelation::of(self.schema, c, name).ok_or_else(|| {
                CompileError::Invalid(format!(
                    "Can't sort by \"{path}\": \"{name}\" is not a many-to-any item"
                ))
            })?;
            let target = rel.target(self.schema, scope)?;
            let a = self.alias();
            let next_seen = join_path(seen, head);
            let inner = self.sort_expr(target, &a, rest, &next_seen, depth + 1)?;
            out.push("(SELECT ")
                .append(&inner)
                .push(" FROM ")
                .append(&self.source(target))
                .push(" ")
                .push(&a)
                .push(" WHERE ")
                .append(&rel.join(d, alias, target, &a))
                .push(")");
            return Ok(out);
        }
        let field = c
            .fields
            .get(head)
            .ok_or_else(|| CompileError::field_forbidden(head, &c.name, seen))?;
        match rest {
            None if field.is_alias() => Err(CompileError::Invalid(format!(
                "Can't sort by the alias field \"{head}\""
            ))),
            None => {
                out.push(&col(d, alias, head));
                Ok(out)
            }
            Some(rest) => match Relation::of(self.schema, c, head) {
                Some(rel @ Relation::ToOne { related, .. }) => {
                    let a = self.alias();
                    let next_seen = if seen.is_empty() {
                        head.to_string()
                    } else {
                        format!("{seen}.{head}")
                    };
                    let inner = self.sort_expr(related, &a, rest, &next_seen, depth + 1)?;
                    out.push("(SELECT ")
                        .append(&inner)
                        .push(" FROM ")
                        .append(&self.source(related))
                        .push(" ")
                        .push(&a);
                    out.push(" WHERE ").push(&rel.join(d, alias, &a)).push(")");
                    Ok(out)
                }
                None if access::hidden_relation(self.access.map(|a| &*a.full), c, head)
                    .is_some() =>
                {
                    Err(CompileError::collection_forbidden(
                        &access::hidden_relation(self.access.map(|a| &*a.full), c, head)
                            .unwrap_or_default(),
                    ))
                }
                _ => Err(CompileError::Invalid(format!(
                    "Can't sort by \"{path}\": only many-to-one paths can be sorted on"
                ))),
            },
        }
    }

    /// The JSON object for one row of `node`, with `alias` naming the row.
    fn object(&mut self, node: &Node<'s>, alias: &str, path: &str) -> Result<Sql, CompileError> {
        let mut pairs = Vec::with_capacity(node.outputs.len());
        for out in &node.outputs {
            let expr = self.output_expr(out, alias, path)?;
            pairs.push((out.key().to_string(), expr));
        }
        Ok(json::object(self.dialect, pairs))
    }

    /// One output of a row of `alias`: a column's JSON value, a function, a count, or a
    /// relation as a subquery yielding JSON.
    fn output_expr(
        &mut self,
        out: &Output<'s>,
        alias: &str,
        path: &str,
    ) -> Result<Sql, CompileError> {
        let d = self.dialect;
        Ok(match out {
            Output::Column { field, .. } => {
                let mut s = Sql::new(d);
                s.push(&json::value(
                    d,
                    field.field_type,
                    &col(d, alias, &field.name),
                ));
                s
            }
            Output::Function {
                function, field, ..
            } => {
                let mut s = Sql::new(d);
                s.push(&predicate::date_part(
                    d,
                    *function,
                    &col(d, alias, &field.name),
                ));
                s
            }
            Output::Count { relation, .. } => self.count_expr(relation, alias),
            Output::ToOne {
                relation,
                node,
                key,
            } => {
                let a = self.alias();
                let child_path = join_path(path, key);
                let obj = self.object(node, &a, &child_path)?;
                let mut sub = Sql::new(d);
                sub.push("SELECT ")
                    .append(&obj)
                    .push(" FROM ")
                    .append(&self.source(relation.related()))
                    .push(" ")
                    .push(&a);
                sub.push(" WHERE ").push(&relation.join(d, alias, &a));
                json::embed(d, &sub)
            }
            Output::ToMany {
                relation,
                node,
                query,
                key,
            } => {
                let a = self.alias();
                let child_path = join_path(path, key);
                let obj = self.object(node, &a, &child_path)?;
                self.children(relation, alias, &a, &obj, query)?
            }
            Output::ToAny {
                relation,
                branches,
                key,
            } => self.any_item(relation, branches, alias, &join_path(path, key))?,
            Output::ToManyKeys { relation, .. } => {
                let a = self.alias();
                let child = relation.related();
                let pk = child.primary_key().expect("relations need keys");
                let field = &child.fields[pk];
                let mut value = Sql::new(d);
                let key = json::value(d, field.field_type, &col(d, &a, pk));
                // SQLite's array builder parses each element as JSON: a text key (a uuid)
                // must be quoted first.
                if d == Dialect::Sqlite {
                    value.push(&format!("json_quote({key})"));
                } else {
                    value.push(&key);
                }
                self.children(relation, alias, &a, &value, &Query::default())?
            }
        })
    }

    /// A many-to-any item as JSON: `CASE WHEN parent.collection = $n THEN (SELECT <object>
    /// FROM <collection> WHERE key = parent.item) … ELSE <raw item key> END`, the
    /// collection names bound. A row whose item is missing gets null.
    fn any_item(
        &mut self,
        rel: &AnyRelation<'s>,
        branches: &[(&'s Collection, Node<'s>)],
        parent: &str,
        path: &str,
    ) -> Result<Sql, CompileError> {
        let d = self.dialect;
        let item = json::value(d, rel.item_type, &col(d, parent, rel.field));
        let raw = match d {
            Dialect::Postgres => format!("to_json({item})"),
            Dialect::Sqlite => format!("json_quote({item})"),
            Dialect::MySql => format!("JSON_EXTRACT(JSON_ARRAY({item}), '$[0]')"),
        };
        let mut case = Sql::new(d);
        if branches.is_empty() {
            case.push(&raw);
        } else {
            case.push("CASE");
            for (target, node) in branches {
                let a = self.alias();
                let obj = self.object(node, &a, &format!("{path}:{}", target.name))?;
                case.push(" WHEN ")
                    .push(&col(d, parent, rel.collection_field))
                    .push(" = ")
                    .bind_cast(target.name.as_str(), Some("text"))
                    .push(" THEN (SELECT ")
                    .append(&obj)
                    .push(" FROM ")
                    .append(&self.source(target))
                    .push(" ")
                    .push(&a)
                    .push(" WHERE ")
                    .append(&rel.key_match(d, parent, target, &a))
                    .push(")");
            }
            case.push(" ELSE ").push(&raw).push(" END");
        }
        let mut out = Sql::new(d);
        match d {
            Dialect::Postgres => out.push("(").append(&case).push(")"),
            Dialect::Sqlite => out.push("json(").append(&case).push(")"),
            Dialect::MySql => out.push("JSON_EXTRACT(").append(&case).push(", '$')"),
        };
        Ok(out)
    }

    /// The JSON array of a one-to-many's items (`value` per child row aliased `a`), with
    /// the `deep` query's filter, sort and paging.
    fn children(
        &mut self,
        rel: &Relation<'s>,
        parent: &str,
        a: &str,
        value: &Sql,
        query: &Query,
    ) -> Result<Sql, CompileError> {
        let d = self.dialect;
        let child = rel.related();
        let mut where_ = Sql::new(d);
        where_.push(" WHERE ").push(&rel.join(d, parent, a));
        if let Some(extra) = self.predicates(child, a, query)? {
            where_.push(" AND (").append(&extra).push(")");
        }
        let order = self.order_by(child, a, &query.sort)?;
        let (limit, offset) = self.paging(query);
        let mut sub = Sql::new(d);
        match d {
            Dialect::MySql => {
                sub.push("SELECT COALESCE(JSON_ARRAYAGG(")
                    .append(value)
                    .push(" ORDER BY ")
                    .append(&order);
                if let Some(l) = limit {
                    sub.push(" LIMIT ").bind(l);
                    if offset > 0 {
                        sub.push(" OFFSET ").bind(offset);
                    }
                } else if offset > 0 {
                    sub.push(" LIMIT 18446744073709551615 OFFSET ").bind(offset);
                }
                sub.push("), JSON_ARRAY()) FROM ")
                    .append(&self.source(child))
                    .push(" ")
                    .push(a)
                    .append(&where_);
            }
            _ => {
                let q = format!("q{a}");
                let mut inner = Sql::new(d);
                inner
                    .push("SELECT ")
                    .append(value)
                    .push(" AS j, row_number() OVER (ORDER BY ")
                    .append(&order);
                inner
                    .push(") AS n FROM ")
                    .append(&self.source(child))
                    .push(" ")
                    .push(a)
                    .append(&where_);
                inner.push(" ORDER BY ").append(&order);
                self.limit_offset(&mut inner, limit, offset);
                let agg = match d {
                    Dialect::Postgres => {
                        format!("coalesce(json_agg({q}.j ORDER BY {q}.n), '[]'::json)")
                    }
                    _ => format!("coalesce(json_group_array(json({q}.j) ORDER BY {q}.n), '[]')"),
                };
                sub.push("SELECT ")
                    .push(&agg)
                    .push(" FROM (")
                    .append(&inner)
                    .push(") ")
                    .push(&q);
            }
        }
        Ok(json::embed(d, &sub))
    }
}

fn join_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod access_tests;

//! Filters and search as SQL predicates. Every value is a bound parameter, coerced to the
//! field's type first; `LIKE` patterns escape the client's `%` and `_`; relational
//! conditions become `EXISTS` subqueries, so a filter across a one-to-many never
//! duplicates rows of the collection being read.

use super::{col, AnyRelation, CompileError, Compiler, Relation};
use crate::db::{Dialect, Sql};
use crate::query::values::{coerce, like_literal, LIKE_ESCAPE};
use crate::query::{split_function, Condition, Filter, Function, Op};
use crate::schema::types::pg_cast;
use crate::schema::{Collection, Field, FieldType};
use serde_json::Value as Json;

/// Which operators a field type accepts (Directus's table, plus `_nicontains`, which
/// Directus documents but refuses).
fn allowed(ty: FieldType, op: Op) -> bool {
    use FieldType as T;
    use Op::*;
    let string_ops = matches!(
        op,
        Eq | Neq
            | In
            | Nin
            | Null
            | Nnull
            | Contains
            | Ncontains
            | Icontains
            | Nicontains
            | StartsWith
            | NstartsWith
            | IstartsWith
            | NistartsWith
            | EndsWith
            | NendsWith
            | IendsWith
            | NiendsWith
            | Empty
            | Nempty
    );
    let ordered_ops = matches!(
        op,
        Eq | Neq | Lt | Lte | Gt | Gte | In | Nin | Null | Nnull | Between | Nbetween
    );
    match ty {
        T::String | T::Text | T::Csv => string_ops,
        T::Integer | T::BigInteger | T::Float | T::Decimal => ordered_ops,
        T::Date | T::DateTime | T::Timestamp | T::Time => ordered_ops,
        T::Uuid => matches!(op, Eq | Neq | Null | Nnull | In | Nin),
        T::Boolean => matches!(op, Eq | Neq | Null | Nnull),
        T::Json | T::Binary | T::Unknown | T::Alias => matches!(op, Null | Nnull),
        T::Hash => matches!(op, Empty | Nempty | Null | Nnull),
    }
}

impl<'s> Compiler<'s> {
    /// The predicate for `filter` on rows of `collection` aliased `alias`.
    pub(super) fn filter(
        &mut self,
        collection: &'s Collection,
        alias: &str,
        filter: &Filter,
        path: &str,
        depth: usize,
    ) -> Result<Sql, CompileError> {
        if depth > self.max_depth {
            return Err(CompileError::Invalid(
                "Max relational depth exceeded".into(),
            ));
        }
        let d = self.dialect;
        let mut out = Sql::new(d);
        match filter {
            Filter::And(items) | Filter::Or(items) => {
                let glue = if matches!(filter, Filter::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                if items.is_empty() {
                    out.push(if matches!(filter, Filter::And(_)) {
                        "1 = 1"
                    } else {
                        "1 = 0"
                    });
                    return Ok(out);
                }
                out.push("(");
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(glue);
                    }
                    let p = self.filter(collection, alias, item, path, depth)?;
                    out.append(&p);
                }
                out.push(")");
            }
            Filter::Field { key, condition } => {
                let p = self.field_condition(collection, alias, key, condition, path, depth)?;
                out.append(&p);
            }
        }
        Ok(out)
    }

    fn field_condition(
        &mut self,
        collection: &'s Collection,
        alias: &str,
        key: &str,
        condition: &Condition,
        path: &str,
        depth: usize,
    ) -> Result<Sql, CompileError> {
        let d = self.dialect;
        if let Some((field, scope)) = key.split_once(':') {
            return self.any_condition(collection, alias, field, scope, condition, path, depth);
        }
        if let Some((function, inner)) =
            split_function(key).map_err(|e| CompileError::Invalid(e.reason))?
        {
            let field = collection
                .fields
                .get(inner)
                .ok_or_else(|| CompileError::field_forbidden(inner, &collection.name, path))?;
            let Condition::Ops(ops) = condition else {
                return Err(CompileError::Invalid(format!(
                    "Invalid filter key \"{key}\" on \"{}\"",
                    collection.name
                )));
            };
            let expr = if function == Function::Count {
                match Relation::of(self.schema, collection, inner) {
                    Some(rel @ Relation::ToMany { .. }) => self.count_expr(&rel, alias),
                    _ => {
                        return Err(CompileError::Invalid(format!(
                            "Invalid filter key \"{key}\" on \"{}\"",
                            collection.name
                        )))
                    }
                }
            } else {
                super::select::check_date_function(function, field, key).map_err(|_| {
                    CompileError::Invalid(format!(
                        "Invalid filter key \"{key}\" on \"{}\"",
                        collection.name
                    ))
                })?;
                let mut s = Sql::new(d);
                s.push(&date_part(d, function, &col(d, alias, inner)));
                s
            };
            return self.ops(&expr, FieldType::Integer, ops, None);
        }
        let field = collection
            .fields
            .get(key)
            .ok_or_else(|| CompileError::field_forbidden(key, &collection.name, path))?;
        let relation = Relation::of(self.schema, collection, key);
        let child_path = if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        };
        match (condition, relation) {
            (Condition::Ops(ops), Some(Relation::ToMany { .. })) => Err(CompileError::Invalid(format!(
                "\"{}\" can't be used on the one-to-many field \"{key}\"; filter its related fields",
                ops.first().map(|o| o.0.name()).unwrap_or("_eq")
            ))),
            (Condition::Ops(ops), _) => {
                let mut expr = Sql::new(d);
                expr.push(&col(d, alias, key));
                self.ops(&expr, field.field_type, ops, Some(field))
            }
            (Condition::Related(inner), Some(rel)) | (Condition::Some(inner), Some(rel @ Relation::ToMany { .. })) => {
                let exists = self.exists(&rel, alias, inner, &child_path, depth)?;
                Ok(exists)
            }
            (Condition::None(inner), Some(rel @ Relation::ToMany { .. })) => {
                let exists = self.exists(&rel, alias, inner, &child_path, depth)?;
                let mut out = Sql::new(d);
                out.push("NOT ").append(&exists);
                Ok(out)
            }
            (Condition::Related(_) | Condition::Some(_) | Condition::None(_), None)
                if super::access::hidden_relation(self.access.map(|a| &*a.full), collection, key)
                    .is_some() =>
            {
                Err(CompileError::collection_forbidden(
                    &super::access::hidden_relation(self.access.map(|a| &*a.full), collection, key)
                        .unwrap_or_default(),
                ))
            }
            (Condition::Some(_) | Condition::None(_), _) => Err(CompileError::Invalid(
                "\"_some\" and \"_none\" can only be used with top level relational alias field".into(),
            )),
            (Condition::Related(_), None)
                if AnyRelation::of(self.schema, collection, key).is_some() =>
            {
                Err(CompileError::Invalid(format!(
                    "You have to provide a collection scope when filtering on the many-to-any item \"{key}\" (\"{key}:<collection>\")"
                )))
            }
            (Condition::Related(_), None) => Err(CompileError::Invalid(format!(
                "Field \"{key}\" in collection \"{}\" is not a relation",
                collection.name
            ))),
        }
    }

    /// `item:headings` on a many-to-any item: `EXISTS (SELECT 1 FROM headings WHERE
    /// parent.collection = 'headings' AND key = parent.item AND <inner>)`.
    #[allow(clippy::too_many_arguments)]
    fn any_condition(
        &mut self,
        collection: &'s Collection,
        alias: &str,
        field: &str,
        scope: &str,
        condition: &Condition,
        path: &str,
        depth: usize,
    ) -> Result<Sql, CompileError> {
        let d = self.dialect;
        if !collection.fields.contains_key(field) {
            return Err(CompileError::field_forbidden(field, &collection.name, path));
        }
        let rel = AnyRelation::of(self.schema, collection, field).ok_or_else(|| {
            CompileError::Invalid(format!(
                "Field \"{field}\" in collection \"{}\" is not a many-to-any item; it can't be scoped to \"{scope}\"",
                collection.name
            ))
        })?;
        let target = rel.target(self.schema, scope)?;
        let Condition::Related(inner) = condition else {
            return Err(CompileError::Invalid(format!(
                "\"{field}:{scope}\" needs a filter on the fields of \"{scope}\""
            )));
        };
        let child_path = if path.is_empty() {
            format!("{field}:{scope}")
        } else {
            format!("{path}.{field}:{scope}")
        };
        let a = self.alias();
        let mut out = Sql::new(d);
        // A left join, as for a many-to-one (see `exists`): a row naming another
        // collection, or a missing item, is tested as an item of NULLs.
        out.push("EXISTS (SELECT 1 FROM (SELECT 1 AS one) ")
            .push(&a)
            .push("x LEFT JOIN ")
            .append(&self.source(target))
            .push(" ")
            .push(&a)
            .push(" ON ")
            .append(&rel.join(d, alias, target, &a))
            .push(" WHERE ");
        let p = self.filter(target, &a, inner, &child_path, depth + 1)?;
        out.append(&p).push(")");
        Ok(out)
    }

    /// `EXISTS (SELECT 1 FROM related WHERE <join> AND <inner>)`.
    fn exists(
        &mut self,
        rel: &Relation<'s>,
        alias: &str,
        inner: &Filter,
        path: &str,
        depth: usize,
    ) -> Result<Sql, CompileError> {
        let d = self.dialect;
        let related = rel.related();
        let a = self.alias();
        let mut out = Sql::new(d);
        if let Relation::ToOne { .. } = rel {
            // Directus LEFT JOINs a many-to-one: an item with no related row (a NULL or
            // dangling key) is tested against a row of NULLs, so `{author: {name: {_null:
            // true}}}` keeps it. One row at most, so no duplicates and no DISTINCT.
            out.push("EXISTS (SELECT 1 FROM (SELECT 1 AS one) ")
                .push(&a)
                .push("x LEFT JOIN ")
                .append(&self.source(related))
                .push(" ")
                .push(&a)
                .push(" ON ")
                .push(&rel.join(d, alias, &a))
                .push(" WHERE ");
        } else {
            out.push("EXISTS (SELECT 1 FROM ")
                .append(&self.source(related))
                .push(" ")
                .push(&a)
                .push(" WHERE ");
            out.push(&rel.join(d, alias, &a)).push(" AND ");
        }
        let p = self.filter(related, &a, inner, path, depth + 1)?;
        out.append(&p).push(")");
        Ok(out)
    }

    /// `(SELECT COUNT(*) FROM child WHERE child.fk = parent.pk)`.
    pub(super) fn count_expr(&mut self, rel: &Relation<'s>, alias: &str) -> Sql {
        let d = self.dialect;
        let a = self.alias();
        let mut out = Sql::new(d);
        out.push("(SELECT COUNT(*) FROM ")
            .append(&self.source(rel.related()))
            .push(" ")
            .push(&a)
            .push(" WHERE ");
        out.push(&rel.join(d, alias, &a)).push(")");
        out
    }

    /// The operators on one expression, AND-ed.
    fn ops(
        &mut self,
        expr: &Sql,
        ty: FieldType,
        ops: &[(Op, Json)],
        field: Option<&Field>,
    ) -> Result<Sql, CompileError> {
        let d = self.dialect;
        let mut out = Sql::new(d);
        for (i, (op, value)) in ops.iter().enumerate() {
            if i > 0 {
                out.push(" AND ");
            }
            if !allowed(ty, *op) {
                return Err(CompileError::Invalid(format!(
                    "\"{}\" field type does not contain the \"{}\" filter operator",
                    field.map(|f| f.field_type.as_str()).unwrap_or(ty.as_str()),
                    op.name()
                )));
            }
            let p = self.op(expr, ty, *op, value)?;
            out.append(&p);
        }
        if ops.len() > 1 {
            let mut wrapped = Sql::new(d);
            wrapped.push("(").append(&out).push(")");
            return Ok(wrapped);
        }
        Ok(out)
    }

    fn op(&mut self, expr: &Sql, ty: FieldType, op: Op, value: &Json) -> Result<Sql, CompileError> {
        let d = self.dialect;
        let cast = pg_cast(ty);
        let val = |v: &Json| {
            coerce(ty, v, op.name(), self.now).map_err(|e| CompileError::Invalid(e.reason))
        };
        let mut out = Sql::new(d);
        // SQLite keeps date-times as text in whatever shape they were written (`…
        // 10:00:00`, `…T10:00:00.000Z`); comparing that text with the bound `… 10:00:00.000`
        // would put an equal instant before it. Comparisons normalise both sides (NULL
        // tests look at the column as it is).
        let sqlite_datetime =
            d == Dialect::Sqlite && matches!(ty, FieldType::DateTime | FieldType::Timestamp);
        let normalised;
        let compared: &Sql = if sqlite_datetime {
            let mut e = Sql::new(d);
            e.push("strftime('%Y-%m-%d %H:%M:%f', ")
                .append(expr)
                .push(")");
            normalised = e;
            &normalised
        } else {
            expr
        };
        let bind = move |out: &mut Sql, v: crate::db::Value| {
            if sqlite_datetime {
                out.push("strftime('%Y-%m-%d %H:%M:%f', ").bind(v).push(")");
            } else {
                out.bind_cast(v, cast);
            }
        };
        let cmp = |out: &mut Sql, sym: &str, v| {
            out.append(compared).push(" ").push(sym).push(" ");
            bind(out, v);
        };
        match op {
            Op::Eq | Op::Neq if value.is_null() => {
                out.append(expr).push(if op == Op::Eq {
                    " IS NULL"
                } else {
                    " IS NOT NULL"
                });
            }
            Op::Eq => cmp(&mut out, "=", val(value)?),
            // As in Directus (`NOT col = ?`), negated operators never match a NULL field:
            // the same query selects the same rows on both.
            Op::Neq => cmp(&mut out, "<>", val(value)?),
            Op::Lt => cmp(&mut out, "<", val(value)?),
            Op::Lte => cmp(&mut out, "<=", val(value)?),
            Op::Gt => cmp(&mut out, ">", val(value)?),
            Op::Gte => cmp(&mut out, ">=", val(value)?),
            Op::In | Op::Nin if value.as_array().is_some_and(Vec::is_empty) => {
                // An empty list (a `$CURRENT_ROLES` of a caller without a role): nothing
                // is in it; every value is outside it (NULL still matches no negation).
                if op == Op::In {
                    out.push("1 = 0");
                } else {
                    out.append(expr).push(" IS NOT NULL");
                }
            }
            Op::In | Op::Nin => {
                let items = value.as_array().expect("parser normalises lists");
                out.append(compared)
                    .push(if op == Op::In { " IN (" } else { " NOT IN (" });
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(", ");
                    }
                    bind(&mut out, val(v)?);
                }
                out.push(")");
            }
            Op::Between | Op::Nbetween => {
                let items = value.as_array().expect("parser normalises pairs");
                out.append(compared).push(if op == Op::Between {
                    " BETWEEN "
                } else {
                    " NOT BETWEEN "
                });
                bind(&mut out, val(&items[0])?);
                out.push(" AND ");
                bind(&mut out, val(&items[1])?);
            }
            Op::Null | Op::Nnull => {
                let positive = value.as_bool().unwrap_or(true) == (op == Op::Null);
                out.append(expr)
                    .push(if positive { " IS NULL" } else { " IS NOT NULL" });
            }
            Op::Empty | Op::Nempty => {
                let positive = value.as_bool().unwrap_or(true) == (op == Op::Empty);
                if positive {
                    out.push("(")
                        .append(expr)
                        .push(" IS NULL OR ")
                        .append(expr)
                        .push(" = '')");
                } else {
                    out.push("(")
                        .append(expr)
                        .push(" IS NOT NULL AND ")
                        .append(expr)
                        .push(" <> '')");
                }
            }
            Op::Contains
            | Op::Ncontains
            | Op::StartsWith
            | Op::NstartsWith
            | Op::EndsWith
            | Op::NendsWith => {
                let text = text_value(value, op)?;
                let at = match op {
                    Op::Contains | Op::Ncontains => At::Anywhere,
                    Op::StartsWith | Op::NstartsWith => At::Start,
                    _ => At::End,
                };
                let negate = matches!(op, Op::Ncontains | Op::NstartsWith | Op::NendsWith);
                like(&mut out, d, expr, &text, at, true, negate);
            }
            Op::Icontains
            | Op::Nicontains
            | Op::IstartsWith
            | Op::NistartsWith
            | Op::IendsWith
            | Op::NiendsWith => {
                let text = text_value(value, op)?;
                let at = match op {
                    Op::Icontains | Op::Nicontains => At::Anywhere,
                    Op::IstartsWith | Op::NistartsWith => At::Start,
                    _ => At::End,
                };
                let negate = matches!(op, Op::Nicontains | Op::NistartsWith | Op::NiendsWith);
                like(&mut out, d, expr, &text, at, false, negate);
            }
            Op::Regex => {
                return Err(CompileError::Invalid(
                    "\"_regex\" can only be used in validation rules".into(),
                ))
            }
        }
        Ok(out)
    }

    /// `search`: case-insensitive over text fields, exact over numeric fields when the
    /// term is a number, exact over uuid fields when it is a uuid.
    pub(super) fn search(&mut self, collection: &'s Collection, alias: &str, term: &str) -> Sql {
        let d = self.dialect;
        let mut parts: Vec<Sql> = Vec::new();
        let lowered = term.to_lowercase();
        let number = term.parse::<f64>().ok().filter(|f| f.is_finite());
        let is_uuid = uuid::Uuid::parse_str(term).is_ok();
        for f in collection.fields.values() {
            if f.is_alias()
                || f.meta
                    .as_ref()
                    .and_then(|m| m.get("searchable"))
                    .and_then(Json::as_bool)
                    == Some(false)
            {
                continue;
            }
            let mut expr = Sql::new(d);
            expr.push(&col(d, alias, &f.name));
            let mut p = Sql::new(d);
            match f.field_type {
                FieldType::String | FieldType::Text | FieldType::Csv => {
                    like(&mut p, d, &expr, &lowered, At::Anywhere, false, false);
                }
                FieldType::Integer | FieldType::BigInteger
                    if number.is_some_and(|n| n.fract() == 0.0 && n.abs() < 9.0e15) =>
                {
                    p.append(&expr)
                        .push(" = ")
                        .bind(number.expect("checked") as i64);
                }
                FieldType::Float | FieldType::Decimal if number.is_some() => {
                    p.append(&expr).push(" = ").bind_cast(
                        crate::db::Value::Float(number.expect("checked")),
                        pg_cast(f.field_type),
                    );
                }
                FieldType::Uuid if is_uuid => {
                    p.append(&expr)
                        .push(" = ")
                        .bind_cast(term, pg_cast(FieldType::Uuid));
                }
                _ => continue,
            }
            parts.push(p);
        }
        let mut out = Sql::new(d);
        if parts.is_empty() {
            out.push("1 = 0");
            return out;
        }
        out.push("(");
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                out.push(" OR ");
            }
            out.append(p);
        }
        out.push(")");
        out
    }
}

fn text_value(value: &Json, op: Op) -> Result<String, CompileError> {
    let text = match value {
        Json::String(s) => s.clone(),
        Json::Number(n) => n.to_string(),
        Json::Bool(b) => b.to_string(),
        _ => {
            return Err(CompileError::Invalid(format!(
                "The filter value for \"{}\" has to be text",
                op.name()
            )))
        }
    };
    if text.contains('\0') {
        return Err(CompileError::Invalid(format!(
            "Invalid value for \"{}\": text may not contain NUL characters",
            op.name()
        )));
    }
    Ok(text)
}

/// Where a text must occur for a match.
#[derive(Clone, Copy)]
enum At {
    Anywhere,
    Start,
    End,
}

fn wrap(at: At, escaped: &str, any: &str) -> String {
    match at {
        At::Anywhere => format!("{any}{escaped}{any}"),
        At::Start => format!("{escaped}{any}"),
        At::End => format!("{any}{escaped}"),
    }
}

/// `*`, `?` and `[` taken literally in a GLOB pattern.
fn glob_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        match c {
            '*' => out.push_str("[*]"),
            '?' => out.push_str("[?]"),
            '[' => out.push_str("[[]"),
            c => out.push(c),
        }
    }
    out
}

/// Whether `expr` holds `text` at `at`, matching the client's text literally (its `%`,
/// `_`, `*`, `?` are not wildcards). Case-insensitive matching lower-cases both sides.
/// Case-sensitive matching differs per dialect: SQLite's LIKE ignores ASCII case, so it
/// uses GLOB; MariaDB's follows the column collation, so it compares bytes.
fn like(
    out: &mut Sql,
    d: Dialect,
    expr: &Sql,
    text: &str,
    at: At,
    case_sensitive: bool,
    negate: bool,
) {
    let not = if negate { "NOT " } else { "" };
    let esc = format!(" ESCAPE '{LIKE_ESCAPE}'");
    let lowered = text.to_lowercase();
    match (d, case_sensitive) {
        (Dialect::Sqlite, true) => {
            out.append(expr)
                .push(" ")
                .push(not)
                .push("GLOB ")
                .bind(wrap(at, &glob_literal(text), "*"));
        }
        (Dialect::MySql, true) => {
            out.push("CAST(")
                .append(expr)
                .push(" AS BINARY) ")
                .push(not)
                .push("LIKE CAST(");
            out.bind(wrap(at, &like_literal(text), "%"))
                .push(" AS BINARY)")
                .push(&esc);
        }
        (_, true) => {
            out.append(expr)
                .push(" ")
                .push(not)
                .push("LIKE ")
                .bind(wrap(at, &like_literal(text), "%"))
                .push(&esc);
        }
        (_, false) => {
            out.push("LOWER(")
                .append(expr)
                .push(") ")
                .push(not)
                .push("LIKE ");
            out.bind(wrap(at, &like_literal(&lowered), "%")).push(&esc);
        }
    }
}

/// `year(col)` and friends per dialect, as integers.
pub fn date_part(d: Dialect, f: Function, col: &str) -> String {
    match d {
        Dialect::Postgres => {
            let field = match f {
                Function::Year => "YEAR",
                Function::Month => "MONTH",
                Function::Week => "WEEK",
                Function::Day => "DAY",
                Function::Weekday => "DOW",
                Function::Hour => "HOUR",
                Function::Minute => "MINUTE",
                Function::Second => "SECOND",
                Function::Count => unreachable!("count is not a date part"),
            };
            format!("CAST(EXTRACT({field} FROM {col}) AS integer)")
        }
        Dialect::Sqlite => {
            let fmt = match f {
                Function::Year => "%Y",
                Function::Month => "%m",
                Function::Week => "%W",
                Function::Day => "%d",
                Function::Weekday => "%w",
                Function::Hour => "%H",
                Function::Minute => "%M",
                Function::Second => "%S",
                Function::Count => unreachable!("count is not a date part"),
            };
            format!("CAST(strftime('{fmt}', {col}) AS INTEGER)")
        }
        Dialect::MySql => match f {
            Function::Year => format!("YEAR({col})"),
            Function::Month => format!("MONTH({col})"),
            Function::Week => format!("WEEK({col}, 3)"),
            Function::Day => format!("DAY({col})"),
            Function::Weekday => format!("(DAYOFWEEK({col}) - 1)"),
            Function::Hour => format!("HOUR({col})"),
            Function::Minute => format!("MINUTE({col})"),
            Function::Second => format!("SECOND({col})"),
            Function::Count => unreachable!("count is not a date part"),
        },
    }
}

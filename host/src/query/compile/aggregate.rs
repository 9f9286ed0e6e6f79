//! Aggregation: `aggregate[sum]=amount&groupBy[]=status` compiled into the same single
//! statement shape as a list read, one JSON object per group:
//! `{"status": "Paid", "sum": {"amount": 156.5}, "count": 2}` (Directus's layout: `count=*`
//! and `countAll` are plain numbers, the others nest by field).

use super::{col, json, predicate, select, CompileError, Compiler};
use crate::db::{Dialect, Sql};
use crate::query::{split_function, Aggregate, Query};
use crate::schema::{Collection, FieldType};

impl<'s> Compiler<'s> {
    pub(super) fn aggregate(
        &mut self,
        c: &'s Collection,
        query: &Query,
    ) -> Result<Sql, CompileError> {
        let d = self.dialect;
        let alias = self.alias();
        let mut pairs: Vec<(String, Sql)> = Vec::new();
        let mut group_exprs: Vec<String> = Vec::new();
        for g in &query.group_by {
            let (key, expr) =
                match split_function(g).map_err(|e| CompileError::Invalid(e.reason))? {
                    Some((function, inner)) => {
                        let field = c
                            .fields
                            .get(inner)
                            .ok_or_else(|| CompileError::field_forbidden(inner, &c.name, ""))?;
                        select::check_date_function(function, field, g)?;
                        (
                            format!("{inner}_{}", function.name()),
                            predicate::date_part(d, function, &col(d, &alias, inner)),
                        )
                    }
                    None => {
                        let field = c
                            .fields
                            .get(g)
                            .ok_or_else(|| CompileError::field_forbidden(g, &c.name, ""))?;
                        if field.is_alias() {
                            return Err(CompileError::Invalid(format!(
                                "Can't group by the alias field \"{g}\""
                            )));
                        }
                        (
                            g.clone(),
                            json::value(d, field.field_type, &col(d, &alias, g)),
                        )
                    }
                };
            let mut s = Sql::new(d);
            s.push(&expr);
            pairs.push((key, s));
            // Group on the same expression that is output (a formatted timestamp groups like
            // the raw value).
            group_exprs.push(expr);
        }
        for (function, fields) in &query.aggregate {
            let name = function.name();
            let plain_count = matches!(function, Aggregate::CountAll)
                || (*function == Aggregate::Count && fields.iter().any(|f| f == "*"));
            if plain_count {
                let mut s = Sql::new(d);
                s.push("COUNT(*)");
                pairs.push((name.to_string(), s));
                continue;
            }
            let mut inner: Vec<(String, Sql)> = Vec::new();
            for f in fields {
                let field = c
                    .fields
                    .get(f)
                    .ok_or_else(|| CompileError::field_forbidden(f, &c.name, ""))?;
                if field.is_alias() {
                    return Err(CompileError::Invalid(format!(
                        "Can't aggregate the alias field \"{f}\""
                    )));
                }
                let numeric_only = matches!(
                    function,
                    Aggregate::Sum
                        | Aggregate::SumDistinct
                        | Aggregate::Avg
                        | Aggregate::AvgDistinct
                );
                if numeric_only && !field.field_type.is_numeric() {
                    return Err(CompileError::Invalid(format!(
                        "\"{name}\" can only be used on numeric fields, not \"{f}\" ({})",
                        field.field_type.as_str()
                    )));
                }
                let c_ref = col(d, &alias, f);
                let expr = match function {
                    Aggregate::Count => format!("COUNT({c_ref})"),
                    Aggregate::CountDistinct => format!("COUNT(DISTINCT {c_ref})"),
                    Aggregate::Sum => format!("SUM({c_ref})"),
                    Aggregate::SumDistinct => format!("SUM(DISTINCT {c_ref})"),
                    Aggregate::Avg => format!("AVG({c_ref})"),
                    Aggregate::AvgDistinct => format!("AVG(DISTINCT {c_ref})"),
                    Aggregate::Min => min_max(d, "MIN", field.field_type, &c_ref),
                    Aggregate::Max => min_max(d, "MAX", field.field_type, &c_ref),
                    Aggregate::CountAll => unreachable!("handled above"),
                };
                let mut s = Sql::new(d);
                s.push(&numeric_json(d, function, &expr));
                inner.push((f.clone(), s));
            }
            pairs.push((name.to_string(), json::object(d, inner)));
        }
        let object = json::object(d, pairs);
        let where_ = self.where_clause(c, &alias, query)?;

        let mut inner = Sql::new(d);
        inner.push("SELECT ").append(&object).push(" AS j, ");
        if group_exprs.is_empty() {
            inner
                .push("1 AS n FROM ")
                .append(&self.source(c))
                .push(" ")
                .push(&alias)
                .append(&where_);
        } else {
            let order = self.group_order(c, &alias, query, &group_exprs)?;
            inner.push(if d == Dialect::MySql {
                "ROW_NUMBER()"
            } else {
                "row_number()"
            });
            inner
                .push(" OVER (ORDER BY ")
                .push(&order)
                .push(") AS n FROM ")
                .append(&self.source(c))
                .push(" ")
                .push(&alias)
                .append(&where_);
            inner.push(" GROUP BY ").push(&group_exprs.join(", "));
            inner.push(" ORDER BY ").push(&order);
            let (limit, offset) = self.paging(query);
            self.limit_offset(&mut inner, limit, offset);
        }
        let mut out = Sql::new(d);
        out.push("SELECT ");
        out.push(match d {
            Dialect::Postgres => "coalesce(json_agg(q.j ORDER BY q.n), '[]'::json)::text",
            Dialect::Sqlite => "coalesce(json_group_array(json(q.j) ORDER BY q.n), '[]')",
            Dialect::MySql => {
                "COALESCE(JSON_ARRAYAGG(JSON_EXTRACT(q.j, '$') ORDER BY q.n), JSON_ARRAY())"
            }
        });
        out.push(" AS data FROM (").append(&inner).push(") q");
        Ok(out)
    }

    /// Groups sort by the requested group keys (`sort=-status`), else by the first one.
    fn group_order(
        &self,
        c: &Collection,
        alias: &str,
        query: &Query,
        group_exprs: &[String],
    ) -> Result<String, CompileError> {
        let mut terms = Vec::new();
        for s in &query.sort {
            let Some(i) = query.group_by.iter().position(|g| *g == s.field) else {
                return Err(CompileError::Invalid(format!(
                    "Can't sort grouped results by \"{}\": sort by one of the groupBy fields",
                    s.field
                )));
            };
            terms.push(format!(
                "{} {}",
                group_exprs[i],
                if s.descending { "DESC" } else { "ASC" }
            ));
        }
        if terms.is_empty() {
            terms.push(format!("{} ASC", group_exprs[0]));
        }
        let _ = (c, alias);
        Ok(terms.join(", "))
    }
}

/// Sums and averages come back as JSON numbers on every database (PostgreSQL's `numeric`
/// and MariaDB's `DECIMAL` results would otherwise differ in form).
fn numeric_json(d: Dialect, function: &Aggregate, expr: &str) -> String {
    match (d, function) {
        (
            Dialect::Postgres,
            Aggregate::Sum | Aggregate::SumDistinct | Aggregate::Avg | Aggregate::AvgDistinct,
        ) => {
            format!("CAST({expr} AS double precision)")
        }
        (
            Dialect::MySql,
            Aggregate::Sum | Aggregate::SumDistinct | Aggregate::Avg | Aggregate::AvgDistinct,
        ) => {
            format!("CAST({expr} AS DOUBLE)")
        }
        _ => expr.to_string(),
    }
}

/// MIN/MAX keep the field's JSON form (a timestamp stays an ISO string).
fn min_max(d: Dialect, f: &str, ty: FieldType, col: &str) -> String {
    json::value(d, ty, &format!("{f}({col})"))
}

//! Filters: `{"status": {"_eq": "Paid"}}`, `{"_and": [...]}`, relational
//! `{"customer": {"name": {"_eq": "x"}}}`, quantified `{"items": {"_some": {...}}}`,
//! functions `{"year(date)": {"_eq": 2024}}`. Parsed from JSON with Directus's checks on
//! operators and value shapes; names are checked against the schema later.

use super::parse::QueryError;
use serde_json::{Map, Value as Json};

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    /// A condition on one key of the current collection: a field name or `fn(field)`.
    Field {
        key: String,
        condition: Condition,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// Operators on the field's value, AND-ed: `{"_gte": 1, "_lt": 5}`.
    Ops(Vec<(Op, Json)>),
    /// A filter on the related item(s) (m2o; for o2m, "some related item matches").
    Related(Box<Filter>),
    /// o2m / m2m: some related item matches.
    Some(Box<Filter>),
    /// o2m / m2m: no related item matches.
    None(Box<Filter>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Eq,
    Neq,
    Lt,
    Lte,
    Gt,
    Gte,
    In,
    Nin,
    Null,
    Nnull,
    Contains,
    Ncontains,
    Icontains,
    Nicontains,
    StartsWith,
    NstartsWith,
    IstartsWith,
    NistartsWith,
    EndsWith,
    NendsWith,
    IendsWith,
    NiendsWith,
    Between,
    Nbetween,
    Empty,
    Nempty,
    /// Validation only (permission and field validation rules); refused in queries.
    Regex,
}

impl Op {
    pub fn parse(name: &str) -> Option<Op> {
        Some(match name {
            "_eq" => Op::Eq,
            "_neq" => Op::Neq,
            "_lt" => Op::Lt,
            "_lte" => Op::Lte,
            "_gt" => Op::Gt,
            "_gte" => Op::Gte,
            "_in" => Op::In,
            "_nin" => Op::Nin,
            "_null" => Op::Null,
            "_nnull" => Op::Nnull,
            "_contains" => Op::Contains,
            "_ncontains" => Op::Ncontains,
            "_icontains" => Op::Icontains,
            "_nicontains" => Op::Nicontains,
            "_starts_with" => Op::StartsWith,
            "_nstarts_with" => Op::NstartsWith,
            "_istarts_with" => Op::IstartsWith,
            "_nistarts_with" => Op::NistartsWith,
            "_ends_with" => Op::EndsWith,
            "_nends_with" => Op::NendsWith,
            "_iends_with" => Op::IendsWith,
            "_niends_with" => Op::NiendsWith,
            "_between" => Op::Between,
            "_nbetween" => Op::Nbetween,
            "_empty" => Op::Empty,
            "_nempty" => Op::Nempty,
            "_regex" => Op::Regex,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Op::Eq => "_eq",
            Op::Neq => "_neq",
            Op::Lt => "_lt",
            Op::Lte => "_lte",
            Op::Gt => "_gt",
            Op::Gte => "_gte",
            Op::In => "_in",
            Op::Nin => "_nin",
            Op::Null => "_null",
            Op::Nnull => "_nnull",
            Op::Contains => "_contains",
            Op::Ncontains => "_ncontains",
            Op::Icontains => "_icontains",
            Op::Nicontains => "_nicontains",
            Op::StartsWith => "_starts_with",
            Op::NstartsWith => "_nstarts_with",
            Op::IstartsWith => "_istarts_with",
            Op::NistartsWith => "_nistarts_with",
            Op::EndsWith => "_ends_with",
            Op::NendsWith => "_nends_with",
            Op::IendsWith => "_iends_with",
            Op::NiendsWith => "_niends_with",
            Op::Between => "_between",
            Op::Nbetween => "_nbetween",
            Op::Empty => "_empty",
            Op::Nempty => "_nempty",
            Op::Regex => "_regex",
        }
    }

    /// Operators whose value is a list (`_in`), or a pair (`_between`).
    fn takes_list(self) -> bool {
        matches!(self, Op::In | Op::Nin | Op::Between | Op::Nbetween)
    }
}

/// Largest `_in` list accepted; a bigger one is almost always a mistake or an attack, and
/// databases cap bind parameters (SQLite: 32,766; PostgreSQL: 65,535).
pub const MAX_IN_LIST: usize = 10_000;

/// Nesting of `_and`/`_or`/relations beyond which a filter is refused.
pub const MAX_FILTER_DEPTH: usize = 32;

/// Parses a filter object. `in_query`: `_regex` is only allowed in validation rules.
pub fn parse_filter(v: &Json, in_query: bool) -> Result<Filter, QueryError> {
    parse_at(v, in_query, 0)
}

fn parse_at(v: &Json, in_query: bool, depth: usize) -> Result<Filter, QueryError> {
    if depth > MAX_FILTER_DEPTH {
        return Err(QueryError::new("Filter is nested too deeply"));
    }
    let obj = v
        .as_object()
        .ok_or_else(|| QueryError::new("Filter must be an object"))?;
    let mut parts = Vec::new();
    for (key, value) in obj {
        match key.as_str() {
            "_and" | "_or" => {
                let items = value
                    .as_array()
                    .ok_or_else(|| QueryError::new(format!("\"{key}\" has to be an array")))?;
                let inner = items
                    .iter()
                    .map(|i| parse_at(i, in_query, depth + 1))
                    .collect::<Result<Vec<_>, _>>()?;
                parts.push(if key == "_and" {
                    Filter::And(inner)
                } else {
                    Filter::Or(inner)
                });
            }
            k if k.starts_with('_') => {
                return Err(QueryError::new(format!(
                    "\"{k}\" is not a valid filter key here"
                )));
            }
            k => parts.push(Filter::Field {
                key: k.to_string(),
                condition: parse_condition(k, value, in_query, depth)?,
            }),
        }
    }
    Ok(if parts.len() == 1 {
        parts.pop().expect("one")
    } else {
        Filter::And(parts)
    })
}

fn parse_condition(
    key: &str,
    v: &Json,
    in_query: bool,
    depth: usize,
) -> Result<Condition, QueryError> {
    let obj: &Map<String, Json> = v.as_object().ok_or_else(|| {
        QueryError::new(format!(
            "The filter for \"{key}\" must be an object of operators"
        ))
    })?;
    if obj.is_empty() {
        return Err(QueryError::new(format!(
            "The filter for \"{key}\" is empty"
        )));
    }
    let all_ops = obj.keys().all(|k| Op::parse(k).is_some());
    if all_ops {
        let mut ops = Vec::new();
        for (k, val) in obj {
            let op = Op::parse(k).expect("checked");
            if op == Op::Regex && in_query {
                return Err(QueryError::new(
                    "\"_regex\" can only be used in validation rules",
                ));
            }
            ops.push((op, check_value(op, val)?));
        }
        return Ok(Condition::Ops(ops));
    }
    if obj.len() == 1 {
        if let Some(inner) = obj.get("_some") {
            return Ok(Condition::Some(Box::new(parse_at(
                inner,
                in_query,
                depth + 1,
            )?)));
        }
        if let Some(inner) = obj.get("_none") {
            return Ok(Condition::None(Box::new(parse_at(
                inner,
                in_query,
                depth + 1,
            )?)));
        }
    }
    if let Some(bad) = obj.keys().find(|k| {
        k.starts_with('_')
            && Op::parse(k).is_none()
            && !matches!(k.as_str(), "_and" | "_or" | "_some" | "_none")
    }) {
        return Err(QueryError::new(format!(
            "Unknown filter operator \"{bad}\""
        )));
    }
    if obj.keys().any(|k| Op::parse(k).is_some()) {
        return Err(QueryError::new(format!(
            "The filter for \"{key}\" mixes operators and related fields"
        )));
    }
    Ok(Condition::Related(Box::new(parse_at(
        v,
        in_query,
        depth + 1,
    )?)))
}

/// Normalises and checks an operator's value the way Directus's validation does.
fn check_value(op: Op, v: &Json) -> Result<Json, QueryError> {
    let name = op.name();
    if op.takes_list() {
        // The query-string form sends lists as comma-separated text.
        let list = match v {
            Json::Array(items) => items.clone(),
            Json::String(s) => s.split(',').map(|p| Json::String(p.to_string())).collect(),
            Json::Number(_) | Json::Bool(_) if matches!(op, Op::In | Op::Nin) => vec![v.clone()],
            _ => {
                return Err(QueryError::new(format!(
                    "\"{name}\" has to be an array of values"
                )))
            }
        };
        if list.iter().any(|i| i.is_object() || i.is_array()) {
            return Err(QueryError::new(format!(
                "\"{name}\" has to be an array of values"
            )));
        }
        match op {
            Op::Between | Op::Nbetween if list.len() != 2 => {
                return Err(QueryError::new(format!(
                    "\"{name}\" has to be an array of two values"
                )));
            }
            Op::In | Op::Nin if list.is_empty() => {
                return Err(QueryError::new(format!(
                    "\"{name}\" has to be an array of values"
                )));
            }
            Op::In | Op::Nin if list.len() > MAX_IN_LIST => {
                return Err(QueryError::new(format!(
                    "\"{name}\" has more than {MAX_IN_LIST} values"
                )));
            }
            _ => {}
        }
        return Ok(Json::Array(list));
    }
    match op {
        Op::Null | Op::Nnull | Op::Empty | Op::Nempty => match v {
            Json::Bool(_) => Ok(v.clone()),
            Json::String(s) if s == "true" || s == "false" => Ok(Json::Bool(s == "true")),
            Json::String(s) if s.is_empty() => Ok(Json::Bool(true)),
            _ => Err(QueryError::new(format!("\"{name}\" has to be a boolean"))),
        },
        _ => match v {
            Json::String(s) if s.is_empty() => Err(QueryError::new(format!(
                "You can't filter for an empty string in \"{name}\". Use \"_empty\" or \"_nempty\" instead"
            ))),
            Json::String(_) | Json::Number(_) | Json::Bool(_) | Json::Null => Ok(v.clone()),
            _ => Err(QueryError::new(format!(
                "The filter value for \"{name}\" has to be a string, number, or boolean"
            ))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(v: Json) -> Result<Filter, QueryError> {
        parse_filter(&v, true)
    }

    #[test]
    fn parses_fields_logic_and_relations() {
        assert_eq!(
            f(json!({"status": {"_eq": "Paid"}})).unwrap(),
            Filter::Field {
                key: "status".into(),
                condition: Condition::Ops(vec![(Op::Eq, json!("Paid"))])
            }
        );
        let Filter::Or(items) =
            f(json!({"_or": [{"a": {"_gt": 1}}, {"_and": [{"b": {"_null": true}}]}]})).unwrap()
        else {
            panic!()
        };
        assert_eq!(items.len(), 2);
        assert!(matches!(
            f(json!({"customer": {"name": {"_icontains": "x"}}})).unwrap(),
            Filter::Field {
                condition: Condition::Related(_),
                ..
            }
        ));
        assert!(matches!(
            f(json!({"items": {"_none": {"qty": {"_gt": 1}}}})).unwrap(),
            Filter::Field {
                condition: Condition::None(_),
                ..
            }
        ));
        assert!(
            matches!(f(json!({"a": {"_eq": 1}, "b": {"_eq": 2}})).unwrap(), Filter::And(v) if v.len() == 2)
        );
    }

    #[test]
    fn normalises_list_values() {
        let Filter::Field {
            condition: Condition::Ops(ops),
            ..
        } = f(json!({"id": {"_in": "1,2,3"}})).unwrap()
        else {
            panic!()
        };
        assert_eq!(ops[0].1, json!(["1", "2", "3"]));
        let Filter::Field {
            condition: Condition::Ops(ops),
            ..
        } = f(json!({"n": {"_null": "true"}})).unwrap()
        else {
            panic!()
        };
        assert_eq!(ops[0].1, json!(true));
    }

    #[test]
    fn refuses_bad_filters_with_directus_messages() {
        let msg = |v| f(v).unwrap_err().to_string();
        assert!(msg(json!({"a": {"_bogus": 1}})).contains("Unknown filter operator \"_bogus\""));
        assert!(msg(json!({"a": {"_in": {"x": 1}}})).contains("\"_in\" has to be an array"));
        assert!(msg(json!({"a": {"_in": []}})).contains("\"_in\" has to be an array"));
        assert!(msg(json!({"a": {"_between": [1]}})).contains("two values"));
        assert!(msg(json!({"a": {"_eq": ""}}))
            .contains("You can't filter for an empty string in \"_eq\""));
        assert!(
            msg(json!({"a": {"_eq": {"x": 1}}})).contains("has to be a string, number, or boolean")
        );
        assert!(msg(json!({"a": {"_null": 5}})).contains("has to be a boolean"));
        assert!(msg(json!({"a": {"_regex": "x"}})).contains("validation rules"));
        assert!(msg(json!({"_and": {"a": 1}})).contains("\"_and\" has to be an array"));
        assert!(msg(json!([1])).contains("must be an object"));
        let huge: Vec<i64> = (0..10_001).collect();
        assert!(msg(json!({"a": {"_in": huge}})).contains("more than"));
        let mut deep = json!({"a": {"_eq": 1}});
        for _ in 0..40 {
            deep = json!({"_and": [deep]});
        }
        assert!(msg(deep).contains("too deeply"));
        assert!(parse_filter(&json!({"a": {"_regex": "^x"}}), false).is_ok());
    }
}

//! From the wire to [`Query`]: the query string (`?filter[a][_eq]=1&limit=10`) or a JSON
//! object (`SEARCH` bodies, `PATCH {query}`), with Directus's validation messages. Every
//! problem is an `INVALID_QUERY` with a reason a client can act on.

use super::filter::parse_filter;
use super::{qs, Aggregate, Export, Meta, Query, Sort};
use serde_json::{Map, Value as Json};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct QueryError {
    pub reason: String,
}

impl QueryError {
    pub fn new(reason: impl Into<String>) -> Self {
        QueryError {
            reason: reason.into(),
        }
    }
}

impl From<qs::QsError> for QueryError {
    fn from(e: qs::QsError) -> Self {
        QueryError::new(e.to_string())
    }
}

/// Parses a raw query string (without the `?`).
pub fn parse_query_string(raw: &str) -> Result<Query, QueryError> {
    let tree = qs::parse(raw)?;
    parse_json(&Json::Object(tree))
}

/// Parses a query object. Unknown keys are ignored, as Directus does.
pub fn parse_json(v: &Json) -> Result<Query, QueryError> {
    let obj = v
        .as_object()
        .ok_or_else(|| QueryError::new("Query must be an object"))?;
    parse_object(obj, "", 0)
}

/// `prefix` is `_` inside `deep` (where keys are `_filter`, `_limit` …).
fn parse_object(obj: &Map<String, Json>, prefix: &str, depth: usize) -> Result<Query, QueryError> {
    let get = |k: &str| obj.get(&format!("{prefix}{k}"));
    let mut q = Query::default();
    if let Some(v) = get("fields") {
        q.fields = Some(string_list(v, "fields")?);
    }
    if let Some(v) = get("filter") {
        let parsed = json_param(v, "Invalid JSON for filter object")?;
        if !(parsed.is_null() || parsed.as_object().is_some_and(|o| o.is_empty())) {
            q.filter = Some(parse_filter(&parsed, true)?);
        }
    }
    if let Some(v) = get("search") {
        match v {
            Json::String(s) => {
                let s = s.trim();
                if !s.is_empty() {
                    q.search = Some(s.to_string());
                }
            }
            Json::Number(n) => q.search = Some(n.to_string()),
            Json::Null => {}
            _ => return Err(QueryError::new("\"search\" must be a string")),
        }
    }
    if let Some(v) = get("sort") {
        q.sort = string_list(v, "sort")?
            .into_iter()
            .map(|s| match s.strip_prefix('-') {
                Some(f) => Sort {
                    field: f.to_string(),
                    descending: true,
                },
                None => Sort {
                    field: s,
                    descending: false,
                },
            })
            .collect();
        if q.sort.iter().any(|s| s.field.is_empty()) {
            return Err(QueryError::new("\"sort\" contains an empty field"));
        }
    }
    if let Some(v) = get("limit") {
        let n = integer(v, "limit")?;
        if n < -1 {
            return Err(QueryError::new(
                "\"limit\" must be greater than or equal to -1",
            ));
        }
        q.limit = Some(n);
    }
    if let Some(v) = get("offset") {
        let n = integer(v, "offset")?;
        if n < 0 {
            return Err(QueryError::new(
                "\"offset\" must be greater than or equal to 0",
            ));
        }
        q.offset = Some(n as u64);
    }
    if let Some(v) = get("page") {
        let n = integer(v, "page")?;
        if n < 0 {
            return Err(QueryError::new(
                "\"page\" must be greater than or equal to 0",
            ));
        }
        q.page = Some(n as u64);
    }
    if let Some(v) = get("aggregate") {
        let parsed = json_param(v, "Invalid JSON for aggregate object")?;
        let agg = parsed
            .as_object()
            .ok_or_else(|| QueryError::new("\"aggregate\" must be an object"))?;
        for (name, fields) in agg {
            let f = Aggregate::parse(name)
                .ok_or_else(|| QueryError::new(format!("\"aggregate.{name}\" is not allowed")))?;
            q.aggregate
                .insert(f, string_list(fields, &format!("aggregate.{name}"))?);
        }
    }
    if let Some(v) = get("groupBy") {
        q.group_by = string_list(v, "groupBy")?;
    }
    if let Some(v) = get("alias") {
        let parsed = json_param(v, "Invalid JSON for alias object")?;
        let alias = parsed
            .as_object()
            .ok_or_else(|| QueryError::new("\"alias\" must be an object"))?;
        for (k, target) in alias {
            let target = target
                .as_str()
                .ok_or_else(|| QueryError::new(format!("\"alias.{k}\" must be a string")))?;
            if k.contains('.') || target.contains('.') {
                return Err(QueryError::new("\"alias\" field can't contain a \".\""));
            }
            q.alias.insert(k.clone(), target.to_string());
        }
    }
    if let Some(v) = get("deep") {
        let parsed = json_param(v, "Invalid JSON for deep object")?;
        q.deep = parse_deep(&parsed, depth)?;
    }
    // Inside `deep`, relation keys (without `_`) nest further.
    if !prefix.is_empty() {
        let nested: Map<String, Json> = obj
            .iter()
            .filter(|(k, _)| !k.starts_with('_'))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !nested.is_empty() {
            let more = parse_deep(&Json::Object(nested), depth)?;
            q.deep.extend(more);
        }
    }
    if let Some(v) = get("meta") {
        for m in string_list(v, "meta")? {
            match m.as_str() {
                "*" => q.meta = vec![Meta::TotalCount, Meta::FilterCount],
                "total_count" => q.meta.push(Meta::TotalCount),
                "filter_count" => q.meta.push(Meta::FilterCount),
                other => {
                    return Err(QueryError::new(format!(
                        "\"meta\" value \"{other}\" is not allowed"
                    )))
                }
            }
        }
        q.meta.dedup();
    }
    if let Some(v) = get("export") {
        q.export = Some(match v.as_str() {
            Some("json") => Export::Json,
            Some("csv") => Export::Csv,
            Some("csv_utf8") => Export::CsvUtf8,
            Some("xml") => Export::Xml,
            Some("yaml") => Export::Yaml,
            _ => {
                return Err(QueryError::new(
                    "\"export\" must be one of json, csv, csv_utf8, xml, yaml",
                ))
            }
        });
    }
    Ok(q)
}

fn parse_deep(v: &Json, depth: usize) -> Result<indexmap::IndexMap<String, Query>, QueryError> {
    if depth >= 10 {
        return Err(QueryError::new("Max relational depth exceeded"));
    }
    let obj = v
        .as_object()
        .ok_or_else(|| QueryError::new("\"deep\" must be an object"))?;
    let mut out = indexmap::IndexMap::new();
    for (rel, inner) in obj {
        let inner = inner
            .as_object()
            .ok_or_else(|| QueryError::new(format!("\"deep.{rel}\" must be an object")))?;
        out.insert(rel.clone(), parse_object(inner, "_", depth + 1)?);
    }
    Ok(out)
}

/// A JSON-valued parameter: an object already (bracket form, JSON bodies) or JSON text.
fn json_param(v: &Json, bad_json: &str) -> Result<Json, QueryError> {
    match v {
        Json::String(s) => serde_json::from_str(s).map_err(|_| QueryError::new(bad_json)),
        other => Ok(other.clone()),
    }
}

/// `a,b` or `["a", "b,c"]` → `[a, b, c]`, trimmed, empties dropped.
fn string_list(v: &Json, name: &str) -> Result<Vec<String>, QueryError> {
    let mut out = Vec::new();
    let mut push = |s: &str| {
        out.extend(
            s.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_string),
        );
    };
    match v {
        Json::String(s) => push(s),
        Json::Array(items) => {
            for i in items {
                match i {
                    Json::String(s) => push(s),
                    _ => {
                        return Err(QueryError::new(format!(
                            "\"{name}\" must be a list of strings"
                        )))
                    }
                }
            }
        }
        Json::Null => {}
        _ => {
            return Err(QueryError::new(format!(
                "\"{name}\" must be a string or a list of strings"
            )))
        }
    }
    Ok(out)
}

fn integer(v: &Json, name: &str) -> Result<i64, QueryError> {
    let bad = || QueryError::new(format!("\"{name}\" must be a number"));
    match v {
        Json::Number(n) => n.as_i64().ok_or_else(bad),
        Json::String(s) => s.trim().parse().map_err(|_| bad()),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::{Condition, Filter, Op};
    use serde_json::json;

    #[test]
    fn parses_a_full_query_string() {
        let q = parse_query_string(
            "fields=*,customer.name&filter[status][_eq]=Paid&sort=-amount,id&limit=10&offset=5&page=2&meta=*&search=lap&export=csv",
        )
        .unwrap();
        assert_eq!(q.fields, Some(vec!["*".into(), "customer.name".into()]));
        assert_eq!(
            q.filter,
            Some(Filter::Field {
                key: "status".into(),
                condition: Condition::Ops(vec![(Op::Eq, json!("Paid"))])
            })
        );
        assert_eq!(
            q.sort,
            vec![
                Sort {
                    field: "amount".into(),
                    descending: true
                },
                Sort {
                    field: "id".into(),
                    descending: false
                }
            ]
        );
        assert_eq!((q.limit, q.offset, q.page), (Some(10), Some(5), Some(2)));
        assert_eq!(q.meta, vec![Meta::TotalCount, Meta::FilterCount]);
        assert_eq!(q.search.as_deref(), Some("lap"));
        assert_eq!(q.export, Some(Export::Csv));
    }

    #[test]
    fn json_forms_match_bracket_forms() {
        let a = parse_query_string("filter=%7B%22status%22%3A%7B%22_eq%22%3A%22Paid%22%7D%7D&aggregate=%7B%22sum%22%3A%22amount%22%7D").unwrap();
        let b = parse_query_string("filter[status][_eq]=Paid&aggregate[sum]=amount").unwrap();
        assert_eq!(a, b);
        assert_eq!(
            b.aggregate.get(&Aggregate::Sum),
            Some(&vec!["amount".to_string()])
        );
    }

    #[test]
    fn parses_deep_and_alias() {
        let q = parse_query_string("deep[items][_limit]=3&deep[items][_filter][qty][_gt]=1&deep[items][product][_sort]=-name&alias[two]=items").unwrap();
        let items = &q.deep["items"];
        assert_eq!(items.limit, Some(3));
        assert!(items.filter.is_some());
        assert_eq!(items.deep["product"].sort[0].field, "name");
        assert_eq!(q.alias["two"], "items");
    }

    #[test]
    fn bad_queries_say_why() {
        let e = |s: &str| parse_query_string(s).unwrap_err().reason;
        assert_eq!(
            e("limit=-2"),
            "\"limit\" must be greater than or equal to -1"
        );
        assert_eq!(e("limit=abc"), "\"limit\" must be a number");
        assert_eq!(
            e("offset=-1"),
            "\"offset\" must be greater than or equal to 0"
        );
        assert_eq!(e("filter={bad"), "Invalid JSON for filter object");
        assert_eq!(e("meta=bogus"), "\"meta\" value \"bogus\" is not allowed");
        assert_eq!(
            e("aggregate[median]=a"),
            "\"aggregate.median\" is not allowed"
        );
        assert_eq!(e("alias[a.b]=c"), "\"alias\" field can't contain a \".\"");
        assert_eq!(
            e("export=pdf"),
            "\"export\" must be one of json, csv, csv_utf8, xml, yaml"
        );
        assert_eq!(e("filter[a][_eq]="), "You can't filter for an empty string in \"_eq\". Use \"_empty\" or \"_nempty\" instead");
        assert!(e("fields[501]=a").contains("array index"));
    }

    #[test]
    fn unknown_parameters_are_ignored() {
        assert_eq!(
            parse_query_string("access_token=x&foo=bar").unwrap(),
            Query::default()
        );
    }
}

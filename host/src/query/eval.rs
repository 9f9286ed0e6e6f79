//! Filters evaluated in memory against a JSON document — the flow `condition` operation's
//! check of the data chain — with the same parsed [`Filter`] AST the compiler turns into
//! SQL, so one parser and one set of operator rules serve both. Nested objects are
//! followed like relations (an array matches when some element does), as Directus's
//! validation does for `{"$trigger": {"payload": {"status": {"_eq": "x"}}}}`.
//!
//! Owns: the in-memory semantics of each operator. Must not touch: SQL, the schema.

use super::filter::{parse_filter, Condition, Filter, Op};
use super::parse::QueryError;
use serde_json::{json, Value as Json};
use std::cmp::Ordering;

/// Why a document failed: the path to the value (`["$trigger", "payload", "status"]`),
/// the operator and its expected value.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub path: Vec<String>,
    pub op: Op,
    pub expected: Json,
}

impl Failure {
    /// Directus's `FAILED_VALIDATION` message and extensions: `field` is the first path
    /// segment, `path` the rest, `type` the operator without its underscore.
    pub fn message(&self) -> String {
        let field = self.path.first().cloned().unwrap_or_default();
        let rule = match self.op {
            Op::Eq => format!("Value has to be {}", self.expected),
            Op::Neq => format!("Value can't be {}", self.expected),
            Op::Null => "Value has to be null".into(),
            Op::Nnull => "Value can't be null".into(),
            Op::Empty => "Value has to be empty".into(),
            Op::Nempty => "Value can't be empty".into(),
            Op::In => format!("Value has to be one of {}", self.expected),
            Op::Nin => format!("Value can't be one of {}", self.expected),
            op => format!("Value doesn't match {} {}", op.name(), self.expected),
        };
        format!("Validation failed for field \"{field}\". {rule}.")
    }

    pub fn extensions(&self) -> serde_json::Map<String, Json> {
        let mut m = serde_json::Map::new();
        m.insert("field".into(), json!(self.path.first()));
        m.insert(
            "path".into(),
            json!(self.path.iter().skip(1).collect::<Vec<_>>()),
        );
        m.insert("type".into(), json!(self.op.name().trim_start_matches('_')));
        m.insert("valid".into(), self.expected.clone());
        m
    }
}

/// Parses `filter` (validation rules: `_regex` allowed by the parser) and checks `doc`.
/// Returns the failures; empty when it passes.
pub fn check(filter: &Json, doc: &Json) -> Result<Vec<Failure>, QueryError> {
    if filter.as_object().is_some_and(|o| o.is_empty()) {
        return Ok(Vec::new());
    }
    let f = parse_filter(filter, false)?;
    let mut path = Vec::new();
    Ok(eval(&f, doc, &mut path).err().into_iter().collect())
}

fn eval(f: &Filter, doc: &Json, path: &mut Vec<String>) -> Result<(), Failure> {
    match f {
        Filter::And(parts) => parts.iter().try_for_each(|p| eval(p, doc, path)),
        Filter::Or(parts) => {
            let mut first = None;
            for p in parts {
                match eval(p, doc, path) {
                    Ok(()) => return Ok(()),
                    Err(e) => {
                        first.get_or_insert(e);
                    }
                }
            }
            first.map_or(Ok(()), Err)
        }
        Filter::Field { key, condition } => {
            path.push(key.clone());
            let value = doc.get(key).unwrap_or(&Json::Null);
            let r = field(condition, value, path);
            path.pop();
            r
        }
    }
}

fn field(c: &Condition, value: &Json, path: &mut Vec<String>) -> Result<(), Failure> {
    match c {
        Condition::Ops(ops) => {
            for (op, expected) in ops {
                if !holds(*op, value, expected) {
                    return Err(Failure {
                        path: path.clone(),
                        op: *op,
                        expected: expected.clone(),
                    });
                }
            }
            Ok(())
        }
        Condition::Related(inner) => match value {
            Json::Array(items) => some(inner, items, path),
            other => eval(inner, other, path),
        },
        Condition::Some(inner) => some(inner, value.as_array().map_or(&[][..], |a| a), path),
        Condition::None(inner) => {
            let items = value.as_array().map_or(&[][..], |a| a);
            match items
                .iter()
                .find(|i| eval(inner, i, &mut path.clone()).is_ok())
            {
                Some(_) => Err(Failure {
                    path: path.clone(),
                    op: Op::Empty,
                    expected: Json::Null,
                }),
                None => Ok(()),
            }
        }
    }
}

fn some(inner: &Filter, items: &[Json], path: &mut Vec<String>) -> Result<(), Failure> {
    let mut first = None;
    for i in items {
        match eval(inner, i, path) {
            Ok(()) => return Ok(()),
            Err(e) => {
                first.get_or_insert(e);
            }
        }
    }
    Err(first.unwrap_or(Failure {
        path: path.clone(),
        op: Op::Nempty,
        expected: Json::Null,
    }))
}

fn number(v: &Json) -> Option<f64> {
    match v {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => s.trim().parse().ok(),
        Json::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

fn text(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Numbers compare as numbers (`"5"` equals `5`, as the text a form sends), other
/// values by their text (ISO dates order correctly as text).
fn compare(a: &Json, b: &Json) -> Option<Ordering> {
    if a.is_null() || b.is_null() {
        return None;
    }
    if let (Some(x), Some(y)) = (number(a), number(b)) {
        if !(a.is_string() && b.is_string()) {
            return x.partial_cmp(&y);
        }
    }
    Some(text(a)?.cmp(&text(b)?))
}

fn equal(a: &Json, b: &Json) -> bool {
    a == b || compare(a, b) == Some(Ordering::Equal)
}

fn truthy(v: &Json) -> bool {
    !matches!(v, Json::Bool(false) | Json::Null) && !matches!(v, Json::String(s) if s == "false")
}

fn is_empty(v: &Json) -> bool {
    match v {
        Json::Null => true,
        Json::String(s) => s.is_empty(),
        Json::Array(a) => a.is_empty(),
        Json::Object(o) => o.is_empty(),
        _ => false,
    }
}

fn contains(value: &Json, needle: &Json, fold: bool) -> bool {
    match value {
        Json::Array(items) => items.iter().any(|i| equal(i, needle)),
        _ => match (text(value), text(needle)) {
            (Some(h), Some(n)) if fold => h.to_lowercase().contains(&n.to_lowercase()),
            (Some(h), Some(n)) => h.contains(&n),
            _ => false,
        },
    }
}

fn affix(value: &Json, needle: &Json, fold: bool, start: bool) -> bool {
    let (Some(mut h), Some(mut n)) = (text(value), text(needle)) else {
        return false;
    };
    if fold {
        h = h.to_lowercase();
        n = n.to_lowercase();
    }
    if start {
        h.starts_with(&n)
    } else {
        h.ends_with(&n)
    }
}

fn holds(op: Op, value: &Json, expected: &Json) -> bool {
    let list = || expected.as_array().map_or(&[][..], |a| a);
    let between = || {
        let l = list();
        l.len() == 2
            && compare(value, &l[0]).is_some_and(|o| o != Ordering::Less)
            && compare(value, &l[1]).is_some_and(|o| o != Ordering::Greater)
    };
    match op {
        Op::Eq => equal(value, expected),
        // Negations never match a missing value, as in queries.
        Op::Neq => !value.is_null() && !equal(value, expected),
        Op::Lt => compare(value, expected) == Some(Ordering::Less),
        Op::Lte => compare(value, expected).is_some_and(|o| o != Ordering::Greater),
        Op::Gt => compare(value, expected) == Some(Ordering::Greater),
        Op::Gte => compare(value, expected).is_some_and(|o| o != Ordering::Less),
        Op::In => list().iter().any(|e| equal(value, e)),
        Op::Nin => !value.is_null() && !list().iter().any(|e| equal(value, e)),
        Op::Null => value.is_null() == truthy(expected),
        Op::Nnull => value.is_null() != truthy(expected),
        Op::Empty => is_empty(value) == truthy(expected),
        Op::Nempty => is_empty(value) != truthy(expected),
        Op::Contains => contains(value, expected, false),
        Op::Icontains => contains(value, expected, true),
        Op::Ncontains => !value.is_null() && !contains(value, expected, false),
        Op::Nicontains => !value.is_null() && !contains(value, expected, true),
        Op::StartsWith => affix(value, expected, false, true),
        Op::IstartsWith => affix(value, expected, true, true),
        Op::NstartsWith => !value.is_null() && !affix(value, expected, false, true),
        Op::NistartsWith => !value.is_null() && !affix(value, expected, true, true),
        Op::EndsWith => affix(value, expected, false, false),
        Op::IendsWith => affix(value, expected, true, false),
        Op::NendsWith => !value.is_null() && !affix(value, expected, false, false),
        Op::NiendsWith => !value.is_null() && !affix(value, expected, true, false),
        Op::Between => between(),
        Op::Nbetween => !value.is_null() && !between(),
        // No regex engine is linked for in-memory checks; a rule using it never passes,
        // so a flow does not silently take the resolve path.
        Op::Regex => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fails(filter: Json, doc: Json) -> Vec<Failure> {
        check(&filter, &doc).unwrap()
    }

    #[test]
    fn nested_paths_and_operators() {
        let doc = json!({"$trigger": {"payload": {"status": "published", "amount": "12.5", "tags": ["a", "b"], "items": [{"n": 1}, {"n": 5}]}}});
        assert!(fails(
            json!({"$trigger": {"payload": {"status": {"_eq": "published"}}}}),
            doc.clone()
        )
        .is_empty());
        assert!(fails(
            json!({"$trigger": {"payload": {"amount": {"_gt": 10, "_lte": 12.5}}}}),
            doc.clone()
        )
        .is_empty());
        assert!(fails(
            json!({"$trigger": {"payload": {"tags": {"_contains": "b"}}}}),
            doc.clone()
        )
        .is_empty());
        assert!(fails(
            json!({"$trigger": {"payload": {"items": {"n": {"_gte": 5}}}}}),
            doc.clone()
        )
        .is_empty());
        assert!(fails(json!({"_or": [{"$trigger": {"payload": {"status": {"_eq": "x"}}}}, {"$trigger": {"payload": {"status": {"_istarts_with": "PUB"}}}}]}), doc.clone()).is_empty());
        assert!(fails(
            json!({"$trigger": {"payload": {"missing": {"_null": true}}}}),
            doc.clone()
        )
        .is_empty());
        assert!(fails(json!({}), doc.clone()).is_empty());

        let f = fails(
            json!({"$trigger": {"payload": {"status": {"_eq": "draft"}}}}),
            doc.clone(),
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].path, ["$trigger", "payload", "status"]);
        let ext = f[0].extensions();
        assert_eq!(ext["field"], "$trigger");
        assert_eq!(ext["path"], json!(["payload", "status"]));
        assert_eq!(ext["type"], "eq");
        assert!(!fails(
            json!({"$trigger": {"payload": {"missing": {"_neq": 1}}}}),
            doc.clone()
        )
        .is_empty());
        assert!(!fails(
            json!({"$trigger": {"payload": {"amount": {"_between": [1, 5]}}}}),
            doc
        )
        .is_empty());
        assert!(check(&json!({"a": {"_bogus": 1}}), &json!({})).is_err());
    }
}

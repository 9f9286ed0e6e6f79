//! Checking a write's payload against a permission's `validation` filter, in memory, as
//! Directus does (its Joi schema from the filter): every condition on a field the payload
//! holds must pass; on a create, a field the payload lacks is checked as `null`, on an
//! update it is not checked. The first failure is reported with Directus's
//! `FAILED_VALIDATION` details (`field`, `type`, `valid`/`invalid`/`substring`).

use crate::query::values::resolve_now;
use crate::query::{Condition, Filter, Op};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};
use std::cmp::Ordering;

/// A failed condition.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("Validation failed for field \"{field}\". {text}")]
pub struct ValidationFailure {
    pub field: String,
    /// The operator without its underscore (`gt`, `regex` …).
    pub kind: &'static str,
    pub text: String,
    /// `("valid", 5)` and the like, for the error's extensions.
    pub detail: Option<Box<(&'static str, Json)>>,
}

pub fn check(
    filter: &Filter,
    payload: &Map<String, Json>,
    create: bool,
    now: DateTime<Utc>,
) -> Result<(), ValidationFailure> {
    match filter {
        Filter::And(items) => items
            .iter()
            .try_for_each(|f| check(f, payload, create, now)),
        Filter::Or(items) => {
            let mut first = None;
            for f in items {
                match check(f, payload, create, now) {
                    Ok(()) => return Ok(()),
                    Err(e) => {
                        first.get_or_insert(e);
                    }
                }
            }
            first.map_or(Ok(()), Err)
        }
        Filter::Field { key, condition } => {
            let value = match payload.get(key) {
                Some(v) => v,
                None if create => &Json::Null,
                None => return Ok(()),
            };
            match condition {
                Condition::Ops(ops) => ops
                    .iter()
                    .try_for_each(|(op, want)| check_op(key, *op, value, want, now)),
                Condition::Related(inner) | Condition::Some(inner) => match value {
                    Json::Object(o) => check(inner, o, create, now),
                    _ => Ok(()),
                },
                Condition::None(_) => Ok(()),
            }
        }
    }
}

/// A filter value with `$NOW` resolved.
fn resolved(v: &Json, now: DateTime<Utc>) -> Json {
    if let Json::String(s) = v {
        if let Ok(Some(t)) = resolve_now(s, now) {
            return Json::from(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        }
    }
    v.clone()
}

fn compare(a: &Json, b: &Json) -> Option<Ordering> {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Json::Number(x), Json::String(y)) => x.as_f64()?.partial_cmp(&y.parse::<f64>().ok()?),
        (Json::String(x), Json::Number(y)) => x.parse::<f64>().ok()?.partial_cmp(&y.as_f64()?),
        (Json::String(x), Json::String(y)) => Some(x.cmp(y)),
        (Json::Bool(x), Json::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn equal(a: &Json, b: &Json) -> bool {
    compare(a, b) == Some(Ordering::Equal) || a == b
}

fn as_text(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn check_op(
    field: &str,
    op: Op,
    value: &Json,
    want: &Json,
    now: DateTime<Utc>,
) -> Result<(), ValidationFailure> {
    let want = resolved(want, now);
    let fail = |text: String, detail: Option<(&'static str, Json)>| ValidationFailure {
        field: field.to_string(),
        kind: op.name().trim_start_matches('_'),
        text,
        detail: detail.map(Box::new),
    };
    let shown = |v: &Json| as_text(v).unwrap_or_else(|| v.to_string());
    let list = |v: &Json| v.as_array().cloned().unwrap_or_else(|| vec![v.clone()]);
    let ord = |o: &[Ordering]| compare(value, &want).is_some_and(|c| o.contains(&c));
    let text_of = as_text(value).unwrap_or_default();
    let needle = as_text(&want).unwrap_or_default();
    let ok = match op {
        Op::Eq => want.is_null() && value.is_null() || equal(value, &want),
        Op::Neq => !(want.is_null() && value.is_null() || equal(value, &want)),
        Op::Lt => ord(&[Ordering::Less]),
        Op::Lte => ord(&[Ordering::Less, Ordering::Equal]),
        Op::Gt => ord(&[Ordering::Greater]),
        Op::Gte => ord(&[Ordering::Greater, Ordering::Equal]),
        Op::In => list(&want).iter().any(|w| equal(value, w)),
        Op::Nin => !list(&want).iter().any(|w| equal(value, w)),
        Op::Null => value.is_null() == want.as_bool().unwrap_or(true),
        Op::Nnull => value.is_null() != want.as_bool().unwrap_or(true),
        Op::Empty | Op::Nempty => {
            let empty = value.is_null() || text_of.is_empty() && value.is_string();
            empty == ((op == Op::Empty) == want.as_bool().unwrap_or(true))
        }
        Op::Contains => !value.is_null() && text_of.contains(&needle),
        Op::Ncontains => value.is_null() || !text_of.contains(&needle),
        Op::Icontains => {
            !value.is_null() && text_of.to_lowercase().contains(&needle.to_lowercase())
        }
        Op::Nicontains => {
            value.is_null() || !text_of.to_lowercase().contains(&needle.to_lowercase())
        }
        Op::StartsWith => !value.is_null() && text_of.starts_with(&needle),
        Op::NstartsWith => value.is_null() || !text_of.starts_with(&needle),
        Op::IstartsWith => {
            !value.is_null() && text_of.to_lowercase().starts_with(&needle.to_lowercase())
        }
        Op::NistartsWith => {
            value.is_null() || !text_of.to_lowercase().starts_with(&needle.to_lowercase())
        }
        Op::EndsWith => !value.is_null() && text_of.ends_with(&needle),
        Op::NendsWith => value.is_null() || !text_of.ends_with(&needle),
        Op::IendsWith => {
            !value.is_null() && text_of.to_lowercase().ends_with(&needle.to_lowercase())
        }
        Op::NiendsWith => {
            value.is_null() || !text_of.to_lowercase().ends_with(&needle.to_lowercase())
        }
        Op::Between | Op::Nbetween => {
            let bounds = list(&want);
            let inside = bounds.len() == 2
                && compare(value, &bounds[0]).is_some_and(|c| c != Ordering::Less)
                && compare(value, &bounds[1]).is_some_and(|c| c != Ordering::Greater);
            inside == (op == Op::Between)
        }
        Op::Regex => {
            let pattern = needle.trim_start_matches('/');
            let pattern = pattern.rsplit_once('/').map(|(p, _)| p).unwrap_or(pattern);
            !value.is_null() && regex_lite::Regex::new(pattern).is_ok_and(|r| r.is_match(&text_of))
        }
    };
    if ok {
        return Ok(());
    }
    let w = shown(&want);
    Err(match op {
        Op::Eq => fail(
            format!("Value has to be {w}."),
            Some(("valid", want.clone())),
        ),
        Op::Neq => fail(
            format!("Value can't be {w}."),
            Some(("invalid", want.clone())),
        ),
        Op::Lt => fail(
            format!("Value has to be less than {w}."),
            Some(("valid", want.clone())),
        ),
        Op::Lte => fail(
            format!("Value has to be less than or equal to {w}."),
            Some(("valid", want.clone())),
        ),
        Op::Gt => fail(
            format!("Value has to be greater than {w}."),
            Some(("valid", want.clone())),
        ),
        Op::Gte => fail(
            format!("Value has to be greater than or equal to {w}."),
            Some(("valid", want.clone())),
        ),
        Op::In => fail(
            format!(
                "Value has to be one of {}.",
                list(&want).iter().map(shown).collect::<Vec<_>>().join(", ")
            ),
            Some(("valid", want.clone())),
        ),
        Op::Nin => fail(
            format!(
                "Value can't be one of {}.",
                list(&want).iter().map(shown).collect::<Vec<_>>().join(", ")
            ),
            Some(("invalid", want.clone())),
        ),
        Op::Null => fail("Value has to be null.".into(), None),
        Op::Nnull => fail("Value can't be null.".into(), None),
        Op::Empty => fail("Value has to be empty.".into(), None),
        Op::Nempty => fail("Value can't be empty.".into(), None),
        Op::Contains | Op::Icontains => fail(
            format!("Value has to contain {w}."),
            Some(("substring", want.clone())),
        ),
        Op::Ncontains | Op::Nicontains => fail(
            format!("Value can't contain {w}."),
            Some(("substring", want.clone())),
        ),
        Op::StartsWith | Op::IstartsWith => fail(
            format!("Value has to start with {w}."),
            Some(("substring", want.clone())),
        ),
        Op::NstartsWith | Op::NistartsWith => fail(
            format!("Value can't start with {w}."),
            Some(("substring", want.clone())),
        ),
        Op::EndsWith | Op::IendsWith => fail(
            format!("Value has to end with {w}."),
            Some(("substring", want.clone())),
        ),
        Op::NendsWith | Op::NiendsWith => fail(
            format!("Value can't end with {w}."),
            Some(("substring", want.clone())),
        ),
        Op::Between => fail(
            format!(
                "Value has to be between {}.",
                list(&want)
                    .iter()
                    .map(shown)
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
            Some(("valid", want.clone())),
        ),
        Op::Nbetween => fail(
            format!(
                "Value can't be between {}.",
                list(&want)
                    .iter()
                    .map(shown)
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
            Some(("invalid", want.clone())),
        ),
        Op::Regex => fail("Value doesn't have the correct format.".into(), None),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::filter::parse_filter;
    use serde_json::json;

    fn run(filter: Json, payload: Json, create: bool) -> Result<(), ValidationFailure> {
        let f = parse_filter(&filter, false).unwrap();
        check(&f, payload.as_object().unwrap(), create, Utc::now())
    }

    #[test]
    fn comparisons() {
        assert!(run(json!({"amount": {"_gt": 0}}), json!({"amount": 5}), true).is_ok());
        let e = run(json!({"amount": {"_gt": 0}}), json!({"amount": -1}), true).unwrap_err();
        assert_eq!(e.kind, "gt");
        assert_eq!(
            e.to_string(),
            "Validation failed for field \"amount\". Value has to be greater than 0."
        );
        assert!(run(
            json!({"amount": {"_between": [1, 10]}}),
            json!({"amount": "5"}),
            true
        )
        .is_ok());
        assert!(run(
            json!({"status": {"_in": ["a", "b"]}}),
            json!({"status": "c"}),
            true
        )
        .is_err());
    }

    #[test]
    fn absent_fields_count_on_create_only() {
        assert!(run(json!({"amount": {"_nnull": true}}), json!({}), true).is_err());
        assert!(run(json!({"amount": {"_nnull": true}}), json!({}), false).is_ok());
    }

    #[test]
    fn logic_and_text() {
        let f = json!({"_or": [{"name": {"_starts_with": "A"}}, {"name": {"_regex": "^z+$"}}]});
        assert!(run(f.clone(), json!({"name": "Alice"}), true).is_ok());
        assert!(run(f.clone(), json!({"name": "zzz"}), true).is_ok());
        assert!(run(f, json!({"name": "Bob"}), true).is_err());
        assert!(run(
            json!({"email": {"_icontains": "@EXAMPLE"}}),
            json!({"email": "a@example.com"}),
            true
        )
        .is_ok());
    }
}

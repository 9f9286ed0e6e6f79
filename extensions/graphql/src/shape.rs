//! From the items JSON the host returns to GraphQL values: the row wrappers resolvers read
//! from, and each field kind's output value (IDs as strings, counts as integers, CSV as
//! lists), so GraphQL's types hold whatever the database's JSON looked like.
//!
//! Owns: value shapes. Must not touch: the host or the query plan.

use crate::model::Kind;
use async_graphql::dynamic::FieldValue;
use async_graphql::{Name, Value};
use serde_json::{Map, Value as Json};

/// A row read by a root field. Relational keys at the root may be aliases (the root query
/// is the only level the host aliases), so field resolvers need to know they're at it.
pub struct RootRow(pub Map<String, Json>);

/// The object a field resolver reads from, and whether it is a root row.
pub fn object_of<'a>(parent: &'a FieldValue<'a>) -> Option<(&'a Map<String, Json>, bool)> {
    if let Some(RootRow(map)) = parent.downcast_ref::<RootRow>() {
        return Some((map, true));
    }
    match parent.downcast_ref::<Json>() {
        Some(Json::Object(map)) => Some((map, false)),
        _ => None,
    }
}

/// Integers from numbers or numeric strings (PostgreSQL's counts and big integers come
/// back as strings).
pub fn int_value(v: &Json) -> Option<i64> {
    match v {
        Json::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn float_value(v: &Json) -> Option<f64> {
    match v {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A primary key or other `ID`: always a string, as Directus serialises them.
pub fn id_value(v: &Json) -> Option<Value> {
    match v {
        Json::Null => None,
        Json::String(s) => Some(Value::String(s.clone())),
        other => Some(Value::String(other.to_string())),
    }
}

/// Any JSON as a GraphQL value (for `JSON` and friends).
pub fn json_value(v: &Json) -> Value {
    match v {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Boolean(*b),
        Json::Number(n) => Value::Number(n.clone()),
        Json::String(s) => Value::String(s.clone()),
        Json::Array(items) => Value::List(items.iter().map(json_value).collect()),
        Json::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (Name::new(k), json_value(v)))
                .collect(),
        ),
    }
}

/// A GraphQL value (arguments) as JSON.
pub fn to_json(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Boolean(b) => Json::Bool(*b),
        Value::Number(n) => Json::Number(n.clone()),
        Value::String(s) => Json::String(s.clone()),
        Value::Enum(e) => Json::String(e.to_string()),
        Value::Binary(b) => Json::String(String::from_utf8_lossy(b).into_owned()),
        Value::List(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Object(map) => Json::Object(
            map.iter()
                .map(|(k, v)| (k.to_string(), to_json(v)))
                .collect(),
        ),
    }
}

/// A column's value in its GraphQL type; a value that doesn't fit reads as `null`.
pub fn scalar_value(kind: Kind, v: &Json) -> Option<Value> {
    if v.is_null() {
        return None;
    }
    Some(match kind {
        Kind::Int => Value::from(int_value(v)?),
        Kind::Float => Value::from(float_value(v)?),
        Kind::BigInt | Kind::Json | Kind::GeoJson => json_value(v),
        Kind::Boolean => match v {
            Json::Bool(b) => Value::Boolean(*b),
            other => Value::Boolean(int_value(other)? != 0),
        },
        Kind::Csv => match v {
            Json::Array(items) => Value::List(
                items
                    .iter()
                    .map(|i| match i {
                        Json::String(s) => Value::String(s.clone()),
                        other => Value::String(other.to_string()),
                    })
                    .collect(),
            ),
            Json::String(s) if s.is_empty() => Value::List(Vec::new()),
            Json::String(s) => {
                Value::List(s.split(',').map(|p| Value::String(p.to_string())).collect())
            }
            _ => return None,
        },
        Kind::Decimal | Kind::String | Kind::Time | Kind::Date | Kind::DateTime | Kind::Hash => {
            match v {
                Json::String(s) => Value::String(s.clone()),
                other => Value::String(other.to_string()),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_fit_their_types() {
        assert_eq!(scalar_value(Kind::Int, &json!("42")), Some(Value::from(42)));
        assert_eq!(
            scalar_value(Kind::Boolean, &json!(1)),
            Some(Value::Boolean(true))
        );
        assert_eq!(
            scalar_value(Kind::Decimal, &json!(12.5)),
            Some(Value::String("12.5".into()))
        );
        assert_eq!(
            scalar_value(Kind::Csv, &json!("a,b")),
            Some(Value::List(vec![Value::from("a"), Value::from("b")]))
        );
        assert_eq!(scalar_value(Kind::Int, &json!("x")), None);
        assert_eq!(id_value(&json!(7)), Some(Value::String("7".into())));
    }

    #[test]
    fn json_round_trips() {
        let v = json!({"a": [1, "b", null, {"c": true}]});
        assert_eq!(to_json(&json_value(&v)), v);
    }
}

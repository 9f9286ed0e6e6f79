//! Filter values: coercing what a client sent (often text, from a query string) to the
//! field's type before it is bound, resolving dynamic variables (`$NOW`,
//! `$NOW(-1 year)`), and escaping `LIKE` patterns so user text matches literally.

use super::parse::QueryError;
use crate::db::Value;
use crate::schema::FieldType;
use chrono::{DateTime, Duration, Months, Utc};
use serde_json::Value as Json;

/// The escape character in every `LIKE … ESCAPE '!'`: a character with no special
/// meaning in any dialect's string literals (unlike backslash in MySQL).
pub const LIKE_ESCAPE: char = '!';

/// `%`, `_` and the escape character itself, escaped.
pub fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        if c == '%' || c == '_' || c == LIKE_ESCAPE {
            out.push(LIKE_ESCAPE);
        }
        out.push(c);
    }
    out
}

/// Resolves `$NOW` and `$NOW(<±n unit>)` at `now`; other strings are returned unchanged.
pub fn resolve_now(text: &str, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, QueryError> {
    let Some(rest) = text.strip_prefix("$NOW") else {
        return Ok(None);
    };
    if rest.is_empty() {
        return Ok(Some(now));
    }
    let inner = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| QueryError::new(format!("Invalid dynamic variable \"{text}\"")))?
        .trim();
    let bad = || QueryError::new(format!("Invalid dynamic variable \"{text}\""));
    let (sign, body) = match inner.strip_prefix('-') {
        Some(b) => (-1i64, b.trim()),
        None => (1, inner.strip_prefix('+').unwrap_or(inner).trim()),
    };
    let split = body
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(body.len());
    let (num, unit) = body.split_at(split);
    let n: i64 = num.parse().map_err(|_| bad())?;
    let n = sign * n;
    let unit = unit.trim().trim_end_matches('s');
    let shifted = match unit {
        "ms" | "millisecond" => now.checked_add_signed(Duration::milliseconds(n)),
        "" | "d" | "day" => now.checked_add_signed(Duration::days(n)),
        "s" | "second" | "sec" => now.checked_add_signed(Duration::seconds(n)),
        "m" | "minute" | "min" => now.checked_add_signed(Duration::minutes(n)),
        "h" | "hour" => now.checked_add_signed(Duration::hours(n)),
        "w" | "week" => now.checked_add_signed(Duration::weeks(n)),
        "mo" | "month" => shift_months(now, n),
        "y" | "year" => shift_months(now, n.checked_mul(12).ok_or_else(bad)?),
        _ => return Err(bad()),
    };
    shifted.map(Some).ok_or_else(bad)
}

fn shift_months(now: DateTime<Utc>, n: i64) -> Option<DateTime<Utc>> {
    let months = Months::new(u32::try_from(n.unsigned_abs()).ok()?);
    if n >= 0 {
        now.checked_add_months(months)
    } else {
        now.checked_sub_months(months)
    }
}

/// Coerces one filter value for a field of type `ty`. `op` names the operator for errors.
pub fn coerce(ty: FieldType, v: &Json, op: &str, now: DateTime<Utc>) -> Result<Value, QueryError> {
    let bad = |what: &str| QueryError::new(format!("Invalid value for \"{op}\": {what}"));
    if let Json::String(s) = v {
        if s.contains('\0') {
            return Err(bad("text may not contain NUL characters"));
        }
    }
    match ty {
        FieldType::Integer | FieldType::BigInteger => match v {
            Json::Number(n) => n
                .as_i64()
                .map(Value::Int)
                .ok_or_else(|| bad("expected a whole number")),
            Json::String(s) => s
                .trim()
                .parse::<i64>()
                .map(Value::Int)
                .map_err(|_| bad("expected a whole number")),
            Json::Null => Ok(Value::Null),
            _ => Err(bad("expected a whole number")),
        },
        FieldType::Float | FieldType::Decimal => match v {
            Json::Number(n) => Ok(n
                .as_i64()
                .map(Value::Int)
                .unwrap_or_else(|| Value::Float(n.as_f64().unwrap_or(0.0)))),
            Json::String(s) => match s.trim().parse::<f64>() {
                Ok(f) if f.is_finite() => Ok(Value::Float(f)),
                _ => Err(bad("expected a number")),
            },
            Json::Null => Ok(Value::Null),
            _ => Err(bad("expected a number")),
        },
        FieldType::Boolean => match v {
            Json::Bool(b) => Ok(Value::Bool(*b)),
            Json::String(s) if s == "true" || s == "1" => Ok(Value::Bool(true)),
            Json::String(s) if s == "false" || s == "0" => Ok(Value::Bool(false)),
            Json::Number(n) if n.as_i64() == Some(1) => Ok(Value::Bool(true)),
            Json::Number(n) if n.as_i64() == Some(0) => Ok(Value::Bool(false)),
            Json::Null => Ok(Value::Null),
            _ => Err(bad("expected a boolean")),
        },
        FieldType::Date | FieldType::DateTime | FieldType::Timestamp | FieldType::Time => match v {
            Json::String(s) => match resolve_now(s, now)? {
                Some(t) => Ok(Value::Text(match ty {
                    FieldType::Date => t.format("%Y-%m-%d").to_string(),
                    FieldType::Time => t.format("%H:%M:%S").to_string(),
                    _ => t.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
                })),
                None => Ok(Value::Text(s.clone())),
            },
            Json::Null => Ok(Value::Null),
            _ => Err(bad("expected a date as text")),
        },
        _ => match v {
            Json::String(s) => Ok(Value::Text(s.clone())),
            Json::Number(n) => Ok(Value::Text(n.to_string())),
            Json::Bool(b) => Ok(Value::Text(b.to_string())),
            Json::Null => Ok(Value::Null),
            _ => Err(bad("expected text")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 31, 12, 0, 0).unwrap()
    }

    #[test]
    fn resolves_now_with_offsets() {
        assert_eq!(resolve_now("$NOW", now()).unwrap(), Some(now()));
        assert_eq!(
            resolve_now("$NOW(-1 year)", now()).unwrap(),
            Some(Utc.with_ymd_and_hms(2025, 3, 31, 12, 0, 0).unwrap())
        );
        assert_eq!(
            resolve_now("$NOW(+2 hours)", now()).unwrap(),
            Some(Utc.with_ymd_and_hms(2026, 3, 31, 14, 0, 0).unwrap())
        );
        assert_eq!(
            resolve_now("$NOW(-1 month)", now()).unwrap(),
            Some(Utc.with_ymd_and_hms(2026, 2, 28, 12, 0, 0).unwrap())
        );
        assert_eq!(
            resolve_now("$NOW(3)", now()).unwrap(),
            Some(Utc.with_ymd_and_hms(2026, 4, 3, 12, 0, 0).unwrap())
        );
        assert_eq!(resolve_now("2024-01-01", now()).unwrap(), None);
        assert!(resolve_now("$NOW(soon)", now()).is_err());
        assert!(resolve_now("$NOW(99999999999999 years)", now()).is_err());
    }

    #[test]
    fn coerces_by_field_type() {
        assert_eq!(
            coerce(FieldType::Integer, &json!("42"), "_eq", now()).unwrap(),
            Value::Int(42)
        );
        assert!(coerce(FieldType::Integer, &json!("4x"), "_eq", now()).is_err());
        assert_eq!(
            coerce(FieldType::Float, &json!("1.5"), "_gt", now()).unwrap(),
            Value::Float(1.5)
        );
        assert!(coerce(FieldType::Float, &json!("NaN"), "_gt", now()).is_err());
        assert_eq!(
            coerce(FieldType::Boolean, &json!("true"), "_eq", now()).unwrap(),
            Value::Bool(true)
        );
        assert_eq!(
            coerce(FieldType::String, &json!(5), "_eq", now()).unwrap(),
            Value::Text("5".into())
        );
        assert!(coerce(FieldType::String, &json!("a\0b"), "_eq", now()).is_err());
        assert_eq!(
            coerce(FieldType::Timestamp, &json!("$NOW(-1 day)"), "_gt", now()).unwrap(),
            Value::Text("2026-03-30 12:00:00.000".into())
        );
    }

    #[test]
    fn like_patterns_match_literally() {
        assert_eq!(like_literal("50%_off!"), "50!%!_off!!");
        assert_eq!(like_literal("plain"), "plain");
    }
}

//! Turning a client's item payload into column values: unknown keys dropped (as Directus
//! does), every value coerced to its field's type with a clear `400` naming the field
//! when it cannot be (Directus answers 500 here), special fields filled (`uuid`,
//! `date-created`, `date-updated`, `user-created`, `user-updated`, `hash`), and required
//! fields checked on create.

use crate::auth::password;
use crate::db::Value;
use crate::schema::{Collection, Field, FieldType};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde_json::{Map, Value as Json};

/// A validation failure in Directus's `FAILED_VALIDATION` terms, or a malformed value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PayloadError {
    #[error("Validation failed for field \"{field}\". Value is required.")]
    Required { field: String },
    #[error("Validation failed for field \"{field}\". Value can't be null.")]
    NotNull { field: String },
    #[error("Invalid value for field \"{field}\": {reason}")]
    Invalid { field: String, reason: String },
    #[error("Value for field \"{field}\" is too long (at most {max} characters).")]
    TooLong { field: String, max: i64 },
    #[error("Numeric value for field \"{field}\" is out of range.")]
    OutOfRange { field: String },
    #[error("Payload must be an object")]
    NotAnObject,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Create,
    Update,
}

/// Column values for one row, in payload order.
pub type Row = Vec<(String, Value, FieldType)>;

pub struct Writer<'a> {
    pub collection: &'a Collection,
    pub user: Option<&'a str>,
    pub now: DateTime<Utc>,
}

impl Writer<'_> {
    /// Validates and converts one payload object.
    pub async fn row(&self, payload: &Json, mode: Mode) -> Result<Row, PayloadError> {
        let obj: &Map<String, Json> = payload.as_object().ok_or(PayloadError::NotAnObject)?;
        let mut out: Row = Vec::new();
        for field in self.collection.fields.values() {
            let Some(column) = &field.column else {
                continue;
            };
            let special = field.special();
            let has = |s: &str| special.iter().any(|x| x == s);
            let given = obj.get(&field.name);
            // Server-filled values win over (or fill in for) what the client sent.
            let filled = match mode {
                Mode::Create if has("date-created") || has("date-updated") => {
                    Some(self.now_value(field.field_type))
                }
                Mode::Update if has("date-updated") => Some(self.now_value(field.field_type)),
                Mode::Create if has("user-created") || has("user-updated") => {
                    Some(Value::from(self.user.map(str::to_string)))
                }
                Mode::Update if has("user-updated") => {
                    Some(Value::from(self.user.map(str::to_string)))
                }
                Mode::Create
                    if given.is_none_or(Json::is_null)
                        && (has("uuid")
                            || (column.is_primary_key
                                && field.field_type == FieldType::Uuid
                                && !column.has_auto_increment
                                && column.default_value.is_null())) =>
                {
                    Some(Value::Text(uuid::Uuid::new_v4().to_string()))
                }
                _ => None,
            };
            if let Some(v) = filled {
                out.push((field.name.clone(), v, field.field_type));
                continue;
            }
            match given {
                None => {
                    if mode == Mode::Create
                        && !column.is_nullable
                        && column.default_value.is_null()
                        && !column.has_auto_increment
                        && !column.is_generated
                    {
                        return Err(PayloadError::Required {
                            field: field.name.clone(),
                        });
                    }
                }
                Some(Json::Null) => {
                    if !column.is_nullable && !column.has_auto_increment {
                        return Err(PayloadError::NotNull {
                            field: field.name.clone(),
                        });
                    }
                    if !(column.has_auto_increment && mode == Mode::Create) {
                        out.push((field.name.clone(), Value::Null, field.field_type));
                    }
                }
                Some(v) => {
                    if column.is_generated {
                        continue;
                    }
                    let value = if has("hash") {
                        match v {
                            Json::String(s) => Value::Text(password::hash(s.clone()).await),
                            _ => return Err(invalid(field, "expected text to hash")),
                        }
                    } else {
                        coerce(field, v)?
                    };
                    out.push((field.name.clone(), value, field.field_type));
                }
            }
        }
        Ok(out)
    }

    fn now_value(&self, ty: FieldType) -> Value {
        Value::Text(match ty {
            FieldType::Date => self.now.format("%Y-%m-%d").to_string(),
            FieldType::Time => self.now.format("%H:%M:%S").to_string(),
            _ => self.now.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
        })
    }
}

fn invalid(field: &Field, reason: &str) -> PayloadError {
    PayloadError::Invalid {
        field: field.name.clone(),
        reason: reason.to_string(),
    }
}

/// A client value as the column's type.
pub fn coerce(field: &Field, v: &Json) -> Result<Value, PayloadError> {
    let max_len = field.column.as_ref().and_then(|c| c.max_length);
    match field.field_type {
        FieldType::Integer | FieldType::BigInteger => {
            let n = match v {
                Json::Number(n) => n.as_i64().or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                        .map(|f| f as i64)
                }),
                Json::String(s) => s.trim().parse::<i64>().ok(),
                Json::Bool(b) => Some(*b as i64),
                _ => None,
            }
            .ok_or_else(|| invalid(field, "expected a whole number"))?;
            if field.field_type == FieldType::Integer && i32::try_from(n).is_err() {
                return Err(PayloadError::OutOfRange {
                    field: field.name.clone(),
                });
            }
            Ok(Value::Int(n))
        }
        FieldType::Float | FieldType::Decimal => match v {
            Json::Number(n) => Ok(n
                .as_i64()
                .map(Value::Int)
                .unwrap_or_else(|| Value::Float(n.as_f64().unwrap_or_default()))),
            Json::String(s) => match s.trim().parse::<f64>() {
                Ok(f) if f.is_finite() => Ok(if field.field_type == FieldType::Decimal {
                    Value::Text(s.trim().to_string())
                } else {
                    Value::Float(f)
                }),
                _ => Err(invalid(field, "expected a number")),
            },
            _ => Err(invalid(field, "expected a number")),
        },
        FieldType::Boolean => match v {
            Json::Bool(b) => Ok(Value::Bool(*b)),
            Json::Number(n) if n.as_i64() == Some(0) || n.as_i64() == Some(1) => {
                Ok(Value::Bool(n.as_i64() == Some(1)))
            }
            Json::String(s) if matches!(s.as_str(), "true" | "1") => Ok(Value::Bool(true)),
            Json::String(s) if matches!(s.as_str(), "false" | "0") => Ok(Value::Bool(false)),
            _ => Err(invalid(field, "expected a boolean")),
        },
        FieldType::Json => Ok(Value::Text(v.to_string())),
        FieldType::Csv => match v {
            Json::Array(items) => {
                let parts: Option<Vec<String>> = items
                    .iter()
                    .map(|i| {
                        i.as_str()
                            .map(str::to_string)
                            .or_else(|| i.as_number().map(|n| n.to_string()))
                    })
                    .collect();
                let parts = parts.ok_or_else(|| invalid(field, "expected a list of strings"))?;
                Ok(Value::Text(parts.join(",")))
            }
            Json::String(s) => Ok(Value::Text(s.clone())),
            _ => Err(invalid(field, "expected a list of strings")),
        },
        FieldType::Uuid => match v {
            Json::String(s) if uuid::Uuid::parse_str(s).is_ok() => {
                Ok(Value::Text(s.to_ascii_lowercase()))
            }
            _ => Err(invalid(field, "expected a UUID")),
        },
        FieldType::Date => date_text(v, field, |s| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .map(|d| d.to_string())
        }),
        FieldType::Time => date_text(v, field, |s| {
            NaiveTime::parse_from_str(s, "%H:%M:%S")
                .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M"))
                .ok()
                .map(|t| t.format("%H:%M:%S").to_string())
        }),
        FieldType::DateTime | FieldType::Timestamp => date_text(v, field, |s| {
            DateTime::parse_from_rfc3339(s)
                .map(|d| d.with_timezone(&Utc).naive_utc())
                .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f"))
                .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f"))
                .or_else(|_| {
                    NaiveDate::parse_from_str(s, "%Y-%m-%d")
                        .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight exists"))
                })
                .ok()
                .map(|d| d.format("%Y-%m-%d %H:%M:%S%.3f").to_string())
        }),
        FieldType::Binary | FieldType::Unknown | FieldType::Alias => Err(invalid(
            field,
            "this field cannot be written through the API",
        )),
        FieldType::String | FieldType::Text | FieldType::Hash => {
            let s = match v {
                Json::String(s) => s.clone(),
                Json::Number(n) => n.to_string(),
                Json::Bool(b) => b.to_string(),
                _ => return Err(invalid(field, "expected text")),
            };
            if s.contains('\0') {
                return Err(invalid(field, "text may not contain NUL characters"));
            }
            if let Some(max) = max_len {
                if s.chars().count() as i64 > max {
                    return Err(PayloadError::TooLong {
                        field: field.name.clone(),
                        max,
                    });
                }
            }
            Ok(Value::Text(s))
        }
    }
}

fn date_text(
    v: &Json,
    field: &Field,
    parse: impl Fn(&str) -> Option<String>,
) -> Result<Value, PayloadError> {
    match v {
        Json::String(s) => parse(s.trim()).map(Value::Text).ok_or_else(|| {
            invalid(
                field,
                &format!("\"{s}\" is not a valid {}", field.field_type.as_str()),
            )
        }),
        _ => Err(invalid(
            field,
            &format!("expected a {} as text", field.field_type.as_str()),
        )),
    }
}

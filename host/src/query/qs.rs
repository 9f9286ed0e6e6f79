//! Query strings in the `qs` dialect Directus reads: `filter[status][_eq]=Paid`,
//! `fields[]=a&fields[]=b`, `deep[rel][_limit]=3`, plain `limit=10`. Parsed into a JSON
//! tree of strings, objects and arrays, with the same limits as Directus (depth 10,
//! array index 500) so a hostile query string cannot build a huge structure.

use serde_json::{Map, Value as Json};

pub const MAX_DEPTH: usize = 10;
pub const MAX_ARRAY: usize = 500;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum QsError {
    #[error("\"{0}\" is nested deeper than {MAX_DEPTH} levels")]
    TooDeep(String),
    #[error("\"{0}\" has an array index above {MAX_ARRAY}")]
    ArrayTooLong(String),
    #[error("\"{0}\" is used both as a value and as an object")]
    Conflict(String),
}

/// Percent-decodes `+` and `%XX` (invalid escapes stay as written).
pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `a[b][]` → (`a`, [`b`, ``]).
fn split_key(key: &str) -> (String, Vec<String>) {
    match key.find('[') {
        None => (key.to_string(), Vec::new()),
        Some(i) => {
            let mut parts = Vec::new();
            let mut rest = &key[i..];
            while let Some(stripped) = rest.strip_prefix('[') {
                match stripped.find(']') {
                    Some(j) => {
                        parts.push(stripped[..j].to_string());
                        rest = &stripped[j + 1..];
                    }
                    None => break,
                }
            }
            (key[..i].to_string(), parts)
        }
    }
}

/// Parses a whole query string into an object.
pub fn parse(query: &str) -> Result<Map<String, Json>, QsError> {
    let mut root = Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(k);
        let value = Json::String(decode(v));
        let (head, path) = split_key(&key);
        if path.len() > MAX_DEPTH {
            return Err(QsError::TooDeep(key));
        }
        insert(&mut root, &head, &path, value, &key)?;
    }
    Ok(root)
}

fn insert(
    obj: &mut Map<String, Json>,
    head: &str,
    path: &[String],
    value: Json,
    key: &str,
) -> Result<(), QsError> {
    if path.is_empty() {
        match obj.get_mut(head) {
            // A repeated plain key (`fields=a&fields=b`) becomes a list, as in qs.
            Some(Json::Array(items)) => {
                if items.len() >= MAX_ARRAY {
                    return Err(QsError::ArrayTooLong(key.to_string()));
                }
                items.push(value)
            }
            Some(existing @ Json::String(_)) => {
                let first = existing.take();
                *existing = Json::Array(vec![first, value]);
            }
            Some(_) => return Err(QsError::Conflict(key.to_string())),
            None => {
                obj.insert(head.to_string(), value);
            }
        }
        return Ok(());
    }
    let next = &path[0];
    let slot = obj.entry(head.to_string()).or_insert_with(|| {
        if next.is_empty() || next.parse::<usize>().is_ok() {
            Json::Array(Vec::new())
        } else {
            Json::Object(Map::new())
        }
    });
    insert_into(slot, path, value, key)
}

fn insert_into(slot: &mut Json, path: &[String], value: Json, key: &str) -> Result<(), QsError> {
    let (next, rest) = (&path[0], &path[1..]);
    // Promote an array to an object when a named key arrives (`a[0]=x&a[b]=y`).
    if let Json::Array(items) = slot {
        if !next.is_empty() && next.parse::<usize>().is_err() {
            let obj: Map<String, Json> = items
                .drain(..)
                .enumerate()
                .map(|(i, v)| (i.to_string(), v))
                .collect();
            *slot = Json::Object(obj);
        }
    }
    match slot {
        Json::Array(items) => {
            let index = if next.is_empty() {
                items.len()
            } else {
                next.parse::<usize>().expect("checked above")
            };
            if index >= MAX_ARRAY || items.len() >= MAX_ARRAY {
                return Err(QsError::ArrayTooLong(key.to_string()));
            }
            if rest.is_empty() {
                if index < items.len() {
                    items[index] = value;
                } else {
                    items.push(value);
                }
                return Ok(());
            }
            let child = if index < items.len() {
                &mut items[index]
            } else {
                items.push(Json::Object(Map::new()));
                items.last_mut().expect("pushed")
            };
            if !child.is_object() && !child.is_array() {
                return Err(QsError::Conflict(key.to_string()));
            }
            insert_into(child, rest, value, key)
        }
        Json::Object(obj) => insert(obj, next, rest, value, key),
        _ => Err(QsError::Conflict(key.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(q: &str) -> Json {
        Json::Object(parse(q).unwrap())
    }

    #[test]
    fn brackets_build_nested_objects() {
        assert_eq!(
            p("filter[status][_eq]=Paid"),
            json!({"filter": {"status": {"_eq": "Paid"}}})
        );
        assert_eq!(
            p("filter[_and][0][a][_eq]=1&filter[_and][1][b][_eq]=2"),
            json!({"filter": {"_and": [{"a": {"_eq": "1"}}, {"b": {"_eq": "2"}}]}})
        );
        assert_eq!(
            p("deep[rel][_limit]=3&deep[rel][sub][_sort]=-x"),
            json!({"deep": {"rel": {"_limit": "3", "sub": {"_sort": "-x"}}}})
        );
    }

    #[test]
    fn arrays_and_repeats() {
        assert_eq!(p("fields[]=a&fields[]=b"), json!({"fields": ["a", "b"]}));
        assert_eq!(p("fields=a&fields=b"), json!({"fields": ["a", "b"]}));
        assert_eq!(
            p("limit=10&offset=5"),
            json!({"limit": "10", "offset": "5"})
        );
    }

    #[test]
    fn decodes_values() {
        assert_eq!(
            p("search=a%20b+c&filter=%7B%22a%22%3A1%7D"),
            json!({"search": "a b c", "filter": "{\"a\":1}"})
        );
    }

    #[test]
    fn limits_depth_and_array_size() {
        let deep = format!("a{}=1", "[x]".repeat(11));
        assert!(matches!(parse(&deep), Err(QsError::TooDeep(_))));
        assert!(matches!(
            parse("fields[501]=a"),
            Err(QsError::ArrayTooLong(_))
        ));
        let many: Vec<String> = (0..501).map(|_| "fields[]=a".to_string()).collect();
        assert!(matches!(
            parse(&many.join("&")),
            Err(QsError::ArrayTooLong(_))
        ));
    }

    #[test]
    fn conflicts_are_errors_not_panics() {
        assert!(parse("a=1&a[b]=2").is_err());
        assert!(parse("a[b]=1&a[b][c]=2").is_err());
    }
}

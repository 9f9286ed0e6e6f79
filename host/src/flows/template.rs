//! `{{ … }}` templates in operation options, as Directus's `applyOptionsData`: every
//! string inside the options (objects and arrays walked) is rendered against the data
//! chain. A string that is exactly one `{{ path }}` becomes the value itself, keeping its
//! JSON type; otherwise each `{{ path }}` is replaced by its text (objects as JSON). A
//! path that names nothing renders as the empty string (Directus writes `undefined`).
//!
//! Paths: dot and bracket notation (`$trigger.payload.items[0].name`, `a["k"]`), at most
//! [`MAX_PATH`] segments.

use serde_json::Value as Json;

pub const MAX_PATH: usize = 10;

/// Splits `a.b[0]["c d"]` into segments.
fn segments(path: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = path.trim().chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            '[' => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                let mut inner = String::new();
                let quote = match chars.peek() {
                    Some('"') | Some('\'') => chars.next(),
                    _ => None,
                };
                loop {
                    match chars.next()? {
                        q if Some(q) == quote => {
                            if chars.next()? != ']' {
                                return None;
                            }
                            break;
                        }
                        ']' if quote.is_none() => break,
                        ch => inner.push(ch),
                    }
                }
                out.push(inner.trim().to_string());
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    (!out.is_empty() && out.len() <= MAX_PATH).then_some(out)
}

/// The value at `path` in `data`, if any.
pub fn lookup<'a>(data: &'a Json, path: &str) -> Option<&'a Json> {
    let mut v = data;
    for seg in segments(path)? {
        v = match v {
            Json::Object(o) => o.get(&seg)?,
            Json::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(v)
}

fn as_text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The `{{ path }}` spans of `s`: (start, end, path).
fn placeholders(s: &str) -> Vec<(usize, usize, &str)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = s[from..].find("{{") {
        let start = from + open;
        let Some(close) = s[start + 2..].find("}}") else {
            break;
        };
        let end = start + 2 + close + 2;
        out.push((start, end, s[start + 2..end - 2].trim()));
        from = end;
    }
    out
}

fn render_str(s: &str, data: &Json) -> Json {
    let spans = placeholders(s);
    if spans.is_empty() {
        return Json::String(s.to_string());
    }
    if spans.len() == 1 && spans[0].0 == 0 && spans[0].1 == s.len() {
        if let Some(v) = lookup(data, spans[0].2) {
            return v.clone();
        }
    }
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for (start, end, path) in spans {
        out.push_str(&s[last..start]);
        if let Some(v) = lookup(data, path) {
            out.push_str(&as_text(v));
        }
        last = end;
    }
    out.push_str(&s[last..]);
    Json::String(out)
}

/// Renders every string inside `options` against `data`.
pub fn render(options: &Json, data: &Json) -> Json {
    match options {
        Json::String(s) => render_str(s, data),
        Json::Array(a) => Json::Array(a.iter().map(|v| render(v, data)).collect()),
        Json::Object(o) => Json::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), render(v, data)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn whole_values_keep_their_type_and_missing_paths_are_empty() {
        let data = json!({"$trigger": {"body": {"x": 42, "list": [{"n": "a"}], "k v": true}}, "$last": null, "op1": "ok"});
        assert_eq!(render(&json!("{{$trigger.body.x}}"), &data), json!(42));
        assert_eq!(
            render(&json!("{{ $trigger.body }}"), &data),
            data["$trigger"]["body"]
        );
        assert_eq!(
            render(&json!("x={{$trigger.body.x}}!"), &data),
            json!("x=42!")
        );
        assert_eq!(
            render(&json!("{{$trigger.body.list[0].n}}"), &data),
            json!("a")
        );
        assert_eq!(
            render(&json!("{{$trigger.body[\"k v\"]}}"), &data),
            json!(true)
        );
        assert_eq!(
            render(&json!("missing={{$trigger.body.nope}}"), &data),
            json!("missing=")
        );
        assert_eq!(render(&json!("{{$trigger.nope}}"), &data), json!(""));
        assert_eq!(render(&json!("{{$last}}"), &data), json!(null));
        assert_eq!(
            render(&json!("obj: {{$trigger.body.list}}"), &data),
            json!("obj: [{\"n\":\"a\"}]")
        );
        assert_eq!(
            render(
                &json!({"a": ["{{op1}}", 1, {"b": "{{ op1 }}-{{op1}}"}]}),
                &data
            ),
            json!({"a": ["ok", 1, {"b": "ok-ok"}]})
        );
        assert_eq!(render(&json!("{{ unclosed"), &data), json!("{{ unclosed"));
        assert_eq!(
            render(&json!("{{a.b.c.d.e.f.g.h.i.j.k}}"), &data),
            json!("")
        );
    }
}

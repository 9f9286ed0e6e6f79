//! `?export=json|csv|csv_utf8|xml|yaml`: the `data` of a read as a download, with
//! Directus's `Content-Disposition` (`attachment; filename="<collection> <YYYYMMDD-HMMSS>.<ext>"`).

use rectus_sdk::Response;
use serde_json::{Map, Value as Json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    CsvUtf8,
    Xml,
    Yaml,
}

impl Format {
    /// The `export` parameter of a raw query string, if any (the host has already
    /// rejected unknown values).
    pub fn from_query(query: &str) -> Option<Format> {
        query
            .split('&')
            .find_map(|pair| match pair.split_once('=')? {
                ("export", "json") => Some(Format::Json),
                ("export", "csv") => Some(Format::Csv),
                ("export", "csv_utf8") => Some(Format::CsvUtf8),
                ("export", "xml") => Some(Format::Xml),
                ("export", "yaml") => Some(Format::Yaml),
                _ => None,
            })
    }

    fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv | Format::CsvUtf8 => "csv",
            Format::Xml => "xml",
            Format::Yaml => "yaml",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json; charset=utf-8",
            Format::Csv => "text/csv",
            Format::CsvUtf8 => "text/csv; charset=utf-8",
            Format::Xml => "text/xml; charset=utf-8",
            Format::Yaml => "text/yaml; charset=utf-8",
        }
    }
}

/// Renders `data` (a JSON array, or one object for singletons) as a download.
pub fn download(collection: &str, format: Format, data: &str) -> Response {
    let value: Json = serde_json::from_str(data).unwrap_or(Json::Null);
    let rows: Vec<Json> = match value {
        Json::Array(rows) => rows,
        Json::Null => Vec::new(),
        one => vec![one],
    };
    let body = match format {
        Format::Json => serde_json::to_string_pretty(&rows).unwrap_or_default(),
        Format::Csv | Format::CsvUtf8 => csv(&rows),
        Format::Xml => xml(&rows),
        Format::Yaml => serde_yaml::to_string(&rows).unwrap_or_default(),
    };
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
    // The collection name comes from the schema (letters, digits, underscores).
    let filename = format!("{collection} {stamp}.{}", format.extension());
    Response {
        status: 200,
        content_type: format.content_type(),
        headers: vec![(
            "content-disposition".into(),
            format!("attachment; filename=\"{filename}\""),
        )],
        body: body.into_bytes(),
    }
}

/// CSV with a header row of every key in first-seen order; strings quoted (quotes
/// doubled), numbers and booleans bare, nulls empty, nested values as JSON text.
fn csv(rows: &[Json]) -> String {
    let mut columns: Vec<String> = Vec::new();
    for row in rows {
        if let Json::Object(o) = row {
            for k in o.keys() {
                if !columns.contains(k) {
                    columns.push(k.clone());
                }
            }
        }
    }
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let mut out = columns
        .iter()
        .map(|c| quote(c))
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    for row in rows {
        let empty = Map::new();
        let obj = row.as_object().unwrap_or(&empty);
        let cells: Vec<String> = columns
            .iter()
            .map(|c| match obj.get(c) {
                None | Some(Json::Null) => String::new(),
                Some(Json::String(s)) => quote(s),
                Some(Json::Number(n)) => n.to_string(),
                Some(Json::Bool(b)) => b.to_string(),
                Some(nested) => quote(&nested.to_string()),
            })
            .collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// `<data><data>…</data></data>` as Directus's js2xmlparser writes arrays: one element
/// per item, named like its parent; keys that are not XML names become `<field name="…">`.
fn xml(rows: &[Json]) -> String {
    let mut out = String::from("<?xml version='1.0'?>\n<data>\n");
    for row in rows {
        out.push_str("    <data>");
        write_value(&mut out, row);
        out.push_str("</data>\n");
    }
    out.push_str("</data>\n");
    out
}

fn is_xml_name(k: &str) -> bool {
    let mut chars = k.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        && !k.to_ascii_lowercase().starts_with("xml")
}

fn write_value(out: &mut String, v: &Json) {
    match v {
        Json::Null => {}
        Json::String(s) => out.push_str(&escape_xml(s)),
        Json::Number(n) => out.push_str(&n.to_string()),
        Json::Bool(b) => out.push_str(&b.to_string()),
        Json::Array(items) => {
            for item in items {
                out.push_str("<item>");
                write_value(out, item);
                out.push_str("</item>");
            }
        }
        Json::Object(o) => {
            for (k, val) in o {
                let (open, close) = if is_xml_name(k) {
                    (format!("<{k}>"), format!("</{k}>"))
                } else {
                    (
                        format!("<field name=\"{}\">", escape_xml(k)),
                        "</field>".to_string(),
                    )
                };
                out.push_str(&open);
                write_value(out, val);
                out.push_str(&close);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn csv_quotes_strings_and_leaves_nulls_empty() {
        let rows = vec![
            json!({"id": 1, "name": "A \"B\", C", "ok": true}),
            json!({"id": 2, "name": null, "extra": {"x": 1}}),
        ];
        assert_eq!(
            csv(&rows),
            "\"id\",\"name\",\"ok\",\"extra\"\n1,\"A \"\"B\"\", C\",true,\n2,,,\"{\"\"x\"\":1}\"\n"
        );
    }

    #[test]
    fn xml_escapes_and_names_odd_keys() {
        let x = xml(&[json!({"id": 1, "a b": "<&>", "tags": ["x"]})]);
        assert!(x.contains("<id>1</id>"));
        assert!(x.contains("<field name=\"a b\">&lt;&amp;&gt;</field>"));
        assert!(x.contains("<tags><item>x</item></tags>"));
    }

    #[test]
    fn reads_the_format_from_the_query() {
        assert_eq!(Format::from_query("limit=1&export=csv"), Some(Format::Csv));
        assert_eq!(Format::from_query("limit=1"), None);
    }
}

//! Mail bodies: Markdown (pulldown-cmark) and raw HTML go into the `base` layout; named
//! templates (tera, Jinja-like syntax close to Directus's Liquid) come from
//! `EMAIL_TEMPLATES_PATH/<name>.liquid|.html` or the built-ins (`base`,
//! `password-reset`, `user-invitation`). Values are HTML-escaped; `base` takes the
//! already-rendered `html`.

use rectus_sdk::MailBody;
use serde_json::{json, Value as Json};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("template name \"{0}\" is not allowed (letters, digits, - and _)")]
    Name(String),
    #[error("template \"{0}\" does not exist")]
    Missing(String),
    #[error("template \"{name}\": {reason}")]
    Template { name: String, reason: String },
}

const BASE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>{{ subject | default(value="") }}</title></head>
<body style="font-family: sans-serif; color: #172940; line-height: 1.5">
{{ html | safe }}
</body></html>"#;

const PASSWORD_RESET: &str = r#"<p>You requested to reset your password{% if projectName %} for {{ projectName }}{% endif %}.</p>
<p><a href="{{ url }}">Reset your password</a></p>
<p>If you did not request this, you can ignore this e-mail.</p>"#;

const USER_INVITATION: &str = r#"<p>You have been invited to {{ projectName | default(value="Rectus") }}.</p>
<p><a href="{{ url }}">Accept the invitation</a></p>"#;

fn builtin(name: &str) -> Option<&'static str> {
    match name {
        "base" => Some(BASE),
        "password-reset" => Some(PASSWORD_RESET),
        "user-invitation" => Some(USER_INVITATION),
        _ => None,
    }
}

fn render(name: &str, source: &str, data: &Json) -> Result<String, RenderError> {
    let err = |e: tera::Error| RenderError::Template {
        name: name.to_string(),
        reason: e.to_string(),
    };
    let mut t = tera::Tera::new();
    // The .html suffix turns on escaping of every value.
    let file = format!("{name}.html");
    t.add_raw_template(&file, source).map_err(err)?;
    let ctx = tera::Context::from_serialize(data).map_err(err)?;
    t.render(&file, &ctx).map_err(err)
}

/// A user's template overrides a built-in of the same name.
async fn source_of(dir: &Path, name: &str) -> Result<String, RenderError> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(RenderError::Name(name.to_string()));
    }
    for ext in ["liquid", "html"] {
        if let Ok(text) = tokio::fs::read_to_string(dir.join(format!("{name}.{ext}"))).await {
            return Ok(text);
        }
    }
    builtin(name)
        .map(str::to_string)
        .ok_or_else(|| RenderError::Missing(name.to_string()))
}

pub fn markdown_to_html(md: &str) -> String {
    let parser = pulldown_cmark::Parser::new(md);
    let mut out = String::with_capacity(md.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut out, parser);
    out
}

/// The whole HTML document of a mail body.
pub async fn render_body(templates: &Path, body: &MailBody) -> Result<String, RenderError> {
    let (name, data) = match body {
        MailBody::Markdown(md) => ("base".to_string(), json!({"html": markdown_to_html(md)})),
        MailBody::Html(html) => ("base".to_string(), json!({"html": html})),
        MailBody::Template { name, data } => {
            let source = source_of(templates, name).await?;
            if name == "base" {
                return render(name, &source, data);
            }
            // A named template's output is wrapped in the base layout too.
            let inner = render(name, &source, data)?;
            ("base".to_string(), json!({"html": inner}))
        }
    };
    let base = source_of(templates, &name).await?;
    render(&name, &base, &data)
}

/// A plain-text alternative: tags dropped, entities for <, >, & and quotes decoded,
/// blank runs collapsed.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    let decoded = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    let mut lines: Vec<&str> = Vec::new();
    for line in decoded.lines().map(str::trim) {
        if line.is_empty() && lines.last().is_none_or(|l| l.is_empty()) {
            continue;
        }
        lines.push(line);
    }
    lines.join("\n").trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn markdown_html_and_templates() {
        let dir = std::env::temp_dir().join(format!("rectus-mail-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let md = render_body(&dir, &MailBody::Markdown("Hi **Ann** <script>".into()))
            .await
            .unwrap();
        assert!(md.contains("<strong>Ann</strong>"), "{md}");
        let reset = render_body(
            &dir,
            &MailBody::Template {
                name: "password-reset".into(),
                data: json!({"url": "https://x/reset?token=a&b=<c>"}),
            },
        )
        .await
        .unwrap();
        assert!(
            reset.contains("https://x/reset?token=a&amp;b=&lt;c&gt;"),
            "{reset}"
        );
        std::fs::write(dir.join("order.liquid"), "Order {{ id }} for {{ name }}").unwrap();
        let own = render_body(
            &dir,
            &MailBody::Template {
                name: "order".into(),
                data: json!({"id": 7, "name": "<b>"}),
            },
        )
        .await
        .unwrap();
        assert!(own.contains("Order 7 for &lt;b&gt;"), "{own}");
        for bad in ["../etc/passwd", "", "nope"] {
            assert!(render_body(
                &dir,
                &MailBody::Template {
                    name: bad.into(),
                    data: json!({})
                }
            )
            .await
            .is_err());
        }
        assert_eq!(html_to_text("<p>a &amp; b</p>\n\n\n<p>c</p>"), "a & b\n\nc");
        std::fs::remove_dir_all(dir).ok();
    }
}

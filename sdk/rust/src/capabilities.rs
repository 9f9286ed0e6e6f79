//! Records for the host capabilities flow operations use beyond items: sending mail,
//! making HTTP requests, running another flow, checking a filter against data, running a
//! sandboxed script. Each is one [`crate::Host`] method; a host that does not offer one
//! answers `501 NOT_SUPPORTED` (the trait's default), so a backend can grow into them.

use serde_json::Value as Json;

/// One e-mail to send.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mail {
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub reply_to: Vec<String>,
    /// Shown before `EMAIL_FROM`'s address (`"Shop" <no-reply@example.com>`).
    pub from_name: Option<String>,
    pub subject: String,
    pub body: MailBody,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MailBody {
    /// Rendered to HTML by the host.
    Markdown(String),
    Html(String),
    /// A named template (`EMAIL_TEMPLATES_PATH/<name>.liquid|.html`, or a built-in such as
    /// `base`, `password-reset`, `user-invitation`) rendered with `data`.
    Template {
        name: String,
        data: Json,
    },
}

impl Default for MailBody {
    fn default() -> Self {
        MailBody::Markdown(String::new())
    }
}

/// An outgoing HTTP request.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

/// Its answer; the body is parsed as JSON when it is JSON, else kept as text.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    pub status_text: String,
    pub headers: Vec<(String, String)>,
    pub data: Json,
}

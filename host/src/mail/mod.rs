//! The mail module: turns a [`rectus_sdk::Mail`] into a message (Markdown → HTML, raw
//! HTML, or a named template) and hands it to the configured transport: SMTP (lettre,
//! STARTTLS when offered unless `EMAIL_SMTP_IGNORE_TLS`, TLS from the start with
//! `EMAIL_SMTP_SECURE`), `sendmail`, or — with no `EMAIL_TRANSPORT` — the log.
//!
//! The transport is behind [`MailTransport`], the seam a mail-transport extension kind
//! (guest modules) will plug into: a guest transport implements the same `send`.
//!
//! Owns: rendering and sending mail. Must not touch: who may send (callers decide), the
//! flow engine.

mod render;

pub use render::{render_body, RenderError};

use crate::config::{EmailConfig, EmailTransport};
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSendmailTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid address \"{0}\"")]
    Address(String),
    #[error("no recipient")]
    NoRecipient,
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error("could not build the message: {0}")]
    Build(String),
    #[error("sending failed: {0}")]
    Transport(String),
}

type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), MailError>> + Send + 'a>>;

/// Where finished messages go. The built-in transports implement it; a guest mail
/// transport will too.
pub trait MailTransport: Send + Sync {
    fn send<'a>(&'a self, message: Message) -> SendFuture<'a>;
    /// For `/server/health` and logs: `smtp`, `sendmail`, `log`.
    fn name(&self) -> &'static str;
}

struct Smtp(AsyncSmtpTransport<Tokio1Executor>);
struct Sendmail(AsyncSendmailTransport<Tokio1Executor>);
struct LogOnly;

impl MailTransport for Smtp {
    fn send<'a>(&'a self, message: Message) -> SendFuture<'a> {
        Box::pin(async move {
            self.0
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| MailError::Transport(e.to_string()))
        })
    }
    fn name(&self) -> &'static str {
        "smtp"
    }
}

impl MailTransport for Sendmail {
    fn send<'a>(&'a self, message: Message) -> SendFuture<'a> {
        Box::pin(async move {
            self.0
                .send(message)
                .await
                .map_err(|e| MailError::Transport(e.to_string()))
        })
    }
    fn name(&self) -> &'static str {
        "sendmail"
    }
}

impl MailTransport for LogOnly {
    fn send<'a>(&'a self, message: Message) -> SendFuture<'a> {
        let to: Vec<String> = message
            .envelope()
            .to()
            .iter()
            .map(ToString::to_string)
            .collect();
        let subject = message
            .headers()
            .get_raw("Subject")
            .unwrap_or_default()
            .to_string();
        tracing::info!(
            to = ?to,
            subject = %subject,
            "mail not sent: no EMAIL_TRANSPORT configured"
        );
        Box::pin(async { Ok(()) })
    }
    fn name(&self) -> &'static str {
        "log"
    }
}

pub struct Mailer {
    from: Mailbox,
    templates_path: std::path::PathBuf,
    transport: Arc<dyn MailTransport>,
}

fn mailbox(text: &str) -> Result<Mailbox, MailError> {
    text.trim()
        .parse::<Mailbox>()
        .map_err(|_| MailError::Address(text.to_string()))
}

impl Mailer {
    pub fn new(config: &EmailConfig) -> Result<Mailer, MailError> {
        let transport: Arc<dyn MailTransport> = match &config.transport {
            EmailTransport::Log => Arc::new(LogOnly),
            EmailTransport::Sendmail { path } => Arc::new(Sendmail(match path {
                Some(p) => AsyncSendmailTransport::new_with_command(p),
                None => AsyncSendmailTransport::new(),
            })),
            EmailTransport::Smtp {
                host,
                port,
                user,
                password,
                secure,
                ignore_tls,
                name,
            } => {
                let tls = if *ignore_tls {
                    Tls::None
                } else {
                    let params = TlsParameters::new(host.clone())
                        .map_err(|e| MailError::Transport(e.to_string()))?;
                    if *secure {
                        Tls::Wrapper(params)
                    } else {
                        Tls::Opportunistic(params)
                    }
                };
                let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
                    .port(*port)
                    .tls(tls)
                    .timeout(Some(config.timeout));
                if let (Some(u), Some(p)) = (user, password) {
                    b = b.credentials(Credentials::new(u.clone(), p.clone()));
                }
                if let Some(n) = name {
                    b = b.hello_name(ClientId::Domain(n.clone()));
                }
                Arc::new(Smtp(b.build()))
            }
        };
        Ok(Mailer {
            from: mailbox(&config.from)?,
            templates_path: config.templates_path.clone(),
            transport,
        })
    }

    /// Replaces the transport (a mail-transport extension).
    pub fn with_transport(mut self, transport: Arc<dyn MailTransport>) -> Mailer {
        self.transport = transport;
        self
    }

    pub fn transport_name(&self) -> &'static str {
        self.transport.name()
    }

    /// Renders and sends one mail. Waits for the transport's answer (the SMTP server's
    /// acceptance), bounded by `EMAIL_SEND_TIMEOUT`.
    pub async fn send(&self, mail: rectus_sdk::Mail) -> Result<(), MailError> {
        if mail.to.is_empty() && mail.cc.is_empty() && mail.bcc.is_empty() {
            return Err(MailError::NoRecipient);
        }
        let html = render_body(&self.templates_path, &mail.body).await?;
        let mut from = self.from.clone();
        if let Some(name) = mail.from_name.filter(|n| !n.trim().is_empty()) {
            from.name = Some(name);
        }
        let mut b = Message::builder().from(from).subject(mail.subject);
        for to in &mail.to {
            b = b.to(mailbox(to)?);
        }
        for cc in &mail.cc {
            b = b.cc(mailbox(cc)?);
        }
        for bcc in &mail.bcc {
            b = b.bcc(mailbox(bcc)?);
        }
        for r in &mail.reply_to {
            b = b.reply_to(mailbox(r)?);
        }
        let text = render::html_to_text(&html);
        let message = b
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(text),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(html),
                    ),
            )
            .map_err(|e| MailError::Build(e.to_string()))?;
        self.transport.send(message).await
    }
}

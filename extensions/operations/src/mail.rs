//! `mail` and `notification`: e-mail through the host's mail transport, and in-app
//! notifications (`directus_notifications` rows, mailed to recipients who want e-mail).

use crate::{acting_as, info, json_option, list, required, text};
use rectus_sdk::{Context, Host, HostError, MailBody, Operation, OperationInfo, QueryInput};
use serde_json::{json, Value as Json};

/// `mail`: `to`, `subject`, `type` (`markdown` default, `wysiwyg` = HTML, `template`),
/// `body`, `template` + `data`, `cc`, `bcc`, `replyTo`, `fromName`. Result: null. A
/// transport failure rejects (and the run log shows it); the request that triggered an
/// action flow is never affected.
pub struct Mail;

impl Operation for Mail {
    fn info(&self) -> OperationInfo {
        info(
            "mail",
            "Send Email",
            "Sends an e-mail (Markdown, HTML or a named template).",
            json!({
                "to": {"type": ["string", "array"]},
                "subject": {"type": "string"},
                "type": {"enum": ["markdown", "wysiwyg", "template"]},
                "body": {"type": "string"},
                "template": {"type": "string"},
                "data": {"type": "object"},
                "cc": {"type": ["string", "array"]},
                "bcc": {"type": ["string", "array"]},
                "replyTo": {"type": ["string", "array"]},
                "fromName": {"type": "string"},
            }),
        )
    }

    async fn run<H: Host>(
        &self,
        host: &H,
        ctx: &Context,
        options: Json,
        _data: Json,
    ) -> Result<Json, HostError> {
        let to = list(&options, "to");
        if to.is_empty() {
            return Err(HostError::invalid_payload("\"to\" is required"));
        }
        let body_text = text(&options, "body").unwrap_or_default();
        let body = match text(&options, "type").as_deref() {
            None | Some("") | Some("markdown") => MailBody::Markdown(body_text),
            Some("wysiwyg") | Some("html") => MailBody::Html(body_text),
            Some("template") => MailBody::Template {
                name: text(&options, "template").unwrap_or_else(|| "base".into()),
                data: json_option(&options, "data").unwrap_or_else(|| json!({})),
            },
            Some(other) => {
                return Err(HostError::invalid_payload(format!(
                    "\"type\" must be markdown, wysiwyg or template, not \"{other}\""
                )))
            }
        };
        let mail = rectus_sdk::Mail {
            to,
            cc: list(&options, "cc"),
            bcc: list(&options, "bcc"),
            reply_to: list(&options, "replyTo"),
            from_name: text(&options, "fromName").filter(|s| !s.is_empty()),
            subject: text(&options, "subject").unwrap_or_default(),
            body,
        };
        host.send_mail(ctx, mail).await?;
        Ok(Json::Null)
    }
}

/// `notification`: one `directus_notifications` row per `recipient` (user ids), from the
/// flow's user; recipients with `email_notifications` on also get it by e-mail. Result:
/// the new notifications' ids.
pub struct Notification;

impl Operation for Notification {
    fn info(&self) -> OperationInfo {
        info(
            "notification",
            "Send Notification",
            "Notifies users in the app (and by e-mail when they want it).",
            json!({
                "recipient": {"type": ["string", "array"]},
                "subject": {"type": "string"},
                "message": {"type": "string"},
                "collection": {"type": "string"},
                "item": {"type": "string"},
                "permissions": {"type": "string"},
            }),
        )
    }

    async fn run<H: Host>(
        &self,
        host: &H,
        ctx: &Context,
        options: Json,
        _data: Json,
    ) -> Result<Json, HostError> {
        let recipients = list(&options, "recipient");
        if recipients.is_empty() {
            return Err(HostError::invalid_payload("\"recipient\" is required"));
        }
        let subject = required(&options, "subject")?;
        let message = text(&options, "message");
        let rows: Vec<Json> = recipients
            .iter()
            .map(|r| {
                json!({
                    "recipient": r,
                    "sender": ctx.user,
                    "subject": subject,
                    "message": message,
                    "collection": text(&options, "collection"),
                    "item": text(&options, "item"),
                })
            })
            .collect();
        let ids = host
            .create_items(
                &acting_as(ctx, &options),
                "directus_notifications",
                Json::Array(rows),
            )
            .await?;
        // Who wants mail is the system's to know, not the flow's permissions.
        let system = Context {
            admin: true,
            user: None,
            role: None,
            ip: None,
            user_agent: None,
        };
        let wanting = host
            .read_items(
                &system,
                "directus_users",
                QueryInput::Json(json!({
                    "fields": ["email"],
                    "filter": {"id": {"_in": recipients}, "email_notifications": {"_eq": true}, "email": {"_nnull": true}},
                    "limit": -1,
                })),
            )
            .await?;
        let users: Vec<Json> = serde_json::from_str(&wanting.data).unwrap_or_default();
        let to: Vec<String> = users
            .iter()
            .filter_map(|u| u.get("email")?.as_str().map(str::to_string))
            .collect();
        if !to.is_empty() {
            let mail = rectus_sdk::Mail {
                bcc: to,
                subject: subject.clone(),
                body: MailBody::Markdown(message.unwrap_or_default()),
                ..Default::default()
            };
            host.send_mail(ctx, mail).await?;
        }
        Ok(Json::Array(ids))
    }
}

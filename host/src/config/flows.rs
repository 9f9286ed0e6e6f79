//! Settings of the flow engine and the mail module: `FLOWS_*` and `EMAIL_*`.

use super::{invalid, parse_num, ConfigError, Vars};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct FlowsConfig {
    /// `FLOWS_ENV_ALLOW_LIST`: the environment variables flows see as `$env`, with their
    /// values (read once, like every setting).
    pub env: BTreeMap<String, String>,
    /// `FLOWS_MAX_DEPTH` (10): how deep flows may start flows (through the writes they
    /// make or the trigger-flow operation) before a run is refused.
    pub max_depth: u32,
    /// `FLOWS_QUEUE_SIZE` (1024): queued runs (action events, schedules, async webhooks)
    /// before new events wait for room.
    pub queue_size: usize,
    /// `FLOWS_CONCURRENCY` (8): runs executing at once from the queue.
    pub concurrency: usize,
    /// `FLOWS_RUN_SCRIPT_TIMEOUT` (10000 ms): wall-clock limit of a run-script operation.
    pub script_timeout: Duration,
    /// `FLOWS_SLEEP_MAX` (1h): the longest a sleep operation waits.
    pub sleep_max: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailTransport {
    /// No transport configured: mail is written to the log instead of being sent.
    Log,
    Smtp {
        host: String,
        port: u16,
        user: Option<String>,
        password: Option<String>,
        /// `EMAIL_SMTP_SECURE`: TLS from the first byte (port 465 style).
        secure: bool,
        /// `EMAIL_SMTP_IGNORE_TLS`: never upgrade with STARTTLS.
        ignore_tls: bool,
        /// `EMAIL_SMTP_NAME`: the name given in HELO/EHLO.
        name: Option<String>,
    },
    Sendmail {
        path: Option<String>,
    },
}

#[derive(Debug, Clone)]
pub struct EmailConfig {
    /// `EMAIL_FROM` (no-reply@example.com).
    pub from: String,
    pub transport: EmailTransport,
    /// `EMAIL_TEMPLATES_PATH` (./templates): named templates (`<name>.liquid` or
    /// `<name>.html`) that override or add to the built-in ones.
    pub templates_path: PathBuf,
    /// `EMAIL_SEND_TIMEOUT` (10s): connecting and talking to the SMTP server.
    pub timeout: Duration,
}

fn flag(vars: &Vars, name: &'static str) -> Result<bool, ConfigError> {
    match vars.get(name) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(v) => Err(invalid(name, v, "must be true or false")),
    }
}

fn duration(vars: &Vars, name: &'static str, default: Duration) -> Result<Duration, ConfigError> {
    match vars.get(name) {
        None => Ok(default),
        Some(v) => super::parse_duration(v)
            .ok_or_else(|| invalid(name, v, "must be a duration such as 500, 10s or 1m")),
    }
}

impl FlowsConfig {
    pub fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        let env = match vars.get("FLOWS_ENV_ALLOW_LIST") {
            None | Some("false") => BTreeMap::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(|n| (n.to_string(), vars.0.get(n).cloned().unwrap_or_default()))
                .collect(),
        };
        let max_depth = parse_num(vars, "FLOWS_MAX_DEPTH", 10u32)?;
        let queue_size = parse_num(vars, "FLOWS_QUEUE_SIZE", 1024usize)?;
        let concurrency = parse_num(vars, "FLOWS_CONCURRENCY", 8usize)?;
        for (name, v) in [
            ("FLOWS_MAX_DEPTH", max_depth as usize),
            ("FLOWS_QUEUE_SIZE", queue_size),
            ("FLOWS_CONCURRENCY", concurrency),
        ] {
            if v == 0 {
                return Err(invalid(name, "0", "must be at least 1"));
            }
        }
        Ok(FlowsConfig {
            env,
            max_depth,
            queue_size,
            concurrency,
            script_timeout: duration(vars, "FLOWS_RUN_SCRIPT_TIMEOUT", Duration::from_secs(10))?,
            sleep_max: duration(vars, "FLOWS_SLEEP_MAX", Duration::from_secs(3600))?,
        })
    }
}

impl EmailConfig {
    pub fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        let transport = match vars.get("EMAIL_TRANSPORT") {
            None => EmailTransport::Log,
            Some("smtp") => EmailTransport::Smtp {
                host: vars
                    .get("EMAIL_SMTP_HOST")
                    .unwrap_or("127.0.0.1")
                    .to_string(),
                port: parse_num(vars, "EMAIL_SMTP_PORT", 587u16)?,
                user: vars.get("EMAIL_SMTP_USER").map(str::to_string),
                password: vars.get("EMAIL_SMTP_PASSWORD").map(str::to_string),
                secure: flag(vars, "EMAIL_SMTP_SECURE")?,
                ignore_tls: flag(vars, "EMAIL_SMTP_IGNORE_TLS")?,
                name: vars.get("EMAIL_SMTP_NAME").map(str::to_string),
            },
            Some("sendmail") => EmailTransport::Sendmail {
                path: vars.get("EMAIL_SENDMAIL_PATH").map(str::to_string),
            },
            Some(v) => {
                return Err(invalid(
                    "EMAIL_TRANSPORT",
                    v,
                    "must be smtp or sendmail (unset: mail is logged, not sent)",
                ))
            }
        };
        let from = vars
            .get("EMAIL_FROM")
            .unwrap_or("no-reply@example.com")
            .to_string();
        if !crate::auth::is_plausible_email(
            from.rsplit_once('<')
                .map_or(from.as_str(), |(_, a)| a.trim_end_matches('>')),
        ) {
            return Err(invalid("EMAIL_FROM", &from, "must be an e-mail address"));
        }
        Ok(EmailConfig {
            from,
            transport,
            templates_path: PathBuf::from(
                vars.get("EMAIL_TEMPLATES_PATH").unwrap_or("./templates"),
            ),
            timeout: duration(vars, "EMAIL_SEND_TIMEOUT", Duration::from_secs(10))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_allow_list_and_limits() {
        let v = Vars::from_pairs([
            ("FLOWS_ENV_ALLOW_LIST", "SHOP_NAME, MISSING"),
            ("SHOP_NAME", "Acme"),
            ("SECRET", "hidden"),
        ]);
        let f = FlowsConfig::from_vars(&v).unwrap();
        assert_eq!(f.env.get("SHOP_NAME").map(String::as_str), Some("Acme"));
        assert_eq!(f.env.get("MISSING").map(String::as_str), Some(""));
        assert!(!f.env.contains_key("SECRET"));
        assert_eq!(f.max_depth, 10);
        let bad = Vars::from_pairs([("FLOWS_MAX_DEPTH", "0")]);
        assert!(FlowsConfig::from_vars(&bad).is_err());
    }

    #[test]
    fn email_transports() {
        let none = EmailConfig::from_vars(&Vars::from_pairs([])).unwrap();
        assert_eq!(none.transport, EmailTransport::Log);
        let smtp = EmailConfig::from_vars(&Vars::from_pairs([
            ("EMAIL_TRANSPORT", "smtp"),
            ("EMAIL_SMTP_PORT", "1025"),
            ("EMAIL_SMTP_IGNORE_TLS", "true"),
        ]))
        .unwrap();
        assert!(matches!(
            smtp.transport,
            EmailTransport::Smtp {
                port: 1025,
                ignore_tls: true,
                ..
            }
        ));
        assert!(
            EmailConfig::from_vars(&Vars::from_pairs([("EMAIL_TRANSPORT", "carrier-pigeon")]))
                .is_err()
        );
        assert!(EmailConfig::from_vars(&Vars::from_pairs([("EMAIL_FROM", "nope")])).is_err());
        let named = EmailConfig::from_vars(&Vars::from_pairs([(
            "EMAIL_FROM",
            "Shop <shop@example.com>",
        )]))
        .unwrap();
        assert_eq!(named.from, "Shop <shop@example.com>");
    }
}

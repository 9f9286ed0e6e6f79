//! The run log: per the flow's `accountability` — `all`: an activity row (`action: run`,
//! collection `directus_flows`, the flow's id) and a revision whose `data` is
//! `{steps: [{operation, key, status, options}], data: <the data chain>}`; `activity`:
//! the activity row only; none: nothing. Secrets in the chain (passwords, tokens,
//! authorization headers, `$env` values) are redacted first.

use super::run::Outcome;
use crate::app::AppState;
use crate::db::{DbError, Dialect};
use crate::schema::types::pg_cast;
use crate::schema::FieldType;
use rectus_sdk::Context;
use serde_json::{json, Value as Json};

const REDACTED: &str = "--redacted--";

fn secret_key(k: &str) -> bool {
    matches!(
        k.to_ascii_lowercase().as_str(),
        "password"
            | "token"
            | "tfa_secret"
            | "authorization"
            | "cookie"
            | "access_token"
            | "refresh_token"
            | "secret"
            | "x-api-key"
    )
}

pub fn redact(v: &Json) -> Json {
    match v {
        Json::Object(o) => Json::Object(
            o.iter()
                .map(|(k, v)| {
                    let v = if secret_key(k) && !v.is_null() {
                        json!(REDACTED)
                    } else if k == "$env" {
                        match v {
                            Json::Object(env) => Json::Object(
                                env.keys().map(|k| (k.clone(), json!(REDACTED))).collect(),
                            ),
                            other => other.clone(),
                        }
                    } else {
                        redact(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Json::Array(a) => Json::Array(a.iter().map(redact).collect()),
        other => other.clone(),
    }
}

pub async fn record(
    state: &AppState,
    flow: &str,
    accountability: Option<&str>,
    ctx: &Context,
    outcome: &Outcome,
) -> Result<(), DbError> {
    let (activity, revision) = match accountability {
        Some("all") => (true, true),
        Some("activity") => (true, false),
        _ => (false, false),
    };
    if !activity {
        return Ok(());
    }
    let mut tx = state.db.begin().await?;
    let d = tx.dialect();
    let mut sql = tx.sql();
    sql.push("INSERT INTO ")
        .ident("rectus_activity")
        .push(" (")
        .idents(["action", "user", "ip", "user_agent", "collection", "item"])
        .push(") VALUES (")
        .bind("run")
        .push(", ")
        .bind_cast(ctx.user.clone(), pg_cast(FieldType::Uuid))
        .push(", ")
        .bind(ctx.ip.clone())
        .push(", ")
        .bind(ctx.user_agent.clone())
        .push(", ")
        .bind("directus_flows")
        .push(", ")
        .bind(flow.to_string())
        .push(")");
    let id = if d == Dialect::MySql {
        tx.execute(&sql).await?;
        let mut last = tx.sql();
        last.push("SELECT LAST_INSERT_ID() AS id");
        tx.fetch_optional(&last).await?
    } else {
        sql.push(" RETURNING ").ident("id");
        tx.fetch_optional(&sql).await?
    }
    .and_then(|r| {
        r.get("id")
            .and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()))
    })
    .unwrap_or_default();
    if revision {
        let data = json!({
            "steps": outcome.steps.iter().map(redact).collect::<Vec<_>>(),
            "data": redact(&Json::Object(outcome.data.clone())),
        });
        let mut rev = tx.sql();
        rev.push("INSERT INTO ")
            .ident("rectus_revisions")
            .push(" (")
            .idents(["activity", "collection", "item", "data"])
            .push(") VALUES (")
            .bind(id)
            .push(", ")
            .bind("directus_flows")
            .push(", ")
            .bind(flow.to_string())
            .push(", ")
            .bind_cast(data.to_string(), pg_cast(FieldType::Json))
            .push(")");
        tx.execute(&rev).await?;
    }
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted() {
        let v = json!({"$trigger": {"headers": {"authorization": "Bearer x", "accept": "*/*"}, "payload": {"password": "p", "name": "n"}}, "$env": {"API": "k"}});
        let r = redact(&v);
        assert_eq!(r["$trigger"]["headers"]["authorization"], REDACTED);
        assert_eq!(r["$trigger"]["headers"]["accept"], "*/*");
        assert_eq!(r["$trigger"]["payload"]["password"], REDACTED);
        assert_eq!(r["$trigger"]["payload"]["name"], "n");
        assert_eq!(r["$env"]["API"], REDACTED);
    }
}

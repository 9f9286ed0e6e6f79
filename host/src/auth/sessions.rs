//! Refresh tokens and cookie sessions, one row per login in `rectus_sessions`. A refresh
//! rotates the token (the old one stops working at once); logout deletes the row; a
//! session-mode access token names its row, so logout revokes it too.

use crate::db::{Db, DbError, Value};
use crate::schema::types::pg_cast;
use crate::schema::FieldType;
use chrono::{DateTime, Utc};
use rand::distributions::Alphanumeric;
use rand::Rng;
use std::time::Duration;

/// 64 random characters, like Directus's `nanoid(64)`.
pub fn new_token() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(64)
        .map(char::from)
        .collect()
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.3f").to_string()
}

/// Who opened the session, for the record.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

pub async fn create(
    db: &Db,
    user: &str,
    ttl: Duration,
    origin: &Origin,
) -> Result<String, DbError> {
    let token = new_token();
    let expires = Utc::now() + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::days(7));
    let mut sql = db.sql();
    sql.push("INSERT INTO ")
        .ident("rectus_sessions")
        .push(" (")
        .idents(["token", "user", "expires", "ip", "user_agent"])
        .push(") VALUES (")
        .bind(token.clone())
        .push(", ")
        .bind_cast(user, pg_cast(FieldType::Uuid))
        .push(", ")
        .bind_cast(stamp(expires), pg_cast(FieldType::Timestamp))
        .push(", ")
        .bind(origin.ip.clone())
        .push(", ")
        .bind(origin.user_agent.clone())
        .push(")");
    db.execute(&sql).await?;
    Ok(token)
}

/// The user of a live session (not expired, user active).
pub async fn user_of(db: &Db, token: &str) -> Result<Option<String>, DbError> {
    let mut sql = db.sql();
    sql.push("SELECT s.")
        .ident("user")
        .push(" AS u FROM ")
        .ident("rectus_sessions")
        .push(" s JOIN ")
        .ident("rectus_users");
    sql.push(" us ON us.")
        .ident("id")
        .push(" = s.")
        .ident("user");
    sql.push(" WHERE s.").ident("token").push(" = ").bind(token);
    sql.push(" AND s.")
        .ident("expires")
        .push(" > ")
        .bind_cast(stamp(Utc::now()), pg_cast(FieldType::Timestamp));
    sql.push(" AND us.")
        .ident("status")
        .push(" = ")
        .bind("active");
    Ok(db
        .fetch_optional(&sql)
        .await?
        .and_then(|r| r.get("u").and_then(|u| u.as_str()).map(str::to_string)))
}

/// Replaces a live session's token with a new one (same user, fresh expiry). `None` when
/// the token is unknown, expired or its user is not active.
pub async fn rotate(
    db: &Db,
    token: &str,
    ttl: Duration,
    origin: &Origin,
) -> Result<Option<(String, String)>, DbError> {
    let Some(user) = user_of(db, token).await? else {
        return Ok(None);
    };
    let mut del = db.sql();
    del.push("DELETE FROM ")
        .ident("rectus_sessions")
        .push(" WHERE ")
        .ident("token")
        .push(" = ")
        .bind(token);
    // Two refreshes racing with the same token: only the one that deletes the row wins.
    if db.execute(&del).await? == 0 {
        return Ok(None);
    }
    let new = create(db, &user, ttl, origin).await?;
    Ok(Some((user, new)))
}

pub async fn delete(db: &Db, token: &str) -> Result<bool, DbError> {
    let mut sql = db.sql();
    sql.push("DELETE FROM ")
        .ident("rectus_sessions")
        .push(" WHERE ")
        .ident("token")
        .push(" = ")
        .bind(token);
    Ok(db.execute(&sql).await? > 0)
}

/// Removes expired sessions (called now and then; expired ones never authenticate anyway).
pub async fn purge_expired(db: &Db) -> Result<u64, DbError> {
    let mut sql = db.sql();
    sql.push("DELETE FROM ")
        .ident("rectus_sessions")
        .push(" WHERE ")
        .ident("expires")
        .push(" <= ");
    sql.bind_cast(
        Value::Text(stamp(Utc::now())),
        pg_cast(FieldType::Timestamp),
    );
    db.execute(&sql).await
}

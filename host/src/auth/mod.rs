//! Authentication: who is calling. Password hashing (argon2id), access tokens (JWT,
//! HS256, signed with `SECRET`), static tokens (`rectus_users.token`), and resolving a
//! request's token into an [`Accountability`].
//!
//! Owns: credentials and tokens. Must not touch: what a caller may do with a collection —
//! that is access control's, which reads the accountability built here.

pub mod cache;
pub mod jwt;
pub mod limits;
pub mod password;
pub mod sessions;

use crate::db::{Db, DbError};
use serde::{Deserialize, Serialize};

/// Who a request acts as.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Accountability {
    pub user: Option<String>,
    pub role: Option<String>,
    pub admin: bool,
    pub app: bool,
}

impl Accountability {
    pub fn public() -> Self {
        Self::default()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("Invalid user credentials.")]
    InvalidCredentials,
    #[error("Token expired.")]
    TokenExpired,
    #[error("Invalid token.")]
    InvalidToken,
    #[error("User suspended.")]
    UserSuspended,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// A loose check that a string is an e-mail address: something@something.tld, no spaces.
pub fn is_plausible_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
        && s.matches('@').count() == 1
        && s.len() <= 254
}

/// Resolves a bearer token: a JWT issued by us, or a user's static token.
pub async fn accountability_for_token(
    db: &Db,
    secret: &[u8],
    token: &str,
) -> Result<Accountability, AuthError> {
    if jwt::looks_like_ours(token) {
        let claims = jwt::verify(secret, token)?;
        // A session-mode token is only as alive as its session: logout revokes it.
        if let Some(session) = &claims.session {
            if sessions::user_of(db, session).await?.as_deref() != Some(claims.id.as_str()) {
                return Err(AuthError::InvalidCredentials);
            }
        }
        return Ok(Accountability {
            user: Some(claims.id),
            role: claims.role,
            admin: claims.admin_access,
            app: claims.app_access,
        });
    }
    let mut sql = db.sql();
    sql.push("SELECT ")
        .ident("id")
        .push(", ")
        .ident("role")
        .push(", ")
        .ident("status")
        .push(" FROM ")
        .ident("rectus_users")
        .push(" WHERE ")
        .ident("token")
        .push(" = ")
        .bind(token);
    let Some(row) = db.fetch_optional(&sql).await? else {
        return Err(AuthError::InvalidCredentials);
    };
    if row.get("status").and_then(|v| v.as_str()) != Some("active") {
        return Err(AuthError::InvalidCredentials);
    }
    let user = row.get("id").and_then(|v| v.as_str()).map(str::to_string);
    let role = row.get("role").and_then(|v| v.as_str()).map(str::to_string);
    let (admin, app) = match (&user, &role) {
        (Some(u), r) => global_access(db, u, r.as_deref()).await?,
        _ => (false, false),
    };
    Ok(Accountability {
        user,
        role,
        admin,
        app,
    })
}

/// A user's role and admin flag by id (for guests acting for the writer of an event);
/// an unknown or inactive user has neither.
pub async fn user_access(db: &Db, user: &str) -> Result<(Option<String>, bool), DbError> {
    let mut sql = db.sql();
    sql.push("SELECT ")
        .ident("role")
        .push(", ")
        .ident("status")
        .push(" FROM ")
        .ident("rectus_users")
        .push(" WHERE ")
        .ident("id")
        .push(" = ")
        .bind_cast(user, Some("uuid"));
    let Some(row) = db.fetch_optional(&sql).await? else {
        return Ok((None, false));
    };
    if row.get("status").and_then(|v| v.as_str()) != Some("active") {
        return Ok((None, false));
    }
    let role = row.get("role").and_then(|v| v.as_str()).map(str::to_string);
    let (admin, _) = global_access(db, user, role.as_deref()).await?;
    Ok((role, admin))
}

/// `admin_access` / `app_access`: OR over the policies linked to the user or its role.
pub async fn global_access(
    db: &Db,
    user: &str,
    role: Option<&str>,
) -> Result<(bool, bool), DbError> {
    let mut sql = db.sql();
    sql.push("SELECT p.")
        .ident("admin_access")
        .push(" AS admin_access, p.")
        .ident("app_access")
        .push(" AS app_access FROM ")
        .ident("rectus_access")
        .push(" a JOIN ")
        .ident("rectus_policies")
        .push(" p ON p.")
        .ident("id")
        .push(" = a.")
        .ident("policy")
        .push(" WHERE a.")
        .ident("user")
        .push(" = ")
        .bind_cast(user, Some("uuid"));
    if let Some(role) = role {
        sql.push(" OR a.")
            .ident("role")
            .push(" = ")
            .bind_cast(role, Some("uuid"));
    }
    let rows = db.fetch_all(&sql).await?;
    let truthy = |v: Option<&serde_json::Value>| match v {
        Some(serde_json::Value::Bool(b)) => *b,
        Some(serde_json::Value::Number(n)) => n.as_i64() == Some(1),
        _ => false,
    };
    Ok((
        rows.iter().any(|r| truthy(r.get("admin_access"))),
        rows.iter().any(|r| truthy(r.get("app_access"))),
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn emails() {
        assert!(super::is_plausible_email("admin@example.com"));
        assert!(!super::is_plausible_email("admin"));
        assert!(!super::is_plausible_email("a@b"));
        assert!(!super::is_plausible_email("a b@c.com"));
        assert!(!super::is_plausible_email("a@@c.com"));
    }
}

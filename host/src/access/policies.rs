//! Which policies apply to a caller, and loading their permission rows.
//!
//! As Directus 11 (`fetch-policies.ts`): a caller with a role gets the policies linked to
//! its role and the role's ancestors (nested roles, root first) plus those linked to the
//! user itself; an anonymous caller, or a user without a role, gets the Public policy
//! (the access row with neither role nor user) plus the user's own. `admin_access` and
//! `app_access` are the OR over those policies.

use super::permissions::{Action, PermissionRow};
use crate::db::{Db, DbError, Row};
use crate::schema::system;
use serde_json::Value as Json;

/// The policies a caller acts under, in application order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicySet {
    pub policies: Vec<String>,
    /// The role and its ancestors, root first.
    pub roles: Vec<String>,
    pub admin: bool,
    pub app: bool,
}

fn text(row: &Row, key: &str) -> Option<String> {
    match row.get(key)? {
        Json::String(s) => Some(s.to_lowercase()),
        Json::Null => None,
        other => Some(other.to_string()),
    }
}

fn truthy(v: Option<&Json>) -> bool {
    match v {
        Some(Json::Bool(b)) => *b,
        Some(Json::Number(n)) => n.as_i64() == Some(1),
        Some(Json::String(s)) => s == "1" || s == "true",
        _ => false,
    }
}

/// `role` and its ancestors, root first. A cycle stops at the first repeat.
async fn role_chain(db: &Db, role: &str) -> Result<Vec<String>, DbError> {
    let mut sql = db.sql();
    sql.push("SELECT ")
        .ident("id")
        .push(" AS id, ")
        .ident("parent")
        .push(" AS parent FROM ")
        .ident("rectus_roles");
    let rows = db.fetch_all(&sql).await?;
    let parent_of = |id: &str| {
        rows.iter()
            .find(|r| text(r, "id").as_deref() == Some(id))
            .map(|r| text(r, "parent"))
    };
    let mut chain = Vec::new();
    let mut next = Some(role.to_lowercase());
    while let Some(id) = next {
        if chain.contains(&id) {
            break;
        }
        let Some(parent) = parent_of(&id) else {
            break; // a role that does not exist (deleted under a live token)
        };
        chain.push(id);
        next = parent;
    }
    chain.reverse();
    Ok(chain)
}

pub async fn resolve(
    db: &Db,
    user: Option<&str>,
    role: Option<&str>,
) -> Result<PolicySet, DbError> {
    let roles = match role {
        Some(r) => role_chain(db, r).await?,
        None => Vec::new(),
    };
    let mut sql = db.sql();
    sql.push("SELECT a.")
        .ident("policy")
        .push(" AS policy, a.")
        .ident("role")
        .push(" AS role, p.")
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
        .push(" WHERE ");
    if roles.is_empty() {
        sql.push("(a.")
            .ident("role")
            .push(" IS NULL AND a.")
            .ident("user")
            .push(" IS NULL)");
    } else {
        sql.push("a.").ident("role").push(" IN (");
        for (i, r) in roles.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind_cast(r.as_str(), Some("uuid"));
        }
        sql.push(")");
    }
    if let Some(u) = user {
        sql.push(" OR a.")
            .ident("user")
            .push(" = ")
            .bind_cast(u, Some("uuid"));
    }
    sql.push(" ORDER BY a.").ident("sort");
    let rows = db.fetch_all(&sql).await?;
    // Role policies root first, then the user's own.
    let rank = |r: &Row| match text(r, "role") {
        Some(role) => roles.iter().position(|x| *x == role).unwrap_or(0),
        None => roles.len(),
    };
    let mut ordered: Vec<&Row> = rows.iter().collect();
    ordered.sort_by_key(|r| rank(r));
    let mut set = PolicySet {
        roles,
        ..Default::default()
    };
    for r in ordered {
        let Some(p) = text(r, "policy") else { continue };
        set.admin |= truthy(r.get("admin_access"));
        set.app |= truthy(r.get("app_access"));
        if !set.policies.contains(&p) {
            set.policies.push(p);
        }
    }
    Ok(set)
}

/// The permission rows of `policies`, in the policies' order, collections named as in
/// their schema (`directus_users` → `rectus_users`).
pub async fn permission_rows(db: &Db, policies: &[String]) -> Result<Vec<PermissionRow>, DbError> {
    if policies.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = db.sql();
    sql.push("SELECT ");
    for (i, c) in [
        "collection",
        "action",
        "fields",
        "permissions",
        "validation",
        "presets",
        "policy",
    ]
    .iter()
    .enumerate()
    {
        if i > 0 {
            sql.push(", ");
        }
        sql.ident(c).push(" AS ").ident(c);
    }
    sql.push(" FROM ")
        .ident("rectus_permissions")
        .push(" WHERE ")
        .ident("policy")
        .push(" IN (");
    for (i, p) in policies.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind_cast(p.as_str(), Some("uuid"));
    }
    sql.push(") ORDER BY ").ident("id");
    let rows = db.fetch_all(&sql).await?;
    let mut out: Vec<(usize, PermissionRow)> = Vec::new();
    for r in &rows {
        let (Some(collection), Some(action)) = (
            r.get("collection").and_then(Json::as_str),
            r.get("action")
                .and_then(Json::as_str)
                .and_then(Action::parse),
        ) else {
            continue;
        };
        let collection = system::table_of(collection).unwrap_or(collection);
        let rank = text(r, "policy")
            .and_then(|p| policies.iter().position(|x| *x == p))
            .unwrap_or(usize::MAX);
        out.push((
            rank,
            PermissionRow::from_stored(
                collection,
                action,
                r.get("fields"),
                r.get("permissions"),
                r.get("validation"),
                r.get("presets"),
            ),
        ));
    }
    out.sort_by_key(|(rank, _)| *rank);
    Ok(out.into_iter().map(|(_, r)| r).collect())
}

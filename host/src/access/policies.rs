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

/// One linked policy before the request's IP is considered.
#[derive(Debug, Clone, PartialEq)]
pub struct Linked {
    pub id: String,
    pub admin: bool,
    pub app: bool,
    /// `ip_access`: the addresses or CIDR ranges the policy applies from (empty: any).
    pub ip_access: Vec<String>,
}

/// The policies linked to a caller, in application order, and its role chain.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resolved {
    pub roles: Vec<String>,
    pub linked: Vec<Linked>,
}

impl Resolved {
    /// The policies that apply to a request from `ip`: a policy with an `ip_access` list
    /// applies only from a listed address (and not when the address is unknown).
    pub fn for_ip(&self, ip: Option<&str>) -> PolicySet {
        let ip: Option<std::net::IpAddr> = ip.and_then(|i| i.parse().ok());
        let mut set = PolicySet {
            roles: self.roles.clone(),
            ..Default::default()
        };
        for p in &self.linked {
            if !p.ip_access.is_empty()
                && !ip.is_some_and(|ip| p.ip_access.iter().any(|r| ip_matches(r, ip)))
            {
                continue;
            }
            set.admin |= p.admin;
            set.app |= p.app;
            set.policies.push(p.id.clone());
        }
        set
    }
}

/// Whether `ip` is `range`: an address, or `address/prefix`.
fn ip_matches(range: &str, ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    let (addr, prefix) = match range.trim().split_once('/') {
        Some((a, p)) => (a, p.parse::<u32>().ok()),
        None => (range.trim(), None),
    };
    let Ok(net) = addr.parse::<IpAddr>() else {
        return false;
    };
    let to_v6 = |ip: IpAddr| match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    };
    let (bits, offset) = match net {
        IpAddr::V4(_) => (prefix.unwrap_or(32).min(32), 96),
        IpAddr::V6(_) => (prefix.unwrap_or(128).min(128), 0),
    };
    let total = bits + offset;
    let (a, b) = (u128::from(to_v6(net)), u128::from(to_v6(ip)));
    let mask = if total == 0 {
        0
    } else {
        u128::MAX << (128 - total)
    };
    a & mask == b & mask
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

pub async fn resolve(db: &Db, user: Option<&str>, role: Option<&str>) -> Result<Resolved, DbError> {
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
        .push(" AS app_access, p.")
        .ident("ip_access")
        .push(" AS ip_access FROM ")
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
    let mut out = Resolved {
        roles,
        linked: Vec::new(),
    };
    for r in ordered {
        let Some(p) = text(r, "policy") else { continue };
        if out.linked.iter().any(|l| l.id == p) {
            continue;
        }
        let ip_access = match r.get("ip_access") {
            Some(Json::String(s)) => s
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        };
        out.linked.push(Linked {
            id: p,
            admin: truthy(r.get("admin_access")),
            app: truthy(r.get("app_access")),
            ip_access,
        });
    }
    Ok(out)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn linked(id: &str, admin: bool, ip: &[&str]) -> Linked {
        Linked {
            id: id.into(),
            admin,
            app: false,
            ip_access: ip.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn ip_access_limits_policies() {
        let r = Resolved {
            roles: vec![],
            linked: vec![
                linked("open", false, &[]),
                linked("office", true, &["10.0.0.0/8", "192.168.1.7"]),
                linked("v6", false, &["2001:db8::/32"]),
            ],
        };
        let at = |ip: Option<&str>| r.for_ip(ip).policies;
        assert_eq!(at(Some("10.1.2.3")), vec!["open", "office"]);
        assert!(r.for_ip(Some("10.1.2.3")).admin);
        assert_eq!(at(Some("192.168.1.7")), vec!["open", "office"]);
        assert_eq!(at(Some("192.168.1.8")), vec!["open"]);
        assert_eq!(at(Some("2001:db8::1")), vec!["open", "v6"]);
        assert_eq!(at(None), vec!["open"]);
        assert!(!r.for_ip(None).admin);
        assert!(ip_matches("0.0.0.0/0", "8.8.8.8".parse().unwrap()));
        assert!(!ip_matches("not-an-ip", "8.8.8.8".parse().unwrap()));
    }
}

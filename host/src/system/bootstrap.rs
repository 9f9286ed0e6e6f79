//! First start: the Administrator role and policy, the Public policy, the settings row
//! and the first admin user. Idempotent: each part is created only if missing.

use super::PUBLIC_POLICY_ID;
use crate::auth::password;
use crate::db::{Db, DbError};
use rand::distributions::Alphanumeric;
use rand::Rng;

pub struct AdminInput<'a> {
    pub email: Option<&'a str>,
    pub password: Option<&'a str>,
    pub token: Option<&'a str>,
}

/// What bootstrap did, for the CLI to report.
#[derive(Debug, Default)]
pub struct Bootstrapped {
    /// The admin created on this run: email, and the password if it was generated.
    pub admin_created: Option<(String, Option<String>)>,
}

async fn count(db: &Db, table: &str, column: &str, value: &str) -> Result<i64, DbError> {
    let mut sql = db.sql();
    sql.push("SELECT COUNT(*) AS n FROM ")
        .ident(table)
        .push(" WHERE ")
        .ident(column)
        .push(" = ")
        .bind_cast(value, Some("uuid"));
    Ok(db
        .fetch_optional(&sql)
        .await?
        .and_then(|r| {
            r.get("n")
                .and_then(|n| n.as_i64().or_else(|| n.as_str()?.parse().ok()))
        })
        .unwrap_or(0))
}

/// An INSERT into a system table, values cast by the table's column specs.
fn insert(db: &Db, table: &str, values: &[(&str, serde_json::Value)]) -> crate::db::Sql {
    let table = super::tables::by_name(table).expect("bootstrap writes known system tables");
    let map: serde_json::Map<String, serde_json::Value> = values
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    crate::schema::meta::insert(db.dialect(), table, &map)
}

pub async fn run(db: &Db, admin: AdminInput<'_>) -> Result<Bootstrapped, DbError> {
    use serde_json::json;
    let mut out = Bootstrapped::default();
    if count(db, "rectus_policies", "id", PUBLIC_POLICY_ID).await? == 0 {
        let mut tx = db.begin().await?;
        tx.execute(&insert(
            db,
            "rectus_policies",
            &[
                ("id", json!(PUBLIC_POLICY_ID)),
                ("name", json!("$t:public_label")),
                ("icon", json!("public")),
                ("description", json!("$t:public_description")),
                ("app_access", json!(false)),
                ("admin_access", json!(false)),
            ],
        ))
        .await?;
        tx.execute(&insert(
            db,
            "rectus_access",
            &[
                ("id", json!(uuid::Uuid::new_v4().to_string())),
                ("policy", json!(PUBLIC_POLICY_ID)),
            ],
        ))
        .await?;
        tx.commit().await?;
    }

    let mut settings = db.sql();
    settings
        .push("SELECT COUNT(*) AS n FROM ")
        .ident("rectus_settings");
    let has_settings = db
        .fetch_optional(&settings)
        .await?
        .and_then(|r| r.get("n").and_then(|n| n.as_i64()))
        .unwrap_or(0)
        > 0;
    if !has_settings {
        db.execute(&insert(
            db,
            "rectus_settings",
            &[("project_name", json!("Rectus"))],
        ))
        .await?;
    }

    let mut users = db.sql();
    users
        .push("SELECT COUNT(*) AS n FROM ")
        .ident("rectus_users");
    let has_users = db
        .fetch_optional(&users)
        .await?
        .and_then(|r| r.get("n").and_then(|n| n.as_i64()))
        .unwrap_or(0)
        > 0;
    if !has_users {
        let email = admin
            .email
            .unwrap_or("admin@example.com")
            .to_ascii_lowercase();
        let (password, generated) = match admin.password {
            Some(p) => (p.to_string(), None),
            None => {
                let p: String = rand::thread_rng()
                    .sample_iter(&Alphanumeric)
                    .take(16)
                    .map(char::from)
                    .collect();
                (p.clone(), Some(p))
            }
        };
        let hash = password::hash(password).await;
        let role_id = uuid::Uuid::new_v4().to_string();
        let policy_id = uuid::Uuid::new_v4().to_string();
        let user_id = uuid::Uuid::new_v4().to_string();
        let mut tx = db.begin().await?;
        tx.execute(&insert(
            db,
            "rectus_roles",
            &[
                ("id", json!(role_id.clone())),
                ("name", json!("Administrator")),
                ("icon", json!("verified")),
                ("description", json!("$t:admin_description")),
            ],
        ))
        .await?;
        tx.execute(&insert(
            db,
            "rectus_policies",
            &[
                ("id", json!(policy_id.clone())),
                ("name", json!("Administrator")),
                ("icon", json!("verified")),
                ("description", json!("$t:admin_description")),
                ("app_access", json!(true)),
                ("admin_access", json!(true)),
            ],
        ))
        .await?;
        tx.execute(&insert(
            db,
            "rectus_access",
            &[
                ("id", json!(uuid::Uuid::new_v4().to_string())),
                ("role", json!(role_id.clone())),
                ("policy", json!(policy_id)),
            ],
        ))
        .await?;
        tx.execute(&insert(
            db,
            "rectus_users",
            &[
                ("id", json!(user_id)),
                ("first_name", json!("Admin")),
                ("last_name", json!("User")),
                ("email", json!(email.clone())),
                ("password", json!(hash)),
                ("status", json!("active")),
                ("role", json!(role_id)),
                ("token", json!(admin.token)),
            ],
        ))
        .await?;
        tx.commit().await?;
        out.admin_created = Some((email, generated));
    }
    Ok(out)
}

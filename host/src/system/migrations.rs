//! Versioned migrations of the `rectus_*` tables. Each has a number and a name; the ones
//! already applied are recorded in `rectus_migrations`, so `bootstrap` can run on every
//! start and only does what is missing. A migration never changes once released: a fix
//! is a new migration.

use super::tables;
use crate::db::{Db, DbError, Dialect};
use crate::schema::ddl::{self, DdlError};

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Ddl(#[from] DdlError),
    #[error("migration {version} ({name}) failed: {source}")]
    Step {
        version: i64,
        name: &'static str,
        source: DbError,
    },
}

pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub statements: fn(Dialect) -> Result<Vec<String>, DdlError>,
}

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "create system tables",
        statements: |dialect| {
            let mut out = Vec::new();
            // rectus_migrations exists before any migration runs; later tables come with
            // their own migrations.
            for t in tables::ALL[1..]
                .iter()
                .filter(|t| !tables::LATER.contains(&t.name))
            {
                out.push(ddl::create_table(
                    dialect,
                    t.name,
                    &(t.columns)(),
                    &(t.foreign_keys)(),
                )?);
            }
            out.push(format!(
                "CREATE UNIQUE INDEX {} ON {} ({}, {})",
                dialect.quote("rectus_fields_collection_field_unique"),
                dialect.quote("rectus_fields"),
                dialect.quote("collection"),
                dialect.quote("field")
            ));
            out.push(format!(
                "CREATE UNIQUE INDEX {} ON {} ({}, {})",
                dialect.quote("rectus_relations_many_unique"),
                dialect.quote("rectus_relations"),
                dialect.quote("many_collection"),
                dialect.quote("many_field")
            ));
            Ok(out)
        },
    },
    Migration {
        version: 2,
        name: "create rectus_extensions",
        statements: |dialect| {
            let t = &tables::EXTENSIONS;
            Ok(vec![ddl::create_table(
                dialect,
                t.name,
                &(t.columns)(),
                &(t.foreign_keys)(),
            )?])
        },
    },
    Migration {
        version: 6,
        name: "create rectus_extension_grants",
        statements: |dialect| {
            let t = &tables::EXTENSION_GRANTS;
            Ok(vec![ddl::create_table(
                dialect,
                t.name,
                &(t.columns)(),
                &(t.foreign_keys)(),
            )?])
        },
    },
    Migration {
        version: 7,
        name: "create rectus_flows, rectus_operations, rectus_notifications",
        statements: |dialect| {
            [&tables::FLOWS, &tables::OPERATIONS, &tables::NOTIFICATIONS]
                .iter()
                .map(|t| ddl::create_table(dialect, t.name, &(t.columns)(), &(t.foreign_keys)()))
                .collect()
        },
    },
];

/// Whether the system tables exist at all (`start` refuses to run without them).
pub async fn is_installed(db: &Db) -> Result<bool, DbError> {
    let mut sql = db.sql();
    sql.push("SELECT COUNT(*) AS n FROM ")
        .ident("rectus_migrations");
    match db.fetch_all(&sql).await {
        Ok(_) => Ok(true),
        Err(e) if e.kind == crate::db::DbErrorKind::Undefined => Ok(false),
        Err(e) => Err(e),
    }
}

/// Applies every migration not yet recorded. Returns the names applied.
///
/// On PostgreSQL and SQLite each migration runs in one transaction with its ledger row.
/// MySQL commits each DDL statement implicitly, so a failing migration there drops the
/// tables it created before the error is returned.
pub async fn run(db: &Db) -> Result<Vec<&'static str>, MigrationError> {
    let dialect = db.dialect();
    if !is_installed(db).await? {
        let t = &tables::MIGRATIONS;
        db.execute_raw(&ddl::create_table(dialect, t.name, &(t.columns)(), &[])?)
            .await?;
    }
    let mut sql = db.sql();
    sql.push("SELECT ")
        .ident("version")
        .push(" FROM ")
        .ident("rectus_migrations");
    let applied: Vec<i64> = db
        .fetch_all(&sql)
        .await?
        .iter()
        .filter_map(|r| r.get("version").and_then(|v| v.as_i64()))
        .collect();
    let mut done = Vec::new();
    for m in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        let statements = (m.statements)(dialect)?;
        let step = |source| MigrationError::Step {
            version: m.version,
            name: m.name,
            source,
        };
        let mut record = db.sql();
        record
            .push("INSERT INTO ")
            .ident("rectus_migrations")
            .push(" (")
            .idents(["version", "name"])
            .push(") VALUES (")
            .bind(m.version)
            .push(", ")
            .bind(m.name)
            .push(")");
        if dialect == Dialect::MySql {
            let mut created: Vec<&str> = Vec::new();
            for s in &statements {
                if let Err(e) = db.execute_raw(s).await {
                    for table in created.iter().rev() {
                        let _ = db.execute_raw(&ddl::drop_table(dialect, table)).await;
                    }
                    return Err(step(e));
                }
                if let Some(t) = tables::ALL
                    .iter()
                    .find(|t| s.starts_with(&format!("CREATE TABLE {}", dialect.quote(t.name))))
                {
                    created.push(t.name);
                }
            }
            db.execute(&record).await.map_err(step)?;
        } else {
            let mut tx = db.begin().await?;
            for s in &statements {
                tx.execute_raw(s).await.map_err(step)?;
            }
            tx.execute(&record).await.map_err(step)?;
            tx.commit().await.map_err(step)?;
        }
        done.push(m.name);
    }
    Ok(done)
}

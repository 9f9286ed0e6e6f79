//! The database layer: one connection pool for SQLite, PostgreSQL or MySQL/MariaDB, behind
//! a small dialect-neutral API.
//!
//! Owns: connecting, the [`Dialect`] (identifier quoting, placeholders), the [`Sql`]
//! builder that keeps values out of SQL text, executing statements in or out of a
//! transaction, decoding rows into JSON, and classifying driver errors into [`DbError`].
//! Must not touch: the schema snapshot, HTTP, or any knowledge of `rectus_*` tables —
//! callers bring their SQL.

mod error;
mod json_rows;
mod rows;
mod sql;

pub use error::{DbError, DbErrorKind};
pub use json_rows::{Cell, CellKind};
pub use sql::{Dialect, Sql, Value};

use crate::config::DbConfig;
use serde_json::{Map, Value as Json};
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{Connection, Executor, MySql, Postgres, Sqlite};
use std::str::FromStr;
use std::time::Duration;

/// A row decoded into JSON, keyed by column name in select order.
pub type Row = Map<String, Json>;

/// A pool of connections to one database.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
    MySql(sqlx::MySqlPool),
}

/// An open transaction; dropped without [`Tx::commit`] it rolls back.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
    MySql(sqlx::Transaction<'static, MySql>),
}

const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

impl Db {
    /// Connects and checks the connection once, so a database that is down fails the start
    /// with a clear message instead of the first request.
    pub async fn connect(config: &DbConfig, max_connections: u32) -> Result<Db, DbError> {
        let db = match config {
            DbConfig::Sqlite { filename } => {
                let opts = SqliteConnectOptions::new()
                    .filename(filename)
                    .create_if_missing(true)
                    .foreign_keys(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .busy_timeout(Duration::from_secs(5));
                let pool = SqlitePoolOptions::new()
                    .max_connections(max_connections.clamp(1, 8))
                    .min_connections(1)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_with(opts)
                    .await
                    .map_err(DbError::from_connect)?;
                Db::Sqlite(pool)
            }
            DbConfig::Postgres { url } => {
                let opts = PgConnectOptions::from_str(url).map_err(DbError::from_connect)?;
                let pool = PgPoolOptions::new()
                    .max_connections(max_connections)
                    .min_connections(1)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_with(opts)
                    .await
                    .map_err(DbError::from_connect)?;
                Db::Postgres(pool)
            }
            DbConfig::MySql { url } => {
                let opts = MySqlConnectOptions::from_str(url)
                    .map_err(DbError::from_connect)?
                    .charset("utf8mb4")
                    .timezone(Some("+00:00".to_string()));
                let pool = MySqlPoolOptions::new()
                    .max_connections(max_connections)
                    .min_connections(1)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_with(opts)
                    .await
                    .map_err(DbError::from_connect)?;
                Db::MySql(pool)
            }
        };
        db.ping().await?;
        Ok(db)
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite(_) => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
            Db::MySql(_) => Dialect::MySql,
        }
    }

    /// A new statement builder for this database's dialect.
    pub fn sql(&self) -> Sql {
        Sql::new(self.dialect())
    }

    /// A cheap round trip, for health checks.
    pub async fn ping(&self) -> Result<(), DbError> {
        self.execute_raw("SELECT 1").await.map(|_| ())
    }

    pub async fn begin(&self) -> Result<Tx, DbError> {
        Ok(match self {
            Db::Sqlite(p) => Tx::Sqlite(p.begin().await?),
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
            Db::MySql(p) => Tx::MySql(p.begin().await?),
        })
    }

    pub async fn execute(&self, sql: &Sql) -> Result<u64, DbError> {
        match self {
            Db::Sqlite(p) => Ok(sql.bound::<Sqlite>().execute(p).await?.rows_affected()),
            Db::Postgres(p) => Ok(sql.bound::<Postgres>().execute(p).await?.rows_affected()),
            Db::MySql(p) => Ok(sql.bound::<MySql>().execute(p).await?.rows_affected()),
        }
    }

    /// Runs SQL text with no parameters (DDL, pragmas). Callers build it from schema
    /// identifiers only.
    pub async fn execute_raw(&self, text: &str) -> Result<u64, DbError> {
        match self {
            Db::Sqlite(p) => Ok(p.execute(sqlx::raw_sql(text)).await?.rows_affected()),
            Db::Postgres(p) => Ok(p.execute(sqlx::raw_sql(text)).await?.rows_affected()),
            Db::MySql(p) => Ok(p.execute(sqlx::raw_sql(text)).await?.rows_affected()),
        }
    }

    pub async fn fetch_all(&self, sql: &Sql) -> Result<Vec<Row>, DbError> {
        match self {
            Db::Sqlite(p) => rows::sqlite_rows(sql.bound::<Sqlite>().fetch_all(p).await?),
            Db::Postgres(p) => rows::postgres_rows(sql.bound::<Postgres>().fetch_all(p).await?),
            Db::MySql(p) => rows::mysql_rows(sql.bound::<MySql>().fetch_all(p).await?),
        }
    }

    pub async fn fetch_optional(&self, sql: &Sql) -> Result<Option<Row>, DbError> {
        Ok(self.fetch_all(sql).await?.into_iter().next())
    }

    /// Runs `work` on one SQLite connection with foreign-key enforcement switched off, in
    /// a transaction, then checks every foreign key before committing. SQLite cannot alter
    /// a column or add a constraint in place: it rebuilds the table, and the rebuild must
    /// not fire `ON DELETE` actions in other tables (see "Making Other Kinds Of Table
    /// Schema Changes" in SQLite's ALTER TABLE documentation).
    pub async fn sqlite_rebuild(&self, statements: &[String]) -> Result<(), DbError> {
        let Db::Sqlite(pool) = self else {
            return Err(DbError::unsupported(
                "sqlite_rebuild on a non-SQLite database",
            ));
        };
        let mut conn = pool.acquire().await?;
        conn.execute("PRAGMA foreign_keys = OFF").await?;
        let result: Result<(), DbError> = async {
            let mut tx = conn.begin().await?;
            for s in statements {
                tx.execute(sqlx::raw_sql(s)).await?;
            }
            let broken = tx.fetch_all("PRAGMA foreign_key_check").await?;
            if !broken.is_empty() {
                return Err(DbError::constraint(
                    DbErrorKind::ForeignKey,
                    "existing rows would break a foreign key",
                ));
            }
            tx.commit().await?;
            Ok(())
        }
        .await;
        conn.execute("PRAGMA foreign_keys = ON").await?;
        result
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(p) => p.close().await,
            Db::Postgres(p) => p.close().await,
            Db::MySql(p) => p.close().await,
        }
    }

    /// Connections open and idle, for `/server/health`.
    pub fn pool_stats(&self) -> (u32, usize) {
        match self {
            Db::Sqlite(p) => (p.size(), p.num_idle()),
            Db::Postgres(p) => (p.size(), p.num_idle()),
            Db::MySql(p) => (p.size(), p.num_idle()),
        }
    }
}

impl Tx {
    pub fn dialect(&self) -> Dialect {
        match self {
            Tx::Sqlite(_) => Dialect::Sqlite,
            Tx::Postgres(_) => Dialect::Postgres,
            Tx::MySql(_) => Dialect::MySql,
        }
    }

    pub fn sql(&self) -> Sql {
        Sql::new(self.dialect())
    }

    pub async fn execute(&mut self, sql: &Sql) -> Result<u64, DbError> {
        match self {
            Tx::Sqlite(t) => Ok(sql
                .bound::<Sqlite>()
                .execute(&mut **t)
                .await?
                .rows_affected()),
            Tx::Postgres(t) => Ok(sql
                .bound::<Postgres>()
                .execute(&mut **t)
                .await?
                .rows_affected()),
            Tx::MySql(t) => Ok(sql
                .bound::<MySql>()
                .execute(&mut **t)
                .await?
                .rows_affected()),
        }
    }

    pub async fn execute_raw(&mut self, text: &str) -> Result<u64, DbError> {
        match self {
            Tx::Sqlite(t) => Ok(t.execute(sqlx::raw_sql(text)).await?.rows_affected()),
            Tx::Postgres(t) => Ok(t.execute(sqlx::raw_sql(text)).await?.rows_affected()),
            Tx::MySql(t) => Ok(t.execute(sqlx::raw_sql(text)).await?.rows_affected()),
        }
    }

    pub async fn fetch_all(&mut self, sql: &Sql) -> Result<Vec<Row>, DbError> {
        match self {
            Tx::Sqlite(t) => rows::sqlite_rows(sql.bound::<Sqlite>().fetch_all(&mut **t).await?),
            Tx::Postgres(t) => {
                rows::postgres_rows(sql.bound::<Postgres>().fetch_all(&mut **t).await?)
            }
            Tx::MySql(t) => rows::mysql_rows(sql.bound::<MySql>().fetch_all(&mut **t).await?),
        }
    }

    pub async fn fetch_optional(&mut self, sql: &Sql) -> Result<Option<Row>, DbError> {
        Ok(self.fetch_all(sql).await?.into_iter().next())
    }

    pub async fn commit(self) -> Result<(), DbError> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
            Tx::MySql(t) => t.commit().await?,
        }
        Ok(())
    }
}

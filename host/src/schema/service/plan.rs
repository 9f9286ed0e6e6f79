//! The change plan: the DDL steps and metadata writes of one schema change, and the one
//! runner that applies them atomically on every database.
//!
//! - PostgreSQL: every step in one transaction.
//! - SQLite: table rebuilds first, each atomic on its own connection (they need foreign
//!   keys switched off, which SQLite ignores inside a transaction), then everything else
//!   in one transaction; if that fails, the rebuilds are undone by rebuilding back.
//! - MySQL: DDL commits implicitly, so every DDL step runs on its own and its inverse is
//!   remembered; the metadata writes run in one transaction last; if any step fails, the
//!   inverses of the steps that ran are executed in reverse order.

use super::SchemaError;
use crate::db::{Db, DbError, DbErrorKind, Dialect, Sql};

enum Ddl {
    /// A statement, with what undoes it where DDL cannot be rolled back (MySQL).
    Statement { sql: String, undo: Vec<String> },
    /// A SQLite table rebuild, with the rebuild that restores the table.
    Rebuild {
        forward: Vec<String>,
        undo: Vec<String>,
    },
}

#[derive(Default)]
pub(super) struct Plan {
    ddl: Vec<Ddl>,
    meta: Vec<Sql>,
}

impl Plan {
    /// A DDL statement and the statements that undo it (used on MySQL only).
    pub fn ddl(&mut self, sql: String, undo: Vec<String>) {
        self.ddl.push(Ddl::Statement { sql, undo });
    }

    /// A SQLite rebuild: `(forward, undo)` as made by `rebuild::statements`.
    pub fn rebuild(&mut self, (forward, undo): (Vec<String>, Vec<String>)) {
        self.ddl.push(Ddl::Rebuild { forward, undo });
    }

    /// A metadata write.
    pub fn meta(&mut self, sql: Sql) {
        self.meta.push(sql);
    }

    /// Appends another plan's steps, so several changes run as one. Only for changes
    /// that do not build on each other's DDL (each was planned against the same snapshot).
    pub fn append(&mut self, other: Plan) {
        self.ddl.extend(other.ddl);
        self.meta.extend(other.meta);
    }

    pub async fn run(self, db: &Db) -> Result<(), SchemaError> {
        match db.dialect() {
            Dialect::Postgres | Dialect::Sqlite => self.run_transactional(db).await,
            Dialect::MySql => self.run_compensating(db).await,
        }
    }

    async fn run_transactional(self, db: &Db) -> Result<(), SchemaError> {
        let mut statements = Vec::new();
        let mut undo_rebuilds: Vec<Vec<String>> = Vec::new();
        for step in self.ddl {
            match step {
                Ddl::Statement { sql, .. } => statements.push(sql),
                Ddl::Rebuild { forward, undo } => {
                    if let Err(e) = db.sqlite_rebuild(&forward).await {
                        undo_all(db, undo_rebuilds, true).await;
                        return Err(ddl_error(e));
                    }
                    undo_rebuilds.push(undo);
                }
            }
        }
        let result: Result<(), SchemaError> = async {
            let mut tx = db.begin().await?;
            for s in &statements {
                tx.execute_raw(s).await.map_err(ddl_error)?;
            }
            for m in &self.meta {
                tx.execute(m).await?;
            }
            tx.commit().await?;
            Ok(())
        }
        .await;
        if result.is_err() {
            undo_all(db, undo_rebuilds, true).await;
        }
        result
    }

    async fn run_compensating(self, db: &Db) -> Result<(), SchemaError> {
        let mut undo: Vec<Vec<String>> = Vec::new();
        for step in self.ddl {
            let (sql, inverse) = match step {
                Ddl::Statement { sql, undo: inv } => (vec![sql], inv),
                // Not produced for MySQL; run as plain statements if it ever is.
                Ddl::Rebuild { forward, undo: inv } => (forward, inv),
            };
            for s in &sql {
                if let Err(e) = db.execute_raw(s).await {
                    undo_all(db, undo, false).await;
                    return Err(ddl_error(e));
                }
            }
            undo.push(inverse);
        }
        let result: Result<(), DbError> = async {
            let mut tx = db.begin().await?;
            for m in &self.meta {
                tx.execute(m).await?;
            }
            tx.commit().await
        }
        .await;
        if let Err(e) = result {
            undo_all(db, undo, false).await;
            return Err(e.into());
        }
        Ok(())
    }
}

/// Runs the inverses of the steps that ran, last first. A failing inverse is logged and
/// the rest still run: the caller reports the original error.
async fn undo_all(db: &Db, undo: Vec<Vec<String>>, rebuilds: bool) {
    for step in undo.into_iter().rev() {
        let result = if rebuilds {
            db.sqlite_rebuild(&step).await
        } else {
            let mut r = Ok(());
            for s in &step {
                if let Err(e) = db.execute_raw(s).await {
                    r = Err(e);
                    break;
                }
            }
            r
        };
        if let Err(e) = result {
            tracing::error!(error = %e, "undoing a failed schema change step failed");
        }
    }
}

/// A DDL statement the database refused for a reason other than data or availability is
/// a request it cannot carry out (a type it cannot convert, a default it rejects …):
/// 400 with the database's reason, not 500.
fn ddl_error(e: DbError) -> SchemaError {
    match e.kind {
        DbErrorKind::Other | DbErrorKind::Undefined => {
            SchemaError::Invalid(format!("The database refused the change: {}", e.message))
        }
        _ => SchemaError::Db(e),
    }
}

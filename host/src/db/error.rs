//! Driver errors, classified by the database's own error codes so that the HTTP edge can
//! answer `RECORD_NOT_UNIQUE`, `INVALID_FOREIGN_KEY`, … instead of a 500.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbErrorKind {
    /// The database cannot be reached, or the pool timed out waiting for a connection.
    Unavailable,
    Unique,
    ForeignKey,
    NotNull,
    TooLong,
    OutOfRange,
    /// A value the column type cannot hold (`'abc'` into an integer).
    InvalidValue,
    /// A table, column or constraint that already exists.
    AlreadyExists,
    /// A table or column that does not exist.
    Undefined,
    Other,
}

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct DbError {
    pub kind: DbErrorKind,
    pub message: String,
    /// The constraint or column the database named, when it did.
    pub detail: Option<String>,
}

impl DbError {
    pub fn constraint(kind: DbErrorKind, message: &str) -> Self {
        DbError {
            kind,
            message: message.to_string(),
            detail: None,
        }
    }

    pub fn unsupported(message: &str) -> Self {
        DbError {
            kind: DbErrorKind::Other,
            message: message.to_string(),
            detail: None,
        }
    }

    pub fn from_connect(e: sqlx::Error) -> Self {
        let mut err = DbError::from(e);
        if err.kind == DbErrorKind::Other {
            err.kind = DbErrorKind::Unavailable;
        }
        err
    }

    pub fn is_unavailable(&self) -> bool {
        self.kind == DbErrorKind::Unavailable
    }
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        let kind = match &e {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => DbErrorKind::Unavailable,
            sqlx::Error::Database(db) => classify(db.as_ref()),
            _ => DbErrorKind::Other,
        };
        let detail = match &e {
            sqlx::Error::Database(db) => db.constraint().map(str::to_string),
            _ => None,
        };
        let message = match &e {
            sqlx::Error::Database(db) => db.message().to_string(),
            other => other.to_string(),
        };
        DbError {
            kind,
            message,
            detail,
        }
    }
}

fn classify(db: &dyn sqlx::error::DatabaseError) -> DbErrorKind {
    // MySQL's `code()` is the coarse SQLSTATE; its error number says more.
    let code = match db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        Some(my) => my.number().to_string(),
        None => db.code().map(|c| c.into_owned()).unwrap_or_default(),
    };
    let msg = db.message().to_ascii_lowercase();
    match code.as_str() {
        // PostgreSQL SQLSTATEs.
        "23505" => DbErrorKind::Unique,
        "23503" => DbErrorKind::ForeignKey,
        "23502" => DbErrorKind::NotNull,
        "22001" => DbErrorKind::TooLong,
        "22003" => DbErrorKind::OutOfRange,
        "22P02" | "22007" | "22008" | "42804" => DbErrorKind::InvalidValue,
        "42P07" | "42701" | "42710" => DbErrorKind::AlreadyExists,
        "42P01" | "42703" => DbErrorKind::Undefined,
        "57P01" | "57P02" | "57P03" | "08000" | "08003" | "08006" | "08001" | "08004" => {
            DbErrorKind::Unavailable
        }
        // MySQL / MariaDB error numbers.
        "1062" | "1586" => DbErrorKind::Unique,
        "1451" | "1452" | "1216" | "1217" => DbErrorKind::ForeignKey,
        "1048" | "1364" => DbErrorKind::NotNull,
        "1406" => DbErrorKind::TooLong,
        "1264" | "1690" => DbErrorKind::OutOfRange,
        "1366" | "1292" | "1265" => DbErrorKind::InvalidValue,
        "1050" | "1060" | "1061" | "1826" => DbErrorKind::AlreadyExists,
        "1146" | "1054" => DbErrorKind::Undefined,
        // SQLite extended result codes.
        "2067" | "1555" => DbErrorKind::Unique,
        "787" => DbErrorKind::ForeignKey,
        "1299" => DbErrorKind::NotNull,
        _ if msg.contains("already exists") || msg.contains("duplicate column") => {
            DbErrorKind::AlreadyExists
        }
        _ if msg.contains("no such table") || msg.contains("no such column") => {
            DbErrorKind::Undefined
        }
        _ => DbErrorKind::Other,
    }
}

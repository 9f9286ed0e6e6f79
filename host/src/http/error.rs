//! The one place errors become HTTP: every typed error of the host maps to a Directus
//! error code and status here, and renders as `{"errors":[{"message", "extensions":
//! {"code", …}}]}`. Handlers return `Result<_, ApiError>` and never build error bodies.

use crate::auth::AuthError;
use crate::db::{DbError, DbErrorKind};
use crate::schema::service::SchemaError;
use crate::schema::snapshot::{ApplyError, SnapshotError};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value as Json};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub extensions: Map<String, Json>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            extensions: Map::new(),
        }
    }

    pub fn with(mut self, key: &str, value: impl Into<Json>) -> Self {
        self.extensions.insert(key.to_string(), value.into());
        self
    }

    /// `403 FORBIDDEN` with Directus's generic message: also what a missing item or
    /// collection answers, so existence does not leak.
    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "You don't have permission to access this.",
        )
    }

    pub fn forbidden_reason(reason: impl Into<String>) -> Self {
        let reason = reason.into();
        Self::new(StatusCode::FORBIDDEN, "FORBIDDEN", reason.clone()).with("reason", reason)
    }

    /// `400 INVALID_PAYLOAD`: "Invalid payload. {reason}."
    pub fn invalid_payload(reason: impl Into<String>) -> Self {
        let reason = reason.into();
        Self::new(
            StatusCode::BAD_REQUEST,
            "INVALID_PAYLOAD",
            format!("Invalid payload. {}.", reason.trim_end_matches('.')),
        )
        .with("reason", reason)
    }

    /// `400 INVALID_QUERY`: "Invalid query. {reason}."
    pub fn invalid_query(reason: impl Into<String>) -> Self {
        let reason = reason.into();
        Self::new(
            StatusCode::BAD_REQUEST,
            "INVALID_QUERY",
            format!("Invalid query. {}.", reason.trim_end_matches('.')),
        )
        .with("reason", reason)
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_CREDENTIALS",
            "Invalid user credentials.",
        )
    }

    pub fn route_not_found(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "ROUTE_NOT_FOUND",
            format!("Route {path} doesn't exist."),
        )
        .with("path", path)
    }

    pub fn unavailable(reason: impl Into<String>) -> Self {
        let reason = reason.into();
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVICE_UNAVAILABLE",
            format!("Service \"database\" is unavailable. {reason}."),
        )
        .with("service", "database")
        .with("reason", reason)
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_SERVER_ERROR",
            "An unexpected error occurred.",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(code = self.code, message = %self.message, "request failed");
        }
        let mut extensions = self.extensions;
        extensions.insert("code".into(), Json::from(self.code));
        let body = json!({"errors": [{"message": self.message, "extensions": extensions}]});
        (self.status, axum::Json(body)).into_response()
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        let bad = |code| ApiError::new(StatusCode::BAD_REQUEST, code, e.message.clone());
        match e.kind {
            DbErrorKind::Unavailable => ApiError::unavailable("Database is unreachable"),
            DbErrorKind::Unique => bad("RECORD_NOT_UNIQUE"),
            DbErrorKind::ForeignKey => bad("INVALID_FOREIGN_KEY"),
            DbErrorKind::NotNull => bad("NOT_NULL_VIOLATION"),
            DbErrorKind::TooLong => bad("VALUE_TOO_LONG"),
            DbErrorKind::OutOfRange => bad("VALUE_OUT_OF_RANGE"),
            DbErrorKind::InvalidValue => ApiError::invalid_payload(e.message.clone()),
            DbErrorKind::AlreadyExists => ApiError::invalid_payload(e.message.clone()),
            DbErrorKind::Undefined | DbErrorKind::Other => {
                tracing::error!(error = %e.message, "database error");
                ApiError::internal()
            }
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::InvalidCredentials => ApiError::unauthenticated(),
            AuthError::TokenExpired => {
                ApiError::new(StatusCode::UNAUTHORIZED, "TOKEN_EXPIRED", "Token expired.")
            }
            AuthError::InvalidToken => {
                ApiError::new(StatusCode::FORBIDDEN, "INVALID_TOKEN", "Invalid token.")
            }
            AuthError::UserSuspended => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "USER_SUSPENDED",
                "User suspended.",
            ),
            AuthError::Db(db) => db.into(),
        }
    }
}

impl From<crate::query::QueryError> for ApiError {
    fn from(e: crate::query::QueryError) -> Self {
        ApiError::invalid_query(e.reason)
    }
}

impl From<crate::query::compile::CompileError> for ApiError {
    fn from(e: crate::query::compile::CompileError) -> Self {
        use crate::query::compile::CompileError;
        match e {
            CompileError::Forbidden(reason) => ApiError::forbidden_reason(reason),
            CompileError::Invalid(reason) => ApiError::invalid_query(reason),
        }
    }
}

impl From<crate::items::payload::PayloadError> for ApiError {
    fn from(e: crate::items::payload::PayloadError) -> Self {
        use crate::items::payload::PayloadError;
        let message = e.to_string();
        match e {
            PayloadError::Required { field } => {
                ApiError::new(StatusCode::BAD_REQUEST, "FAILED_VALIDATION", message)
                    .with("field", field.clone())
                    .with("path", Json::Array(Vec::new()))
                    .with("type", "required")
            }
            PayloadError::NotNull { field } => {
                ApiError::new(StatusCode::BAD_REQUEST, "FAILED_VALIDATION", message)
                    .with("field", field.clone())
                    .with("path", Json::Array(Vec::new()))
                    .with("type", "nnull")
            }
            PayloadError::Invalid { field, reason } => {
                ApiError::invalid_payload(format!("Invalid value for field \"{field}\": {reason}"))
                    .with("field", field)
            }
            PayloadError::TooLong { field, .. } => {
                ApiError::new(StatusCode::BAD_REQUEST, "VALUE_TOO_LONG", message)
                    .with("field", field)
            }
            PayloadError::OutOfRange { field } => {
                ApiError::new(StatusCode::BAD_REQUEST, "VALUE_OUT_OF_RANGE", message)
                    .with("field", field)
            }
            PayloadError::NotAnObject => ApiError::invalid_payload("Each item must be an object"),
        }
    }
}

impl From<crate::items::ItemsError> for ApiError {
    fn from(e: crate::items::ItemsError) -> Self {
        use crate::items::ItemsError;
        match e {
            ItemsError::Query(q) => q.into(),
            ItemsError::Compile(c) => c.into(),
            ItemsError::Db(d) => d.into(),
            ItemsError::Forbidden => ApiError::forbidden(),
            ItemsError::Access(a) => a.into(),
            ItemsError::Payload(p) => p.into(),
            ItemsError::Rejected(r) => {
                ApiError::new(StatusCode::BAD_REQUEST, "FAILED_VALIDATION", r.message)
            }
        }
    }
}

impl From<crate::access::writes::AccessError> for ApiError {
    fn from(e: crate::access::writes::AccessError) -> Self {
        use crate::access::writes::AccessError;
        match e {
            AccessError::Forbidden => ApiError::forbidden(),
            AccessError::Field(c) => c.into(),
            AccessError::Escalation(reason) => ApiError::forbidden().with("reason", reason),
            AccessError::Validation(v) => {
                let message = v.to_string();
                let mut err = ApiError::new(StatusCode::BAD_REQUEST, "FAILED_VALIDATION", message)
                    .with("field", v.field)
                    .with("path", Json::Array(Vec::new()))
                    .with("type", v.kind);
                if let Some(detail) = v.detail {
                    let (key, value) = *detail;
                    err = err.with(key, value);
                }
                err
            }
        }
    }
}

impl From<SnapshotError> for ApiError {
    fn from(e: SnapshotError) -> Self {
        match e {
            // Formats and modes come from the query string (`?export=`, `?mode=`).
            SnapshotError::Format(_) | SnapshotError::Mode(_) => {
                ApiError::invalid_query(e.to_string())
            }
            SnapshotError::Parse(_) | SnapshotError::Version(_) | SnapshotError::Invalid(_) => {
                ApiError::invalid_payload(e.to_string())
            }
        }
    }
}

/// Modules receive host errors in the same Directus terms the edge would answer with.
impl From<ApiError> for rectus_sdk::HostError {
    fn from(e: ApiError) -> Self {
        rectus_sdk::HostError {
            status: e.status.as_u16(),
            code: e.code,
            message: e.message,
            extensions: e.extensions,
        }
    }
}

/// A host call made by a route (invites create users through the items service).
impl From<rectus_sdk::HostError> for ApiError {
    fn from(e: rectus_sdk::HostError) -> Self {
        ApiError {
            status: StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code: e.code,
            message: e.message,
            extensions: e.extensions,
        }
    }
}

/// The failing change's own error, naming the step in `extensions.step`.
impl From<ApplyError> for ApiError {
    fn from(e: ApplyError) -> Self {
        ApiError::from(e.source).with("step", e.step)
    }
}

impl From<SchemaError> for ApiError {
    fn from(e: SchemaError) -> Self {
        match e {
            SchemaError::CollectionNotFound(c) => ApiError::forbidden_reason(format!(
                "You don't have permission to access collection \"{c}\" or it does not exist."
            )),
            SchemaError::FieldNotFound { collection, field } => ApiError::forbidden_reason(format!(
                "You don't have permission to access field \"{field}\" in collection \"{collection}\" or it does not exist."
            )),
            SchemaError::RelationNotFound { .. } => ApiError::forbidden(),
            SchemaError::Invalid(reason) => ApiError::invalid_payload(reason),
            SchemaError::Name(e) => ApiError::invalid_payload(e.to_string()),
            SchemaError::Meta(e) => ApiError::invalid_payload(e.to_string()),
            SchemaError::Ddl(e) => ApiError::invalid_payload(e.to_string()),
            SchemaError::ContainsNulls { collection, field } => ApiError::new(
                StatusCode::BAD_REQUEST,
                "CONTAINS_NULL_VALUES",
                format!("Field \"{field}\" contains null values."),
            )
            .with("collection", collection)
            .with("field", field),
            SchemaError::Db(db) => db.into(),
        }
    }
}

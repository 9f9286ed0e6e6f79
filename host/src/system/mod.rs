//! Rectus's own tables (`rectus_*`): their definitions, the versioned migrations that
//! create and upgrade them on each database, and bootstrapping (first admin, Public
//! policy).
//!
//! Owns: the shape of every `rectus_*` table and the `rectus_migrations` ledger. Must not
//! touch: user tables — those change only through `schema::service`.

pub mod bootstrap;
pub mod migrations;
pub mod tables;

/// The id Directus gives the Public policy; clients and seeds refer to it.
pub const PUBLIC_POLICY_ID: &str = "abf8a154-5b1c-4a46-ac9c-7300570f4f17";

/// Whether a table belongs to Rectus rather than to the user.
pub fn is_system_table(name: &str) -> bool {
    name.starts_with("rectus_")
}

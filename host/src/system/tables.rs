//! Definitions of the `rectus_*` tables, as portable column specs. Migration 1 creates
//! them from these lists; the metadata code reads column kinds from the same lists, so a
//! column is declared once. A later migration that adds a column appends it here and
//! creates it in its own step.

use crate::schema::ddl::{ColumnSpec, ForeignKeySpec};
use crate::schema::FieldType as T;
use serde_json::json;

pub struct SystemTable {
    pub name: &'static str,
    pub columns: fn() -> Vec<ColumnSpec>,
    pub foreign_keys: fn() -> Vec<ForeignKeySpec>,
}

fn col(name: &str, ty: T) -> ColumnSpec {
    ColumnSpec::new(name, ty)
}
fn s(name: &str, len: u32) -> ColumnSpec {
    ColumnSpec::new(name, T::String).length(len)
}
fn flag(name: &str, default: bool) -> ColumnSpec {
    ColumnSpec::new(name, T::Boolean)
        .not_null()
        .default(json!(default))
}
fn fk(table: &str, column: &str, foreign: &str, on_delete: &str) -> ForeignKeySpec {
    ForeignKeySpec {
        name: format!("{table}_{column}_foreign"),
        column: column.into(),
        foreign_table: foreign.into(),
        foreign_column: "id".into(),
        on_delete: on_delete.into(),
        on_update: "NO ACTION".into(),
    }
}
fn none() -> Vec<ForeignKeySpec> {
    Vec::new()
}

pub const MIGRATIONS: SystemTable = SystemTable {
    name: "rectus_migrations",
    columns: || {
        vec![
            col("version", T::Integer).primary(),
            s("name", 255).not_null(),
            col("timestamp", T::Timestamp).default(json!("CURRENT_TIMESTAMP")),
        ]
    },
    foreign_keys: none,
};

pub const COLLECTIONS: SystemTable = SystemTable {
    name: "rectus_collections",
    columns: || {
        vec![
            s("collection", 64).primary(),
            s("icon", 64),
            col("note", T::Text),
            s("display_template", 255),
            flag("hidden", false),
            flag("singleton", false),
            col("translations", T::Json),
            s("archive_field", 64),
            flag("archive_app_filter", true),
            s("archive_value", 255),
            s("unarchive_value", 255),
            s("sort_field", 64),
            s("accountability", 255).default(json!("all")),
            s("color", 255),
            col("item_duplication_fields", T::Json),
            col("sort", T::Integer),
            s("group", 64),
            s("collapse", 255).not_null().default(json!("open")),
            s("preview_url", 255),
            flag("versioning", false),
        ]
    },
    foreign_keys: none,
};

pub const FIELDS: SystemTable = SystemTable {
    name: "rectus_fields",
    columns: || {
        vec![
            col("id", T::Integer).auto_increment(),
            s("collection", 64).not_null(),
            s("field", 64).not_null(),
            col("special", T::Csv),
            s("interface", 64),
            col("options", T::Json),
            s("display", 64),
            col("display_options", T::Json),
            flag("readonly", false),
            flag("hidden", false),
            col("sort", T::Integer),
            s("width", 30).default(json!("full")),
            col("translations", T::Json),
            col("note", T::Text),
            col("conditions", T::Json),
            flag("required", false),
            s("group", 64),
            col("validation", T::Json),
            col("validation_message", T::Text),
            flag("searchable", true),
        ]
    },
    foreign_keys: none,
};

pub const RELATIONS: SystemTable = SystemTable {
    name: "rectus_relations",
    columns: || {
        vec![
            col("id", T::Integer).auto_increment(),
            s("many_collection", 64).not_null(),
            s("many_field", 64).not_null(),
            s("one_collection", 64),
            s("one_field", 64),
            s("one_collection_field", 64),
            col("one_allowed_collections", T::Csv),
            s("junction_field", 64),
            s("sort_field", 64),
            s("one_deselect_action", 255)
                .not_null()
                .default(json!("nullify")),
        ]
    },
    foreign_keys: none,
};

pub const ROLES: SystemTable = SystemTable {
    name: "rectus_roles",
    columns: || {
        vec![
            col("id", T::Uuid).primary(),
            s("name", 100).not_null(),
            s("icon", 64)
                .not_null()
                .default(json!("supervised_user_circle")),
            col("description", T::Text),
            col("parent", T::Uuid),
        ]
    },
    foreign_keys: || vec![fk("rectus_roles", "parent", "rectus_roles", "SET NULL")],
};

pub const POLICIES: SystemTable = SystemTable {
    name: "rectus_policies",
    columns: || {
        vec![
            col("id", T::Uuid).primary(),
            s("name", 100).not_null(),
            s("icon", 64).not_null().default(json!("badge")),
            col("description", T::Text),
            col("ip_access", T::Csv),
            flag("enforce_tfa", false),
            flag("admin_access", false),
            flag("app_access", false),
        ]
    },
    foreign_keys: none,
};

pub const USERS: SystemTable = SystemTable {
    name: "rectus_users",
    columns: || {
        vec![
            col("id", T::Uuid).primary(),
            s("first_name", 50),
            s("last_name", 50),
            s("email", 128).unique(),
            ColumnSpec::new("password", T::Hash).length(255),
            s("location", 255),
            s("title", 50),
            col("description", T::Text),
            col("tags", T::Json),
            col("avatar", T::Uuid),
            s("language", 255),
            s("tfa_secret", 255),
            s("status", 16).not_null().default(json!("active")),
            col("role", T::Uuid),
            s("token", 255).unique(),
            col("last_access", T::Timestamp),
            s("last_page", 255),
            s("provider", 128).not_null().default(json!("default")),
            s("external_identifier", 255).unique(),
            col("auth_data", T::Json),
            flag("email_notifications", true),
            s("appearance", 255),
            s("theme_dark", 255),
            s("theme_light", 255),
            col("theme_light_overrides", T::Json),
            col("theme_dark_overrides", T::Json),
            s("text_direction", 255).not_null().default(json!("auto")),
        ]
    },
    foreign_keys: || vec![fk("rectus_users", "role", "rectus_roles", "SET NULL")],
};

pub const ACCESS: SystemTable = SystemTable {
    name: "rectus_access",
    columns: || {
        vec![
            col("id", T::Uuid).primary(),
            col("role", T::Uuid),
            col("user", T::Uuid),
            col("policy", T::Uuid).not_null(),
            col("sort", T::Integer),
        ]
    },
    foreign_keys: || {
        vec![
            fk("rectus_access", "role", "rectus_roles", "CASCADE"),
            fk("rectus_access", "user", "rectus_users", "CASCADE"),
            fk("rectus_access", "policy", "rectus_policies", "CASCADE"),
        ]
    },
};

pub const PERMISSIONS: SystemTable = SystemTable {
    name: "rectus_permissions",
    columns: || {
        vec![
            col("id", T::Integer).auto_increment(),
            s("collection", 64).not_null(),
            s("action", 10).not_null(),
            col("permissions", T::Json),
            col("validation", T::Json),
            col("presets", T::Json),
            col("fields", T::Csv),
            col("policy", T::Uuid).not_null(),
        ]
    },
    foreign_keys: || {
        vec![fk(
            "rectus_permissions",
            "policy",
            "rectus_policies",
            "CASCADE",
        )]
    },
};

pub const SETTINGS: SystemTable = SystemTable {
    name: "rectus_settings",
    columns: || {
        vec![
            col("id", T::Integer).auto_increment(),
            s("project_name", 100).not_null().default(json!("Rectus")),
            s("project_url", 255),
            s("project_color", 255).not_null().default(json!("#6644FF")),
            col("project_logo", T::Uuid),
            s("project_descriptor", 100),
            col("public_foreground", T::Uuid),
            col("public_background", T::Uuid),
            col("public_favicon", T::Uuid),
            col("public_note", T::Text),
            col("auth_login_attempts", T::Integer).default(json!(25)),
            s("auth_password_policy", 100),
            s("storage_asset_transform", 7).default(json!("all")),
            col("storage_asset_presets", T::Json),
            col("custom_css", T::Text),
            s("default_language", 255)
                .not_null()
                .default(json!("en-US")),
            s("default_appearance", 255)
                .not_null()
                .default(json!("auto")),
            s("default_theme_light", 255),
            s("default_theme_dark", 255),
            col("theme_light_overrides", T::Json),
            col("theme_dark_overrides", T::Json),
            flag("public_registration", false),
            flag("public_registration_verify_email", true),
            col("public_registration_role", T::Uuid),
            col("module_bar", T::Json),
        ]
    },
    foreign_keys: none,
};

/// Modules and their state (migration 2): built-in modules now, guest extensions with the
/// extension issue.
pub const EXTENSIONS: SystemTable = SystemTable {
    name: "rectus_extensions",
    columns: || {
        vec![
            s("id", 255).primary(),
            flag("enabled", true),
            s("folder", 255),
            s("source", 255).not_null(),
            s("bundle", 255),
        ]
    },
    foreign_keys: none,
};

/// Capabilities an admin granted to a guest extension (migration 6): one row per
/// extension id, the grants as a JSON array of capability strings.
pub const EXTENSION_GRANTS: SystemTable = SystemTable {
    name: "rectus_extension_grants",
    columns: || vec![s("extension", 255).primary(), col("granted", T::Json)],
    foreign_keys: none,
};

/// Refresh tokens and cookie sessions (migration 3).
pub const SESSIONS: SystemTable = SystemTable {
    name: "rectus_sessions",
    columns: || {
        vec![
            s("token", 64).primary(),
            col("user", T::Uuid).not_null(),
            col("expires", T::Timestamp).not_null(),
            s("ip", 255),
            col("user_agent", T::Text),
            s("origin", 255),
        ]
    },
    foreign_keys: || vec![fk("rectus_sessions", "user", "rectus_users", "CASCADE")],
};

/// Who did what to which item, when (migration 4).
pub const ACTIVITY: SystemTable = SystemTable {
    name: "rectus_activity",
    columns: || {
        vec![
            col("id", T::Integer).auto_increment(),
            s("action", 45).not_null(),
            col("user", T::Uuid),
            col("timestamp", T::Timestamp)
                .not_null()
                .default(json!("CURRENT_TIMESTAMP")),
            s("ip", 50),
            col("user_agent", T::Text),
            s("collection", 64).not_null(),
            s("item", 255).not_null(),
            s("origin", 255),
        ]
    },
    foreign_keys: none,
};

/// The item's data after each change, and what changed (migration 4).
pub const REVISIONS: SystemTable = SystemTable {
    name: "rectus_revisions",
    columns: || {
        vec![
            col("id", T::Integer).auto_increment(),
            col("activity", T::Integer).not_null(),
            s("collection", 64).not_null(),
            s("item", 255).not_null(),
            col("data", T::Json),
            col("delta", T::Json),
            col("parent", T::Integer),
        ]
    },
    foreign_keys: || {
        vec![fk(
            "rectus_revisions",
            "activity",
            "rectus_activity",
            "CASCADE",
        )]
    },
};

/// Automation flows (migration 7): a trigger and its options, and the first operation.
/// `operation` has no foreign key: flows and operations point at each other, and the
/// flow engine tolerates an id that no longer exists (the flow then does nothing).
pub const FLOWS: SystemTable = SystemTable {
    name: "rectus_flows",
    columns: || {
        vec![
            col("id", T::Uuid).primary(),
            s("name", 255).not_null(),
            s("icon", 64),
            s("color", 255),
            col("description", T::Text),
            s("status", 255).not_null().default(json!("active")),
            s("trigger", 255),
            s("accountability", 255).default(json!("all")),
            col("options", T::Json),
            col("operation", T::Uuid),
            col("date_created", T::Timestamp).default(json!("CURRENT_TIMESTAMP")),
            col("user_created", T::Uuid),
        ]
    },
    foreign_keys: || {
        vec![fk(
            "rectus_flows",
            "user_created",
            "rectus_users",
            "SET NULL",
        )]
    },
};

/// The steps of flows (migration 7), linked by `resolve` / `reject` (no foreign keys on
/// those links: validated on save instead, since MySQL refuses self-referencing actions
/// beside the cascade from `flow`).
pub const OPERATIONS: SystemTable = SystemTable {
    name: "rectus_operations",
    columns: || {
        vec![
            col("id", T::Uuid).primary(),
            s("name", 255),
            s("key", 255).not_null(),
            s("type", 255).not_null(),
            col("position_x", T::Integer).not_null().default(json!(0)),
            col("position_y", T::Integer).not_null().default(json!(0)),
            col("options", T::Json),
            col("resolve", T::Uuid),
            col("reject", T::Uuid),
            col("flow", T::Uuid).not_null(),
            col("date_created", T::Timestamp).default(json!("CURRENT_TIMESTAMP")),
            col("user_created", T::Uuid),
        ]
    },
    foreign_keys: || {
        vec![
            fk("rectus_operations", "flow", "rectus_flows", "CASCADE"),
            fk(
                "rectus_operations",
                "user_created",
                "rectus_users",
                "SET NULL",
            ),
        ]
    },
};

/// In-app notifications (migration 7), written by the send-notification operation.
pub const NOTIFICATIONS: SystemTable = SystemTable {
    name: "rectus_notifications",
    columns: || {
        vec![
            col("id", T::Integer).auto_increment(),
            col("timestamp", T::Timestamp).default(json!("CURRENT_TIMESTAMP")),
            s("status", 255).default(json!("inbox")),
            col("recipient", T::Uuid).not_null(),
            col("sender", T::Uuid),
            s("subject", 255).not_null(),
            col("message", T::Text),
            s("collection", 64),
            s("item", 255),
        ]
    },
    foreign_keys: || {
        vec![
            fk(
                "rectus_notifications",
                "recipient",
                "rectus_users",
                "CASCADE",
            ),
            fk("rectus_notifications", "sender", "rectus_users", "SET NULL"),
        ]
    },
};

/// Tables created by a migration after the first (migration 1 skips them).
pub const LATER: &[&str] = &[
    EXTENSIONS.name,
    EXTENSION_GRANTS.name,
    FLOWS.name,
    OPERATIONS.name,
    NOTIFICATIONS.name,
];

/// Every system table, in creation order (referenced tables first).
pub const ALL: &[SystemTable] = &[
    MIGRATIONS,
    COLLECTIONS,
    FIELDS,
    RELATIONS,
    ROLES,
    POLICIES,
    USERS,
    ACCESS,
    PERMISSIONS,
    SETTINGS,
    EXTENSIONS,
    SESSIONS,
    ACTIVITY,
    REVISIONS,
    FLOWS,
    OPERATIONS,
    NOTIFICATIONS,
    EXTENSION_GRANTS,
];

pub fn by_name(name: &str) -> Option<&'static SystemTable> {
    ALL.iter().find(|t| t.name == name)
}

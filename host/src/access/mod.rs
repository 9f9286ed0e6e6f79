//! Access control: what a caller may do with each collection, field and row.
//!
//! Owns: resolving a caller into its policies (`policies.rs`), merging their permission
//! rows (`permissions.rs`), the caller's view of the schema and rows for reads
//! (`view.rs`, applied by the read compiler), the checks on writes (`writes.rs`:
//! fields, presets, validation, which rows), dynamic variables (`variables.rs`), and the
//! caches of all of it. Must not touch: SQL text (the compiler turns the views into SQL),
//! HTTP, or how tokens become an accountability (`auth/`).
//!
//! Administrators (`admin_access` from any policy) bypass all of it. Everyone else,
//! anonymous callers included (the Public policy), gets exactly what its policies grant.

pub mod permissions;
pub mod policies;
pub mod validate;
pub mod variables;
pub mod view;
pub mod writes;

use crate::db::{Db, DbError};
use crate::query::compile::{ReadAccess, RowView};
use crate::schema::Schema;
use permissions::Permissions;
use policies::PolicySet;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use variables::Variables;

/// How long a caller's policy set and a policy set's permissions are reused without asking
/// the database again. Every write through Rectus to users, roles, policies, access or
/// permissions clears them at once; changes from elsewhere land within this time.
const POLICY_TTL: Duration = Duration::from_secs(5);
const MAX_ENTRIES: usize = 10_000;

/// The permissions of one policy set, and the read views derived from them per schema
/// generation.
pub struct Compiled {
    pub permissions: Permissions,
    uses_variables: bool,
    /// The caller fields the permissions name (`$CURRENT_USER.email` …).
    field_paths: Vec<String>,
    views: Mutex<Option<Arc<Views>>>,
}

/// The readable schemas and row views for one schema generation.
struct Views {
    generation: u64,
    user: Arc<Schema>,
    system: Arc<Schema>,
    user_full: Arc<Schema>,
    system_full: Arc<Schema>,
    rows_user: Arc<HashMap<String, RowView>>,
    rows_system: Arc<HashMap<String, RowView>>,
}

type PolicyKey = (Option<String>, Option<String>);
/// A cached value and when it was made.
type Timed<T> = (Arc<T>, Instant);
/// `$CURRENT_USER.<field>` … → value, for one caller.
type FieldValues = Arc<HashMap<String, serde_json::Value>>;

#[derive(Default)]
pub struct AccessCache {
    policies: Mutex<HashMap<PolicyKey, Timed<policies::Resolved>>>,
    /// The caller's user and role fields that permissions name, per caller.
    fields: Mutex<HashMap<PolicyKey, (FieldValues, Instant)>>,
    /// Per policy set; entries live [`POLICY_TTL`] too, so a change made by another host
    /// sharing the database (or with raw SQL) takes effect within seconds.
    compiled: Mutex<HashMap<Vec<String>, Timed<Compiled>>>,
    /// Counts the clears: part of the cache key modules use for a caller's schema view.
    generation: std::sync::atomic::AtomicU64,
}

impl AccessCache {
    /// Forgets everything: after any change to users, roles, policies, access or
    /// permissions.
    pub fn clear(&self) {
        self.policies.lock().expect("access cache").clear();
        self.fields.lock().expect("access cache").clear();
        self.compiled.lock().expect("access cache").clear();
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// Changes whenever permissions may have changed.
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    async fn resolved(
        &self,
        db: &Db,
        user: Option<&str>,
        role: Option<&str>,
    ) -> Result<Arc<policies::Resolved>, DbError> {
        let key = (user.map(str::to_string), role.map(str::to_string));
        if let Some((set, at)) = self.policies.lock().expect("access cache").get(&key) {
            if at.elapsed() < POLICY_TTL {
                return Ok(set.clone());
            }
        }
        let set = Arc::new(policies::resolve(db, user, role).await?);
        let mut map = self.policies.lock().expect("access cache");
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key, (set.clone(), Instant::now()));
        Ok(set)
    }

    /// The values of `paths` for this caller, cached like its policy set.
    async fn field_values(
        &self,
        db: &Db,
        user: Option<&str>,
        role: Option<&str>,
        paths: &[String],
    ) -> Result<FieldValues, DbError> {
        let key = (user.map(str::to_string), role.map(str::to_string));
        if let Some((values, at)) = self.fields.lock().expect("access cache").get(&key) {
            if at.elapsed() < POLICY_TTL {
                return Ok(values.clone());
            }
        }
        let mut values = HashMap::new();
        for (prefix, table, id) in [
            ("$CURRENT_USER.", &crate::system::tables::USERS, user),
            ("$CURRENT_ROLE.", &crate::system::tables::ROLES, role),
        ] {
            let Some(id) = id else { continue };
            let columns = (table.columns)();
            // Only real, non-secret columns: names come from permissions, identifiers
            // only from the table's declaration.
            let wanted: Vec<&str> = paths
                .iter()
                .filter_map(|p| p.strip_prefix(prefix))
                .filter(|f| !matches!(*f, "password" | "token" | "tfa_secret" | "auth_data"))
                .filter(|f| columns.iter().any(|c| c.name == *f))
                .collect();
            if wanted.is_empty() {
                continue;
            }
            let mut sql = db.sql();
            sql.push("SELECT ");
            for (i, f) in wanted.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.ident(f).push(" AS ").ident(f);
            }
            sql.push(" FROM ")
                .ident(table.name)
                .push(" WHERE ")
                .ident("id")
                .push(" = ")
                .bind_cast(id, Some("uuid"));
            if let Some(row) = db.fetch_optional(&sql).await? {
                for (k, v) in row {
                    values.insert(format!("{prefix}{k}"), v);
                }
            }
        }
        let values = Arc::new(values);
        let mut map = self.fields.lock().expect("access cache");
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key, (values.clone(), Instant::now()));
        Ok(values)
    }

    async fn compiled(&self, db: &Db, set: &PolicySet) -> Result<Arc<Compiled>, DbError> {
        if let Some((c, at)) = self
            .compiled
            .lock()
            .expect("access cache")
            .get(&set.policies)
        {
            if at.elapsed() < POLICY_TTL {
                return Ok(c.clone());
            }
        }
        let mut rows = policies::permission_rows(db, &set.policies).await?;
        if set.app {
            rows.extend(permissions::app_minimal());
        }
        let permissions = Permissions::from_rows(&rows);
        let compiled = Arc::new(Compiled {
            uses_variables: permissions.uses_variables(),
            field_paths: permissions.field_paths().into_iter().collect(),
            permissions,
            views: Mutex::new(None),
        });
        let mut map = self.compiled.lock().expect("access cache");
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(set.policies.clone(), (compiled.clone(), Instant::now()));
        Ok(compiled)
    }
}

/// A non-administrator caller's access, resolved for one request.
pub struct CallerAccess {
    pub set: Arc<PolicySet>,
    pub compiled: Arc<Compiled>,
    pub vars: Variables,
}

/// Resolves the caller making a request from `ip` (policies with `ip_access` apply only
/// from their addresses; an unknown address matches none): `None` for an administrator
/// (nothing is restricted).
pub async fn for_caller(
    cache: &AccessCache,
    db: &Db,
    user: Option<&str>,
    role: Option<&str>,
    admin: bool,
    ip: Option<&str>,
) -> Result<Option<CallerAccess>, DbError> {
    if admin {
        return Ok(None);
    }
    let set = Arc::new(cache.resolved(db, user, role).await?.for_ip(ip));
    if set.admin {
        return Ok(None);
    }
    let compiled = cache.compiled(db, &set).await?;
    let fields = if compiled.field_paths.is_empty() {
        HashMap::new()
    } else {
        (*cache
            .field_values(db, user, role, &compiled.field_paths)
            .await?)
            .clone()
    };
    let vars = Variables {
        user: user.map(str::to_string),
        role: role.map(str::to_string),
        roles: set.roles.clone(),
        policies: set.policies.clone(),
        fields,
    };
    Ok(Some(CallerAccess {
        set,
        compiled,
        vars,
    }))
}

/// Which of the two snapshots a collection lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaKind {
    User,
    System,
}

impl CallerAccess {
    pub fn permissions(&self) -> &Permissions {
        &self.compiled.permissions
    }

    fn views(&self, generation: u64, user: Arc<Schema>, system: Arc<Schema>) -> Arc<Views> {
        let mut slot = self.compiled.views.lock().expect("access views");
        if let Some(v) = slot.as_ref().filter(|v| v.generation == generation) {
            return v.clone();
        }
        let p = &self.compiled.permissions;
        let views = Arc::new(Views {
            generation,
            user: Arc::new(view::readable_schema(&user, p)),
            system: Arc::new(view::readable_schema(&system, p)),
            rows_user: Arc::new(view::row_views(&user, p)),
            rows_system: Arc::new(view::row_views(&system, p)),
            user_full: user,
            system_full: system,
        });
        *slot = Some(views.clone());
        views
    }

    /// The schema to compile a read against and the row rules to apply, for a
    /// collection of `kind`.
    pub fn read_view(
        &self,
        kind: SchemaKind,
        generation: u64,
        user: Arc<Schema>,
        system: Arc<Schema>,
    ) -> (Arc<Schema>, Arc<ReadAccess>) {
        let v = self.views(generation, user, system);
        let (schema, full, rows) = match kind {
            SchemaKind::User => (&v.user, &v.user_full, &v.rows_user),
            SchemaKind::System => (&v.system, &v.system_full, &v.rows_system),
        };
        let rows = if self.compiled.uses_variables {
            Arc::new(view::substitute(rows, &self.vars))
        } else {
            rows.clone()
        };
        (
            schema.clone(),
            Arc::new(ReadAccess {
                full: full.clone(),
                rows,
            }),
        )
    }
}

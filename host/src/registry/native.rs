//! The host as linked modules see it: [`rectus_sdk::Host`] implemented directly on the
//! application state, with no copying and no sandbox.
//!
//! Collections named `directus_*` are Rectus's system collections, served from the system
//! schema (`schema::system`); every other name is a user collection.
//!
//! Every call runs under the caller's permissions (`access/`): administrators read and
//! write everything; anyone else reads through the readable schema and row views
//! ([`crate::access::CallerAccess::read_view`]) and writes through the items service's
//! permission checks. One exception every platform needs: a signed-in user may read and
//! edit its own profile (`/users/me`, minus the fields that grant privileges) even without
//! a permission on `directus_users`.

use crate::access::permissions::Action;
use crate::access::writes::WriteAccess;
use crate::access::{self, CallerAccess, SchemaKind};
use crate::app::AppState;
use crate::http::error::ApiError;
use crate::items;
use crate::query::compile::ReadOptions;
use crate::query::{parse_json, parse_query_string, Query};
use crate::schema::{system, Schema};
use rectus_sdk::{Context, Host, HostError, Items, QueryInput, SchemaView, Target};
use serde_json::{json, Value as Json};
use std::sync::Arc;

pub struct NativeHost {
    state: Arc<AppState>,
}

use crate::access::writes::SELF_EDITABLE;

fn host_error(e: items::ItemsError) -> HostError {
    HostError::from(ApiError::from(e))
}

fn parse(input: &QueryInput) -> Result<Query, HostError> {
    match input {
        QueryInput::String(s) => parse_query_string(s),
        QueryInput::Json(v) => parse_json(v),
    }
    .map_err(|e| HostError::from(ApiError::from(e)))
}

/// Writes that change who may do what: cached token resolutions and compiled
/// permissions must not outlive them.
fn changes_access(collection: &str) -> bool {
    matches!(
        collection,
        "directus_users"
            | "directus_roles"
            | "directus_policies"
            | "directus_access"
            | "directus_permissions"
    )
}

/// The activity log and revisions are written by Rectus, never through the API.
fn refuse_read_only(collection: &str) -> Result<(), HostError> {
    if system::READ_ONLY.contains(&collection) {
        return Err(HostError::forbidden());
    }
    Ok(())
}

/// Whether `key` is the caller's own user row.
fn is_self(ctx: &Context, collection: &str, key: &Json) -> bool {
    let key = match key {
        Json::String(s) => s.as_str(),
        _ => return false,
    };
    collection == "directus_users"
        && ctx
            .user
            .as_deref()
            .is_some_and(|u| u.eq_ignore_ascii_case(key))
}

impl NativeHost {
    pub fn new(state: Arc<AppState>) -> Self {
        NativeHost { state }
    }

    fn options(&self) -> ReadOptions {
        ReadOptions {
            default_limit: self.state.config.query_limit_default,
            max_depth: self.state.config.max_relational_depth,
            now: chrono::Utc::now(),
            access: None,
        }
    }

    /// The caller's permissions: `None` for an administrator.
    async fn access(&self, ctx: &Context) -> Result<Option<CallerAccess>, HostError> {
        access::for_caller(
            &self.state.access,
            &self.state.db,
            ctx.user.as_deref(),
            ctx.role.as_deref(),
            ctx.admin,
            ctx.ip.as_deref(),
        )
        .await
        .map_err(|e| HostError::from(ApiError::from(e)))
    }

    /// The schema that holds `collection` and the collection's name in it.
    fn resolve(&self, collection: &str) -> (Arc<Schema>, String) {
        match system::table_of(collection) {
            Some(table) => (self.state.schema.system(), table.to_string()),
            // A user collection can never be named like a system table (reserved), so
            // `rectus_*` names fall through to "not found" in the user schema.
            None => (self.state.schema.current(), collection.to_string()),
        }
    }

    /// What a read of `collection` compiles against, and with which options: for a
    /// non-administrator, the readable schema and its row views.
    fn read_target(
        &self,
        access: Option<&CallerAccess>,
        collection: &str,
    ) -> (Arc<Schema>, String, ReadOptions) {
        let (schema, name) = self.resolve(collection);
        let mut opts = self.options();
        let Some(access) = access else {
            return (schema, name, opts);
        };
        let kind = if system::table_of(collection).is_some() {
            SchemaKind::System
        } else {
            SchemaKind::User
        };
        // The generation is read before the snapshots: a reload in between only makes the
        // cached views one generation early, and the next read rebuilds them.
        let generation = self.state.schema.generation();
        let (readable, rows) = access.read_view(
            kind,
            generation,
            self.state.schema.current(),
            self.state.schema.system(),
        );
        opts.access = Some(rows);
        (readable, name, opts)
    }

    fn writer<'a>(
        &'a self,
        schema: &'a Schema,
        ctx: &'a Context,
        access: Option<&'a CallerAccess>,
    ) -> items::write::WriteContext<'a> {
        items::write::WriteContext {
            db: &self.state.db,
            schema,
            bus: &self.state.events,
            user: ctx.user.as_deref(),
            ip: ctx.ip.as_deref(),
            user_agent: ctx.user_agent.as_deref(),
            access: access.map(|a| WriteAccess {
                permissions: a.permissions(),
                vars: &a.vars,
                now: chrono::Utc::now(),
            }),
        }
    }

    /// Cached token resolutions and permissions must not outlive a change to who may do
    /// what.
    fn after_write(&self, collection: &str) {
        if changes_access(collection) {
            self.state.token_cache.clear();
            self.state.access.clear();
        }
    }

    /// The keys a write targets: given, or selected by a query (read with the caller's
    /// read permissions; the write then checks its own).
    async fn keys(
        &self,
        access: Option<&CallerAccess>,
        collection: &str,
        target: Target,
    ) -> Result<Vec<Json>, HostError> {
        match target {
            Target::Keys(keys) => Ok(keys),
            Target::Query(q) => {
                let query = parse(&q)?;
                let (schema, name, opts) = self.read_target(access, collection);
                items::keys_of(&self.state.db, &schema, &name, &query, &opts)
                    .await
                    .map_err(host_error)
            }
        }
    }

    /// Whether a non-administrator falls back to the built-in own-profile rule: its own
    /// user row, and no permission of its own for `action` on users.
    fn own_profile_fallback(
        access: Option<&CallerAccess>,
        ctx: &Context,
        collection: &str,
        key: &Json,
        action: Action,
    ) -> bool {
        access.is_some_and(|a| {
            is_self(ctx, collection, key) && a.permissions().get("rectus_users", action).is_none()
        })
    }
}

impl Host for NativeHost {
    async fn read_items(
        &self,
        ctx: &Context,
        collection: &str,
        query: QueryInput,
    ) -> Result<Items, HostError> {
        let query = parse(&query)?;
        let access = self.access(ctx).await?;
        let (schema, name, opts) = self.read_target(access.as_ref(), collection);
        let page = items::read(&self.state.db, &schema, &name, &query, &opts)
            .await
            .map_err(host_error)?;
        Ok(Items {
            data: page.data,
            total_count: page.total_count,
            filter_count: page.filter_count,
        })
    }

    async fn read_item(
        &self,
        ctx: &Context,
        collection: &str,
        key: &str,
        query: QueryInput,
    ) -> Result<String, HostError> {
        let query = parse(&query)?;
        let access = self.access(ctx).await?;
        let own = Json::String(key.to_string());
        let access =
            if Self::own_profile_fallback(access.as_ref(), ctx, collection, &own, Action::Read) {
                None
            } else {
                access
            };
        let (schema, name, opts) = self.read_target(access.as_ref(), collection);
        items::read_one(&self.state.db, &schema, &name, key, &query, &opts)
            .await
            .map_err(host_error)
    }

    async fn create_items(
        &self,
        ctx: &Context,
        collection: &str,
        payload: Json,
    ) -> Result<Vec<Json>, HostError> {
        refuse_read_only(collection)?;
        let access = self.access(ctx).await?;
        let (schema, name) = self.resolve(collection);
        let result =
            items::write::create(&self.writer(&schema, ctx, access.as_ref()), &name, &payload)
                .await
                .map_err(host_error);
        self.after_write(collection);
        result
    }

    async fn update_items(
        &self,
        ctx: &Context,
        collection: &str,
        target: Target,
        data: Json,
    ) -> Result<Vec<Json>, HostError> {
        refuse_read_only(collection)?;
        let access = self.access(ctx).await?;
        let own_profile = matches!(&target, Target::Keys(keys) if keys.len() == 1
            && Self::own_profile_fallback(access.as_ref(), ctx, collection, &keys[0], Action::Update));
        let access = if own_profile {
            if let Some(field) = data
                .as_object()
                .and_then(|o| o.keys().find(|k| !SELF_EDITABLE.contains(&k.as_str())))
            {
                return Err(HostError::forbidden().with(
                    "reason",
                    format!("You can't change \"{field}\" of your own user."),
                ));
            }
            None
        } else {
            access
        };
        let (schema, name) = self.resolve(collection);
        let keys = self.keys(access.as_ref(), collection, target).await?;
        let result = items::write::update(
            &self.writer(&schema, ctx, access.as_ref()),
            &name,
            &keys,
            &data,
        )
        .await
        .map_err(host_error);
        self.after_write(collection);
        result
    }

    async fn update_batch(
        &self,
        ctx: &Context,
        collection: &str,
        batch: Vec<Json>,
    ) -> Result<Vec<Json>, HostError> {
        refuse_read_only(collection)?;
        let access = self.access(ctx).await?;
        let (schema, name) = self.resolve(collection);
        let result =
            items::write::update_batch(&self.writer(&schema, ctx, access.as_ref()), &name, &batch)
                .await
                .map_err(host_error);
        self.after_write(collection);
        result
    }

    async fn delete_items(
        &self,
        ctx: &Context,
        collection: &str,
        target: Target,
    ) -> Result<(), HostError> {
        refuse_read_only(collection)?;
        let access = self.access(ctx).await?;
        let (schema, name) = self.resolve(collection);
        let keys = self.keys(access.as_ref(), collection, target).await?;
        let result =
            items::write::delete(&self.writer(&schema, ctx, access.as_ref()), &name, &keys)
                .await
                .map_err(host_error);
        self.after_write(collection);
        result
    }

    fn primary_key(&self, collection: &str) -> Option<String> {
        let (schema, name) = self.resolve(collection);
        schema.collection(&name)?.primary_key().map(str::to_string)
    }

    fn is_singleton(&self, collection: &str) -> bool {
        let (schema, name) = self.resolve(collection);
        schema.collection(&name).is_some_and(|c| c.is_singleton())
    }

    /// User and system collections (`directus_*`) together, as far as the caller may read
    /// them, with the fields it may use per action. The hash changes with the schema
    /// generation, the access generation (any change to permissions) and the caller's
    /// policy set.
    async fn schema(&self, ctx: &Context) -> Result<SchemaView, HostError> {
        let generation = self.state.schema.generation();
        let access = self.access(ctx).await?;
        let (user, system) = match &access {
            None => (self.state.schema.current(), self.state.schema.system()),
            Some(a) => (
                a.read_view(
                    SchemaKind::User,
                    generation,
                    self.state.schema.current(),
                    self.state.schema.system(),
                )
                .0,
                a.read_view(
                    SchemaKind::System,
                    generation,
                    self.state.schema.current(),
                    self.state.schema.system(),
                )
                .0,
            ),
        };
        let served = |name: &str| {
            system::SERVED
                .iter()
                .find(|(_, t)| *t == name)
                .map(|(c, _)| c.to_string())
                .unwrap_or_else(|| name.to_string())
        };
        let (mut collections, mut fields, mut relations) = (Vec::new(), Vec::new(), Vec::new());
        let mut permissions = serde_json::Map::new();
        let full = [self.state.schema.current(), self.state.schema.system()];
        for schema in [&user, &system] {
            for c in schema.collections.values() {
                collections.push(c.to_api());
                fields.extend(c.fields.values().map(|f| f.to_api()));
            }
            relations.extend(schema.relations.iter().map(|r| r.to_api()));
        }
        for schema in &full {
            for c in schema.collections.values() {
                let mut actions = serde_json::Map::new();
                for action in [Action::Create, Action::Read, Action::Update, Action::Delete] {
                    if system::READ_ONLY.contains(&served(&c.name).as_str())
                        && action != Action::Read
                    {
                        continue;
                    }
                    let fields = match &access {
                        None => json!(["*"]),
                        Some(a) => match a.permissions().get(&c.name, action) {
                            Some(rules) => rules.fields().to_json(),
                            None => continue,
                        },
                    };
                    actions.insert(action.name().to_string(), fields);
                }
                if !actions.is_empty() {
                    permissions.insert(served(&c.name), Json::Object(actions));
                }
            }
        }
        let who = match &access {
            None => "admin".to_string(),
            Some(a) => {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                a.set.policies.hash(&mut h);
                format!("{}:{:x}", self.state.access.generation(), h.finish())
            }
        };
        Ok(SchemaView {
            hash: format!("{generation}:{who}"),
            snapshot: json!({"collections": collections, "fields": fields, "relations": relations}),
            permissions: Json::Object(permissions),
        })
    }
}

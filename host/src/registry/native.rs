//! The host as linked modules see it: [`rectus_sdk::Host`] implemented directly on the
//! application state, with no copying and no sandbox.
//!
//! Collections named `directus_*` are Rectus's system collections, served from the system
//! schema (`schema::system`); every other name is a user collection.
//!
//! Until access control (its own issue) decides per collection, field and row, items are
//! for administrators, with one exception every platform needs: a signed-in user may read
//! and edit its own profile (`/users/me`), minus the fields that grant privileges.

use crate::app::AppState;
use crate::http::error::ApiError;
use crate::items;
use crate::query::compile::ReadOptions;
use crate::query::{parse_json, parse_query_string, Query};
use crate::schema::{system, Schema};
use rectus_sdk::{Context, Host, HostError, Items, QueryInput, SchemaView, Target};
use serde_json::{json, Value as Json};
use std::sync::Arc;

#[derive(Clone)]
pub struct NativeHost {
    state: Arc<AppState>,
}

/// Profile fields a user may change on its own row; role, status, tokens, provider and the
/// like are the administrator's.
const SELF_EDITABLE: &[&str] = &[
    "first_name",
    "last_name",
    "email",
    "password",
    "location",
    "title",
    "description",
    "tags",
    "avatar",
    "language",
    "email_notifications",
    "appearance",
    "theme_dark",
    "theme_light",
    "theme_light_overrides",
    "theme_dark_overrides",
    "text_direction",
    "last_page",
];

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

/// Writes that change who may do what: cached token resolutions must not outlive them.
fn changes_access(collection: &str) -> bool {
    matches!(
        collection,
        "directus_users" | "directus_roles" | "directus_policies" | "directus_access"
    )
}

/// The activity log and revisions are written by Rectus, never through the API.
fn refuse_read_only(collection: &str) -> Result<(), HostError> {
    if system::READ_ONLY.contains(&collection) {
        return Err(HostError::forbidden());
    }
    Ok(())
}

fn require_admin(ctx: &Context) -> Result<(), HostError> {
    if ctx.admin {
        Ok(())
    } else {
        Err(HostError::forbidden())
    }
}

/// The bus's action events as item changes: each write once (its `items.<op>` event, not
/// the `<collection>.items.<op>` copy), system tables under their collection names. A
/// subscriber that fell behind skips what it missed.
pub struct ItemChanges(tokio::sync::broadcast::Receiver<crate::events::ActionEvent>);

impl rectus_sdk::ItemEvents for ItemChanges {
    async fn next(&mut self) -> Option<rectus_sdk::ItemEvent> {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            let event = match self.0.recv().await {
                Ok(e) => e,
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return None,
            };
            let action = match event.name.as_str() {
                "items.create" => rectus_sdk::ItemAction::Create,
                "items.update" => rectus_sdk::ItemAction::Update,
                "items.delete" => rectus_sdk::ItemAction::Delete,
                _ => continue,
            };
            let collection = system::collection_of(&event.collection).unwrap_or(event.collection);
            return Some(rectus_sdk::ItemEvent {
                collection,
                action,
                keys: event.keys,
            });
        }
    }
}

/// Renames system tables to their collection names in a snapshot entry's collection keys
/// (and a relation's `meta`).
fn system_names(entry: &mut Json) {
    const KEYS: &[&str] = &[
        "collection",
        "related_collection",
        "many_collection",
        "one_collection",
        "table",
        "foreign_key_table",
    ];
    let Some(obj) = entry.as_object_mut() else {
        return;
    };
    for (key, value) in obj.iter_mut() {
        match value {
            Json::String(s) if KEYS.contains(&key.as_str()) => {
                if let Some(name) = system::collection_of(s) {
                    *s = name;
                }
            }
            Json::Object(_) if matches!(key.as_str(), "meta" | "schema") => system_names(value),
            _ => {}
        }
    }
}

/// The cache key of a caller's schema view: the schema generation and what the caller may
/// see (everything for administrators, nothing for anyone else until access control).
fn view_hash(generation: u64, ctx: &Context) -> String {
    if ctx.admin {
        format!("{generation}:admin")
    } else {
        format!("{generation}:none")
    }
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
        }
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

    fn writer<'a>(
        &'a self,
        schema: &'a Schema,
        ctx: &'a Context,
    ) -> items::write::WriteContext<'a> {
        items::write::WriteContext {
            db: &self.state.db,
            schema,
            bus: &self.state.events,
            user: ctx.user.as_deref(),
            ip: ctx.ip.as_deref(),
            user_agent: ctx.user_agent.as_deref(),
        }
    }

    /// Cached token resolutions must not outlive a change to who may do what.
    fn after_write(&self, collection: &str) {
        if changes_access(collection) {
            self.state.token_cache.clear();
        }
    }

    /// The keys a write targets: given, or selected by a query.
    async fn keys(
        &self,
        schema: &Schema,
        collection: &str,
        target: Target,
    ) -> Result<Vec<Json>, HostError> {
        match target {
            Target::Keys(keys) => Ok(keys),
            Target::Query(q) => {
                let query = parse(&q)?;
                items::keys_of(&self.state.db, schema, collection, &query, &self.options())
                    .await
                    .map_err(host_error)
            }
        }
    }
}

impl Host for NativeHost {
    async fn read_items(
        &self,
        ctx: &Context,
        collection: &str,
        query: QueryInput,
    ) -> Result<Items, HostError> {
        require_admin(ctx)?;
        let query = parse(&query)?;
        let (schema, name) = self.resolve(collection);
        let page = items::read(&self.state.db, &schema, &name, &query, &self.options())
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
        if !is_self(ctx, collection, &Json::String(key.to_string())) {
            require_admin(ctx)?;
        }
        let query = parse(&query)?;
        let (schema, name) = self.resolve(collection);
        items::read_one(&self.state.db, &schema, &name, key, &query, &self.options())
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
        require_admin(ctx)?;
        let (schema, name) = self.resolve(collection);
        let result = items::write::create(&self.writer(&schema, ctx), &name, &payload)
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
        let own_profile = matches!(&target, Target::Keys(keys) if keys.len() == 1 && is_self(ctx, collection, &keys[0]));
        if own_profile && !ctx.admin {
            if let Some(field) = data
                .as_object()
                .and_then(|o| o.keys().find(|k| !SELF_EDITABLE.contains(&k.as_str())))
            {
                return Err(HostError::forbidden().with(
                    "reason",
                    format!("You can't change \"{field}\" of your own user."),
                ));
            }
        } else {
            require_admin(ctx)?;
        }
        let (schema, name) = self.resolve(collection);
        let keys = self.keys(&schema, &name, target).await?;
        let result = items::write::update(&self.writer(&schema, ctx), &name, &keys, &data)
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
        require_admin(ctx)?;
        let (schema, name) = self.resolve(collection);
        let result = items::write::update_batch(&self.writer(&schema, ctx), &name, &batch)
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
        require_admin(ctx)?;
        let (schema, name) = self.resolve(collection);
        let keys = self.keys(&schema, &name, target).await?;
        let result = items::write::delete(&self.writer(&schema, ctx), &name, &keys)
            .await
            .map_err(host_error);
        self.after_write(collection);
        result
    }

    type Events = ItemChanges;

    fn item_events(&self) -> ItemChanges {
        ItemChanges(self.state.events.subscribe())
    }

    fn setting(&self, name: &str) -> Option<String> {
        self.state.config.graphql.setting(name)
    }

    fn primary_key(&self, collection: &str) -> Option<String> {
        let (schema, name) = self.resolve(collection);
        schema.collection(&name)?.primary_key().map(str::to_string)
    }

    fn is_singleton(&self, collection: &str) -> bool {
        let (schema, name) = self.resolve(collection);
        schema.collection(&name).is_some_and(|c| c.is_singleton())
    }

    async fn schema_hash(&self, ctx: &Context) -> Result<String, HostError> {
        Ok(view_hash(self.state.schema.generation(), ctx))
    }

    /// User and system collections (`directus_*`) together. Until access control decides
    /// per collection and field, an administrator sees everything and anyone else nothing.
    async fn schema(&self, ctx: &Context) -> Result<SchemaView, HostError> {
        let generation = self.state.schema.generation();
        if !ctx.admin {
            return Ok(SchemaView {
                hash: view_hash(generation, ctx),
                snapshot: json!({"collections": [], "fields": [], "relations": []}),
                permissions: json!({}),
            });
        }
        let (user, system) = (self.state.schema.current(), self.state.schema.system());
        let (mut collections, mut fields, mut relations) = (Vec::new(), Vec::new(), Vec::new());
        let mut permissions = serde_json::Map::new();
        for schema in [&user, &system] {
            for c in schema.collections.values() {
                collections.push(c.to_api());
                fields.extend(c.fields.values().map(|f| f.to_api()));
                let all = json!(["*"]);
                let actions = if system::READ_ONLY.contains(&c.name.as_str()) {
                    json!({"read": all})
                } else {
                    json!({"create": all, "read": all, "update": all, "delete": all})
                };
                permissions.insert(c.name.clone(), actions);
            }
            relations.extend(schema.relations.iter().map(|r| r.to_api()));
        }
        // The system schema names its tables (`rectus_users`); callers know them by
        // Directus's names (`directus_users`), as every other route serves them.
        for entry in collections
            .iter_mut()
            .chain(&mut fields)
            .chain(&mut relations)
        {
            system_names(entry);
        }
        let permissions = permissions
            .into_iter()
            .map(|(name, actions)| (system::collection_of(&name).unwrap_or(name), actions))
            .collect();
        Ok(SchemaView {
            hash: view_hash(generation, ctx),
            snapshot: json!({"collections": collections, "fields": fields, "relations": relations}),
            permissions: Json::Object(permissions),
        })
    }
}

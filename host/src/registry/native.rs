//! The host as linked modules see it: [`rectus_sdk::Host`] implemented directly on the
//! application state, with no copying and no sandbox.

use crate::app::AppState;
use crate::http::error::ApiError;
use crate::items;
use crate::query::compile::ReadOptions;
use crate::query::{parse_json, parse_query_string, Query};
use rectus_sdk::{Context, Host, HostError, Items, QueryInput, Target};
use serde_json::Value as Json;
use std::sync::Arc;

pub struct NativeHost {
    state: Arc<AppState>,
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
}

fn host_error(e: items::ItemsError) -> HostError {
    HostError::from(ApiError::from(e))
}

impl NativeHost {
    fn writer<'a>(
        &'a self,
        schema: &'a crate::schema::Schema,
        ctx: &'a Context,
    ) -> items::write::WriteContext<'a> {
        items::write::WriteContext {
            db: &self.state.db,
            schema,
            bus: &self.state.events,
            user: ctx.user.as_deref(),
        }
    }

    /// The keys a write targets: given, or selected by a query.
    async fn keys(
        &self,
        schema: &crate::schema::Schema,
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

fn parse(input: &QueryInput) -> Result<Query, HostError> {
    match input {
        QueryInput::String(s) => parse_query_string(s),
        QueryInput::Json(v) => parse_json(v),
    }
    .map_err(|e| HostError::from(ApiError::from(e)))
}

/// Reads are open to administrators only until access control (the next issue) decides
/// per collection, field and row.
fn require_admin(ctx: &Context) -> Result<(), HostError> {
    if ctx.admin {
        Ok(())
    } else {
        Err(HostError::forbidden())
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
        let schema = self.state.schema.current();
        let page = items::read(&self.state.db, &schema, collection, &query, &self.options())
            .await
            .map_err(|e| HostError::from(ApiError::from(e)))?;
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
        require_admin(ctx)?;
        let query = parse(&query)?;
        let schema = self.state.schema.current();
        items::read_one(
            &self.state.db,
            &schema,
            collection,
            key,
            &query,
            &self.options(),
        )
        .await
        .map_err(|e| HostError::from(ApiError::from(e)))
    }

    async fn create_items(
        &self,
        ctx: &Context,
        collection: &str,
        payload: Json,
    ) -> Result<Vec<Json>, HostError> {
        require_admin(ctx)?;
        let schema = self.state.schema.current();
        items::write::create(&self.writer(&schema, ctx), collection, &payload)
            .await
            .map_err(host_error)
    }

    async fn update_items(
        &self,
        ctx: &Context,
        collection: &str,
        target: Target,
        data: Json,
    ) -> Result<Vec<Json>, HostError> {
        require_admin(ctx)?;
        let schema = self.state.schema.current();
        let keys = self.keys(&schema, collection, target).await?;
        items::write::update(&self.writer(&schema, ctx), collection, &keys, &data)
            .await
            .map_err(host_error)
    }

    async fn update_batch(
        &self,
        ctx: &Context,
        collection: &str,
        batch: Vec<Json>,
    ) -> Result<Vec<Json>, HostError> {
        require_admin(ctx)?;
        let schema = self.state.schema.current();
        items::write::update_batch(&self.writer(&schema, ctx), collection, &batch)
            .await
            .map_err(host_error)
    }

    async fn delete_items(
        &self,
        ctx: &Context,
        collection: &str,
        target: Target,
    ) -> Result<(), HostError> {
        require_admin(ctx)?;
        let schema = self.state.schema.current();
        let keys = self.keys(&schema, collection, target).await?;
        items::write::delete(&self.writer(&schema, ctx), collection, &keys)
            .await
            .map_err(host_error)
    }

    fn primary_key(&self, collection: &str) -> Option<String> {
        self.state
            .schema
            .current()
            .collection(collection)?
            .primary_key()
            .map(str::to_string)
    }

    fn is_singleton(&self, collection: &str) -> bool {
        self.state
            .schema
            .current()
            .collection(collection)
            .is_some_and(|c| c.is_singleton())
    }
}

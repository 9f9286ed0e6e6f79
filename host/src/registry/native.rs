//! The host as linked modules see it: [`rectus_sdk::Host`] implemented directly on the
//! application state, with no copying and no sandbox.

use crate::app::AppState;
use crate::http::error::ApiError;
use crate::items;
use crate::query::compile::ReadOptions;
use crate::query::{parse_json, parse_query_string, Query};
use rectus_sdk::{Context, Host, HostError, Items, QueryInput};
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

    fn is_singleton(&self, collection: &str) -> bool {
        self.state
            .schema
            .current()
            .collection(collection)
            .is_some_and(|c| c.is_singleton())
    }
}

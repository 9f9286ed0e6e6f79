//! The adapter for guests built against `rectus:extension@0.1.0` (`wit/since_v0.1.0/`,
//! frozen): the WIT bindings of that version, its import traits implemented over the
//! version-independent host API (`runtime::host_api`), and its exports called with
//! host types in and out. A later WIT version gets a module of its own beside this one
//! (the practice of Zed's extension host), so guests built against 0.1.0 keep loading.
//!
//! Owns: converting 0.1.0's WIT types to and from the host's. Must not touch: what the
//! host API does, stores and limits (`super`).

use super::state::CallState;
use crate::runtime::host_api::{self, Level};
use rectus_sdk::{Context, HostError, QueryInput, Request, Response, Target};
use serde_json::Value as Json;
use std::time::Duration;
use wasmtime::component::{HasSelf, Linker};

mod imports {
    wasmtime::component::bindgen!({
        path: "../wit/since_v0.1.0",
        world: "imports",
    });
}

pub mod endpoint {
    wasmtime::component::bindgen!({
        path: "../wit/since_v0.1.0",
        world: "endpoint",
        with: {
            "rectus:extension/types": super::imports::rectus::extension::types,
            "rectus:extension/items": super::imports::rectus::extension::items,
            "rectus:extension/schema": super::imports::rectus::extension::schema,
            "rectus:extension/log": super::imports::rectus::extension::log,
            "rectus:extension/http": super::imports::rectus::extension::http,
            "rectus:extension/cache": super::imports::rectus::extension::cache,
            "rectus:extension/env": super::imports::rectus::extension::env,
        },
    });
}

pub mod hook {
    wasmtime::component::bindgen!({
        path: "../wit/since_v0.1.0",
        world: "hook",
        with: {
            "rectus:extension/types": super::imports::rectus::extension::types,
            "rectus:extension/items": super::imports::rectus::extension::items,
            "rectus:extension/schema": super::imports::rectus::extension::schema,
            "rectus:extension/log": super::imports::rectus::extension::log,
            "rectus:extension/http": super::imports::rectus::extension::http,
            "rectus:extension/cache": super::imports::rectus::extension::cache,
            "rectus:extension/env": super::imports::rectus::extension::env,
        },
    });
}

pub mod operation {
    wasmtime::component::bindgen!({
        path: "../wit/since_v0.1.0",
        world: "operation",
        with: {
            "rectus:extension/types": super::imports::rectus::extension::types,
            "rectus:extension/items": super::imports::rectus::extension::items,
            "rectus:extension/schema": super::imports::rectus::extension::schema,
            "rectus:extension/log": super::imports::rectus::extension::log,
            "rectus:extension/http": super::imports::rectus::extension::http,
            "rectus:extension/cache": super::imports::rectus::extension::cache,
            "rectus:extension/env": super::imports::rectus::extension::env,
        },
    });
}

use imports::rectus::extension::{cache, env, http, items, log, schema, types};

/// Adds this version's host interfaces to `linker`.
pub fn add_to_linker(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    imports::Imports::add_to_linker::<CallState, HasSelf<CallState>>(linker, |s| s)
}

// --- host → guest records -------------------------------------------------------------

pub fn context(ctx: &Context) -> types::Context {
    types::Context {
        user: ctx.user.clone(),
        role: ctx.role.clone(),
        admin: ctx.admin,
        ip: ctx.ip.clone(),
        user_agent: ctx.user_agent.clone(),
    }
}

pub fn request(req: Request, headers: Vec<(String, String)>) -> types::Request {
    types::Request {
        mount: req.mount,
        method: req.method,
        segments: req.segments,
        query: req.query,
        headers,
        body: req.body,
    }
}

fn wit_error(e: HostError) -> types::HostError {
    types::HostError {
        status: e.status,
        code: e.code.to_string(),
        message: e.message,
        extensions_json: Json::Object(e.extensions).to_string(),
    }
}

// --- guest → host records -------------------------------------------------------------

/// A guest's error as the host's; an unknown code or status becomes a 500.
pub fn host_error(e: types::HostError) -> HostError {
    let extensions = match serde_json::from_str(&e.extensions_json) {
        Ok(Json::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    let status = if (400..=599).contains(&e.status) {
        e.status
    } else {
        500
    };
    HostError {
        status,
        code: super::codes::intern(&e.code),
        message: e.message,
        extensions,
    }
}

pub fn response(r: types::Response) -> Result<Response, String> {
    if !(100..=599).contains(&r.status) {
        return Err(format!("the endpoint answered status {}", r.status));
    }
    Ok(Response {
        status: r.status,
        content_type: super::codes::content_type(&r.content_type),
        headers: r.headers,
        body: r.body,
    })
}

fn query(q: types::QueryInput) -> Result<QueryInput, types::HostError> {
    match q {
        types::QueryInput::Text(s) => Ok(QueryInput::String(s)),
        types::QueryInput::Json(s) => Ok(QueryInput::Json(json(&s, "query")?)),
    }
}

fn json(text: &str, what: &str) -> Result<Json, types::HostError> {
    serde_json::from_str(text).map_err(|e| {
        wit_error(HostError::invalid_payload(format!(
            "{what} is not valid JSON: {e}"
        )))
    })
}

fn keys_json(text: &str) -> Result<Vec<Json>, types::HostError> {
    match json(text, "keys")? {
        Json::Array(keys) => Ok(keys),
        _ => Err(wit_error(HostError::invalid_payload(
            "keys must be an array",
        ))),
    }
}

fn target(t: types::Target) -> Result<Target, types::HostError> {
    match t {
        types::Target::KeysJson(s) => Ok(Target::Keys(keys_json(&s)?)),
        types::Target::Query(q) => Ok(Target::Query(query(q)?)),
    }
}

fn keys_text(keys: Vec<Json>) -> String {
    Json::Array(keys).to_string()
}

// --- imports ---------------------------------------------------------------------------

impl types::Host for CallState {}

impl items::Host for CallState {
    fn read_items(
        &mut self,
        collection: String,
        q: types::QueryInput,
    ) -> Result<types::ItemsPage, types::HostError> {
        let page = self
            .host
            .read_items(&collection, query(q)?)
            .map_err(wit_error)?;
        Ok(types::ItemsPage {
            data: page.data,
            total_count: page.total_count,
            filter_count: page.filter_count,
        })
    }

    fn read_item(
        &mut self,
        collection: String,
        key: String,
        q: types::QueryInput,
    ) -> Result<String, types::HostError> {
        self.host
            .read_item(&collection, &key, query(q)?)
            .map_err(wit_error)
    }

    fn create_items(
        &mut self,
        collection: String,
        payload_json: String,
    ) -> Result<String, types::HostError> {
        let payload = json(&payload_json, "payload")?;
        self.host
            .create_items(&collection, payload)
            .map(keys_text)
            .map_err(wit_error)
    }

    fn update_items(
        &mut self,
        collection: String,
        t: types::Target,
        data_json: String,
    ) -> Result<String, types::HostError> {
        let data = json(&data_json, "data")?;
        self.host
            .update_items(&collection, target(t)?, data)
            .map(keys_text)
            .map_err(wit_error)
    }

    fn update_batch(
        &mut self,
        collection: String,
        items_json: String,
    ) -> Result<String, types::HostError> {
        let batch = keys_json(&items_json)?;
        self.host
            .update_batch(&collection, batch)
            .map(keys_text)
            .map_err(wit_error)
    }

    fn delete_items(
        &mut self,
        collection: String,
        t: types::Target,
    ) -> Result<(), types::HostError> {
        self.host
            .delete_items(&collection, target(t)?)
            .map_err(wit_error)
    }
}

impl schema::Host for CallState {
    fn collection(&mut self, name: String) -> Option<schema::CollectionInfo> {
        self.host
            .collection(&name)
            .map(|(primary_key, singleton)| schema::CollectionInfo {
                primary_key,
                singleton,
            })
    }

    fn read(&mut self) -> Result<schema::SchemaView, types::HostError> {
        let view = self.host.schema().map_err(wit_error)?;
        Ok(schema::SchemaView {
            hash: view.hash,
            snapshot_json: view.snapshot.to_string(),
            permissions_json: view.permissions.to_string(),
        })
    }
}

impl log::Host for CallState {
    fn log(&mut self, level: log::Level, message: String) {
        let level = match level {
            log::Level::Debug => Level::Debug,
            log::Level::Info => Level::Info,
            log::Level::Warn => Level::Warn,
            log::Level::Error => Level::Error,
        };
        self.host.log(level, &message);
    }
}

impl http::Host for CallState {
    fn send(&mut self, req: http::HttpRequest) -> Result<http::HttpResponse, types::HostError> {
        let res = self
            .host
            .http(host_api::HttpRequest {
                method: req.method,
                url: req.url,
                headers: req.headers,
                body: req.body,
            })
            .map_err(wit_error)?;
        Ok(http::HttpResponse {
            status: res.status,
            headers: res.headers,
            body: res.body,
        })
    }
}

impl cache::Host for CallState {
    fn get(&mut self, key: String) -> Result<Option<String>, types::HostError> {
        self.host.cache_get(&key).map_err(wit_error)
    }

    fn set(
        &mut self,
        key: String,
        value: String,
        ttl_seconds: Option<u32>,
    ) -> Result<(), types::HostError> {
        let ttl = ttl_seconds.map(|s| Duration::from_secs(u64::from(s)));
        self.host.cache_set(key, value, ttl).map_err(wit_error)
    }

    fn delete(&mut self, key: String) -> Result<(), types::HostError> {
        self.host.cache_delete(&key).map_err(wit_error)
    }
}

impl env::Host for CallState {
    fn get(&mut self, key: String) -> Result<Option<String>, types::HostError> {
        self.host.env(&key).map_err(wit_error)
    }
}

#[cfg(test)]
mod tests {
    /// `wit/` is still 0.1.0: until the package version moves, the frozen copy must be
    /// the package itself (a change to `wit/` is a new version, see wit/README.md).
    #[test]
    fn the_frozen_copy_is_the_current_package() {
        assert_eq!(
            include_str!("../../../../wit/types.wit"),
            include_str!("../../../../wit/since_v0.1.0/types.wit")
        );
        assert_eq!(
            include_str!("../../../../wit/worlds.wit"),
            include_str!("../../../../wit/since_v0.1.0/worlds.wit")
        );
    }
}

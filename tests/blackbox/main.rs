//! Black-box tests: each starts the real `rectus` binary against a fresh database and
//! speaks HTTP to it (a few drive the host library directly against the real databases:
//! the query compiler and the events bus). One test binary, one module per area.

mod harness;

mod access_endpoints;
mod access_matrix;
mod auth;
mod collections;
mod events;
mod extensions;
mod fields;
mod flows_mail;
mod flows_operations;
mod flows_saving;
mod flows_support;
mod flows_triggers;
mod graphql_errors;
mod graphql_query;
mod graphql_subscriptions;
mod graphql_write;
mod introspection;
mod items_read;
mod items_write;
mod m2a;
mod m2m;
mod query_matrix;
mod query_sql;
mod read_shapes;
mod relations;
mod server;
mod snapshot;
mod system_collections;
mod wasm_endpoint;
mod wasm_hook;
mod wasm_js;
mod wasm_operation;
mod wasm_support;

//! Rectus's host: the kernel every module runs on. See ARCHITECTURE.md for the map.

pub mod access;
pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod events;
pub mod extensions;
pub mod http;
pub mod items;
pub mod query;
pub mod registry;
pub mod runtime;
pub mod schema;
pub mod system;

//! Black-box tests: each starts the real `rectus` binary against a fresh database and
//! speaks HTTP to it. One test binary, one module per area.

mod harness;

mod events;

mod items_read;
mod items_write;
mod query_sql;
mod server;

//! Black-box tests: each starts the real `rectus` binary against a fresh database and
//! speaks HTTP to it. One test binary, one module per area.

mod harness;

mod server;

mod introspection;
mod snapshot;

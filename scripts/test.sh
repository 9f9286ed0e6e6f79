#!/usr/bin/env bash
# The one test command: formatting, lints, then every unit and black-box test.
#
#   scripts/test.sh
#
# Needs the Rust toolchain (cargo, rustfmt, clippy) and, for the black-box tests, local
# PostgreSQL, MariaDB and Redis: scripts/services.sh starts them if they are down and
# makes sure the `test` database exists on both. The black-box tests start the real
# `rectus` binary once per test against a fresh SQLite file / PostgreSQL / MariaDB
# database (tests/blackbox/harness.rs); RECTUS_TEST_DBS=sqlite limits them to SQLite.
#
# Variables: TEST_THREADS (default 4; each black-box test runs its own server),
# SKIP_SERVICES=1 (don't touch local services, e.g. when pointing RECTUS_TEST_PG_URL /
# RECTUS_TEST_MYSQL_URL elsewhere). Extra arguments go to `cargo test` after `--`.
set -euo pipefail

cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

if [ "${SKIP_SERVICES:-0}" != 1 ]; then
  step "scripts/services.sh (PostgreSQL, MariaDB, Redis)"
  scripts/services.sh
fi

step "cargo fmt --all --check"
cargo fmt --all --check

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "scripts/check-ts.sh (TypeScript declarations of the WIT interfaces)"
scripts/check-ts.sh

step "scripts/build-guests.sh (WASM components the tests load: REST, the probe)"
scripts/build-guests.sh

threads=${TEST_THREADS:-4}
step "cargo test --workspace -- --test-threads=$threads${*:+ $*}"
cargo test --workspace -- --test-threads="$threads" "$@"

# The REST module's black-box tests a second time, with REST served by its WebAssembly
# component build (same source, through the SDK's component backend).
rest_tests=(items_read:: items_write:: query_matrix:: m2m:: m2a:: system_collections:: relations:: read_shapes::)
step "REST_MODULE=component cargo test -p rectus --test blackbox -- ${rest_tests[*]}"
REST_MODULE=component cargo test -p rectus --test blackbox -- --test-threads="$threads" "${rest_tests[@]}"

step "all checks passed"

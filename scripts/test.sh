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

threads=${TEST_THREADS:-4}
step "cargo test --workspace -- --test-threads=$threads${*:+ $*}"
cargo test --workspace -- --test-threads="$threads" "$@"

step "all checks passed"

#!/usr/bin/env bash
# REST linked vs REST as a WebAssembly component (REST_MODULE=component), same load test,
# one after the other on the same database: bench/rest.sh twice with WITH_DIRECTUS=0.
# The issue's target: the component at most 15% slower on list 100 (`?limit=100`).
#
#   cargo build --release -p rectus && bench/rest-component.sh
#
# Prints both runs' list 100 rows (req/s first). Needs what bench/rest.sh needs (wrk,
# pgbench, PostgreSQL); run it on a quiet machine.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
scripts/build-guests.sh
export WITH_DIRECTUS=0
bench/rest.sh
linked=$(ls -t bench/results/*.md | head -n1)
REST_MODULE=component REST_COMPONENT_PATH="$ROOT/target/guests/rectus_rest.wasm" bench/rest.sh
component=$(ls -t bench/results/*.md | head -n1)
echo
echo "list 100, linked    ($linked):"
grep -m1 'list 100' "$linked"
echo "list 100, component ($component):"
grep -m1 'list 100' "$component"

#!/usr/bin/env bash
# Builds the project's own guest extensions as WebAssembly components (wasm32-wasip2)
# into target/guests/: the REST module from the same source the host links
# (rectus_rest.wasm, for REST_MODULE=component) and the black-box tests' components
# (probe.wasm, missing_import.wasm). Sets the toolchain up first (scripts/guest-toolchain.sh).
#
#   scripts/build-guests.sh
set -euo pipefail

cd "$(dirname "$0")/.."
eval "$(scripts/guest-toolchain.sh)"
out=target/guests
mkdir -p "$out"
started=$(date +%s)
# shellcheck disable=SC2086 # RECTUS_GUEST_BUILD_STD is empty or one flag
(cd guests && cargo build --release --target wasm32-wasip2 ${RECTUS_GUEST_BUILD_STD:-} \
  --target-dir ../target/guests-build)
for name in rectus_rest probe missing_import; do
  cp target/guests-build/wasm32-wasip2/release/$name.wasm "$out/$name.wasm"
done
printf 'guests built in %ss: %s\n' "$(($(date +%s) - started))" "$(cd "$out" && ls -s --block-size=K ./*.wasm | tr '\n' ' ')"

#!/usr/bin/env bash
# Builds the project's own guest extensions as WebAssembly components into target/guests/:
# - Rust (wasm32-wasip2; toolchain from scripts/guest-toolchain.sh): the REST module from
#   the same source the host links (rectus_rest.wasm, for REST_MODULE=component) and the
#   black-box tests' components (probe.wasm, missing_import.wasm);
# - JavaScript (componentize-qjs from npm, QuickJS): the example endpoint
#   examples/extensions/order-stats (order_stats.wasm).
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
# JavaScript: componentize-qjs, pinned, installed once into target/guest-js.
js=target/guest-js
if [ ! -x "$js/node_modules/.bin/componentize-qjs" ]; then
  if ! command -v npm >/dev/null; then
    apt-get install -y nodejs npm >/dev/null
  fi
  npm install --prefix "$js" --no-audit --no-fund --silent componentize-qjs@0.4.5
fi
"$js/node_modules/.bin/componentize-qjs" --wit wit --world endpoint \
  --js examples/extensions/order-stats/index.js --sync --stub-wasi -o "$out/order_stats.wasm" >/dev/null
printf 'guests built in %ss: %s\n' "$(($(date +%s) - started))" "$(cd "$out" && ls -s --block-size=K ./*.wasm | tr '\n' ' ')"

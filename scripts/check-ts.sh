#!/usr/bin/env bash
# Type-checks the TypeScript declarations of the WIT interfaces (sdk/ts/) with tsc
# --strict against sdk/ts/example.ts. TypeScript is installed once into target/guest-js.
set -euo pipefail

cd "$(dirname "$0")/.."
js=target/guest-js
if [ ! -x "$js/node_modules/.bin/tsc" ]; then
  command -v npm >/dev/null || apt-get install -y nodejs npm >/dev/null
  npm install --prefix "$js" --no-audit --no-fund --silent typescript@5
fi
"$js/node_modules/.bin/tsc" --noEmit --strict --target es2020 --module es2020 \
  --moduleResolution node sdk/ts/example.ts
echo "sdk/ts: declarations type-check"

#!/usr/bin/env bash
# GraphQL vs REST load test: the same read through both modules of one Rectus process.
#
#   cargo build --release -p rectus
#   bench/graphql.sh
#
# 1. Creates the PostgreSQL database $DB_NAME (dropped first) with rest.sh's seed:
#    `customers` (1,000 rows) and `orders` (10,000 rows, `orders.customer` a foreign key to
#    `customers`), and starts target/release/rectus on it.
# 2. Checks both answers carry the same 100 rows, then runs wrk -t2 -c32 (3 s warm-up, then
#    15 s) on each, alternating twice:
#      rest     GET  /items/orders?limit=100&fields=*,customer.*
#      graphql  POST /graphql {orders(limit: 100) {<every field> customer {<every field>}}}
# 3. Prints req/s per run and the ratio GraphQL / REST (target ≥ 0.80), and writes the table
#    to bench/results/graphql-<UTC time>.md.
#
# Schema generation (200 collections, target < 50 ms) is a separate case:
#   cargo test --release -p rectus-graphql schema_generation_for_200_collections -- --nocapture
#
# Loopback only; every wait is bounded. Variables: RECTUS_BIN, PORT (8078), DB_NAME
# (rectus_bench_graphql), PG_ADMIN_URL, WRK_DUR (15s), WRK_WARM (3s), CONN (32), THREADS (2).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
RECTUS_BIN="${RECTUS_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/rectus}"
PORT="${PORT:-8078}"
DB_NAME="${DB_NAME:-rectus_bench_graphql}"
PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
DB_URL="postgres://postgres@127.0.0.1:5432/$DB_NAME"
TOKEN="bench-graphql-admin-token"
THREADS="${THREADS:-2}"
CONN="${CONN:-32}"
WRK_DUR="${WRK_DUR:-15s}"
WRK_WARM="${WRK_WARM:-3s}"
BASE="http://127.0.0.1:$PORT"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RES="$ROOT/bench/results/graphql-$STAMP"
OUT="$RES.md"
mkdir -p "$RES"

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
psql_admin() { psql -X -v ON_ERROR_STOP=1 -q "$PG_ADMIN_URL" "$@"; }
psql_db() { psql -X -v ON_ERROR_STOP=1 -q "$DB_URL" "$@"; }

RECTUS_PID=""
cleanup() {
  if [ -n "$RECTUS_PID" ] && kill -0 "$RECTUS_PID" 2>/dev/null; then
    kill "$RECTUS_PID"
    for _ in $(seq 1 50); do kill -0 "$RECTUS_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$RECTUS_PID" 2>/dev/null || true
  fi
  psql_admin -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

if ! command -v wrk >/dev/null; then
  log "installing wrk (Debian package)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
for t in wrk psql curl jq; do command -v "$t" >/dev/null || { log "missing $t"; exit 1; }; done
[ -x "$RECTUS_BIN" ] || { log "no $RECTUS_BIN (cargo build --release -p rectus)"; exit 1; }

log "creating $DB_NAME"
psql_admin -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" -c "CREATE DATABASE $DB_NAME"
psql_db <<EOF
CREATE TABLE customers (id serial PRIMARY KEY, date_created timestamptz, name varchar(255),
  email varchar(255), city varchar(255));
CREATE TABLE orders (id serial PRIMARY KEY, date_created timestamptz, date_updated timestamptz,
  customer_name varchar(255), email varchar(255), item varchar(255), amount real,
  status varchar(255), customer integer REFERENCES customers (id) ON DELETE SET NULL);
INSERT INTO customers (date_created, name, email, city)
SELECT timestamptz '2026-11-23 00:00:00+00', 'Customer ' || i, 'customer' || i || '@example.com',
       (ARRAY['Amsterdam','Berlin','Lisbon','Oslo','Paris','Rome','Vienna','Warsaw'])[i % 8 + 1]
FROM generate_series(0, 999) AS i ORDER BY i;
INSERT INTO orders (date_created, customer_name, email, item, amount, status, customer)
SELECT timestamptz '2026-11-23 00:00:00+00',
       'Customer ' || (i * 7919) % 1000, 'customer' || (i * 7919) % 1000 || '@example.com',
       (ARRAY['Laptop','Headphones','Phone','Tablet'])[(i * 31) % 4 + 1],
       ((i * 2654435761) % 200000) / 100.0,
       (ARRAY['Pending','Paid','Shipped'])[(i * 13) % 3 + 1],
       (i * 7919) % 1000 + 1
FROM generate_series(0::bigint, 9999) AS i ORDER BY i;
ANALYZE customers; ANALYZE orders;
EOF

log "starting $RECTUS_BIN on $BASE"
DB_CLIENT=pg DB_CONNECTION_STRING="$DB_URL" HOST=127.0.0.1 PORT="$PORT" \
  ADMIN_EMAIL=admin@example.com ADMIN_PASSWORD=admin-password ADMIN_TOKEN="$TOKEN" \
  SECRET=bench-graphql-secret-0123456789abcdef LOG_LEVEL=warn \
  "$RECTUS_BIN" start >"$RES/rectus.log" 2>&1 &
RECTUS_PID=$!
for _ in $(seq 1 600); do
  curl -fsS -o /dev/null "$BASE/server/ping" 2>/dev/null && break
  kill -0 "$RECTUS_PID" 2>/dev/null || { cat "$RES/rectus.log" >&2; exit 1; }
  sleep 0.05
done

REST_PATH="/items/orders?limit=100&fields=*,customer.*"
QUERY='{ orders(limit: 100) { id date_created date_updated customer_name email item amount status customer { id date_created name email city } } }'
BODY=$(jq -cn --arg q "$QUERY" '{query: $q}')
AUTH=(-H "Authorization: Bearer $TOKEN")

# Same rows both ways (ids: numbers in REST, strings in GraphQL).
rest_ids=$(curl -fsS "${AUTH[@]}" "$BASE$REST_PATH" | jq -c '[.data[] | [.id, .customer.name]]')
gql_ids=$(curl -fsS "${AUTH[@]}" -H 'Content-Type: application/json' -d "$BODY" "$BASE/graphql" \
  | jq -c '[.data.orders[] | [(.id | tonumber), .customer.name]]')
[ "$rest_ids" = "$gql_ids" ] || { log "REST and GraphQL answers differ"; exit 1; }
log "both answer the same 100 rows"

cat >"$RES/graphql.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
wrk.body = [[$BODY]]
EOF

run() { # name → req/s
  local name=$1 out
  if [ "$name" = rest ]; then
    wrk -t"$THREADS" -c"$CONN" -d"$WRK_WARM" "${AUTH[@]}" "$BASE$REST_PATH" >/dev/null
    out=$(wrk -t"$THREADS" -c"$CONN" -d"$WRK_DUR" "${AUTH[@]}" "$BASE$REST_PATH")
  else
    wrk -t"$THREADS" -c"$CONN" -d"$WRK_WARM" -s "$RES/graphql.lua" "$BASE/graphql" >/dev/null
    out=$(wrk -t"$THREADS" -c"$CONN" -d"$WRK_DUR" -s "$RES/graphql.lua" "$BASE/graphql")
  fi
  echo "$out" >"$RES/$name-$2.txt"
  echo "$out" | awk '/Requests\/sec/{print $2}'
}

{
  echo "| run | REST req/s | GraphQL req/s | GraphQL / REST | target |"
  echo "|---|---|---|---|---|"
  for i in 1 2; do
    r=$(run rest "$i"); g=$(run graphql "$i")
    ratio=$(awk -v g="$g" -v r="$r" 'BEGIN{printf "%.2f", g/r}')
    echo "| $i | $r | $g | $ratio | ≥ 0.80 |"
  done
  echo
  echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg); cores: $(nproc)"
} | tee "$OUT"

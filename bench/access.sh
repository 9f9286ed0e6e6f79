#!/usr/bin/env bash
# Access-control overhead: a page of 100 orders as a role with a row filter and a field
# list, against the same request as the admin (issue 4's target: at most 15% more).
#
#   cargo build --release -p rectus
#   bench/access.sh
#
# Creates the PostgreSQL database $DB_NAME (dropped first) with 10,000 orders, starts
# target/release/rectus on it, creates through the API a role whose policy reads `orders`
# with a row filter that every row passes (so both callers get the same 100 rows) and a
# field list, then runs `wrk -t2 -c32` (3 s warm-up, 15 s) on
# `/items/orders?limit=100&fields=id,status,amount,item,customer` as the admin and as the
# role, and prints requests/s, p50/p99 and the ratio. Loopback only; every wait is bounded.
# Variables: RECTUS_BIN, PORT (8078), DB_NAME (rectus_bench_access), PG_ADMIN_URL, WRK_DUR
# (15s), WRK_WARM (3s), CONN (32), THREADS (2).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
RECTUS_BIN="${RECTUS_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/rectus}"
PORT="${PORT:-8078}"
DB_NAME="${DB_NAME:-rectus_bench_access}"
PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
DB_URL="postgres://postgres@127.0.0.1:5432/$DB_NAME"
TOKEN="bench-access-admin-token"
ROLE_TOKEN="bench-access-role-token"
THREADS="${THREADS:-2}"
CONN="${CONN:-32}"
WRK_DUR="${WRK_DUR:-15s}"
WRK_WARM="${WRK_WARM:-3s}"
BASE="http://127.0.0.1:$PORT"
URL="$BASE/items/orders?limit=100&fields=id,status,amount,item,customer"
LOG="$(mktemp -t rectus-bench-access.XXXXXX.log)"

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
RECTUS_PID=""
cleanup() {
  if [ -n "$RECTUS_PID" ] && kill -0 "$RECTUS_PID" 2>/dev/null; then
    kill "$RECTUS_PID"
    for _ in $(seq 1 50); do kill -0 "$RECTUS_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$RECTUS_PID" 2>/dev/null || true
  fi
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
psql -X -q -v ON_ERROR_STOP=1 "$PG_ADMIN_URL" \
  -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" -c "CREATE DATABASE $DB_NAME"
psql -X -q -v ON_ERROR_STOP=1 "$DB_URL" <<'SQL'
CREATE TABLE customers (id serial PRIMARY KEY, name varchar(255), email varchar(255));
CREATE TABLE orders (
  id serial PRIMARY KEY, item varchar(255), amount real, status varchar(255),
  note varchar(255), customer integer REFERENCES customers (id) ON DELETE SET NULL
);
INSERT INTO customers (name, email)
SELECT 'Customer ' || i, 'customer' || i || '@example.com' FROM generate_series(0, 999) AS i;
INSERT INTO orders (item, amount, status, note, customer)
SELECT (ARRAY['Laptop','Headphones','Phone','Tablet'])[(i * 31) % 4 + 1],
       ((i * 2654435761) % 200000) / 100.0,
       (ARRAY['Pending','Paid','Shipped'])[(i * 13) % 3 + 1],
       'note ' || i, (i * 7919) % 1000 + 1
FROM generate_series(0::bigint, 9999) AS i;
ANALYZE customers; ANALYZE orders;
SQL

log "starting $RECTUS_BIN on $BASE"
DB_CLIENT=pg DB_CONNECTION_STRING="$DB_URL" HOST=127.0.0.1 PORT="$PORT" \
  ADMIN_EMAIL=admin@example.com ADMIN_PASSWORD=admin-password ADMIN_TOKEN="$TOKEN" \
  SECRET=bench-access-secret-0123456789abcdef LOG_LEVEL=warn \
  "$RECTUS_BIN" start >"$LOG" 2>&1 &
RECTUS_PID=$!
for _ in $(seq 1 600); do
  curl -fsS -o /dev/null "$BASE/server/ping" 2>/dev/null && break
  kill -0 "$RECTUS_PID" 2>/dev/null || { cat "$LOG" >&2; exit 1; }
  sleep 0.05
done

api() { # method path json → data
  curl -fsS --max-time 10 -X "$1" -H "Authorization: Bearer $TOKEN" \
    -H "Content-Type: application/json" -d "$3" "$BASE$2" | jq -r '.data.id'
}
POLICY=$(api POST /policies '{"name": "Bench readers"}')
api POST /permissions "{\"policy\": \"$POLICY\", \"collection\": \"orders\", \"action\": \"read\",
  \"fields\": [\"id\", \"status\", \"amount\", \"item\", \"customer\"],
  \"permissions\": {\"status\": {\"_in\": [\"Pending\", \"Paid\", \"Shipped\"]}}}" >/dev/null
ROLE=$(api POST /roles '{"name": "Bench readers"}')
api POST /access "{\"role\": \"$ROLE\", \"policy\": \"$POLICY\"}" >/dev/null
api POST /users "{\"email\": \"reader@example.com\", \"role\": \"$ROLE\", \"token\": \"$ROLE_TOKEN\"}" >/dev/null

# Both callers must get the same page.
A=$(curl -fsS --max-time 10 -H "Authorization: Bearer $TOKEN" "$URL" | md5sum)
B=$(curl -fsS --max-time 10 -H "Authorization: Bearer $ROLE_TOKEN" "$URL" | md5sum)
[ "$A" = "$B" ] || { log "admin and role pages differ"; exit 1; }

run() { # token → "rps p50 p99"
  timeout 60 wrk -t"$THREADS" -c"$CONN" -d"$WRK_WARM" -H "Authorization: Bearer $1" "$URL" >/dev/null
  timeout 120 wrk -t"$THREADS" -c"$CONN" -d"$WRK_DUR" --latency -H "Authorization: Bearer $1" "$URL" |
    awk '/Requests\/sec/{r=$2} / 50%/{p50=$2} / 99%/{p99=$2} END{print r, p50, p99}'
}
log "admin"
read -r ARPS AP50 AP99 < <(run "$TOKEN")
log "role"
read -r RRPS RP50 RP99 < <(run "$ROLE_TOKEN")
OVERHEAD=$(awk -v a="$ARPS" -v r="$RRPS" 'BEGIN{printf "%.1f", (a / r - 1) * 100}')
printf '| caller | req/s | p50 | p99 |\n|---|---|---|---|\n'
printf '| admin | %s | %s | %s |\n' "$ARPS" "$AP50" "$AP99"
printf '| role (row filter + field list) | %s | %s | %s |\n' "$RRPS" "$RP50" "$RP99"
printf '\nCost of access control per request: %s%% (target: at most 15%%)\n' "$OVERHEAD"

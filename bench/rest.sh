#!/usr/bin/env bash
# REST load test: Rectus, the real Directus and the PostgreSQL floor, side by side, in one run.
#
#   cargo build --release -p rectus
#   bench/rest.sh                 # Rectus + floor + Directus (WITH_DIRECTUS=0 to skip Directus)
#
# 1. Creates the PostgreSQL database $DB_NAME (dropped first) with the seed example of
#    ../shared/directus/run-directus.sh: `customers` (1,000 rows) and `orders` (10,000 rows,
#    `orders.customer` a foreign key to `customers`), same column types and the same
#    deterministic values (the same formulas as its `seed`), and starts target/release/rectus
#    on it (Rectus serves the existing tables; the foreign key is the many-to-one relation).
# 2. wrk -t2 -c32 --latency, a 3 s warm-up then 15 s, per shape (the URLs run-directus.sh
#    measures), with the admin static token (Rectus has no Public policy yet). Rectus's VmRSS
#    is sampled every 0.5 s during each run (peak), and the CPU seconds used by rectus and by
#    PostgreSQL during each run are counted (/proc), to show where the time goes.
# 3. The floor: the SQL Directus sends for each shape (the statements of run-directus.sh
#    measure-pg) run by `pgbench -n -M extended -c32 -j2 -T15` (after a 3 s warm-up) on the
#    same database.
# 4. Directus (WITH_DIRECTUS=1, the default): `run-directus.sh all`, configured with
#    CACHE_SCHEMA_FREEZE_ENABLED=true (its best tuning), then `run-directus.sh $DIRECTUS_CMD`
#    (default `measure`: its wrk shapes and its own pgbench floor on its database;
#    `measure-http` skips its floor, which is the same SQL as step 3).
# Prints a markdown table and writes it to bench/results/<UTC time>.md.
#
# Loopback only; every wait is bounded. Variables: RECTUS_BIN, PORT (8077), DB_NAME
# (rectus_bench_rest), PG_ADMIN_URL, WRK_DUR (15s), WRK_WARM (3s), PGB_DUR (15), CONN (32),
# THREADS (2), WITH_DIRECTUS (1), DIRECTUS_CMD (measure), BENCH_NICE (-10, as run-directus.sh),
# FOREIGN_MAX (1.0 CPU-s of other processes tolerated per run before it is repeated, up to 3 tries),
# QUIET_WAIT (30: at most this many seconds waiting for the box to go quiet before each run),
# DIRECTUS_SETUP (all; empty = Directus already set up by `run-directus.sh all`), DIRECTUS_CASES
# (its shapes to measure; default the seven above, i.e. not its ping/health cases).
# FOREIGN_MAX and QUIET_WAIT are passed on to run-directus.sh.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIRECTUS_SH="${DIRECTUS_SH:-$ROOT/../shared/directus/run-directus.sh}"
[ -x "$DIRECTUS_SH" ] || DIRECTUS_SH=/work/shared/directus/run-directus.sh
RECTUS_BIN="${RECTUS_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/rectus}"
PORT="${PORT:-8077}"
DB_NAME="${DB_NAME:-rectus_bench_rest}"
PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
DB_URL="postgres://postgres@127.0.0.1:5432/$DB_NAME"
TOKEN="bench-rest-admin-token"
N_ORDERS=10000
N_CUSTOMERS=1000
THREADS="${THREADS:-2}"
CONN="${CONN:-32}"
WRK_DUR="${WRK_DUR:-15s}"
WRK_WARM="${WRK_WARM:-3s}"
PGB_DUR="${PGB_DUR:-15}"
WITH_DIRECTUS="${WITH_DIRECTUS:-1}"
DIRECTUS_CMD="${DIRECTUS_CMD:-measure}"
BENCH_NICE="${BENCH_NICE:--10}"
FOREIGN_MAX="${FOREIGN_MAX:-1.0}"
QUIET_WAIT="${QUIET_WAIT:-30}"
DIRECTUS_SETUP="${DIRECTUS_SETUP:-all}"
export CASES="${DIRECTUS_CASES:-limit1 limit100 filter_sort m2o_expand by_id aggregate post_create}"
export QUIET_WAIT FOREIGN_MAX
BASE="http://127.0.0.1:$PORT"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RES="$ROOT/bench/results/$STAMP"
OUT="$ROOT/bench/results/$STAMP.md"
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
}
trap cleanup EXIT

# --- prerequisites ------------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
  log "installing wrk (Debian package)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
for t in wrk pgbench psql curl bc; do command -v "$t" >/dev/null || { log "missing $t"; exit 1; }; done
[ -x "$RECTUS_BIN" ] || { log "no $RECTUS_BIN (cargo build --release -p rectus)"; exit 1; }

# --- database -----------------------------------------------------------------------------
log "creating $DB_NAME"
psql_admin -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" -c "CREATE DATABASE $DB_NAME"
# Column types as Directus creates them for the seed's fields (integer/timestamp/string/float);
# values by the formulas of run-directus.sh seed (jq there, SQL here); fixed timestamps.
psql_db <<EOF
CREATE TABLE customers (
  id serial PRIMARY KEY,
  date_created timestamptz,
  name varchar(255),
  email varchar(255),
  city varchar(255)
);
CREATE TABLE orders (
  id serial PRIMARY KEY,
  date_created timestamptz,
  date_updated timestamptz,
  customer_name varchar(255),
  email varchar(255),
  item varchar(255),
  amount real,
  status varchar(255),
  customer integer REFERENCES customers (id) ON DELETE SET NULL
);
INSERT INTO customers (date_created, name, email, city)
SELECT timestamptz '2026-11-23 00:00:00+00', 'Customer ' || i, 'customer' || i || '@example.com',
       (ARRAY['Amsterdam','Berlin','Lisbon','Oslo','Paris','Rome','Vienna','Warsaw'])[i % 8 + 1]
FROM generate_series(0, $N_CUSTOMERS - 1) AS i ORDER BY i;
INSERT INTO orders (date_created, customer_name, email, item, amount, status, customer)
SELECT timestamptz '2026-11-23 00:00:00+00',
       'Customer ' || (i * 7919) % $N_CUSTOMERS, 'customer' || (i * 7919) % $N_CUSTOMERS || '@example.com',
       (ARRAY['Laptop','Headphones','Phone','Tablet'])[(i * 31) % 4 + 1],
       ((i * 2654435761) % 200000) / 100.0,
       (ARRAY['Pending','Paid','Shipped'])[(i * 13) % 3 + 1],
       (i * 7919) % $N_CUSTOMERS + 1
FROM generate_series(0::bigint, $N_ORDERS - 1) AS i ORDER BY i;
ANALYZE customers; ANALYZE orders;
EOF
log "rows: customers=$(psql_db -tAc 'select count(*) from customers') orders=$(psql_db -tAc 'select count(*) from orders')"

restore_seed() {
  psql_db -c "DELETE FROM orders WHERE id > $N_ORDERS" \
    -c "SELECT setval(pg_get_serial_sequence('orders','id'), $N_ORDERS)" -c "VACUUM ANALYZE orders" >/dev/null
}

# --- CPU accounting (as run-directus.sh: foreign = all busy jiffies minus ours) --------------
busy_jiffies() { awk '/^cpu /{print $2+$3+$4}' /proc/stat; }
pg_jiffies() { # every postgres process alive now; the postmaster also counts its reaped children
  local t=0 p f pm
  pm=$(head -1 /var/lib/postgresql/15/main/postmaster.pid 2>/dev/null || echo 0)
  for p in $(pgrep -x postgres); do
    if [ "$p" = "$pm" ]; then f=$(awk '{print $14+$15+$16+$17}' "/proc/$p/stat" 2>/dev/null) || continue
    else f=$(awk '{print $14+$15}' "/proc/$p/stat" 2>/dev/null) || continue; fi
    t=$((t + f))
  done
  echo "$t"
}
rectus_jiffies() { [ -n "$RECTUS_PID" ] && awk '{print $14+$15}' "/proc/$RECTUS_PID/stat" 2>/dev/null || echo 0; }
rss_kb() { awk '/^VmRSS:/{print $2}' "/proc/$RECTUS_PID/status" 2>/dev/null || echo 0; }
prioritize() {
  local n=$1 p t
  for p in $RECTUS_PID $(pgrep -x postgres); do
    for t in /proc/"$p"/task/*; do renice -n "$n" -p "${t##*/}" >/dev/null 2>&1 || true; done
  done
}
wait_quiet() { # until other processes use < 0.1 CPU-s over 3 s, at most $QUIET_WAIT s
  local waited=0 b0 o0 b1 o1 f
  while [ "$waited" -lt "$QUIET_WAIT" ]; do
    b0=$(busy_jiffies); o0=$(( $(pg_jiffies) + $(rectus_jiffies) ))
    sleep 3
    b1=$(busy_jiffies); o1=$(( $(pg_jiffies) + $(rectus_jiffies) ))
    f=$(( (b1 - b0) - (o1 - o0) ))
    [ "$f" -lt 10 ] && return 0
    [ "$waited" = 0 ] && log "other processes busy (${f} jiffies in 3 s: $(ps -eo pcpu,comm --sort=-pcpu | sed -n 2,4p | tr -s ' ' | tr '\n' ';')) - waiting"
    waited=$((waited + 3))
  done
  log "box not quiet after $QUIET_WAIT s, measuring anyway"
}

# --- Rectus ---------------------------------------------------------------------------------
log "starting $RECTUS_BIN on $BASE"
DB_CLIENT=pg DB_CONNECTION_STRING="$DB_URL" HOST=127.0.0.1 PORT="$PORT" \
  ADMIN_EMAIL=admin@example.com ADMIN_PASSWORD=admin-password ADMIN_TOKEN="$TOKEN" \
  SECRET=bench-rest-secret-0123456789abcdef LOG_LEVEL=warn \
  "$RECTUS_BIN" start >"$RES/rectus.log" 2>&1 &
RECTUS_PID=$!
for _ in $(seq 1 600); do
  curl -fsS -o /dev/null "$BASE/server/ping" 2>/dev/null && break
  kill -0 "$RECTUS_PID" 2>/dev/null || { cat "$RES/rectus.log" >&2; exit 1; }
  sleep 0.05
done
curl -fsS -o /dev/null "$BASE/server/ping" || { log "rectus did not answer"; exit 1; }
RSS_IDLE=$(rss_kb)

AUTH=(-H "Authorization: Bearer $TOKEN")
cat >"$RES/post.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
wrk.body = '{"customer_name":"Bench Customer","email":"bench@example.com","item":"Laptop","amount":199.99,"status":"Pending","customer":42}'
EOF

# name|path|lua  (the URLs of run-directus.sh measure-http)
SHAPES=(
  "limit1|/items/orders?limit=1|"
  "limit100|/items/orders?limit=100|"
  "filter_sort|/items/orders?limit=100&filter%5Bstatus%5D%5B_eq%5D=Paid&sort=-amount|"
  "m2o_expand|/items/orders?limit=100&fields=*,customer.*|"
  "by_id|/items/orders/123|"
  "aggregate|/items/orders?aggregate%5Bsum%5D=amount&groupBy%5B%5D=status|"
  "post_create|/items/orders|$RES/post.lua"
)

# sanity: every read answers 200 with data (and m2o expands the customer object)
for s in "${SHAPES[@]}"; do
  IFS='|' read -r name path lua <<<"$s"
  [ -n "$lua" ] && continue
  code=$(curl -gs -o "$RES/sample_$name.json" -w '%{http_code}' "${AUTH[@]}" "$BASE$path")
  [ "$code" = 200 ] || { log "$name: HTTP $code: $(head -c 300 "$RES/sample_$name.json")"; exit 1; }
done
grep -Eq '"customer" ?: ?\{' "$RES/sample_m2o_expand.json" || { log "m2o_expand: customer not expanded"; exit 1; }

prioritize "$BENCH_NICE"
run_wrk_once() { # name url lua -> "rps p50 p99 non2xx errors rss_peak_kb rectus_cpu pg_cpu foreign"
  local name=$1 url=$2 lua=$3 args=(-t"$THREADS" -c"$CONN" --latency "${AUTH[@]}")
  [ -n "$lua" ] && args=(-t"$THREADS" -c"$CONN" --latency -s "$lua")
  nice -n "$BENCH_NICE" wrk "${args[@]}" -d"$WRK_WARM" "$url" >/dev/null 2>&1 || true
  ( peak=0; for _ in $(seq 1 200); do sleep 0.5; r=$(rss_kb); [ "${r:-0}" -gt "$peak" ] && peak=$r; echo "$peak" >"$RES/rss_peak_$name.txt"; done ) &
  local sampler=$! b0 p0 r0 b1 p1 r1
  b0=$(busy_jiffies); p0=$(pg_jiffies); r0=$(rectus_jiffies)
  /usr/bin/time -f '%U %S' -o "$RES/wrk_time_$name.txt" nice -n "$BENCH_NICE" wrk "${args[@]}" -d"$WRK_DUR" "$url" >"$RES/wrk_$name.txt" 2>&1 || true
  b1=$(busy_jiffies); p1=$(pg_jiffies); r1=$(rectus_jiffies)
  kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
  local wrk_j out="$RES/wrk_$name.txt"
  wrk_j=$(awk '{printf "%d", ($1+$2)*100}' "$RES/wrk_time_$name.txt")
  local rps p50 p99 non2xx errs
  rps=$(awk '/^Requests\/sec/{print $2}' "$out")
  p50=$(awk '$1=="50%"{print $2}' "$out")
  p99=$(awk '$1=="99%"{print $2}' "$out")
  non2xx=$(awk -F: '/Non-2xx/{gsub(/ /,"",$2); print $2}' "$out"); non2xx=${non2xx:-0}
  errs=$(awk '/Socket errors/' "$out" | sed 's/^ *Socket errors: //; s/connect 0, read 0, write 0, //'); errs=${errs:-none}
  echo "$rps|$p50|$p99|$non2xx|$errs|$(cat "$RES/rss_peak_$name.txt" 2>/dev/null || echo 0)|$(echo "scale=1; ($r1 - $r0) / 100" | bc)|$(echo "scale=1; ($p1 - $p0) / 100" | bc)|$(echo "scale=1; (($b1 - $b0) - ($p1 - $p0) - ($r1 - $r0) - $wrk_j) / 100" | bc)|$(echo "scale=1; $wrk_j / 100" | bc)"
}
declare -A R
for s in "${SHAPES[@]}"; do
  IFS='|' read -r name path lua <<<"$s"
  for try in 1 2 3; do
    wait_quiet
    line=$(run_wrk_once "$name" "$BASE$path" "$lua")
    foreign=$(echo "$line" | cut -d'|' -f9)
    [ "$name" = post_create ] && restore_seed
    if [ "$(echo "${foreign:-0} <= $FOREIGN_MAX" | bc)" = 1 ] || [ "$try" = 3 ]; then break; fi
    log "rectus $name: ${foreign} s foreign CPU during the run, measuring again"
  done
  R[$name]="$line|$try"
  log "rectus $name: $line (try $try)"
done
RSS_END=$(rss_kb)

# --- the floor: run-directus.sh measure-pg's statements, on this database -------------------
Q="$RES/sql"; mkdir -p "$Q"
cols='"orders"."id", "orders"."date_created", "orders"."date_updated", "orders"."customer_name", "orders"."email", "orders"."item", "orders"."amount", "orders"."status", "orders"."customer"'
printf '\\set lim 1\nselect %s from "orders" order by "orders"."id" asc limit :lim;\n' "$cols" >"$Q/limit1.sql"
printf '\\set lim 100\nselect %s from "orders" order by "orders"."id" asc limit :lim;\n' "$cols" >"$Q/limit100.sql"
printf '\\set lim 100\nselect %s from "orders" where ("orders"."status" = '"'"'Paid'"'"') order by "orders"."amount" desc limit :lim;\n' "$cols" >"$Q/filter_sort.sql"
ids=$(psql_db -tAc 'select string_agg(customer::text, $$, $$) from (select distinct customer from (select customer from orders order by id limit 100) s) t')
printf '\\set lim 100\nselect %s from "orders" order by "orders"."id" asc limit :lim;\nselect "customers"."id", "customers"."date_created", "customers"."name", "customers"."email", "customers"."city" from "customers" where ("customers"."id" in (%s)) order by "customers"."id" asc limit :lim;\n' "$cols" "$ids" >"$Q/m2o_expand.sql"
printf 'select o.*, c.id as c_id, c.date_created as c_date_created, c.name, c.email as c_email, c.city from orders o left join customers c on c.id = o.customer order by o.id asc limit 100;\n' >"$Q/m2o_join.sql"
printf '\\set id 123\n\\set lim 100\nselect %s from "orders" where ("orders"."id" = :id) order by "orders"."id" asc limit :lim;\n' "$cols" >"$Q/by_id.sql"
printf '\\set lim 100\nselect sum("orders"."amount") as "sum->amount", "orders"."status" from "orders" group by "orders"."status" order by "orders"."status" asc limit :lim;\n' >"$Q/aggregate.sql"
cat >"$Q/post_create.sql" <<'EOF'
insert into "orders" ("amount", "customer", "customer_name", "date_created", "email", "item", "status") values (199.99, 42, 'Bench Customer', now(), 'bench@example.com', 'Laptop', 'Pending') returning "id";
EOF

run_pgbench_once() { # name -> "tps|p50|p99|failed|foreign"
  local name=$1 dir="$RES/pgbench_$1"
  mkdir -p "$dir"; cp "$Q/$name.sql" "$dir/query.sql"
  ( cd "$dir" && nice -n "$BENCH_NICE" pgbench -n -M extended -f query.sql -c "$CONN" -j "$THREADS" -T 3 "$DB_URL" >/dev/null 2>&1 || true )
  local b0 o0 b1 o1 pgb_j
  b0=$(busy_jiffies); o0=$(pg_jiffies)
  ( cd "$dir" && /usr/bin/time -f '%U %S' -o time.txt nice -n "$BENCH_NICE" pgbench -n -M extended -f query.sql -c "$CONN" -j "$THREADS" -T "$PGB_DUR" -l "$DB_URL" >out.txt 2>&1 ) || true
  b1=$(busy_jiffies); o1=$(pg_jiffies)
  pgb_j=$(awk '{printf "%d", ($1+$2)*100}' "$dir/time.txt")
  local tps pct failed
  tps=$(awk -F'= ' '/^tps/{split($2,a," "); printf "%.2f", a[1]}' "$dir/out.txt")
  failed=$(awk -F': ' '/number of failed transactions/{split($2,a," "); print a[1]}' "$dir/out.txt")
  pct=$(cat "$dir"/pgbench_log.* | awk '{print $3}' | sort -n | awk '{a[NR]=$1} END{printf "%.2fms %.2fms", a[int(NR*0.50)+1]/1000, a[int(NR*0.99)+1]/1000}')
  rm -f "$dir"/pgbench_log.*
  echo "$tps|${pct% *}|${pct#* }|${failed:-0}|$(echo "scale=1; (($b1 - $b0) - ($o1 - $o0) - $pgb_j) / 100" | bc)"
}
declare -A F
for name in limit1 limit100 filter_sort m2o_expand m2o_join by_id aggregate post_create; do
  for try in 1 2 3; do
    wait_quiet
    line=$(run_pgbench_once "$name")
    [ "$name" = post_create ] && restore_seed
    foreign=$(echo "$line" | cut -d'|' -f5)
    if [ "$(echo "${foreign:-0} <= $FOREIGN_MAX" | bc)" = 1 ] || [ "$try" = 3 ]; then break; fi
    log "floor $name: ${foreign} s foreign CPU during the run, measuring again"
  done
  F[$name]="$line|$try"
  log "floor $name: $line (try $try)"
done
prioritize 0
LOAD_RECTUS="$(cut -d' ' -f1-3 /proc/loadavg)"
cleanup; RECTUS_PID=""

# --- Directus ------------------------------------------------------------------------------
declare -A D
DIRECTUS_NOTE="not run (WITH_DIRECTUS=0)"
if [ "$WITH_DIRECTUS" = 1 ]; then
  DIRECTUS_NOTE="failed: see $RES/directus.log"
  if { [ -z "$DIRECTUS_SETUP" ] || "$DIRECTUS_SH" "$DIRECTUS_SETUP" >"$RES/directus.log" 2>&1; } &&
     CACHE_SCHEMA_FREEZE_ENABLED=true "$DIRECTUS_SH" configure >>"$RES/directus.log" 2>&1 &&
     "$DIRECTUS_SH" restart >>"$RES/directus.log" 2>&1 &&
     RES="$RES/directus" "$DIRECTUS_SH" "$DIRECTUS_CMD" >>"$RES/directus.log" 2>&1; then
    DIRECTUS_NOTE="Directus 12.4.1, CACHE_SCHEMA_FREEZE_ENABLED=true, measured by run-directus.sh $DIRECTUS_CMD in this run (its table: $RES/directus/table.md)"
    while IFS='|' read -r _ target case rps p50 p99 non2xx _ rss _; do
      target=$(echo "$target" | xargs); case=$(echo "$case" | xargs)
      [ "$target" = directus ] && D[$case]="$(echo "$rps" | xargs)|$(echo "$p99" | xargs)|$(echo "$non2xx" | xargs)|$(echo "$rss" | xargs)"
      [ "$target" = "pgbench floor" ] && D["floor_$case"]="$(echo "$rps" | xargs)|$(echo "$p99" | xargs)"
    done <"$RES/directus/table.md"
  fi
  "$DIRECTUS_SH" stop >>"$RES/directus.log" 2>&1 || true
fi

# --- table ---------------------------------------------------------------------------------
fmt() { printf "%'.0f" "${1:-0}" 2>/dev/null || echo "${1:-–}"; }
pct() { [ -n "${2:-}" ] && [ "$(echo "$2 > 0" | bc)" = 1 ] && echo "$(echo "scale=0; 100 * $1 / $2" | bc)%" || echo "–"; }
ratio() { [ -n "${2:-}" ] && [ "$(echo "$2 > 0" | bc 2>/dev/null)" = 1 ] && echo "$(echo "scale=1; $1 / $2" | bc)×" || echo "–"; }
{
  echo "REST load test, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)"
  echo "wrk -t$THREADS -c$CONN -d$WRK_DUR --latency after a $WRK_WARM warm-up; floor: pgbench -n -M extended -c$CONN -j$THREADS -T$PGB_DUR after 3 s; load average after the Rectus + floor runs: $LOAD_RECTUS"
  echo "PostgreSQL $(psql_admin -tAc 'show server_version'); Rectus $(git -C "$ROOT" rev-parse --short HEAD) (pool: DB_POOL__MAX default); Directus: $DIRECTUS_NOTE"
  echo
  echo "| shape | Rectus req/s | Rectus p50 / p99 | floor tps (p99) | Rectus / floor | Directus req/s (p99) | Rectus / Directus | Rectus CPU-s / PostgreSQL CPU-s | Rectus peak RSS |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for s in "${SHAPES[@]}"; do
    IFS='|' read -r name path _ <<<"$s"
    IFS='|' read -r rps p50 p99 non2xx errs rss rcpu pcpu foreign wrkcpu try <<<"${R[$name]}"
    IFS='|' read -r ftps fp50 fp99 ffail fforeign ftry <<<"${F[$name]}"
    IFS='|' read -r drps dp99 dnon2xx drss <<<"${D[$name]:-}"
    extra=""
    [ "$non2xx" != 0 ] && extra=" **$non2xx non-2xx**"
    [ "$errs" != none ] && extra="$extra (socket errors: $errs)"
    floor="$(fmt "$ftps") ($fp99)"
    [ "$name" = m2o_expand ] && floor="$floor two queries; $(fmt "$(echo "${F[m2o_join]}" | cut -d'|' -f1)") ($(echo "${F[m2o_join]}" | cut -d'|' -f3)) one join"
    printf '| %s `%s` | %s%s | %s / %s | %s | %s | %s | %s | %s / %s | %s MiB |\n' "$name" "$path" "$(fmt "$rps")" "$extra" "$p50" "$p99" \
      "$floor" "$(pct "$rps" "$ftps")" "$( [ -n "$drps" ] && echo "$(fmt "$drps") ($dp99)" || echo –)" "$(ratio "$rps" "$drps")" \
      "$rcpu" "$pcpu" "$(( rss / 1024 ))"
  done
  echo
  # An associative array nobody assigned is "unbound" under set -u: count it safely.
  d_count=0
  [ "$WITH_DIRECTUS" = 1 ] && d_count=$(set +u; echo "${#D[@]}")
  d_peak=–
  [ "$d_count" -gt 0 ] && d_peak=$(for k in "${!D[@]}"; do [[ $k == floor_* ]] || echo "${D[$k]}" | cut -d'|' -f4; done | sort -n | tail -1)
  echo "Rectus RSS: $(( RSS_IDLE / 1024 )) MiB idle after start, $(( RSS_END / 1024 )) MiB after the load. Directus peak RSS under load: ${d_peak}."
  echo "Retries (foreign CPU > $FOREIGN_MAX s): $(for s in "${SHAPES[@]}"; do n=${s%%|*}; echo -n "$n=${R[$n]##*|} "; done); floor: $(for n in "${!F[@]}"; do echo -n "$n=${F[$n]##*|} "; done)"
  if [ "$d_count" -gt 0 ]; then
    echo "Directus's own floor (its database, same SQL): $(for n in limit1 limit100 filter_sort m2o_expand_2q by_id aggregate insert_only; do echo -n "$n $(echo "${D[floor_$n]:-–}" | cut -d'|' -f1); "; done)"
  fi
} | tee "$OUT"
log "raw output in $RES; table in $OUT"

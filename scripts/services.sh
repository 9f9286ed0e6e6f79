#!/usr/bin/env bash
# Starts the local services the tests need if they are down — PostgreSQL, MariaDB,
# Redis and the mail catcher (scripts/mailcatcher.py: SMTP on 127.0.0.1:1025, its HTTP
# API on 127.0.0.1:1080; aiosmtpd is installed from PyPI when missing) — waits until each
# answers, and makes sure the `test` database exists on
# PostgreSQL and MariaDB. Safe to run again: a running service is left alone.
#
#   scripts/services.sh            # start/check all three
#
# The start commands are the ones the rust-svc machines use (see the machine notes);
# anything else (a remote server) is reached through RECTUS_TEST_PG_URL /
# RECTUS_TEST_MYSQL_URL and this script is not needed.
set -euo pipefail

log() { printf '[services] %s\n' "$*"; }

# wait_for NAME TRIES CMD...: runs CMD until it succeeds, at most TRIES times, 0.5 s apart.
wait_for() {
  local name=$1 tries=$2
  shift 2
  local i
  for ((i = 1; i <= tries; i++)); do
    if "$@" >/dev/null 2>&1; then
      log "$name is up"
      return 0
    fi
    sleep 0.5
  done
  log "ERROR: $name did not answer after $tries tries: $*"
  return 1
}

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432; }
mysql_up() { mysqladmin --host=127.0.0.1 --port=3306 --user=root ping; }
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]; }

start_postgres() {
  if pg_up; then
    log "PostgreSQL already running"
  else
    log "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start
  fi
  wait_for PostgreSQL 60 pg_up
  if [ "$(psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'")" != 1 ]; then
    log "creating PostgreSQL database test"
    psql -h 127.0.0.1 -U postgres -d postgres -qc 'CREATE DATABASE test'
  fi
}

start_mariadb() {
  if mysql_up >/dev/null 2>&1; then
    log "MariaDB already running"
  else
    log "starting MariaDB"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  fi
  wait_for MariaDB 60 mysql_up
  mysql --host=127.0.0.1 --port=3306 --user=root -e 'CREATE DATABASE IF NOT EXISTS test'
}

start_redis() {
  if redis_up; then
    log "Redis already running"
  else
    log "starting Redis"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
      --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  fi
  wait_for Redis 40 redis_up
}

mailcatcher_up() { curl -fsS http://127.0.0.1:1080/health; }

start_mailcatcher() {
  if mailcatcher_up >/dev/null 2>&1; then
    log "mail catcher already running"
  else
    if ! python3 -c 'import aiosmtpd' >/dev/null 2>&1; then
      log "installing aiosmtpd (PyPI)"
      python3 -m pip install --quiet --disable-pip-version-check aiosmtpd
    fi
    log "starting the mail catcher"
    nohup python3 "$(dirname "$0")/mailcatcher.py" >"${TMPDIR:-/tmp}/rectus-mailcatcher.log" 2>&1 &
  fi
  wait_for "mail catcher" 40 mailcatcher_up
}

start_postgres
start_mariadb
start_redis
start_mailcatcher
log "PostgreSQL, MariaDB, Redis and the mail catcher are ready; database test exists on both"

#!/usr/bin/env bash
# The one setup-and-run command on a fresh machine: builds `rectus` and runs
# `rectus start`. With no configuration it uses SQLite (./data.db in the repository
# root), creates the system tables, creates the first admin (admin@example.com; a
# generated password is printed once when ADMIN_PASSWORD is unset) and prints the URL
# (http://127.0.0.1:8055 unless PORT/HOST say otherwise). Ctrl-C stops it.
#
#   scripts/dev.sh
#   DB_CLIENT=pg DB_CONNECTION_STRING=postgres://postgres@127.0.0.1:5432/test scripts/dev.sh
#   DB_CLIENT=mysql DB_CONNECTION_STRING=mysql://root@127.0.0.1:3306/test scripts/dev.sh
#
# Every variable of the README's configuration table is passed through; a `.env` file in
# the repository root is read too (the environment wins). RELEASE=1 builds optimised.
set -euo pipefail

cd "$(dirname "$0")/.."

profile=debug
build_args=(build -p rectus)
if [ "${RELEASE:-0}" = 1 ]; then
  profile=release
  build_args+=(--release)
fi

echo "==> cargo ${build_args[*]}"
cargo "${build_args[@]}"

export DB_CLIENT="${DB_CLIENT:-sqlite}"
if [ "$DB_CLIENT" = sqlite ] || [ "$DB_CLIENT" = sqlite3 ]; then
  export DB_FILENAME="${DB_FILENAME:-./data.db}"
  where="SQLite file $DB_FILENAME"
else
  where="$DB_CLIENT database"
fi

echo "==> target/$profile/rectus start ($where)"
exec "target/$profile/rectus" start

#!/usr/bin/env bash
# Sets up what `cargo` needs to build Rust guests (WebAssembly components) for the
# `wasm32-wasip2` target, and prints the environment to use them:
#
#   eval "$(scripts/guest-toolchain.sh)"
#   cargo build --target wasm32-wasip2 ...      # then as usual
#
# Two routes (see ../shared/GUEST-TOOLCHAINS.md, measured on these machines):
#  1. `rustup target add wasm32-wasip2` — the normal route where rustup can download.
#  2. Otherwise: the standard library built from source (`-Zbuild-std`, unlocked on stable
#     with RUSTC_BOOTSTRAP=1) against Debian's `rust-src` of exactly the machine's rustc
#     version (trixie-backports), linked against Debian's `wasi-libc`. Both packages are
#     fetched with a private apt configuration into target/guest-toolchain/, so the
#     system's apt sources are not touched. rustup's own `wasm-component-ld` turns the
#     output into a component.
# Everything is cached under target/guest-toolchain/; a second run costs nothing.
# GUEST_TOOLCHAIN_ROUTE=debian forces route 2 (to test it where route 1 works).
set -euo pipefail

cd "$(dirname "$0")/.."
root="$PWD/target/guest-toolchain"
mkdir -p "$root"
say() { printf '%s\n' "$*" >&2; }

rustc_version=$(rustc --version | awk '{print $2}')
sysroot=$(rustc --print sysroot)

if [ "${GUEST_TOOLCHAIN_ROUTE:-}" != debian ]; then
  if [ -d "$sysroot/lib/rustlib/wasm32-wasip2/lib" ]; then
    exit 0 # the target's std is installed: nothing to do
  fi
  if [ ! -e "$root/no-rustup-target" ] && command -v rustup >/dev/null &&
    timeout 120 rustup target add wasm32-wasip2 >/dev/null 2>&1; then
    exit 0
  fi
  touch "$root/no-rustup-target" # don't wait for rustup's network again
fi

library="$root/rust-src-$rustc_version/usr/src/rustc-$rustc_version/library"
wasi_libc="$root/wasi-libc/usr/lib/wasm32-wasip2"

if [ ! -d "$library" ] || [ ! -f "$wasi_libc/libc.a" ]; then
  mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  apt="$root/apt"
  mkdir -p "$apt"/{lists/partial,cache/archives/partial,etc}
  touch "$apt/status"
  printf 'deb %s trixie-backports main\ndeb %s sid main\n' "$mirror" "$mirror" >"$apt/etc/sources.list"
  cat >"$apt/apt.conf" <<EOF
Dir::Etc::SourceList "$apt/etc/sources.list";
Dir::Etc::SourceParts "/nonexistent";
Dir::State::Lists "$apt/lists";
Dir::Cache "$apt/cache";
Dir::State::status "$apt/status";
EOF
  export APT_CONFIG="$apt/apt.conf"
  say "guest toolchain: fetching Debian rust-src $rustc_version and wasi-libc"
  if ! apt-get update -o Acquire::Languages=none >/dev/null 2>&1; then
    say "guest toolchain: apt-get update failed (no route to Debian's mirror?)"
    exit 1
  fi
  # The rust-src build whose upstream version is exactly rustc's.
  src_version=$(apt-cache madison rust-src | awk -F'|' '{gsub(/ /,"",$2); print $2}' |
    grep -E "^${rustc_version//./\\.}\+" | head -n1 || true)
  if [ -z "$src_version" ]; then
    say "guest toolchain: no Debian rust-src matches rustc $rustc_version, and rustup can't add wasm32-wasip2."
    say "  Install the wasm32-wasip2 target another way (rustup target add wasm32-wasip2)."
    exit 1
  fi
  (cd "$apt" && rm -f ./*.deb && apt-get download "rust-src=$src_version" wasi-libc >/dev/null)
  mkdir -p "$root/rust-src-$rustc_version" "$root/wasi-libc"
  dpkg-deb --fsys-tarfile "$apt"/rust-src_*.deb |
    tar -x -C "$root/rust-src-$rustc_version" --wildcards "./usr/src/rustc-$rustc_version/library/*"
  dpkg -x "$apt"/wasi-libc_*.deb "$root/wasi-libc"
  rm -f "$apt"/*.deb
fi

cat <<EOF
export RUSTC_BOOTSTRAP=1
export __CARGO_TESTS_ONLY_SRC_ROOT='$library'
export CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS='-C link-self-contained=no -L native=$wasi_libc'
export RECTUS_GUEST_BUILD_STD='-Zbuild-std=std,panic_abort'
EOF

#!/usr/bin/env bash
# What sqlx's release ping costs: sqlx pings every connection as it goes back to the
# pool (sqlx-core's `Floating::return_to_pool`), a round trip per statement that
# pgbench never pays, and no pool option turns it off. This builds `portal` against a
# copy of the locked sqlx-core in which SQLX_SKIP_RELEASE_PING=1 skips it (a git
# worktree with a `[patch]`, its own target directory under target/), and runs ROUNDS
# rounds of the REST window of bench/windows.sh in turns on two nodes of that build,
# with the ping and without. Reports requests/s, `portal` and PostgreSQL CPU per
# window. A measurement for a decision, not a change to what ships.
# Usage: bench/release-ping.sh [ROUNDS]
source "$(dirname "$0")/lib.sh"
ROUNDS=${1:-4}
build
version=$(awk '/^name = "sqlx-core"$/ { getline; sub(/^version = "/, ""); sub(/"$/, ""); print }' Cargo.lock)
registry=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"sqlx-core-$version" | head -n1)
work=$PWD/target/release-ping
rm -rf "$work/sqlx-core" && mkdir -p "$work" && cp -r "$registry" "$work/sqlx-core"
python3 - "$work/sqlx-core/src/pool/connection.rs" <<'PY'
import sys
path = sys.argv[1]
source = open(path).read()
ping = "        if let Err(error) = self.raw.ping().await {"
assert source.count(ping) == 1, "sqlx-core's release ping moved: update bench/release-ping.sh"
skip = ('        if std::env::var_os("SQLX_SKIP_RELEASE_PING").is_some() {\n'
        '            self.release();\n            return true;\n        }\n')
open(path, "w").write(source.replace(ping, skip + ping))
PY
tree=$(mktemp -d)
git worktree add --detach "$tree" HEAD >&2
printf '\n[patch.crates-io]\nsqlx-core = { path = "%s" }\n' "$work/sqlx-core" >>"$tree/Cargo.toml"
CARGO_TARGET_DIR="$work/target" cargo build --release --manifest-path "$tree/Cargo.toml" --bin portal >&2
git worktree remove --force "$tree"
BIN=$work/target/release/portal
window_reader 1000000
start_node "$URL" 18410 PORTAL_WORKERS=2
start_node "$URL" 18411 PORTAL_WORKERS=2 SQLX_SKIP_RELEASE_PING=1
TOKEN=$(login http://127.0.0.1:18410 "$READER")
rounds=()
for round in $(seq 1 "$ROUNDS"); do
  read -r ping ping_cpu ping_pg <<<"$(window_load "${PIDS[0]}" 18410)"
  read -r skip skip_cpu skip_pg <<<"$(window_load "${PIDS[1]}" 18411)"
  rounds+=("$ping $skip $ping_cpu $skip_cpu $ping_pg $skip_pg $(ratio "$skip" "$ping") $(ratio "$skip_cpu" "$ping_cpu") $(ratio "$skip_pg" "$ping_pg")")
done
median() { median_of "$1" "${rounds[@]}"; }
cat <<REPORT
release-ping benchmark, $(date -u +%FT%TZ), $(nproc) cores, REST newest window of 50 (wrk, 16 connections), sqlx-core $version
$(printf '%s\n' "${rounds[@]}" | awk '{printf "  round %d: with the ping %.0f req/s, CPU per window portal %s ms, PostgreSQL %s ms; without %.0f req/s, %s ms, %s ms\n", NR, $1, $3, $5, $2, $4, $6}')
without / with, req/s (median)             : $(median 7)
without / with, portal CPU per window      : $(median 8)
without / with, PostgreSQL CPU per window  : $(median 9)
REPORT

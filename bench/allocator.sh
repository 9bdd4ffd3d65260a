#!/usr/bin/env bash
# The `portal` binary's allocator: mimalloc (the default build) against the system's
# (glibc's malloc; `--no-default-features`), in one run. ROUNDS rounds of the REST
# chat window of bench/windows.sh, in turns on a node of each build and on a mimalloc
# node as the container runs it (MIMALLOC_ARENA_EAGER_COMMIT=0, set in the
# Dockerfile), then resident memory per idle WebSocket for each of the three.
# Usage: bench/allocator.sh [ROUNDS]
source "$(dirname "$0")/lib.sh"
ROUNDS=${1:-4}
SYSTEM=target/bench-alloc/portal-system-allocator
cargo build --release --locked --no-default-features -p api --bin portal >&2
mkdir -p "$(dirname "$SYSTEM")"
cp target/release/portal "$SYSTEM"
build
window_reader 1000000
MIMALLOC_NODE=$BIN
BIN=$SYSTEM start_node "$URL" 18406 PORTAL_WORKERS=2
BIN=$MIMALLOC_NODE start_node "$URL" 18407 PORTAL_WORKERS=2
BIN=$MIMALLOC_NODE start_node "$URL" 18409 PORTAL_WORKERS=2 MIMALLOC_ARENA_EAGER_COMMIT=0
TOKEN=$(login http://127.0.0.1:18406 "$READER")
rounds=()
for round in $(seq 1 "$ROUNDS"); do
  read -r system system_cpu _ <<<"$(window_load "${PIDS[0]}" 18406)"
  read -r mimalloc mimalloc_cpu _ <<<"$(window_load "${PIDS[1]}" 18407)"
  read -r lazy lazy_cpu _ <<<"$(window_load "${PIDS[2]}" 18409)"
  rounds+=("$system $mimalloc $system_cpu $mimalloc_cpu $(ratio "$mimalloc" "$system") $(ratio "$mimalloc_cpu" "$system_cpu") $lazy $lazy_cpu $(ratio "$lazy" "$system") $(ratio "$lazy_cpu" "$system_cpu")")
done
stop_nodes

REALTIME=$(create_db portal_bench_realtime)
"$BIN" migrate --database-url "$REALTIME" >/dev/null
# memory BINARY [ENV...]: kib per idle WebSocket session of a node of BINARY.
memory() {
  local binary=$1 answer; shift
  BIN=$binary start_node "$REALTIME" 18408 PORTAL_WORKERS=2 PORTAL_DB_MAX_CONNECTIONS=32 "$@"
  answer=$("$BENCH" ws-memory --base http://127.0.0.1:18408 --database-url "$REALTIME" --secret "$SECRET" --contacts 2000 --pid "${PIDS[0]}")
  stop_nodes
  printf '%.1f' "$(json_field "$answer" kib_per_session)"
}
system_kib=$(memory "$SYSTEM")
mimalloc_kib=$(memory "$MIMALLOC_NODE")
container_kib=$(memory "$MIMALLOC_NODE" MIMALLOC_ARENA_EAGER_COMMIT=0)
median() { median_of "$1" "${rounds[@]}"; }
cat <<REPORT
allocator benchmark, $(date -u +%FT%TZ), $(nproc) cores, REST newest window of 50 (wrk, 16 connections), $ROUNDS rounds
$(printf '%s\n' "${rounds[@]}" | awk '{printf "  round %d: system %.0f req/s, %s ms CPU per window; mimalloc %.0f req/s, %s ms; as the container runs it %.0f req/s, %s ms\n", NR, $1, $3, $2, $4, $7, $8}')
mimalloc / system req/s (median)        : $(median 5)   (container's setting: $(median 9))
mimalloc / system portal CPU per window : $(median 6)   (container's setting: $(median 10))
memory per idle WebSocket, KiB          : system $system_kib, mimalloc $mimalloc_kib, mimalloc as the container runs it $container_kib   (goal <= 20)
REPORT

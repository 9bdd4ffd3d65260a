#!/usr/bin/env bash
# The `portal` binary's allocator: mimalloc (the default build) against the system's
# (glibc's malloc; `--no-default-features`), in one run. ROUNDS rounds of the REST
# chat window of bench/windows.sh, alternating between a node of each build, then
# resident memory per idle WebSocket for each, and for mimalloc as the container runs
# it (MIMALLOC_ARENA_EAGER_COMMIT=0, set in the Dockerfile).
# Usage: bench/allocator.sh [ROUNDS]
source "$(dirname "$0")/lib.sh"
ROUNDS=${1:-4}
SYSTEM=target/bench-alloc/portal-system-allocator
cargo build --release --locked --no-default-features -p api --bin portal >&2
mkdir -p "$(dirname "$SYSTEM")"
cp target/release/portal "$SYSTEM"
build
URL=$(chat_db 1000000)
big=$(psql "$URL" -qtAc "SELECT id FROM conversations WHERE last_seq = 1000000 LIMIT 1")
client=$(member "$URL" "$big" client)
MIMALLOC_NODE=$BIN
BIN=$SYSTEM start_node "$URL" 18406 PORTAL_WORKERS=2
BIN=$MIMALLOC_NODE start_node "$URL" 18407 PORTAL_WORKERS=2
TOKEN=$(login http://127.0.0.1:18406 "$client")
window() { echo "http://127.0.0.1:$1/v1/conversations/$big/messages?limit=50"; }
rounds=()
for round in $(seq 1 "$ROUNDS"); do
  read -r system system_cpu _ <<<"$(wrk_cpu "${PIDS[0]}" postgres_ticks -H "Authorization: Bearer $TOKEN" "$(window 18406)")"
  read -r mimalloc mimalloc_cpu _ <<<"$(wrk_cpu "${PIDS[1]}" postgres_ticks -H "Authorization: Bearer $TOKEN" "$(window 18407)")"
  rounds+=("$system $mimalloc $system_cpu $mimalloc_cpu $(ratio "$mimalloc" "$system") $(ratio "$mimalloc_cpu" "$system_cpu")")
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
$(printf '%s\n' "${rounds[@]}" | awk '{printf "  round %d: system %.0f req/s, %s ms CPU per window; mimalloc %.0f req/s, %s ms\n", NR, $1, $3, $2, $4}')
mimalloc / system req/s (median)        : $(median 5)
mimalloc / system portal CPU per window : $(median 6)
memory per idle WebSocket, KiB          : system $system_kib, mimalloc $mimalloc_kib, mimalloc as the container runs it $container_kib   (goal <= 20)
REPORT

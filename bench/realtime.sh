#!/usr/bin/env bash
# Real time on PostgreSQL with NATS: one presence change reaching 5,000 connected
# contacts (time until the last receives it), resident memory per idle WebSocket
# session (goal <= 20 KiB; also with the container's allocator setting), message-event
# latency on one node and across two.
# Usage: bench/realtime.sh [CONTACTS]
source "$(dirname "$0")/lib.sh"
C=${1:-5000}
ulimit -n 65536 2>/dev/null || true
build
URL=$(create_db portal_bench_realtime)
"$BIN" migrate --database-url "$URL" >/dev/null
NATS=${NATS:-nats://127.0.0.1:4222}
SUBJECT=portal.bench.$$
start_node "$URL" 18404 PORTAL_WORKERS=2 PORTAL_BUS_URL="$NATS" PORTAL_BUS_SUBJECT="$SUBJECT" PORTAL_DB_MAX_CONNECTIONS=32
A=http://127.0.0.1:18404
fanout=$("$BENCH" fanout --base "$A" --database-url "$URL" --secret "$SECRET" --contacts "$C")
stop_nodes
start_node "$URL" 18404 PORTAL_WORKERS=2 PORTAL_BUS_URL="$NATS" PORTAL_BUS_SUBJECT="$SUBJECT" PORTAL_DB_MAX_CONNECTIONS=32
memory=$("$BENCH" ws-memory --base "$A" --database-url "$URL" --secret "$SECRET" --contacts 2000 --pid "${PIDS[0]}")
stop_nodes
# Again as the container runs it (the Dockerfile's allocator setting).
start_node "$URL" 18404 PORTAL_WORKERS=2 PORTAL_BUS_URL="$NATS" PORTAL_BUS_SUBJECT="$SUBJECT" PORTAL_DB_MAX_CONNECTIONS=32 MIMALLOC_ARENA_EAGER_COMMIT=0
container_memory=$("$BENCH" ws-memory --base "$A" --database-url "$URL" --secret "$SECRET" --contacts 2000 --pid "${PIDS[0]}")
start_node "$URL" 18405 PORTAL_WORKERS=2 PORTAL_BUS_URL="$NATS" PORTAL_BUS_SUBJECT="$SUBJECT"
B=http://127.0.0.1:18405
one=$("$BENCH" event-latency --base "$A" --listen "$A" --database-url "$URL" --secret "$SECRET" --messages 300)
two=$("$BENCH" event-latency --base "$B" --listen "$A" --database-url "$URL" --secret "$SECRET" --messages 300)
cat <<REPORT
realtime benchmark, $(date -u +%FT%TZ), $(nproc) cores, PostgreSQL + NATS, release build
presence fan-out to $C contacts : $fanout
memory per idle WebSocket       : $memory   (goal <= 20 KiB)
  as the container runs it       : $container_memory
event latency, one node         : $one
event latency, across two nodes : $two
REPORT

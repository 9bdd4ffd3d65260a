#!/usr/bin/env bash
# Chat on PostgreSQL: a 1,000,000-message conversation and a 100-message one. Latency
# of a `before` window deep in history vs the newest window (goal: ratio <= 1.3), and
# sends/s with 16 concurrent senders into one conversation and into 16.
# Usage: bench/chat.sh [MESSAGES]
source "$(dirname "$0")/lib.sh"
M=${1:-1000000}
build
URL=$(chat_db "$M")
big=$(psql "$URL" -qtAc "SELECT id FROM conversations WHERE last_seq = $M LIMIT 1")
small=$(psql "$URL" -qtAc "SELECT id FROM conversations WHERE last_seq = 100 LIMIT 1")
start_node "$URL" 18402 PORTAL_WORKERS=2
BASE=http://127.0.0.1:18402
TOKEN=$(login "$BASE" "$(member "$URL" "$big" client)")
SMALL_TOKEN=$(login "$BASE" "$(member "$URL" "$small" client)")

three=$("$BENCH" latency --url "$BASE/v1/conversations/$big/messages?limit=50" \
  --url "$BASE/v1/conversations/$big/messages?limit=50&before=1000" \
  --url "$BASE/v1/conversations/$big/messages?around=500000" --token "$TOKEN" --requests 1000)
newest=$(sed -n 1p <<<"$three"); deep=$(sed -n 2p <<<"$three"); around=$(sed -n 3p <<<"$three")
short=$("$BENCH" latency --url "$BASE/v1/conversations/$small/messages?limit=50" --token "$SMALL_TOKEN" --requests 300)
one=$("$BENCH" sends --base "$BASE" --database-url "$URL" --secret "$SECRET" --senders 16 --conversations 1 --seconds 10)
many=$("$BENCH" sends --base "$BASE" --database-url "$URL" --secret "$SECRET" --senders 16 --conversations 16 --seconds 10)
plan=$(psql "$URL" -qtAc "EXPLAIN SELECT * FROM messages WHERE conversation_id = '$big' AND seq >= 950 AND seq <= 999 ORDER BY seq LIMIT 50" | head -n 3)

n=$(json_field "$newest" p50_ms); d=$(json_field "$deep" p50_ms); s=$(json_field "$short" p50_ms)
cat <<REPORT
chat benchmark, $(date -u +%FT%TZ), $(nproc) cores, PostgreSQL
newest window (1M conversation)   : $newest
before=1000 (1M conversation)     : $deep
around=500000 (1M conversation)   : $around
newest window (100 messages)      : $short
deep/newest p50                   : $(ratio "$d" "$n")   (goal <= 1.3)
1M/100-message newest p50         : $(ratio "$n" "$s")
16 senders, one conversation      : $one
16 senders, 16 conversations      : $many
plan of a window (PostgreSQL):
$plan
REPORT

#!/usr/bin/env bash
# GraphQL cost under attack: the probe's batch (10 operations, each with 30 aliased
# `therapists(first: 100) { totalCount nodes { ... } }`) sent by 8 clients at 2
# requests/s each, and the p99 of GET /v1/me meanwhile, as a ratio to its idle p99
# (goal: < 3). Also shows what one attack request costs the server now (refused
# before it runs) and the largest ordinary page it still serves.
# Usage: bench/graphql_cost.sh [THERAPISTS=10000]
source "$(dirname "$0")/lib.sh"
N=${1:-10000}
build
URL=$(create_db portal_bench_graphql_cost)
"$BIN" migrate --database-url "$URL" >/dev/null
have=$(psql "$URL" -qtAc "SELECT count(*) FROM therapists")
if [ "$have" -lt "$N" ]; then
  "$BIN" seed --database-url "$URL" --therapists $((N - have)) >/dev/null
fi
start_node "$URL" 18405 PORTAL_WORKERS=2
BASE=http://127.0.0.1:18405
TOKEN=$(token "$BASE" bench-graphql-reader@example.org)

page='therapists(first: 100) { totalCount nodes { id displayName city country bio specialties languages } }'
aliases=""
for i in $(seq 0 29); do aliases="$aliases p$i: $page"; done
operation="{\"query\":\"{$aliases }\"}"
batch="[$operation"
for _ in $(seq 2 10); do batch="$batch,$operation"; done
echo "$batch]" >/tmp/bench-graphql-batch.json

one_attack=$(curl -s -o /tmp/bench-graphql-answer.json -w '%{time_total} %{size_download} %{http_code}' \
  "$BASE/graphql" -H 'content-type: application/json' -H "Authorization: Bearer $TOKEN" \
  --data-binary @/tmp/bench-graphql-batch.json)
ordinary=$(curl -s -o /dev/null -w '%{time_total} %{size_download} %{http_code}' \
  "$BASE/graphql" -H 'content-type: application/json' -H "Authorization: Bearer $TOKEN" \
  -d "{\"query\":\"{ $page }\"}")

idle=$("$BENCH" latency --url "$BASE/v1/me" --token "$TOKEN" --requests 2000)
tokens=""
for c in $(seq 1 8); do tokens="$tokens${tokens:+,}$(token "$BASE" "bench-graphql-attacker-$c@example.org")"; done
"$BENCH" attack --url "$BASE/graphql" --body /tmp/bench-graphql-batch.json --tokens "$tokens" \
  --clients 8 --per-second 2 --seconds 40 >/tmp/bench-graphql-attack.json &
attack_pid=$!
sleep 3
busy=$("$BENCH" latency --url "$BASE/v1/me" --token "$TOKEN" --requests 2000)
wait $attack_pid
i=$(json_field "$idle" p99_ms); b=$(json_field "$busy" p99_ms)
cat <<REPORT
graphql cost benchmark, $(date -u +%FT%TZ), $(nproc) cores, PostgreSQL, $N therapists, release build
one attack request (23.8 KB batch)  : seconds, bytes, status = $one_attack   ($(sed 's/.*"code":"\([a-z_]*\)".*/\1/' /tmp/bench-graphql-answer.json))
one ordinary 100-row page with count: seconds, bytes, status = $ordinary
GET /v1/me idle, one at a time      : $idle
GET /v1/me under 8 attackers x 2/s  : $busy
the attack's own answers            : $(cat /tmp/bench-graphql-attack.json)
attack / idle p99                   : $(ratio "$b" "$i")   (goal < 3)
REPORT

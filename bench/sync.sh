#!/usr/bin/env bash
# Catch-up sync on PostgreSQL.
# (1) GET /v1/sync for a client with 20 changes pending whose conversation holds 100
#     messages vs one whose conversation holds MESSAGES (1,000,000), in turns, over
#     10,001 conversations (goal: ratio <= 1.2).
# (2) What the feed adds to a send: sends/s with 16 senders into 16 conversations,
#     against a build of the commit before the feed (BEFORE), ROUNDS rounds each,
#     alternated (goal: ratio >= 0.8).
# Usage: bench/sync.sh [MESSAGES] [ROUNDS]
source "$(dirname "$0")/lib.sh"
M=${1:-1000000}
ROUNDS=${2:-3}
FEED=migrations/src/m20261204_000005_create_sync_feed.rs
BEFORE=${BEFORE:-$(git log --diff-filter=A --format=%H -- "$FEED" | tail -n1)~1}
BEFORE_REV=$(git rev-parse "$BEFORE")
BEFORE_BIN=$(build_at "$BEFORE_REV")
build

URL=$(create_db portal_bench_sync)
"$BIN" migrate --database-url "$URL" >/dev/null
big=$(psql "$URL" -qtAc "SELECT id FROM conversations WHERE last_seq >= $M ORDER BY last_seq LIMIT 1")
if [ -z "$big" ]; then
  echo "seeding one conversation of $M messages, 9,999 of 10 and one of 100..." >&2
  "$BIN" seed --database-url "$URL" --therapists 0 --conversations 1 --messages-per-conversation "$M" >&2
  "$BIN" seed --database-url "$URL" --therapists 0 --conversations 9999 --messages-per-conversation 10 >&2
  "$BIN" seed --database-url "$URL" --therapists 0 --conversations 1 --messages-per-conversation 100 >&2
  psql "$URL" -qc "VACUUM ANALYZE" >&2
  big=$(psql "$URL" -qtAc "SELECT id FROM conversations WHERE last_seq >= $M ORDER BY last_seq LIMIT 1")
fi
small=$(psql "$URL" -qtAc "SELECT id FROM conversations WHERE last_seq BETWEEN 100 AND 1000 ORDER BY last_seq LIMIT 1")
member() { # CONVERSATION ROLE: the email of its member of that role
  psql "$URL" -qtAc "SELECT a.email FROM accounts a JOIN conversation_members m ON m.account_id = a.id WHERE m.conversation_id = '$1' AND a.role = '$2' LIMIT 1"
}

start_node "$URL" 18406 PORTAL_WORKERS=2 PORTAL_PUSH_DELAY_MS=3600000
BASE=http://127.0.0.1:18406
login() {
  curl -s "$BASE/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"email\":\"$1\",\"password\":\"portal-demo-password\"}" | sed 's/.*"access_token":"\([^"]*\)".*/\1/'
}
next_of() { sed 's/.*"next":"\([^"]*\)".*/\1/'; }
# pending CONVERSATION: a client token and a sync token with 20 changes after it.
pending() {
  local client therapist since
  client=$(login "$(member "$1" client)"); therapist=$(login "$(member "$1" therapist)")
  since=$(curl -s "$BASE/v1/sync" -H "authorization: Bearer $client" | next_of)
  for n in $(seq 1 20); do
    curl -s -o /dev/null "$BASE/v1/conversations/$1/messages" -H "authorization: Bearer $therapist" \
      -H 'content-type: application/json' -d "{\"body\":\"pending $n\",\"client_msg_id\":\"bench-$RANDOM-$n\"}"
  done
  echo "$client $since"
}
read -r big_token big_since <<<"$(pending "$big")"
read -r small_token small_since <<<"$(pending "$small")"
both=$("$BENCH" latency --url "$BASE/v1/sync?since=$small_since" --token "$small_token" \
  --url "$BASE/v1/sync?since=$big_since" --token "$big_token" --requests 1000)
short=$(sed -n 1p <<<"$both"); long=$(sed -n 2p <<<"$both")
changes=$(curl -s "$BASE/v1/sync?since=$big_since" -H "authorization: Bearer $big_token" | grep -o '"position"' | wc -l)
stop_nodes

# Sends/s before and after the feed, each on a database of its own schema.
BEFORE_URL=$(create_db "portal_bench_sync_sends_${BEFORE_REV:0:8}")
AFTER_URL=$(create_db portal_bench_sync_sends_after)
"$BEFORE_BIN" migrate --database-url "$BEFORE_URL" >/dev/null
# portal-bench seeds accounts with today's columns; the older schema lacks the two
# that erasure added later, which nothing in the older build reads.
psql "$BEFORE_URL" -qc "ALTER TABLE accounts ADD COLUMN IF NOT EXISTS legal_hold boolean NOT NULL DEFAULT false, ADD COLUMN IF NOT EXISTS erased_at timestamptz" >&2
"$BIN" migrate --database-url "$AFTER_URL" >/dev/null
sends() { # BINARY DATABASE
  BIN=$1 start_node "$2" 18407 PORTAL_WORKERS=2 PORTAL_PUSH_DELAY_MS=3600000
  "$BENCH" sends --base http://127.0.0.1:18407 --database-url "$2" --secret "$SECRET" \
    --senders 16 --conversations 16 --seconds 10 | sed 's/.*"sends_per_second":\([0-9.]*\).*/\1/'
  stop_nodes
}
before=(); after=()
for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then
    before+=("$(sends "$BEFORE_BIN" "$BEFORE_URL")"); after+=("$(sends "$BIN" "$AFTER_URL")")
  else
    after+=("$(sends "$BIN" "$AFTER_URL")"); before+=("$(sends "$BEFORE_BIN" "$BEFORE_URL")")
  fi
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
b=$(median "${before[@]}"); a=$(median "${after[@]}")

cat <<REPORT
sync benchmark, $(date -u +%FT%TZ), $(nproc) cores, PostgreSQL, release build
changes pending per account           : $changes
sync, 100-message conversation        : $short
sync, $M-message conversation : $long
long/short history p50                : $(ratio "$(json_field "$long" p50_ms)" "$(json_field "$short" p50_ms)")   (goal <= 1.2)
sends/s before the feed ($BEFORE_REV) : ${before[*]} (median $b)
sends/s with the feed                 : ${after[*]} (median $a)
with/before                           : $(ratio "$a" "$b")   (goal >= 0.8)
REPORT

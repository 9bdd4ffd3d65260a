#!/usr/bin/env bash
# Chat windows on PostgreSQL: the newest window of 50 of a 1,000,000-message
# conversation, read by its client member under load. ROUNDS rounds (default 5), each:
# the GraphQL window with the fields of a REST item (wrk), the REST window (wrk), then
# pgbench of the statement the API sends for one window and of the cheapest single
# statement that returns the same window to the same reader (membership checked), and
# that statement again paced at REST's rate. Reports requests/s, `portal` CPU per
# window, PostgreSQL CPU per window for each, and the medians of the ratios (goals as
# for the directory: GraphQL/REST req/s >= 0.8, portal CPU GraphQL/REST <= 1.3, REST
# >= 0.5 of the cheapest statement's rate, PostgreSQL CPU REST/cheapest <= 1.2).
# Usage: bench/windows.sh [MESSAGES] [ROUNDS]
source "$(dirname "$0")/lib.sh"
M=${1:-1000000}
ROUNDS=${2:-5}
build
URL=$(chat_db "$M")
big=$(psql "$URL" -qtAc "SELECT id FROM conversations WHERE last_seq = $M LIMIT 1")
client=$(member "$URL" "$big" client)
reader=$(psql "$URL" -qtAc "SELECT id FROM accounts WHERE email = '$client'")
# The GraphQL rounds would spend any points budget in a second: it is off here.
start_node "$URL" 18403 PORTAL_WORKERS=2 PORTAL_GRAPHQL_POINTS_PER_MINUTE=0
BASE=http://127.0.0.1:18403
TOKEN=$(login "$BASE" "$client")
REST_WINDOW="$BASE/v1/conversations/$big/messages?limit=50"

GRAPHQL_WINDOW=/tmp/bench-graphql-window.lua
cat >"$GRAPHQL_WINDOW" <<LUA
-- wrk: the newest window of 50 through GraphQL, with the fields of a REST item.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"query":"query Window(\$id: UUID!) { conversation(id: \$id) { messages(last: 50) { pageInfo { hasPreviousPage hasNextPage startCursor } nodes { seq senderId clientMsgId body createdAt editedAt deleted } } } }","variables":{"id":"$big"}}'
LUA
# Both doors checked once to answer 50 messages (wrk counts a GraphQL error as a
# success).
graphql_check=$(curl -sf "$BASE/graphql" -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
  -d "$(sed -n "s/^wrk.body = '\(.*\)'$/\1/p" "$GRAPHQL_WINDOW")")
rest_check=$(curl -sf -H "Authorization: Bearer $TOKEN" "$REST_WINDOW")
for answer in "$graphql_check" "$rest_check"; do
  if [ "$(grep -o '"seq"' <<<"$answer" | wc -l)" != 50 ] || grep -q '"errors"' <<<"$answer"; then
    printf 'a window did not answer 50 messages:\n%s\n' "$answer" >&2
    exit 1
  fi
done

# The statement the API sends for one window (the conversation, the caller's
# membership and the messages, the range written against `last_seq`), with the same
# values bound as parameters (pgbench's variables, which -M prepared binds). It is
# compared with what PostgreSQL last saw from the API (as far as pg_stat_activity
# keeps a query's text), so the two cannot drift apart.
window_sql='SELECT "conversations"."id" AS "A_id", "conversations"."created_by" AS "A_created_by", "conversations"."last_seq" AS "A_last_seq", "conversations"."last_activity_at" AS "A_last_activity_at", "conversations"."created_at" AS "A_created_at", "conversation_members"."conversation_id" AS "B_conversation_id", "conversation_members"."account_id" AS "B_account_id", "conversation_members"."last_read_seq" AS "B_last_read_seq", "conversation_members"."last_activity_at" AS "B_last_activity_at", "conversation_members"."joined_at" AS "B_joined_at", "conversation_members"."muted" AS "B_muted", "messages"."conversation_id" AS "C_conversation_id", "messages"."seq" AS "C_seq", "messages"."sender_id" AS "C_sender_id", "messages"."client_msg_id" AS "C_client_msg_id", "messages"."body" AS "C_body", "messages"."created_at" AS "C_created_at", "messages"."edited_at" AS "C_edited_at", "messages"."deleted_at" AS "C_deleted_at" FROM "conversations" LEFT JOIN "conversation_members" ON "conversation_members"."conversation_id" = "conversations"."id" AND "conversation_members"."account_id" = $1 LEFT JOIN "messages" ON "messages"."conversation_id" = "conversations"."id" AND "conversation_members"."account_id" IS NOT NULL AND "messages"."seq" >= GREATEST("conversations"."last_seq" + $2, $3) AND "messages"."seq" <= "conversations"."last_seq" WHERE "conversations"."id" = $4 ORDER BY "messages"."seq" ASC'
sent=$(psql "$URL" -qtAc "SELECT query FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '%AS \"C_conversation_id\"%' LIMIT 1")
if [ -z "$sent" ] || [ "$sent" != "${window_sql:0:${#sent}}" ]; then
  printf 'the window SQL of this script is not what the API sends:\n%s\n' "$sent" >&2
  exit 1
fi
sed -e 's/\$1/:reader/' -e 's/\$2/:back/' -e 's/\$3/:one/' -e 's/\$4/:conv/' <<<"$window_sql;" >/tmp/bench-window-api.sql
# The cheapest statement for the same answer: the newest 51 rows (one more tells
# whether older ones exist) of a conversation the reader is a member of, the ids bound
# as the API binds them.
cat >/tmp/bench-window-cheapest.sql <<'SQL'
SELECT seq, sender_id, client_msg_id, body, created_at, edited_at, deleted_at FROM messages WHERE conversation_id = :conv AND EXISTS (SELECT 1 FROM conversation_members WHERE conversation_id = :conv AND account_id = :reader) ORDER BY seq DESC LIMIT 51;
SQL
PGBENCH_ARGS=(-D conv="$big" -D reader="$reader" -D back=-49 -D one=1)
for file in /tmp/bench-window-api.sql /tmp/bench-window-cheapest.sql; do
  pgbench -n -M prepared -t 1 "${PGBENCH_ARGS[@]}" -f "$file" "$URL" >/dev/null
done

rounds=()
for round in $(seq 1 "$ROUNDS"); do
  measured=$(wrk_cpu "${PIDS[0]}" postgres_ticks -s "$GRAPHQL_WINDOW" -H "Authorization: Bearer $TOKEN" "$BASE/graphql")
  read -r graphql graphql_cpu _ <<<"$measured"
  measured=$(wrk_cpu "${PIDS[0]}" postgres_ticks -H "Authorization: Bearer $TOKEN" "$REST_WINDOW")
  read -r rest rest_cpu rest_pg_cpu <<<"$measured"
  read -r api api_cpu <<<"$(pgbench_rate "$URL" /tmp/bench-window-api.sql)"
  read -r cheapest cheapest_cpu <<<"$(pgbench_rate "$URL" /tmp/bench-window-cheapest.sql)"
  read -r _ paced_cpu <<<"$(pgbench_rate "$URL" /tmp/bench-window-cheapest.sql "${rest%.*}")"
  rounds+=("$rest $graphql $rest_cpu $graphql_cpu $rest_pg_cpu $api $api_cpu $cheapest $cheapest_cpu $paced_cpu $(ratio "$graphql" "$rest") $(ratio "$graphql_cpu" "$rest_cpu") $(ratio "$rest" "$cheapest") $(ratio "$rest_pg_cpu" "$cheapest_cpu") $(ratio "$rest_pg_cpu" "$paced_cpu")")
done
median() { median_of "$1" "${rounds[@]}"; }
cat <<REPORT
chat window benchmark, $(date -u +%FT%TZ), $(nproc) cores, newest window of 50 of a $M-message conversation on PostgreSQL
REST (wrk, 16 connections) and GraphQL with the same fields; pgbench (16 clients, prepared) of the API's
statement per window (admission and range together) and of the cheapest single statement:
$(printf '%s\n' "${rounds[@]}" | awk '{printf "  round %d: REST %.0f req/s, GraphQL %.0f; portal CPU per window REST %s ms, GraphQL %s\n           PostgreSQL: API statements %.0f windows/s, cheapest %.0f; CPU per window %s ms under REST, %s API statements, %s cheapest, %s cheapest at the REST rate\n", NR, $1, $2, $3, $4, $6, $8, $5, $7, $9, $10}')
medians of $ROUNDS rounds:
GraphQL / REST req/s             : $(median 11)   (goal >= 0.8)
portal CPU GraphQL / REST        : $(median 12)   (goal <= 1.3)
REST / pgbench cheapest          : $(median 13)   (goal >= 0.5)
PostgreSQL CPU REST / cheapest   : $(median 14)   (goal <= 1.2)
  vs cheapest at the REST rate    : $(median 15)
REPORT

#!/usr/bin/env bash
# Push on PostgreSQL. Send latency p50/p99 over REST to recipients with a Web Push
# device (delivered to a sink on loopback while the sends run) vs recipients without
# one, in turns (goal: ratio <= 1.10). Then a backlog of N due pushes drained into the
# sink by one node, and again by two: pushes/s and seconds to drain.
# Usage: bench/push.sh [N]
source "$(dirname "$0")/lib.sh"
N=${1:-100000}
SINK_PORT=18490
build
URL=$(create_db portal_bench_push)
"$BIN" migrate --database-url "$URL" >/dev/null
PUSH_ENV=(PORTAL_PUSH_ALLOW_LOOPBACK=true PORTAL_PUSH_DELAY_MS=0 PORTAL_WORKERS=2)

start_node "$URL" 18403 "${PUSH_ENV[@]}"
latency=$("$BENCH" push-latency --base http://127.0.0.1:18403 --database-url "$URL" --secret "$SECRET" --messages 1000)
stop_nodes

# N recipients, each in a conversation with one message it has not read and a device
# at the sink: seeded in SQL once, so that the measurement is the dispatcher.
have=$(psql "$URL" -qtAc "SELECT count(*) FROM push_subscriptions WHERE address LIKE 'http://127.0.0.1:$SINK_PORT/backlog/%'")
if [ "$have" -lt "$N" ]; then
  echo "seeding $N recipients with a device..." >&2
  psql "$URL" -q -v n="$N" -v port="$SINK_PORT" <<'SQL' >&2
CREATE TEMP TABLE backlog AS
  SELECT g AS n, gen_random_uuid() AS account, gen_random_uuid() AS conversation
  FROM generate_series(1, :n) AS g;
INSERT INTO accounts (id, email, display_name, role, disabled, password_hash, therapist_id, created_at, updated_at)
  SELECT account, 'push-backlog-' || account || '@bench.example', 'Backlog ' || n, 'client', false, 'x', NULL, now(), now() FROM backlog;
INSERT INTO conversations (id, created_by, last_seq, last_activity_at, created_at)
  SELECT conversation, account, 1, now(), now() FROM backlog;
INSERT INTO conversation_members (conversation_id, account_id, last_read_seq, last_activity_at, joined_at, muted)
  SELECT conversation, account, 0, now(), now(), false FROM backlog;
INSERT INTO push_subscriptions (id, account_id, kind, address_hash, address, p256dh, auth, topic, expires_at, created_at, updated_at)
  SELECT gen_random_uuid(), account, 'webpush',
         encode(sha256(convert_to('http://127.0.0.1:' || :port || '/backlog/' || n, 'UTF8')), 'hex'),
         'http://127.0.0.1:' || :port || '/backlog/' || n,
         'BLn9b-VR0ca83knDNZ32dCHGyjJp-1riX9ZTN40MqV8K_LpQmLqxC_DoHvqvFXO_nGdAB4W9dogZb_sM-uV4JbY',
         '_ordMnz7uTCmrpBTeUV4Bw', NULL, NULL, now(), now()
  FROM backlog;
SQL
  psql "$URL" -qc "VACUUM ANALYZE" >&2
fi
# fill_outbox: one due push per backlog recipient.
fill_outbox() {
  psql "$URL" -qc "DELETE FROM push_outbox" >&2
  psql "$URL" -qc "INSERT INTO push_outbox (id, account_id, conversation_id, seq, subscription_id, sent_at, due_at, attempts)
    SELECT gen_random_uuid(), m.account_id, m.conversation_id, 1, NULL, now(), now(), 0
    FROM push_subscriptions s JOIN conversation_members m ON m.account_id = s.account_id
    WHERE s.address LIKE 'http://127.0.0.1:$SINK_PORT/backlog/%'" >&2
}
# drain NODES: starts the sink, then NODES nodes; the sink's report once all arrived.
drain() {
  fill_outbox
  "$BENCH" push-drain --port "$SINK_PORT" --expected "$N" >/tmp/push-drain.json &
  local sink=$!
  sleep 0.5
  for i in $(seq 1 "$1"); do start_node "$URL" $((18403 + i)) "${PUSH_ENV[@]}"; done
  wait "$sink"
  stop_nodes
  cat /tmp/push-drain.json
}
one=$(drain 1)
two=$(drain 2)
left=$(psql "$URL" -qtAc "SELECT count(*) FROM push_outbox")

# field JSON KEY...: the value at KEY... of JSON.
field() { python3 -c 'import json, sys
v = json.loads(sys.argv[1])
for k in sys.argv[2:]: v = v[k]
print(v)' "$@"; }
with_p50=$(field "$latency" with_push p50_ms); without_p50=$(field "$latency" without_push p50_ms)
with_p99=$(field "$latency" with_push p99_ms); without_p99=$(field "$latency" without_push p99_ms)
per_node_two=$(awk -v r="$(field "$two" pushes_per_second)" 'BEGIN { printf "%.0f", r / 2 }')
cat <<REPORT
push benchmark, $(date -u +%FT%TZ), $(nproc) cores, PostgreSQL
send latency     : $latency
with/without p50 : $(ratio "$with_p50" "$without_p50")   (goal <= 1.10)
with/without p99 : $(ratio "$with_p99" "$without_p99")   (goal <= 1.10)
drain $N, 1 node : $one
drain $N, 2 nodes: $two
pushes/s per node: $(field "$one" pushes_per_second | xargs printf '%.0f') with one node, $per_node_two with two
rows left        : $left
REPORT

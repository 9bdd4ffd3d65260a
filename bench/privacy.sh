#!/usr/bin/env bash
# Data protection on PostgreSQL.
# (1) What the access log adds to a read: p50 of a therapist's newest window of 50
#     in a conversation with a client, on a build of the commit before the access log
#     (BEFORE) vs this one with repeated reads coalesced (the default, 300 s) and with
#     every read written (PORTAL_ACCESS_LOG_COALESCE_SECS=0), taken in turns, in
#     ROUNDS rounds (goal: with/before p50 <= 1.15, median of the rounds).
# (2) The client's export (GET /v1/me/export) of a conversation of MESSAGES
#     (100,000): messages/s, and the peak resident memory of `portal` during it above
#     what it held before (goal: under 20 MiB).
# Usage: bench/privacy.sh [MESSAGES] [REQUESTS] [ROUNDS=5]
source "$(dirname "$0")/lib.sh"
M=${1:-100000}
REQUESTS=${2:-2000}
ROUNDS=${3:-5}
LOG=migrations/src/m20261204_000007_create_access_log.rs
BEFORE=${BEFORE:-$(git log --diff-filter=A --format=%H -- "$LOG" | tail -n1)~1}
BEFORE_REV=$(git rev-parse "$BEFORE")
BEFORE_BIN=$(build_at "$BEFORE_REV")
build

# One database per schema, seeded alike: a therapist and a client with M messages.
BEFORE_URL=$(create_db portal_bench_privacy_before)
URL=$(create_db portal_bench_privacy)
conversation_in() { psql "$1" -qtAc "SELECT id FROM conversations WHERE last_seq >= $M ORDER BY created_at LIMIT 1"; }
for pair in "$BEFORE_BIN $BEFORE_URL" "$BIN $URL"; do
  read -r bin url <<<"$pair"
  "$bin" migrate --database-url "$url" >/dev/null
  if [ -z "$(conversation_in "$url")" ]; then
    echo "seeding a conversation of $M messages into $url..." >&2
    "$bin" seed --database-url "$url" --therapists 0 --conversations 1 --messages-per-conversation "$M" >&2
    psql "$url" -qc "VACUUM ANALYZE" >&2
  fi
done
before_id=$(conversation_in "$BEFORE_URL"); after_id=$(conversation_in "$URL")
BIN=$BEFORE_BIN start_node "$BEFORE_URL" 18410 PORTAL_WORKERS=2 PORTAL_PUSH_DELAY_MS=3600000
start_node "$URL" 18411 PORTAL_WORKERS=2 PORTAL_PUSH_DELAY_MS=3600000
start_node "$URL" 18412 PORTAL_WORKERS=2 PORTAL_PUSH_DELAY_MS=3600000 PORTAL_ACCESS_LOG_COALESCE_SECS=0
export_pid=${PIDS[1]}
B=http://127.0.0.1:18410 A=http://127.0.0.1:18411 W=http://127.0.0.1:18412
before_token=$(login "$B" "$(member "$BEFORE_URL" "$before_id" therapist)")
therapist=$(member "$URL" "$after_id" therapist)
after_token=$(login "$A" "$therapist"); every_token=$(login "$W" "$therapist")
entries() { psql "$URL" -qtAc "SELECT count(*) FROM access_log"; }
entries_before=$(entries)
# ROUNDS runs of REQUESTS windows per node, the nodes in turns within each; the report
# gives every round's ratios and their median.
ratios=()
for round in $(seq 1 "$ROUNDS"); do
  windows=$("$BENCH" latency \
    --url "$B/v1/conversations/$before_id/messages?limit=50" --token "$before_token" \
    --url "$A/v1/conversations/$after_id/messages?limit=50" --token "$after_token" \
    --url "$W/v1/conversations/$after_id/messages?limit=50" --token "$every_token" \
    --requests "$REQUESTS")
  before=$(sed -n 1p <<<"$windows"); coalesced=$(sed -n 2p <<<"$windows"); every=$(sed -n 3p <<<"$windows")
  b=$(json_field "$before" p50_ms); c=$(json_field "$coalesced" p50_ms); e=$(json_field "$every" p50_ms)
  ratios+=("$(ratio "$c" "$b") $(ratio "$e" "$b") $b $c $e")
done
entries_written=$(( $(entries) - entries_before ))
rounds_report=$(printf '%s\n' "${ratios[@]}" | awk '{printf "  round %d: p50 before %s ms, coalesced %s ms, every read %s ms: coalesced/before %s, every-read/before %s\n", NR, $3, $4, $5, $1, $2}')

# The export, twice (the first warms the caches); the second is measured.
client_token=$(login "$A" "$(member "$URL" "$after_id" client)")
out=$(mktemp)
curl -s -o "$out" "$A/v1/me/export" -H "authorization: Bearer $client_token"
echo 5 >"/proc/$export_pid/clear_refs" # resets the peak (VmHWM) to what is resident now
rss_before=$(awk '/^VmRSS/ {print $2}' "/proc/$export_pid/status")
started=$(date +%s.%N)
curl -s -o "$out" "$A/v1/me/export" -H "authorization: Bearer $client_token"
seconds=$(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
rss_peak=$(awk '/^VmHWM/ {print $2}' "/proc/$export_pid/status")
messages=$(grep -c '"type":"message"' "$out")
lines=$(wc -l <"$out"); bytes=$(wc -c <"$out")
last=$(tail -n1 "$out")
rm -f "$out"

cat <<REPORT
privacy benchmark, $(date -u +%FT%TZ), $(nproc) cores, PostgreSQL, release build
window of 50 before the access log ($BEFORE_REV), with it coalesced (300 s), with every read written; $ROUNDS rounds of $REQUESTS each, in turns:
$rounds_report
last round, before     : $before
last round, coalesced  : $coalesced
last round, every read : $every
access-log entries written during the windows      : $entries_written
coalesced/before p50, median of rounds             : $(median_of 1 "${ratios[@]}")   (goal <= 1.15)
every-read/before p50, median of rounds            : $(median_of 2 "${ratios[@]}")
export: $lines lines ($messages messages), $bytes bytes in $seconds s, last line $last
export messages/s                                  : $(awk -v m="$messages" -v s="$seconds" 'BEGIN { printf "%.0f", m / s }')
portal RSS before / peak during (KiB)              : $rss_before / $rss_peak
peak RSS above before                              : $(awk -v a="$rss_peak" -v b="$rss_before" 'BEGIN { printf "%.1f MiB", (a - b) / 1024 }')   (goal < 20 MiB)
REPORT

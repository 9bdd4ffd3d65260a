#!/usr/bin/env bash
# Directory: 1,000,000 therapists on PostgreSQL. First page vs a page at depth
# ~900,000 reached by cursor (goal: ratio <= 1.3), the same depth by raw OFFSET for
# contrast, and first-page requests/s under load vs the same SQL through pgbench
# (goal: >= 35% of pgbench, with and without gzip), and the bytes of a 100-therapist
# page with and without gzip. Usage: bench/directory.sh [THERAPISTS]
source "$(dirname "$0")/lib.sh"
N=${1:-1000000}
CONCURRENCY=16
build
URL=$(create_db portal_bench_directory)
"$BIN" migrate --database-url "$URL" >/dev/null
have=$(psql "$URL" -qtAc "SELECT count(*) FROM therapists")
if [ "$have" -lt "$N" ]; then
  echo "seeding $((N - have)) therapists..." >&2
  /usr/bin/time -f "seed: %e s" "$BIN" seed --database-url "$URL" --therapists $((N - have)) --organisations 200 >&2
  psql "$URL" -qc "VACUUM ANALYZE" >&2
fi
start_node "$URL" 18401 PORTAL_WORKERS=2
BASE=http://127.0.0.1:18401
TOKEN=$(token "$BASE" bench-directory@example.org)

walk=$("$BENCH" walk --url "$BASE/v1/therapists?limit=100" --token "$TOKEN" --depth 900000)
cursor=$(sed -n 's/.*"cursor":"\([^"]*\)".*/\1/p' <<<"$walk")
# First and deep pages in turns, so that load drift hits both alike.
both=$("$BENCH" latency --url "$BASE/v1/therapists?limit=20" --url "$BASE/v1/therapists?limit=20&after=$cursor" --token "$TOKEN" --requests 1000)
first=$(sed -n 1p <<<"$both"); deep=$(sed -n 2p <<<"$both")

cat >/tmp/bench-offset.sql <<'SQL'
SELECT id, display_name, sort_name FROM therapists ORDER BY sort_name, id LIMIT 20 OFFSET 900000;
SQL
offset=$(pgbench -n -f /tmp/bench-offset.sql -t 10 -c 1 "$URL" 2>/dev/null | awk '/latency average/ {print $4}')

# The statement the API sends for the first page: the page and both tag lists, with
# no parameters (the LIMIT is written into the SQL, as the API writes it).
cat >/tmp/bench-first-page.sql <<'SQL'
SELECT "therapists"."id", "therapists"."display_name", "therapists"."sort_name", "therapists"."bio", "therapists"."city", "therapists"."city_key", "therapists"."country", "therapists"."organisation_id", "therapists"."accepting", "therapists"."offers_online", "therapists"."offers_in_person", "therapists"."created_at", "therapists"."updated_at", (SELECT string_agg("specialty", ',') FROM "therapist_specialties" WHERE "therapist_specialties"."therapist_id" = "therapists"."id") AS "specialties", (SELECT string_agg("language", ',') FROM "therapist_languages" WHERE "therapist_languages"."therapist_id" = "therapists"."id") AS "languages" FROM "therapists" WHERE TRUE ORDER BY "therapists"."sort_name" ASC, "therapists"."id" ASC LIMIT 21;
SQL
# Compared with the statement the API last ran (PostgreSQL shows it per connection),
# so the two cannot drift apart.
curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" "$BASE/v1/therapists?limit=20"
sent=$(psql "$URL" -qtAc "SELECT query FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '%FROM \"therapists\" WHERE TRUE ORDER BY%LIMIT 21' LIMIT 1")
if [ "$sent;" != "$(cat /tmp/bench-first-page.sql)" ]; then
  printf 'the first-page SQL of this script is not what the API sends:\n%s\n' "$sent" >&2
  exit 1
fi
# Throughput on a shared 2-core box drifts by a third between minutes: REST and
# pgbench take turns, and the report gives each round's ratio and their median.
# Each REST round also reports the CPU time `portal` and PostgreSQL spent per request.
rounds=()
for round in 1 2 3 4 5; do
  portal_before=$(cpu_ticks "${PIDS[0]}"); postgres_before=$(cpu_ticks $(pgrep -x postgres))
  out=$(wrk -t2 -c$CONCURRENCY -d10s -H "Authorization: Bearer $TOKEN" "$BASE/v1/therapists?limit=20")
  portal_ticks=$(( $(cpu_ticks "${PIDS[0]}") - portal_before ))
  postgres_ticks=$(( $(cpu_ticks $(pgrep -x postgres)) - postgres_before ))
  rest=$(wrk_ok_rps "$out"); served=$(awk '/requests in/ {print $1}' <<<"$out")
  gzipped=$(wrk_ok_rps "$(wrk -t2 -c$CONCURRENCY -d10s -H "Authorization: Bearer $TOKEN" -H "Accept-Encoding: gzip" "$BASE/v1/therapists?limit=20")")
  raw=$(pgbench -n -M prepared -f /tmp/bench-first-page.sql -c $CONCURRENCY -j 2 -T 10 "$URL" 2>/dev/null | awk '/^tps/ {print $3}')
  rounds+=("$rest $raw $(ratio "$rest" "$raw") $(ticks_ms_per "$portal_ticks" "$served") $(ticks_ms_per "$postgres_ticks" "$served") $gzipped $(ratio "$gzipped" "$raw")")
done
throughput=$(printf '%s\n' "${rounds[@]}" | awk '{printf "  round %d: REST %.0f req/s, pgbench %.0f tps, ratio %s; CPU per request: portal %s ms, PostgreSQL %s ms; with gzip %.0f req/s, ratio %s\n", NR, $1, $2, $3, $4, $5, $6, $7}')
median=$(printf '%s\n' "${rounds[@]}" | awk '{print $3}' | sort -n | sed -n 3p)
median_gzip=$(printf '%s\n' "${rounds[@]}" | awk '{print $7}' | sort -n | sed -n 3p)
# Bytes on the wire of one 100-therapist page, as sent and gzip-coded.
page_bytes=$(curl -sf -o /dev/null -w '%{size_download}' -H "Authorization: Bearer $TOKEN" "$BASE/v1/therapists?limit=100")
page_gzip_bytes=$(curl -sf -o /dev/null -w '%{size_download}' -H "Authorization: Bearer $TOKEN" -H "Accept-Encoding: gzip" "$BASE/v1/therapists?limit=100")

plan=$(psql "$URL" -qtAc "EXPLAIN SELECT id FROM therapists WHERE sort_name >= 'm' AND (sort_name > 'm' OR id > '00000000-0000-0000-0000-000000000000') ORDER BY sort_name, id LIMIT 21" | head -n 3)

f=$(json_field "$first" p50_ms); d=$(json_field "$deep" p50_ms)
cat <<REPORT
directory benchmark, $(date -u +%FT%TZ), $(nproc) cores, $N therapists on PostgreSQL
first page       : $first
page at ~900,000 : $deep
walk to 900,000  : $walk
OFFSET 900000 SQL: ${offset} ms average (pgbench, 10 runs)
deep/first p50   : $(ratio "$d" "$f")   (goal <= 1.3)
OFFSET/first p50 : $(ratio "$offset" "$f")
REST first page (wrk, $CONCURRENCY connections) vs pgbench of the same SQL (prepared, $CONCURRENCY clients):
$throughput
REST / pgbench   : $median median of 5 rounds   (goal >= 0.35)
with gzip        : $median_gzip median of 5 rounds   (goal >= 0.35)
100-page bytes   : $page_bytes plain, $page_gzip_bytes gzip ($(ratio "$page_gzip_bytes" "$page_bytes") of plain)
plan of a deep page (PostgreSQL):
$plan
REPORT

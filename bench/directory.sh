#!/usr/bin/env bash
# Directory: 1,000,000 therapists on PostgreSQL. First page vs a page at depth
# ~900,000 reached by cursor (goal: ratio <= 1.3), the same depth by raw OFFSET for
# contrast; first-page requests/s under load vs the same SQL through pgbench (goal:
# >= 35% of pgbench, with and without gzip) and vs the cheapest statement for that
# page (goal: >= 50%), with PostgreSQL's CPU per page for each (goal: REST's within
# 1.2x of the cheapest's); the GraphQL first page with the same fields vs REST (goals:
# >= 0.8 of its rate, <= 1.3x its `portal` CPU per page); the REST first page on
# MariaDB (the same therapists seeded there) with `portal`'s and MariaDB's CPU per
# page; the floor server (bench/src/floor.rs) beside pgbench; and the bytes of a
# 100-therapist page with and without gzip.
# Usage: bench/directory.sh [THERAPISTS] [ROUNDS=5]
source "$(dirname "$0")/lib.sh"
N=${1:-1000000}
ROUNDS=${2:-5}
build
URL=$(create_db portal_bench_directory)
"$BIN" migrate --database-url "$URL" >/dev/null
have=$(psql "$URL" -qtAc "SELECT count(*) FROM therapists")
if [ "$have" -lt "$N" ]; then
  echo "seeding $((N - have)) therapists..." >&2
  /usr/bin/time -f "seed: %e s" "$BIN" seed --database-url "$URL" --therapists $((N - have)) --organisations 200 >&2
  psql "$URL" -qc "VACUUM ANALYZE" >&2
fi
MARIADB_URL=$(create_mariadb_db portal_bench_directory)
"$BIN" migrate --database-url "$MARIADB_URL" >/dev/null
have=$(mariadb -h 127.0.0.1 -u root -N -e "SELECT count(*) FROM therapists" portal_bench_directory)
if [ "$have" -lt "$N" ]; then
  echo "seeding $((N - have)) therapists into MariaDB..." >&2
  /usr/bin/time -f "seed: %e s" "$BIN" seed --database-url "$MARIADB_URL" --therapists $((N - have)) --organisations 200 >&2
  mariadb -h 127.0.0.1 -u root -e "ANALYZE TABLE therapists" portal_bench_directory >/dev/null
fi
# The GraphQL rounds would spend any points budget in a second: it is off here.
start_node "$URL" 18401 PORTAL_WORKERS=2 PORTAL_GRAPHQL_POINTS_PER_MINUTE=0
BASE=http://127.0.0.1:18401
TOKEN=$(token "$BASE" bench-directory@example.org)
start_node "$MARIADB_URL" 18404 PORTAL_WORKERS=2
MARIADB_BASE=http://127.0.0.1:18404
MARIADB_TOKEN=$(token "$MARIADB_BASE" bench-directory@example.org)

walk=$("$BENCH" walk --url "$BASE/v1/therapists?limit=100" --token "$TOKEN" --depth 900000)
cursor=$(sed -n 's/.*"cursor":"\([^"]*\)".*/\1/p' <<<"$walk")
# First and deep pages in turns, so that load drift hits both alike.
both=$("$BENCH" latency --url "$BASE/v1/therapists?limit=20" --url "$BASE/v1/therapists?limit=20&after=$cursor" --token "$TOKEN" --requests 1000)
first=$(sed -n 1p <<<"$both"); deep=$(sed -n 2p <<<"$both")

cat >/tmp/bench-offset.sql <<'SQL'
SELECT id, display_name, sort_name FROM therapists ORDER BY sort_name, id LIMIT 20 OFFSET 900000;
SQL
offset=$(pgbench -n -f /tmp/bench-offset.sql -t 10 -c 1 "$URL" 2>/dev/null | awk '/latency average/ {print $4}')

# The statement the API sends for the first page: one index range of the therapist
# rows, each with its tag lists, and no parameters (the LIMIT is written into the SQL,
# as the API writes it).
cat >/tmp/bench-first-page.sql <<'SQL'
SELECT "therapists"."id", "therapists"."display_name", "therapists"."sort_name", "therapists"."bio", "therapists"."city", "therapists"."city_key", "therapists"."country", "therapists"."organisation_id", "therapists"."accepting", "therapists"."offers_online", "therapists"."offers_in_person", "therapists"."created_at", "therapists"."updated_at", "therapists"."specialty_list", "therapists"."language_list" FROM "therapists" WHERE TRUE ORDER BY "therapists"."sort_name" ASC, "therapists"."id" ASC LIMIT 21;
SQL
# Compared with the statement the API last ran (PostgreSQL shows it per connection),
# so the two cannot drift apart.
curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" "$BASE/v1/therapists?limit=20"
sent=$(psql "$URL" -qtAc "SELECT query FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '%FROM \"therapists\" WHERE TRUE ORDER BY%LIMIT 21' LIMIT 1")
if [ "$sent;" != "$(cat /tmp/bench-first-page.sql)" ]; then
  printf 'the first-page SQL of this script is not what the API sends:\n%s\n' "$sent" >&2
  exit 1
fi
# The cheapest statement for the same page: only the columns an item shows plus the
# sort key its cursor needs.
cat >/tmp/bench-cheapest-page.sql <<'SQL'
SELECT id, display_name, sort_name, bio, city, country, organisation_id, accepting, offers_online, offers_in_person, created_at, updated_at, specialty_list, language_list FROM therapists ORDER BY sort_name, id LIMIT 21;
SQL
# The floor: a server that runs the cheapest statement and writes its rows as the
# API's JSON, and does nothing else (bench/src/floor.rs); checked once to answer the
# REST page's therapists.
start_floor "$URL" 18405 /tmp/bench-cheapest-page.sql
FLOOR_PID=${PIDS[-1]}
ids() { grep -o '"id":"[^"]*"' <<<"$1"; }
if [ "$(ids "$(curl -sf http://127.0.0.1:18405/page)")" != "$(ids "$(curl -sf -H "Authorization: Bearer $TOKEN" "$BASE/v1/therapists?limit=20")")" ]; then
  echo 'the floor server does not answer the REST first page' >&2
  exit 1
fi
# For contrast, the page as the API read it before the lists were on the row: two
# correlated subqueries on the tag tables per row.
cat >/tmp/bench-tag-tables-page.sql <<'SQL'
SELECT "therapists"."id", "therapists"."display_name", "therapists"."sort_name", "therapists"."bio", "therapists"."city", "therapists"."city_key", "therapists"."country", "therapists"."organisation_id", "therapists"."accepting", "therapists"."offers_online", "therapists"."offers_in_person", "therapists"."created_at", "therapists"."updated_at", (SELECT string_agg("specialty", ',') FROM "therapist_specialties" WHERE "therapist_specialties"."therapist_id" = "therapists"."id") AS "specialties", (SELECT string_agg("language", ',') FROM "therapist_languages" WHERE "therapist_languages"."therapist_id" = "therapists"."id") AS "languages" FROM "therapists" WHERE TRUE ORDER BY "therapists"."sort_name" ASC, "therapists"."id" ASC LIMIT 21;
SQL
# The GraphQL first page with the fields of a REST item, checked once to answer 20
# nodes and no error (wrk counts a GraphQL error as a success).
GRAPHQL_PAGE=bench/graphql-first-page.lua
graphql_check=$(curl -sf "$BASE/graphql" -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
  -d "$(sed -n "s/^wrk.body = '\(.*\)'$/\1/p" "$GRAPHQL_PAGE")")
if [ "$(grep -o '"uuid"' <<<"$graphql_check" | wc -l)" != 20 ] || grep -q '"errors"' <<<"$graphql_check"; then
  printf 'the GraphQL first page did not answer 20 nodes:\n%s\n' "$graphql_check" >&2
  exit 1
fi
# Throughput on a shared 2-core box drifts by a third between minutes: REST and
# pgbench take turns, and the report gives each round's ratios and their median.
# Each REST round also reports the CPU time `portal` and PostgreSQL spent per request.
rounds=()
for round in $(seq 1 "$ROUNDS"); do
  measured=$(wrk_cpu "${PIDS[0]}" postgres_ticks -s "$GRAPHQL_PAGE" -H "Authorization: Bearer $TOKEN" "$BASE/graphql")
  read -r graphql graphql_cpu _ <<<"$measured"
  measured=$(wrk_cpu "${PIDS[0]}" postgres_ticks -H "Authorization: Bearer $TOKEN" "$BASE/v1/therapists?limit=20")
  read -r rest rest_cpu rest_pg_cpu <<<"$measured"
  measured=$(wrk_cpu "$FLOOR_PID" postgres_ticks http://127.0.0.1:18405/page)
  read -r floor floor_cpu floor_pg_cpu <<<"$measured"
  gzipped=$(wrk_ok_rps "$(wrk -t2 -c16 -d10s -H "Authorization: Bearer $TOKEN" -H "Accept-Encoding: gzip" "$BASE/v1/therapists?limit=20")")
  read -r same same_cpu <<<"$(pgbench_rate "$URL" /tmp/bench-first-page.sql)"
  read -r cheapest cheapest_cpu <<<"$(pgbench_rate "$URL" /tmp/bench-cheapest-page.sql)"
  read -r tagged tagged_cpu <<<"$(pgbench_rate "$URL" /tmp/bench-tag-tables-page.sql)"
  # A backend that waits between statements costs PostgreSQL more per statement than
  # one kept busy: the cheapest statement again, at the rate REST was served.
  read -r _ paced_cpu <<<"$(pgbench_rate "$URL" /tmp/bench-cheapest-page.sql "${rest%.*}")"
  rounds+=("$rest $gzipped $same $cheapest $tagged $rest_cpu $rest_pg_cpu $same_cpu $cheapest_cpu $tagged_cpu $(ratio "$rest" "$same") $(ratio "$gzipped" "$same") $(ratio "$rest" "$cheapest") $(ratio "$rest_pg_cpu" "$cheapest_cpu") $graphql $graphql_cpu $(ratio "$graphql" "$rest")")
  rounds[-1]+=" $(ratio "$graphql_cpu" "$rest_cpu") $paced_cpu $(ratio "$rest_pg_cpu" "$paced_cpu")"
  measured=$(wrk_cpu "${PIDS[1]}" mariadb_ticks -H "Authorization: Bearer $MARIADB_TOKEN" "$MARIADB_BASE/v1/therapists?limit=20")
  read -r on_mariadb mariadb_portal_cpu mariadb_cpu <<<"$measured"
  rounds[-1]+=" $on_mariadb $mariadb_portal_cpu $mariadb_cpu $(ratio "$on_mariadb" "$rest")"
  rounds[-1]+=" $floor $floor_cpu $floor_pg_cpu $(ratio "$floor" "$cheapest") $(ratio "$floor" "$same") $(ratio "$floor_pg_cpu" "$cheapest_cpu") $(ratio "$rest" "$floor") $(ratio "$rest_cpu" "$floor_cpu")"
done
throughput=$(printf '%s\n' "${rounds[@]}" | awk '{printf "  round %d: REST %.0f req/s (gzip %.0f); pgbench: same SQL %.0f, cheapest %.0f, tag tables %.0f tps\n           CPU per page: portal %s ms; PostgreSQL %s ms under REST, %s same SQL, %s cheapest, %s tag tables, %s cheapest at the REST rate\n           GraphQL %.0f req/s, portal %s ms per page\n           MariaDB: REST %.0f req/s, CPU per page: portal %s ms, MariaDB %s ms\n           floor server %.0f req/s, CPU per page: server %s ms, PostgreSQL %s ms\n", NR, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $19, $15, $16, $21, $22, $23, $25, $26, $27}')
median() { median_of "$1" "${rounds[@]}"; }
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
REST first page (wrk, 16 connections; on PostgreSQL, then on MariaDB) vs pgbench (16 clients, prepared) of the
API's SQL, of the cheapest statement for the same page, and of the former tag-table SQL:
$throughput
medians of $ROUNDS rounds:
REST / pgbench same SQL          : $(median 11)   (goal >= 0.35)
with gzip / pgbench same SQL     : $(median 12)   (goal >= 0.35)
REST / pgbench cheapest          : $(median 13)   (goal >= 0.5)
PostgreSQL CPU REST / cheapest   : $(median 14)   (goal <= 1.2)
  vs cheapest at the REST rate    : $(median 20)
GraphQL / REST req/s             : $(median 17)   (goal >= 0.8)
portal CPU GraphQL / REST        : $(median 18)   (goal <= 1.3)
floor server (the cheapest statement's rows as the API's JSON, nothing else):
floor / pgbench cheapest         : $(median 28)   (what one statement per request reaches here)
floor / pgbench same SQL         : $(median 29)
PostgreSQL CPU floor / cheapest  : $(median 30)
REST / floor req/s               : $(median 31)
CPU per page portal REST / floor : $(median 32)
MariaDB: REST req/s              : $(printf "%.0f" "$(median 21)") ($(median 24) of PostgreSQL's)
MariaDB: CPU per page            : portal $(median 22) ms, MariaDB $(median 23) ms
100-page bytes   : $page_bytes plain, $page_gzip_bytes gzip ($(ratio "$page_gzip_bytes" "$page_bytes") of plain)
plan of a deep page (PostgreSQL):
$plan
REPORT

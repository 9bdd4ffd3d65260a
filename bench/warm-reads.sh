#!/usr/bin/env bash
# Warm reads (domain/src/database/warm.rs) against the build before them: reads on
# PostgreSQL kept their pooled connection only for the statement, then sqlx pinged it
# on its way back to the pool, and the next read took it on whichever worker thread
# asked. ROUNDS rounds, in turns on a node of each build: the REST directory first
# page (20 of 1,000,000 therapists, the database of bench/directory.sh) and the REST
# newest window of 50 (the database of bench/windows.sh). Reports requests/s, `portal`
# and PostgreSQL CPU per request, warm/before.
# Usage: bench/warm-reads.sh [ROUNDS=3]   (BEFORE=<rev> overrides the build before)
source "$(dirname "$0")/lib.sh"
ROUNDS=${1:-3}
before_bin=$(build_at "${BEFORE:-fcfa1ac^}")
build
DIRECTORY=$(create_db portal_bench_directory)
if [ "$(psql "$DIRECTORY" -qtAc "SELECT count(*) FROM therapists" 2>/dev/null || echo 0)" -lt 1000000 ]; then
  echo "seed the directory first: bench/directory.sh" >&2
  exit 1
fi
window_reader 1000000
start_node "$URL" 18430 PORTAL_WORKERS=2
BIN=$before_bin start_node "$URL" 18431 PORTAL_WORKERS=2
TOKEN=$(login http://127.0.0.1:18430 "$READER")
start_node "$DIRECTORY" 18432 PORTAL_WORKERS=2
BIN=$before_bin start_node "$DIRECTORY" 18433 PORTAL_WORKERS=2
DIRECTORY_TOKEN=$(token http://127.0.0.1:18432 bench-directory@example.org)
page() { wrk_cpu "${PIDS[$1]}" postgres_ticks -H "Authorization: Bearer $DIRECTORY_TOKEN" "http://127.0.0.1:$2/v1/therapists?limit=20"; }
rounds=()
for round in $(seq 1 "$ROUNDS"); do
  read -r page_warm page_warm_cpu page_warm_pg <<<"$(page 2 18432)"
  read -r page_before page_before_cpu page_before_pg <<<"$(page 3 18433)"
  read -r window_warm window_warm_cpu window_warm_pg <<<"$(window_load "${PIDS[0]}" 18430)"
  read -r window_before window_before_cpu window_before_pg <<<"$(window_load "${PIDS[1]}" 18431)"
  rounds+=("$page_warm $page_warm_cpu $page_warm_pg $page_before $page_before_cpu $page_before_pg $window_warm $window_warm_cpu $window_warm_pg $window_before $window_before_cpu $window_before_pg")
  rounds[-1]+=" $(ratio "$page_warm" "$page_before") $(ratio "$page_warm_cpu" "$page_before_cpu") $(ratio "$page_warm_pg" "$page_before_pg")"
  rounds[-1]+=" $(ratio "$window_warm" "$window_before") $(ratio "$window_warm_cpu" "$window_before_cpu") $(ratio "$window_warm_pg" "$window_before_pg")"
done
median() { median_of "$1" "${rounds[@]}"; }
cat <<REPORT
warm-reads benchmark, $(date -u +%FT%TZ), $(nproc) cores, against $(git rev-parse --short "${BEFORE:-fcfa1ac^}") (wrk, 16 connections; CPU per request in ms)
$(printf '%s\n' "${rounds[@]}" | awk '{printf "  round %d: directory page warm %.0f req/s, portal %s, PostgreSQL %s; before %.0f req/s, %s, %s\n           window of 50   warm %.0f req/s, portal %s, PostgreSQL %s; before %.0f req/s, %s, %s\n", NR, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12}')
warm / before (medians)   req/s   portal CPU   PostgreSQL CPU
  directory page          $(median 13)    $(median 14)         $(median 15)
  window of 50            $(median 16)    $(median 17)         $(median 18)
REPORT

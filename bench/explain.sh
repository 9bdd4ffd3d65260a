#!/usr/bin/env bash
# Query plans of every list query on PostgreSQL and MariaDB, for databases seeded by
# `portal seed` (e.g. the benchmark databases, or the ones named below).
# Usage: bench/explain.sh [POSTGRES_URL] [MARIADB_DATABASE]
set -euo pipefail
PG_URL=${1:-postgres://postgres@127.0.0.1:5432/portal_bench_directory}
MARIA_DB=${2:-portal_explain}
pg() { psql "$PG_URL" -qtAc "$1"; }
maria() { mariadb --default-character-set=utf8mb4 -h 127.0.0.1 -u root "$MARIA_DB" -e "SET SESSION optimizer_switch = 'semijoin=off,materialization=off'; $1"; }
anchor=$(pg "SELECT sort_name || '|' || id FROM therapists ORDER BY sort_name, id OFFSET 900 LIMIT 1" 2>/dev/null || true)
name=${anchor%%|*}; id=${anchor##*|}
name=${name:-m}; id=${id:-00000000-0000-0000-0000-000000000000}
conversation=$(pg "SELECT id FROM conversations ORDER BY last_seq DESC LIMIT 1" 2>/dev/null || true)

queries=(
  "name order, after a cursor|SELECT id FROM therapists WHERE sort_name >= '$name' AND (sort_name > '$name' OR id > '$id') ORDER BY sort_name, id LIMIT 21"
  "newest order, after a cursor|SELECT id FROM therapists WHERE created_at <= '2024-03-01 00:00:00' AND (created_at < '2024-03-01 00:00:00' OR id < '$id') ORDER BY created_at DESC, id DESC LIMIT 21"
  "city filter, name order|SELECT id FROM therapists WHERE city_key = 'wien' AND sort_name >= '$name' AND (sort_name > '$name' OR id > '$id') ORDER BY sort_name, id LIMIT 21"
  "accepting filter, newest|SELECT id FROM therapists WHERE accepting = 'waitlist' ORDER BY created_at DESC, id DESC LIMIT 21"
  "specialty filter, name order|SELECT id FROM therapists t WHERE EXISTS (SELECT 1 FROM therapist_specialties s WHERE s.therapist_id = t.id AND s.specialty = 'ocd') ORDER BY sort_name, id LIMIT 21"
  "a page with its tags|SELECT id, (SELECT string_agg(specialty, ',') FROM therapist_specialties s WHERE s.therapist_id = t.id) AS specialties, (SELECT string_agg(language, ',') FROM therapist_languages l WHERE l.therapist_id = t.id) AS languages FROM therapists t ORDER BY sort_name, id LIMIT 21"
  "name prefix q|SELECT id FROM therapists WHERE sort_name >= 'ada' AND sort_name < 'ada\u{10FFFF}' ORDER BY sort_name, id LIMIT 21"
)
pg_uuid() { echo "'$1'"; }
for entry in "${queries[@]}"; do
  title=${entry%%|*}; sql=${entry#*|}
  echo "== $title"
  echo "-- PostgreSQL"; pg "EXPLAIN $sql" | head -n 12
  maria_sql=$(sed -e "s/id > '\([0-9a-f-]*\)'/id > UNHEX(REPLACE('\1','-',''))/" -e "s/id < '\([0-9a-f-]*\)'/id < UNHEX(REPLACE('\1','-',''))/" -e "s/\\\\u{10FFFF}/\xf4\x8f\xbf\xbf/" -e "s/string_agg(\([a-z]*\), ',')/GROUP_CONCAT(\1)/g" <<<"$sql")
  echo "-- MariaDB"; maria "EXPLAIN $maria_sql" | head -n 12
done
if [ -n "$conversation" ]; then
  echo "== history window (composite key)"
  echo "-- PostgreSQL"; pg "EXPLAIN SELECT * FROM messages WHERE conversation_id = '$conversation' AND seq >= 950 AND seq <= 999 ORDER BY seq LIMIT 50"
fi
maria_conv=$(maria "SELECT HEX(id) FROM conversations ORDER BY last_seq DESC LIMIT 1" | tail -n1)
if [ -n "$maria_conv" ]; then
  echo "-- MariaDB"; maria "EXPLAIN SELECT * FROM messages WHERE conversation_id = UNHEX('$maria_conv') AND seq >= 950 AND seq <= 999 ORDER BY seq LIMIT 50"
fi

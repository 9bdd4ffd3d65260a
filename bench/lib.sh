# Shared helpers of the benchmark scripts: build, databases, starting and stopping
# portal nodes. Sourced, not run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BIN=target/release/portal
BENCH=target/release/portal-bench
PG=${PG:-postgres://postgres@127.0.0.1:5432}
SECRET=${SECRET:-bench-secret-of-at-least-thirty-two-bytes}
export PORTAL_JWT_SECRET=$SECRET PORTAL_CURSOR_KEY=bench-cursor-key PORTAL_LOG=${PORTAL_LOG:-warn}
export PORTAL_AUTH_RATE_PER_IP=100000000 PORTAL_AUTH_RATE_PER_EMAIL=100000000 PORTAL_RATE_LIMIT_PER_SECOND=0
PIDS=()

build() {
  # The load generator and pgbench come from Debian's packages; a new machine may lack wrk.
  command -v wrk >/dev/null || apt-get install -y --no-install-recommends wrk >&2
  cargo build --release --locked --bin portal --bin portal-bench >&2
}

# build_at REV: a release portal of commit REV, built in a git worktree over the same
# target directory (the dependencies are shared) and kept as
# target/bench-at/<commit>/portal; prints that path. Run it before `build`: it drops
# the workspace crates' release artifacts after (same names and versions as this
# tree's, and cargo once took the worktree's for this tree's).
build_at() {
  local rev tree bin
  rev=$(git rev-parse "$1")
  bin=target/bench-at/$rev/portal
  if [ ! -x "$bin" ]; then
    echo "building $rev..." >&2
    tree=$(mktemp -d)
    git worktree add --detach "$tree" "$rev" >&2
    CARGO_TARGET_DIR="$PWD/target" cargo build --release --locked --manifest-path "$tree/Cargo.toml" --bin portal >&2
    mkdir -p "$(dirname "$bin")"
    cp target/release/portal "$bin"
    git worktree remove --force "$tree"
    cargo clean --release -p api -p domain -p migrations -p bench >&2
  fi
  echo "$bin"
}

# create_db NAME: a PostgreSQL database for this benchmark (kept between runs, so the
# expensive seeding happens once).
create_db() {
  psql "$PG/postgres" -qtAc "SELECT 1 FROM pg_database WHERE datname = '$1'" | grep -q 1 \
    || psql "$PG/postgres" -qc "CREATE DATABASE \"$1\"" >&2
  echo "$PG/$1"
}

# create_mariadb_db NAME: the same on the local MariaDB.
create_mariadb_db() {
  mariadb -h 127.0.0.1 -u root -e "CREATE DATABASE IF NOT EXISTS \`$1\`" >&2
  echo "mysql://root@127.0.0.1:3306/$1"
}

# start_node URL PORT [extra env...]: a release portal node; waits until ready.
start_node() {
  local url=$1 port=$2; shift 2
  env PORTAL_DATABASE_URL="$url" PORTAL_BIND="127.0.0.1:$port" "$@" "$BIN" serve >"/tmp/portal-bench-$port.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 120); do
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && return 0
    sleep 0.5
  done
  echo "node on $port did not become ready; see /tmp/portal-bench-$port.log" >&2
  return 1
}

# start_floor URL PORT SQL_FILE: the floor server of `portal-bench floor` (2 workers)
# serving GET /page from the statement in SQL_FILE; waits until it answers.
start_floor() {
  "$BENCH" floor --database-url "$1" --bind "127.0.0.1:$2" --sql "$3" >"/tmp/portal-bench-$2.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 60); do
    curl -sf -o /dev/null "http://127.0.0.1:$2/page" && return 0
    sleep 0.5
  done
  echo "the floor server on $2 did not answer; see /tmp/portal-bench-$2.log" >&2
  return 1
}

stop_nodes() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  PIDS=()
}
trap stop_nodes EXIT

# token BASE EMAIL: signs in (creating the account first if needed) and prints the token.
token() {
  local base=$1 email=$2 password=bench-password-1
  curl -s "$base/v1/auth/signup" -H 'content-type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"$password\",\"display_name\":\"Bench\"}" >/dev/null
  curl -s "$base/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"$password\"}" | sed 's/.*"access_token":"\([^"]*\)".*/\1/'
}

# login BASE EMAIL: the token of a seeded account (the seed's demo password).
login() {
  curl -s "$1/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"email\":\"$2\",\"password\":\"portal-demo-password\"}" | sed 's/.*"access_token":"\([^"]*\)".*/\1/'
}
# member URL CONVERSATION ROLE: the email of the conversation's member of that role.
member() {
  psql "$1" -qtAc "SELECT a.email FROM accounts a JOIN conversation_members m ON m.account_id = a.id WHERE m.conversation_id = '$2' AND a.role = '$3' LIMIT 1"
}

# wrk_rps OUTPUT: requests per second from wrk's output.
wrk_rps() { awk '/Requests\/sec/ {print $2}' <<<"$1"; }
# wrk_ok_rps OUTPUT: the same, refusing a run with any failed or non-2xx request (an
# expired token, say) or none at all, which measured nothing.
wrk_ok_rps() {
  if grep -qE 'Non-2xx|Socket errors' <<<"$1" || ! grep -q 'Requests/sec' <<<"$1"; then
    echo "wrk saw failed requests:" >&2; echo "$1" >&2; return 1
  fi
  wrk_rps "$1"
}
# wrk_p99_ms OUTPUT: the 99th percentile latency in ms from `wrk --latency` output.
wrk_p99_ms() {
  awk '$1 == "99%" { v=$2; if (v ~ /us$/) { sub(/us$/,"",v); v=v/1000 } else if (v ~ /ms$/) { sub(/ms$/,"",v) } else if (v ~ /s$/) { sub(/s$/,"",v); v=v*1000 } print v }' <<<"$1"
}
# cpu_ticks PID...: user + system CPU time of the processes, in clock ticks.
cpu_ticks() {
  local total=0 pid
  for pid in "$@"; do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
# postgres_ticks: CPU of the whole PostgreSQL server in clock ticks: its live
# processes, plus what the postmaster has reaped from backends that ended (a pgbench
# run's connections end with it, and their time leaves the live processes' sum).
postgres_ticks() {
  local postmaster
  postmaster=$(pgrep -o -x postgres)
  echo $(( $(cpu_ticks $(pgrep -x postgres)) + $(awk '{print $16 + $17}' "/proc/$postmaster/stat") ))
}
# mariadb_ticks: CPU of the MariaDB server in clock ticks (one process, threads
# included).
mariadb_ticks() { cpu_ticks $(pgrep -o -x mariadbd); }
# wrk_cpu PID DATABASE_TICKS WRK_ARGS...: a 10-second wrk run (2 threads, 16
# connections) refused if any request failed; prints requests/s, then the CPU in ms
# per request of process PID and of the database (DATABASE_TICKS: postgres_ticks or
# mariadb_ticks). Assign its output (x=$(wrk_cpu ...)) so that a refusal stops the
# script.
wrk_cpu() {
  local pid=$1 database=$2 before database_before out rps served
  shift 2
  before=$(cpu_ticks "$pid"); database_before=$($database)
  out=$(wrk -t2 -c16 -d10s "$@")
  local spent=$(( $(cpu_ticks "$pid") - before )) database_spent=$(( $($database) - database_before ))
  rps=$(wrk_ok_rps "$out") || return 1
  served=$(awk '/requests in/ {print $1}' <<<"$out")
  echo "$rps $(ticks_ms_per "$spent" "$served") $(ticks_ms_per "$database_spent" "$served")"
}
# ticks_ms_per TICKS N: milliseconds of CPU per item.
ticks_ms_per() { awk -v t="$1" -v n="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f", t * 1000 / hz / n }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
json_field() { sed -n "s/.*\"$2\":\\([0-9.]*\\).*/\\1/p" <<<"$1" | head -n1; }
# pgbench_rate URL FILE [RATE]: transactions/s of FILE (16 clients, prepared; at most
# RATE per second if given; the array PGBENCH_ARGS, if set, adds arguments such as
# -D variables) and PostgreSQL's CPU per transaction in ms.
pgbench_rate() {
  local before out done_
  before=$(postgres_ticks)
  out=$(pgbench -n -M prepared -f "$2" -c 16 -j 2 -T 10 ${3:+-R "$3"} ${PGBENCH_ARGS[@]+"${PGBENCH_ARGS[@]}"} "$1" 2>/dev/null)
  done_=$(awk '/transactions actually processed/ {print $NF}' <<<"$out")
  echo "$(awk '/^tps/ {print $3}' <<<"$out") $(ticks_ms_per $(( $(postgres_ticks) - before )) "$done_")"
}
# median_of COLUMN ROW...: the median of one whitespace-separated column of the rows.
median_of() {
  local column=$1; shift
  printf '%s\n' "$@" | awk -v f="$column" '{print $f}' | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}
# chat_db MESSAGES: the chat benchmarks' PostgreSQL database, holding one conversation
# of MESSAGES messages and one of 100 (seeded on first use); prints its URL.
chat_db() {
  local url
  url=$(create_db portal_bench_chat)
  "$BIN" migrate --database-url "$url" >/dev/null
  if [ -z "$(psql "$url" -qtAc "SELECT id FROM conversations WHERE last_seq = $1 LIMIT 1")" ]; then
    echo "seeding a conversation of $1 messages..." >&2
    /usr/bin/time -f "seed: %e s" "$BIN" seed --database-url "$url" --therapists 0 --conversations 1 --messages-per-conversation "$1" >&2
    "$BIN" seed --database-url "$url" --therapists 0 --conversations 1 --messages-per-conversation 100 >/dev/null
    psql "$url" -qc "VACUUM ANALYZE" >&2
  fi
  echo "$url"
}

# window_reader M: the chat database of M messages (chat_db); sets URL, BIG (its
# M-message conversation) and READER (the email of that conversation's client).
window_reader() {
  URL=$(chat_db "$1")
  BIG=$(psql "$URL" -qtAc "SELECT id FROM conversations WHERE last_seq = $1 LIMIT 1")
  READER=$(member "$URL" "$BIG" client)
}
# window_load PID PORT: wrk_cpu of the REST newest window of 50 of BIG, read with
# TOKEN, on the node of PID listening on PORT.
window_load() {
  wrk_cpu "$1" postgres_ticks -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$2/v1/conversations/$BIG/messages?limit=50"
}

#!/usr/bin/env bash
# Accounts: sign-ups/s and logins/s (argon2id, OWASP parameters) and the p99 of
# GET /v1/me while a login storm runs, as a ratio to its p99 when idle (goal: < 3).
# The probe is one request at a time (`portal-bench latency`), so it measures what a
# user feels, not a second saturating load; `wrk` saturating /v1/me is shown too.
# Usage: bench/accounts.sh
source "$(dirname "$0")/lib.sh"
build
URL=$(create_db portal_bench_accounts)
start_node "$URL" 18403 PORTAL_WORKERS=2
BASE=http://127.0.0.1:18403
TOKEN=$(token "$BASE" bench-reader@example.org)
token "$BASE" bench-storm@example.org >/dev/null

cat >/tmp/bench-signup.lua <<'LUA'
local counter = 0
local thread_id = tostring(math.random(1, 1e9))
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  local body = string.format('{"email":"s%s-%d-%d@example.org","password":"bench-password-1","display_name":"S"}', thread_id, os.time(), counter)
  return wrk.format(nil, "/v1/auth/signup", nil, body)
end
LUA
cat >/tmp/bench-login.lua <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"bench-storm@example.org","password":"bench-password-1"}'
LUA

signups=$(wrk_rps "$(wrk -t2 -c16 -d10s -s /tmp/bench-signup.lua "$BASE")")
logins=$(wrk_rps "$(wrk -t2 -c16 -d10s -s /tmp/bench-login.lua "$BASE/v1/auth/login")")
idle=$("$BENCH" latency --url "$BASE/v1/me" --token "$TOKEN" --requests 2000)
idle_wrk=$(wrk -t1 -c4 -d10s --latency -H "Authorization: Bearer $TOKEN" "$BASE/v1/me")
wrk -t1 -c16 -d40s -s /tmp/bench-login.lua "$BASE/v1/auth/login" >/tmp/bench-storm.txt &
storm_pid=$!
sleep 3
busy=$("$BENCH" latency --url "$BASE/v1/me" --token "$TOKEN" --requests 2000)
busy_wrk=$(wrk -t1 -c4 -d10s --latency -H "Authorization: Bearer $TOKEN" "$BASE/v1/me")
wait $storm_pid
i=$(json_field "$idle" p99_ms); b=$(json_field "$busy" p99_ms)
cat <<REPORT
accounts benchmark, $(date -u +%FT%TZ), $(nproc) cores, PostgreSQL, release build
sign-ups/s                     : $signups   (wrk, 16 connections)
logins/s                       : $logins   (wrk, 16 connections)
GET /v1/me idle, one at a time : $idle
GET /v1/me during a login storm: $busy   (storm: $(wrk_rps "$(cat /tmp/bench-storm.txt)") logins/s)
storm / idle p99               : $(ratio "$b" "$i")   (goal < 3)
saturating /v1/me with wrk -c4 : p99 $(wrk_p99_ms "$idle_wrk") ms idle ($(wrk_rps "$idle_wrk") req/s), $(wrk_p99_ms "$busy_wrk") ms during the storm ($(wrk_rps "$busy_wrk") req/s)
REPORT

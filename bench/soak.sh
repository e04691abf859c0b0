#!/usr/bin/env bash
# A soak run by hand (not in CI): bash bench/soak.sh [minutes]
#
# Mixed load for MINUTES (10 by default) against one server on core 1 (one worker):
#   - sign-ins through the pages, refreshes, introspections and revocations
#     (examples/flow_bench soak, 4 tasks, a user each),
#   - client-credentials tokens and their introspection (wrk, 8 connections each),
#   - endpoint checks (wrk, 8 connections),
# with lifetimes shortened so that every table reaches its steady state within the
# run: access tokens 60 s, codes 30 s, refresh tokens 120 s within 180 s, browser
# sessions 120 s, endpoint calls and audit entries 120 s, a sweeper pass every 10 s.
# Prints the row count of each table and the server's resident memory at the start
# (idle), every minute, at the end of the load and idle again 30 s and 90 s later.
# Target: counts stop growing once lifetimes are reached; memory under 150 MiB under
# load and under 50 MiB idle.
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=${1:-10}
connections=8
port=${BENCH_PORT:-18083}
source bench/lib.sh
cargo build --release --quiet --example flow_bench
flow=target/release/examples/flow_bench

export TESSERA__TOKENS__ACCESS_TOKEN_TTL=60
export TESSERA__TOKENS__AUTHORIZATION_CODE_TTL=30
export TESSERA__TOKENS__REFRESH_TOKEN_TTL=120
export TESSERA__TOKENS__REFRESH_TOKEN_MAX_LIFETIME=180
export TESSERA__WEB__SESSION_TTL=120
export TESSERA__ENDPOINTS__CALL_RETENTION=120
export TESSERA__SWEEPER__AUDIT_RETENTION=120
export TESSERA__SWEEPER__INTERVAL_MS=10000

rs=$("$bin" client create --name rs --type confidential --grant client_credentials --scope mobile --json)
rs_id=$(json "$rs" client_id)
rs_secret=$(json "$rs" client_secret)
made=$("$bin" endpoint create --name orders --path /orders --json)
endpoint=$(json "$made" id)
primary=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["primary_tokens"]["POST"])' "$made")

start_server
rss() { awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status"; }
tables="authorization_codes sessions authorization_interactions login_failures refresh_families refresh_tokens revoked_access_tokens consents platform_tokens endpoint_calls audit_log"
counts() {
  python3 - "$work/bench.db" $tables <<'PY'
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True, timeout=30)
print(" ".join(f"{t}={db.execute(f'SELECT COUNT(*) FROM {t}').fetchone()[0]}" for t in sys.argv[2:]))
PY
}
report() { echo "$1: rss_mib=$(rss) $(counts)"; }
report "start (idle)"

basic="Authorization: Basic $(printf '%s:%s' "$rs_id" "$rs_secret" | base64 -w0)"
form=application/x-www-form-urlencoded
token=$(curl -fs -H "$basic" -d grant_type=client_credentials "$base/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
seconds=$((minutes * 60))
BENCH_INTROSPECTOR="$rs_id:$rs_secret" taskset -c 0 "$flow" soak "$seconds" 4 >"$work/flows" &
flows=$!
TESSERA_BENCH_METHOD=POST TESSERA_BENCH_HEADER="$basic" TESSERA_BENCH_BODY="grant_type=client_credentials" \
  TESSERA_BENCH_CONTENT_TYPE=$form taskset -c 0 wrk -t1 -c$connections -d"${seconds}s" -s bench/request.lua \
  "$base/token" >"$work/tokens" &
tokens=$!
TESSERA_BENCH_METHOD=POST TESSERA_BENCH_HEADER="$basic" TESSERA_BENCH_BODY="token=$token" \
  TESSERA_BENCH_CONTENT_TYPE=$form taskset -c 0 wrk -t1 -c$connections -d"${seconds}s" -s bench/request.lua \
  "$base/introspect" >"$work/introspections" &
introspections=$!
TESSERA_BENCH_METHOD=POST TESSERA_BENCH_BODY="{\"endpoint\":\"$endpoint\",\"method\":\"POST\",\"token\":\"$primary\"}" \
  TESSERA_BENCH_EXPECT='"allowed":true' taskset -c 0 wrk -t1 -c$connections -d"${seconds}s" -s bench/request.lua \
  "$base/v1/endpoint-check" >"$work/checks" &
checks=$!

peak=0
for m in $(seq "$minutes"); do
  sleep 60
  now=$(rss)
  peak=$(awk -v a="$peak" -v b="$now" 'BEGIN { print (b > a ? b : a) }')
  report "minute $m"
done
wait "$flows" "$tokens" "$introspections" "$checks"
report "end of load"
sleep 30
report "idle 30 s later"
sleep 60
report "idle 90 s later"
echo "peak rss_mib=$peak"
echo "flows:          $(grep '^bench:' "$work/flows")"
echo "tokens:         $(grep '^bench:' "$work/tokens")"
echo "introspections: $(grep '^bench:' "$work/introspections")"
echo "endpoint checks: $(grep '^bench:' "$work/checks")"

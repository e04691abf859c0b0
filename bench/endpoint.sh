#!/usr/bin/env bash
# Endpoint check rate and how many of the checked calls the data viewer shows,
# run by hand (not in CI): bash bench/endpoint.sh [runs] [seconds]
#
# In each run, with the server on core 1 (one worker) and wrk on core 0:
#   C  GET /.well-known/jwks.json (the server's trivial answer: the ceiling)
#   E  POST /v1/endpoint-check with a secondary token mapped to the endpoint
#      (every answer must be {"allowed": true, ...})
# After all runs, the data viewer's count of the endpoint's calls (its summary)
# is compared with the requests wrk completed for E (plus the one check made
# before; wrk does not count the requests still in flight when a run ends, so
# the viewer may show a few more).
# Targets: E/C >= 0.6, and at least 95% of the calls recorded.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-5}
seconds=${2:-10}
connections=${BENCH_CONNECTIONS:-32}
port=${BENCH_PORT:-18082}
source bench/lib.sh

app=$("$bin" app create --name bench --json)
app_id=$(json "$app" id)
master=$(json "$app" master_token)
start_server

auth="Authorization: Token $master"
api() { # method path [body]
  curl -fs -X "$1" -H "$auth" -H 'content-type: application/json' ${3:+-d "$3"} "$base/admin/v1/apps/$app_id$2"
}
endpoint=$(json "$(api POST /endpoints '{"name": "orders", "path": "/orders"}')" id)
secondary=$(api POST /endpoint-tokens '{"name": "ERP"}')
token_id=$(json "$secondary" id)
token=$(json "$secondary" token)
api PUT "/endpoints/$endpoint/assignments/$token_id" '{"methods": ["POST"]}' >/dev/null
body="{\"endpoint\": \"$endpoint\", \"method\": \"POST\", \"token\": \"$token\"}"
answer=$(curl -fs -H 'content-type: application/json' -d "$body" "$base/v1/endpoint-check")
case "$answer" in *'"allowed":true'*) ;; *) echo "endpoint check answered $answer" >&2; exit 1 ;; esac

: >"$work/jwks"; : >"$work/endpoint"
for i in $(seq "$runs"); do
  load jwks "$base/.well-known/jwks.json"
  TESSERA_BENCH_METHOD=POST TESSERA_BENCH_BODY="$body" TESSERA_BENCH_EXPECT='"allowed":true' \
    load endpoint "$base/v1/endpoint-check"
done

made=$(( $(field requests <"$work/endpoint" | paste -sd+ -) + 1 ))
recorded=$(api GET "/endpoints/$endpoint/calls/summary" |
  python3 -c 'import json,sys; print(sum(i["calls"] for i in json.load(sys.stdin)["items"]))')
dropped=$(grep -c 'endpoint calls dropped' "$work/server.log" || true)

c=$(field rps <"$work/jwks" | median)
e=$(field rps <"$work/endpoint" | median)
echo
echo "median of $runs runs ($seconds s each, $connections connections, server on 1 core, 1 worker):"
echo "  C  GET /.well-known/jwks.json:    $c /s"
echo "  E  POST /v1/endpoint-check:       $e /s  (p50 $(field p50_us <"$work/endpoint" | median) us, p99 $(field p99_us <"$work/endpoint" | median) us)"
echo "  calls checked $made, recorded in the data viewer $recorded (drop warnings in the log: $dropped)"
awk -v e="$e" -v c="$c" -v m="$made" -v r="$recorded" \
  'BEGIN { printf "  E/C = %.2f (target >= 0.60), recorded %.1f%% (target >= 95%%)\n", e / c, 100 * r / m }'

#!/usr/bin/env bash
# Forward-auth and opaque-token introspection rates, run by hand (not in CI):
#   bash bench/check.sh [runs] [seconds]
#
# In each run, with the server on core 1 (one worker) and wrk on core 0:
#   C  GET /.well-known/jwks.json (the server's trivial answer: the ceiling)
#   F  GET /v1/auth/check with a mobile token (Authorization: Bearer)
#   I  POST /introspect of an API token (Basic client authentication)
# Prints each run, then medians and the ratios F/C and I/C (target >= 0.6 each:
# no database read on the hot path for a known token).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-5}
seconds=${2:-10}
connections=${BENCH_CONNECTIONS:-32}
port=${BENCH_PORT:-18081}
source bench/lib.sh

app=$("$bin" app create --name bench --json)
app_id=$(json "$app" id)
master=$(json "$app" master_token)
rs=$("$bin" client create --name rs --type confidential --grant client_credentials --scope master --app "$app_id" --json)
rs_id=$(json "$rs" client_id)
rs_secret=$(json "$rs" client_secret)
printf 'correct horse battery\n' | "$bin" user create --username bench --app "$app_id" --password-stdin >/dev/null
api=$("$bin" api-token create --user bench --expires-in 30d --app "$app_id" --json)
api_token=$(json "$api" token)

start_server
auth="Authorization: Token $master"
curl -fs -X PATCH -H "$auth" -H 'content-type: application/json' -d '{"forward_auth": true}' \
  "$base/admin/v1/apps/$app_id" >/dev/null
mobile=$(curl -fs -X POST -H "$auth" -H 'content-type: application/json' -d '{"name": "bench"}' \
  "$base/admin/v1/apps/$app_id/mobile-tokens" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $mobile" "$base/v1/auth/check")
[ "$status" = 200 ] || { echo "auth check answered $status" >&2; cat "$work/server.log" >&2; exit 1; }

basic="Authorization: Basic $(printf '%s:%s' "$rs_id" "$rs_secret" | base64 -w0)"
form=application/x-www-form-urlencoded
: >"$work/jwks"; : >"$work/check"; : >"$work/introspect"
for i in $(seq "$runs"); do
  load jwks "$base/.well-known/jwks.json"
  TESSERA_BENCH_HEADER="Authorization: Bearer $mobile" load check "$base/v1/auth/check"
  TESSERA_BENCH_METHOD=POST TESSERA_BENCH_HEADER="$basic" TESSERA_BENCH_BODY="token=$api_token" \
    TESSERA_BENCH_CONTENT_TYPE=$form TESSERA_BENCH_EXPECT='"active":true' load introspect "$base/introspect"
done

c=$(field rps <"$work/jwks" | median)
f=$(field rps <"$work/check" | median)
n=$(field rps <"$work/introspect" | median)
echo
echo "median of $runs runs ($seconds s each, $connections connections, server on 1 core, 1 worker):"
echo "  C  GET /.well-known/jwks.json:   $c /s"
echo "  F  GET /v1/auth/check (mobile):  $f /s  (p50 $(field p50_us <"$work/check" | median) us)"
echo "  I  POST /introspect (API token): $n /s  (p50 $(field p50_us <"$work/introspect" | median) us)"
awk -v f="$f" -v n="$n" -v c="$c" 'BEGIN { printf "  F/C = %.2f, I/C = %.2f (target >= 0.60 each)\n", f / c, n / c }'

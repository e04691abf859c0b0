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

if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)" >&2
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
cargo build --release --quiet --bin tessera
bin=target/release/tessera

work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

export TESSERA__DATABASE__URL="sqlite://$work/bench.db"
export TESSERA__KEYS__DIR="$work/keys"
export TESSERA__SECURITY__DATA_KEY_FILE="$work/data.key"
export TESSERA__SERVER__BIND="127.0.0.1:$port"
export TESSERA__ISSUER="http://127.0.0.1:$port"
export TESSERA__SERVER__WORKERS=1
export TESSERA__LOG__LEVEL=warn
base="http://127.0.0.1:$port"
json() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

app=$("$bin" app create --name bench --json)
app_id=$(json "$app" id)
master=$(json "$app" master_token)
rs=$("$bin" client create --name rs --type confidential --grant client_credentials --scope master --app "$app_id" --json)
rs_id=$(json "$rs" client_id)
rs_secret=$(json "$rs" client_secret)
printf 'correct horse battery\n' | "$bin" user create --username bench --app "$app_id" --password-stdin >/dev/null
api=$("$bin" api-token create --user bench --expires-in 30d --app "$app_id" --json)
api_token=$(json "$api" token)

taskset -c 1 "$bin" serve >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  curl -fs "$base/.well-known/jwks.json" >/dev/null 2>&1 && break
  sleep 0.1
done
auth="Authorization: Token $master"
curl -fs -X PATCH -H "$auth" -H 'content-type: application/json' -d '{"forward_auth": true}' \
  "$base/admin/v1/apps/$app_id" >/dev/null
mobile=$(curl -fs -X POST -H "$auth" -H 'content-type: application/json' -d '{"name": "bench"}' \
  "$base/admin/v1/apps/$app_id/mobile-tokens" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $mobile" "$base/v1/auth/check")
[ "$status" = 200 ] || { echo "auth check answered $status" >&2; cat "$work/server.log" >&2; exit 1; }

one() { # file url [header]
  local line
  line=$(TESSERA_BENCH_HEADER="${3:-}" taskset -c 0 wrk -t1 -c"$connections" -d"${seconds}s" --latency \
    -s bench/get.lua "$2" | grep '^bench:')
  case "$line" in *" non2xx=0 errors=0 "*) ;; *) echo "failed requests: $line" >&2; exit 1 ;; esac
  echo "$line" >>"$work/$1"
  echo "run $i $1: ${line#bench: }"
}
form() { # file body
  local line
  line=$(TESSERA_BENCH_AUTH=$(printf '%s:%s' "$rs_id" "$rs_secret" | base64 -w0) TESSERA_BENCH_BODY="$2" \
    taskset -c 0 wrk -t1 -c"$connections" -d"${seconds}s" --latency -s bench/form.lua "$base/introspect" | grep '^bench:')
  echo "$line" >>"$work/$1"
  echo "run $i $1: ${line#bench: }"
}
: >"$work/jwks"; : >"$work/check"; : >"$work/introspect"
for i in $(seq "$runs"); do
  one jwks "$base/.well-known/jwks.json"
  one check "$base/v1/auth/check" "Authorization: Bearer $mobile"
  form introspect "token=$api_token"
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
c=$(field rps <"$work/jwks" | median)
f=$(field rps <"$work/check" | median)
n=$(field rps <"$work/introspect" | median)
echo
echo "median of $runs runs ($seconds s each, $connections connections, server on 1 core, 1 worker):"
echo "  C  GET /.well-known/jwks.json:   $c /s"
echo "  F  GET /v1/auth/check (mobile):  $f /s  (p50 $(field p50_us <"$work/check" | median) us)"
echo "  I  POST /introspect (API token): $n /s  (p50 $(field p50_us <"$work/introspect" | median) us)"
awk -v f="$f" -v n="$n" -v c="$c" 'BEGIN { printf "  F/C = %.2f, I/C = %.2f (target >= 0.60 each)\n", f / c, n / c }'

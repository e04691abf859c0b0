#!/usr/bin/env bash
# The hot paths against their ceilings, all measured in the same run, by hand (not
# in CI): bash bench/hot.sh [runs] [seconds]
#
# Server on core 1 (one worker), load on core 0. Per run:
#   C  GET /.well-known/jwks.json (the server's trivial answer)
#   S, V  the raw ES256 signing and verification rates of one core (examples/sign_rate)
#   T  client-credentials tokens          target >= 0.8 x 1/(1/S + 1/C)
#   O  introspection of an API token      target >= 0.6 x C
#   J  introspection of a JWT             target >= 0.8 x 1/(1/V + 1/C)
#   X  token exchange (mobile token)      target >= 0.8 x T
#   R  refresh, 16 clients in a loop      target >= 0.25 x C, p99 < 10 ms
#   L  GET of a token status list         target >= 0.8 x C
#   W  C again with one connection: what the same trivial answer costs the
#      server's core when the load generator sleeps between answers (each
#      answer then wakes it, and the loopback charges that to the sender)
# Each load line also gives server_us, the server's CPU time per answer.
# Prints each run, then the medians, bounds and ratios.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-3}
seconds=${2:-10}
connections=${BENCH_CONNECTIONS:-32}
port=${BENCH_PORT:-18084}
source bench/lib.sh
cargo build --release --quiet --example sign_rate --example flow_bench

app=$("$bin" app create --name bench --json)
app_id=$(json "$app" id)
master=$(json "$app" master_token)
rs=$("$bin" client create --name rs --type confidential --grant client_credentials \
  --grant urn:ietf:params:oauth:grant-type:token-exchange --scope master --app "$app_id" --json)
rs_id=$(json "$rs" client_id)
rs_secret=$(json "$rs" client_secret)
printf 'correct horse battery\n' | "$bin" user create --username bench --app "$app_id" --password-stdin >/dev/null
api=$("$bin" api-token create --user bench --expires-in 30d --app "$app_id" --json)
api_token=$(json "$api" token)

start_server
basic="Authorization: Basic $(printf '%s:%s' "$rs_id" "$rs_secret" | base64 -w0)"
mobile=$(curl -fs -X POST -H "Authorization: Token $master" -H 'content-type: application/json' \
  -d '{"name": "bench"}' "$base/admin/v1/apps/$app_id/mobile-tokens" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
jwt=$(curl -fs -H "$basic" -d grant_type=client_credentials "$base/token" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
list=$(python3 -c 'import base64,json,sys; p=sys.argv[1].split(".")[1]; p+="="*(-len(p)%4); print(json.loads(base64.urlsafe_b64decode(p))["status"]["status_list"]["uri"])' "$jwt")
form=application/x-www-form-urlencoded
post() { # name body path [expect]
  TESSERA_BENCH_METHOD=POST TESSERA_BENCH_HEADER="$basic" TESSERA_BENCH_BODY="$2" \
    TESSERA_BENCH_CONTENT_TYPE=$form TESSERA_BENCH_EXPECT="${4:-}" load "$1" "$base/$3"
}
exchange="grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token=$mobile"
exchange="$exchange&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token"
for f in jwks sign tokens opaque jwt exchange refresh list wake; do : >"$work/$f"; done
for i in $(seq "$runs"); do
  load jwks "$base/.well-known/jwks.json"
  sign=$(taskset -c 1 target/release/examples/sign_rate 3)
  echo "run $i sign:     $sign"
  echo "$sign" >>"$work/sign"
  post tokens grant_type=client_credentials token
  post opaque "token=$api_token" introspect '"active":true'
  post jwt "token=$jwt" introspect '"active":true'
  post exchange "$exchange" token
  line=$(taskset -c 0 target/release/examples/flow_bench refresh "$seconds" 16 | grep '^bench:')
  echo "run $i refresh:  ${line#bench: }"
  echo "$line" >>"$work/refresh"
  load list "$list"
  connections=1 load wake "$base/.well-known/jwks.json"
done

c=$(field rps <"$work/jwks" | median)
s=$(field raw_sign_per_sec <"$work/sign" | median)
v=$(field raw_verify_per_sec <"$work/sign" | median)
t=$(field rps <"$work/tokens" | median)
o=$(field rps <"$work/opaque" | median)
j=$(field rps <"$work/jwt" | median)
x=$(field rps <"$work/exchange" | median)
r=$(field per_sec <"$work/refresh" | median)
rp99=$(field p99_us <"$work/refresh" | median)
l=$(field rps <"$work/list" | median)
cu=$(field server_us <"$work/jwks" | median)
wu=$(field server_us <"$work/wake" | median)
tu=$(field server_us <"$work/tokens" | median)
ju=$(field server_us <"$work/jwt" | median)
echo
echo "medians of $runs runs ($seconds s each, $connections connections; server on 1 core, 1 worker):"
awk -v c="$c" -v s="$s" -v v="$v" -v t="$t" -v o="$o" -v j="$j" -v x="$x" -v r="$r" -v rp99="$rp99" -v l="$l" \
  -v cu="$cu" -v wu="$wu" -v tu="$tu" -v ju="$ju" 'BEGIN {
  printf "  C jwks %.0f/s   S sign %.0f/s   V verify %.0f/s\n", c, s, v
  bt = 1 / (1 / s + 1 / c); printf "  T client credentials %.0f/s   bound %.0f   ratio %.2f (target 0.80)\n", t, bt, t / bt
  printf "  O introspect API token %.0f/s   bound C   ratio %.2f (target 0.60)\n", o, o / c
  bj = 1 / (1 / v + 1 / c); printf "  J introspect JWT %.0f/s   bound %.0f   ratio %.2f (target 0.80)\n", j, bj, j / bj
  printf "  X token exchange %.0f/s   bound T   ratio %.2f (target 0.80)\n", x, x / t
  printf "  R refresh (16 clients) %.0f/s   bound C   ratio %.3f (target 0.25), p99 %.1f ms (target < 10)\n", r, r / c, rp99 / 1000
  printf "  L status list %.0f/s   bound C   ratio %.2f (target 0.80)\n", l, l / c
  printf "  server CPU per answer: C %.1f us, W (C, one connection) %.1f us, T %.1f us, J %.1f us\n", cu, wu, tu, ju
}'

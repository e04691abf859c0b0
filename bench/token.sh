#!/usr/bin/env bash
# Token endpoint benchmarks, run by hand (not in CI): bash bench/token.sh [runs] [seconds]
#
# 1. Client-credentials tokens per second on POST /token (wrk, Debian's package),
#    against the raw ES256 signing rate of one core (examples/sign_rate).
# 2. Full authorization code flows per second (authorize -> login -> consent ->
#    token, argon2id at the configured cost) and refresh grants per second
#    (examples/flow_bench).
# 3. Introspection requests per second (of a JWT access token, and of a master
#    token) and token exchanges per second (master token -> JWT), with wrk.
#
# The server runs on core 1 with one worker, the load generators on core 0, so the
# server is measured on one core as the signing is. Prints each run, then medians.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-5}
seconds=${2:-10}
connections=${BENCH_CONNECTIONS:-32}
port=${BENCH_PORT:-18080}

source bench/lib.sh
cargo build --release --quiet --example sign_rate --example flow_bench

client=$("$bin" client create --name bench --type confidential --grant client_credentials --scope mobile --json)
id=$(json "$client" client_id)
secret=$(json "$client" client_secret)
basic="Authorization: Basic $(printf '%s:%s' "$id" "$secret" | base64 -w0)"

start_server
status=$(curl -s -o /dev/null -w '%{http_code}' -u "$id:$secret" -d grant_type=client_credentials "$base/token")
[ "$status" = 200 ] || { echo "token endpoint answered $status" >&2; cat "$work/server.log" >&2; exit 1; }

form=application/x-www-form-urlencoded
: >"$work/endpoint"
: >"$work/sign"
for i in $(seq "$runs"); do
  TESSERA_BENCH_METHOD=POST TESSERA_BENCH_HEADER="$basic" \
    TESSERA_BENCH_BODY=grant_type=client_credentials TESSERA_BENCH_CONTENT_TYPE=$form load endpoint "$base/token"
  sign=$(taskset -c 1 target/release/examples/sign_rate 3)
  echo "run $i signing:  $sign"
  echo "$sign" >>"$work/sign"
done

: >"$work/code"
: >"$work/refresh"
for i in $(seq "$runs"); do
  line=$(taskset -c 0 target/release/examples/flow_bench code "$seconds" 8 | grep '^bench:')
  echo "run $i code flow: ${line#bench: }"
  echo "$line" >>"$work/code"
  line=$(taskset -c 0 target/release/examples/flow_bench refresh "$seconds" 16 | grep '^bench:')
  echo "run $i refresh:   ${line#bench: }"
  echo "$line" >>"$work/refresh"
done

# An application with its master token, and a client that introspects and exchanges.
app=$("$bin" app create --name bench --json)
app_id=$(json "$app" id)
master=$(json "$app" master_token)
rs=$("$bin" client create --name rs --type confidential --grant client_credentials \
  --grant urn:ietf:params:oauth:grant-type:token-exchange --scope master --app "$app_id" --json)
rs_id=$(json "$rs" client_id)
rs_secret=$(json "$rs" client_secret)
jwt=$(curl -s -u "$rs_id:$rs_secret" -d grant_type=client_credentials "$base/token" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
run_form() { # name body path
  TESSERA_BENCH_METHOD=POST TESSERA_BENCH_BODY="$2" TESSERA_BENCH_CONTENT_TYPE=$form \
    TESSERA_BENCH_HEADER="Authorization: Basic $(printf '%s:%s' "$rs_id" "$rs_secret" | base64 -w0)" \
    load "$1" "$base/$3"
}
: >"$work/introspect_jwt"; : >"$work/introspect_master"; : >"$work/exchange"
for i in $(seq "$runs"); do
  run_form introspect_jwt "token=$jwt" introspect
  run_form introspect_master "token=$master" introspect
  run_form exchange "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token=$master&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token" token
done

rps=$(field rps <"$work/endpoint" | median)
p50=$(field p50_us <"$work/endpoint" | median)
p99=$(field p99_us <"$work/endpoint" | median)
raw=$(field raw_sign_per_sec <"$work/sign" | median)
mint=$(field jwt_mint_per_sec <"$work/sign" | median)
echo
echo "median of $runs runs ($seconds s each, $connections connections, server on 1 core):"
echo "  token endpoint:       $rps tokens/s  (p50 ${p50} us, p99 ${p99} us)"
echo "  raw ES256 signatures: $raw /s on one core"
echo "  full JWT minting:     $mint /s on one core"
awk -v a="$rps" -v b="$raw" 'BEGIN { printf "  endpoint / raw signing = %.2f (target >= 0.50)\n", a / b }'
echo "  full code flow:       $(field per_sec <"$work/code" | median) flows/s (8 browsers; p50 $(field p50_us <"$work/code" | median) us, p99 $(field p99_us <"$work/code" | median) us)"
echo "  refresh grant:        $(field per_sec <"$work/refresh" | median) refreshes/s (16 clients; p50 $(field p50_us <"$work/refresh" | median) us, p99 $(field p99_us <"$work/refresh" | median) us)"
for what in introspect_jwt introspect_master exchange; do
  printf '  %-21s %s requests/s (p50 %s us, p99 %s us)\n' "$what:" "$(field rps <"$work/$what" | median)" \
    "$(field p50_us <"$work/$what" | median)" "$(field p99_us <"$work/$what" | median)"
done

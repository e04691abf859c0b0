# Shared by the bench scripts: source it after `cd` to the repository root.
# It installs wrk if missing, builds the release binary, makes a scratch
# directory and the environment of a server on one worker, and gives:
#   start_server        serve on core 1 and wait until it answers
#   load FILE URL       wrk on core 0 with bench/request.lua (TESSERA_BENCH_*
#                       variables shape the request); appends its line to FILE
#   median, field NAME  medians of the "bench:" lines
#   json TEXT KEY       a member of a JSON object
# Callers set runs, seconds, connections and port first.

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
# Per-request info lines would measure the terminal, not the server.
export TESSERA__LOG__LEVEL=warn
base="http://127.0.0.1:$port"

json() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

start_server() {
  taskset -c 1 "$bin" serve >"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do
    curl -fs "$base/.well-known/jwks.json" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "the server did not start" >&2
  cat "$work/server.log" >&2
  exit 1
}

# The server's CPU time so far (user + system), in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }

load() { # file url
  local line before after requests
  before=$(cpu_ticks)
  line=$(taskset -c 0 wrk -t1 -c"$connections" -d"${seconds}s" --latency -s bench/request.lua "$2" | grep '^bench:')
  after=$(cpu_ticks)
  case "$line" in *" non2xx=0 errors=0 "*) ;; *) echo "failed requests: $line" >&2; exit 1 ;; esac
  # The server's CPU time per answer, in microseconds.
  requests=$(echo "$line" | sed -n 's/.*requests=\([0-9]*\).*/\1/p')
  line="$line server_us=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$requests" \
    'BEGIN {printf "%.1f", t * 1e6 / hz / n}')"
  echo "$line" >>"$work/$1"
  echo "run ${i:-1} $1: ${line#bench: }"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }

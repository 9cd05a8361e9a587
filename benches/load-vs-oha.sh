#!/usr/bin/env bash
# Side-by-side: oha vs `spotcheck load` against one loopback HTTP server, same
# concurrency and duration, alternating rounds. The server is the sink
# (examples/sink.rs, answers 200 at once) or, with SERVER=nginx, the loopback nginx
# of benches/load-vs-wrk.sh (benches/loopback-nginx.sh). spotcheck signs every request (fresh id, timestamp, HMAC,
# B3 ids); oha sends one fixed body. Prints req/s per round, medians and the ratio
# (target: spotcheck >= 1.2x oha against nginx, issue 30; >= 1.0x was the sink's).
#
# Usage: [SERVER=sink|nginx] [SPOTCHECK=path] benches/load-vs-oha.sh [ROUNDS] [CONCURRENCY] [DURATION_SECONDS]
# Only ever targets 127.0.0.1. Installs oha with `cargo install oha --locked` if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
concurrency=${2:-32}
secs=${3:-5}
server=${SERVER:-sink}
case "$server" in
  sink) port=${SINK_PORT:-18080} ;;
  nginx) port=${NGINX_PORT:-18090} ;;
  *) echo "SERVER must be sink or nginx" >&2; exit 2 ;;
esac
url="http://127.0.0.1:${port}/webhooks"

if ! command -v oha >/dev/null 2>&1; then
  echo "oha not found: cargo install oha --locked (takes a few minutes)"
  cargo install oha --locked
fi
# SPOTCHECK=path runs that binary instead of this tree's release build (to compare
# two builds against the same server).
if [ -z "${SPOTCHECK:-}" ]; then
  cargo build --release --locked --quiet --bin spotcheck
fi
if [ "$server" = sink ]; then
  cargo build --release --locked --quiet --example sink
fi
bin=${SPOTCHECK:-target/release/spotcheck}
sink=target/release/examples/sink

if [ "$server" = nginx ]; then
  # shellcheck source=benches/loopback-nginx.sh
  . benches/loopback-nginx.sh
  start_loopback_nginx "$port"
else
  "$sink" "$port" >/dev/null &
  sink_pid=$!
  trap 'kill "$sink_pid" 2>/dev/null || true' EXIT
  for _ in $(seq 1 50); do
    (echo > "/dev/tcp/127.0.0.1/${port}") 2>/dev/null && break
    sleep 0.1
  done
fi

export SPOTNANA_WEBHOOK_SECRET="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
# oha posts one fixed body of the same size as spotcheck's mean event body, so both
# move the same bytes.
probe=$(mktemp)
"$bin" load --endpoint "$url" --requests 1 -c 1 --seed 1 --quiet --report "json=$probe" >/dev/null
size=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mean_body_bytes"])' "$probe")
rm -f "$probe"
body=$(mktemp)
python3 -c 'import sys; n=int(sys.argv[1]); head="{\"eventType\":\"PNR_V3\",\"pad\":\""; sys.stdout.write(head + "x"*max(0, n-len(head)-2) + "\"}")' "$size" > "$body"
echo "server ${server} on 127.0.0.1:${port}, body ${size} bytes, concurrency ${concurrency}, ${secs}s per run, ${rounds} rounds each, alternating"

oha_rps=()
spot_rps=()
ratios=()
for i in $(seq 1 "$rounds"); do
  json=$(oha --no-tui --output-format json -c "$concurrency" -z "${secs}s" -m POST \
    -H 'Content-Type: application/json' -D "$body" "$url")
  o=$(printf '%s' "$json" | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["summary"]["requestsPerSec"],1))')
  oha_rps+=("$o")
  report=$(mktemp)
  # Seed 1 in every round: the bodies whose mean size oha's body copies.
  "$bin" load --endpoint "$url" -c "$concurrency" --duration "${secs}s" --seed 1 --quiet \
    --report "json=$report" >/dev/null || true
  s=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["throughput_rps"])' "$report")
  rm -f "$report"
  spot_rps+=("$s")
  r=$(python3 -c "print(round($s/$o, 3))")
  ratios+=("$r")
  echo "round $i: oha ${o} req/s, spotcheck ${s} req/s, ratio ${r}"
done
rm -f "$body"

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
om=$(median "${oha_rps[@]}")
sm=$(median "${spot_rps[@]}")
ratio=$(python3 -c "print(round($sm/$om, 3))")
echo "median over ${rounds} rounds, concurrency ${concurrency}, ${secs}s each:"
echo "  oha        ${om} req/s"
echo "  spotcheck  ${sm} req/s (every request signed)"
echo "  ratio      ${ratio}x (target >= 1.2 against nginx; >= 1.0 was the sink's)"
# Each round's two runs are back to back, so their ratio is the least disturbed by
# the machine's drift from round to round.
echo "  median of the rounds' own ratios: $(median "${ratios[@]}")x"

#!/usr/bin/env bash
# Side-by-side: wrk (`-t 1`, unsigned) vs `spotcheck load` (every request freshly
# signed) against one loopback nginx (`worker_processes 1`, `return 200`, started
# here with its own configuration), same concurrency and duration, alternating
# rounds (the tool that goes first alternates too). wrk posts, from a Lua script, the
# headers of one of spotcheck's requests (caught once, values included) and one fixed
# body as large as spotcheck's mean event body, so that both move the same bytes and
# nginx parses the same head for each.
# Each run is timed with /usr/bin/time: prints per round req/s and the client's
# user and system CPU per request, then the medians and the ratios.
#
# Usage: [THREADS=1] [SPOTCHECK=path] benches/load-vs-wrk.sh [ROUNDS] [CONCURRENCY] [DURATION_SECONDS]
# Needs wrk and nginx (Debian/Ubuntu: apt-get install wrk nginx) and python3.
# Only ever targets 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
concurrency=${2:-32}
secs=${3:-5}
port=${NGINX_PORT:-18090}
# One client thread each by default, as `wrk -t 1`; THREADS=0 gives spotcheck its
# default (one per core).
threads=${THREADS:-1}
thread_args=()
[ "$threads" != 0 ] && thread_args=(--threads "$threads")
url="http://127.0.0.1:${port}/webhooks"

if ! command -v wrk >/dev/null 2>&1; then
  echo "wrk not found (Debian/Ubuntu: apt-get install wrk)" >&2
  exit 2
fi
if [ ! -x /usr/bin/time ]; then
  echo "/usr/bin/time not found (Debian/Ubuntu: apt-get install time)" >&2
  exit 2
fi
# SPOTCHECK=path runs that binary instead of this tree's release build (to compare
# two builds against the same server).
[ -n "${SPOTCHECK:-}" ] || cargo build --release --locked --quiet --bin spotcheck
bin=${SPOTCHECK:-target/release/spotcheck}

# shellcheck source=benches/loopback-nginx.sh
. benches/loopback-nginx.sh
start_loopback_nginx "$port"
work="$NGINX_DIR"

export SPOTNANA_WEBHOOK_SECRET="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
"$bin" load --endpoint "$url" --requests 1 -c 1 --seed 1 --quiet --report "json=$work/probe.json" >/dev/null
size=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mean_body_bytes"])' "$work/probe.json")
# One request of spotcheck's, caught by a one-shot loopback listener: wrk sends its
# headers (names and values, so the same bytes for nginx to parse; `host` and
# `content-length` wrk writes itself) and a body of spotcheck's mean size.
python3 - "$work/head.txt" "$work/port" <<'EOF' &
import socket, sys
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(1)
open(sys.argv[2], "w").write(str(listener.getsockname()[1]))
conn, _ = listener.accept()
data = b""
while b"\r\n\r\n" not in data:
    data += conn.recv(65536)
head, rest = data.split(b"\r\n\r\n", 1)
length = next(int(l.split(b":", 1)[1]) for l in head.split(b"\r\n")[1:]
              if l.lower().startswith(b"content-length:"))
while len(rest) < length:
    rest += conn.recv(65536)
conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
conn.close()
open(sys.argv[1], "wb").write(head)
EOF
catcher=$!
for _ in $(seq 1 50); do [ -s "$work/port" ] && break; sleep 0.1; done
"$bin" load --endpoint "http://127.0.0.1:$(cat "$work/port")/webhooks" --requests 1 -c 1 --seed 1 --quiet >/dev/null
wait "$catcher"
python3 - "$size" "$work/head.txt" "$work/post.lua" <<'EOF'
import sys
n, head, path = int(sys.argv[1]), open(sys.argv[2], "rb").read().decode(), sys.argv[3]
start = '{"eventType":"PNR_V3","pad":"'
body = start + "x" * max(0, n - len(start) - 2) + '"}'
with open(path, "w") as out:
    out.write('wrk.method = "POST"\n')
    for line in head.split("\r\n")[1:]:
        name, value = line.split(":", 1)
        if name.lower() not in ("host", "content-length"):
            out.write('wrk.headers["%s"] = "%s"\n' % (name, value.strip()))
    out.write("wrk.body = [[" + body + "]]\n")
EOF
echo "nginx on 127.0.0.1:${port}; body ${size} bytes; concurrency ${concurrency}; spotcheck threads ${threads} (0: one per core); ${secs}s per run; ${rounds} rounds, alternating"
echo "wrk: $(wrk --version 2>&1 | head -1 | cut -c1-40)"

# Prints "req/s requests user_s sys_s" for one wrk run.
run_wrk() {
  /usr/bin/time -f '%U %S' -o "$work/wrk.time" \
    wrk -t 1 -c "$concurrency" -d "${secs}s" -s "$work/post.lua" "$url" >"$work/wrk.out" 2>&1
  python3 - "$work/wrk.out" "$work/wrk.time" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
requests = int(re.search(r"(\d+) requests in", text).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
if re.search(r"Non-2xx", text):
    sys.exit("wrk saw non-2xx answers:\n" + text)
user, sys_ = open(sys.argv[2]).read().split()[-2:]
print(rps, requests, user, sys_)
EOF
}

# Prints "req/s requests user_s sys_s" for one spotcheck run.
run_spotcheck() {
  /usr/bin/time -f '%U %S' -o "$work/spot.time" \
    "$bin" load --endpoint "$url" -c "$concurrency" --duration "${secs}s" --seed 1 --quiet \
    "${thread_args[@]}" --report "json=$work/spot.json" >/dev/null || true
  python3 - "$work/spot.json" "$work/spot.time" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
if report["ok"] != report["requests"]:
    sys.exit(f"spotcheck: {report['requests'] - report['ok']} answers were not 200")
user, sys_ = open(sys.argv[2]).read().split()[-2:]
print(report["throughput_rps"], report["requests"], user, sys_)
EOF
}

us() { python3 -c "print(round($1 * 1e6 / $2, 2))"; }

wrk_rps=(); spot_rps=(); ratios=()
wrk_user=(); wrk_sys=(); spot_user=(); spot_sys=()
for i in $(seq 1 "$rounds"); do
  if [ $((i % 2)) -eq 1 ]; then
    read -r wr wn wu ws < <(run_wrk)
    read -r sr sn su ss < <(run_spotcheck)
  else
    read -r sr sn su ss < <(run_spotcheck)
    read -r wr wn wu ws < <(run_wrk)
  fi
  wrk_rps+=("$wr"); spot_rps+=("$sr")
  wrk_user+=("$(us "$wu" "$wn")"); wrk_sys+=("$(us "$ws" "$wn")")
  spot_user+=("$(us "$su" "$sn")"); spot_sys+=("$(us "$ss" "$sn")")
  r=$(python3 -c "print(round($sr/$wr, 3))")
  ratios+=("$r")
  echo "round $i: wrk ${wr} req/s (user ${wrk_user[-1]} µs, sys ${wrk_sys[-1]} µs per request)," \
    "spotcheck ${sr} req/s (user ${spot_user[-1]} µs, sys ${spot_sys[-1]} µs per request), ratio ${r}"
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
wm=$(median "${wrk_rps[@]}")
sm=$(median "${spot_rps[@]}")
echo "median over ${rounds} rounds, concurrency ${concurrency}, ${secs}s each:"
echo "  wrk -t 1 (unsigned)          ${wm} req/s; per request user $(median "${wrk_user[@]}") µs, sys $(median "${wrk_sys[@]}") µs"
echo "  spotcheck (every one signed) ${sm} req/s; per request user $(median "${spot_user[@]}") µs, sys $(median "${spot_sys[@]}") µs"
echo "  ratio      $(python3 -c "print(round($sm/$wm, 3))")x (target >= 1.0)"
# Each round's two runs are back to back, so their ratio is the least disturbed by
# the machine's drift from round to round.
echo "  median of the rounds' own ratios: $(median "${ratios[@]}")x"

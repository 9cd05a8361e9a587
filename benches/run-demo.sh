#!/usr/bin/env bash
# Measures `spotcheck run` (the built-in demo: full suite against the in-process
# reference receiver over loopback HTTPS) wall time in release. Target: under 3 s
# on a 2-core machine. Usage: benches/run-demo.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
cargo build --release --locked --quiet
bin=target/release/spotcheck
times=()
for i in $(seq 1 "$rounds"); do
  start=$(date +%s%N)
  set +e
  "$bin" run --seed "$i" --quiet --color never >/dev/null
  code=$?
  set -e
  end=$(date +%s%N)
  ms=$(( (end - start) / 1000000 ))
  times+=("$ms")
  echo "round $i: ${ms} ms (exit $code)"
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
median=$(echo "$sorted" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
max=$(echo "$sorted" | tail -n1)
echo "spotcheck run (demo): median ${median} ms, max ${max} ms over ${rounds} rounds (target < 3000 ms)"

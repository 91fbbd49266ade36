#!/usr/bin/env bash
# A/B two builds of the decode timer on one model: alternate them ROUNDS times (weights on 2 MiB
# pages, `nice -n -5` when permitted), print each side's tok/s, the medians and B/A.
#   bash benches/compare/ab.sh TIMER_A TIMER_B MODEL.gguf [ROUNDS=8] [N=128]
# Build each side with `cargo build --release --manifest-path benches/compare/timer/Cargo.toml`
# and copy the binary away (benches/compare/timer/target/release/picoformer-decode-timer).
set -euo pipefail
A=$1; B=$2; M=$3; R=${4:-8}; N=${5:-128}
NICE=(); if nice -n -5 true 2>/dev/null; then NICE=(nice -n -5); fi
for _ in $(seq "$R"); do
    for side in A B; do
        bin=${!side}
        PICO_HUGEPAGES=1 "${NICE[@]}" "$bin" "$M" "$N" 2 | tail -1 |
            sed -n "s/.*\"tok_s\":\([0-9.]*\).*/$side \1/p"
    done
done | python3 -c '
import statistics as st, sys
d = {}
for line in sys.stdin:
    k, v = line.split()
    d.setdefault(k, []).append(float(v))
for k in sorted(d):
    print(k, "median %.1f" % st.median(d[k]), d[k])
if len(d) == 2:
    print("B/A %.3f" % (st.median(d["B"]) / st.median(d["A"])))
'

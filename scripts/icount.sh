#!/usr/bin/env bash
# Instructions per kernel on emulated Cortex-M (QEMU), deterministic and reproducible.
#
# Method: the `icount` firmware (targets/<t>/src/bin/icount.rs, regions in
# targets/fw-common/src/bench.rs) calls each kernel once between two marker functions
# `icount_start` / `icount_end`. QEMU runs with one instruction per translation block and
# `-d exec,nochain`, so it logs one line per executed instruction; the log is streamed through a
# FIFO into awk, which counts the lines between an execution of the start marker and the next
# execution of the end marker. The marker/call overhead is measured by an empty region and
# subtracted. Counts are instructions, not cycles.
#
#   bash scripts/icount.sh [m4f|m33|m55] [BIN]   (defaults m4f, icount) → a markdown table on stdout
#   BIN = icount (kernels), icount_token (demo LM: instructions per generated token) or
#   icount_moe (an MH-MoE layer vs a MAC-equal dense FFN)
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-m4f}
bin=${2:-icount}
case $which in
    m4f) dir=targets/cortex-m4f-qemu; tgt=thumbv7em-none-eabihf; qemu=(-machine mps2-an386 -cpu cortex-m4) ;;
    m33) dir=targets/cortex-m33-qemu; tgt=thumbv8m.main-none-eabihf; qemu=(-machine mps2-an505 -cpu cortex-m33) ;;
    m55) dir=targets/cortex-m55-qemu; tgt=thumbv8m.main-none-eabihf; qemu=(-machine mps3-an547 -cpu cortex-m55) ;;
    *) echo "unknown target $which" >&2; exit 2 ;;
esac
(cd "$dir" && cargo build --release --quiet --bin "$bin")
elf=$dir/target/$tgt/release/$bin
start=$(arm-none-eabi-nm "$elf" | awk '$3 == "icount_start" { print $1 }')
end=$(arm-none-eabi-nm "$elf" | awk '$3 == "icount_end" { print $1 }')
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkfifo "$tmp/log"
awk -v s="$start" -v e="$end" '
    { split($4, a, "/"); pc = a[2] }
    pc == s "" && !inside { inside = 1; n = 0; next }
    pc == e "" && inside { print n; inside = 0; next }
    inside { n++ }' "$tmp/log" > "$tmp/counts" &
awk_pid=$!
timeout -k 5 600 qemu-system-arm "${qemu[@]}" -nographic -semihosting-config enable=on,target=native \
    -singlestep -d exec,nochain -D "$tmp/log" -kernel "$elf" > "$tmp/regions"
wait $awk_pid
paste -d' ' <(sed -n 's/^region //p' "$tmp/regions") "$tmp/counts" | awk '
    BEGIN { print "| region | MACs | instructions | instructions/MAC |"; print "|---|---|---|---|" }
    $1 == "empty" { base = $3; next }
    { split($2, m, "="); n = $3 - base; ipm = (m[2] > 0) ? sprintf("%.3f", n / m[2]) : "-";
      printf "| %s | %s | %d | %s |\n", $1, m[2], n, ipm }'
echo
echo "target: $which ($tgt), marker overhead subtracted: $(head -1 "$tmp/counts") instructions, QEMU $(qemu-system-arm --version | head -1 | awk '{print $4}')"

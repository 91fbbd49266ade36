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
#   bash scripts/icount.sh a53|a53-novec|a55 → aarch64 (targets/aarch64-icount: a static Linux
#   binary under qemu-aarch64 user mode): each 288x288 matvec through the portable scalar row
#   kernels and through the dispatched ones (NEON), built with -C target-cpu=cortex-a53
#   (a53; LLVM may auto-vectorise the portable code), the same with LLVM's loop and SLP
#   vectorisers off (a53-novec: the portable code stays scalar; -C target-feature=-neon is no
#   option, it changes the float ABI against the prebuilt std), or -C target-cpu=cortex-a55
#   (a55: dotprod, so `sdot`; run on QEMU's `max` CPU).
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-m4f}
bin=${2:-icount}
case $which in
    m4f) dir=targets/cortex-m4f-qemu; tgt=thumbv7em-none-eabihf; qemu=(-machine mps2-an386 -cpu cortex-m4) ;;
    m33) dir=targets/cortex-m33-qemu; tgt=thumbv8m.main-none-eabihf; qemu=(-machine mps2-an505 -cpu cortex-m33) ;;
    m55) dir=targets/cortex-m55-qemu; tgt=thumbv8m.main-none-eabihf; qemu=(-machine mps3-an547 -cpu cortex-m55) ;;
    a53) cpu=cortex-a53; flags="-C target-cpu=cortex-a53" ;;
    a53-novec) cpu=cortex-a53
        flags="-C target-cpu=cortex-a53 -C llvm-args=-vectorize-loops=false -C llvm-args=-vectorize-slp=false" ;;
    a55) cpu=max; flags="-C target-cpu=cortex-a55" ;;
    *) echo "unknown target $which" >&2; exit 2 ;;
esac
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
if [[ $which == a5* ]]; then
    dir=targets/aarch64-icount; tgt=aarch64-unknown-linux-gnu; nm=aarch64-linux-gnu-nm; qemu_bin=qemu-aarch64
    (cd "$dir" && RUSTFLAGS="$flags -C target-feature=+crt-static -C relocation-model=static" \
        CARGO_TARGET_DIR=target/$which cargo build --release --quiet)
    elf=$dir/target/$which/$tgt/release/picoformer-aarch64-icount
    run=(qemu-aarch64 -cpu "$cpu" -singlestep -d exec,nochain -D "$tmp/log" "$elf")
else
    (cd "$dir" && cargo build --release --quiet --bin "$bin")
    elf=$dir/target/$tgt/release/$bin; nm=arm-none-eabi-nm; qemu_bin=qemu-system-arm
    run=(qemu-system-arm "${qemu[@]}" -nographic -semihosting-config enable=on,target=native
        -singlestep -d exec,nochain -D "$tmp/log" -kernel "$elf")
fi
start=$($nm "$elf" | awk '$3 == "icount_start" { print $1 }')
end=$($nm "$elf" | awk '$3 == "icount_end" { print $1 }')
mkfifo "$tmp/log"
awk -v s="$start" -v e="$end" '
    { split($4, a, "/"); pc = a[2] }
    pc == s "" && !inside { inside = 1; n = 0; next }
    pc == e "" && inside { print n; inside = 0; next }
    inside { n++ }' "$tmp/log" > "$tmp/counts" &
awk_pid=$!
timeout -k 5 600 "${run[@]}" > "$tmp/regions"
wait $awk_pid
if [[ $which == a5* ]]; then
    be=$(sed -n 's/^backend //p' "$tmp/regions")
    paste -d' ' <(sed -n 's/^region //p' "$tmp/regions") "$tmp/counts" | awk -v be="$be" '
        $1 == "empty" { base = $3; next }
        { split($2, m, "="); split($1, k, "/"); if (!(k[1] in macs)) order[++cnt] = k[1]
          macs[k[1]] = m[2]; c[k[1], k[2]] = $3 - base }
        END { print "| kernel | MACs | scalar instr | scalar instr/MAC | " be " instr | " be " instr/MAC | scalar/" be " |"
              print "|---|---|---|---|---|---|---|"
              for (i = 1; i <= cnt; i++) { r = order[i]; s = c[r, "scalar"]; d = c[r, "dispatch"]
                  printf "| %s | %d | %d | %.3f | %d | %.3f | %.2fx |\n", r, macs[r], s, s / macs[r], d, d / macs[r], s / d } }'
else
paste -d' ' <(sed -n 's/^region //p' "$tmp/regions") "$tmp/counts" | awk '
    BEGIN { print "| region | MACs | instructions | instructions/MAC |"; print "|---|---|---|---|" }
    $1 == "empty" { base = $3; next }
    { split($2, m, "="); n = $3 - base; ipm = (m[2] > 0) ? sprintf("%.3f", n / m[2]) : "-";
      printf "| %s | %s | %d | %s |\n", $1, m[2], n, ipm }'
fi
echo
echo "target: $which ($tgt${flags:+, $flags}), marker overhead subtracted: $(head -1 "$tmp/counts") instructions, QEMU $($qemu_bin --version | head -1 | grep -o 'version [0-9.]*' | cut -d' ' -f2)"

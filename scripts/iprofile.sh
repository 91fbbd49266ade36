#!/usr/bin/env bash
# Instructions per function inside the icount regions on emulated Cortex-M (QEMU): where a
# kernel's or a generated token's instructions go.
#
# Method: as scripts/icount.sh (one instruction per translation block, `-d exec,nochain`, the
# log streamed through a FIFO), but instead of counting the lines between the markers, awk
# histograms their program counters; each PC is then attributed to the function symbol that
# contains it (`nm -n`, demangled). All regions of the binary are summed (icount_token: the
# three measured decode steps). Inlined code counts for the function it was inlined into.
#
#   bash scripts/iprofile.sh [m4f|m33|m55] [BIN] [TOP]   (defaults m4f, icount_token, 25)
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-m4f}
bin=${2:-icount_token}
top=${3:-25}
case $which in
    m4f) dir=targets/cortex-m4f-qemu; tgt=thumbv7em-none-eabihf; qemu=(-machine mps2-an386 -cpu cortex-m4) ;;
    m33) dir=targets/cortex-m33-qemu; tgt=thumbv8m.main-none-eabihf; qemu=(-machine mps2-an505 -cpu cortex-m33) ;;
    m55) dir=targets/cortex-m55-qemu; tgt=thumbv8m.main-none-eabihf; qemu=(-machine mps3-an547 -cpu cortex-m55) ;;
    *) echo "unknown target $which" >&2; exit 2 ;;
esac
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$dir" && cargo build --release --quiet --bin "$bin")
elf=$dir/target/$tgt/release/$bin
start=$(arm-none-eabi-nm "$elf" | awk '$3 == "icount_start" { print $1 }')
end=$(arm-none-eabi-nm "$elf" | awk '$3 == "icount_end" { print $1 }')
mkfifo "$tmp/log"
awk -v s="$start" -v e="$end" '
    { split($4, a, "/"); pc = a[2] }
    pc == s "" && !inside { inside = 1; next }
    pc == e "" && inside { inside = 0; next }
    inside { h[pc]++ }
    END { for (p in h) print p, h[p] }' "$tmp/log" > "$tmp/hist" &
awk_pid=$!
timeout -k 5 600 qemu-system-arm "${qemu[@]}" -nographic -semihosting-config enable=on,target=native \
    -singlestep -d exec,nochain -D "$tmp/log" -kernel "$elf" > "$tmp/regions"
wait $awk_pid
arm-none-eabi-nm -n -C "$elf" | awk '$2 ~ /^[tTwW]$/' > "$tmp/syms"
python3 - "$tmp/hist" "$tmp/syms" "$top" <<'PY'
import bisect, collections, sys
hist = [(int(p, 16), int(n)) for p, n in (l.split() for l in open(sys.argv[1]))]
syms = sorted((int(l.split()[0], 16) & ~1, " ".join(l.split()[2:])) for l in open(sys.argv[2]))
addrs = [a for a, _ in syms]
per = collections.Counter()
for pc, n in hist:
    i = bisect.bisect_right(addrs, pc & ~1) - 1
    per[syms[i][1] if i >= 0 else "?"] += n
total = sum(per.values())
print("| function | instructions | share |")
print("|---|---|---|")
for name, n in per.most_common(int(sys.argv[3])):
    print(f"| `{name[:100]}` | {n:,} | {100 * n / total:.1f} % |")
print(f"| total | {total:,} | |")
PY
echo
echo "target: $which ($tgt), binary $bin, QEMU $(qemu-system-arm --version | head -1 | grep -o 'version [0-9.]*' | cut -d' ' -f2)"

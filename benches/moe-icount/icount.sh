#!/usr/bin/env bash
# Same method as scripts/icount.sh (exec trace between markers), for this firmware.
set -euo pipefail
cd "$(dirname "$0")"
cargo build --release --quiet
elf=target/thumbv7em-none-eabihf/release/picoformer-moe-icount
start=$(arm-none-eabi-nm "$elf" | awk '$3 == "icount_start" { print $1 }')
end=$(arm-none-eabi-nm "$elf" | awk '$3 == "icount_end" { print $1 }')
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkfifo "$tmp/log"
awk -v s="$start" -v e="$end" '
    { split($4, a, "/"); pc = a[2] }
    pc == s && !inside { inside = 1; n = 0; next }
    pc == e && inside { print n; inside = 0; next }
    inside { n++ }' "$tmp/log" > "$tmp/counts" &
awk_pid=$!
timeout -k 5 900 qemu-system-arm -machine mps2-an386 -cpu cortex-m4 -nographic -semihosting-config enable=on,target=native \
    -singlestep -d exec,nochain -D "$tmp/log" -kernel "$elf" > "$tmp/regions"
wait $awk_pid
paste -d' ' <(sed -n 's/^region //p' "$tmp/regions") "$tmp/counts" | awk '
    BEGIN { print "| region | MACs | instructions | instructions/MAC |"; print "|---|---|---|---|" }
    $1 == "empty" { base = $3; next }
    { split($2, m, "="); n = $3 - base; ipm = (m[2] > 0) ? sprintf("%.3f", n / m[2]) : "-";
      printf "| %s | %s | %d | %s |\n", $1, m[2], n, ipm }'
echo "marker overhead: $(head -1 "$tmp/counts")"

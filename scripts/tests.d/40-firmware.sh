#!/usr/bin/env bash
# Firmware in QEMU: each target crate runs the kernel self-tests on the committed golden inputs
# and exits through semihosting (0 = all cases match). Also reports flash/RAM use.
set -euo pipefail
cd "$(dirname "$0")/../../targets"
status=0
for t in cortex-m4f-qemu cortex-m33-qemu cortex-m0-qemu; do
    echo "--- $t"
    log=$(mktemp)
    if (cd "$t" && cargo run --release --quiet) >"$log" 2>&1; then
        grep -q "self-test: 0 failures" "$log" || { echo "no pass line"; status=1; }
    else
        echo "$t: firmware exited non-zero"; status=1
    fi
    cat "$log"
    elf=$(ls "$t"/target/*/release/picoformer-fw-* 2>/dev/null | grep -v '\.d$' | head -1)
    arm-none-eabi-size "$elf"
done
exit $status

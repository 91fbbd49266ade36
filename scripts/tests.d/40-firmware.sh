#!/usr/bin/env bash
# Firmware in QEMU.
# 1. Kernel self-tests: each target crate runs every ops golden case on the device and exits
#    through semihosting (0 = all cases match). Cortex-M55 (mps3-an547) runs them with the
#    Helium Q8_0 kernel, checked bit for bit against the scalar path like the M4F/M33 DSP one.
# 2. Demo LM (issue 8): `generate` (size-optimised `flash` profile) on Cortex-M4F and
#    Cortex-M33 (model in flash, static RAM only) must print exactly the token ids of the host simulation (targets/host-sim), which
#    also runs as aarch64 Linux under qemu-user. Checks the flash (<= 1 MiB) and RAM
#    (<= 256 KiB: statics + measured stack peak) budgets.
set -euo pipefail
cd "$(dirname "$0")/../../targets"
status=0
fail() { echo "FAIL: $*"; status=1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

for t in cortex-m4f-qemu cortex-m33-qemu cortex-m55-qemu cortex-m0-qemu; do
    echo "--- $t self-test"
    if (cd "$t" && cargo run --release --quiet) >"$tmp/$t.log" 2>&1; then
        grep -q "self-test: 0 failures" "$tmp/$t.log" || fail "$t: no pass line"
    else
        fail "$t: firmware exited non-zero"
    fi
    grep -vE '^ok ' "$tmp/$t.log" || true
    echo "$(grep -c '^ok ' "$tmp/$t.log") cases ok"
    elf=$(find "$t/target" -path '*release/picoformer-fw-*' -type f ! -name '*.d' | head -1)
    arm-none-eabi-size "$elf"
    if [ "$t" = cortex-m55-qemu ]; then
        # VMLADAVA.S8 disassembles as its alias VMLAVA.S8 (`grep -c`, not `-q`: an early exit
        # would kill objdump with SIGPIPE and fail the pipeline under pipefail).
        arm-none-eabi-objdump -d -m armv8.1-m.main "$elf" | grep -c 'vmlava\.s8' >/dev/null \
            && echo "$t: Helium kernel linked (vmladava.s8)" \
            || fail "$t: no Helium instructions in the self-test image"
    fi
done

echo "--- host simulation (x86-64)"
(cd host-sim && cargo run --release --quiet) >"$tmp/host.log"
grep '^token ' "$tmp/host.log" >"$tmp/host.tokens"
echo "--- host simulation (aarch64 Linux, qemu-user)"
(cd host-sim && CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
    CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu" \
    cargo run --release --quiet --target aarch64-unknown-linux-gnu) >"$tmp/a53.log"
diff <(grep '^token ' "$tmp/a53.log") "$tmp/host.tokens" >/dev/null \
    && echo "aarch64: 64 token ids identical to x86-64" || fail "aarch64 tokens differ from the host"

for t in cortex-m4f-qemu cortex-m33-qemu; do
    echo "--- $t demo LM"
    if ! (cd "$t" && cargo run --profile flash --quiet --bin generate) >"$tmp/$t.gen" 2>&1; then
        fail "$t: generate exited non-zero"
    fi
    grep -vE '^token ' "$tmp/$t.gen" || true
    if diff <(grep '^token ' "$tmp/$t.gen") "$tmp/host.tokens" >/dev/null; then
        echo "$t: $(wc -l <"$tmp/host.tokens") token ids identical to the host simulation"
    else
        fail "$t: token ids differ from the host simulation"
    fi
    elf=$(find "$t/target" -path '*/flash/generate' -type f | head -1)
    arm-none-eabi-size "$elf"
    flash=$(arm-none-eabi-size -A "$elf" | awk '$1 == ".vector_table" || $1 == ".text" || $1 == ".rodata" || $1 == ".data" { s += $2 } END { print s }')
    ram=$(sed -n 's/.*total \([0-9]*\) B.*/\1/p' "$tmp/$t.gen")
    echo "$t budget: flash $flash B (<= 1048576), RAM $ram B (<= 262144)"
    [ "$flash" -le 1048576 ] || fail "$t: flash budget exceeded"
    [ -n "$ram" ] && [ "$ram" -le 262144 ] || fail "$t: RAM budget exceeded"
done
echo "--- cortex-m4f-qemu demo LM with the defmt option"
if (cd cortex-m4f-qemu && cargo run --profile flash --quiet --bin generate --features defmt) >"$tmp/defmt.gen" 2>&1; then
    n=$(grep -a -c '^token ' "$tmp/defmt.gen" || true)
    [ "$n" = 64 ] && echo "defmt build: exit 0, 64 token lines" || fail "defmt build printed $n token lines"
else
    fail "defmt build of generate exited non-zero"
fi
exit $status

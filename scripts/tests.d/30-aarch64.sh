#!/usr/bin/env bash
# The kernel crate's host tests, cross-compiled for aarch64 Linux and run under qemu-user
# (an ARM SoC simulated on the host).
set -euo pipefail
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"
export PROPTEST_CASES=${PROPTEST_CASES:-64}
cargo test -p picoformer --target aarch64-unknown-linux-gnu --no-fail-fast
# The `dotprod` (`sdot`) variant of the NEON kernels against the scalar path: built for
# Cortex-A55, run on QEMU's `max` CPU (QEMU 7.2 has no cortex-a55 model). Own target dir, so the
# build above stays cached.
CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -cpu max -L /usr/aarch64-linux-gnu" \
    RUSTFLAGS="-C target-cpu=cortex-a55" CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/aarch64-dotprod" \
    cargo test -p picoformer --target aarch64-unknown-linux-gnu --test quant_neon --test quant_simd

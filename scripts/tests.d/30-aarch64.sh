#!/usr/bin/env bash
# The kernel crate's host tests, cross-compiled for aarch64 Linux and run under qemu-user
# (an ARM SoC simulated on the host).
set -euo pipefail
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"
export PROPTEST_CASES=${PROPTEST_CASES:-64}
cargo test -p picoformer --target aarch64-unknown-linux-gnu --no-fail-fast

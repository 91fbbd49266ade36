#!/usr/bin/env bash
# The kernel crate builds for every supported bare-metal target, with and without features.
set -euo pipefail
for t in thumbv6m-none-eabi thumbv7em-none-eabihf thumbv8m.main-none-eabihf aarch64-unknown-none \
         riscv32imac-unknown-none-elf; do
    echo "--- $t"
    cargo build -p picoformer --release --target "$t"
    cargo build -p picoformer --release --target "$t" --features fast-math
done
cargo build -p picoformer --release --target thumbv7em-none-eabihf --features defmt,alloc

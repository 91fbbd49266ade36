#!/usr/bin/env bash
# Host: formatting, lints, docs, and the test suites.
# The kernel crate is tested per feature set, not through one `cargo test --workspace`: cargo
# unifies features across the workspace (the tools enable `std`), and `std` switches matvec to
# runtime-detected AVX2/FMA. The default build runs the portable scalar code that the firmware
# runs (bit-exact checks hold there); `--features std` tests the SIMD tiers.
set -euo pipefail
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p picoformer --no-default-features -- -D warnings
cargo clippy -p picoformer --features fast-math,defmt -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc -p picoformer --no-deps
cargo test -p picoformer --no-fail-fast
cargo test -p picoformer --features std --no-fail-fast
cargo test -p picoformer --features fast-math --no-fail-fast
cargo test -p picoformer-tools --no-fail-fast

#!/usr/bin/env bash
# Host: formatting, lints, docs, and the whole workspace test suite.
set -euo pipefail
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p picoformer --no-default-features -- -D warnings
cargo clippy -p picoformer --features fast-math,defmt -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc -p picoformer --no-deps
cargo test --workspace
cargo test -p picoformer --features fast-math

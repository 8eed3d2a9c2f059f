#!/usr/bin/env bash
# The test command the README gives: installs the reference tools the tests need, checks
# formatting and lints, runs every test, and builds the fuzz targets.
#
# Tests compare boardproof live with dmidecode and lspci and read ../shared/testdata. With
# CI=true a missing reference tool fails its test instead of skipping it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh
[ -d ../shared/testdata ] || { echo "test.sh: ../shared/testdata is missing (clone shared beside this repo)" >&2; exit 2; }

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
cargo test --workspace --locked
# Fuzz targets must keep compiling; running them is `cargo +nightly fuzz run TARGET`
# (docs/fuzzing.md). A plain build works on the pinned stable toolchain.
cargo build --manifest-path fuzz/Cargo.toml --locked --bins
# Benches must keep compiling; their figures are in docs/performance.md.
cargo bench --workspace --all-features --locked --no-run
# The detection matrix: real boots of the lab server (QEMU, OVMF, swtpm). Fails on a lost
# detection, a false positive or a boot that sends no evidence. The coverage document of this
# run goes to target/lab/ (docs/detection-coverage.md is written by a deliberate run).
cargo build --release --locked
target/release/boardproof lab matrix --doc target/lab/detection-coverage.md --keep target/lab/boots

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

# Both lock files must be current before anything long runs: a stale fuzz lock once failed CI
# after the whole test suite had passed.
cargo metadata --locked --format-version 1 >/dev/null
cargo metadata --locked --format-version 1 --manifest-path fuzz/Cargo.toml >/dev/null
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
# Every test that skips (a missing reference tool or data file, outside CI only) says so in
# this file; under CI a skip fails its test, and a notice found here fails the run too.
skips="$PWD/target/test-skips.log"
mkdir -p target
: > "$skips"
# The crash-safety tests pause the binary inside a transaction: they need the test failpoints,
# which only this build has.
BOARDPROOF_SKIP_LOG="$skips" cargo test --workspace --locked --features boardproof/failpoints
if [ -s "$skips" ]; then
  echo "test.sh: $(wc -l < "$skips") tests skipped a check:" >&2
  sort "$skips" | uniq -c >&2
  if [ "${CI:-}" = true ] || [ "${CI:-}" = 1 ]; then
    echo "test.sh: skips are failures under CI" >&2
    exit 1
  fi
fi
# Fuzz targets keep compiling on the pinned stable toolchain (--locked: the fuzz lock file is
# current).
cargo build --manifest-path fuzz/Cargo.toml --locked --bins
# Benches must keep compiling; their figures are in docs/performance.md.
cargo bench --workspace --all-features --locked --no-run
# The instruction counts of the hot paths (callgrind) against their baseline: a 10x regression
# fails here whatever the machine's load (docs/performance.md, "Regression guard").
scripts/perf-guard.sh
# The detection matrix: real boots of the lab server (QEMU, OVMF, swtpm). Fails on a lost
# detection, a false positive or a boot that sends no evidence. The coverage document of this
# run goes to target/lab/ (docs/detection-coverage.md is written by a deliberate run).
cargo build --release --locked
bin=target/x86_64-unknown-linux-gnu/release/boardproof
# A release build has no test failpoint: no environment variable can pause it mid-write.
if grep -q BOARDPROOF_TEST_FAILPOINT "$bin"; then
  echo "test.sh: the release binary contains the test failpoints" >&2
  exit 1
fi
# ...and loads nothing from the host it inspects (.cargo/config.toml links it statically).
if ! ldd "$bin" 2>&1 | grep -Eq 'not a dynamic executable|statically linked'; then
  echo "test.sh: the release binary is dynamic:" >&2
  ldd "$bin" >&2
  exit 1
fi
# The README's main job, exactly as written, on a store of its own: the first run records the
# baseline (exit 0), a second compares with it (exit 0 on an unchanged host).
readme_store="$(mktemp -d)"
XDG_DATA_HOME="$readme_store" cargo run --release -- scan
XDG_DATA_HOME="$readme_store" cargo run --release -- scan
rm -rf "$readme_store"
"$bin" lab matrix --doc target/lab/detection-coverage.md --keep target/lab/boots
# Every fuzz target replays its seeds and regression inputs, then fuzzes FUZZ_SECONDS (20)
# each; a crash fails (docs/fuzzing.md). After the matrix: its kept boots and kernel are seeds.
scripts/fuzz-ci.sh

#!/usr/bin/env bash
# Instruction-count regression guard (issue 15, item 9): runs each hot path of
# crates/verify/benches/instructions.rs under callgrind, counting only the measured work, and
# compares the count with crates/verify/benches/instructions.baseline. Counts do not depend on
# the machine's load, so this holds on a noisy CI machine where wall-clock timings do not.
#
#   scripts/perf-guard.sh            # check (fails on a case above TOLERANCE x its baseline)
#   scripts/perf-guard.sh --update   # rewrite the baseline from this build (review the diff)
#
# Fails when a case exceeds TOLERANCE (default 1.5) times its baseline, when a case falls
# below a third of it (the case probably stopped doing its work: look, then --update), when a
# case or a baseline line is missing, and when its own self-test shows it could not catch a
# 10x regression. Needs valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
baseline=crates/verify/benches/instructions.baseline
tolerance=${TOLERANCE:-1.5}
command -v valgrind >/dev/null || { echo "perf-guard: valgrind is not installed" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

bin=$(cargo bench -p boardproof-verify --bench instructions --locked --no-run --message-format=json 2>/dev/null \
  | python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "instructions" and m.get("executable"):
        print(m["executable"])')
[ -x "$bin" ] || { echo "perf-guard: the instructions bench did not build" >&2; exit 2; }

# count CASE [REPEAT]: instructions executed inside `measured`.
count() {
  valgrind --tool=callgrind --toggle-collect='*measured*' \
    --callgrind-out-file="$tmp/cg.out" "$bin" "$1" "${2:-1}" >"$tmp/log" 2>&1 || {
      echo "perf-guard: case $1 failed:" >&2; tail -5 "$tmp/log" >&2; exit 1; }
  local n
  n=$(sed -n 's/^totals: //p' "$tmp/cg.out")
  if [ -z "$n" ] || [ "$n" -le 0 ]; then
    echo "perf-guard: case $1: callgrind collected nothing (is \`measured\` still there?)" >&2
    exit 1
  fi
  echo "$n"
}

# Instruction counts depend on which code paths the CPU's features select (AVX2, SHA, ADX…):
# the baseline records them; on a CPU with other features the tolerance widens to 3x (a 10x
# regression is still caught) and says so.
cpu=$(grep -m1 -o -w -E 'avx2|avx512f|bmi2|adx|sha_ni|aes|pclmulqdq' /proc/cpuinfo | sort -u | tr '\n' ' ' | sed 's/ $//')
cases=$("$bin" --list)
if [ "${1:-}" = --update ]; then
  {
    echo "# Instructions inside \`measured\` per case (callgrind), written by scripts/perf-guard.sh --update"
    echo "# with $(rustc --version), $(valgrind --version); checked by scripts/perf-guard.sh."
    echo "# cpu: $cpu"
    for c in $cases; do echo "$c $(count "$c")"; done
  } >"$baseline"
  cat "$baseline"
  exit 0
fi

judge() { # judge CASE COUNT BASE -> prints verdict, returns 1 on a regression
  python3 - "$@" "$tolerance" <<'PY'
import sys
case, n, base, tol = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
ratio = n / base
verdict = "ok"
if ratio > tol:
    verdict = f"REGRESSION (> {tol}x)"
elif ratio < 1 / 3:
    verdict = "FELL below a third: does the case still do its work? (then --update)"
print(f"| {case} | {base:,} | {n:,} | {ratio:.2f} | {verdict} |")
sys.exit(0 if verdict == "ok" else 1)
PY
}

base_cpu=$(sed -n 's/^# cpu: //p' "$baseline")
if [ "$base_cpu" != "$cpu" ]; then
  echo "perf-guard: the baseline was counted on a CPU with features [$base_cpu], this one has [$cpu]: tolerance 3x" >&2
  tolerance=3
fi
failed=0
echo "| case | baseline | now | ratio | verdict |"
echo "|---|---:|---:|---:|---|"
for c in $cases; do
  base=$(awk -v c="$c" '$1 == c { print $2 }' "$baseline")
  if [ -z "$base" ]; then
    echo "| $c | — | — | — | NO BASELINE (run --update) |"; failed=1; continue
  fi
  judge "$c" "$(count "$c")" "$base" || failed=1
done
for c in $(awk '!/^#/ { print $1 }' "$baseline"); do
  grep -qx "$c" <<<"$cases" || { echo "| $c | | | | CASE GONE from the harness |"; failed=1; }
done

# Self-test: the guard must catch the first case made 10x as expensive.
first=$(head -1 <<<"$cases")
base=$(awk -v c="$first" '$1 == c { print $2 }' "$baseline")
if judge "$first x10" "$(count "$first" 10)" "$base" >/dev/null; then
  echo "perf-guard: self-test failed: $first run 10 times was not flagged" >&2
  exit 1
fi
echo
echo "self-test: $first run 10 times is flagged as a regression"
exit $failed

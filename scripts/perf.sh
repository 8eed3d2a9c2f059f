#!/usr/bin/env bash
# Measures the figures in docs/performance.md on this machine, boardproof beside the reference
# tools in the same run. Prints markdown; paste it into docs/performance.md with the date and
# the machine.
#
#   scripts/perf.sh            # all of it (about 8 minutes on 2 cores)
#   scripts/perf.sh attest     # only the event log and quote figures
#   scripts/perf.sh firmware   # only the firmware inventory figures (UEFIExtract beside)
#   scripts/perf.sh tlog       # only the transparency log figures (openssl beside)
#
# Needs hyperfine, dmidecode, pciutils and usbutils (scripts/install-test-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
testdata=../shared/testdata/smbios
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

cargo build --release --locked -q
# The release binary is static (glibc static-pie, .cargo/config.toml): no shared libraries to
# load at start, and nothing from the inspected host's libc or ld.so.preload runs inside it.
bp=target/x86_64-unknown-linux-gnu/release/boardproof

echo "## Machine"
echo
echo "- $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "- $(uname -sr); $(dmidecode --version 2>/dev/null | sed 's/^/dmidecode /'), $(lspci --version), $(lsusb --version 2>&1 | head -1), $(hyperfine --version)"
echo

section=${1:-all}
if [ "$section" = tlog ] || [ "$section" = all ]; then
echo "## criterion: transparency log appends and inclusion proofs; signatures; openssl speed ed25519, ecdsap256, ecdsap384, rsa2048"
echo
cargo bench --locked -q -p boardproof-ledger --bench tlog -- --noplot 2>/dev/null \
  | grep -E "^tlog/|time:|thrpt:" || true
cargo bench --locked -q -p boardproof-ledger --bench signatures -- --noplot 2>/dev/null \
  | grep -E "^signatures/|time:|thrpt:" || true
cargo bench --locked -q -p boardproof-signature --bench verify -- --noplot 2>/dev/null \
  | grep -E "^signature/|time:|thrpt:" || true
openssl version
openssl speed -seconds 5 ed25519 2>/dev/null | tail -2
openssl speed -seconds 5 ecdsap256 2>/dev/null | tail -2
openssl speed -seconds 5 ecdsap384 2>/dev/null | tail -2
openssl speed -seconds 5 rsa2048 2>/dev/null | tail -2
echo
[ "$section" = tlog ] && exit 0
fi
if [ "$section" = firmware ] || [ "$section" = all ]; then
echo "## firmware inspect --json vs UEFIExtract report (whole process, full inventory)"
echo
echo "UEFIExtract $(UEFIExtract 2>&1 | head -1 | sed 's/^UEFIExtract //')"
echo
echo "| image | bytes | boardproof mean ± σ | UEFIExtract mean ± σ | UEFIExtract / boardproof |"
echo "|---|---:|---:|---:|---:|"
for f in /usr/share/OVMF/OVMF_CODE_4M.fd /usr/share/OVMF/OVMF_CODE_4M.secboot.fd \
         ../shared/testdata/uefi/fiano-ApolloLake-Fsp.fd; do
  name=$(basename "$f")
  # UEFIExtract writes its report beside the image: a copy in the scratch folder.
  cp "$f" "$out/$name"
  hyperfine -N --warmup 3 --min-runs 20 --export-json "$out/$name.json" \
    "$bp firmware inspect --json $out/$name" "UEFIExtract $out/$name report" >/dev/null 2>&1
  python3 - "$out/$name.json" "$name" "$(stat -c %s "$f")" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
ms = lambda x: f"{x * 1e3:.1f} ms"
print(f"| {sys.argv[2]} | {sys.argv[3]} | {ms(r[0]['mean'])} ± {ms(r[0]['stddev'])} | "
      f"{ms(r[1]['mean'])} ± {ms(r[1]['stddev'])} | {r[1]['mean'] / r[0]['mean']:.1f} |")
EOF
done
echo
echo "## criterion: in-process inventory of OVMF_CODE_4M.fd, SHA-256 of its decompressed bytes once"
echo
cargo bench --locked -q -p boardproof-formats --bench uefi -- --noplot 2>/dev/null \
  | grep -E "^uefi/|time:|thrpt:" || true
echo
[ "$section" = firmware ] && exit 0
fi
if [ "$section" = attest ] || [ "$section" = all ]; then
echo "## eventlog replay vs tpm2_eventlog, every shared log (whole process, output to /dev/null)"
echo
echo "Exit codes as each tool answered (a log one of them refuses is still timed: refusing is work)."
echo
echo "| file | bytes | boardproof mean ± σ (exit) | tpm2_eventlog mean ± σ (exit) | tpm2_eventlog / boardproof |"
echo "|---|---:|---:|---:|---:|"
for f in testdata/lab/golden/eventlog.bin ../shared/testdata/eventlog/*; do
  name=$(basename "$f")
  hyperfine -N --warmup 20 --min-runs 200 --ignore-failure --export-json "$out/$name.json" \
    "$bp eventlog replay $f" "tpm2_eventlog $f" >/dev/null 2>&1
  python3 - "$out/$name.json" "$name" "$(stat -c %s "$f")" >>"$out/eventlog.md" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
us = lambda x: f"{x * 1e6:.0f} µs"
code = lambda x: ",".join(str(c) for c in sorted(set(x.get("exit_codes", []))))
print(f"| {sys.argv[2]} | {sys.argv[3]} | {us(r[0]['mean'])} ± {us(r[0]['stddev'])} ({code(r[0])}) | "
      f"{us(r[1]['mean'])} ± {us(r[1]['stddev'])} ({code(r[1])}) | {r[1]['mean'] / r[0]['mean']:.1f} |")
EOF
done
cat "$out/eventlog.md"
echo
python3 - "$out/eventlog.md" <<'EOF'
import sys
ratios = sorted(float(l.rsplit("|", 2)[1]) for l in open(sys.argv[1]))
print(f"{len(ratios)} logs; tpm2_eventlog / boardproof from {ratios[0]:.1f} to {ratios[-1]:.1f}; "
      f"{sum(x >= 5 for x in ratios)} of {len(ratios)} at 5 or more")
EOF
echo
echo "## criterion: event log parse+replay, SHA-256 extends alone, quote verification"
echo
cargo bench --locked -q -p boardproof-formats --bench eventlog -- --noplot 2>/dev/null \
  | grep -E "^eventlog/|time:|thrpt:" || true
cargo bench --locked -q -p boardproof-attest --features test-util --bench quote -- --noplot 2>/dev/null \
  | grep -E "^quote/|time:|thrpt:" || true
echo
echo "## openssl speed (one core), same machine, same run"
echo
openssl version
openssl speed -seconds 5 -bytes 64 sha256 2>/dev/null | tail -2
openssl speed -seconds 5 ecdsap256 2>/dev/null | tail -2
echo
[ "$section" = attest ] && exit 0
fi

echo "## smbios decode vs dmidecode --from-dump (whole process, output to /dev/null)"
echo
echo "| file | bytes | boardproof (static) mean ± σ | dmidecode mean ± σ | ratio |"
echo "|---|---:|---:|---:|---:|"
for f in "$testdata"/*.dump; do
  name=$(basename "$f")
  hyperfine -N --warmup 20 --min-runs 200 --ignore-failure \
    --export-json "$out/$name.json" \
    "$bp smbios decode $f" "dmidecode --from-dump $f" >/dev/null 2>&1
  python3 - "$out/$name.json" "$name" "$(stat -c %s "$f")" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
ours, theirs = r[0], r[1]
us = lambda x: f"{x * 1e6:.0f} µs"
print(f"| {sys.argv[2]} | {sys.argv[3]} | {us(ours['mean'])} ± {us(ours['stddev'])} | "
      f"{us(theirs['mean'])} ± {us(theirs['stddev'])} | {ours['mean'] / theirs['mean']:.2f} |")
EOF
done
echo

echo "## collect vs dmidecode + lspci -vvv + lsusb -v (this host, whole process)"
echo
hyperfine -N --warmup 3 --min-runs 20 --ignore-failure --export-json "$out/collect.json" \
  "$bp collect --out $out/ev.json" \
  "dmidecode" "lspci -vvv" "lsusb -v" >/dev/null 2>&1
python3 - "$out/collect.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
ms = lambda x: f"{x * 1e3:.1f} ms"
print("| command | mean ± σ | exit codes seen |")
print("|---|---:|---|")
for x in r:
    codes = sorted(set(x.get("exit_codes", [])))
    print(f"| `{x['command'].replace(sys.argv[1].rsplit('/', 1)[0], '$TMP')}` | {ms(x['mean'])} ± {ms(x['stddev'])} | {codes} |")
total = sum(x["mean"] for x in r[1:])
print(f"| sum of the three reference tools | {ms(total)} | |")
print()
print(f"collect / sum = {r[0]['mean'] / total:.2f}")
EOF
echo

echo "## criterion"
echo
cargo bench --locked -q -p boardproof-verify --bench verify -- --noplot 2>/dev/null \
  | grep -E "^(verify/|smbios-decode/)|time:|thrpt:" || true
cargo bench --locked -q -p boardproof-collect --bench smbios -- --noplot 2>/dev/null \
  | grep -E "^(verify/|smbios-decode/)|time:|thrpt:" || true

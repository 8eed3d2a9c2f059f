#!/usr/bin/env bash
# Runs every cargo-fuzz target for real, as CI does: first a replay of its seed corpus and of
# its committed regression inputs (fuzz/regressions/TARGET/: inputs that once crashed, kept
# after the fix), every input run once; then a short fresh run of FUZZ_SECONDS (default 20)
# per target. Any crash, leak, timeout (10 s for one input) or out-of-memory fails the script.
#
# Seeds are built fresh from real data (../shared/testdata, Debian's packages, the repository's
# lab fixtures) into target/fuzz-ci/corpus/TARGET; libFuzzer adds what it finds there, and
# nothing of it is committed. Needs nightly and cargo-fuzz (scripts/install-test-deps.sh).
#
#   scripts/fuzz-ci.sh                # every target, 20 s each
#   FUZZ_SECONDS=0 scripts/fuzz-ci.sh # replay only
#   scripts/fuzz-ci.sh ekcert smbios  # some targets
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
shared=$root/../shared/testdata
seconds=${FUZZ_SECONDS:-20}
work=$root/target/fuzz-ci

if ! cargo +nightly --version >/dev/null 2>&1 || ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "fuzz-ci: needs the nightly toolchain and cargo-fuzz (scripts/install-test-deps.sh installs cargo-fuzz)" >&2
  exit 2
fi

mapfile -t all < <(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^boardproof-fuzz$')
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

# seed TARGET FILE...: copies real inputs into the target's corpus (missing files fail: a
# replay of nothing proves nothing).
seed() {
  local t=$1; shift
  mkdir -p "$work/corpus/$t"
  local f
  for f in "$@"; do
    [ -f "$f" ] || { echo "fuzz-ci: seed $f for $t is missing" >&2; exit 2; }
    cp "$f" "$work/corpus/$t/"
  done
}
# prefixed TARGET BYTE FILE...: seeds whose first byte selects the target's mode.
prefixed() {
  local t=$1 byte=$2; shift 2
  mkdir -p "$work/corpus/$t"
  local f
  for f in "$@"; do
    [ -f "$f" ] || { echo "fuzz-ci: seed $f for $t is missing" >&2; exit 2; }
    { printf "\\x$byte"; cat "$f"; } > "$work/corpus/$t/$byte-$(basename "$f")"
  done
}

rm -rf "$work/corpus"
lab=$root/testdata/lab/golden
seed smbios "$shared"/smbios/*.dump
seed evidence_json "$lab/evidence.json"
prefixed dsse_envelope 00 "$root/testdata/lab/golden-manifest.dsse.json"
prefixed dsse_envelope 01 "$lab/evidence.json"
seed acpi "$lab"/acpi/*
# Signed modules of Debian's kernel, when the lab has unpacked it (it has, after the matrix).
mods=$(find "$HOME/.cache/boardproof/lab/kernel" -name 'i2c-dev.ko' -o -name 'e1000e.ko' 2>/dev/null | head -2 || true)
seed kmod_sig "$shared/tpm/paccor-ek.cer" $mods
head -c 65536 /usr/share/misc/pci.ids > "$work/pci.ids.head"
seed pci_ids "$work/pci.ids.head"
# Configuration spaces of this machine's PCI functions (sysfs), when it shows any.
mkdir -p "$work/corpus/pci_config"
for c in /sys/bus/pci/devices/*/config; do
  [ -r "$c" ] && head -c 4096 "$c" > "$work/corpus/pci_config/$(basename "$(dirname "$c")")" 2>/dev/null || true
done
printf '\x86\x80\x0e\x10\x07\x00\x10\x00' > "$work/corpus/pci_config/minimal"
seed ima "$shared"/ima/* "$lab/ima.bin"
seed eventlog "$shared"/eventlog/* "$lab/eventlog.bin"
prefixed tpm2 01 "$shared/tpm/hirs-tpm2-ak.pub" "$shared/tpm/hirs-tpm2-ek.pub"
prefixed tpm2 00 "$shared/tpm/rustkeylime-test-quote.txt"
seed tpm_responses "$shared/tpm/hirs-tpm2-ek.pub"
seed lab_vars /usr/share/OVMF/OVMF_VARS_4M.fd /usr/share/OVMF/OVMF_VARS_4M.ms.fd
seed uefi_image "$shared"/uefi/*
seed pci_rom /usr/lib/ipxe/qemu/efi-e1000e.rom /usr/lib/ipxe/qemu/pxe-virtio.rom /usr/share/seabios/vgabios-stdvga.bin
seed platform_cert "$shared"/platform-cert/*.cer "$shared"/platform-cert/*.crt "$shared"/platform-cert/*.pem
seed corim "$shared"/corim/*
seed ekcert "$shared"/tpm/*.pem "$shared"/tpm/*.cer "$shared"/tpm/*.crt
seed tlog_proofs "$root/testdata/lab/golden-manifest.dsse.json"
# lab_transfer: what the guest sends (kept by the matrix with --keep), else a hand-made frame.
mkdir -p "$work/corpus/lab_transfer"
find "$root/target/lab/boots" -name data.out -size -2M 2>/dev/null | head -2 | while read -r f; do
  cp "$f" "$work/corpus/lab_transfer/$(basename "$(dirname "$(dirname "$f")")").out"
done
python3 - "$work/corpus/lab_transfer/minimal" <<'PY'
import sys, base64, hashlib
body = b'{}'
open(sys.argv[1], 'w').write('BOARDPROOF-LAB FILE evidence.json %d\n%s\nBOARDPROOF-LAB END evidence.json %s\nBOARDPROOF-LAB DONE 0\n'
    % (len(body), base64.b64encode(body).decode(), hashlib.sha256(body).hexdigest()))
PY
# Compressed streams made by the reference compressors (EDK2's C compressor, liblzma).
mkdir -p "$work/corpus/uefi_tiano" "$work/corpus/uefi_lzma" "$work/corpus/uefi_capsule"
python3 - "$shared/uefi/fiano-nvartest-fvh.bin" "$work/corpus" <<'PY'
import sys, lzma, struct
from uefi_firmware import efi_compressor as c
data = open(sys.argv[1], 'rb').read()[:16384]
out = sys.argv[2]
open(out + '/uefi_tiano/efi', 'wb').write(c.EfiCompress(data, len(data)))
open(out + '/uefi_tiano/tiano', 'wb').write(c.TianoCompress(data, len(data)))
raw = lzma.compress(data, format=lzma.FORMAT_ALONE)
# EDK2's LZMA section: props (5 bytes), the decompressed size (8), the stream.
open(out + '/uefi_lzma/edk2', 'wb').write(raw[:5] + struct.pack('<Q', len(data)) + raw[13:])
PY
seed uefi_capsule "$shared"/uefi/fiano-nvartest-fvh.bin

for t in "${targets[@]}"; do
  [ -d "$work/corpus/$t" ] || { echo "fuzz-ci: no seeds for target $t (add them to scripts/fuzz-ci.sh)" >&2; exit 2; }
  n=$(find "$work/corpus/$t" -type f | wc -l)
  [ "$n" -gt 0 ] || { echo "fuzz-ci: the seed corpus of $t is empty" >&2; exit 2; }
done

cd fuzz
# One build of every target (with its sanitizer); `fuzz run` then only runs it.
if ! cargo +nightly fuzz build > "$work/build.log" 2>&1; then
  tail -n 30 "$work/build.log" >&2
  echo "fuzz-ci: cargo fuzz build failed" >&2
  exit 1
fi
summary=()
for t in "${targets[@]}"; do
  regress=()
  [ -d "regressions/$t" ] && regress=("regressions/$t")
  log=$work/$t.log
  # Replay: every seed and regression input once.
  if ! cargo +nightly fuzz run "$t" "$work/corpus/$t" "${regress[@]}" -- \
      -runs=0 -timeout=10 -rss_limit_mb=2048 > "$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "fuzz-ci: $t failed replaying its seeds (log: $log)" >&2
    exit 1
  fi
  replayed=$(grep -c '^#[0-9]*.*\(INITED\|DONE\)' "$log" || true)
  if [ "$seconds" -gt 0 ]; then
    if ! cargo +nightly fuzz run "$t" "$work/corpus/$t" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=1048576 \
        -print_final_stats=1 >> "$log" 2>&1; then
      tail -n 30 "$log" >&2
      echo "fuzz-ci: $t crashed within $seconds s (log: $log; the input is in fuzz/artifacts/$t/)" >&2
      exit 1
    fi
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  seeds=$(find "$work/corpus/$t" -type f | wc -l)
  summary+=("$t: replayed, then ${runs:-0} runs in ${seconds} s, corpus now $seeds")
  : "$replayed"
done
printf 'fuzz-ci: %s\n' "${summary[@]}"
echo "fuzz-ci: ${#targets[@]} targets, no crash"

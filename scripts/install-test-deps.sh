#!/usr/bin/env bash
# Installs the Debian packages boardproof's tests compare against (reference tools and data):
#   dmidecode  SMBIOS decoding reference (tests/it/smbios_dmidecode.rs)
#   pciutils   lspci, PCI names reference (tests/it/pci_names.rs)
#   usbutils   lsusb, for the collect-time comparison in docs/performance.md
#   hwdata     pci.ids / usb.ids, the name databases collect reads for display
#   hyperfine  whole-process timing for docs/performance.md
#   valgrind   callgrind instruction counts of scripts/perf-guard.sh (the regression guard)
#   time       GNU time: peak memory of bounded reads (tests/it/bounded.rs)
#   tpm2-tools tpm2_eventlog, event log reference (tests/it/eventlog_tpm2.rs)
#   uefitool-cli UEFIExtract, firmware image reference (tests/it/firmware_uefiextract.rs)
#   cargo-fuzz and the nightly toolchain, for scripts/fuzz-ci.sh (every fuzz target run)
#   python3-pip, then PyPI's edk2-basetools (EDK2's GenerateCapsule, the capsule reference) and
#   uefi_firmware: EDK2's EFI/Tiano compressor in C, the reference for
#              tests/it/firmware_tiano.rs
#   the lab server (boardproof lab, crates/lab): qemu-system-x86 ovmf swtpm swtpm-tools
#              busybox-static e2fsprogs kmod binutils (apt-get download and dpkg-deb fetch
#              and unpack the guest kernel on first use)
# Installs only what is missing. Needs root (or sudo) when something is missing.
set -euo pipefail

packages=(dmidecode pciutils usbutils hwdata hyperfine valgrind tpm2-tools uefitool-cli
  qemu-system-x86 ovmf ipxe-qemu seabios swtpm swtpm-tools busybox-static e2fsprogs kmod binutils procps openssl time)
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

missing=()
for p in "${packages[@]}"; do
  have "$p" || missing+=("$p")
done
# EDK2's EFI/Tiano compressor (C, built by pip) for the decompression reference test.
if ! python3 -c "import uefi_firmware.efi_compressor" 2>/dev/null; then
  echo "install-test-deps: installing uefi_firmware (PyPI)" >&2
  python3 -m pip install --quiet --disable-pip-version-check uefi_firmware==1.16
fi
# EDK2's GenerateCapsule (Python, PyPI edk2-basetools): builds and dumps the FMP capsules the
# capsule reference test reads.
if ! python3 -c "import edk2basetools.Capsule.GenerateCapsule" 2>/dev/null; then
  echo "install-test-deps: installing edk2-basetools (PyPI)" >&2
  python3 -m pip install --quiet --disable-pip-version-check edk2-basetools==0.1.53
fi
# cbor2 (PyPI): the independent CBOR decoder the CoRIM reference test compares with.
if ! python3 -c "import cbor2" 2>/dev/null; then
  echo "install-test-deps: installing cbor2 (PyPI)" >&2
  python3 -m pip install --quiet --disable-pip-version-check cbor2==5.6.5
fi

# cargo-fuzz (crates.io) and the nightly toolchain: scripts/fuzz-ci.sh runs every fuzz target.
if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "install-test-deps: installing the nightly toolchain (rustup)" >&2
  rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "install-test-deps: installing cargo-fuzz (crates.io)" >&2
  cargo install cargo-fuzz --locked --version 0.13.2
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "install-test-deps: missing ${missing[*]} and not root (no sudo): install them and rerun" >&2
  exit 2
fi
echo "install-test-deps: installing ${missing[*]}" >&2
"${sudo[@]}" apt-get update -q
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"

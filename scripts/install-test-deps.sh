#!/usr/bin/env bash
# Installs the Debian packages boardproof's tests compare against (reference tools and data):
#   dmidecode  SMBIOS decoding reference (tests/it/smbios_dmidecode.rs)
#   pciutils   lspci, PCI names reference (tests/it/pci_names.rs)
#   usbutils   lsusb, for the collect-time comparison in docs/performance.md
#   hwdata     pci.ids / usb.ids, the name databases collect reads for display
#   hyperfine  whole-process timing for docs/performance.md
#   tpm2-tools tpm2_eventlog, event log reference (tests/it/eventlog_tpm2.rs)
#   the lab server (boardproof lab, crates/lab): qemu-system-x86 ovmf swtpm swtpm-tools
#              busybox-static e2fsprogs kmod binutils (apt-get download and dpkg-deb fetch
#              and unpack the guest kernel on first use)
# Installs only what is missing. Needs root (or sudo) when something is missing.
set -euo pipefail

packages=(dmidecode pciutils usbutils hwdata hyperfine tpm2-tools
  qemu-system-x86 ovmf swtpm swtpm-tools busybox-static e2fsprogs kmod binutils procps)
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

missing=()
for p in "${packages[@]}"; do
  have "$p" || missing+=("$p")
done
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

#!/usr/bin/env bash
# Snapshots the sysfs / procfs files `boardproof collect` reads into DEST, keeping symlinks as
# symlinks, so that `boardproof collect --root DEST` on any machine sees this one.
#
#   scripts/snapshot-host.sh DEST [--with-modules]
#
# Run as root: PCIe extended config space (device serial numbers) and the TPM event log are
# readable by root only. --with-modules also copies the file of every loaded kernel module
# (tens of MB); without it, collect on the snapshot reports those files as missing.
#
# A snapshot holds serial numbers, MAC addresses and the machine-id: treat it as you would an
# inventory of the server.
set -euo pipefail

usage() { echo "usage: $0 DEST [--with-modules]" >&2; exit 2; }
[ $# -ge 1 ] || usage
dest=$1; shift
with_modules=false
for a in "$@"; do
  case "$a" in
    --with-modules) with_modules=true ;;
    *) usage ;;
  esac
done
if [ -e "$dest" ] && [ -n "$(ls -A "$dest" 2>/dev/null)" ]; then
  echo "snapshot-host: $dest exists and is not empty; choose a new folder" >&2
  exit 2
fi
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)

# Attributes collect reads from a device folder or any of its parents.
attrs=(vendor device class subsystem_vendor subsystem_device revision config
       idVendor idProduct bcdDevice manufacturer product serial speed busnum devnum
       name address addr_assign_type dev_port size wwid model tpm_version_major)

# Copies one regular file (content only; sysfs sizes are not real sizes).
copy_file() {
  local rel=$1
  [ -f "/$rel" ] && [ -r "/$rel" ] || return 0
  mkdir -p "$dest/$(dirname "$rel")"
  cat "/$rel" > "$dest/$rel" 2>/dev/null || rm -f "$dest/$rel"
}

# Recreates one symlink with its original (relative) target.
copy_link() {
  local rel=$1
  [ -L "/$rel" ] || return 0
  mkdir -p "$dest/$(dirname "$rel")"
  ln -sfn "$(readlink "/$rel")" "$dest/$rel"
}

# Copies a device folder's known attributes, its driver/device links and a stand-in for an
# option ROM (collect only checks that `rom` exists), then does the same for its parents.
copy_device() {
  local dir=$1
  while [ "$dir" != "/sys/devices" ] && [ "$dir" != "/" ] && [ -n "$dir" ]; do
    local rel=${dir#/}
    [ -e "$dest/$rel/.copied" ] && return 0
    mkdir -p "$dest/$rel"
    for a in "${attrs[@]}"; do copy_file "$rel/$a"; done
    for l in driver device; do copy_link "$rel/$l"; done
    [ -e "/$rel/rom" ] && : > "$dest/$rel/rom"
    # nvme: the model and serial sit on the controller, one level up from the namespace.
    : > "$dest/$rel/.copied"
    dir=$(dirname "$dir")
  done
}

# Every entry of a class or bus folder: the link, then the device it points to.
copy_listing() {
  local rel=$1
  [ -d "/$rel" ] || return 0
  mkdir -p "$dest/$rel"
  local e
  for e in "/$rel"/*; do
    [ -e "$e" ] || continue
    local name=${e##*/}
    if [ -L "$e" ]; then
      copy_link "$rel/$name"
      copy_device "$(readlink -f "$e")"
      # block and net entries keep their identity one level down, behind `device`.
      if [ -L "$e/device" ]; then copy_device "$(readlink -f "$e/device")"; fi
    fi
  done
}

for f in proc/cpuinfo proc/modules proc/uptime proc/sys/kernel/hostname \
         proc/sys/kernel/osrelease proc/sys/kernel/random/boot_id etc/machine-id \
         sys/firmware/dmi/tables/smbios_entry_point sys/firmware/dmi/tables/DMI; do
  copy_file "$f"
done
if [ -d /sys/firmware/acpi/tables ]; then
  while IFS= read -r -d '' f; do copy_file "${f#/}"; done \
    < <(find /sys/firmware/acpi/tables -type f -print0)
fi
for l in sys/bus/pci/devices sys/bus/usb/devices sys/bus/i2c/devices sys/class/net \
         sys/block sys/class/tpm; do
  copy_listing "$l"
done
for t in /sys/kernel/security/tpm*/binary_bios_measurements; do
  [ -e "$t" ] && copy_file "${t#/}"
done

if $with_modules && [ -r /proc/modules ]; then
  release=$(uname -r)
  while read -r name _; do
    f=$(modinfo -n "$name" 2>/dev/null || true)
    case "$f" in
      /lib/modules/*|/usr/lib/modules/*) copy_file "${f#/}" ;;
    esac
  done < /proc/modules
  echo "snapshot-host: module files copied for kernel $release" >&2
fi

find "$dest" -name .copied -delete
echo "snapshot-host: wrote $dest ($(find "$dest" -type f | wc -l) files); try: boardproof collect --root $dest" >&2

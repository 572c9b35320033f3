#!/usr/bin/env bash
# The shell scripts that ship in the packages or build them parse: the maintainer scripts, the
# initramfs-tools hook, scripts and keyscript (run by /bin/sh: checked with dash, Debian's sh),
# the dracut module (bash), scripts/package and tests/packaging/chroot_install.sh (bash). The
# initramfs-tools scripts also answer "prereqs" as initramfs-tools asks them to.
set -euo pipefail
src=${CVM_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
status=0
count=0
check() {
  local shell=$1 f=$2
  count=$((count + 1))
  [ -f "$f" ] || { echo "missing: $f"; status=1; return; }
  [ -x "$f" ] || { echo "not executable: $f"; status=1; }
  "$shell" -n "$f" || { echo "$shell -n failed: $f"; status=1; }
}
for f in "$src"/packaging/deb/postinst "$src"/packaging/deb/prerm "$src"/packaging/deb/postrm \
  "$src"/packaging/initramfs-tools/hooks/cvm-agent \
  "$src"/packaging/initramfs-tools/scripts/init-premount/cvm-agent \
  "$src"/packaging/initramfs-tools/scripts/local-bottom/cvm-agent \
  "$src"/packaging/initramfs-tools/cryptroot-keyscript; do
  check dash "$f"
done
for f in "$src"/packaging/dracut/90cvm-agent/module-setup.sh "$src"/scripts/package \
  "$src"/tests/packaging/chroot_install.sh; do
  check bash "$f"
done
for f in "$src"/packaging/initramfs-tools/hooks/cvm-agent "$src"/packaging/initramfs-tools/scripts/*/cvm-agent; do
  answer=$(dash "$f" prereqs) || { echo "$f prereqs failed"; status=1; }
  [ -z "$answer" ] || [ "$answer" = "$(echo "$answer" | tr -cd 'a-z0-9_ -')" ] ||
    { echo "$f prereqs printed '$answer'"; status=1; }
done
# The dracut unit is a valid systemd unit.
if command -v systemd-analyze >/dev/null; then
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  mkdir -p "$root/usr/sbin" "$root/usr/lib/systemd/system" "$root/etc/cvm-agent"
  printf '#!/bin/sh\nexit 0\n' >"$root/usr/sbin/cvm-agentd" && chmod 0755 "$root/usr/sbin/cvm-agentd"
  cp "$src/packaging/dracut/90cvm-agent/cvm-agentd-initrd.service" "$root/usr/lib/systemd/system/"
  out=$(systemd-analyze verify --man=no --root="$root" "$root/usr/lib/systemd/system/cvm-agentd-initrd.service" 2>&1) || status=1
  [ -z "$out" ] || { echo "systemd-analyze verify cvm-agentd-initrd.service:"; echo "$out"; status=1; }
fi
[ $status = 0 ] && echo "$count packaging scripts parse; the initrd unit verifies"
exit $status

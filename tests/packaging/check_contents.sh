#!/usr/bin/env bash
# Checks what the packages scripts/package built ship for disk unlock: the cvm token plugin
# libcryptsetup-token-cvm.so in libcryptsetup's token directory (Debian 12 amd64:
# /usr/lib/x86_64-linux-gnu/cryptsetup/), mode 0644 root:root, exporting exactly the
# CRYPTSETUP_TOKEN_1.0 entry points; the same path in the RPM (when one was built and rpm is
# installed); and that the initramfs-tools hook and the dracut module copy it into the initrd
# (what they produce is checked by chroot_install.sh, which needs the network).
# The package: CVM_PACKAGE_DEB, else the newest build-package/out/*.deb. Exits 77 (skipped) when
# there is none.
set -euo pipefail
src=${CVM_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
deb=${CVM_PACKAGE_DEB:-$(ls -t "$src"/build-package/out/*.deb 2>/dev/null | head -1 || true)}
if [ -z "$deb" ] || [ ! -f "$deb" ]; then
  echo "no package built (run scripts/package); skipped"
  exit 77
fi
status=0
pass() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; status=1; }
arch=$(dpkg-deb -f "$deb" Architecture)
case "$arch" in
  amd64) multiarch=x86_64-linux-gnu ;;
  arm64) multiarch=aarch64-linux-gnu ;;
  *) multiarch=$(dpkg-architecture -a"$arch" -qDEB_HOST_MULTIARCH 2>/dev/null || echo "$arch") ;;
esac
plugin=usr/lib/$multiarch/cryptsetup/libcryptsetup-token-cvm.so

line=$(dpkg-deb -c "$deb" | awk -v p="./$plugin" '$NF == p')
if [ -z "$line" ]; then
  fail "$(basename "$deb") does not ship /$plugin"
else
  read -r mode owner _ <<<"$line"
  [ "$mode $owner" = "-rw-r--r-- root/root" ] && pass "$(basename "$deb") ships /$plugin ($mode $owner)" ||
    fail "/$plugin is '$mode $owner', expected '-rw-r--r-- root/root'"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work" "./$plugin"
  # Exported, defined dynamic symbols with their versions: only the token API.
  syms=$(objdump -T "$work/$plugin" | awk '$4 != "*UND*" && $4 != "*ABS*" && $2 == "g" {print $(NF-1), $NF}' | sort)
  want=$(printf 'CRYPTSETUP_TOKEN_1.0 cryptsetup_token_%s\n' buffer_free dump open open_pin validate version | sort)
  got=$(awk '$1 == "CRYPTSETUP_TOKEN_1.0"' <<<"$syms")
  [ "$got" = "$want" ] && pass "the plugin exports the six CRYPTSETUP_TOKEN_1.0 entry points" ||
    fail "the plugin's CRYPTSETUP_TOKEN_1.0 exports are: $(tr '\n' ' ' <<<"$got")"
  other=$(awk '$1 != "CRYPTSETUP_TOKEN_1.0" && $1 != "Base"' <<<"$syms")
  [ -z "$other" ] && pass "the plugin exports nothing else" || fail "the plugin also exports: $(tr '\n' ' ' <<<"$other")"
fi

rpm_file=$(ls -t "$(dirname "$deb")"/*.rpm 2>/dev/null | head -1 || true)
if [ -n "$rpm_file" ] && command -v rpm >/dev/null; then
  rline=$(rpm -qlvp "$rpm_file" 2>/dev/null | awk -v p="/$plugin" '$NF == p')
  if [ -z "$rline" ]; then
    fail "$(basename "$rpm_file") does not ship /$plugin"
  else
    read -r mode _ owner group _ <<<"$rline"
    [ "$mode $owner $group" = "-rw-r--r-- root root" ] && pass "$(basename "$rpm_file") ships /$plugin" ||
      fail "in the RPM /$plugin is '$mode $owner $group'"
  fi
else
  echo "note: no RPM to check (or rpm is not installed)"
fi

# The initrd generators copy the plugin from libcryptsetup's (multiarch) token directory.
grep -q 'copy_exec "\$plugin"' "$src/packaging/initramfs-tools/hooks/cvm-agent" &&
  grep -q '/usr/lib/\*/cryptsetup/libcryptsetup-token-cvm.so' "$src/packaging/initramfs-tools/hooks/cvm-agent" &&
  pass "the initramfs-tools hook copies the plugin" || fail "the initramfs-tools hook does not copy the plugin"
grep -q 'inst_libdir_file "cryptsetup/libcryptsetup-token-cvm.so"' "$src/packaging/dracut/90cvm-agent/module-setup.sh" &&
  pass "the dracut module installs the plugin" || fail "the dracut module does not install the plugin"
exit $status

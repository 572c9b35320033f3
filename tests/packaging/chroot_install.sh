#!/usr/bin/env bash
# Installs the cvm-agent .deb into a fresh Debian 12 (bookworm) debootstrap chroot and checks what
# an image builder relies on, without starting anything:
#   1. apt installs the .deb with its dependencies from the mirror;
#   2. the expected files are there with their modes and owners; the binaries run (--version);
#   3. the user cvm-agent exists (member of tss); the units are enabled (`systemctl --root`
#      is-enabled and the .wants symlinks); no process was started and /run/cvm-agent is absent;
#   4. mkinitramfs with the hook (initramfs-tools and cryptsetup-initramfs installed, a crypttab
#      naming the agent's keyscript) builds an initrd whose listing has the agent, the token
#      plugin (which the package must ship in libcryptsetup's token directory), the
#      configuration, the boot scripts and the keyscript;
#   5. in a second chroot, dracut with the 90cvm-agent module builds an initrd whose listing has
#      the agent, the plugin, the configuration, the initrd unit and rd.neednet=1;
#   6. purging the package removes the enablement and the state directory.
# The initrds are built for a stand-in kernel version (an empty module tree): what is checked is
# what the hook and the module add, not drivers.
# Needs root, debootstrap and the network to the Debian mirror (CVM_DEBIAN_MIRROR, default the
# one apt uses); takes a few minutes the first time. The base system and the downloaded packages
# are cached under /var/cache/cvm-agent-test, so reruns take about a minute.
# Usage: tests/packaging/chroot_install.sh [DEB]   (default: the newest build-package/out/*.deb)
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
deb=${1:-$(ls -t "$src"/build-package/out/*.deb 2>/dev/null | head -1 || true)}
[ -n "$deb" ] && [ -f "$deb" ] || { echo "chroot_install: no .deb (run scripts/package first)" >&2; exit 2; }
deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")
[ "$(id -u)" = 0 ] || { echo "chroot_install: needs root (debootstrap, chroot)" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "chroot_install: debootstrap is not installed" >&2; exit 2; }
mirror=${CVM_DEBIAN_MIRROR:-$(sed -n 's/^URIs: *\([^ ]*\/debian\)\/*$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)}
mirror=${mirror:-http://deb.debian.org/debian}
cache=${CVM_CHROOT_CACHE:-/var/cache/cvm-agent-test}
base=$cache/bookworm-minbase.tar.gz
archives=$cache/apt-archives
mkdir -p "$cache" "$archives/partial"

work=$(mktemp -d /var/tmp/cvm-chroot.XXXXXX)
mounts=()
cleanup() {
  local i
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[i]}" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
status=0
pass() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; status=1; }

if [ ! -f "$base" ]; then
  echo "chroot_install: debootstrap bookworm (minbase) from $mirror into the cache"
  debootstrap --variant=minbase bookworm "$work/base" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log"; exit 1; }
  rm -rf "$work/base/var/cache/apt/archives"/*.deb
  tar -C "$work/base" -czf "$base.tmp" . && mv "$base.tmp" "$base"
  rm -rf "$work/base"
fi

# A chroot from the cached base, with /proc and apt's package cache mounted.
new_root() {
  local r=$1
  mkdir -p "$r"
  tar -C "$r" -xzf "$base"
  mount -t proc proc "$r/proc" && mounts+=("$r/proc")
  mount --bind "$archives" "$r/var/cache/apt/archives" && mounts+=("$r/var/cache/apt/archives")
  cp /etc/resolv.conf "$r/etc/resolv.conf"
  echo "deb $mirror bookworm main" >"$r/etc/apt/sources.list"
  chroot "$r" apt-get update -qq >/dev/null
}
in_root() { local r=$1; shift; chroot "$r" env DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"; }

root=$work/root
new_root "$root"
cp "$deb" "$root/tmp/cvm-agent.deb"
if in_root "$root" apt-get install -y -qq --no-install-recommends /tmp/cvm-agent.deb >"$work/install.log" 2>&1; then
  pass "apt-get install $(basename "$deb") into a fresh bookworm chroot"
else
  tail -30 "$work/install.log"; fail "apt-get install"; exit 1
fi
# The token plugin must be in libcryptsetup's token directory (multiarch; Debian 12 amd64:
# /usr/lib/x86_64-linux-gnu/cryptsetup), where cryptsetup and systemd-cryptsetup look for it.
case "$(in_root "$root" dpkg --print-architecture)" in
  amd64) multiarch=x86_64-linux-gnu ;;
  arm64) multiarch=aarch64-linux-gnu ;;
  *) multiarch=unknown ;;
esac
plugin=/usr/lib/$multiarch/cryptsetup/libcryptsetup-token-cvm.so
in_root "$root" dpkg -L cvm-agent | grep -qx "$plugin" && pass "the package ships $plugin" ||
  fail "the package does not ship $plugin"

# Files, modes and owners.
expect() {  # PATH MODE OWNER:GROUP
  local got
  got=$(stat -c '%a %U:%G' "$root$1" 2>/dev/null) || { fail "$1 is missing"; return; }
  [ "$got" = "$2 $3" ] && pass "$1 $2 $3" || fail "$1 is '$got', expected '$2 $3'"
}
expect /usr/sbin/cvm-agentd 755 root:root
expect /usr/bin/cvmctl 755 root:root
expect /usr/bin/cvm-rp 755 root:root
expect /etc/cvm-agent 755 root:root
expect /etc/cvm-agent/config.yaml 644 root:root
for u in cvm-agentd.service cvm-agentd.socket cvm-agentd-credentials.socket cvm-agentd-cryptsetup.socket; do
  expect /lib/systemd/system/$u 644 root:root
done
expect /usr/lib/tmpfiles.d/cvm-agent.conf 644 root:root
expect /usr/lib/sysusers.d/cvm-agent.conf 644 root:root
expect /lib/udev/rules.d/60-cvm-agent.rules 644 root:root
for m in man8/cvm-agentd.8 man1/cvmctl.1 man8/cvm-rp.8 man5/cvm-agent.yaml.5; do
  expect /usr/share/man/$m.gz 644 root:root
done
expect /usr/share/bash-completion/completions/cvmctl 644 root:root
expect /usr/share/initramfs-tools/hooks/cvm-agent 755 root:root
expect /usr/share/initramfs-tools/scripts/init-premount/cvm-agent 755 root:root
expect /usr/share/initramfs-tools/scripts/local-bottom/cvm-agent 755 root:root
expect /usr/lib/cvm-agent/cryptroot-keyscript 755 root:root
expect /usr/lib/cvm-agent/cvm-agent-http 755 root:root
expect /usr/lib/dracut/modules.d/90cvm-agent/module-setup.sh 755 root:root
expect /usr/lib/dracut/modules.d/90cvm-agent/cvm-agentd-initrd.service 644 root:root
expect /usr/share/doc/cvm-agent/copyright 644 root:root
expect "$plugin" 644 root:root
grep -qx /etc/cvm-agent/config.yaml "$root/var/lib/dpkg/info/cvm-agent.conffiles" &&
  pass "config.yaml is a conffile" || fail "config.yaml is not a conffile"
for b in /usr/sbin/cvm-agentd /usr/bin/cvmctl /usr/bin/cvm-rp; do
  v=$(in_root "$root" "$b" --version 2>&1) && pass "$b --version: $v" || fail "$b --version: $v"
done
in_root "$root" bash -c 'source /usr/share/bash-completion/completions/cvmctl && complete -p cvmctl' >/dev/null &&
  pass "the bash completion loads" || fail "the bash completion does not load"
v=$(in_root "$root" man -w cvm-agentd 2>&1) && pass "man -w cvm-agentd: $v" || echo "note: man-db is not installed in the chroot"

# The user, the enabled units, and nothing running.
u=$(in_root "$root" getent passwd cvm-agent) && pass "user: $u" || fail "no user cvm-agent"
in_root "$root" id -nG cvm-agent | grep -qw tss && pass "cvm-agent is in group tss" || fail "cvm-agent is not in tss"
for unit in cvm-agentd.service cvm-agentd.socket cvm-agentd-credentials.socket cvm-agentd-cryptsetup.socket; do
  e=$(systemctl --root="$root" is-enabled "$unit" 2>&1 || true)
  [ "$e" = enabled ] && pass "$unit is enabled" || fail "$unit is '$e'"
done
for l in multi-user.target.wants/cvm-agentd.service sockets.target.wants/cvm-agentd.socket \
  sockets.target.wants/cvm-agentd-credentials.socket sockets.target.wants/cvm-agentd-cryptsetup.socket; do
  [ -L "$root/etc/systemd/system/$l" ] && pass "symlink /etc/systemd/system/$l" || fail "no /etc/systemd/system/$l"
done
[ ! -e "$root/run/cvm-agent" ] && pass "/run/cvm-agent was not created (nothing started)" || fail "/run/cvm-agent exists"
running=$(for p in /proc/[0-9]*; do
  if [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ]; then cat "$p/comm" 2>/dev/null || true; fi
done | sort -u | tr '\n' ' ')
[ -z "$running" ] && pass "no process runs in the chroot" || fail "processes in the chroot: $running"
echo "cvm-agentd --check-config of the shipped example: $(in_root "$root" cvm-agentd --check-config /etc/cvm-agent/config.yaml 2>&1 | head -3)"

# initramfs-tools: the hook, with a crypttab that names the keyscript.
kver=6.1.0-cvm-test
fake_kernel() {
  mkdir -p "$1/lib/modules/$kver" "$1/boot"
  touch "$1/lib/modules/$kver/modules.order" "$1/lib/modules/$kver/modules.builtin" "$1/lib/modules/$kver/modules.builtin.modinfo"
  printf 'CONFIG_RD_GZIP=y\nCONFIG_RD_ZSTD=y\n' >"$1/boot/config-$kver"
}
if in_root "$root" apt-get install -y -qq --no-install-recommends initramfs-tools cryptsetup-initramfs busybox >"$work/initramfs.log" 2>&1; then
  fake_kernel "$root"
  echo "root UUID=00000000-0000-0000-0000-000000000000 none luks,keyscript=/usr/lib/cvm-agent/cryptroot-keyscript" >"$root/etc/crypttab"
  printf 'CVM_UNLOCK_TIMEOUT=120\nCVM_FALLBACK=none\n' >"$root/etc/cvm-agent/initramfs.conf"
  if in_root "$root" mkinitramfs -o /tmp/initrd.img "$kver" >"$work/mkinitramfs.log" 2>&1; then
    list=$(in_root "$root" lsinitramfs /tmp/initrd.img)
    for f in usr/sbin/cvm-agentd usr/lib/cvm-agent/cvm-agent-http etc/cvm-agent/config.yaml scripts/init-premount/cvm-agent \
      scripts/local-bottom/cvm-agent usr/lib/cvm-agent/cryptroot-keyscript conf/conf.d/cvm-agent \
      "${plugin#/}"; do
      grep -qx "$f" <<<"$list" && pass "mkinitramfs initrd has $f" || fail "mkinitramfs initrd lacks $f"
    done
    echo "mkinitramfs initrd: $(stat -c %s "$root/tmp/initrd.img") bytes, $(wc -l <<<"$list") entries"
  else
    tail -20 "$work/mkinitramfs.log"; fail "mkinitramfs"
  fi
else
  tail -20 "$work/initramfs.log"; fail "installing initramfs-tools"
fi

# dracut (it conflicts with initramfs-tools): a second chroot.
droot=$work/dracut
new_root "$droot"
cp "$deb" "$droot/tmp/cvm-agent.deb"
if in_root "$droot" apt-get install -y -qq --no-install-recommends /tmp/cvm-agent.deb dracut \
    cryptsetup systemd >"$work/dracut-install.log" 2>&1; then
  fake_kernel "$droot"
  if in_root "$droot" dracut --force --no-hostonly --kver "$kver" --add cvm-agent /tmp/initrd.img >"$work/dracut.log" 2>&1; then
    list=$(in_root "$droot" lsinitrd /tmp/initrd.img | sed 's/ -> .*//' | awk '{print $NF}')
    for f in usr/sbin/cvm-agentd usr/lib/cvm-agent/cvm-agent-http etc/cvm-agent/config.yaml usr/lib/systemd/system/cvm-agentd-initrd.service \
      etc/cmdline.d/90cvm-agent.conf "${plugin#/}"; do
      grep -qx "$f" <<<"$list" && pass "dracut initrd has $f" || fail "dracut initrd lacks $f"
    done
    # `systemctl --root add-wants` links in /etc/systemd/system.
    grep -qE '^(etc|usr/lib)/systemd/system/initrd.target.wants/cvm-agentd-initrd.service$' <<<"$list" &&
      pass "dracut initrd: initrd.target wants cvm-agentd-initrd.service" ||
      fail "dracut initrd: cvm-agentd-initrd.service is not wanted by initrd.target"
    in_root "$droot" lsinitrd -f etc/cmdline.d/90cvm-agent.conf /tmp/initrd.img | grep -qx 'rd.neednet=1' &&
      pass "dracut initrd sets rd.neednet=1" || fail "dracut initrd does not set rd.neednet=1"
    echo "dracut initrd: $(stat -c %s "$droot/tmp/initrd.img") bytes, $(wc -l <<<"$list") entries"
  else
    tail -30 "$work/dracut.log"; fail "dracut"
  fi
else
  tail -20 "$work/dracut-install.log"; fail "installing dracut"
fi

# Purge: the enablement and the state go.
if in_root "$root" apt-get purge -y -qq cvm-agent >"$work/purge.log" 2>&1; then
  left=$(find "$root/etc/systemd/system" -name 'cvm-agentd*' 2>/dev/null)
  [ -z "$left" ] && pass "purge removed the unit symlinks" || fail "purge left: $left"
  [ ! -e "$root/var/lib/cvm-agent" ] && pass "purge removed /var/lib/cvm-agent" || fail "/var/lib/cvm-agent left"
else
  tail -20 "$work/purge.log"; fail "apt-get purge"
fi

[ $status = 0 ] && echo "chroot_install: all checks passed" || echo "chroot_install: some checks FAILED"
exit $status

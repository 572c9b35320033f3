#!/usr/bin/env bash
# Builds the VM test's guest image into a cache folder, the way an image builder would: a
# Debian 12 (bookworm) debootstrap with a kernel, cvm-agent's .deb installed with apt, the agent
# configured (simulated SEV-SNP with the vTPM), an initrd made by update-initramfs with the
# package's hook installed, and two data disks holding LUKS2 volumes: one bound with
# `cvmctl luks bind` (the token plugin opens it), one with a keyslot for the key that the agent's
# keyfile socket serves. docs/testing.md describes the image; scripts/vm-test calls this.
# Usage: tests/vm/build-image.sh DEB OUTDIR
# Writes OUTDIR (which must not exist) atomically: built in OUTDIR.tmp, then renamed.
#   root.img    ext4 root file system (raw)        vmlinuz, initrd.img   the guest's kernel, initrd
#   token.img   LUKS2 volume with a cvm token        socket.img            LUKS2 volume (key socket)
#   sim/        the simulated SNP platform (its ark.pem verifies the guest's evidence)
#   rp/         the relying party's state: TLS key and certificate, token key, resources (the
#               disk keys and the workload's secret): handed to the guest's cvm-rp at each boot
#               through a read-only share, never stored on the VM's disks
#   host/       the .deb unpacked: the host runs its cvmctl, cvm-rp and cvm-agentd
#   image.env   UUIDs and versions
# The debootstrap base (kernel and tools, no cvm-agent) is cached separately in the parent of
# OUTDIR, keyed by its package list, so a new .deb reuses it.
# Environment: CVM_DEBIAN_MIRROR (default: the mirror apt uses).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
deb=${1:?usage: build-image.sh DEB OUTDIR}
out=${2:?usage: build-image.sh DEB OUTDIR}
[ ! -e "$out" ] || { echo "build-image: $out exists" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "build-image: needs root (debootstrap, chroot)" >&2; exit 2; }
for t in debootstrap mkfs.ext4 cryptsetup openssl jq curl; do
  command -v "$t" >/dev/null || { echo "build-image: $t is not installed (scripts/bootstrap)" >&2; exit 2; }
done
cache=$(dirname "$out")
mirror=${CVM_DEBIAN_MIRROR:-$(sed -n 's/^URIs: *\([^ ]*\/debian\)\/*$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)}
mirror=${mirror:-http://deb.debian.org/debian}
# debootstrap and the package's dependencies come from the mirror: without it the image cannot
# be built, which is an unusable setup (exit 2), not a failed check.
curl -fsS --max-time 30 -o /dev/null "$mirror/dists/bookworm/Release" ||
  { echo "build-image: the Debian mirror $mirror is not reachable (CVM_DEBIAN_MIRROR)" >&2; exit 2; }

tmp=$out.tmp
rm -rf "$tmp"
mkdir -p "$tmp"
work=$(mktemp -d /var/tmp/cvm-vm-build.XXXXXX)
mounts=()
pids=()
cleanup() {
  local i
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[i]}" 2>/dev/null || true; done
  rm -rf "$work"
  [ -e "$out" ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
t0=$SECONDS
log() { echo "build-image: [$((SECONDS - t0)) s] $*"; }

# 1. The base: minbase plus the kernel, systemd, cryptsetup and what the initrd needs.
include=systemd-sysv,udev,kmod,linux-image-amd64,initramfs-tools,zstd,cryptsetup-bin,libcryptsetup12,e2fsprogs
base=$cache/base-bookworm-$(echo "$include" | sha256sum | cut -c1-12).tar
if [ ! -f "$base" ]; then
  log "debootstrap bookworm (minbase + $include) from $mirror"
  debootstrap --variant=minbase --include="$include" bookworm "$work/base" "$mirror" \
    >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log"; exit 1; }
  tar -C "$work/base" --numeric-owner -cf "$base.tmp" . && mv "$base.tmp" "$base"
  rm -rf "$work/base"
fi
[ "${CVM_VM_BASE_ONLY:-0}" = 1 ] && { log "base ready: $base"; exit 0; }

root=$work/rootfs
mkdir -p "$root"
tar -C "$root" --numeric-owner -xf "$base"
kver=$(basename "$(ls -d "$root"/lib/modules/* | sort -V | tail -1)")
in_root() { chroot "$root" env DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"; }

# 2. The host side of the platform: the .deb unpacked (its cvmctl makes the simulated SNP
# platform and binds the volume), the relying party's keys and secrets.
log "unpack $(basename "$deb")"
dpkg-deb -x "$deb" "$tmp/host"
bin=$tmp/host/usr
"$bin/bin/cvmctl" sim init "$tmp/sim" --tee snp >/dev/null
rp=$tmp/rp
mkdir -p "$rp/resources/default/luks" "$rp/resources/default/app"
head -c 32 /dev/urandom >"$rp/resources/default/luks/token-disk"
head -c 32 /dev/urandom >"$rp/resources/default/luks/socket-disk"
printf 'postgres://app:%s@db/app' "$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')" >"$rp/resources/default/app/db-url"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$rp/tls.key" -out "$rp/tls.crt" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$rp/token.key" 2>/dev/null
openssl pkey -in "$rp/token.key" -pubout -out "$rp/token.pub"
pin=$(openssl x509 -in "$rp/tls.crt" -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)

# 3. The data volumes: LUKS2 with a recovery passphrase (kept in the cache, never in the image),
# then a keyslot for the relying party's key. PBKDF2 with few iterations: the keys are 32 random
# bytes, and argon2 under TCG emulation would take most of a minute per open.
head -c 24 /dev/urandom | base64 >"$tmp/recovery.txt"
fmt=(--batch-mode --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000)
for v in token socket; do
  truncate -s 40M "$tmp/$v.img"
  cryptsetup luksFormat "${fmt[@]}" --key-file "$tmp/recovery.txt" "$tmp/$v.img"
done
token_uuid=$(cryptsetup luksUUID "$tmp/token.img")
socket_uuid=$(cryptsetup luksUUID "$tmp/socket.img")
# The keyfile-socket volume: the key the agent serves for crypttab's "cvmsocket".
cryptsetup luksAddKey --batch-mode --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
  --key-file "$tmp/recovery.txt" "$tmp/socket.img" "$rp/resources/default/luks/socket-disk"

# The token volume: bound with `cvmctl luks bind` against a running agent, as an image builder
# binds a blank disk (docs/disk-encryption.md): cvm-rp and cvm-agentd from the package, on this
# host's loopback, the agent on the simulated SNP platform without a TPM.
policy_good() {
  cat <<EOF
version: 1
default:
  tee: [snp]
  allow_simulated: true
  allow_debug: false
  max_evidence_age: 5m
  snp_measurements: ["$(printf '0%.0s' $(seq 96))"]
EOF
}
policy_good >"$rp/policy.yaml"
mkdir -p "$work/bind"
cat >"$work/bind/cvm-rp.yaml" <<EOF
listen:
  - {address: 127.0.0.1, port: 0, tls: true}
tls: {cert: $rp/tls.crt, key: $rp/tls.key}
token_key: $rp/token.key
policy: $rp/policy.yaml
resources:
  dir: $rp/resources
trust_anchors:
  snp_roots: [$tmp/sim/ark.pem]
EOF
"$bin/bin/cvm-rp" --config "$work/bind/cvm-rp.yaml" >"$work/bind/rp.log" 2>&1 &
pids+=($!)
port=""
for _ in $(seq 1 200); do
  port=$(sed -n 's|.*serving the KBS protocol on https://127.0.0.1:\([0-9]*\)/.*|\1|p' "$work/bind/rp.log")
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { cat "$work/bind/rp.log"; echo "build-image: cvm-rp did not start" >&2; exit 1; }
mkdir -p "$work/bind/run" "$work/bind/secrets" "$work/bind/keys"
cat >"$work/bind/agent.yaml" <<EOF
tee: sim-snp
sim: {state_dir: $tmp/sim}
relying_parties:
  - {url: "https://127.0.0.1:$port", ca_file: $rp/tls.crt, pin_sha256: $pin, token_key: $rp/token.pub}
timeouts: {deadline: 30s}
resources:
  - name: token-disk
    path: default/luks/token-disk
    sinks:
      cryptsetup: {volume: cvmtoken, uuid: $token_uuid}
api: {socket: $work/bind/run/api.sock}
paths:
  secrets_dir: $work/bind/secrets
  credentials_socket: $work/bind/run/credentials.sock
  cryptsetup_socket: $work/bind/run/cryptsetup.sock
  cryptsetup_keys_dir: $work/bind/keys
EOF
"$bin/sbin/cvm-agentd" --config "$work/bind/agent.yaml" >"$work/bind/agent.log" 2>&1 &
pids+=($!)
state=""
for _ in $(seq 1 300); do
  state=$("$bin/bin/cvmctl" status --socket "$work/bind/run/api.sock" --json 2>/dev/null | jq -r .state || true)
  [ "$state" = ready ] && break
  sleep 0.1
done
[ "$state" = ready ] || { cat "$work/bind/agent.log"; echo "build-image: the binding agent is '$state'" >&2; exit 1; }
"$bin/bin/cvmctl" luks bind "$tmp/token.img" --resource token-disk --key-file "$tmp/recovery.txt" \
  --token-timeout 45 --pbkdf-force-iterations 1000 --socket "$work/bind/run/api.sock" >/dev/null
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
pids=()
log "volumes: token $token_uuid (bound), socket $socket_uuid"

# 4. Install the package as an image builder does (dmsetup: device-mapper's udev rules, without
# which /dev/mapper/NAME never appears as a systemd device).
mount -t proc proc "$root/proc" && mounts+=("$root/proc")
mkdir -p "$cache/apt-archives/partial"
mount --bind "$cache/apt-archives" "$root/var/cache/apt/archives" && mounts+=("$root/var/cache/apt/archives")
cp /etc/resolv.conf "$root/etc/resolv.conf"
echo "deb $mirror bookworm main" >"$root/etc/apt/sources.list"
in_root apt-get update -qq >/dev/null
cp "$deb" "$root/tmp/cvm-agent.deb"
log "apt-get install cvm-agent"
in_root apt-get install -y -qq --no-install-recommends /tmp/cvm-agent.deb dmsetup >"$work/install.log" 2>&1 ||
  { tail -30 "$work/install.log"; exit 1; }
rm -f "$root/tmp/cvm-agent.deb"

# The agent's configuration: the simulated SNP platform (its state stands in for the chip), the
# vTPM through the kernel's resource manager and OVMF's event log, the relying party on the
# guest's loopback (pinned), two disk keys and the workload's credential.
install -d -o 0 -g 0 -m 0755 "$root/var/lib/cvm-agent"
cp -a "$tmp/sim" "$root/var/lib/cvm-agent/sim"
install -m 0644 "$rp/tls.crt" "$root/etc/cvm-agent/rp-ca.pem"
install -m 0644 "$rp/token.pub" "$root/etc/cvm-agent/rp-token.pub"
cat >"$root/etc/cvm-agent/config.yaml" <<EOF
# The VM test's agent (tests/vm/build-image.sh): simulated SEV-SNP with the vTPM.
tee: sim-snp
sim:
  state_dir: /var/lib/cvm-agent/sim
tpm:
  enabled: true
  tcti: "device:/dev/tpmrm0"
  event_log: /sys/kernel/security/tpm0/binary_bios_measurements
relying_parties:
  - url: https://127.0.0.1:8443
    ca_file: /etc/cvm-agent/rp-ca.pem
    pin_sha256: $pin
    token_key: /etc/cvm-agent/rp-token.pub
timeouts: {connect: 5s, request: 30s, deadline: 120s, backoff_initial: 1s, backoff_max: 5s}
resources:
  - name: token-disk
    path: default/luks/token-disk
    sinks:
      cryptsetup: {volume: cvmtoken, uuid: $token_uuid}
  - name: socket-disk
    path: default/luks/socket-disk
    sinks:
      cryptsetup: {volume: cvmsocket}
  - name: db-url
    path: default/app/db-url
    sinks:
      credential: {units: [cvm-test-app.service]}
EOF
in_root cvm-agentd --check-config /etc/cvm-agent/config.yaml
in_root chown -R cvm-agent:cvm-agent /var/lib/cvm-agent
chmod 0700 "$root/var/lib/cvm-agent"

# The volumes: crypttab and fstab as docs/image-builders.md shows; headless: no prompt, the
# unlock fails closed. cvm-test-mkfs@ gives each fresh volume its file system at first boot.
cat >"$root/etc/crypttab" <<EOF
# <name>   <device>           <key file>                       <options>
cvmtoken   UUID=$token_uuid   none                             luks,headless=true,token-timeout=60s
cvmsocket  UUID=$socket_uuid  /run/cvm-agent/cryptsetup.sock   luks,headless=true,keyfile-timeout=60s
EOF
cat >"$root/etc/fstab" <<EOF
/dev/vda              /            ext4  rw,errors=remount-ro                          0 1
/dev/mapper/cvmtoken  /srv/token   ext4  defaults,x-systemd.device-timeout=150s  0 2
/dev/mapper/cvmsocket /srv/socket  ext4  defaults,x-systemd.device-timeout=150s  0 2
EOF
mkdir -p "$root/srv/token" "$root/srv/socket"

# The test's own units (guest/): host shares, the relying party, the workloads, the report.
install -d "$root/usr/local/lib/cvm-test"
install -m 0755 "$here/guest/share" "$here/guest/report" "$root/usr/local/lib/cvm-test/"
for u in "$here"/guest/*.service; do install -m 0644 "$u" "$root/etc/systemd/system/"; done
systemctl --root="$root" enable cvm-test-mkfs@cvmtoken.service cvm-test-mkfs@cvmsocket.service >/dev/null 2>&1
systemctl --root="$root" enable cvm-test-share.service cvm-test-rp.service cvm-test-app.service \
  cvm-test-other.service cvm-test-report.service cvm-test-deadline.service >/dev/null 2>&1
systemctl --root="$root" mask serial-getty@ttyS0.service getty@tty1.service \
  systemd-timesyncd.service e2scrub_reap.service >/dev/null 2>&1
echo cvm-vm-test >"$root/etc/hostname"

# 5. The initrd, as update-initramfs makes it with cvm-agent's hook installed (the hook adds the
# agent only for a root disk unlocked in the initrd; this image's volumes open after it). A short
# module list keeps it small.
cat >"$root/etc/initramfs-tools/conf.d/cvm-vm-test.conf" <<EOF
MODULES=list
COMPRESS=zstd
EOF
printf '%s\n' virtio_pci virtio_blk ext4 crc32c_generic >>"$root/etc/initramfs-tools/modules"
log "update-initramfs ($kver)"
in_root update-initramfs -u -k "$kver" >"$work/initramfs.log" 2>&1 || { tail -20 "$work/initramfs.log"; exit 1; }
cp "$root/boot/vmlinuz-$kver" "$tmp/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$tmp/initrd.img"

# 6. Slim and pack: no package caches, documentation or drivers this VM cannot have.
for m in "${mounts[@]}"; do umount "$m"; done
mounts=()
rm -rf "$root/var/lib/apt/lists"/* "$root/usr/share/doc" "$root/usr/share/man" "$root/usr/share/locale" \
  "$root/boot"/initrd.img-* "$root/etc/resolv.conf"
kmod=$root/lib/modules/$kver/kernel
rm -rf "$kmod/sound" "$kmod/drivers/gpu" "$kmod/drivers/media" "$kmod/drivers/net/wireless" \
  "$kmod/drivers/net/ethernet" "$kmod/drivers/infiniband" "$kmod/drivers/staging" "$kmod/drivers/usb" \
  "$kmod/drivers/bluetooth" "$kmod/net/wireless" "$kmod/net/bluetooth" "$kmod/drivers/iio" \
  "$kmod/drivers/hid" "$kmod/drivers/input" "$kmod/drivers/isdn" "$kmod/drivers/scsi"
in_root depmod -a "$kver"
log "mkfs.ext4 root.img ($(du -sm "$root" | cut -f1) MB of files)"
truncate -s 1200M "$tmp/root.img"
mkfs.ext4 -q -F -L cvm-root -d "$root" "$tmp/root.img"

cat >"$tmp/image.env" <<EOF
kver=$kver
token_uuid=$token_uuid
socket_uuid=$socket_uuid
pin=$pin
deb=$(basename "$deb")
deb_sha256=$(sha256sum "$deb" | cut -d' ' -f1)
built=$(date -u +%FT%TZ)
build_seconds=$((SECONDS - t0))
EOF
mv "$tmp" "$out"
log "image ready: $out"

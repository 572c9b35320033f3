#!/bin/bash
# dracut module of cvm-agent: runs the attestation agent in the systemd initrd before
# cryptsetup-pre.target, so that systemd-cryptsetup unlocks LUKS2 volumes through the cvm token
# plugin (or the agent's key socket) with keys released only to an attested VM. The network comes
# up early (rd.neednet=1). Installed as /usr/lib/dracut/modules.d/90cvm-agent/module-setup.sh;
# docs/image-builders.md describes the boot flow, timeouts and the failure policy.

# Only on request (dracut --add cvm-agent, or add_dracutmodules+=" cvm-agent " in dracut.conf.d),
# and only where the agent is installed.
check() {
  require_binaries /usr/sbin/cvm-agentd /usr/lib/cvm-agent/cvm-agent-http || return 1
  return 255
}

# The network comes from the image's network module (network-manager or systemd-networkd, added
# with it: Debian's dracut has no network-legacy/ifcfg); rd.neednet=1 below makes it come up.
depends() {
  echo systemd crypt
}

install() {
  local conf_dir=/etc/cvm-agent config=/etc/cvm-agent/config.yaml f
  [[ -r $conf_dir/initrd.yaml ]] && config=$conf_dir/initrd.yaml
  if [[ ! -r $config ]]; then
    derror "cvm-agent: no $config; the initrd could not unlock the disk"
    return 1
  fi
  inst_binary /usr/sbin/cvm-agentd
  # Its HTTP client process (libcurl): without it the agent cannot reach the relying party.
  inst_binary /usr/lib/cvm-agent/cvm-agent-http
  # The token plugin, from libcryptsetup's token directory, when it is installed.
  inst_libdir_file "cryptsetup/libcryptsetup-token-cvm.so"
  # The configuration the initrd agent runs with, then every other file it may name.
  inst_simple "$config" "$conf_dir/config.yaml"
  for f in "$conf_dir"/*; do
    [[ -f $f ]] || continue
    case "${f##*/}" in config.yaml | initrd.yaml) continue ;; esac
    inst_simple "$f"
  done
  [[ -r /etc/ssl/certs/ca-certificates.crt ]] && inst_simple /etc/ssl/certs/ca-certificates.crt
  inst_simple "$moddir/cvm-agentd-initrd.service" "$systemdsystemunitdir/cvm-agentd-initrd.service"
  $SYSTEMCTL -q --root "$initdir" add-wants initrd.target cvm-agentd-initrd.service
  # The relying party is on the network: bring it up in the initrd.
  mkdir -p "$initdir/etc/cmdline.d"
  echo "rd.neednet=1" >"$initdir/etc/cmdline.d/90cvm-agent.conf"
}

installkernel() {
  # The TEE guest drivers (configfs-tsm, /dev/sev-guest, /dev/tdx_guest) and the TPM.
  hostonly='' instmods -o sev-guest tdx-guest configfs tpm_crb tpm_tis
}

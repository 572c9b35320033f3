#!/usr/bin/env bash
# Checks the shipped systemd units: `systemd-analyze verify` reports nothing, and the service's
# `systemd-analyze security` exposure is at most the documented limit (2.0).
# Runs in a temporary root holding the units and stand-ins for the commands they name.
set -euo pipefail
src=${CVM_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
limit=${CVM_EXPOSURE_LIMIT:-2.0}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/sbin" "$root/usr/bin" "$root/bin" "$root/usr/lib/systemd/system" "$root/etc/cvm-agent"
for cmd in usr/sbin/cvm-agentd usr/bin/systemd-tmpfiles bin/kill; do
  printf '#!/bin/sh\nexit 0\n' > "$root/$cmd"
  chmod 0755 "$root/$cmd"
done
cp "$src"/systemd/*.service "$src"/systemd/*.socket "$root/usr/lib/systemd/system/"
touch "$root/etc/cvm-agent/config.yaml"

status=0
for unit in "$root"/usr/lib/systemd/system/*; do
  out=$(systemd-analyze verify --man=no --root="$root" "$unit" 2>&1) || status=1
  if [ -n "$out" ]; then
    echo "systemd-analyze verify $(basename "$unit"):"
    echo "$out"
    status=1
  fi
done

exposure=$(systemd-analyze security --offline=true --root="$root" \
  "$root/usr/lib/systemd/system/cvm-agentd.service" 2>&1 | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
if [ -z "$exposure" ]; then
  echo "systemd-analyze security printed no exposure level" >&2
  exit 1
fi
echo "cvm-agentd.service exposure: $exposure (limit $limit)"
if ! awk -v e="$exposure" -v l="$limit" 'BEGIN { exit !(e <= l) }'; then
  echo "exposure $exposure is above $limit" >&2
  status=1
fi
exit $status

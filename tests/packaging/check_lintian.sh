#!/usr/bin/env bash
# Runs lintian on the .deb that scripts/package last built (CVM_PACKAGE_DEB, else the newest
# build-package/out/*.deb of the source tree): no error may be reported. Exits 77 (skipped) when
# there is no package: CI builds the package only where it runs scripts/package.
set -euo pipefail
src=${CVM_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
deb=${CVM_PACKAGE_DEB:-$(ls -t "$src"/build-package/out/*.deb 2>/dev/null | head -1 || true)}
if [ -z "$deb" ] || [ ! -f "$deb" ]; then
  echo "no package built (run scripts/package); lintian skipped"
  exit 77
fi
command -v lintian >/dev/null || { echo "lintian is not installed (scripts/bootstrap installs it)"; exit 1; }
out=$(lintian --allow-root --tag-display-limit 0 "$deb" 2>&1) || true
echo "lintian $(basename "$deb"):"
echo "${out:-(nothing reported)}"
if grep -q '^E: ' <<<"$out"; then
  echo "lintian reported errors"
  exit 1
fi

#!/usr/bin/env bash
# Reproducibility at CI's price: when scripts/package has built a package (build-package/out),
# repackages it for the current commit, runs scripts/package again in a second build folder
# (build-package-repro) and requires a byte-identical .deb. Through ccache the second run compiles nothing it does not have to (the
# flags name no build folder), so this checks everything after the compiler: linking, install,
# strip, documentation, maintainer files and both archive layers. What was measured with a fresh
# compile is recorded in docs/image-builders.md. Exits 77 (skipped) when
# no package was built or ccache is not installed (the second run would be a full build).
set -euo pipefail
src=${CVM_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
first=$(ls -t "$src"/build-package/out/*.deb 2>/dev/null | head -1 || true)
if [ -z "$first" ]; then
  echo "no package built (run scripts/package); skipped"
  exit 77
fi
command -v ccache >/dev/null || { echo "ccache is not installed: a second build would compile everything; skipped"; exit 77; }
# First bring build-package's package up to the current commit (nothing to compile when it is).
CVM_BUILD_DIR=$src/build-package "$src/scripts/package" --no-rpm >"$src/build-package/repro-first.log" 2>&1 ||
  { tail -20 "$src/build-package/repro-first.log"; echo "scripts/package in build-package failed"; exit 1; }
second_dir=${CVM_REPRO_BUILD_DIR:-$src/build-package-repro}
mkdir -p "$second_dir"
CVM_BUILD_DIR=$second_dir "$src/scripts/package" --no-rpm >"$second_dir/package.log" 2>&1 ||
  { tail -20 "$second_dir/package.log"; echo "the second scripts/package run failed"; exit 1; }
second=$second_dir/out/$(basename "$first")
[ -f "$second" ] || { echo "the second run made no $(basename "$first")"; exit 1; }
a=$(sha256sum <"$first" | cut -d' ' -f1)
b=$(sha256sum <"$second" | cut -d' ' -f1)
echo "$(basename "$first"): $a (build-package)"
echo "$(basename "$second"): $b ($(basename "$second_dir"))"
if [ "$a" != "$b" ]; then
  echo "the packages differ:"
  command -v diffoscope >/dev/null && diffoscope "$first" "$second" | head -60 ||
    cmp "$first" "$second" | head -5
  exit 1
fi
echo "byte-identical"

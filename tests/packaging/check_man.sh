#!/usr/bin/env bash
# Renders every man page source docs/man/NAME.SECTION.md the way the build does (pandoc, warnings
# are errors) and lets groff check the result as lintian does (man --warnings): nothing may be
# reported. Each page must also name itself in its title and section.
set -euo pipefail
src=${CVM_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v pandoc >/dev/null || { echo "pandoc is not installed (scripts/bootstrap installs it)"; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
status=0
count=0
for md in "$src"/docs/man/*.md; do
  page=$(basename "$md" .md)              # cvm-agentd.8
  name=${page%.*} section=${page##*.}
  count=$((count + 1))
  if ! pandoc --standalone --to man --fail-if-warnings --metadata "footer=cvm-agent" \
      --output "$out/$page" "$md" 2>"$out/err"; then
    echo "$page: pandoc failed:"; cat "$out/err"; status=1; continue
  fi
  upper=$(tr '[:lower:]' '[:upper:]' <<<"$name")
  grep -q "^\.TH \"$upper\" \"$section\"" "$out/$page" || { echo "$page: .TH does not say $upper($section)"; status=1; }
  grep -q '^\.SH NAME' "$out/$page" && grep -q '^\.SH SYNOPSIS' "$out/$page" ||
    { echo "$page: NAME or SYNOPSIS section missing"; status=1; }
  if command -v man >/dev/null; then
    warnings=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$out/$page" 2>&1 >/dev/null || true)
    [ -z "$warnings" ] || { echo "$page: groff warnings:"; echo "$warnings"; status=1; }
  fi
done
[ "$count" -ge 4 ] || { echo "expected at least 4 man pages in docs/man, found $count"; status=1; }
[ $status = 0 ] && echo "$count man pages render without warnings"
exit $status

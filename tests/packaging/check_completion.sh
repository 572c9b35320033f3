#!/usr/bin/env bash
# Checks packaging/cvmctl.bash-completion and docs/man/cvmctl.1.md against the built cvmctl:
# the completion loads and registers `cvmctl`; every command and verb `cvmctl --help` and
# `cvmctl COMMAND --help` list is completed; every long option each command's --help lists is in
# the completion's table for that command and in the man page's section (or chapter) for it.
# Usage: check_completion.sh CVMCTL   (CVM_SOURCE_DIR: the source tree)
set -euo pipefail
src=${CVM_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
cvmctl=${1:?usage: check_completion.sh CVMCTL}
man=$src/docs/man/cvmctl.1.md
# shellcheck source=/dev/null
source "$src/packaging/cvmctl.bash-completion"
complete -p cvmctl | grep -q -- '-F _cvmctl' || { echo "the completion does not register _cvmctl for cvmctl"; exit 1; }

status=0
fail() { echo "$*"; status=1; }
words() { tr ' ' '\n' | sed '/^$/d'; }

# Commands of `cvmctl --help` (the indented names under "Commands:").
listed=$("$cvmctl" --help | sed -n '/^Commands:/,/^$/p' | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p')
for c in $listed; do
  _cvmctl_verbs "" | words | grep -qx "$c" || fail "completion: command '$c' is missing"
done
# A command the completion knows but this cvmctl lacks (built from a tree without it) is noted,
# not failed: completing it does no harm, and its options are checked where it exists.
for c in $(_cvmctl_verbs "" | words); do
  grep -qx "$c" <<<"$listed" || echo "note: the completion knows '$c', which this cvmctl does not have"
done

# Verbs: the word after "cvmctl COMMAND" in the usage lines of `cvmctl COMMAND --help`.
for c in $listed; do
  for v in $("$cvmctl" "$c" --help 2>&1 | sed -n "s/^\(Usage:\)\{0,1\} *cvmctl $c \([a-z][a-z|-]*\).*/\2/p" | tr '|' '\n' | sort -u); do
    _cvmctl_verbs "$c" | words | grep -qx "$v" || fail "completion: verb '$c $v' is missing"
  done
done

# Every command path the completion knows that has no verbs of its own is a leaf: its options.
leaves() {
  local p=$1 v
  local vs
  vs=$(_cvmctl_verbs "$p")
  if [ -z "$vs" ]; then echo "$p"; return; fi
  for v in $vs; do leaves "${p:+$p }$v"; done
}
# The lines of the man page that document a path: from its "**cvmctl PATH**" line to the next
# command or heading, together with the introduction of the chapter it is in.
man_text() {
  awk -v key="**cvmctl $1**" '
    /^# / { chapter = $0 "\n"; insec = 0; intro = 1; next }
    /^\*\*cvmctl / { intro = 0; insec = (index($0, key) > 0); if (insec) { out = out chapter } }
    intro { chapter = chapter $0 "\n" }
    insec { out = out $0 "\n" }
    END { printf "%s", out }' "$man"
}
while IFS= read -r path; do
  [ -n "$path" ] || continue
  grep -qx "${path%% *}" <<<"$listed" || continue
  # shellcheck disable=SC2086
  help=$("$cvmctl" $path --help 2>&1) || fail "cvmctl $path --help failed"
  opts=$(sed -n 's/^  \(-[a-zA-Z], \)\{0,1\} *\(--[a-z][a-z0-9-]*\).*/\2/p' <<<"$help" | grep -vx -- '--help' | sort -u)
  [ -n "$opts" ] || fail "cvmctl $path --help lists no options"
  have=$(_cvmctl_options "$path" | words)
  text=$(man_text "$path")
  [ -n "$text" ] || fail "cvmctl.1: no section for 'cvmctl $path'"
  for o in $opts; do
    grep -qx -- "$o" <<<"$have" || fail "completion: 'cvmctl $path' lacks $o"
    grep -qE -- "\\\\${o}([^a-z0-9-]|\$)" <<<"$text" || fail "cvmctl.1: 'cvmctl $path' does not document $o"
  done
  for o in $(words <<<"$have" | grep -- '^--'); do
    # verify's evidence-bundle options are parsed by the bundle path (cli/bundle_cmds.cc) and
    # are not in the verify verb's --help.
    case "$path $o" in "verify --td-quote" | "verify --tee" | "verify --signature-only") continue ;; esac
    grep -qx -- "$o" <<<"$opts" || fail "completion: 'cvmctl $path' offers $o, which its --help does not list"
  done
done < <(leaves "")
[ $status = 0 ] && echo "cvmctl completion and man page cover every command, verb and option"
exit $status

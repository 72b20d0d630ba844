#!/usr/bin/env bash
# Lists what changed in the module's public API since a git revision, with
# golang.org/x/exp/cmd/apidiff (pinned below):
#
#   scripts/apidiff.sh v0.2.0-equivalent-rev   # e.g. scripts/apidiff.sh e9a6303
#
# apidiff compares types by identity, so a name that became an alias of an
# internal type (nbserv.Error = transport.Error) shows up as changed. Type
# names are printed without the module's own root and internal package
# qualifiers, and a line whose old and new text are then the same is
# dropped: the name, its kind and its signature read the same to a user. What remains is
# the list README's "Upgrading from 0.2" table must name.
set -euo pipefail
cd "$(dirname "$0")/.."
old="${1:?usage: scripts/apidiff.sh OLD_REVISION}"
apidiff_version=v0.0.0-20261113113407-e3970619a1a4
module=$(go list -m)

work=$(mktemp -d)
trap 'git worktree remove --force "$work/old" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
GOBIN="$work/bin" go install "golang.org/x/exp/cmd/apidiff@$apidiff_version"
git worktree add --detach -q "$work/old" "$old"
(cd "$work/old" && "$work/bin/apidiff" -m -w "$work/old.export" "$module")
"$work/bin/apidiff" -m "$work/old.export" "$module" 2>/dev/null |
  sed -E 's#github\.com/nbserv/go-nbserv/internal/[a-z]+\.##g; s#github\.com/nbserv/go-nbserv\.##g' |
  awk '
    / changed from / {
      line = $0
      sub(/^- [^:]*: changed from /, "", line)
      n = index(line, " to ")
      # "from X to X": the same printed type, only its identity moved.
      if (n > 0 && substr(line, 1, n - 1) == substr(line, n + 4)) next
    }
    { print }
  '

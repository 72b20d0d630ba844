#!/usr/bin/env bash
# run-notebook -j 2 against -j 1 on testdata/notebooks, three rounds
# alternating which goes first; run under scripts/with-jupyter.sh (see
# BENCHMARKS.md). RUN_NOTEBOOK is the built program (default
# /tmp/nbdiff/run-notebook).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${RUN_NOTEBOOK:-/tmp/nbdiff/run-notebook}"
nb=testdata/notebooks/*.ipynb
for i in 1 2 3; do
  for j in $([ $((i % 2)) -eq 1 ] && echo "1 2" || echo "2 1"); do
    out=$(mktemp -d)
    s=$(date +%s.%N)
    # shellcheck disable=SC2086 # $nb: one argument per notebook
    "$bin" -url "$NBSERV_JUPYTER_URL" -token "$NBSERV_JUPYTER_TOKEN" -allow-errors -d "$out" -j "$j" $nb >/dev/null 2>&1 || echo "rc $? (j=$j)"
    e=$(date +%s.%N)
    echo "round $i -j $j $(echo "$e - $s" | bc) s load $(cut -d' ' -f1 /proc/loadavg)"
    rm -rf "$out"
  done
done

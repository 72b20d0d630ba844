set -euo pipefail
cd /work/wt-nbdiff
nb=testdata/notebooks/*.ipynb
for i in 1 2 3; do
  for j in $( [ $((i % 2)) -eq 1 ] && echo "1 2" || echo "2 1" ); do
    out=$(mktemp -d)
    s=$(date +%s.%N)
    /tmp/nbdiff/run-notebook -url "$NBSERV_JUPYTER_URL" -token "$NBSERV_JUPYTER_TOKEN" -allow-errors -d "$out" -j $j $nb >/dev/null 2>&1 || echo "rc $? (j=$j)"
    e=$(date +%s.%N)
    echo "round $i -j $j $(echo "$e - $s" | bc) s load $(cut -d' ' -f1 /proc/loadavg)"
    rm -rf "$out"
  done
done

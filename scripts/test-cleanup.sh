#!/usr/bin/env bash
# Checks that scripts/with-jupyter.sh and scripts/with-jupyterhub.sh, sent
# SIGTERM while their command runs (a CI runner's cancel signals the script
# alone), stop at once and leave nothing behind: not the command, not a
# server, not a kernel, not their temporary dir. The command starts a
# kernel, tells where everything is, and sleeps for far longer than the
# bound: bash would run no trap until a foreground command ended
# (scripts/command.bash).
#
#   scripts/test-cleanup.sh                      # both scripts
#   scripts/test-cleanup.sh with-jupyterhub.sh   # one
#
# Bound: a script exits within 60s of the signal (its own waits: 10s for
# the command, 30s for a server, 20s for the hub).
set -euo pipefail
cd "$(dirname "$0")/.."

out=$(mktemp -d)
script_pid=""
command_pid=""
finish() {
  if [ -n "$script_pid" ]; then # the test failed: stop what it started
    # The command's end lets even a script that ignored the signal clean
    # up (its servers run in sessions of their own, beyond its group).
    [ -z "$command_pid" ] || kill -TERM "$command_pid" 2>/dev/null || true
    for _ in $(seq 150); do
      kill -0 "$script_pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL -- "-$script_pid" 2>/dev/null || true
  fi
  rm -rf "$out"
}
trap finish EXIT

# The command: a kernel on the server, then what the checks need, then a
# long sleep (exec: the command's pid is the sleep's).
cat >"$out/command.sh" <<'EOC'
set -eu
auth="Authorization: token $NBSERV_JUPYTER_TOKEN"
id=$(curl -fsS ${NBSERV_JUPYTER_CA:+--cacert "$NBSERV_JUPYTER_CA"} -X POST -H "$auth" -d '{}' "${NBSERV_JUPYTER_URL}api/kernels" |
  /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
echo "$NBSERV_JUPYTER_URL $NBSERV_JUPYTER_TOKEN $id $$" >"$OUT/ready.tmp"
mv "$OUT/ready.tmp" "$OUT/ready"
exec sleep 600
EOC

check() { # the script's name
  local name="$1" i url token kernel kernel_args work failed=0
  rm -f "$out/ready"
  # setsid: the script leads a process group of its own, so that the
  # signal below reaches it alone, and finish can stop all of it should
  # the test fail.
  OUT="$out" WITH_JUPYTER_BASES=/ setsid "scripts/$name" sh "$out/command.sh" >"$out/log" 2>&1 &
  script_pid=$!
  for i in $(seq 240); do # servers and a kernel on a loaded machine: up to 120s
    [ ! -s "$out/ready" ] || break
    kill -0 "$script_pid" 2>/dev/null || { cat "$out/log" >&2; echo "test-cleanup: $name exited early" >&2; exit 1; }
    [ "$i" -lt 240 ] || { cat "$out/log" >&2; echo "test-cleanup: $name's command never started its kernel" >&2; exit 1; }
    sleep 0.5
  done
  read -r url token kernel command_pid <"$out/ready"
  # The kernel's connection file lies in the run's temporary dir.
  kernel_args=$(ps -eo args | grep -F "kernel-$kernel.json" | grep -v grep || true)
  work=$(echo "$kernel_args" | sed -n 's|.*-f \(/[^ ]*\)/kernel-.*|\1|p' | head -1)
  if [ -z "$work" ] || [ ! -d "$work" ]; then
    echo "test-cleanup: $name: no kernel process for $kernel found ('$kernel_args')" >&2
    exit 1
  fi

  kill -TERM "$script_pid"
  for i in $(seq 120); do
    kill -0 "$script_pid" 2>/dev/null || break
    if [ "$i" -eq 120 ]; then
      echo "test-cleanup: $name still runs 60s after SIGTERM" >&2
      exit 1
    fi
    sleep 0.5
  done
  wait "$script_pid" || true
  script_pid=""

  if kill -0 "$command_pid" 2>/dev/null; then
    echo "test-cleanup: $name: the command (pid $command_pid) still runs" >&2
    failed=1
  fi
  if ps -eo args | grep -F "kernel-$kernel.json" | grep -qv grep; then
    echo "test-cleanup: $name: the kernel $kernel still runs" >&2
    failed=1
  fi
  if curl -fsS -o /dev/null -m 5 -H "Authorization: token $token" "${url}api/status" 2>/dev/null; then
    echo "test-cleanup: $name: the server at $url still answers" >&2
    failed=1
  fi
  if [ -e "$work" ]; then
    echo "test-cleanup: $name: $work is left behind" >&2
    failed=1
  fi
  if [ "$failed" -ne 0 ]; then
    cat "$out/log" >&2
    exit 1
  fi
  command_pid=""
  echo "test-cleanup: $name left nothing behind after SIGTERM" >&2
}

for name in "${@:-with-jupyter.sh with-jupyterhub.sh}"; do
  for n in $name; do
    check "$n"
  done
done

#!/usr/bin/env bash
# Checks that scripts/with-jupyter.sh and scripts/with-jupyterhub.sh leave
# nothing behind (not the command, not a server, not a kernel, not their
# temporary dir) when stopped while their command runs: by SIGTERM to the
# script alone (a CI runner's cancel), which bash would not act on until a
# foreground command ended (scripts/command.bash), and by SIGKILL, which no
# trap sees (scripts/reap.sh). The command starts a kernel, tells where
# everything is, and sleeps for far longer than the bound.
#
#   scripts/test-cleanup.sh                      # both scripts
#   scripts/test-cleanup.sh with-jupyterhub.sh   # one
#
# Bound: all is gone within 60s of the signal (the scripts' own waits:
# 10s for the command, 30s for a server, 20s for the hub; the reaper's:
# 1s to notice, 10s for SIGTERM).
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

# alive reports a process that runs: a zombie (the killed script, until
# this reaps it) does not.
alive() {
  local stat
  stat=$(ps -o stat= -p "$1" 2>/dev/null) && [ "${stat#Z}" = "$stat" ]
}

check() { # the script's name, the signal (TERM or KILL)
  local name="$1" signal="$2" i url token kernel kernel_args work left
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

  kill "-$signal" "$script_pid"
  # Everything must be gone within the bound: a run stopped by SIGTERM
  # cleans up itself, one killed outright is cleaned up by its reaper.
  left=""
  for i in $(seq 120); do
    left=""
    alive "$script_pid" && left="$left the script;"
    alive "$command_pid" && left="$left the command (pid $command_pid);"
    ps -eo args | grep -F "kernel-$kernel.json" | grep -qv grep && left="$left the kernel $kernel;"
    curl -fsS -o /dev/null -m 2 -H "Authorization: token $token" "${url}api/status" 2>/dev/null && left="$left the server at $url;"
    [ ! -e "$work" ] || left="$left $work;"
    [ -n "$left" ] || break
    sleep 0.5
  done
  if [ -n "$left" ]; then
    echo "test-cleanup: $name, 60s after SIG$signal, left:$left" >&2
    cat "$out/log" >&2
    exit 1
  fi
  wait "$script_pid" || true
  script_pid=""
  command_pid=""
  echo "test-cleanup: $name left nothing behind after SIG$signal" >&2
}

# A run that fails before its server starts (openssl, for
# WITH_JUPYTER_TLS=1, failing) leaves no temporary dir either: its trap is
# set before anything can fail.
mkdir -p "$out/bin" "$out/tmp"
printf '#!/bin/sh\nexit 1\n' >"$out/bin/openssl"
chmod +x "$out/bin/openssl"
if TMPDIR="$out/tmp" PATH="$out/bin:$PATH" WITH_JUPYTER_TLS=1 scripts/with-jupyter.sh true 2>"$out/log"; then
  echo "test-cleanup: with-jupyter.sh passed though openssl failed" >&2
  exit 1
fi
if [ -n "$(ls -A "$out/tmp")" ]; then
  echo "test-cleanup: with-jupyter.sh, openssl failing, left $(ls -A "$out/tmp") (reaped only later)" >&2
  cat "$out/log" >&2
  exit 1
fi
echo "test-cleanup: with-jupyter.sh, openssl failing, left nothing behind" >&2

for name in "${@:-with-jupyter.sh with-jupyterhub.sh}"; do
  for n in $name; do
    check "$n" TERM
    check "$n" KILL
  done
done

#!/usr/bin/env bash
# reap.sh WORK PID: waits for PID, a with-jupyter.sh or with-jupyterhub.sh
# run, to end, then stops whatever that run left and removes WORK, its
# temporary dir. scripts/command.bash starts it in a session of its own,
# so that a signal to the run's process group spares it: a run killed
# outright (SIGKILL, which no trap sees) would otherwise leave its servers
# (in sessions of their own), their kernels and WORK for good. A run that
# ended normally has removed WORK already, and this exits at once.
#
# What it stops: the command's process group (WORK/command.pgid), every
# process whose command line names a path under WORK (servers: their root
# dir, config or pid file; kernels: their connection file), and the pids
# in WORK/*.pid (the hub's proxy): SIGTERM, up to 10s, then SIGKILL.
set -u
work="$1" pid="$2"
while kill -0 "$pid" 2>/dev/null; do
  sleep 1
done
[ -d "$work" ] || exit 0
if [ -s "$work/command.pgid" ]; then
  kill -KILL -- "-$(cat "$work/command.pgid")" 2>/dev/null || true
fi
signal_all() {
  pkill "-$1" -f "$work/" 2>/dev/null || true
  for f in "$work"/*.pid; do
    [ -s "$f" ] && kill "-$1" "$(cat "$f")" 2>/dev/null || true
  done
}
signal_all TERM # Jupyter shuts its kernels down on SIGTERM
for _ in $(seq 50); do
  pgrep -f "$work/" >/dev/null 2>&1 || break
  sleep 0.2
done
signal_all KILL
rm -rf "$work"

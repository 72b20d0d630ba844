# Sourced by with-jupyter.sh and with-jupyterhub.sh: runs the command they
# wrap so that a signal to the script stops it at once. Bash runs no trap
# while it waits for a foreground command: SIGTERM to the script alone (a
# CI runner's cancel, `kill`) would leave the command running to its end,
# and the server, its kernels and the temporary dir with it, and a SIGKILL
# that followed would leave them for good. In the background, `wait`
# returns as the signal arrives, the script's INT/TERM trap exits, and its
# EXIT trap calls stop_command, then stops the servers.

# A SIGKILL runs no trap at all: start_reaper, called once $work exists,
# starts scripts/reap.sh, which cleans up after a script that died so.

command_pid=""

# start_reaper starts scripts/reap.sh for this script and $work, in a
# session of its own (beyond the signals to the script's group).
start_reaper() {
  setsid scripts/reap.sh "$work" "$$" </dev/null >/dev/null 2>&1 &
}

# run_command runs its arguments in a process group of their own (set -m),
# so that stop_command reaches the test binary beneath `go test` too; the
# group keeps the script's stdin. The group's id goes to
# $work/command.pgid, for scripts/reap.sh. It returns the command's status.
run_command() {
  set -m
  "$@" &
  command_pid=$!
  set +m
  echo "$command_pid" >"$work/command.pgid"
  local rc=0
  wait "$command_pid" || rc=$?
  command_pid=""
  return "$rc"
}

# stop_command stops the command's process group, if it still runs: SIGTERM,
# up to 10s to exit, then SIGKILL.
stop_command() {
  if [ -n "$command_pid" ]; then
    kill -TERM -- "-$command_pid" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 -- "-$command_pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL -- "-$command_pid" 2>/dev/null || true
  fi
  command_pid=""
}

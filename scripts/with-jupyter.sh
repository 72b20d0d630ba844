#!/usr/bin/env bash
# Runs the end-to-end suite, and the test comparing the reference server's
# answers with Jupyter's, against a real Jupyter Server, twice: once at a
# bare base URL and once under the JupyterHub-style prefix /user/ci/.
#
#   scripts/with-jupyter.sh    # the E2E suite and the reference server's differential test
#   scripts/with-jupyter.sh go test -v -run E2ELifecycle .
#
# WITH_JUPYTER_BASES (default "/ /user/ci/") chooses the base URLs; the
# benchmarks use one: WITH_JUPYTER_BASES=/ scripts/with-jupyter.sh go test -bench ...
#
# It installs jupyter-server and python3-ipykernel with apt-get when they
# are missing, starts each server on a free loopback port with a random
# token and a temporary root dir, waits for GET /api/status, runs the
# command with NBSERV_JUPYTER_URL and NBSERV_JUPYTER_TOKEN set, and on exit
# (failure and interrupt included) stops the server and every kernel it
# started.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$#" -eq 0 ]; then
  set -- go test -p 1 -race -count=1 -v -run 'E2E|Differential' . ./internal/refserver # -p 1: one server, one package at a time
fi

# Debian's packages, and so Debian's python3, are what the server and its
# kernels run on (a python3 earlier on PATH, such as pyenv's, is not).
if ! command -v jupyter-server >/dev/null 2>&1 || ! /usr/bin/python3 -c 'import ipykernel' >/dev/null 2>&1; then
  echo "with-jupyter: installing jupyter-server and python3-ipykernel" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq jupyter-server python3-ipykernel >/dev/null
fi

work=$(mktemp -d)
server_pid=""

stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true # Jupyter shuts its kernels down on SIGTERM
    for _ in $(seq 150); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  # Kernels run in sessions of their own; any the server left behind are
  # found by their connection files in this run's runtime dir.
  pkill -KILL -f "$work/runtime/kernel-" 2>/dev/null || true
  server_pid=""
}
cleanup() {
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

run_against() { # base_url, then the command
  local base="$1"
  shift
  local port token root
  port=$(free_port)
  token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  root="$work/root$port"
  mkdir -p "$root" "$work/home"
  echo "with-jupyter: Jupyter Server $(jupyter-server --version) on 127.0.0.1:$port base_url $base" >&2
  # A private HOME keeps Jupyter's default contents semantics (deletes go
  # to the trash, so non-empty directories delete) with the trash, the
  # notebook-signing key and its database inside $work, removed on exit.
  HOME="$work/home" JUPYTER_RUNTIME_DIR="$work/runtime" setsid jupyter-server --no-browser --allow-root --ip 127.0.0.1 --port "$port" \
    --ServerApp.token="$token" --ServerApp.root_dir="$root" --ServerApp.base_url="$base" \
    >"$work/jupyter-$port.log" 2>&1 &
  server_pid=$!
  disown "$server_pid" # stop_server reports on it; bash need not
  local url="http://127.0.0.1:$port$base"
  for i in $(seq 120); do
    if curl -fsS -o /dev/null -H "Authorization: token $token" "${url}api/status" 2>/dev/null; then
      break
    fi
    if ! kill -0 "$server_pid" 2>/dev/null || [ "$i" -eq 120 ]; then
      echo "with-jupyter: the server did not come up; its log:" >&2
      cat "$work/jupyter-$port.log" >&2
      return 1
    fi
    sleep 0.5
  done
  local rc=0
  NBSERV_JUPYTER_URL="$url" NBSERV_JUPYTER_TOKEN="$token" "$@" || rc=$?
  stop_server
  return "$rc"
}

bases="${WITH_JUPYTER_BASES:-/ /user/ci/}"
for base in $bases; do
  run_against "$base" "$@"
done
echo "with-jupyter: passed against a real Jupyter Server at: $bases" >&2

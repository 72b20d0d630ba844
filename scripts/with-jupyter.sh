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
# WITH_JUPYTER_SERVER_ARGS adds arguments to the server's command line (split
# on spaces), such as raised IOPub limits for the nbconvert differential test:
#   WITH_JUPYTER_SERVER_ARGS='--ServerApp.iopub_msg_rate_limit=1e9 --ServerApp.iopub_data_rate_limit=1e12' \
#     scripts/with-jupyter.sh go test -run NbconvertDifferential .
#
# WITH_JUPYTER_GENERATION chooses the server: 1 (the default) is Debian's
# Jupyter Server 1.23.3; 2 is Jupyter Server 2.x from the Python package
# index, in the virtual environment scripts/jupyter2-env.sh makes (once):
#   WITH_JUPYTER_GENERATION=2 scripts/with-jupyter.sh
#
# WITH_JUPYTER_TLS=1 serves https: a self-signed certificate for
# 127.0.0.1 is made with openssl in the temporary dir and given to the
# server (--certfile, --keyfile); the command gets its PEM file's path in
# NBSERV_JUPYTER_CA (and an https NBSERV_JUPYTER_URL), which the E2E suite
# trusts through its clients' TLS configuration:
#   WITH_JUPYTER_TLS=1 scripts/with-jupyter.sh go test -run E2E .
#
# It installs jupyter-server and python3-ipykernel with apt-get when they
# are missing, starts each server on a free loopback port with a random
# token, a temporary root dir and temporary Jupyter config and data dirs
# (so nothing piles up in ~/.jupyter and no user kernelspec leaks in),
# waits for GET /api/status, runs the command with NBSERV_JUPYTER_URL,
# NBSERV_JUPYTER_TOKEN, NBSERV_JUPYTER_GENERATION (1 or 2),
# NBSERV_JUPYTER_SERVER_ARGS (WITH_JUPYTER_SERVER_ARGS, as the server got
# them) and NBSERV_JUPYTER_BIN (the `jupyter` command of the server's Python
# environment, whose nbconvert runs notebooks beside it) set, and on
# exit (failure and interrupt included) stops the command, the server and
# every kernel it started, and removes the temporary dir; SIGTERM to the
# script alone does so at once (scripts/command.bash), as
# scripts/test-cleanup.sh checks.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$#" -eq 0 ]; then
  set -- go test -p 1 -race -count=1 -v -run 'E2E|Differential' . ./internal/refserver ./examples/run-notebook # -p 1: one server, one package at a time
fi

generation="${WITH_JUPYTER_GENERATION:-1}"
case "$generation" in
1 | 2) ;;
*)
  echo "with-jupyter: WITH_JUPYTER_GENERATION is 1 or 2, not '$generation'" >&2
  exit 2
  ;;
esac

# Debian's packages, and so Debian's python3, are what the server and its
# kernels run on (a python3 earlier on PATH, such as pyenv's, is not).
# jupyter-nbconvert is the `jupyter nbconvert` command (its Python package
# comes with jupyter-server).
if [ "$generation" = 1 ] && { ! command -v jupyter-server >/dev/null 2>&1 || ! command -v jupyter-nbconvert >/dev/null 2>&1 ||
  ! /usr/bin/python3 -c 'import ipykernel' >/dev/null 2>&1; }; then
  echo "with-jupyter: installing jupyter-server, jupyter-nbconvert and python3-ipykernel" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq jupyter-server jupyter-nbconvert python3-ipykernel >/dev/null
fi

jupyter_server=jupyter-server
jupyter_bin=/usr/bin/jupyter
token_option=--ServerApp.token # deprecated by 2.x, which warns
if [ "$generation" = 2 ]; then
  venv=$(scripts/jupyter2-env.sh)
  jupyter_server="$venv/bin/jupyter-server"
  jupyter_bin="$venv/bin/jupyter"
  token_option=--IdentityProvider.token
fi

server_args="${WITH_JUPYTER_SERVER_ARGS:-}"
# The IOPub message-rate limit is a tenth of its default (1000/s) unless
# WITH_JUPYTER_SERVER_ARGS sets it: a kernel on a loaded machine publishes
# under 1000 messages/s, and then the E2E flood trips nothing
# (docs/wire/kernel-channels.md KC90); at 100/s it trips it however loaded.
# (traitlets refuses a setting given twice on the command line.)
rate_args=--ServerApp.iopub_msg_rate_limit=100
case "$server_args" in
*iopub_msg_rate_limit*) rate_args="" ;;
esac
work=$(mktemp -d)
server_pid=""
# shellcheck source=scripts/command.bash
. scripts/command.bash

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
  stop_command
  stop_server
  rm -rf "$work"
}
# Set before anything else can fail (openssl, below): cleanup removes $work.
trap cleanup EXIT
trap 'exit 130' INT TERM
start_reaper

scheme=http
tls_options=() # the server's
curl_tls=()    # the readiness poll's
ca_env=()      # the command's
if [ "${WITH_JUPYTER_TLS:-0}" = 1 ]; then
  # One day is plenty for a run; the key never leaves $work.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$work/tls.key" -out "$work/tls.pem" 2>/dev/null
  scheme=https
  tls_options=(--certfile="$work/tls.pem" --keyfile="$work/tls.key")
  curl_tls=(--cacert "$work/tls.pem")
  ca_env=(NBSERV_JUPYTER_CA="$work/tls.pem")
fi

free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_server() { # base_url; sets url and token, or fails when the server did not come up
  local base="$1" port root
  port=$(free_port)
  token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  root="$work/root$port"
  mkdir -p "$root" "$work/home"
  echo "with-jupyter: Jupyter Server $("$jupyter_server" --version) on 127.0.0.1:$port base_url $base" >&2
  # A private HOME keeps Jupyter's default contents semantics (deletes go
  # to the trash, so non-empty directories delete) with the trash, the
  # notebook-signing key and its database inside $work, removed on exit.
  # JUPYTER_PATH would add kernelspec dirs; the config and data dirs are this
  # run's own. port_retries=0: a server whose port was taken meanwhile exits
  # rather than moving to a port nobody polls. $server_args is unquoted on
  # purpose: one argument per word. $rate_args, unquoted too, sets the IOPub
  # message-rate limit unless $server_args does.
  env -u JUPYTER_PATH HOME="$work/home" JUPYTER_CONFIG_DIR="$work/config" JUPYTER_DATA_DIR="$work/data" \
    JUPYTER_RUNTIME_DIR="$work/runtime" setsid "$jupyter_server" --no-browser --allow-root --ip 127.0.0.1 --port "$port" \
    --ServerApp.port_retries=0 "$token_option=$token" --ServerApp.root_dir="$root" --ServerApp.base_url="$base" \
    $rate_args $server_args "${tls_options[@]}" >"$work/jupyter-$port.log" 2>&1 &
  server_pid=$!
  disown "$server_pid" # stop_server reports on it; bash need not
  url="$scheme://127.0.0.1:$port$base"
  for i in $(seq 120); do
    if curl -fsS -o /dev/null "${curl_tls[@]}" -H "Authorization: token $token" "${url}api/status" 2>/dev/null; then
      return 0
    fi
    if ! kill -0 "$server_pid" 2>/dev/null || [ "$i" -eq 120 ]; then
      echo "with-jupyter: the server did not come up; its log:" >&2
      cat "$work/jupyter-$port.log" >&2
      stop_server
      return 1
    fi
    sleep 0.5
  done
}

run_against() { # base_url, then the command
  local base="$1"
  shift
  local url token attempt
  for attempt in 1 2 3; do # another program may take the free port first
    start_server "$base" && break
    [ "$attempt" -lt 3 ] || return 1
  done
  local rc=0
  run_command env "${ca_env[@]}" NBSERV_JUPYTER_URL="$url" NBSERV_JUPYTER_TOKEN="$token" NBSERV_JUPYTER_GENERATION="$generation" \
    NBSERV_JUPYTER_SERVER_ARGS="$server_args" NBSERV_JUPYTER_BIN="$jupyter_bin" "$@" || rc=$?
  stop_server
  return "$rc"
}

bases="${WITH_JUPYTER_BASES:-/ /user/ci/}"
for base in $bases; do
  run_against "$base" "$@"
done
echo "with-jupyter: passed against a real Jupyter Server (generation $generation, $scheme) at: $bases" >&2

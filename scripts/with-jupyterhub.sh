#!/usr/bin/env bash
# Runs the end-to-end suite through a real JupyterHub: the hub, its proxy
# (configurable-http-proxy) and a single-user server for user "ci", reached
# at <proxy>/user/ci/ with a hub service token, as most deployments are.
#
#   scripts/with-jupyterhub.sh    # the E2E suite and the hub client's tests
#   scripts/with-jupyterhub.sh go test -v -run E2ELifecycle .
#
# It installs jupyterhub, configurable-http-proxy, jupyter-server and
# python3-ipykernel with apt-get when they are missing, and writes a
# throwaway hub in a temporary directory: the dummy authenticator, the
# simple local-process spawner running jupyterhub-singleuser --allow-root,
# users "ci" and "hubclient", and a service "ci" whose random token has the
# scopes a platform needs (start, stop and reach users' servers, list
# users). It waits for the hub, starts ci's server through the hub's API,
# waits until the server answers through the proxy, then runs the command
# with
#
#   NBSERV_JUPYTER_URL   <proxy>/user/ci/          NBSERV_JUPYTER_TOKEN  the service token
#   NBSERV_JUPYTER_GENERATION  the single-user server's major version (1 for
#                        Debian's 1.23.3, 2 for 2.21.1 from JUPYTERHUB_FROM=pypi),
#                        read from its GET /api, so that the suite expects its answers
#   NBSERV_HUB_URL       <proxy>/                  NBSERV_HUB_TOKEN      the service token
#   NBSERV_HUB_USER      hubclient (a user whose server is stopped, for the
#                        hub client's tests to start and stop)
#
# On exit (failure and interrupt included) it stops the hub, which stops the
# proxy and the servers; whatever is left (the proxy by its pid file, the
# servers and kernels by this run's directory in their command lines) is
# killed.
#
# JUPYTERHUB_FROM=pypi runs a current JupyterHub instead of Debian's 3.0:
# the pinned version below from the Python package index, added to a copy
# of scripts/jupyter2-env.sh's environment (made in a directory of its own,
# every other package kept at that script's pins), behind
# configurable-http-proxy from npm, both kept in
# ${XDG_CACHE_HOME:-~/.cache}/go-nbserv so that later runs reuse them. The
# single-user server and its kernels then run what WITH_JUPYTER_GENERATION=2
# scripts/with-jupyter.sh runs (Debian's python3, Jupyter Server 2.21.1,
# ipykernel 7.4.0 and the IPython pinned there, the environment's own
# python3 kernelspec), the versions the reference server's generation 2
# mirrors: the differential tests compare them (docs/wire/jupyterhub.md HB42).
set -euo pipefail
cd "$(dirname "$0")/.."

hub_pin="jupyterhub==6.1.1"
npm_pin="configurable-http-proxy@5.3.0"

if [ "$#" -eq 0 ]; then
  set -- go test -p 1 -race -count=1 -v -run 'E2E' . ./hub # -p 1: one package at a time on the one hub
fi

hub_bin=jupyterhub
singleuser=/usr/bin/jupyterhub-singleuser
proxy_bin=configurable-http-proxy
if [ "${JUPYTERHUB_FROM:-debian}" = pypi ]; then
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/go-nbserv"
  venv=$(NBSERV_VENV_DIR="$cache/${hub_pin/==/-}-server2" scripts/jupyter2-env.sh)
  chp="$cache/chp-${npm_pin##*@}"
  if [ ! -x "$venv/bin/jupyterhub-singleuser" ]; then
    (
      flock 9 # jupyter2-env.sh's lock: one build of this environment at a time
      if [ ! -x "$venv/bin/jupyterhub-singleuser" ]; then
        echo "with-jupyterhub: installing $hub_pin into $venv" >&2
        # What jupyter2-env.sh pinned stays as it is: JupyterHub's own
        # dependencies come in beside it, or the install fails.
        "$venv/bin/python" -m pip freeze >"$venv/constraints.txt"
        PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install --quiet --require-virtualenv \
          -c "$venv/constraints.txt" "$hub_pin" >&2
        "$venv/bin/python" -m pip check >&2
      fi
    ) 9>"$venv.lock"
  fi
  if [ ! -x "$chp/node_modules/.bin/configurable-http-proxy" ]; then
    echo "with-jupyterhub: installing $npm_pin into $chp" >&2
    mkdir -p "$chp"
    (cd "$chp" && npm install --silent --no-audit --no-fund "$npm_pin" >/dev/null)
  fi
  hub_bin="$venv/bin/jupyterhub"
  singleuser="$venv/bin/jupyterhub-singleuser"
  proxy_bin="$chp/node_modules/.bin/configurable-http-proxy"
# Debian's packages, run by Debian's python3 (not a python3 earlier on PATH).
elif ! command -v jupyterhub >/dev/null 2>&1 || ! command -v configurable-http-proxy >/dev/null 2>&1 ||
  ! command -v jupyterhub-singleuser >/dev/null 2>&1 || ! /usr/bin/python3 -c 'import ipykernel' >/dev/null 2>&1; then
  echo "with-jupyterhub: installing jupyterhub, configurable-http-proxy, jupyter-server and python3-ipykernel" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
    jupyterhub node-configurable-http-proxy jupyter-server python3-ipykernel >/dev/null
fi

work=$(mktemp -d)
hub_pid=""
# shellcheck source=scripts/command.bash
. scripts/command.bash

stop_hub() {
  if [ -n "$hub_pid" ] && kill -0 "$hub_pid" 2>/dev/null; then
    kill -TERM "$hub_pid" 2>/dev/null || true # the hub stops the proxy and every server it spawned
    for _ in $(seq 100); do
      kill -0 "$hub_pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL -- "-$hub_pid" 2>/dev/null || true # its process group, should it hang
  fi
  hub_pid=""
  # The proxy and each server run in sessions of their own: the proxy is
  # found by its pid file, the servers (their --ServerApp.root_dir) and
  # their kernels (their connection files, under the users' HOMEs) by this
  # run's directory in their command lines.
  if [ -s "$work/proxy.pid" ]; then
    kill -KILL "$(cat "$work/proxy.pid")" 2>/dev/null || true
  fi
  pkill -KILL -f "$work/" 2>/dev/null || true
}
cleanup() {
  stop_command
  stop_hub
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
start_reaper

free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port=$(free_port)     # the proxy: the hub's public address
hub_port=$(free_port) # the hub itself, behind the proxy
api_port=$(free_port) # the proxy's REST API, which the hub drives
token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
mkdir -p "$work/home"

cat >"$work/jupyterhub_config.py" <<EOF
c = get_config()  # noqa
c.JupyterHub.ip = '127.0.0.1'
c.JupyterHub.port = $port
c.JupyterHub.hub_ip = '127.0.0.1'
c.JupyterHub.hub_port = $hub_port
c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:$api_port'
c.ConfigurableHTTPProxy.pid_file = '$work/proxy.pid'
c.ConfigurableHTTPProxy.command = ['$proxy_bin']
c.JupyterHub.db_url = 'sqlite:///$work/jupyterhub.sqlite'
c.JupyterHub.cookie_secret_file = '$work/jupyterhub_cookie_secret'
c.JupyterHub.pid_file = '$work/jupyterhub.pid'
c.JupyterHub.authenticator_class = 'dummy'
c.Authenticator.allowed_users = {'ci', 'hubclient'}
c.JupyterHub.spawner_class = 'simple'
c.SimpleLocalProcessSpawner.home_dir_template = '$work/home/{username}'
c.Spawner.cmd = ['$singleuser']
# The IOPub message-rate limit at a tenth of its default, as
# scripts/with-jupyter.sh sets it (docs/wire/kernel-channels.md KC90).
c.Spawner.args = ['--allow-root', '--ServerApp.iopub_msg_rate_limit=100']
c.Spawner.start_timeout = 60
c.Spawner.http_timeout = 60

def root_in_home(spawner):
    # The user's home as the server's root, named on its command line so
    # that the script can find the server by this run's directory.
    spawner.args = spawner.args + ['--ServerApp.root_dir=$work/home/' + spawner.user.name]

c.Spawner.pre_spawn_hook = root_in_home
# A platform's service: start, stop and reach users' servers, list users.
c.JupyterHub.services = [{'name': 'ci', 'api_token': '$token'}]
c.JupyterHub.load_roles = [{
    'name': 'ci-service',
    'services': ['ci'],
    'scopes': ['admin:servers', 'access:servers', 'list:users', 'read:users'],
}]
EOF

version=$("$hub_bin" --version)
echo "with-jupyterhub: JupyterHub $version on 127.0.0.1:$port" >&2
# NODE_PATH: Debian's configurable-http-proxy finds its modules there only
# with it when the node on PATH is not Debian's.
(cd "$work" && HOME="$work/home" NODE_PATH=/usr/share/nodejs JUPYTER_RUNTIME_DIR="$work/runtime" \
  exec setsid "$hub_bin" -f "$work/jupyterhub_config.py" >"$work/hub.log" 2>&1) &
hub_pid=$!
disown "$hub_pid"

hub="http://127.0.0.1:$port"
auth="Authorization: token $token"
fail() {
  echo "with-jupyterhub: $1; the hub's log:" >&2
  cat "$work/hub.log" >&2
  exit 1
}
wait_for() { # description, tries of 0.25s, command...
  local what="$1" tries="$2"
  shift 2
  for i in $(seq "$tries"); do
    if "$@" 2>/dev/null; then
      return 0
    fi
    kill -0 "$hub_pid" 2>/dev/null || fail "the hub exited while waiting for $what"
    [ "$i" -lt "$tries" ] || fail "$what did not happen"
    sleep 0.25
  done
}
wait_for "the hub's API through the proxy" 240 curl -fsS -o /dev/null -H "$auth" "$hub/hub/api/users/ci"
curl -fsS -o /dev/null -X POST -H "$auth" "$hub/hub/api/users/ci/server" || fail "POST /hub/api/users/ci/server failed"
ready() {
  curl -fsS -H "$auth" "$hub/hub/api/users/ci" | /usr/bin/python3 -c \
    'import json, sys; s = json.load(sys.stdin)["servers"].get(""); sys.exit(0 if s and s["ready"] else 1)'
}
wait_for "ci's server to be ready" 240 ready
wait_for "ci's server to answer through the proxy" 240 curl -fsS -o /dev/null -H "$auth" "$hub/user/ci/api/status"

# The single-user server's generation, from the version it reports.
server_version=$(curl -fsS -H "$auth" "$hub/user/ci/api" | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])') ||
  fail "GET /user/ci/api failed"
generation=${server_version%%.*}
case "$generation" in
1 | 2) ;;
*) fail "ci's server reports version '$server_version', neither 1.x nor 2.x" ;;
esac
echo "with-jupyterhub: ci's server is Jupyter Server $server_version" >&2

rc=0
run_command env NBSERV_JUPYTER_URL="$hub/user/ci/" NBSERV_JUPYTER_TOKEN="$token" NBSERV_JUPYTER_GENERATION="$generation" \
  NBSERV_HUB_URL="$hub/" NBSERV_HUB_TOKEN="$token" NBSERV_HUB_USER=hubclient "$@" || rc=$?
if [ "$rc" -eq 0 ]; then
  echo "with-jupyterhub: passed through JupyterHub $version at $hub/user/ci/" >&2
fi
exit "$rc"

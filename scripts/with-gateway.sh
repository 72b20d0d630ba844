#!/usr/bin/env bash
# Runs tests against a real Jupyter Enterprise Gateway 3.3.0 (from the
# virtual environment scripts/gateway-env.sh makes, once), started on
# loopback with its local process proxy (kernels are local processes), in
# one of two modes, WITH_GATEWAY_MODE:
#
#   direct (the default): the SDK talks to the gateway itself. The command
#   runs twice, against a gateway with list_kernels off (its default: GET
#   /api/kernels and /api/sessions are refused) and one with it on, with
#   NBSERV_GATEWAY_URL, NBSERV_GATEWAY_TOKEN and NBSERV_GATEWAY_LIST_KERNELS
#   (0 or 1) set. The default command is the TestE2EGateway tests (the
#   SDK's, and run-notebook's over the gateway's kernels):
#     scripts/with-gateway.sh
#     scripts/with-gateway.sh go test -v -run E2EGatewayChannels .
#
#   server: a Jupyter Server 2.21.1 (scripts/jupyter2-env.sh) started with
#   --gateway-url pointing at the gateway (list_kernels on, which that
#   server needs to list kernels) runs every kernel there; the command runs
#   with NBSERV_JUPYTER_URL, NBSERV_JUPYTER_TOKEN and
#   NBSERV_JUPYTER_GENERATION=2 set, as scripts/with-jupyter.sh sets them.
#   The default command is the whole E2E suite; where such a server does
#   differently (docs/wire/gateway.md GW9-GW14), the tests assert what it
#   does and what the SDK makes of it:
#     WITH_GATEWAY_MODE=server scripts/with-gateway.sh
#
# The gateway refuses to start a kernel whose KERNEL_USERNAME is in its
# unauthorized_users ({root}); a start request without one gets the user
# the gateway runs as, from USER (getpass), which is root in CI and would
# make every session create fail (docs/wire/gateway.md GW4). So the
# gateway runs with USER=ci, and the Jupyter Server, which forwards its own
# KERNEL_* environment and not its clients' env, with KERNEL_USERNAME=ci
# (GW5). A client asking for KERNEL_USERNAME root is still refused.
#
# Each server gets a free loopback port, a random token, and temporary
# HOME, Jupyter config, data and runtime dirs; on exit (failure and
# interrupt included) every server is stopped and every kernel it started
# killed, found by its connection file in this run's runtime dirs.
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${WITH_GATEWAY_MODE:-direct}"
case "$mode" in
direct)
  [ "$#" -gt 0 ] || set -- go test -race -count=1 -v -run 'E2EGateway' . ./examples/run-notebook
  ;;
server)
  # -p 1: one server, one package at a time. NBSERV_JUPYTER_GATEWAY=1
  # tells the suite its kernels are on a gateway: the tests of what a
  # Jupyter Server does with its own kernels and not with a gateway's
  # (docs/wire/gateway.md) then assert the gateway's way: v1 channels
  # refused (GW9), nothing replayed after a drop and no idle state (GW10,
  # GW14), a Start with a kernel_id a 201 null (GW9, GW13),
  # GET /api/kernelspecs/{name} and a kernelspec's missing files 500s
  # (GW11), no IOPub rate limits and a 500 for an unknown kernelspec (GW12).
  [ "$#" -gt 0 ] || set -- go test -p 1 -race -count=1 -v -run 'E2E' . ./examples/run-notebook
  ;;
*)
  echo "with-gateway: WITH_GATEWAY_MODE is direct or server, not '$mode'" >&2
  exit 2
  ;;
esac

gateway_venv=$(scripts/gateway-env.sh)
jupyter_venv=""
[ "$mode" = direct ] || jupyter_venv=$(scripts/jupyter2-env.sh)

work=$(mktemp -d)
pids=()

stop_all() {
  local pid
  for pid in "${pids[@]}"; do # servers last started first: Jupyter before its gateway
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true # each shuts its kernels down on SIGTERM
      for _ in $(seq 150); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
      done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  pids=()
  # Kernels run in sessions of their own; any a server left behind are
  # found by their connection files in this run's runtime dirs.
  pkill -KILL -f "$work/[a-z0-9-]*/runtime/kernel-" 2>/dev/null || true
}
cleanup() {
  stop_all
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

new_token() {
  head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'
}

# wait_up name pid url path token log: polls url+path until it answers 200.
wait_up() {
  local name="$1" pid="$2" url="$3" path="$4" tok="$5" log="$6" i
  for i in $(seq 120); do # 60 s
    if curl -fsS -o /dev/null -H "Authorization: token $tok" "$url$path" 2>/dev/null; then
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null || [ "$i" -eq 120 ]; then
      echo "with-gateway: $name did not come up; its log:" >&2
      cat "$log" >&2
      return 1
    fi
    sleep 0.5
  done
}

# start_gateway list_kernels: sets gateway_url and gateway_token.
start_gateway() {
  local list="$1" port dir
  port=$(free_port)
  gateway_token=$(new_token)
  dir="$work/gateway-$port"
  mkdir -p "$dir/home"
  echo "with-gateway: Enterprise Gateway $("$gateway_venv/bin/jupyter-enterprisegateway" --version) on 127.0.0.1:$port list_kernels $list" >&2
  # port_retries=0: a gateway whose port was taken meanwhile exits rather
  # than moving to a port nobody polls. The token reaches it through its
  # environment (EG_AUTH_TOKEN), never a command line that ps shows.
  (cd "$dir" && exec env -u JUPYTER_PATH HOME="$dir/home" JUPYTER_CONFIG_DIR="$dir/config" JUPYTER_DATA_DIR="$dir/data" \
    JUPYTER_RUNTIME_DIR="$dir/runtime" EG_AUTH_TOKEN="$gateway_token" USER=ci LOGNAME=ci setsid "$gateway_venv/bin/jupyter-enterprisegateway" \
    --ip 127.0.0.1 --port "$port" --port_retries=0 --EnterpriseGatewayApp.list_kernels="$list" \
    --EnterpriseGatewayApp.allowed_kernels=python3 --EnterpriseGatewayApp.unauthorized_users=root >"$dir.log" 2>&1) &
  pids=("$!" "${pids[@]}")
  disown "${pids[0]}"
  gateway_url="http://127.0.0.1:$port/"
  # The gateway has no /api/status (docs/wire/gateway.md GW1); GET
  # /api/kernelspecs needs the token and the kernel manager.
  wait_up "the gateway" "${pids[0]}" "$gateway_url" api/kernelspecs "$gateway_token" "$dir.log"
}

# start_jupyter: a Jupyter Server 2.x delegating its kernels to the
# gateway; sets jupyter_url and jupyter_token.
start_jupyter() {
  local port dir
  port=$(free_port)
  jupyter_token=$(new_token)
  dir="$work/jupyter-$port"
  mkdir -p "$dir/root" "$dir/home"
  echo "with-gateway: Jupyter Server $("$jupyter_venv/bin/jupyter-server" --version) on 127.0.0.1:$port, kernels on $gateway_url" >&2
  # JUPYTER_GATEWAY_AUTH_TOKEN is GatewayClient.auth_token. KERNEL_USERNAME
  # is forwarded to the gateway with every kernel start.
  (cd "$dir" && exec env -u JUPYTER_PATH HOME="$dir/home" JUPYTER_CONFIG_DIR="$dir/config" JUPYTER_DATA_DIR="$dir/data" \
    JUPYTER_RUNTIME_DIR="$dir/runtime" JUPYTER_GATEWAY_AUTH_TOKEN="$gateway_token" KERNEL_USERNAME=ci \
    setsid "$jupyter_venv/bin/jupyter-server" --no-browser --allow-root --ip 127.0.0.1 --port "$port" \
    --ServerApp.port_retries=0 --IdentityProvider.token="$jupyter_token" --ServerApp.root_dir="$dir/root" \
    --gateway-url="${gateway_url%/}" >"$dir.log" 2>&1) &
  pids=("$!" "${pids[@]}")
  disown "${pids[0]}"
  jupyter_url="http://127.0.0.1:$port/"
  wait_up "Jupyter Server" "${pids[0]}" "$jupyter_url" api/status "$jupyter_token" "$dir.log"
}

# up: starts what the mode needs, trying again when another program took
# a free port first.
up() {
  local attempt
  for attempt in 1 2 3; do
    if "$@"; then
      return 0
    fi
    stop_all
    [ "$attempt" -lt 3 ] || return 1
  done
}

gateway_only() { start_gateway "$1"; }
gateway_and_jupyter() { start_gateway True && start_jupyter; }

rc=0
if [ "$mode" = direct ]; then
  for list in False True; do
    up gateway_only "$list"
    flag=0
    [ "$list" = False ] || flag=1
    NBSERV_GATEWAY_URL="$gateway_url" NBSERV_GATEWAY_TOKEN="$gateway_token" NBSERV_GATEWAY_LIST_KERNELS="$flag" "$@" || rc=$?
    stop_all
    [ "$rc" -eq 0 ] || exit "$rc"
  done
else
  up gateway_and_jupyter
  NBSERV_JUPYTER_URL="$jupyter_url" NBSERV_JUPYTER_TOKEN="$jupyter_token" NBSERV_JUPYTER_GENERATION=2 NBSERV_JUPYTER_GATEWAY=1 "$@" || rc=$?
  stop_all
  [ "$rc" -eq 0 ] || exit "$rc"
fi
echo "with-gateway: passed against Enterprise Gateway ($mode mode)" >&2

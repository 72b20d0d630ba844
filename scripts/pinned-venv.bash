# Sourced by scripts/jupyter2-env.sh and scripts/gateway-env.sh: builds,
# once, a Python virtual environment of pinned packages and prints its
# path on stdout (progress goes to stderr).
#
#   pinned_venv NAME VENV PROGRAM "TOP PINS" "DEPENDENCY PINS" [CONFIGURE]
#
# NAME prefixes progress lines; VENV is the environment's directory;
# PROGRAM (relative to VENV/bin) must exist in a ready environment; the
# pins are installed together; CONFIGURE, a function, runs with VENV
# after the kernelspec is installed. The environment is reused while its
# stamp (Debian's Python, the calling script and this file) matches; runs
# of several scripts at once wait for each other on a lock beside it.
#
# It is made with Debian's /usr/bin/python3 (apt-get installs python3-venv
# when missing), without Debian's site packages. The one kernelspec it
# installs is "python3", run by the environment's own python and ipykernel
# (Jupyter looks in a virtual environment's own share/jupyter before the
# user's and Debian's).

pinned_venv() {
  local name=$1 venv=$2 program=$3 top=$4 pins=$5 configure=${6:-}
  local python=/usr/bin/python3
  local stamp_file="$venv/.go-nbserv-stamp"
  if [ ! -x "$python" ]; then
    echo "$name: $python is missing (Debian's python3)" >&2
    return 1
  fi
  # The stamp says what the environment was built from: it is rebuilt when
  # Debian's Python or a script (its pins, its steps) changes.
  local stamp
  stamp="python $($python -c 'import sys; print(sys.version.split()[0])') script $(cat "${BASH_SOURCE[1]}" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-64)"
  ready() {
    [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp" ] && [ -x "$venv/bin/$program" ]
  }
  if ready; then
    echo "$venv"
    return 0
  fi
  mkdir -p "$(dirname "$venv")"
  exec 9>"$venv.lock"
  flock 9
  if ready; then # built by another run while this one waited
    echo "$venv"
    return 0
  fi

  # Debian splits ensurepip, which venv needs, into python3-venv.
  if ! $python -c 'import ensurepip, venv' >/dev/null 2>&1; then
    echo "$name: installing python3-venv" >&2
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv >/dev/null
  fi

  echo "$name: creating $venv" >&2
  rm -rf "$venv"
  # PYTHONPATH would let other packages into the environment and its checks.
  unset PYTHONPATH PYTHONHOME
  $python -m venv "$venv"
  local req="$venv/requirements.txt"
  # shellcheck disable=SC2086 # one requirement per word
  printf '%s\n' $top $pins >"$req"
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install --quiet --require-virtualenv -r "$req" >&2
  local out
  if ! out=$("$venv/bin/python" -m pip check 2>&1); then
    echo "$out" >&2
    return 1
  fi
  # The kernelspec, with the environment's python by its absolute path.
  "$venv/bin/python" -m ipykernel install --sys-prefix --name python3 >/dev/null
  if [ -n "$configure" ]; then
    "$configure" "$venv"
  fi
  printf '%s' "$stamp" >"$stamp_file"
  echo "$name: ready: $("$venv/bin/$program" --version 2>&1 | tail -1)" >&2
  echo "$venv"
}

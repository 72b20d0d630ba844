#!/usr/bin/env bash
# Creates, once, a Python virtual environment holding Jupyter Server 2.x
# with ipykernel and terminado from the Python package index, at pinned
# versions, and prints its path on stdout (progress goes to stderr):
#
#   venv=$(scripts/jupyter2-env.sh)
#   "$venv/bin/jupyter-server" --version
#
# scripts/with-jupyter.sh uses it when WITH_JUPYTER_GENERATION=2.
#
# The environment lives in NBSERV_VENV_DIR, by default
# ~/.cache/go-nbserv/jupyter-server-<version>, and is reused while its stamp
# (this script and the Python it was made with) still matches: a second
# run only compares the stamp. Runs of several scripts at once wait for each
# other on a lock beside it.
#
# It is made with Debian's /usr/bin/python3 (apt-get installs python3-venv
# when missing), without Debian's site packages. Every package, dependencies
# included, is pinned, so two machines build the same server. The one
# kernelspec its server offers is "python3", run by the environment's own
# python and ipykernel: the environment's Jupyter config allows that name
# only, and Jupyter looks in a virtual environment's own share/jupyter before
# the user's and Debian's (/usr/share/jupyter/kernels), so no other
# kernelspec leaks in and python3 is the environment's. The steps are
# scripts/pinned-venv.bash's, shared with scripts/gateway-env.sh.
set -euo pipefail

jupyter_server_version=2.21.1
# The top-level pins, then every dependency they brought in (pip freeze in
# an environment made from the three, on Python 3.11).
top="jupyter-server==$jupyter_server_version ipykernel==7.4.0 terminado==0.18.1"
pins="anyio==4.16.0 argon2-cffi==25.1.0 argon2-cffi-bindings==26.2.0 arrow==1.4.0
asttokens==3.0.2 attrs==26.1.0 beautifulsoup4==4.15.0 bleach==6.4.0 cffi==2.1.1
comm==0.2.3 debugpy==1.8.22 defusedxml==0.7.1 executing==2.3.0
fastjsonschema==2.22.3 fqdn==1.6.0 idna==3.20 ipython==9.18.1
ipython_pygments_lexers==1.1.1 isoduration==20.11.0 jedi==0.20.1 Jinja2==3.1.6
jsonpointer==3.12 jsonschema==4.26.0 jsonschema-specifications==2025.9.1
jupyter-events==0.12.1 jupyter_client==8.10.0 jupyter_core==5.9.1
jupyter_server_terminals==0.5.4 jupyterlab_pygments==0.3.0 lark==1.3.1
MarkupSafe==3.0.4 matplotlib-inline==0.2.2 mistune==3.4.0 nbclient==0.11.0
nbconvert==7.17.2 nbformat==5.11.1 nest-asyncio2==1.7.4 overrides==7.7.0
packaging==26.4 pandocfilters==1.5.1 parso==0.8.7 pexpect==4.9.0
platformdirs==4.14.8 prometheus_client==0.26.0 prompt_toolkit==3.0.53
psutil==7.2.2 ptyprocess==0.7.0 pure_eval==0.2.4 pycparser==3.12
Pygments==2.21.0 python-dateutil==4.0.0 python-json-logger==4.2.0
PyYAML==6.0.4 pyzmq==27.3.0 referencing==0.37.0 rfc3339-validator==0.1.4
rfc3986-validator==0.1.1 rfc3987-syntax==1.1.0 rpds-py==2026.9.1
Send2Trash==2.2.0 six==1.17.0 soupsieve==2.10 stack-data==0.6.3
tinycss2==1.5.1 tornado==6.6.1 traitlets==5.16.1 typing_extensions==4.16.0
tzdata==2026.6 uri-template==1.3.0 wcwidth==0.9.4 webcolors==25.10.0
webencodings==0.6.1 websocket-client==1.9.2"

venv="${NBSERV_VENV_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/go-nbserv/jupyter-server-$jupyter_server_version}"

# The server offers the environment's python3 only: kernel_dirs is not
# configurable, allowed_kernelspecs is.
allow_python3_only() {
  mkdir -p "$1/etc/jupyter"
  printf '%s\n' '{"KernelSpecManager": {"allowed_kernelspecs": ["python3"]}}' >"$1/etc/jupyter/jupyter_server_config.json"
}

. "$(dirname "${BASH_SOURCE[0]}")/pinned-venv.bash"
pinned_venv jupyter2-env "$venv" jupyter-server "$top" "$pins" allow_python3_only

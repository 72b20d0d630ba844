#!/usr/bin/env bash
# Creates, once, a Python virtual environment holding Jupyter Enterprise
# Gateway with ipykernel from the Python package index, at pinned versions,
# and prints its path on stdout (progress goes to stderr):
#
#   venv=$(scripts/gateway-env.sh)
#   "$venv/bin/jupyter-enterprisegateway" --version
#
# scripts/with-gateway.sh uses it.
#
# It is made as scripts/jupyter2-env.sh makes Jupyter Server 2.x's (by
# scripts/pinned-venv.bash): in NBSERV_GATEWAY_VENV_DIR, by default
# ~/.cache/go-nbserv/enterprise-gateway-<version>, reused while its stamp
# (this script and the Python it was made with) matches, behind a lock,
# with Debian's /usr/bin/python3 and every package pinned. The gateway pins
# jupyter_client 6.x and Jupyter Server 1.24 (it is an application of
# Jupyter Server 1.x), which ipykernel 7 does not run on: its kernels run
# ipykernel 6.29.5. The one kernelspec it offers is "python3", the
# environment's own python and ipykernel, started by the gateway's local
# process proxy (a kernelspec with no process proxy named gets that one).
set -euo pipefail

gateway_version=3.3.0
# The top-level pins, then every dependency they brought in (pip freeze in
# an environment made from the two, on Python 3.11).
top="jupyter_enterprise_gateway==$gateway_version ipykernel==6.29.5"
pins="aiohappyeyeballs==2.7.1 aiohttp==3.14.5 aiohttp-retry==2.9.1 aiosignal==1.4.0
annotated-types==0.8.0 anyio==3.7.1 argon2-cffi==25.1.0
argon2-cffi-bindings==26.2.0 asttokens==3.0.2 attrs==26.1.0 bcrypt==5.0.0
beautifulsoup4==4.15.0 bleach==6.4.0 certifi==2026.10.19.post1 cffi==2.1.1
charset-normalizer==3.5.3 comm==0.2.3 cryptography==51.0.1 debugpy==1.8.22
defusedxml==0.7.1 docker==7.2.0 durationpy==0.12 executing==2.3.0
fastjsonschema==2.22.3 frozenlist==1.8.0 future==1.0.0 idna==3.21
invoke==3.0.3 ipython==9.19.1 ipython_pygments_lexers==1.1.1 jedi==0.20.1
Jinja2==3.1.6 jsonschema==4.26.0 jsonschema-specifications==2025.9.1
jupyter-client==6.1.12 jupyter-server==1.24.0 jupyter_core==5.9.1
jupyterlab_pygments==0.3.0 kubernetes==37.0.3 MarkupSafe==3.0.4
matplotlib-inline==0.2.2 mistune==3.4.0 multidict==7.2.1 nbclient==0.10.4
nbconvert==7.17.2 nbformat==5.11.1 nest-asyncio==1.6.0 oauthlib==4.0.1
packaging==26.4 pandocfilters==1.5.1 paramiko==5.1.0 parso==0.8.7
pexpect==4.9.0 platformdirs==4.14.9 prometheus_client==0.26.0
prompt_toolkit==3.0.53 propcache==0.5.4 psutil==7.2.2 ptyprocess==0.7.0
pure_eval==0.2.4 pycparser==3.12 pycryptodomex==3.24.2 pydantic==2.14.4
pydantic_core==2.50.5 Pygments==2.21.0 PyNaCl==1.6.2 python-dateutil==4.0.0
PyYAML==6.0.4 pyzmq==24.0.1 referencing==0.37.0 requests==2.34.2
requests-oauthlib==2.0.0 rpds-py==2026.9.1 Send2Trash==2.2.0 sniffio==1.3.1
soupsieve==2.10 stack-data==0.6.3 terminado==0.18.1 tinycss2==1.5.1
tornado==6.6.1 traitlets==5.16.1 typing-inspection==0.4.5
typing_extensions==4.16.0 tzdata==2026.6 urllib3==2.8.0 watchdog==7.1.1
wcwidth==0.9.5 webencodings==0.6.1 websocket-client==1.9.2 yarl==1.25.1
yarn-api-client==1.0.3"

venv="${NBSERV_GATEWAY_VENV_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/go-nbserv/enterprise-gateway-$gateway_version}"

. "$(dirname "${BASH_SOURCE[0]}")/pinned-venv.bash"
pinned_venv gateway-env "$venv" jupyter-enterprisegateway "$top" "$pins"

# Probe of what a new connection to a just-started kernel gets first: the
# status messages of Jupyter's kernel_info requests, each shown with its
# parent's message number in the connection's Session ("<session>_<server
# pid>_<n>": 0 is Jupyter's own kernel_info request, 1 and 2 the nudge's
# first attempt on shell and control, 3 and 4 its second...).
# Run against a server scripts/with-jupyter.sh starts, with the python of
# the server's environment (websocket-client comes with jupyter-server):
#   WITH_JUPYTER_GENERATION=2 WITH_JUPYTER_BASES=/ scripts/with-jupyter.sh \
#     $(scripts/jupyter2-env.sh)/bin/python docs/wire/kernel-channels-nudge.py 12
import json
import os
import sys
import urllib.request

import websocket

url, tok = os.environ["NBSERV_JUPYTER_URL"].rstrip("/"), os.environ["NBSERV_JUPYTER_TOKEN"]
H = {"Authorization": "token " + tok}


def rest(method, path, body=None):
    r = urllib.request.Request(url + path, method=method, data=body,
                               headers=dict(H, **{"Content-Type": "application/json"}))
    with urllib.request.urlopen(r) as f:
        b = f.read()
        return json.loads(b) if b else None


for i in range(int(sys.argv[1]) if len(sys.argv) > 1 else 10):
    k = rest("POST", "/api/kernels", b"{}")["id"]
    ws = websocket.create_connection(url.replace("http", "ws", 1) + "/api/kernels/%s/channels?session_id=probe%d" % (k, i),
                                     header=H)
    ws.settimeout(1.5)
    out = []
    try:
        while True:
            m = json.loads(ws.recv())
            p = m["parent_header"]
            out.append("%s:%s:%s parent=%s/%s" % (m["channel"], m["msg_type"], m["content"].get("execution_state", ""),
                                                  p.get("msg_id", "").rsplit("_", 1)[-1], p.get("msg_type", "")))
    except websocket.WebSocketTimeoutException:
        pass
    print(i, len(out), " | ".join(out), flush=True)
    ws.close()
    rest("DELETE", "/api/kernels/" + k)

#!/usr/bin/python3
"""Probe a Jupyter Server's kernel channels, for docs/wire/kernel-channels.md.

Sends one request on a kernel's WebSocket and prints every frame the server
sends back, with the time since the request, until the reply and the
request's "status: idle" have both arrived (or --wait seconds pass with
nothing). Uses only tornado, which Jupyter Server itself depends on.

  /usr/bin/python3 docs/wire/kernel-channels-probe.py URL TOKEN KERNEL_ID [options]

Options steer the faults: --interrupt-after/--restart-after S post the REST
action S seconds after the request; --drop-after N closes the socket after
N frames and reconnects with the same session_id after --gap seconds;
--stdin TEXT answers an input_request; --proto v1 offers the
v1.kernel.websocket.jupyter.org subprotocol.
"""
import argparse, asyncio, base64, datetime, json, time, uuid
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

V1 = "v1.kernel.websocket.jupyter.org"
p = argparse.ArgumentParser()
p.add_argument("url"); p.add_argument("token"); p.add_argument("kernel")
p.add_argument("--proto", default="legacy", choices=["legacy", "v1", "none"])
p.add_argument("--session", default=uuid.uuid4().hex)
p.add_argument("--msg-type", default="execute_request")
p.add_argument("--channel", default="shell")
p.add_argument("--code", default="1+1")
p.add_argument("--content", help="JSON content instead of an execute_request's")
p.add_argument("--stdin", help="answer an input_request with this value")
p.add_argument("--wait", type=float, default=10)
p.add_argument("--interrupt-after", type=float)
p.add_argument("--restart-after", type=float)
p.add_argument("--drop-after", type=int, help="close the socket after N frames, then reconnect")
p.add_argument("--gap", type=float, default=1.0, help="seconds between drop and reconnect")
p.add_argument("--no-request", action="store_true", help="only listen")
p.add_argument("--then", help="once done, execute this code on the same socket and report the same way")
p.add_argument("--full", action="store_true", help="print whole frames (default: a summary line each)")
p.add_argument("--dump", help="append every frame received, as a JSON line, to this file")
a = p.parse_args()


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


def pack_v1(channel, msg):
    parts = [json.dumps(msg[k]).encode() for k in ("header", "parent_header", "metadata", "content")]
    ch = channel.encode()
    offs = [8 * (1 + 1 + len(parts) + 1)]
    offs.append(offs[-1] + len(ch))
    for q in parts:
        offs.append(offs[-1] + len(q))
    return len(offs).to_bytes(8, "little") + b"".join(o.to_bytes(8, "little") for o in offs) + ch + b"".join(parts)


def unpack_v1(m):
    n = int.from_bytes(m[:8], "little")
    offs = [int.from_bytes(m[8 * (i + 1): 8 * (i + 2)], "little") for i in range(n)]
    parts = [m[offs[i]: offs[i + 1]] for i in range(1, n - 1)]
    msg = {k: json.loads(parts[i]) for i, k in enumerate(("header", "parent_header", "metadata", "content"))}
    msg["channel"] = m[offs[0]: offs[1]].decode()
    msg["buffers"] = parts[4:]
    return msg


def unpack_legacy_binary(m):
    n = int.from_bytes(m[:4], "big")
    offs = [int.from_bytes(m[4 * (i + 1): 4 * (i + 2)], "big") for i in range(n)] + [len(m)]
    msg = json.loads(m[offs[0]: offs[1]])
    msg["buffers"] = [m[offs[i]: offs[i + 1]] for i in range(1, n)]
    return msg


async def connect():
    u = a.url.replace("http", "ws", 1) + "api/kernels/" + a.kernel + "/channels?session_id=" + a.session
    req = HTTPRequest(u, headers={"Authorization": "token " + a.token})
    subs = [V1] if a.proto == "v1" else None
    t = time.time()
    ws = await websocket_connect(req, subprotocols=subs)
    print("# connected in %.3fs, session_id %s, subprotocol %r" % (time.time() - t, a.session, ws.selected_subprotocol))
    return ws


def send(ws, channel, msg_type, content, parent=None):
    mid = uuid.uuid4().hex
    msg = {"header": {"msg_id": mid, "session": a.session, "username": "probe", "date": now(),
                      "msg_type": msg_type, "version": "5.3"},
           "parent_header": parent or {}, "metadata": {}, "content": content, "buffers": [], "channel": channel}
    if a.proto == "v1":
        ws.write_message(pack_v1(channel, msg), binary=True)
    else:
        ws.write_message(json.dumps(msg))
    return msg


async def rest(action):
    await AsyncHTTPClient().fetch(a.url + "api/kernels/" + a.kernel + "/" + action, method="POST", body="",
                                  headers={"Authorization": "token " + a.token}, raise_error=False)


async def later(delay, action, t0):
    await asyncio.sleep(delay)
    print("# %.3fs POST %s" % (time.time() - t0, action))
    await rest(action)
    print("# %.3fs POST %s answered" % (time.time() - t0, action))


async def main():
    ws = await connect()
    if a.content:
        content = json.loads(a.content)
    elif a.msg_type == "execute_request":
        content = {"code": a.code, "silent": False, "store_history": True, "user_expressions": {},
                   "allow_stdin": a.stdin is not None, "stop_on_error": True}
    else:
        content = {}
    mid = None
    if not a.no_request:
        mid = send(ws, a.channel, a.msg_type, content)["header"]["msg_id"]
    t0 = time.time()
    actions = []
    for delay, action in ((a.interrupt_after, "interrupt"), (a.restart_after, "restart")):
        if delay is not None:
            actions.append(asyncio.ensure_future(later(delay, action, t0)))
    frames = 0
    got_reply = got_idle = False
    while not (got_reply and got_idle):
        try:
            m = await asyncio.wait_for(ws.read_message(), a.wait)
        except asyncio.TimeoutError:
            print("# %.3fs nothing for %gs" % (time.time() - t0, a.wait))
            break
        dt = time.time() - t0
        if m is None:
            print("# %.3fs closed by the server: code %r reason %r" % (dt, ws.close_code, ws.close_reason))
            break
        frames += 1
        if a.dump:
            with open(a.dump, "a") as f:
                f.write(json.dumps({"protocol": a.proto, "binary": isinstance(m, bytes),
                                    "frame": base64.b64encode(m if isinstance(m, bytes) else m.encode()).decode()}) + "\n")
        if isinstance(m, bytes):
            msg = unpack_v1(m) if a.proto == "v1" else unpack_legacy_binary(m)
            kind = "binary %d bytes, %d buffers" % (len(m), len(msg["buffers"]))
        else:
            msg = json.loads(m)
            kind = "text %d bytes" % len(m)
        mt = msg["header"].get("msg_type")
        parent = msg.get("parent_header") or {}
        mine = mid is not None and parent.get("msg_id") == mid
        print("# %.3fs %s %s/%s parent=%s content=%s" % (dt, kind, msg.get("channel"), mt,
              "mine" if mine else parent.get("msg_type", "-"), json.dumps(msg["content"])[:160]))
        if a.full:
            print(m if isinstance(m, str) else repr(m))
        if mine and mt.endswith("_reply"):
            got_reply = True
        if mine and mt == "status" and msg["content"].get("execution_state") == "idle":
            got_idle = True
        if mt == "input_request" and a.stdin is not None:
            send(ws, "stdin", "input_reply", {"value": a.stdin}, parent=msg["header"])
            print("# %.3fs sent input_reply %r" % (time.time() - t0, a.stdin))
        if a.drop_after and frames == a.drop_after:
            ws.close()
            print("# %.3fs closed the socket; reconnecting in %gs with the same session_id" % (time.time() - t0, a.gap))
            await asyncio.sleep(a.gap)
            ws = await connect()
            a.drop_after = None
    if a.then is not None:
        for t in actions:  # the REST action answered first
            await t
        print("# %.3fs then, on the same socket:" % (time.time() - t0))
        await report(ws, send(ws, "shell", "execute_request", {"code": a.then, "silent": False, "store_history": True,
                                                            "user_expressions": {}, "allow_stdin": False,
                                                            "stop_on_error": True})["header"]["msg_id"])
    ws.close()


async def report(ws, mid):
    t0 = time.time()
    got_reply = got_idle = False
    while not (got_reply and got_idle):
        try:
            m = await asyncio.wait_for(ws.read_message(), a.wait)
        except asyncio.TimeoutError:
            print("# %.3fs nothing for %gs" % (time.time() - t0, a.wait))
            return
        if m is None:
            print("# closed by the server")
            return
        msg = unpack_v1(m) if a.proto == "v1" else (unpack_legacy_binary(m) if isinstance(m, bytes) else json.loads(m))
        mt = msg["header"].get("msg_type")
        mine = (msg.get("parent_header") or {}).get("msg_id") == mid
        print("# %.3fs %s/%s parent=%s content=%s" % (time.time() - t0, msg.get("channel"), mt, "mine" if mine else "-",
                                                     json.dumps(msg["content"])[:100]))
        got_reply = got_reply or (mine and mt.endswith("_reply"))
        got_idle = got_idle or (mine and mt == "status" and msg["content"].get("execution_state") == "idle")


asyncio.run(main())

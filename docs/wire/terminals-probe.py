#!/usr/bin/python3
"""Probe a Jupyter Server's terminal WebSocket, for docs/wire/terminals.md.

Opens /terminals/websocket/NAME, sends the given frames in order (each
after the previous one's output has been quiet for --quiet seconds), and
prints every frame the server sends, with the time since the socket
opened, then how the socket ended. Uses only tornado, which Jupyter Server
itself depends on.

  /usr/bin/python3 docs/wire/terminals-probe.py URL TOKEN NAME [FRAME...]

A FRAME is sent as it is written: '["stdin", "echo hi\\r"]',
'["set_size", 40, 100]', or anything else ('not json'); "@close" closes the
socket from the client's side, "@delete" deletes the terminal over REST,
"@wait" only waits for quiet.
"""
import argparse, asyncio, json, time
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

p = argparse.ArgumentParser()
p.add_argument("url"); p.add_argument("token"); p.add_argument("name")
p.add_argument("frames", nargs="*")
p.add_argument("--quiet", type=float, default=1.0)
p.add_argument("--wait", type=float, default=10)
a = p.parse_args()

base = a.url.rstrip("/")
hdr = {"Authorization": "token " + a.token}


async def main():
    t0 = time.monotonic()
    ws_url = base.replace("http", "ws", 1) + "/terminals/websocket/" + a.name
    try:
        ws = await websocket_connect(HTTPRequest(ws_url, headers=hdr))
    except Exception as e:
        print("dial:", type(e).__name__, e)
        return
    print("open, subprotocol", ws.selected_subprotocol)
    q = asyncio.Queue()

    async def reader():
        while True:
            m = await ws.read_message()
            await q.put(m)
            if m is None:
                return

    asyncio.ensure_future(reader())

    async def drain(limit):
        # prints frames until none came for --quiet seconds; False when the socket ended
        end = time.monotonic() + limit
        while time.monotonic() < end:
            try:
                m = await asyncio.wait_for(q.get(), a.quiet)
            except asyncio.TimeoutError:
                return True
            if m is None:
                print("%.3f closed: code %s reason %r" % (time.monotonic() - t0, ws.close_code, ws.close_reason))
                return False
            kind = "binary" if isinstance(m, bytes) else "text"
            print("%.3f %s %s" % (time.monotonic() - t0, kind, json.dumps(m if kind == "text" else m.hex())))
        return True

    if not await drain(a.wait):
        return
    for f in a.frames + ["@wait"]:
        if f == "@close":
            ws.close()
            print("client closed")
            return
        if f == "@delete":
            r = await AsyncHTTPClient().fetch(base + "/api/terminals/" + a.name, method="DELETE", headers=hdr, raise_error=False)
            print("DELETE", r.code)
        elif f != "@wait":
            print("%.3f send %s" % (time.monotonic() - t0, f))
            await ws.write_message(f)
        if not await drain(a.wait):
            return


asyncio.run(main())

#!/usr/bin/python3
"""WebSocket echo server for the xpcshell tests, on Python `websockets`
(Debian python3-websockets; run with /usr/bin/python3).

Usage: echo_server.py [--port N]   (default: a free port chosen by the OS)

Prints its base URL (ws://127.0.0.1:PORT/) as the first line of stdout once
it listens, then serves until stdin reaches end of file or it is killed, so
a runner that dies never leaves it behind.  The Node twin (echo_server.js)
behaves identically; both understand these paths:

  /  (any path not below)   echo every message back as received: text as
                            text, binary as binary, same payload
  /close?code=N&reason=R    close right after the handshake with code N
                            (default 1000) and reason R (URL-encoded)

Subprotocols: offered ones are matched against ("chat", "superchat") in the
client's order; the first supported one is chosen, none if none match.
"""
import argparse
import asyncio
import sys
import urllib.parse

import websockets

SUPPORTED_SUBPROTOCOLS = ("chat", "superchat")


def select_subprotocol(client_protocols, server_protocols):
    # The client's order decides, as the ws (Node) twin does.
    for p in client_protocols:
        if p in SUPPORTED_SUBPROTOCOLS:
            return p
    return None


async def handler(ws, path=None):
    url = urllib.parse.urlsplit(ws.path)
    if url.path == "/close":
        query = urllib.parse.parse_qs(url.query)
        code = int(query.get("code", ["1000"])[0])
        reason = query.get("reason", [""])[0]
        await ws.close(code, reason)
        return
    try:
        async for msg in ws:
            await ws.send(msg)
    except websockets.ConnectionClosed:
        pass


async def main(port):
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    # End of stdin means the runner has gone: stop serving.
    loop.add_reader(sys.stdin.fileno(), lambda: (
        not sys.stdin.buffer.read1(4096) and not stop.done()
        and stop.set_result(None)))
    async with websockets.serve(handler, "127.0.0.1", port,
                                subprotocols=list(SUPPORTED_SUBPROTOCOLS),
                                select_subprotocol=select_subprotocol,
                                compression=None, max_size=None,
                                ping_interval=None) as server:
        bound = server.sockets[0].getsockname()[1]
        print("ws://127.0.0.1:%d/" % bound, flush=True)
        await stop


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    try:
        asyncio.run(main(args.port))
    except KeyboardInterrupt:
        pass

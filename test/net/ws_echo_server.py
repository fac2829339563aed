#!/usr/bin/python3
"""Echo server for test_ws_conn, on the Debian `websockets` library.

Usage: ws_echo_server.py [PORT] [deflate]   (PORT 0: any free port; with
"deflate" the server accepts permessage-deflate, RFC 7692)
Prints "PORT <n>" on stdout once listening on 127.0.0.1, and stops when
stdin reaches EOF (the test closes it) or on SIGTERM.

Paths:
  /                      echo every message back with its type (text as text,
                         binary as binary); answers pings (the library does)
  /close?code=C&reason=R close at once with code C and reason R
Subprotocols: the server speaks "chat" and "superchat"; when the client
offers one of them it is chosen (the library's rule decides between both).
"""
import asyncio
import sys
import urllib.parse

import websockets


async def handler(ws):
    url = urllib.parse.urlsplit(ws.path)
    if url.path == "/close":
        q = urllib.parse.parse_qs(url.query)
        code = int(q.get("code", ["1000"])[0])
        reason = q.get("reason", [""])[0]
        await ws.close(code, reason)
        return
    try:
        async for msg in ws:
            await ws.send(msg)
    except websockets.ConnectionClosed:
        pass


async def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    deflate = "deflate" in sys.argv[2:]
    async with websockets.serve(handler, "127.0.0.1", port,
                                subprotocols=["chat", "superchat"],
                                max_size=None, max_queue=None,
                                compression="deflate" if deflate else None,
                                ping_interval=None,
                                close_timeout=2) as server:
        print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)
        loop = asyncio.get_running_loop()
        # Stop when the test closes our stdin.
        await loop.run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    asyncio.run(main())

#!/usr/bin/python3
"""deflate_echo_server.py — a Python `websockets` echo server that accepts
permessage-deflate (RFC 7692; the library's default negotiation), for the
channel's extension tests. Prints ws://127.0.0.1:PORT/ once listening and
serves until stdin reaches end of file (the test runner went away).
Run with the system interpreter (/usr/bin/python3, python3-websockets)."""
import asyncio
import sys

import websockets


async def echo(ws, path=None):
    try:
        async for msg in ws:
            await ws.send(msg)
    except websockets.ConnectionClosed:
        pass


async def main():
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    loop.add_reader(sys.stdin.fileno(), lambda: (
        not sys.stdin.buffer.read1(4096) and not stop.done()
        and stop.set_result(None)))
    async with websockets.serve(echo, "127.0.0.1", 0, compression="deflate",
                                max_size=None, ping_interval=None) as server:
        print("ws://127.0.0.1:%d/" % server.sockets[0].getsockname()[1],
              flush=True)
        await stop


if __name__ == "__main__":
    asyncio.run(main())

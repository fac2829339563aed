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
  /blast?count=N&size=S[&wait=1][&report=1]
                         send N binary messages of S bytes (S >= 8) as fast
                         as the connection takes them, then the text message
                         "blast N S", then close 1000. Message `seq` is its
                         sequence number (8 bytes, big-endian) followed by
                         S - 8 bytes of pattern(seq): byte k of the whole
                         pattern is (k + k // 256) % 256, and the message
                         carries the slice starting at k = seq % 4093.
                         wait=1: first wait for one message from the client
                         (its go-ahead), so nothing travels with the 101.
                         report=1: print on stdout "blast stalled sent=K"
                         once no send has completed for 0.6 s (the client
                         stopped reading; K messages were taken by the
                         connection), "blast done sent=N" after the last
                         one, or "blast closed sent=K" when the client went
                         away first. Only when the test reads our stdout.
Subprotocols: the server speaks "chat" and "superchat"; when the client
offers one of them it is chosen (the library's rule decides between both).
"""
import asyncio
import struct
import sys
import urllib.parse

import websockets

PERIOD = 4093  # pattern offsets: a message is not a shifted copy of the last


def pattern(length):
    # (k + k // 256) % 256 block by block: 256-byte slices of a doubled ramp
    # (fast; a byte loop over megabytes would be slow in Python).
    ramp = bytes(range(256)) * 2
    blocks = (length + 255) // 256
    return b"".join(ramp[b % 256:b % 256 + 256] for b in range(blocks))[:length]


def say(line):
    try:
        print(line, flush=True)
    except OSError:
        pass  # nobody reads our stdout


async def watch(state):
    # A stall is many consecutive ticks without progress (not elapsed time
    # alone), so a process that was merely descheduled does not report one.
    last, still = -1, 0
    while True:
        await asyncio.sleep(0.05)
        if state["sent"] != last:
            last, still = state["sent"], 0
            continue
        still += 1
        if still == 12:
            say("blast stalled sent=%d" % last)
            return


async def blast(ws, q):
    count = int(q.get("count", ["1"])[0])
    size = max(8, int(q.get("size", ["8"])[0]))
    report = q.get("report", ["0"])[0] == "1"
    # A client that pauses reading takes long to reach our close frame and
    # to answer it: do not give up on it after the server's 2 s.
    ws.close_timeout = 60
    if q.get("wait", ["0"])[0] == "1":
        await ws.recv()
    body = pattern(size - 8 + PERIOD)
    state = {"sent": 0}
    watcher = asyncio.create_task(watch(state)) if report else None
    try:
        for seq in range(count):
            off = seq % PERIOD
            # send() returns once the frame is handed to the transport and
            # its buffer is under the high-water mark (drain).
            await ws.send(struct.pack(">Q", seq) + body[off:off + size - 8])
            state["sent"] = seq + 1
    except websockets.ConnectionClosed:
        if report:
            say("blast closed sent=%d" % state["sent"])
        return
    finally:
        if watcher:
            watcher.cancel()
    if report:
        say("blast done sent=%d" % count)
    try:
        await ws.send("blast %d %d" % (count, size))
        await ws.close(1000)
    except websockets.ConnectionClosed:
        pass


async def handler(ws):
    url = urllib.parse.urlsplit(ws.path)
    q = urllib.parse.parse_qs(url.query)
    if url.path == "/close":
        code = int(q.get("code", ["1000"])[0])
        reason = q.get("reason", [""])[0]
        await ws.close(code, reason)
        return
    if url.path == "/blast":
        await blast(ws, q)
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

#!/usr/bin/python3
"""py_client.py — the Python `websockets` peer of `make bench`.

usage: py_client.py URL WORKLOAD COUNT SIZE
Same contract as `wschannel bench`: the client appends count=COUNT&size=SIZE
to URL's query; WORKLOAD is recv-binary, recv-text, send-binary or echo
(exit 3 for anything else); prints one JSON line {"msgs", "bytes",
"seconds"} (+ "rtt_p50_us", "rtt_p99_us" for echo). `seconds` runs on the
monotonic clock from the open handshake's end to the COUNT-th message
(recv, echo) or to the server's "<messages> <bytes>" reply (send).
Compression is off and the message size unlimited, as for the other peers.
Exit 1 on a failed connection or a short count, 2 on usage errors.
"""
import asyncio
import json
import sys
import time

import websockets

WORKLOADS = ("recv-binary", "recv-text", "send-binary", "echo")


def with_query(url, count, size):
    sep = "&" if "?" in url else "?"
    return "%s%scount=%d&size=%d" % (url, sep, count, size)


async def run(url, workload, count, size):
    async with websockets.connect(with_query(url, count, size),
                                  compression=None, max_size=None,
                                  max_queue=None, ping_interval=None,
                                  close_timeout=20) as ws:
        t0 = time.monotonic()
        out = {}
        if workload.startswith("recv-"):
            want = bytes if workload == "recv-binary" else str
            n = 0
            nbytes = 0
            async for msg in ws:
                if not isinstance(msg, want) or len(msg) != size:
                    raise RuntimeError("unexpected message %r" % type(msg))
                n += 1
                nbytes += len(msg)
                if n == count:
                    break
            t1 = time.monotonic()
            if n != count:
                raise RuntimeError("%d of %d messages" % (n, count))
            out = {"msgs": n, "bytes": nbytes, "seconds": t1 - t0}
            # The server's Close 1000 follows.
            try:
                await ws.recv()
            except websockets.ConnectionClosedOK:
                pass
        elif workload == "send-binary":
            payload = b"x" * size
            for _ in range(count):
                # send() waits while the write buffer is above its high
                # water mark: the library's own backpressure.
                await ws.send(payload)
            await ws.send("done")
            reply = await ws.recv()
            t1 = time.monotonic()
            msgs, nbytes = (int(x) for x in reply.split())
            out = {"msgs": msgs, "bytes": nbytes, "seconds": t1 - t0}
        else:  # echo
            payload = b"e" * size
            rtts = []
            for _ in range(count):
                s = time.monotonic_ns()
                await ws.send(payload)
                back = await ws.recv()
                rtts.append(time.monotonic_ns() - s)
                if len(back) != size:
                    raise RuntimeError("echo of %d bytes" % len(back))
            t1 = time.monotonic()
            rtts.sort()
            out = {"msgs": count, "bytes": count * size, "seconds": t1 - t0,
                   "rtt_p50_us": rtts[len(rtts) // 2] / 1000.0,
                   "rtt_p99_us": rtts[int(len(rtts) * 0.99)] / 1000.0}
        return out


def main(argv):
    if len(argv) != 5:
        print("usage: py_client.py URL WORKLOAD COUNT SIZE", file=sys.stderr)
        return 2
    url, workload = argv[1], argv[2]
    if workload not in WORKLOADS:
        print("py_client: unknown workload %s" % workload, file=sys.stderr)
        return 3
    try:
        count, size = int(argv[3]), int(argv[4])
        if count < 1 or size < 0:
            raise ValueError
    except ValueError:
        print("py_client: COUNT >= 1 and SIZE >= 0 are integers",
              file=sys.stderr)
        return 2
    try:
        out = asyncio.run(run(url, workload, count, size))
    except Exception as e:  # a failed connection, short count, 1007 ...
        print("py_client: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        return 1
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/python3
"""WebSocket echo server with permessage-deflate for the xpcshell tests, on
Python `websockets` (Debian python3-websockets; run with /usr/bin/python3).

Usage: deflate_server.py [--port N]   (default: a free port)

Prints its base URL (ws://127.0.0.1:PORT/) as the first line of stdout, then
serves until stdin reaches end of file or it is killed.  The Node twin
(deflate_server.js) understands the same URLs:

  /?QUERY   echo every message as received (text as text, binary as
            binary).  QUERY sets the permessage-deflate configuration of
            this connection:
              (empty)    the library's defaults (`websockets`: compression
                         on with server_max_window_bits=12 and
                         client_max_window_bits=12)
              off        compression off (any offer is declined)
              snct, cnct server_/client_no_context_takeover
              smwb=N, cmwb=N  server_/client_max_window_bits=N
            (any of snct/cnct/smwb/cmwb replaces the defaults by exactly
            those parameters)
Two text messages are commands, answered instead of echoed:
  __stats__    {"bytesIn": N, "bytesOut": N}: raw bytes read and written
               on this TCP connection so far (handshake included), so a
               test can see whether the client really compressed
  __request__  {"extensions": "<Sec-WebSocket-Extensions of the request>"
               or null, "response": "<the answer>" or null}
"""
import argparse
import asyncio
import json
import sys
import urllib.parse

import websockets
from websockets.extensions.permessage_deflate import (
    ServerPerMessageDeflateFactory, enable_server_permessage_deflate)
from websockets.legacy.server import WebSocketServerProtocol


def factories_for(path):
    """The extension factories a request path asks for (None: none)."""
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query,
                              keep_blank_values=True)
    if "off" in q:
        return None
    if not any(k in q for k in ("snct", "cnct", "smwb", "cmwb")):
        return enable_server_permessage_deflate(None)
    bits = {k: int(q[k][0]) if k in q else None for k in ("smwb", "cmwb")}
    return [ServerPerMessageDeflateFactory(
        server_no_context_takeover="snct" in q,
        client_no_context_takeover="cnct" in q,
        server_max_window_bits=bits["smwb"],
        client_max_window_bits=bits["cmwb"])]


class Protocol(WebSocketServerProtocol):
    """Chooses the extensions per request path and counts raw bytes."""

    bytes_in = bytes_out = 0
    ext_request = ext_response = None

    def process_extensions(self, headers, available_extensions):
        self.ext_request = headers.get("Sec-WebSocket-Extensions")
        header, extensions = WebSocketServerProtocol.process_extensions(
            headers, factories_for(self.path))
        self.ext_response = header
        return header, extensions

    def connection_made(self, transport):
        super().connection_made(transport)
        write = transport.write

        def counting_write(data):
            self.bytes_out += len(data)
            write(data)
        transport.write = counting_write

    def data_received(self, data):
        self.bytes_in += len(data)
        super().data_received(data)


async def handler(ws, path=None):
    try:
        async for msg in ws:
            if msg == "__stats__":
                await ws.send(json.dumps({"bytesIn": ws.bytes_in,
                                          "bytesOut": ws.bytes_out}))
            elif msg == "__request__":
                await ws.send(json.dumps({"extensions": ws.ext_request,
                                          "response": ws.ext_response}))
            else:
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
                                create_protocol=Protocol, compression=None,
                                max_size=None, ping_interval=None) as server:
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

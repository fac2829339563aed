#!/usr/bin/python3
"""badserver.py — a WebSocket server that misbehaves in one chosen way
(stdlib only).  One mode per failure the channel must survive (issue 4's
"misbehaving server" list), plus a well-behaved echo mode.

  badserver.py --mode MODE [--port 0] [--host 127.0.0.1]
               [--tls-cert FILE --tls-key FILE] [--once]
               [--code N|none] [--reason TEXT] [--size N] [--status N]
               [--protocols a,b] [--delay SECS] [--hold SECS]

The first stdout line is "LISTENING <port>".  Every connection then prints
lines "EVENT <conn#> <what> [key=value ...]" (flushed), so a test can check
what the client did on the wire: `request`, `client-message`, `client-ping`,
`client-pong`, `client-close code=N reason=...`, `client-frame` (a
violation by the client), `eof`, `reset`, `done`.  --once exits after the
first connection.

Expected client results (nsresult names and codes from issue 4 and
../shared/reference/gecko-websocket-facts.md; "Close N" is the close code
the client must put on the wire; onStart never comes for a handshake
failure):

 mode            server does                              client should report
 --------------  ---------------------------------------  ------------------------------------
 non101          answers HTTP 403 (--status N)            NS_ERROR_CONNECTION_REFUSED 0x804B000D
 wrongaccept     101 with a wrong Sec-WebSocket-Accept    NS_ERROR_ILLEGAL_VALUE 0x80070057
 noupgrade       101 without an Upgrade header            NS_ERROR_ILLEGAL_VALUE
 noconnection    101 without a Connection header          NS_ERROR_ILLEGAL_VALUE
 badsubprotocol  101 choosing "x-not-offered"             NS_ERROR_ILLEGAL_VALUE (Gecko 8 only
                 (a subprotocol the client did not offer)   blanked `protocol`; issue 4 fails)
 badextension    101 with "Sec-WebSocket-Extensions:      NS_ERROR_ILLEGAL_VALUE
                 x-not-offered" (never offered)
 garbage         non-HTTP bytes instead of a response     NS_ERROR_CONNECTION_REFUSED (no HTTP
                                                            response = not a 101)
 slowhandshake   accepts TCP, reads, never answers        NS_ERROR_NET_TIMEOUT 0x804B000E after
                                                            network.websocket.timeout.open
 ignoreclose     echoes, but never answers the client's   onStart; NS_ERROR_NET_TIMEOUT after
                 Close and never closes TCP                 network.websocket.timeout.close
 resetmidframe   a text message, then half a frame, then  onStart, the message, then
                 TCP RST (SO_LINGER 0)                      NS_ERROR_NET_RESET 0x804B0014
 eofmidmessage   a text message, then the first fragment  onStart, the message, then
                 of another, then TCP FIN                   NS_BASE_STREAM_CLOSED 0x80470002
 len2to63        a frame whose 64-bit length is 2^63      Close 1002, NS_ERROR_ILLEGAL_VALUE
 oversize        a binary message of --size+1 bytes (two  Close 1009, NS_ERROR_FILE_TOO_BIG
                 frames; set max-message-size to --size)    0x8052000F
 hugeclaim       a frame header claiming 2^62 bytes, then Close 1009, NS_ERROR_FILE_TOO_BIG at
                 16 bytes, then silence                     once, without allocating the claim
 badutf8text     a text frame that turns invalid at its   Close 1007 *before* the rest of the
                 13th byte (A0 after ED): written up to     frame is sent (fail-fast; EVENT says
                 --delay pause, then the rest               when=before-rest); Gecko 8
                                                            NS_ERROR_ILLEGAL_VALUE (later Gecko:
                                                            NS_ERROR_CANNOT_CONVERT_DATA)
 badutf8reason   Close 1000 whose reason is invalid UTF-8 Close 1007, NS_ERROR_ILLEGAL_VALUE; no
                                                            onServerClose
 bytebybyte      a valid session (101, "hello byte by     onStart, text "hello byte by byte",
                 byte", binary 00 01 fe ff, Ping "bbb",     binary 00 01 fe ff, a Pong "bbb";
                 then echo) written one byte per write      echoes; clean close NS_OK
                 with --delay (default 2 ms) pauses
 frames101       the 101 response, text "first in 101",   onStart, then both messages in
                 Ping "p101", binary 01 02 03 in ONE        order (none lost), the Pong; NS_OK
                 write; then echo
 servercloses    after --delay (0.05 s), Close with       onServerClose(code, reason) (1005
                 --code/--reason (default 1000, "bye";      for none), a Close echoing the code,
                 --code none: empty), waits for the         onStop NS_OK
                 client's Close, then closes TCP
 masked          a masked text frame "masked"             RFC 6455 5.1: Close 1002,
                                                            NS_ERROR_ILLEGAL_VALUE (Gecko
                                                            tolerated masked frames)
 echo            well-behaved echo; the subprotocol is    NS_OK; text "!ping X" makes the
                 the client's first offer that is in        server Ping with payload X and
                 --protocols; Pings answered; commands      answer the Pong with text "pong X";
                                                            "!close CODE [REASON]" makes it
                                                            close; "!send N" sends a binary
                                                            message of N bytes
 closedport      binds a port but never listens          NS_ERROR_CONNECTION_REFUSED
                 (connection refused, no race for a port)
"""
import argparse
import asyncio
import http
import itertools
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wsproto as wp                                    # noqa: E402

BAD_UTF8 = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"
MODES = ("non101 wrongaccept noupgrade noconnection badsubprotocol "
         "badextension garbage slowhandshake ignoreclose resetmidframe "
         "eofmidmessage len2to63 oversize hugeclaim badutf8text "
         "badutf8reason bytebybyte frames101 servercloses masked echo "
         "closedport").split()


def event(n, what, **kv):
    extra = "".join(" %s=%s" % (k, v) for k, v in kv.items())
    sys.stdout.write("EVENT %d %s%s\n" % (n, what, extra))
    sys.stdout.flush()


class Conn:
    """A server-side connection with just enough WebSocket to misbehave."""

    def __init__(self, args, n, reader, writer):
        self.a, self.n = args, n
        self.reader, self.writer = reader, writer
        self.buf = bytearray()
        self.key = None
        self.headers = {}
        self.bytewise = False
        self.pending_pings = set()

    # ----------------------------------------------------------- output

    async def write(self, data):
        if self.bytewise:
            for i in range(len(data)):
                self.writer.write(data[i:i + 1])
                await self.writer.drain()
                await asyncio.sleep(self.a.delay if self.a.delay is not None
                                    else 0.002)
        else:
            self.writer.write(data)
            await self.writer.drain()

    async def send(self, opcode, payload=b"", fin=True):
        await self.write(wp.build_frame(opcode, payload, fin))

    async def send_close(self, code=None, reason=b""):
        await self.send(wp.OP_CLOSE, wp.close_payload(code, reason))

    def fin(self):
        """Close TCP with a FIN (never an RST: unread input is drained by
        the callers before this)."""
        try:
            self.writer.close()
        except OSError:
            pass

    # ------------------------------------------------------------ input

    async def read_request(self):
        try:
            head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"),
                                          30)
        except (asyncio.TimeoutError, asyncio.IncompleteReadError,
                asyncio.LimitOverrunError, ConnectionError, OSError):
            event(self.n, "no-request")
            return False
        start, self.headers = wp.parse_http_head(head[:-4])
        status, reason, self.key = wp.check_client_request(start,
                                                           self.headers)
        event(self.n, "request", target=start.split(" ")[1]
              if " " in start else "?",
              protocols=",".join(wp.header_list(self.headers,
                                                "sec-websocket-protocol"))
              or "-",
              extensions=(wp.header_value(self.headers,
                                          "sec-websocket-extensions") or "-")
              .replace(" ", ""),
              origin=wp.header_value(self.headers, "origin") or "-",
              valid="yes" if status is None else "no(%s)" % reason.replace(
                  " ", "_"))
        if status is not None and self.a.mode not in ("garbage", "non101",
                                                      "slowhandshake"):
            self.writer.write(wp.http_error(status, reason))
            await self.writer.drain()
            self.fin()
            return False
        return True

    async def next_event(self, timeout=None):
        """Next complete frame from the client as (opcode, payload), or
        ("eof"|"reset"|"timeout", None)."""
        while True:
            ev = self.pop_frame()
            if ev:
                return ev
            try:
                d = await asyncio.wait_for(self.reader.read(65536), timeout)
            except asyncio.TimeoutError:
                return "timeout", None
            except (ConnectionError, OSError):
                return "reset", None
            if not d:
                return "eof", None
            self.buf += d

    def pop_frame(self):
        f = wp.take_frame(self.buf)
        if f is None:
            return None
        h, payload = f
        if not h.masked:
            event(self.n, "client-frame", problem="unmasked", opcode=h.opcode)
        return h.opcode, payload

    async def handle_close(self, payload, reply=True):
        code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 \
            else None
        reason = payload[2:]
        event(self.n, "client-close",
              code=code if code is not None else "none",
              reason=repr(wp.ascii_log(reason)))
        if reply:
            await self.send_close(code if code is not None and
                                  wp.close_code_valid(code) else None)

    async def echo_loop(self, answer_close=True, first_wait=None):
        """Echo until the client closes; returns how it ended."""
        while True:
            op, payload = await self.next_event(self.a.hold)
            if op in ("eof", "reset", "timeout"):
                event(self.n, op)
                return op
            if op == wp.OP_CLOSE:
                await self.handle_close(payload, reply=answer_close)
                if not answer_close:
                    event(self.n, "close-ignored")
                    continue
                return "closed"
            if op == wp.OP_PING:
                event(self.n, "client-ping", payload=repr(wp.ascii_log(payload)))
                await self.send(wp.OP_PONG, payload)
                continue
            if op == wp.OP_PONG:
                event(self.n, "client-pong", payload=repr(wp.ascii_log(payload)))
                if payload in self.pending_pings:
                    self.pending_pings.discard(payload)
                    await self.send(wp.OP_TEXT, b"pong " + payload)
                continue
            if op not in (wp.OP_TEXT, wp.OP_BINARY):
                event(self.n, "client-frame", opcode=op)
                continue
            event(self.n, "client-message",
                  type="text" if op == wp.OP_TEXT else "binary",
                  length=len(payload))
            if op == wp.OP_TEXT and payload.startswith(b"!ping "):
                p = payload[6:]
                self.pending_pings.add(p)
                await self.send(wp.OP_PING, p)
            elif op == wp.OP_TEXT and payload.startswith(b"!close"):
                parts = payload.split(b" ", 2)
                code = int(parts[1]) if len(parts) > 1 else 1000
                await self.send_close(code, parts[2] if len(parts) > 2
                                      else b"")
                return await self.wait_client_close()
            elif op == wp.OP_TEXT and payload.startswith(b"!send "):
                await self.send(wp.OP_BINARY,
                                wp.repeat_to(b"\x00\x01\xfe\xff",
                                             int(payload[6:])))
            else:
                await self.send(op, payload)

    async def wait_client_close(self, timeout=10, reply=False):
        """Wait for the client's Close (answering it with one when `reply`:
        the client started the closing handshake), then close TCP."""
        while True:
            op, payload = await self.next_event(timeout)
            if op in ("eof", "reset", "timeout"):
                event(self.n, op)
                return op
            if op == wp.OP_CLOSE:
                await self.handle_close(payload, reply=reply)
                return "closed"
            event(self.n, "client-frame-after-close" if not reply else
                  "client-frame", opcode=op)

    async def until_eof(self, timeout):
        """Read and drop input until the client goes away."""
        end = time.time() + timeout
        while time.time() < end:
            try:
                d = await asyncio.wait_for(self.reader.read(65536),
                                           end - time.time())
            except asyncio.TimeoutError:
                event(self.n, "timeout")
                return
            except (ConnectionError, OSError):
                event(self.n, "reset")
                return
            if not d:
                event(self.n, "eof")
                return
            self.buf += d
            while True:
                f = self.pop_frame()
                if not f:
                    break
                if f[0] == wp.OP_CLOSE:
                    await self.handle_close(f[1], reply=False)
                else:
                    event(self.n, "client-frame", opcode=f[0])

    def response(self, **kw):
        return wp.response_101(self.key, server="wschannel-badserver", **kw)

    def chosen_protocol(self):
        offered = wp.header_list(self.headers, "sec-websocket-protocol")
        mine = [p for p in (self.a.protocols or "").split(",") if p]
        for p in offered:
            if p in mine:
                return p
        return None


# ------------------------------------------------------------------ modes


async def m_non101(c):
    try:
        phrase = http.HTTPStatus(c.a.status).phrase
    except ValueError:
        phrase = "Whatever"
    body = b"refused by badserver\n"
    c.writer.write(b"HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
                   b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" %
                   (c.a.status, phrase.encode(), len(body), body))
    await c.writer.drain()
    await c.until_eof(2)


async def _bad101(c, **kw):
    await c.write(c.response(**kw))
    await c.until_eof(c.a.hold or 30)


async def m_wrongaccept(c):
    await _bad101(c, accept=wp.accept_for_key("AAAAAAAAAAAAAAAAAAAAAA=="))


async def m_noupgrade(c):
    await _bad101(c, omit=("upgrade",))


async def m_noconnection(c):
    await _bad101(c, omit=("connection",))


async def m_badsubprotocol(c):
    await _bad101(c, protocol="x-not-offered")


async def m_badextension(c):
    await _bad101(c, extensions="x-not-offered")


async def m_garbage(c):
    c.writer.write(b"\x16\x03\x01\x00\xa5garbage \x00\xff\xfe not HTTP at "
                   b"all\r\n\r\n" + bytes(range(256)))
    await c.writer.drain()
    await c.until_eof(c.a.hold or 30)


async def m_slowhandshake(c):
    await c.until_eof(c.a.hold or 600)


async def m_ignoreclose(c):
    await c.write(c.response(protocol=c.chosen_protocol()))
    await c.echo_loop(answer_close=False)


async def m_resetmidframe(c):
    await c.write(c.response())
    await c.send(wp.OP_TEXT, b"before the reset")
    await c.write(wp.frame_header(wp.OP_BINARY, 1000) + b"\xaa" * 500)
    await asyncio.sleep(0.2)
    sock = c.writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                    struct.pack("ii", 1, 0))
    event(c.n, "sent-reset")
    c.writer.transport.abort()


async def m_eofmidmessage(c):
    await c.write(c.response())
    await c.send(wp.OP_TEXT, b"before the EOF")
    await c.send(wp.OP_TEXT, b"first fragment of a message that never ends",
                 fin=False)
    await asyncio.sleep(0.2)
    if c.writer.can_write_eof():
        c.writer.write_eof()               # FIN now, keep reading
        event(c.n, "sent-fin")
        await c.until_eof(c.a.hold or 30)
    else:
        event(c.n, "sent-fin")
    c.fin()


async def m_len2to63(c):
    await c.write(c.response())
    await c.write(b"\x82\x7f" + struct.pack("!Q", 1 << 63) + b"payload")
    await c.wait_client_close(reply=True)


async def m_oversize(c):
    await c.write(c.response())
    n = c.a.size + 1
    payload = wp.repeat_to(b"0123456789", n)
    await c.send(wp.OP_BINARY, payload[:n // 2], fin=False)
    await c.send(wp.OP_CONT, payload[n // 2:])
    await c.wait_client_close(reply=True)


async def m_hugeclaim(c):
    await c.write(c.response())
    await c.write(wp.frame_header(wp.OP_BINARY, 1 << 62) + b"\x01" * 16)
    await c.wait_client_close(reply=True)


async def m_badutf8text(c):
    await c.write(c.response())
    cut = 13                                  # up to and including 0xA0
    await c.write(wp.frame_header(wp.OP_TEXT, len(BAD_UTF8)) + BAD_UTF8[:cut])
    delay = c.a.delay if c.a.delay is not None else 1.0
    op, payload = await c.next_event(delay)
    if op == wp.OP_CLOSE:
        event(c.n, "fail-fast", when="before-rest")
    else:
        if op == "timeout":
            event(c.n, "fail-fast", when="after-rest")
            await c.write(BAD_UTF8[cut:])
            op, payload = await c.next_event(10)
    if op == wp.OP_CLOSE:
        await c.handle_close(payload)
    else:
        event(c.n, op if isinstance(op, str) else "client-frame")


async def m_badutf8reason(c):
    await c.write(c.response())
    await c.send(wp.OP_CLOSE, struct.pack("!H", 1000) + BAD_UTF8)
    await c.wait_client_close(reply=True)


async def m_bytebybyte(c):
    c.bytewise = True
    await c.write(c.response(protocol=c.chosen_protocol()))
    await c.send(wp.OP_TEXT, b"hello byte by byte")
    await c.send(wp.OP_BINARY, b"\x00\x01\xfe\xff")
    await c.send(wp.OP_PING, b"bbb")
    await c.echo_loop()


async def m_frames101(c):
    c.writer.write(c.response(protocol=c.chosen_protocol()) +
                   wp.build_frame(wp.OP_TEXT, b"first in 101") +
                   wp.build_frame(wp.OP_PING, b"p101") +
                   wp.build_frame(wp.OP_BINARY, b"\x01\x02\x03"))
    await c.writer.drain()
    await c.echo_loop()


async def m_servercloses(c):
    await c.write(c.response(protocol=c.chosen_protocol()))
    await asyncio.sleep(c.a.delay if c.a.delay is not None else 0.05)
    if c.a.code == "none":
        await c.send_close()
    else:
        await c.send_close(int(c.a.code), c.a.reason.encode("utf-8"))
    await c.wait_client_close()


async def m_masked(c):
    await c.write(c.response())
    await c.write(wp.build_frame(wp.OP_TEXT, b"masked", mask_key=True))
    await c.wait_client_close(reply=True)


async def m_echo(c):
    await c.write(c.response(protocol=c.chosen_protocol()))
    await c.echo_loop()


async def handle(args, counter, reader, writer, done):
    n = next(counter)
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    event(n, "connect")
    c = Conn(args, n, reader, writer)
    try:
        if await c.read_request():
            await globals()["m_" + args.mode](c)
    except (ConnectionError, OSError) as e:
        event(n, "reset", error=type(e).__name__)
    finally:
        if args.mode != "resetmidframe":
            c.fin()
        event(n, "done")
        if args.once:
            done.set()


def closed_port(args):
    s = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    s.bind((args.host, args.port))          # bound, never listening
    wp.announce(s.getsockname()[1])
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


async def main_async(args):
    counter = itertools.count(1)
    done = asyncio.Event()
    ctx = wp.server_ssl_context(args.tls_cert, args.tls_key)
    server = await asyncio.start_server(
        lambda r, w: handle(args, counter, r, w, done), args.host, args.port,
        ssl=ctx, limit=1 << 20)
    wp.announce(server.sockets[0].getsockname()[1])
    async with server:
        await done.wait()


def main():
    ap = argparse.ArgumentParser(description="misbehaving WebSocket server")
    ap.add_argument("--mode", required=True, choices=MODES)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--once", action="store_true")
    ap.add_argument("--code", default="1000")
    ap.add_argument("--reason", default="bye")
    ap.add_argument("--size", type=int, default=1 << 20)
    ap.add_argument("--status", type=int, default=403)
    ap.add_argument("--protocols", default="")
    ap.add_argument("--delay", type=float)
    ap.add_argument("--hold", type=float)
    args = ap.parse_args()
    if args.mode == "closedport":
        closed_port(args)
        return 0
    try:
        asyncio.run(main_async(args))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

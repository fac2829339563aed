#!/usr/bin/python3
"""Self-checks of badserver.py: every mode is run against a client whose
reaction is known — the `websockets` library (Debian python3-websockets)
where it is precise enough, and ref_testee's RFC 6455 client (raw sockets,
fail-fast UTF-8, exact close codes) for frame-level faults — and the
server's EVENT lines are checked too.

  test_badserver.py [--tls-cert FILE --tls-key FILE] [MODE ...]

Prints "PASS badserver:<mode>" or "FAIL badserver:<mode>: why" per check;
exit status 1 if any failed.
"""
import asyncio
import os
import socket
import ssl
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import wsproto as wp                                    # noqa: E402
import ref_testee                                       # noqa: E402
import websockets                                       # noqa: E402
import websockets.exceptions as wse                     # noqa: E402

BADSERVER = os.path.join(HERE, "badserver.py")
TLS = {}


class Check(Exception):
    pass


def expect(cond, why):
    if not cond:
        raise Check(why)


class Server:
    """badserver.py in a subprocess, its EVENT lines collected."""

    def __init__(self, mode, *extra):
        self.args = ["--mode", mode, "--port", "0"] + list(extra)
        if TLS and mode != "closedport":
            self.args += ["--tls-cert", TLS["cert"], "--tls-key", TLS["key"]]
        self.events = []

    async def __aenter__(self):
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, BADSERVER, *self.args,
            stdout=asyncio.subprocess.PIPE)
        line = await asyncio.wait_for(self.proc.stdout.readline(), 10)
        expect(line.startswith(b"LISTENING "), "no LISTENING line")
        self.port = int(line.split()[1])
        self.reader = asyncio.ensure_future(self._read())
        scheme = "wss" if TLS else "ws"
        self.url = "%s://localhost:%d/test" % (scheme, self.port)
        return self

    async def _read(self):
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                return
            self.events.append(line.decode().rstrip("\n"))

    async def wait_event(self, text, timeout=5):
        end = time.time() + timeout
        while time.time() < end:
            for e in self.events:
                if text in e:
                    return e
            await asyncio.sleep(0.02)
        raise Check("no event %r in %r" % (text, self.events))

    async def __aexit__(self, *exc):
        self.proc.kill()
        await self.proc.wait()
        await asyncio.sleep(0)
        self.reader.cancel()


def client_ssl():
    if not TLS:
        return None
    return ssl.create_default_context(cafile=TLS["cert"])


def ws_connect(url, **kw):
    if TLS:
        kw["ssl"] = client_ssl()
    kw.setdefault("open_timeout", 5)
    kw.setdefault("close_timeout", 2)
    return websockets.connect(url, **kw)


async def raw_client(url, **kw):
    """ref_testee's strict client in a thread; returns the Connection."""
    c = ref_testee.Connection(url, set(), TLS.get("cert"), collect=True,
                              deadline=15, **kw)
    await asyncio.get_running_loop().run_in_executor(None, c.run)
    return c


async def expect_handshake_error(url, exc_type, **kw):
    try:
        async with ws_connect(url, **kw):
            pass
    except exc_type as e:
        return e
    except Exception as e:
        raise Check("expected %s, got %r" % (exc_type.__name__, e))
    raise Check("handshake succeeded, expected %s" % exc_type.__name__)


# ------------------------------------------------------------------ checks


async def c_non101():
    async with Server("non101") as s:
        e = await expect_handshake_error(s.url, wse.InvalidStatusCode)
        expect(e.status_code == 403, "status %s" % e.status_code)


async def c_wrongaccept():
    async with Server("wrongaccept") as s:
        e = await expect_handshake_error(s.url, wse.InvalidHeaderValue)
        expect("Accept" in str(e), str(e))


async def c_noupgrade():
    async with Server("noupgrade") as s:
        e = await expect_handshake_error(s.url, wse.InvalidUpgrade)
        expect("Upgrade" in str(e), str(e))


async def c_noconnection():
    async with Server("noconnection") as s:
        e = await expect_handshake_error(s.url, wse.InvalidUpgrade)
        expect("Connection" in str(e), str(e))


async def c_badsubprotocol():
    async with Server("badsubprotocol") as s:
        e = await expect_handshake_error(s.url, wse.InvalidHandshake,
                                         subprotocols=["chat"])
        expect("x-not-offered" in str(e), str(e))
        await s.wait_event("protocols=chat")


async def c_badextension():
    async with Server("badextension") as s:
        await expect_handshake_error(s.url, wse.InvalidHandshake,
                                     compression=None)


async def c_garbage():
    async with Server("garbage") as s:
        await expect_handshake_error(s.url, wse.InvalidMessage)


async def c_slowhandshake():
    async with Server("slowhandshake") as s:
        t = time.time()
        await expect_handshake_error(s.url, asyncio.TimeoutError,
                                     open_timeout=1)
        expect(time.time() - t >= 0.9, "timed out too early")
        await s.wait_event(" request ")


async def c_ignoreclose():
    async with Server("ignoreclose") as s:
        async with ws_connect(s.url, close_timeout=1) as ws:
            await ws.send("x")
            expect(await ws.recv() == "x", "no echo")
            t = time.time()
            await ws.close()
            took = time.time() - t
        expect(took >= 0.9, "close returned after %.2f s" % took)
        expect(ws.close_code == 1006, "close code %s" % ws.close_code)
        await s.wait_event("close-ignored")


async def c_resetmidframe():
    async with Server("resetmidframe") as s:
        async with ws_connect(s.url) as ws:
            expect(await ws.recv() == "before the reset", "first message")
            try:
                await ws.recv()
                raise Check("second recv returned")
            except wse.ConnectionClosedError as e:
                expect(e.code == 1006, "code %s" % e.code)
        await s.wait_event("sent-reset")
    # at the socket level it must be a reset, not an orderly EOF (over TLS
    # the ssl module reports a reset as an EOF without close_notify)
    async with Server("resetmidframe") as s:
        c = ref_testee.Connection(s.url, set(), TLS.get("cert"), collect=True)
        rest = await asyncio.get_running_loop().run_in_executor(None, c.open)
        c.sock.settimeout(5)
        got, err = rest, None
        try:
            while True:
                d = c.sock.recv(65536)
                if not d:
                    break
                got += d
        except (ConnectionResetError, ssl.SSLError, OSError) as e:
            err = e
        c.sock.close()
        expect(isinstance(err, (ConnectionResetError, ssl.SSLError)),
               "no reset seen (%r)" % (err,))
        expect(got.startswith(wp.build_frame(1, b"before the reset")),
               "first frame missing")


async def c_eofmidmessage():
    async with Server("eofmidmessage") as s:
        c = await raw_client(s.url)
        expect(c.messages == [(b"before the EOF", False)],
               "messages %r" % c.messages)
        expect(not c.failed and not c.got_close, "saw a Close or failed")
        expect(c.msg_op == 1 and c.msg_parts, "no unfinished message")
        await s.wait_event("sent-fin")
        async with ws_connect(s.url) as ws:
            expect(await ws.recv() == "before the EOF", "first message")
            try:
                await ws.recv()
                raise Check("second recv returned")
            except wse.ConnectionClosedError as e:
                expect(e.code == 1006, "code %s" % e.code)


async def c_len2to63():
    async with Server("len2to63") as s:
        c = await raw_client(s.url)
        expect(c.failed and "top bit" in c.why, "client did not fail: %r" %
               getattr(c, "why", None))
        await s.wait_event("client-close code=1002")


async def c_oversize():
    async with Server("oversize", "--size", "4096") as s:
        c = await raw_client(s.url, max_size=4096)
        expect(c.failed and c.why == "message too big", "no 1009")
        await s.wait_event("client-close code=1009")
    async with Server("oversize", "--size", "4096") as s:
        async with ws_connect(s.url, max_size=4096) as ws:
            try:
                await ws.recv()
                raise Check("oversized message delivered")
            except wse.ConnectionClosedError as e:
                expect(e.sent and e.sent.code == 1009,
                       "websockets closed with %s / %s" % (e.sent, e.rcvd))
        await s.wait_event("client-close code=1009")


async def c_hugeclaim():
    async with Server("hugeclaim") as s:
        t = time.time()
        c = await raw_client(s.url, max_size=2 ** 31 - 1)
        expect(c.failed and c.why == "message too big", "no 1009")
        await s.wait_event("client-close code=1009")
        expect(time.time() - t < 5, "slow")


async def c_badutf8text():
    async with Server("badutf8text", "--delay", "2") as s:
        c = await raw_client(s.url)
        expect(c.failed and "UTF-8" in c.why, "no UTF-8 failure")
        await s.wait_event("fail-fast when=before-rest")
        await s.wait_event("client-close code=1007")
    async with Server("badutf8text", "--delay", "0.2") as s:
        async with ws_connect(s.url) as ws:
            try:
                await ws.recv()
                raise Check("invalid text delivered")
            except wse.ConnectionClosedError:
                pass
        await s.wait_event("client-close code=1007")


async def c_badutf8reason():
    async with Server("badutf8reason") as s:
        c = await raw_client(s.url)
        expect(c.failed and "reason" in c.why, "no reason failure")
        await s.wait_event("client-close code=1007")


async def c_bytebybyte():
    async with Server("bytebybyte", "--delay", "0.001",
                      "--protocols", "chat") as s:
        async with ws_connect(s.url, subprotocols=["chat"]) as ws:
            expect(ws.subprotocol == "chat", "subprotocol")
            expect(await ws.recv() == "hello byte by byte", "text")
            expect(await ws.recv() == b"\x00\x01\xfe\xff", "binary")
            await ws.send("echo me")
            expect(await ws.recv() == "echo me", "echo")
        expect(ws.close_code == 1000, "close code %s" % ws.close_code)
        await s.wait_event("client-pong payload='bbb'")
        await s.wait_event("client-close code=1000")


async def c_frames101():
    async with Server("frames101") as s:
        async with ws_connect(s.url) as ws:
            expect(await ws.recv() == "first in 101", "first message lost")
            expect(await ws.recv() == b"\x01\x02\x03", "second message")
        await s.wait_event("client-pong payload='p101'")
    async with Server("frames101") as s:       # all bytes in one read
        c = ref_testee.Connection(s.url, set(), TLS.get("cert"), collect=True)
        rest = await asyncio.get_running_loop().run_in_executor(None, c.open)
        c.sock.close()
        expect(rest.startswith(wp.build_frame(1, b"first in 101")),
               "frames not in the same write as the 101")


async def c_servercloses():
    async with Server("servercloses", "--code", "4001", "--reason",
                      "going away now") as s:
        async with ws_connect(s.url) as ws:
            try:
                await ws.recv()
                raise Check("recv returned")
            except wse.ConnectionClosed as e:
                expect(e.code == 4001 and e.reason == "going away now",
                       "got %s %r" % (e.code, e.reason))
        await s.wait_event("client-close code=4001")
    async with Server("servercloses", "--code", "none") as s:
        async with ws_connect(s.url) as ws:
            try:
                await ws.recv()
            except wse.ConnectionClosed as e:
                expect(e.code == 1005, "got %s" % e.code)
        await s.wait_event("client-close code=none")


async def c_masked():
    async with Server("masked") as s:
        c = await raw_client(s.url)
        expect(c.failed and "masked" in c.why, "masked frame accepted")
        await s.wait_event("client-close code=1002")
    async with Server("masked") as s:
        async with ws_connect(s.url) as ws:
            try:
                await ws.recv()
                raise Check("masked frame delivered")
            except wse.ConnectionClosedError:
                pass
        await s.wait_event("client-close code=1002")


async def c_echo():
    async with Server("echo", "--protocols", "superchat,chat") as s:
        async with ws_connect(s.url, subprotocols=["chat", "superchat"],
                              max_size=None) as ws:
            expect(ws.subprotocol == "chat", "subprotocol %s" % ws.subprotocol)
            await ws.send("hello")
            expect(await ws.recv() == "hello", "text echo")
            big = os.urandom(3 << 20)
            await ws.send(big)
            expect(await ws.recv() == big, "binary echo")
            await ws.send("!ping hi")
            expect(await ws.recv() == "pong hi", "ping on request")
            await ws.send("!send 5")
            expect(await ws.recv() == b"\x00\x01\xfe\xff\x00", "!send")
            await ws.send("!close 4000 done")
            try:
                await ws.recv()
                raise Check("no close")
            except wse.ConnectionClosed as e:
                expect(e.code == 4000 and e.reason == "done", "close")
        await s.wait_event("client-close code=4000")


async def c_closedport():
    async with Server("closedport") as s:
        try:
            socket.create_connection(("127.0.0.1", s.port), timeout=5).close()
            raise Check("connected")
        except ConnectionRefusedError:
            pass


CHECKS = [n[2:] for n in list(globals()) if n.startswith("c_")]


async def main_async(names):
    failed = 0
    for n in names:
        tag = "badserver%s:%s" % ("(tls)" if TLS else "", n)
        try:
            await asyncio.wait_for(globals()["c_" + n](), 60)
            print("PASS " + tag)
        except Check as e:
            failed += 1
            print("FAIL %s: %s" % (tag, e))
        except Exception as e:
            failed += 1
            print("FAIL %s: unexpected %r" % (tag, e))
        sys.stdout.flush()
    return failed


def main():
    args = sys.argv[1:]
    if args[:1] == ["--tls-cert"]:
        TLS["cert"], TLS["key"] = args[1], args[3]
        args = args[4:]
    names = args or CHECKS
    bad = [n for n in names if n not in CHECKS]
    if bad:
        print("unknown check(s): %s" % " ".join(bad))
        return 2
    return 1 if asyncio.run(main_async(names)) else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""The TLS peers of the wss:// tests, in one process: Python `websockets`
echo servers over `ssl` with the certificates make_certs.py made, plus
servers that misbehave at the TLS level.

Usage: tls_server.py CERTDIR [--url NAME]
Listens on 127.0.0.1 (ports chosen by the system) and prints ONE line:
  PORTS name=port name=port ...
(with --url NAME instead the URL of that server, wss://localhost:PORT/, as
the xpcshell runner wants it), then serves until stdin reaches EOF (the
test closes it) or SIGTERM.

Echo servers (websockets, every message echoed with its type; path
/close?code=C&reason=R closes at once), by certificate and TLS versions:
  ok          server.pem (EC P-256), TLS 1.2-1.3
  tls12       server_rsa.pem (RSA), TLS 1.2 only
  tls13       server.pem, TLS 1.3 only
  chain       chain.pem (leaf + intermediate), TLS 1.2-1.3
  selfsigned, unknownca, wronghost, expired, notyet, nosan, wildcard,
  partial, noserverauth
              the certificate of that name (the handshake fails on our side)
Misbehaving:
  tls10       TLS 1.0 only (port 0 when this Python/OpenSSL cannot)
  plain       websockets WITHOUT TLS: plain HTTP on the port a wss:// URI
              names
  reset       reads the ClientHello, then resets the connection (RST)
  stall       accepts and reads, never answers (the open timeout)
  garbage     TLS + a valid 101, then raw bytes outside TLS records
              (the client must fail with a TLS record error)
  midreset    TLS + a valid 101, then a reset
"""
import asyncio
import base64
import hashlib
import os
import signal
import socket
import ssl
import struct
import sys
import threading
import urllib.parse
import warnings

import websockets

CERTS = sys.argv[1]
URL_OF = sys.argv[3] if len(sys.argv) > 3 and sys.argv[2] == "--url" else None
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def context(name, minv=None, maxv=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if minv:
            ctx.minimum_version = minv
        if maxv:
            ctx.maximum_version = maxv
    ctx.load_cert_chain(os.path.join(CERTS, name + ".pem"),
                        os.path.join(CERTS, name + ".key"))
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


async def echo(ws):
    url = urllib.parse.urlsplit(ws.path)
    if url.path == "/close":
        q = urllib.parse.parse_qs(url.query)
        await ws.close(int(q.get("code", ["1000"])[0]), q.get("reason", [""])[0])
        return
    try:
        async for msg in ws:
            await ws.send(msg)
    except websockets.ConnectionClosed:
        pass


def listener():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(128)
    return s


def rst_close(conn):
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def read_request(tls):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = tls.recv(4096)
        if not chunk:
            return None
        data += chunk
    for line in data.split(b"\r\n"):
        if line.lower().startswith(b"sec-websocket-key:"):
            return line.split(b":", 1)[1].strip()
    return None


def raw_mode(mode, conn, ctx):
    """One connection of a misbehaving server (own thread)."""
    try:
        if mode == "reset":
            conn.recv(4096)  # the ClientHello
            rst_close(conn)
            return
        if mode == "stall":
            conn.settimeout(120)
            while conn.recv(4096):
                pass
            conn.close()
            return
        if mode == "tls10":
            try:
                tls = ctx.wrap_socket(conn, server_side=True)
                tls.close()
            except (ssl.SSLError, OSError):
                conn.close()
            return
        # garbage / midreset: a real TLS handshake and upgrade first.
        raw = conn.dup()
        tls = ctx.wrap_socket(conn, server_side=True)
        key = read_request(tls)
        if key is None:
            tls.close()
            raw.close()
            return
        accept = base64.b64encode(hashlib.sha1(key + GUID.encode()).digest())
        tls.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept +
                    b"\r\n\r\n")
        tls.sendall(b"\x81\x05hello")  # one good text frame first
        threading.Event().wait(0.3)
        if mode == "garbage":
            # A record header of an unknown content type, outside TLS.
            raw.sendall(b"\x42\x03\x03\x00\x05" + b"junk!")
            threading.Event().wait(2)
            raw.close()
            tls.close()
        else:
            raw.close()
            rst_close(tls)
    except (OSError, ssl.SSLError):
        try:
            conn.close()
        except OSError:
            pass


def serve_raw(mode, sock, ctx):
    def loop():
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            threading.Thread(target=raw_mode, args=(mode, conn, ctx),
                             daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()


async def main():
    v = ssl.TLSVersion
    echo_servers = {
        "ok": context("server"),
        "tls12": context("server_rsa", v.TLSv1_2, v.TLSv1_2),
        "tls13": context("server", v.TLSv1_3, v.TLSv1_3),
        "chain": context("chain"),
    }
    for name in ("selfsigned", "unknownca", "wronghost", "expired", "notyet",
                 "nosan", "wildcard", "partial", "noserverauth"):
        echo_servers[name] = context(name)
    ports = {}
    servers = []
    for name, ctx in echo_servers.items():
        srv = await websockets.serve(echo, "127.0.0.1", 0, ssl=ctx,
                                     max_size=None, max_queue=None,
                                     compression=None, ping_interval=None,
                                     close_timeout=2)
        servers.append(srv)
        ports[name] = srv.sockets[0].getsockname()[1]
    plain = await websockets.serve(echo, "127.0.0.1", 0, compression=None,
                                   ping_interval=None)
    servers.append(plain)
    ports["plain"] = plain.sockets[0].getsockname()[1]

    raw_socks = []
    tls10 = None
    try:
        tls10 = context("server", v.TLSv1, v.TLSv1)
        tls10.set_ciphers("DEFAULT:@SECLEVEL=0")
    except (ssl.SSLError, ValueError):
        tls10 = None
    for mode, ctx in (("reset", None), ("stall", None), ("tls10", tls10),
                      ("garbage", context("server")), ("midreset", context("server"))):
        if mode == "tls10" and ctx is None:
            ports[mode] = 0
            continue
        s = listener()
        raw_socks.append(s)
        ports[mode] = s.getsockname()[1]
        serve_raw(mode, s, ctx)

    if URL_OF:
        print("%s://localhost:%d/" % ("ws" if URL_OF == "plain" else "wss",
                                      ports[URL_OF]), flush=True)
    else:
        print("PORTS " + " ".join("%s=%d" % kv for kv in ports.items()),
              flush=True)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, lambda: os._exit(0))
    await loop.run_in_executor(None, sys.stdin.read)
    os._exit(0)


if __name__ == "__main__":
    asyncio.run(main())

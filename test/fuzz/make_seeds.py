#!/usr/bin/python3
"""make_seeds.py — writes the hand-written seed inputs of the fuzz targets
into test/fuzz/corpus/<target>/seed-*.

Each seed is a meaningful case in the target's input format (see the
comment at the top of each fuzz_*.c). Files found by fuzzing (named by
their SHA-1, as libFuzzer names them) sit next to these and are kept by
`test/fuzz/fuzz.sh merge`. Run from anywhere:
    /usr/bin/python3 test/fuzz/make_seeds.py
It rewrites only seed-* files and removes seed-* files it no longer makes.
"""
import os
import struct
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")

WHOLE = b"\x00"            # split spec: one piece
BYTEWISE = b"\x01\x00"     # split spec: 1-byte chunks
ODD = b"\x03\x03\x07\x01"  # split spec: chunks of 3, 7, 1, ...


def frame(opcode, payload=b"", fin=True, rsv=0, mask=None, length=None):
    """One RFC 6455 frame; `length` forces a (possibly non-minimal) form:
    'ext16' or 'ext64'."""
    b0 = (0x80 if fin else 0) | rsv | opcode
    n = len(payload)
    mbit = 0x80 if mask is not None else 0
    if length == "ext64" or (length is None and n > 0xFFFF):
        hdr = bytes([b0, mbit | 127]) + struct.pack(">Q", n)
    elif length == "ext16" or (length is None and n > 125):
        hdr = bytes([b0, mbit | 126]) + struct.pack(">H", n)
    else:
        hdr = bytes([b0, mbit | n])
    if mask is not None:
        hdr += mask
        payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
    return hdr + payload


def deflate(data, wbits=15):
    """permessage-deflate payload: raw DEFLATE, sync flush, tail removed."""
    c = zlib.compressobj(9, zlib.DEFLATED, -wbits)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


def close_payload(code, reason=b""):
    return struct.pack(">H", code) + reason


# ---- fuzz_frame: setup byte (bit0 server, bits1-3 RSV1-3 allowed) -------

def frame_seeds():
    key = b"\x37\xfa\x21\x3d"
    hello = frame(1, b"Hello")
    s = {
        "text": b"\x00" + WHOLE + hello,
        "text-bytewise": b"\x00" + BYTEWISE + hello,
        "masked-server": b"\x01" + ODD + frame(1, b"Hello", mask=key),
        "unmasked-to-server": b"\x01" + WHOLE + hello,
        "masked-to-client": b"\x00" + WHOLE + frame(2, b"x", mask=key),
        "fragments": b"\x00" + ODD + frame(1, b"Hel", fin=False) + frame(9, b"p")
        + frame(0, b"lo"),
        "len16": b"\x00" + ODD + frame(2, bytes(range(256)) * 2),
        "len64": b"\x00" + b"\x02\xff\x05" + frame(2, b"\xaa" * 70000),
        "len64-huge": b"\x00" + WHOLE + b"\x82\x7f\x7f\xff\xff\xff\xff\xff\xff\xff",
        "len64-msb": b"\x00" + WHOLE + b"\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00",
        "nonminimal16": b"\x00" + WHOLE + frame(2, b"abc", length="ext16"),
        "nonminimal64": b"\x00" + WHOLE + frame(2, b"abc" * 50, length="ext64"),
        "rsv1-allowed": b"\x02" + WHOLE + frame(1, b"x", rsv=0x40),
        "rsv1-refused": b"\x00" + WHOLE + frame(1, b"x", rsv=0x40),
        "rsv23": b"\x0c" + WHOLE + frame(1, b"x", rsv=0x30) + frame(1, b"y", rsv=0x20),
        "opcode3": b"\x00" + WHOLE + frame(3),
        "opcode-b": b"\x00" + WHOLE + frame(0xB),
        "control-fragmented": b"\x00" + WHOLE + frame(9, b"", fin=False),
        "control-126": b"\x00" + WHOLE + frame(9, b"p" * 126),
        "control-125": b"\x00" + BYTEWISE + frame(10, b"p" * 125),
        "close": b"\x00" + WHOLE + frame(8, close_payload(1000, b"bye")),
        "empty-frames": b"\x00" + WHOLE + frame(1) + frame(2) + frame(9) + frame(10) + frame(8),
        "many-masked": b"\x01" + b"\x04\x02\x0e\x05\xc9"
        + b"".join(frame(op, bytes([i]) * i, mask=bytes([i, 1, 2, 3]))
                   for i, op in enumerate([1, 2, 9, 10, 2, 1, 8])),
    }
    return s


# ---- fuzz_utf8 ------------------------------------------------------------

def utf8_seeds():
    return {
        "ascii": WHOLE + b"Hello, world",
        "mixed": ODD + "κόσμε € 𐍈 aé".encode(),
        "mixed-bytewise": BYTEWISE + "κόσμε € 𐍈 aé".encode(),
        "overlong": WHOLE + b"\xc0\xaf",
        "overlong3": WHOLE + b"\xe0\x80\xaf",
        "overlong4": WHOLE + b"\xf0\x80\x80\xaf",
        "surrogate": BYTEWISE + b"ab\xed\xa0\x80",
        "max": WHOLE + b"\xf4\x8f\xbf\xbf",
        "above-max": WHOLE + b"\xf4\x90\x80\x80",
        "f5": WHOLE + b"\xf5",
        "truncated": b"\x01\x02" + b"x\xe2\x82",
        "lone-cont": WHOLE + b"a\x80b",
        "long-ascii": b"\x02\x21\x07" + b"0123456789abcdef" * 12 + "é".encode(),
    }


# ---- fuzz_handshake: setup byte (see fuzz_handshake.c) -----------------------

ACCEPT = b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def response(*extra, status=b"HTTP/1.1 101 Switching Protocols", nl=b"\r\n",
             accept=ACCEPT, tail=b""):
    lines = [status, b"Upgrade: websocket", b"Connection: Upgrade",
             b"Sec-WebSocket-Accept: " + accept] + list(extra)
    return nl.join(lines) + nl + nl + tail


def handshake_seeds():
    return {
        "ok": b"\x00" + WHOLE + response(),
        "ok-bytewise": b"\x00" + BYTEWISE + response(tail=frame(1, b"hi")),
        "ok-lf-case": b"\x04" + ODD + response(b"sEC-wEBsOCKET-pROTOCOL: chat", nl=b"\n"),
        "protocol": b"\x04" + WHOLE + response(b"Sec-WebSocket-Protocol: superchat"),
        "protocol-unoffered": b"\x04" + WHOLE + response(b"Sec-WebSocket-Protocol: other"),
        "protocol-twice": b"\x04" + WHOLE + response(b"Sec-WebSocket-Protocol: chat",
                                                       b"Sec-WebSocket-Protocol: chat"),
        "pmd": b"\x01" + ODD + response(
            b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10; "
            b"server_no_context_takeover"),
        "pmd-alt": b"\x02" + WHOLE + response(
            b"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; "
            b"server_max_window_bits=9"),
        "pmd-bad": b"\x01" + WHOLE + response(
            b"Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=08"),
        "pmd-quoted": b"\x03" + WHOLE + response(
            b"Sec-WebSocket-Extensions: x-foo; a=\"1\"",
            b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=\"9\""),
        "ext-unoffered": b"\x00" + WHOLE + response(b"Sec-WebSocket-Extensions: x-bar"),
        "folded": b"\x00" + WHOLE + response(b"X-Long: a,", b" b,", b"\tc",
                                              b"Connection: keep-alive"),
        "two-connection": b"\x00" + WHOLE + (
            b"HTTP/1.1 101 OK\r\nUpgrade: WebSocket\r\nConnection: keep-alive\r\n"
            b"Connection: upgrade\r\nSec-WebSocket-Accept:" + ACCEPT + b"\r\n\r\n"),
        "bad-accept": b"\x00" + WHOLE + response(accept=b"AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
        "no-upgrade": b"\x00" + WHOLE + (
            b"HTTP/1.1 101 OK\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + ACCEPT
            + b"\r\n\r\n"),
        "404": b"\x00" + WHOLE + b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
        "http10": b"\x00" + WHOLE + b"HTTP/1.0 101 Switching Protocols\r\n\r\n",
        "too-large": b"\x00" + WHOLE + response(b"X-Pad: " + b"a" * 17000),
        "too-many-headers": b"\x00" + ODD + response(*[b"X-%d: v" % i for i in range(101)]),
        "garbage": b"\x00" + WHOLE + b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
        "space-before-colon": b"\x00" + WHOLE + response(b"Upgrade : websocket"),
        "fold-first": b"\x00" + WHOLE + b"HTTP/1.1 101 OK\r\n x: y\r\n\r\n",
        "nul": b"\x00" + WHOLE + response(b"X: a\x00b"),
        "oom-new": b"\x10" + WHOLE + response(),
        "oom-late": b"\xb1" + WHOLE + response(
            b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10"),
        "ext-parse": b"\x09" + WHOLE + b"permessage-deflate; client_max_window_bits=10; "
        b"server_no_context_takeover, x-foo",
        "ext-parse-quoted": b"\x0b" + WHOLE + b"x-foo; a=\"q\\s\"; b, ,permessage-deflate;"
        b" server_max_window_bits=\"10\"",
        "ext-parse-bad": b"\x0a" + WHOLE + b"permessage-deflate; =x",
        "ext-parse-oom": b"\x19" + WHOLE + b"a; b=c, d",
    }


# ---- fuzz_session: see fuzz_session.c for the format ------------------------

OP_RECV, OP_TEXT, OP_BINARY, OP_PINGPONG, OP_CLOSE, OP_DRAIN = 0, 3, 4, 5, 6, 7


def recv(data):
    assert len(data) <= 0xFFFF
    return bytes([OP_RECV | 0x80]) + struct.pack(">H", len(data)) + data


def send(op, data, flag=0):
    return bytes([op | flag]) + struct.pack(">H", len(data)) + data


def close(code, reason=b""):
    return bytes([OP_CLOSE]) + struct.pack(">H", code) + bytes([len(reason)]) + reason


def drain(n=0xFFFF):
    return bytes([OP_DRAIN]) + struct.pack(">H", n)


OP_DIRECT, NO_PREALLOC = 2 | 0x40, 0x20


def direct(data, m=0, split=WHOLE, flag=0):
    """Direct receive of `data`: m selects min (m+1, or 2^(m&31) if m&0x80),
    `split` cuts it into pieces; flag NO_PREALLOC turns preallocation off."""
    assert len(data) <= 0xFFFF
    return bytes([OP_DIRECT | 0x80 | flag, m]) + split + struct.pack(">H", len(data)) + data


def header(opcode, n, fin=True):
    """A frame header alone, claiming n payload bytes (64-bit form)."""
    return bytes([(0x80 if fin else 0) | opcode, 127]) + struct.pack(">Q", n)


def session(flags=0, wbits=0x77, fail_at=0, maxsel=7, *ops):
    return bytes([flags | (maxsel << 5), wbits, fail_at]) + b"".join(ops)


PMD = 1


def session_seeds():
    hello = frame(1, b"Hello")
    z = deflate(b"Hello Hello Hello Hello")
    return {
        "echo": session(0, 0x77, 0, 7, recv(hello), send(OP_TEXT, b"Hello"), drain()),
        "binary": session(0, 0x77, 0, 7, recv(frame(2, bytes(range(200)))),
                          send(OP_BINARY, bytes(range(200))), drain(10), drain()),
        "fragmented": session(0, 0x77, 0, 7, recv(frame(1, b"Hel", fin=False)),
                              recv(frame(9, b"ping")), recv(frame(0, b"lo")), drain()),
        "ping-pong": session(0, 0x77, 0, 7, send(OP_PINGPONG, b"p1"),
                             send(OP_PINGPONG, b"p2", 0x08), recv(frame(10, b"p1")),
                             recv(frame(9, b"x" * 125)), drain()),
        "server-close": session(0, 0x77, 0, 7, recv(frame(8, close_payload(1001, b"away"))),
                                send(OP_TEXT, b"late"), drain()),
        "client-close": session(0, 0x77, 0, 7, send(OP_TEXT, b"a"), close(1000, b"done"),
                                drain(3), recv(frame(1, b"after")),
                                recv(frame(8, close_payload(1000))), drain()),
        "close-empty": session(0, 0x77, 0, 7, recv(frame(8)), drain()),
        "close-1byte": session(0, 0x77, 0, 7, recv(frame(8, b"\x03")), drain()),
        "close-badcode": session(0, 0x77, 0, 7, recv(frame(8, close_payload(1005))), drain()),
        "close-badutf8": session(0, 0x77, 0, 7, recv(frame(8, close_payload(1000, b"\xff"))),
                                 drain()),
        "bad-utf8-midframe": session(0, 0x77, 0, 7, send(OP_BINARY, b"x" * 300), drain(5),
                                     recv(frame(1, b"ok\xed\xa0\x80rest")), drain()),
        "too-big": session(0, 0x77, 0, 2, recv(frame(2, b"x" * 126)), drain()),
        "too-big-fragments": session(0, 0x77, 0, 0, recv(frame(2, b"a", fin=False)),
                                     recv(frame(0, b"b")), drain()),
        "continuation-alone": session(0, 0x77, 0, 7, recv(frame(0, b"x")), drain()),
        "masked-from-server": session(0, 0x77, 0, 7, recv(frame(2, b"x", mask=b"abcd")),
                                      drain()),
        "rsv-no-pmd": session(0, 0x77, 0, 7, recv(frame(1, z, rsv=0x40)), drain()),
        "reentrant": session(0x18, 0x77, 0, 7, recv(hello + frame(2, b"\x00\x01")),
                             drain()),
        "pmd-recv": session(PMD, 0x77, 0, 7, recv(frame(1, z, rsv=0x40)),
                            recv(frame(2, b"\x00", rsv=0x40)), drain()),
        "pmd-recv-fragmented": session(PMD | 0x08, 0x77, 0, 7,
                                       recv(frame(1, z[:3], fin=False, rsv=0x40)),
                                       recv(frame(9, b"")), recv(frame(0, z[3:])), drain()),
        "pmd-send": session(PMD, 0x27, 0, 7, send(OP_TEXT, b"compress me " * 20),
                            send(OP_BINARY, b"abc"), send(OP_TEXT, b"compress me " * 20),
                            drain()),
        "pmd-noctx": session(PMD | 0x06, 0x00, 0, 7, send(OP_TEXT, b"aaaaaaaaaaaaaaaaaaaa"),
                             recv(frame(1, deflate(b"zzzzzzzzzz", 9), rsv=0x40)), drain()),
        "pmd-bomb": session(PMD, 0x77, 0, 4, recv(frame(2, deflate(b"\x00" * 100000), rsv=0x40)),
                            drain()),
        "pmd-corrupt": session(PMD, 0x77, 0, 7, recv(frame(1, b"\xff\xff\xff", rsv=0x40)),
                               drain()),
        "pmd-bad-utf8": session(PMD, 0x77, 0, 7, recv(frame(1, deflate(b"ok\xc0\xafno"),
                                                            rsv=0x40)), drain()),
        "oom-pmd": session(PMD, 0x77, 2, 7, send(OP_TEXT, b"x" * 100), drain()),
        "oom-send": session(PMD, 0x77, 4, 7, send(OP_TEXT, b"x" * 100), send(OP_TEXT, b"y"),
                            drain()),
        "oom-send-late": session(PMD, 0x77, 9, 7, send(OP_TEXT, b"x" * 100),
                                 send(OP_TEXT, b"y" * 50), drain()),
        "oom-recv": session(PMD, 0x77, 3, 7, recv(frame(1, z[:4], fin=False, rsv=0x40)),
                            recv(frame(0, z[4:])), drain()),
        "drain-too-much": session(0, 0x77, 0, 7, send(OP_TEXT, b"a"), bytes([OP_DRAIN | 0x08])
                                  + b"\x00\x00", drain()),
        "bad-close-args": session(0, 0x77, 0, 7, close(999), close(1000, b"r" * 124),
                                  close(0, b"x"), close(0), close(1000), drain()),
        "rand-fail-new": session(0, 0x80, 0, 7, send(OP_TEXT, b"x"), drain()),
        "rand-fail-send": session(0, 0x08, 0, 7, send(OP_TEXT, b"x"), send(OP_TEXT, b"y"),
                                  drain()),
        "invalid-text-send": session(0, 0x77, 0, 7, send(OP_TEXT, b"\xc3"), drain()),
    }


def direct_seeds():
    """Direct receive (ws_session_direct_buffer / ws_session_recv_direct)."""
    blob = bytes((i * 7 + (i >> 8)) & 0xFF for i in range(4097))
    unit = "ab\u20ac\U0001d11e".encode()  # characters of 1, 3 and 4 bytes
    z = deflate(b"Hello Hello Hello Hello")
    return {
        # pieces of 6 (header + 2), 200 and 1 bytes
        "direct-binary": session(0, 0x77, 0, 7, direct(frame(2, blob[:3000]), 0,
                                                       b"\x03\x06\xc8\x01"), drain()),
        # recv ends inside a 3-byte character, direct pieces inside the others
        "direct-text-split": session(0, 0x77, 0, 7, direct(frame(1, unit * 300), 0,
                                                           b"\x04\x06\x01\x02\x03"), drain()),
        # ED | A0: a surrogate split between two direct pieces fails at A0
        "direct-bad-utf8": session(0, 0x77, 0, 7, direct(frame(1, b"x" * 500 + b"\xed\xa0\x80"
                                                               + b"y" * 100), 0, b"\x01\x64"),
                                   drain()),
        "direct-truncated-text": session(0, 0x77, 0, 7, direct(frame(1, unit * 100 + b"\xf0\x9d"),
                                                               0, b"\x01\x32"), drain()),
        "direct-fragmented": session(0, 0x77, 0, 7,
                                     direct(frame(2, blob[:1000], fin=False) + frame(9, b"ping")
                                            + frame(0, blob[1000:2000], fin=False) + frame(10)
                                            + frame(0, blob[2000:3000]), 0, ODD), drain()),
        # header and part of the payload through recv ops, the rest direct
        "direct-mixed": session(0, 0x77, 0, 7, recv(frame(2, blob[:2000])[:50]),
                                direct(frame(2, blob[:2000])[50:], 0, b"\x01\xc8"), drain()),
        # min 65536: never offered here, all through recv
        "direct-min": session(0, 0x77, 0, 7, direct(frame(2, blob[:2000]), 0x90), drain()),
        # 1 GiB claimed, 3000 bytes arrive: memory follows them
        "direct-huge-claim": session(0, 0x77, 0, 7, direct(header(2, 1 << 30, fin=False)
                                                           + blob[:3000], 0, b"\x02\x0e\xff"),
                                     drain()),
        "direct-prealloc-4mib": session(0, 0x77, 0, 7, direct(header(2, 4 << 20) + blob[:2000], 0,
                                                              b"\x02\x0e\xc8"), drain()),
        "direct-no-prealloc": session(0, 0x77, 0, 7, direct(header(2, 100000) + blob[:2000], 0,
                                                            b"\x02\x0e\xc8", NO_PREALLOC),
                                      drain()),
        # a compressed message is never direct, an uncompressed one may be
        "direct-pmd": session(PMD, 0x77, 0, 7, direct(frame(1, z, rsv=0x40) + frame(2, blob[:2000]),
                                                      0, ODD), drain()),
        # the buffer's allocation fails inside direct_buffer; recv goes on
        "direct-oom": session(0, 0x77, 2, 7, direct(frame(2, blob[:2000]), 0, b"\x02\x04\x64"),
                              drain()),
        "direct-close-sent": session(0, 0x77, 0, 7, close(1000), direct(
            frame(2, blob[:1500]) + frame(8, close_payload(1000)), 0, ODD), drain()),
        # exactly the limit (4096) works, one byte more fails at the header
        "direct-limit": session(0, 0x77, 0, 5, direct(frame(2, blob[:4096]), 0, ODD),
                                direct(frame(2, blob[:4097]), 0, ODD), drain()),
        # on_message takes the buffer and echoes the message
        "direct-echo-take": session(0x18, 0x77, 0, 7, direct(frame(2, blob[:3000]), 0,
                                                             b"\x02\x08\xc8"), drain()),
    }


# ---- fuzz_uri: mode byte (see fuzz_uri.c) ------------------------------------

def uri_seeds():
    return {
        "plain": b"\x00ws://example.com/chat",
        "full": b"\x00wss://user:pa%20ss@Example.COM:443/a/./b/../c?q=1&r#frag",
        "ipv6": b"\x00ws://[2001:DB8:0:0:0:0:0:1]:8080/",
        "ipv4-hex": b"\x00http://0x7f.1/",
        "ipv4-octal": b"\x00http://0177.0.0.01:80/x",
        "idn": "\x00ws://bücher.example/ä".encode(),
        "controls": b"\x00 \t ws://ex\nample.com/a b\\c<>\"^`{|}\x01 ",
        "bad-port": b"\x00ws://example.com:99999/",
        "zone": b"\x00ws://[fe80::1%25eth0]/",
        "unknown-scheme": b"\x00ftp://example.com/",
        "relative": b"\x01\x00../x?y#z",
        "relative-ref": b"\x01\x01#only",
        "relative-scheme": b"\x01\x02ws:foo/bar",
        "relative-empty": b"\x01\x03",
        "relative-host": b"\x01\x00//other.example:81/p",
        "relative-abs-other": b"\x01\x00mailto:x@y",
        "base-input": b"\x02https://a.example/b/c/d;p?q\n../../g",
        "base-input-abs": b"\x02ws://h/\nwss://[::ffff:1.2.3.4]:443",
        "set-scheme": b"\x03\x00\x01wss",
        "set-userpass": b"\x03\x01\x02us%er:p@ss",
        "set-username-empty": b"\x03\x01\x03",
        "set-password": b"\x03\x02\x04secret",
        "set-hostport": b"\x03\x00\x05[::1]:8080",
        "set-hostandport": b"\x03\x01\x06other.example",
        "set-host": b"\x03\x00\x07new.example/ignored",
        "set-path": b"\x03\x00\x08a/../b?c#d",
        "set-filepath": b"\x03\x00\x09/x?y#z",
        "set-query": b"\x03\x00\x0a?a=b c",
        "set-ref": b"\x03\x00\x0b#r",
        "set-spec": b"\x03\x00\x00http://x.example:80/",
        "set-port": b"\x03\x00\x0c\x1f\x90",
        "set-port-default": b"\x03\x01\x0c\x00\x50",
    }


# ---- fuzz_xpidl: IDL files ---------------------------------------------------

def xpidl_seeds():
    """The xpidl tests' error and golden inputs and a few of the tree's
    interfaces, plus constructs they lack."""
    top = os.path.dirname(os.path.dirname(HERE))
    s = {}
    for sub, pattern in (("test/xpidl/errors", ""), ("test/xpidl/golden", "xptest"),
                         ("idl", "nsIObserver"), ("idl", "nsIRunnable"),
                         ("idl", "nsIRequestObserver")):
        d = os.path.join(top, sub)
        for fn in sorted(os.listdir(d)):
            if fn.endswith(".idl") and fn.startswith(pattern):
                with open(os.path.join(d, fn), "rb") as f:
                    s[fn[:-4]] = f.read()
    s["cpp-block"] = (b'#include "nsISupports.idl"\n%{C++\n#define X 1\n%}\n'
                      b'[ptr] native fuzzPtr(void);\n[ref] native fuzzIDRef(nsID);\n'
                      b'typedef unsigned long long fuzz64;\n'
                      b'[scriptable, uuid(01234567-89ab-cdef-0123-456789abcdef)]\n'
                      b'interface nsIFuzz : nsISupports {\n'
                      b'  const short A = -0x7fff; const unsigned long B = 037;\n'
                      b'  readonly attribute AUTF8String name;\n'
                      b'  [noscript] void raw(in fuzzPtr p, [const] in fuzzIDRef id);\n'
                      b'  void arr(in unsigned long n, [array, size_is(n)] in octet a,\n'
                      b'           [retval] out fuzz64 r);\n'
                      b'  [optional_argc] void opt([optional] in long x);\n'
                      b'  void iid([iid_is(i)] out nsQIResult r, in nsIIDRef i);\n'
                      b'};\n')
    s["unterminated-comment"] = b'/* never closed\ninterface nsIFuzz;'
    s["empty"] = b""
    return s


def write(target, seeds):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    names = set()
    for name, data in seeds.items():
        fn = "seed-" + name
        names.add(fn)
        with open(os.path.join(d, fn), "wb") as f:
            f.write(data)
    for fn in os.listdir(d):
        if fn.startswith("seed-") and fn not in names:
            os.unlink(os.path.join(d, fn))


def main():
    write("fuzz_frame", frame_seeds())
    write("fuzz_utf8", utf8_seeds())
    write("fuzz_handshake", handshake_seeds())
    write("fuzz_session", {**session_seeds(), **direct_seeds()})
    write("fuzz_uri", uri_seeds())
    write("fuzz_xpidl", xpidl_seeds())
    return 0


if __name__ == "__main__":
    sys.exit(main())

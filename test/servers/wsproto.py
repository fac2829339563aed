"""Small RFC 6455 toolkit shared by the test servers and the reference client.

Stdlib only.  Everything here works on byte strings; nothing touches sockets
except the few helpers at the end (TLS contexts, the LISTENING line).  The
servers use it to build frames that are deliberately wrong, so the encoders
accept any field value and never "fix" what they are asked to send.
"""
import base64
import codecs
import hashlib
import os
import ssl
import struct
import sys

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"   # RFC 6455 §1.3

OP_CONT, OP_TEXT, OP_BINARY = 0, 1, 2
OP_CLOSE, OP_PING, OP_PONG = 8, 9, 10

# RFC 6455 §7.4.1 codes an endpoint may send (1004-1006 and 1015 are
# reserved, 1012-1014 were registered with IANA later and are not yet
# accepted by Autobahn's 7.9 cases, so a strict client rejects them too).
VALID_CLOSE_CODES = frozenset((1000, 1001, 1002, 1003, 1007, 1008, 1009,
                               1010, 1011))


def close_code_valid(code):
    """True when `code` may appear on the wire (RFC 6455 §7.4)."""
    return code in VALID_CLOSE_CODES or 3000 <= code <= 4999


def accept_for_key(key):
    """Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 §4.2.2)."""
    if isinstance(key, str):
        key = key.encode("ascii")
    return base64.b64encode(hashlib.sha1(key + GUID.encode()).digest()).decode()


def new_key():
    return base64.b64encode(os.urandom(16)).decode()


# --------------------------------------------------------------------------
# masking and frames


def xor_mask(data, key, offset=0):
    """XOR `data` with the 4-byte `key` starting at key position `offset`.

    Big-integer XOR keeps 16 MiB payloads fast in pure Python."""
    n = len(data)
    if n == 0:
        return b""
    k = offset % 4
    key = bytes(key[k:]) + bytes(key[:k])
    stream = key * (n // 4 + 1)
    return (int.from_bytes(data, "big") ^
            int.from_bytes(stream[:n], "big")).to_bytes(n, "big")


def frame_header(opcode, length, fin=True, rsv=0, mask_key=None,
                 len_form=None):
    """Header bytes only.  `len_form` forces the length encoding: 7, 16 or
    64 (bits), to produce non-minimal encodings on purpose."""
    b0 = (0x80 if fin else 0) | ((rsv & 7) << 4) | (opcode & 0x0F)
    mbit = 0x80 if mask_key else 0
    if len_form is None:
        len_form = 7 if length <= 125 else 16 if length <= 0xFFFF else 64
    if len_form == 7:
        head = struct.pack("!BB", b0, mbit | length)
    elif len_form == 16:
        head = struct.pack("!BBH", b0, mbit | 126, length)
    else:
        head = struct.pack("!BBQ", b0, mbit | 127, length)
    if mask_key:
        head += bytes(mask_key)
    return head


def build_frame(opcode, payload=b"", fin=True, rsv=0, mask_key=None,
                len_form=None):
    """A complete frame; `mask_key` True picks a random key."""
    if mask_key is True:
        mask_key = os.urandom(4)
    head = frame_header(opcode, len(payload), fin, rsv, mask_key, len_form)
    if mask_key:
        payload = xor_mask(payload, mask_key)
    return head + bytes(payload)


def close_payload(code=None, reason=b""):
    if code is None:
        return b""
    if isinstance(reason, str):
        reason = reason.encode("utf-8")
    return struct.pack("!H", code) + reason


def repeat_to(pattern, length):
    """`pattern` repeated and cut to exactly `length` bytes."""
    if length == 0:
        return b""
    return (pattern * (length // len(pattern) + 1))[:length]


class FrameHeader:
    __slots__ = ("fin", "rsv", "opcode", "masked", "length", "mask_key",
                 "len_bytes")

    def __init__(self, fin, rsv, opcode, masked, length, mask_key, len_bytes):
        self.fin, self.rsv, self.opcode = fin, rsv, opcode
        self.masked, self.length, self.mask_key = masked, length, mask_key
        self.len_bytes = len_bytes        # 0, 2 or 8: how the length came

    @property
    def is_control(self):
        return self.opcode >= 8

    def minimal_length(self):
        """RFC 6455 §5.2: the minimal number of bytes MUST be used."""
        if self.len_bytes == 2:
            return self.length > 125
        if self.len_bytes == 8:
            return self.length > 0xFFFF
        return True

    def __repr__(self):
        return ("FrameHeader(op=%d fin=%d rsv=%d masked=%d len=%d)" %
                (self.opcode, self.fin, self.rsv, self.masked, self.length))


class FrameParser:
    """Streaming frame parser.

    feed(bytes) returns a list of events:
      ("start", FrameHeader)  the header is complete
      ("data", bytes)         the next piece of the payload, unmasked
      ("end", FrameHeader)    the payload is complete
    Payload is handed out as it arrives, never buffered up to the declared
    length, so a peer claiming 2^62 bytes costs nothing.  Judging the header
    (reserved bits, opcodes, lengths) is the caller's job; after a
    violation the caller simply stops feeding.
    """

    def __init__(self):
        self.buf = bytearray()
        self.hdr = None
        self.got = 0

    def feed(self, data):
        self.buf += data
        ev = []
        while True:
            if self.hdr is None:
                h = self._header()
                if h is None:
                    return ev
                self.hdr, self.got = h, 0
                ev.append(("start", h))
                if h.length == 0:
                    ev.append(("end", h))
                    self.hdr = None
                continue
            want = self.hdr.length - self.got
            if not self.buf:
                return ev
            take = min(want, len(self.buf))
            chunk = bytes(self.buf[:take])
            del self.buf[:take]
            if self.hdr.masked:
                chunk = xor_mask(chunk, self.hdr.mask_key, self.got)
            self.got += take
            ev.append(("data", chunk))
            if self.got == self.hdr.length:
                ev.append(("end", self.hdr))
                self.hdr = None

    def _header(self):
        b = self.buf
        if len(b) < 2:
            return None
        fin = bool(b[0] & 0x80)
        rsv = (b[0] >> 4) & 7
        opcode = b[0] & 0x0F
        masked = bool(b[1] & 0x80)
        l7 = b[1] & 0x7F
        need = 2 + (2 if l7 == 126 else 8 if l7 == 127 else 0) + \
            (4 if masked else 0)
        if len(b) < need:
            return None
        i = 2
        if l7 == 126:
            length, lb = struct.unpack_from("!H", b, 2)[0], 2
            i = 4
        elif l7 == 127:
            length, lb = struct.unpack_from("!Q", b, 2)[0], 8
            i = 10
        else:
            length, lb = l7, 0
        key = bytes(b[i:i + 4]) if masked else None
        del b[:need]
        return FrameHeader(fin, rsv, opcode, masked, length, key, lb)


def take_frame(buf):
    """If `buf` (a bytearray) starts with a complete frame, remove it and
    return (FrameHeader, unmasked payload); else return None and leave
    `buf` alone.  For small test exchanges where streaming is not needed."""
    p = FrameParser()
    p.buf = bytearray(buf[:14])
    h = p._header()
    if h is None:
        return None
    start = 2 + h.len_bytes + (4 if h.masked else 0)
    if len(buf) < start + h.length:
        return None
    payload = bytes(buf[start:start + h.length])
    del buf[:start + h.length]
    if h.masked:
        payload = xor_mask(payload, h.mask_key)
    return h, payload


# --------------------------------------------------------------------------
# UTF-8


class Utf8Validator:
    """Incremental, fail-fast UTF-8 validator (RFC 3629 table 4).

    feed() returns False as soon as the bytes seen so far cannot start a
    valid UTF-8 string, i.e. at the first byte that makes it invalid, even
    in the middle of a code point.  `complete` tells whether the input ends
    on a code point boundary.  Large chunks go through the C decoder (which
    is equally strict) and only the at most 3 trailing bytes of an unfinished
    sequence are walked by hand.
    """

    def __init__(self):
        self.reset()

    def reset(self):
        self.need = 0
        self.lo, self.hi = 0x80, 0xBF
        self.bad = False
        self.count = 0          # bytes accepted so far

    @property
    def complete(self):
        return not self.bad and self.need == 0

    def _step(self, c):
        if self.need == 0:
            if c < 0x80:
                pass
            elif 0xC2 <= c <= 0xDF:
                self.need, self.lo, self.hi = 1, 0x80, 0xBF
            elif c == 0xE0:
                self.need, self.lo, self.hi = 2, 0xA0, 0xBF
            elif 0xE1 <= c <= 0xEC or 0xEE <= c <= 0xEF:
                self.need, self.lo, self.hi = 2, 0x80, 0xBF
            elif c == 0xED:          # no UTF-16 surrogates
                self.need, self.lo, self.hi = 2, 0x80, 0x9F
            elif c == 0xF0:          # no overlong 4-byte forms
                self.need, self.lo, self.hi = 3, 0x90, 0xBF
            elif 0xF1 <= c <= 0xF3:
                self.need, self.lo, self.hi = 3, 0x80, 0xBF
            elif c == 0xF4:          # nothing above U+10FFFF
                self.need, self.lo, self.hi = 3, 0x80, 0x8F
            else:
                self.bad = True
                return False
        else:
            if not self.lo <= c <= self.hi:
                self.bad = True
                return False
            self.need -= 1
            self.lo, self.hi = 0x80, 0xBF
        self.count += 1
        return True

    def feed(self, data):
        if self.bad:
            return False
        n = len(data)
        i = 0
        while self.need and i < n:
            if not self._step(data[i]):
                return False
            i += 1
        if i >= n:
            return True
        # keep an unfinished trailing sequence out of the C decoder
        cut = n
        for p in range(n - 1, max(i, n - 4) - 1, -1):
            c = data[p]
            if c < 0x80:
                break
            if c >= 0xC0:
                seq = 2 if c < 0xE0 else 3 if c < 0xF0 else 4
                if p + seq > n:
                    cut = p
                break
        if cut > i:
            try:
                codecs.utf_8_decode(memoryview(data)[i:cut], "strict", True)
            except UnicodeDecodeError as e:
                # walk to the exact failing byte so count is right
                self.count += e.start
                self.bad = True
                return False
            self.count += cut - i
        for p in range(cut, n):
            if not self._step(data[p]):
                return False
        return True


def utf8_valid(data):
    v = Utf8Validator()
    return v.feed(data) and v.complete


# --------------------------------------------------------------------------
# HTTP


def parse_http_head(raw):
    """Split an HTTP head (without the final blank line) into the start
    line and a dict of lower-case header name -> list of values."""
    text = raw.decode("latin-1")
    lines = text.split("\r\n")
    headers = {}
    for line in lines[1:]:
        if not line:
            continue
        if line[0] in " \t" and headers:           # obsolete folding
            name = list(headers)[-1]
            headers[name][-1] += " " + line.strip()
            continue
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return lines[0], headers


def header_value(headers, name):
    vals = headers.get(name.lower())
    return ", ".join(vals) if vals else None


def header_tokens(headers, name):
    """Comma-separated tokens of all `name` headers, lower-cased."""
    out = []
    for v in headers.get(name.lower(), []):
        out += [t.strip().lower() for t in v.split(",") if t.strip()]
    return out


def header_list(headers, name):
    """Comma-separated items of all `name` headers, case kept."""
    out = []
    for v in headers.get(name.lower(), []):
        out += [t.strip() for t in v.split(",") if t.strip()]
    return out


def check_client_request(start, headers):
    """Validate a client's opening handshake (RFC 6455 §4.2.1).

    Returns (status, reason, key); status is None when it is acceptable."""
    parts = start.split(" ")
    if len(parts) != 3 or parts[0] != "GET" or not parts[2].startswith("HTTP/1."):
        return 400, "bad request line", None
    if parts[2] == "HTTP/1.0":
        return 400, "HTTP/1.1 or later required", None
    if "host" not in headers:
        return 400, "missing Host", None
    if "websocket" not in header_tokens(headers, "upgrade"):
        return 400, "missing Upgrade: websocket", None
    if "upgrade" not in header_tokens(headers, "connection"):
        return 400, "missing Connection: Upgrade", None
    if header_value(headers, "sec-websocket-version") != "13":
        return 426, "Sec-WebSocket-Version must be 13", None
    key = header_value(headers, "sec-websocket-key")
    try:
        if key is None or len(base64.b64decode(key, validate=True)) != 16:
            raise ValueError
    except ValueError:
        return 400, "bad Sec-WebSocket-Key", None
    return None, None, key


def http_error(status, reason, extra=""):
    text = {400: "Bad Request", 403: "Forbidden", 404: "Not Found",
            426: "Upgrade Required", 500: "Internal Server Error"}.get(
                status, "Error")
    if status == 426:
        extra += "Sec-WebSocket-Version: 13\r\n"
    body = (reason + "\n").encode()
    head = ("HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
            "Content-Length: %d\r\nConnection: close\r\n%s\r\n" %
            (status, text, len(body), extra))
    return head.encode() + body


def response_101(key, protocol=None, extensions=None, server="wschannel-test",
                 omit=(), accept=None, extra=()):
    """A 101 response.  `omit` drops headers by lower-case name, `accept`
    overrides the computed Sec-WebSocket-Accept (both to misbehave)."""
    lines = ["HTTP/1.1 101 Switching Protocols"]
    hdrs = [("server", "Server: " + server),
            ("upgrade", "Upgrade: websocket"),
            ("connection", "Connection: Upgrade"),
            ("sec-websocket-accept", "Sec-WebSocket-Accept: " +
             (accept if accept is not None else accept_for_key(key)))]
    if protocol is not None:
        hdrs.append(("sec-websocket-protocol",
                     "Sec-WebSocket-Protocol: " + protocol))
    if extensions is not None:
        hdrs.append(("sec-websocket-extensions",
                     "Sec-WebSocket-Extensions: " + extensions))
    lines += [line for name, line in hdrs if name not in omit]
    lines += list(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


# --------------------------------------------------------------------------
# process plumbing


def server_ssl_context(cert, key):
    """TLS for a listening socket; None when no certificate is given."""
    if not cert:
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key or None)
    return ctx


def announce(port):
    """The first line on stdout tells the test which port was picked."""
    sys.stdout.write("LISTENING %d\n" % port)
    sys.stdout.flush()


def ascii_log(data, maxlen=64):
    """Payload for logs and reports: text when it decodes, hex otherwise."""
    cut = data[:maxlen]
    suffix = " ..." if len(data) > maxlen else ""
    try:
        return cut.decode("utf-8") + suffix
    except UnicodeDecodeError:
        return "0x" + cut.hex() + suffix

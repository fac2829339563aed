"""permessage-deflate (RFC 7692) for the test servers and the reference
client: extension header parsing (RFC 6455 §9.1), offer and response checks
(RFC 7692 §7.1), a compressor and a checking decompressor on the stdlib
`zlib`, and an exact DEFLATE (RFC 1951) stream walker that finds every
back-reference distance.

Why a walker: zlib's inflate follows any distance that its window *or the
current output buffer* can satisfy, so inflating a whole message at once does
not notice a sender that used a larger window than agreed.  `scan()` decodes
the Huffman codes without producing output and checks each distance against
the agreed window and against the start of the message (no context
takeover).  It runs at about 5 MB/s of output, so callers give it a byte
budget; past the budget `Inflater` falls back to zlib with its output cut into
pieces of one window (2^bits bytes), which still catches any reference
further back than two windows, and a context violation always (a fresh
inflater per message has nothing before the message).

zlib's raw deflate refuses an 8-bit window for *compressing* (deflateInit2:
"invalid initialization option"); RFC 7692 only requires that the sender
never refers further back than the agreed window, so for 8 bits `Compressor`
uses windowBits 9 with strategy Z_RLE, whose matches all have distance 1.
Inflating with an 8-bit window is fine.
"""
import re
import zlib

NAME = "permessage-deflate"
TAIL = b"\x00\x00\xff\xff"          # RFC 7692 §7.2.1/§7.2.2
MAX_MESSAGE = 64 << 20              # what a checked message may inflate to

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_BITS = re.compile(r"^(8|9|1[0-5])$")   # decimal 8..15, no leading zero

PARAMS = ("server_no_context_takeover", "client_no_context_takeover",
          "server_max_window_bits", "client_max_window_bits")


class ExtensionSyntaxError(ValueError):
    pass


def _split_outside_quotes(text, sep):
    parts, cur, quoted, esc = [], [], False, False
    for ch in text:
        if esc:
            cur.append(ch)
            esc = False
        elif quoted and ch == "\\":
            cur.append(ch)
            esc = True
        elif ch == '"':
            cur.append(ch)
            quoted = not quoted
        elif ch == sep and not quoted:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if quoted:
        raise ExtensionSyntaxError("unterminated quoted-string")
    parts.append("".join(cur))
    return parts


def parse_extensions(values):
    """Sec-WebSocket-Extensions header values (a list: the header may come
    more than once) -> [(name, [(param, value or None), ...]), ...] in
    order.  Quoted-string values are unquoted; they must then be tokens
    (RFC 6455 §9.1).  Raises ExtensionSyntaxError."""
    out = []
    for v in values:
        for elem in _split_outside_quotes(v, ","):
            if not elem.strip():
                continue                 # empty list elements are allowed
            pieces = [p.strip() for p in _split_outside_quotes(elem, ";")]
            name = pieces[0]
            if not _TOKEN.match(name):
                raise ExtensionSyntaxError("bad extension name %r" % name)
            params = []
            for p in pieces[1:]:
                key, eq, val = p.partition("=")
                key, val = key.strip(), val.strip()
                if not _TOKEN.match(key):
                    raise ExtensionSyntaxError("bad parameter %r" % p)
                if not eq:
                    params.append((key, None))
                    continue
                if val.startswith('"'):
                    if len(val) < 2 or not val.endswith('"'):
                        raise ExtensionSyntaxError("bad quoted value %r" % p)
                    val = re.sub(r"\\(.)", r"\1", val[1:-1])
                if not _TOKEN.match(val):
                    raise ExtensionSyntaxError("bad parameter value %r" % p)
                params.append((key, val))
            out.append((name, params))
    return out


def _param_dict(params, offer):
    """Common checks of RFC 7692 §7.1 for one permessage-deflate element:
    known parameters, no repeats, values.  Returns {param: value}; raises
    ExtensionSyntaxError with the reason."""
    d = {}
    for key, val in params:
        k = key.lower()
        if k not in PARAMS:
            raise ExtensionSyntaxError("unknown parameter %s" % key)
        if k in d:
            raise ExtensionSyntaxError("parameter %s repeated" % key)
        if k.endswith("no_context_takeover"):
            if val is not None:
                raise ExtensionSyntaxError("%s takes no value" % key)
            d[k] = True
        else:
            if val is None:
                if k == "client_max_window_bits" and offer:
                    d[k] = True          # an offer may name it bare
                    continue
                raise ExtensionSyntaxError("%s needs a value" % key)
            if not _BITS.match(val):
                raise ExtensionSyntaxError("%s=%s is not 8..15" % (key, val))
            d[k] = int(val)
    return d


def _valued(v):
    """An offered client_max_window_bits with a number (a bare one is
    True, and bool is an int in Python)."""
    return v is not None and v is not True


def parse_offer(params):
    """One permessage-deflate offer element's parameters -> dict (RFC 7692
    §7.1: client_max_window_bits may be bare, i.e. True).  Raises
    ExtensionSyntaxError: the offer is invalid and a server must decline
    it (§5)."""
    return _param_dict(params, offer=True)


def parse_response(params, offer):
    """The server's permessage-deflate parameters checked against the
    client's offer (a parse_offer dict), as a client must (RFC 7692 §7.1):
    client_max_window_bits only if offered (and not above a valued offer),
    server_no_context_takeover if offered, server_max_window_bits not above
    an offered value.  Returns the agreed Params; raises
    ExtensionSyntaxError."""
    d = _param_dict(params, offer=False)
    if "client_max_window_bits" in d:
        if "client_max_window_bits" not in offer:
            raise ExtensionSyntaxError("client_max_window_bits was not "
                                       "offered (RFC 7692 §7.1.2.2)")
    if offer.get("server_no_context_takeover") and \
            "server_no_context_takeover" not in d:
        raise ExtensionSyntaxError("server_no_context_takeover was "
                                   "offered but not answered (§7.1.1.1)")
    so = offer.get("server_max_window_bits")
    if so is not None:
        if d.get("server_max_window_bits", 99) > so:
            raise ExtensionSyntaxError("server_max_window_bits must be <= "
                                       "the offered %d (§7.1.2.1)" % so)
    co = offer.get("client_max_window_bits")
    cb = d.get("client_max_window_bits", 15)
    if _valued(co):
        cb = min(cb, co)
    return Params(d.get("server_no_context_takeover", False),
                  d.get("client_no_context_takeover", False),
                  d.get("server_max_window_bits", 15), cb)


class Params:
    """What both ends honour once the response is in (RFC 7692 §7.1)."""
    __slots__ = ("server_no_context_takeover", "client_no_context_takeover",
                 "server_max_window_bits", "client_max_window_bits")

    def __init__(self, snct=False, cnct=False, sbits=15, cbits=15):
        self.server_no_context_takeover = snct
        self.client_no_context_takeover = cnct
        self.server_max_window_bits = sbits
        self.client_max_window_bits = cbits

    def as_dict(self):
        return {k: getattr(self, k) for k in self.__slots__}


def accept_offer(offer, alt):
    """The server's answer to one valid offer (parse_offer dict) under one
    alternative of a case: alt is a dict with optional keys snct, cnct
    (bool), sbits, cbits (8..15 or None = parameter left out) and
    needs_cbits (the alternative applies only to offers that name
    client_max_window_bits, like Autobahn's accept3..6).  Returns
    (response header value, Params) or None when the alternative cannot
    answer this offer.  The response honours the offer as RFC 7692 §7.1
    requires: server_no_context_takeover is echoed when offered,
    server_max_window_bits is capped at an offered value, and
    client_max_window_bits appears only when offered."""
    cb_offer = offer.get("client_max_window_bits")
    if alt.get("needs_cbits") and cb_offer is None:
        return None
    if alt.get("cbits") is not None and cb_offer is None:
        return None
    snct = bool(alt.get("snct")) or bool(offer.get("server_no_context_takeover"))
    cnct = bool(alt.get("cnct"))
    sbits = alt.get("sbits")
    so = offer.get("server_max_window_bits")
    if so is not None:
        sbits = so if sbits is None else min(sbits, so)
    cbits = alt.get("cbits")
    if cbits is not None and _valued(cb_offer):
        cbits = min(cbits, cb_offer)
    resp = [NAME]
    if snct:
        resp.append("server_no_context_takeover")
    if cnct:
        resp.append("client_no_context_takeover")
    if sbits is not None:
        resp.append("server_max_window_bits=%d" % sbits)
    if cbits is not None:
        resp.append("client_max_window_bits=%d" % cbits)
    agreed_c = cbits if cbits is not None else 15
    if _valued(cb_offer):
        agreed_c = min(agreed_c, cb_offer)
    return "; ".join(resp), Params(snct, cnct, sbits or 15, agreed_c)


# --------------------------------------------------------------------------
# compressing


class Compressor:
    """Compresses whole messages for one direction (RFC 7692 §7.2.1).

    bits: the agreed window for this sender (8..15); no_takeover: reset per
    message.  compress(data, final=False) returns the payload to send with
    RSV1: the DEFLATE data with the 00 00 ff ff of the sync flush removed,
    or with final=True a block with BFINAL set followed by one 0x00 octet
    (§7.2.3.4's form; needs no_takeover, since after a final block a new
    stream begins)."""

    def __init__(self, bits=15, no_takeover=False, level=-1):
        self.bits = bits
        self.no_takeover = no_takeover
        self.level = level
        self.c = None

    def _new(self):
        if self.bits == 8:
            return zlib.compressobj(self.level, zlib.DEFLATED, -9, 8,
                                    zlib.Z_RLE)
        return zlib.compressobj(self.level, zlib.DEFLATED, -self.bits)

    def compress(self, data, final=False):
        if final:
            c = self._new()
            return c.compress(data) + c.flush(zlib.Z_FINISH) + b"\x00"
        if self.c is None or self.no_takeover:
            self.c = self._new()
        out = self.c.compress(data) + self.c.flush(zlib.Z_SYNC_FLUSH)
        assert out.endswith(TAIL)
        return out[:-4]


# --------------------------------------------------------------------------
# checking what a peer sent


class DeflateError(Exception):
    """A compressed message that breaks the agreement or RFC 1951.
    kind: "window" (a distance beyond the agreed window), "context" (a
    reference before the message although no context takeover was agreed),
    "corrupt" (not valid DEFLATE, or not ending on a block boundary as
    §7.2.1 makes it) or "size" (inflates beyond MAX_MESSAGE)."""

    def __init__(self, kind, text):
        Exception.__init__(self, text)
        self.kind = kind


_LBASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43,
          51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
_LEXT = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4,
         4, 4, 5, 5, 5, 5, 0]
_DBASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257,
          385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289,
          16385, 24577]
_DEXT = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9,
         10, 10, 11, 11, 12, 12, 13, 13]
_CLORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]


def _table(lengths):
    """Canonical Huffman code (RFC 1951 §3.2.2) as a lookup table indexed by
    the next `maxbits` input bits (LSB first): entry (symbol << 4) | length,
    -1 for bit patterns that are no code.  (None, 0) when no symbol has a
    code.  Over-subscribed sets are rejected."""
    maxbits = max(lengths) if lengths else 0
    if maxbits == 0:
        return None, 0
    count = [0] * (maxbits + 1)
    for n in lengths:
        if n:
            count[n] += 1
    left = 1
    for b in range(1, maxbits + 1):
        left = (left << 1) - count[b]
        if left < 0:
            raise DeflateError("corrupt", "over-subscribed Huffman code")
    code, nxt = 0, [0] * (maxbits + 2)
    for b in range(1, maxbits + 1):
        code = (code + count[b - 1]) << 1
        nxt[b] = code
    size = 1 << maxbits
    table = [-1] * size
    for sym, n in enumerate(lengths):
        if not n:
            continue
        c = nxt[n]
        nxt[n] += 1
        r = 0
        for _ in range(n):             # the code is sent MSB first
            r = (r << 1) | (c & 1)
            c >>= 1
        v = (sym << 4) | n
        table[r:size:1 << n] = [v] * (size >> n)
    return table, maxbits


_FIXED = (_table([8] * 144 + [9] * 112 + [7] * 24 + [8] * 8),
          _table([5] * 32))


def scan(data, window, history, no_takeover):
    """Walks one message's DEFLATE data (the payload with TAIL appended).

    window: agreed window in bytes; history: bytes of earlier output a
    reference may reach (0 with no context takeover).  Raises DeflateError
    on the first offending reference or on malformed data, including data
    that does not end on a block boundary.  Returns a dict: out (bytes
    produced), maxdist, blocks {"stored", "fixed", "dynamic"} counts,
    bfinal (a final block was seen; the rest of the data was not walked).
    """
    n = len(data)
    pos = bb = bc = out = maxdist = 0
    blocks = {"stored": 0, "fixed": 0, "dynamic": 0}

    def eof():
        raise DeflateError("corrupt", "the data ends inside a DEFLATE block "
                           "(a message must end on a block boundary, "
                           "RFC 7692 §7.2.1)")

    while True:
        if pos >= n and bc < 3:
            return {"out": out, "maxdist": maxdist, "blocks": blocks,
                    "bfinal": False}
        while bc < 3:
            bb |= data[pos] << bc
            pos += 1
            bc += 8
        final = bb & 1
        btype = (bb >> 1) & 3
        bb >>= 3
        bc -= 3
        if btype == 0:
            bb >>= bc & 7
            bc -= bc & 7
            while bc < 32:
                if pos >= n:
                    eof()
                bb |= data[pos] << bc
                pos += 1
                bc += 8
            ln, nln = bb & 0xFFFF, (bb >> 16) & 0xFFFF
            bb >>= 32
            bc -= 32
            if ln != nln ^ 0xFFFF:
                raise DeflateError("corrupt", "stored block LEN/NLEN mismatch")
            # bc is a multiple of 8 here: give back whole buffered bytes
            pos -= bc >> 3
            bb, bc = 0, 0
            if pos + ln > n:
                eof()
            pos += ln
            out += ln
            blocks["stored"] += 1
        elif btype == 3:
            raise DeflateError("corrupt", "reserved block type 3")
        else:
            if btype == 1:
                (lt, lm), (dt, dm) = _FIXED
                blocks["fixed"] += 1
            else:
                blocks["dynamic"] += 1
                while bc < 14:
                    if pos >= n:
                        eof()
                    bb |= data[pos] << bc
                    pos += 1
                    bc += 8
                hlit = (bb & 31) + 257
                hdist = ((bb >> 5) & 31) + 1
                hclen = ((bb >> 10) & 15) + 4
                bb >>= 14
                bc -= 14
                if hlit > 286 or hdist > 30:
                    raise DeflateError("corrupt", "too many length or "
                                       "distance codes")
                cl = [0] * 19
                for i in range(hclen):
                    while bc < 3:
                        if pos >= n:
                            eof()
                        bb |= data[pos] << bc
                        pos += 1
                        bc += 8
                    cl[_CLORDER[i]] = bb & 7
                    bb >>= 3
                    bc -= 3
                ct, cm = _table(cl)
                if ct is None:
                    raise DeflateError("corrupt", "empty code length code")
                lens = []
                total = hlit + hdist
                while len(lens) < total:
                    while bc < cm + 7:
                        if pos >= n:
                            break
                        bb |= data[pos] << bc
                        pos += 1
                        bc += 8
                    v = ct[bb & ((1 << cm) - 1)]
                    if v < 0 or (v & 15) > bc:
                        if pos >= n:
                            eof()
                        raise DeflateError("corrupt", "invalid code length "
                                           "code")
                    bb >>= v & 15
                    bc -= v & 15
                    s = v >> 4
                    if s < 16:
                        lens.append(s)
                        continue
                    if s == 16:
                        if not lens:
                            raise DeflateError("corrupt", "repeat with no "
                                               "previous length")
                        r, e, fill = 3, 2, lens[-1]
                    elif s == 17:
                        r, e, fill = 3, 3, 0
                    else:
                        r, e, fill = 11, 7, 0
                    if bc < e:
                        eof()
                    r += bb & ((1 << e) - 1)
                    bb >>= e
                    bc -= e
                    lens.extend([fill] * r)
                if len(lens) > total:
                    raise DeflateError("corrupt", "code lengths overrun")
                if lens[256] == 0:
                    raise DeflateError("corrupt", "no end-of-block code")
                lt, lm = _table(lens[:hlit])
                dt, dm = _table(lens[hlit:])
            lmask = (1 << lm) - 1
            while True:
                while bc < lm + 5 + 15 + 13 and pos < n:
                    bb |= data[pos] << bc
                    pos += 1
                    bc += 8
                v = lt[bb & lmask]
                ln = v & 15
                if v < 0 or ln > bc:
                    if pos >= n:
                        eof()
                    raise DeflateError("corrupt", "invalid literal/length "
                                       "code")
                bb >>= ln
                bc -= ln
                s = v >> 4
                if s < 256:
                    out += 1
                    continue
                if s == 256:
                    break
                s -= 257
                if s >= 29:
                    raise DeflateError("corrupt", "invalid length symbol")
                e = _LEXT[s]
                if bc < e:
                    eof()
                length = _LBASE[s] + (bb & ((1 << e) - 1))
                bb >>= e
                bc -= e
                if dt is None:
                    raise DeflateError("corrupt", "a match in a block "
                                       "without distance codes")
                v = dt[bb & ((1 << dm) - 1)]
                ln = v & 15
                if v < 0 or ln > bc:
                    if pos >= n:
                        eof()
                    raise DeflateError("corrupt", "invalid distance code")
                bb >>= ln
                bc -= ln
                s = v >> 4
                if s >= 30:
                    raise DeflateError("corrupt", "invalid distance symbol")
                e = _DEXT[s]
                if bc < e:
                    eof()
                d = _DBASE[s] + (bb & ((1 << e) - 1))
                bb >>= e
                bc -= e
                if d > maxdist:
                    maxdist = d
                    if d > window:
                        raise DeflateError(
                            "window", "a reference %d bytes back (at byte %d "
                            "of the message) exceeds the agreed window of %d "
                            "bytes" % (d, out, window))
                    if d > out + history:
                        if no_takeover and d <= out + window:
                            raise DeflateError(
                                "context", "a reference %d bytes back at byte "
                                "%d of the message reaches into an earlier "
                                "message although no context takeover was "
                                "agreed" % (d, out))
                        raise DeflateError(
                            "corrupt", "a reference %d bytes back at byte %d "
                            "reaches before the start of the stream" %
                            (d, out))
                out += length
        if final:
            return {"out": out, "maxdist": maxdist, "blocks": blocks,
                    "bfinal": True}


class Inflater:
    """Decompresses and checks the compressed messages one peer sends under
    the agreed window `bits` and context takeover (RFC 7692 §7.2.2).

    message(payload) returns the message bytes or raises DeflateError.
    scan_budget: bytes of output that scan() checks exactly (per Inflater);
    after that the zlib fallback described in the module comment.  `stats`
    collects what was seen (for reports)."""

    def __init__(self, bits=15, no_takeover=False, scan_budget=256 << 10):
        self.bits = bits
        self.window = 1 << bits
        self.no_takeover = no_takeover
        self.scan_left = scan_budget
        self.d = None
        self.total = 0                 # output so far (with takeover)
        self.recent = b""              # the last `window` bytes of output
        self.stats = {"messages": 0, "payloadBytes": 0, "inflatedBytes": 0,
                      "scannedBytes": 0, "maxDistance": 0, "bfinal": 0,
                      "blocks": {"stored": 0, "fixed": 0, "dynamic": 0}}

    def _zlib(self, data):
        if self.d is None or self.no_takeover or self.d.eof:
            if not self.no_takeover and self.recent:
                self.d = zlib.decompressobj(-self.bits, zdict=self.recent)
            else:
                self.d = zlib.decompressobj(-self.bits)
        d = self.d
        step = 0 if self.bits == 15 else self.window
        parts, size = [], 0
        try:
            chunk = d.decompress(data, step)
            while True:
                parts.append(chunk)
                size += len(chunk)
                if size > MAX_MESSAGE:
                    raise DeflateError("size", "the message inflates to more "
                                       "than %d bytes" % MAX_MESSAGE)
                if d.eof or not step or not (d.unconsumed_tail or
                                             len(chunk) == step):
                    break
                chunk = d.decompress(d.unconsumed_tail, step)
        except zlib.error as e:
            text = str(e)
            if "too far back" in text:
                if self.no_takeover:
                    raise DeflateError("context", "zlib: %s (a reference "
                                       "before the message, although no "
                                       "context takeover was agreed, or "
                                       "beyond the window)" % text)
                raise DeflateError("window", "zlib: %s (a reference beyond "
                                   "the agreed window of %d bytes)" %
                                   (text, self.window))
            raise DeflateError("corrupt", "zlib: %s" % text)
        if d.eof:
            self.stats["bfinal"] += 1
        else:
            # on a block boundary a final empty block ends the stream
            # with no output; anywhere else it would not
            probe = d.copy()
            try:
                ok = probe.decompress(b"\x03\x00") == b"" and probe.eof
            except zlib.error:
                ok = False
            if not ok:
                raise DeflateError("corrupt", "the message does not end on "
                                   "a DEFLATE block boundary (RFC 7692 "
                                   "§7.2.1)")
        return b"".join(parts)

    def message(self, payload):
        data = bytes(payload) + TAIL
        st = self.stats
        if self.scan_left > 0:
            history = 0 if self.no_takeover else min(self.total, self.window)
            r = scan(data, self.window, history, self.no_takeover)
            self.scan_left -= r["out"]
            st["scannedBytes"] += r["out"]
            st["maxDistance"] = max(st["maxDistance"], r["maxdist"])
            for k, v in r["blocks"].items():
                st["blocks"][k] += v
        out = self._zlib(data)
        st["messages"] += 1
        st["payloadBytes"] += len(payload)
        st["inflatedBytes"] += len(out)
        if not self.no_takeover:
            self.total += len(out)
            if len(out) >= self.window:
                self.recent = out[-self.window:]
            else:
                self.recent = (self.recent + out)[-self.window:]
        return out

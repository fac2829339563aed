#!/usr/bin/python3
"""ref_testee.py — a reference RFC 6455 *client* driving fuzzingserver.py
the way `wschannel testee BASEURL AGENT` does (stdlib only, raw sockets).

  ref_testee.py BASEURL AGENT [--break=MODE[,MODE]] [--cacert FILE]
                [--offer EXTENSIONS | --no-deflate]

It reads BASEURL/getCaseCount, runs every case at
BASEURL/runCase?case=N&agent=AGENT echoing each message as received (text as
text, binary as binary), answers Pings, fails the connection with the RFC's
close code on every violation, validates UTF-8 incrementally (fail-fast),
then opens BASEURL/updateReports?agent=AGENT.  Exit status 0 when all cases
ran.  Its verdicts are therefore known in advance: OK, NON-STRICT or
INFORMATIONAL on every case.

permessage-deflate (RFC 7692): it offers "permessage-deflate;
client_max_window_bits" as Firefox does (--offer sets another offer,
--no-deflate none), checks the server's answer against the offer, inflates
what the server compresses (checking the server's window and context
takeover too: wsdeflate.Inflater) and compresses every echo it sends while
the extension is on, honouring the agreed client window (8 bits: zlib's
9-bit window with strategy Z_RLE, distances of 1) and
client_no_context_takeover.

--break=MODE makes it deliberately wrong, to show the server notices:
  noutf8check   text and close reasons are not validated
  nofailfast    text is validated only when the message is complete
  nomask        frames are sent unmasked
  nopong        Pings are not answered
  echoclosecode a server Close is echoed whatever its code or length
  norsvcheck    reserved bits are ignored
  dropnoclose   on a violation TCP is dropped without a Close frame
                (allowed by Autobahn's rules: must still pass)
  noclose       a server Close is never answered
  pmdwindow     echoes are compressed with a 15-bit window whatever was
                agreed
  pmdtakeover   the compression context is kept across messages even with
                client_no_context_takeover
  pmdrsv1cont   compressed echoes go in two frames, both with RSV1
  pmdrsv1ctl    Pongs and Close frames carry RSV1 while the extension is on
  pmdtruncate   the last byte of every compressed echo is left out
"""
import argparse
import os
import socket
import ssl
import struct
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wsproto as wp                                    # noqa: E402
import wsdeflate as wd                                  # noqa: E402

BREAKS = {"noutf8check", "nofailfast", "nomask", "nopong", "echoclosecode",
          "norsvcheck", "dropnoclose", "noclose", "pmdwindow", "pmdtakeover",
          "pmdrsv1cont", "pmdrsv1ctl", "pmdtruncate"}
DEFAULT_OFFER = "permessage-deflate; client_max_window_bits"


class Failed(Exception):
    pass


class Connection:
    """One WebSocket connection run to its end."""

    def __init__(self, url, breaks, cafile=None, collect=False,
                 max_size=None, deadline=900.0, offer=DEFAULT_OFFER):
        self.url = urllib.parse.urlsplit(url)
        self.breaks = breaks
        self.offer = offer
        self.pmd = None                  # the agreed wsdeflate.Params
        self.inflater = self.compressor = None
        self.msg_rsv1 = False
        self.cafile = cafile
        self.collect = collect           # keep messages instead of echoing
        self.max_size = max_size
        self.deadline = time.time() + deadline
        self.messages = []
        self.parser = wp.FrameParser()
        self.utf8 = wp.Utf8Validator()
        self.msg_op = None
        self.msg_parts = []
        self.msg_len = 0
        self.cur = None
        self.cur_ctl = []
        self.sent_close = False
        self.got_close = False
        self.failed = False
        self.stop_parsing = False
        self.server_close = None

    # ---------------------------------------------------------------- I/O

    def open(self):
        u = self.url
        secure = u.scheme == "wss"
        port = u.port or (443 if secure else 80)
        sock = socket.create_connection((u.hostname, port), timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if secure:
            ctx = ssl.create_default_context(cafile=self.cafile)
            # a TCP reset must not look like an orderly EOF
            sock = ctx.wrap_socket(sock, server_hostname=u.hostname,
                                   suppress_ragged_eofs=False)
        self.sock = sock
        key = wp.new_key()
        target = u.path or "/"
        if u.query:
            target += "?" + u.query
        host = u.hostname if ":" not in u.hostname else "[%s]" % u.hostname
        if u.port:
            host += ":%d" % u.port
        ext = "Sec-WebSocket-Extensions: %s\r\n" % self.offer \
            if self.offer else ""
        req = ("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
               "Sec-WebSocket-Version: 13\r\nOrigin: http://%s\r\n"
               "%sUser-Agent: ref_testee\r\n\r\n" % (target, host, key, host,
                                                     ext))
        sock.sendall(req.encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            d = sock.recv(4096)
            if not d:
                raise Failed("connection closed during the handshake")
            buf += d
        head, _, rest = buf.partition(b"\r\n\r\n")
        start, headers = wp.parse_http_head(head)
        parts = start.split(" ", 2)
        if len(parts) < 2 or parts[1] != "101":
            raise Failed("handshake refused: %s" % start)
        if "websocket" not in wp.header_tokens(headers, "upgrade") or \
                "upgrade" not in wp.header_tokens(headers, "connection"):
            raise Failed("101 without Upgrade/Connection")
        if wp.header_value(headers, "sec-websocket-accept") != \
                wp.accept_for_key(key):
            raise Failed("wrong Sec-WebSocket-Accept")
        if headers.get("sec-websocket-protocol"):
            raise Failed("server chose a subprotocol we did not offer")
        if headers.get("sec-websocket-extensions"):
            self.accept_extensions(headers["sec-websocket-extensions"])
        sock.settimeout(0.5)
        return rest

    def accept_extensions(self, values):
        """RFC 7692 §7.1 from the client's side: one permessage-deflate
        element, valid for one of our offer elements."""
        try:
            got = wd.parse_extensions(values)
            offers = [wd.parse_offer(p) for n, p in
                      wd.parse_extensions([self.offer] if self.offer else [])
                      if n.lower() == wd.NAME]
        except wd.ExtensionSyntaxError as e:
            raise Failed("bad Sec-WebSocket-Extensions: %s" % e)
        if len(got) != 1 or got[0][0].lower() != wd.NAME or not offers:
            raise Failed("server chose extensions we did not offer: %r" %
                         values)
        why = None
        for off in offers:
            try:
                self.pmd = wd.parse_response(got[0][1], off)
                break
            except wd.ExtensionSyntaxError as e:
                why = e
        if self.pmd is None:
            raise Failed("server's permessage-deflate answer fits no offer: "
                         "%s" % why)
        p = self.pmd
        self.inflater = wd.Inflater(p.server_max_window_bits,
                                    p.server_no_context_takeover,
                                    scan_budget=64 << 10)
        cbits = 15 if "pmdwindow" in self.breaks else \
            p.client_max_window_bits
        cnct = p.client_no_context_takeover and \
            "pmdtakeover" not in self.breaks
        self.compressor = wd.Compressor(cbits, cnct)

    def send(self, opcode, payload=b"", fin=True, rsv=0):
        mask = None if "nomask" in self.breaks else os.urandom(4)
        if opcode >= 8 and self.pmd and "pmdrsv1ctl" in self.breaks:
            rsv = 4
        try:
            self.sock.sendall(wp.build_frame(opcode, payload, fin, rsv,
                                             mask_key=mask))
        except OSError:
            pass

    def send_message(self, opcode, payload):
        """An echo: compressed (RSV1 on the first frame, RFC 7692 §6)
        while the extension is on."""
        if self.pmd is None:
            return self.send(opcode, payload)
        data = self.compressor.compress(payload)
        if "pmdtruncate" in self.breaks and data:
            data = data[:-1]
        if "pmdrsv1cont" in self.breaks:
            half = len(data) // 2
            self.send(opcode, data[:half], fin=False, rsv=4)
            return self.send(0, data[half:], rsv=4)
        self.send(opcode, data, rsv=4)

    def send_close(self, code=None, reason=b""):
        if self.sent_close:
            return
        self.sent_close = True
        self.send(wp.OP_CLOSE, wp.close_payload(code, reason))

    def fail(self, code, why):
        """_Fail the WebSocket Connection_ (RFC 6455 §7.1.7)."""
        self.failed = True
        self.stop_parsing = True
        self.why = why
        if "dropnoclose" in self.breaks:
            self.sock.close()
            raise EOFError
        self.send_close(code, why.encode()[:100])

    def run(self):
        rest = self.open()
        try:
            if rest:
                self.feed(rest)
            close_wait = None
            while True:
                if self.sent_close and close_wait is None:
                    # RFC 6455 §7.1.1: let the server close TCP first
                    close_wait = time.time() + 5
                if close_wait and time.time() > close_wait:
                    break
                if time.time() > self.deadline:
                    break
                try:
                    d = self.sock.recv(262144)
                except socket.timeout:
                    continue
                except OSError:
                    break
                if not d:
                    break
                self.feed(d)
        except EOFError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass

    # ------------------------------------------------------------- frames

    def feed(self, data):
        if self.stop_parsing:
            return
        for kind, x in self.parser.feed(data):
            if self.stop_parsing:
                return
            if kind == "start":
                self.start(x)
            elif kind == "data":
                self.data(x)
            else:
                self.end(x)

    def start(self, h):
        self.cur, self.cur_ctl = h, []
        # RFC 6455 §5.1, 5.2, 5.4, 5.5
        if h.masked:
            return self.fail(1002, "masked server frame")
        rsv1 = h.rsv == 4 and self.pmd is not None and h.opcode in (1, 2)
        if h.rsv and not rsv1 and "norsvcheck" not in self.breaks:
            # RFC 6455 §5.2; RFC 7692 §6.1: RSV1 only on a message's first
            return self.fail(1002, "reserved bits set")
        if h.length >> 63:
            return self.fail(1002, "length with the top bit set")
        if not h.minimal_length():
            return self.fail(1002, "length not minimally encoded")
        if h.opcode >= 8:
            if h.opcode not in (8, 9, 10):
                return self.fail(1002, "reserved control opcode")
            if not h.fin:
                return self.fail(1002, "fragmented control frame")
            if h.length > 125:
                return self.fail(1002, "control frame too long")
            if h.opcode == 8 and h.length == 1 and \
                    "echoclosecode" not in self.breaks:
                return self.fail(1002, "1-byte Close payload")
            return
        if h.opcode not in (0, 1, 2):
            return self.fail(1002, "reserved data opcode")
        if h.opcode == 0 and self.msg_op is None:
            return self.fail(1002, "continuation outside a message")
        if h.opcode != 0 and self.msg_op is not None:
            return self.fail(1002, "data frame inside a fragmented message")
        if h.opcode != 0:
            self.msg_op, self.msg_parts, self.msg_len = h.opcode, [], 0
            self.msg_rsv1 = rsv1
            self.utf8.reset()
        if self.max_size is not None and self.msg_len + h.length > \
                self.max_size:
            return self.fail(1009, "message too big")

    def data(self, chunk):
        h = self.cur
        if h.opcode >= 8:
            self.cur_ctl.append(chunk)
            return
        if self.sent_close:
            return
        self.msg_parts.append(chunk)
        self.msg_len += len(chunk)
        if self.msg_rsv1:
            return                       # validated once inflated
        if self.msg_op == 1 and not self.breaks & {"noutf8check",
                                                   "nofailfast"}:
            if not self.utf8.feed(chunk):
                self.fail(1007, "invalid UTF-8 in text")

    def end(self, h):
        if h.opcode >= 8:
            return self.control(h.opcode, b"".join(self.cur_ctl))
        if not h.fin:
            return
        op, payload = self.msg_op, b"".join(self.msg_parts)
        self.msg_op, self.msg_parts = None, []
        if self.sent_close:          # data after our Close is ignored
            return
        if self.msg_rsv1:
            try:
                payload = self.inflater.message(payload)
            except wd.DeflateError as e:
                return self.fail(1007, "bad compressed message: %s" % e)
            if op == 1 and "noutf8check" not in self.breaks and \
                    not wp.utf8_valid(payload):
                return self.fail(1007, "invalid UTF-8 in text")
        elif op == 1 and "noutf8check" not in self.breaks:
            if "nofailfast" in self.breaks:
                self.utf8.reset()
                self.utf8.feed(payload)
            if not self.utf8.complete:
                return self.fail(1007, "invalid UTF-8 in text")
        if self.collect:
            self.messages.append((payload, op == 2))
        else:
            self.send_message(op, payload)

    def control(self, opcode, payload):
        if opcode == wp.OP_PING:
            if not self.sent_close and "nopong" not in self.breaks:
                self.send(wp.OP_PONG, payload)
        elif opcode == wp.OP_CLOSE:
            self.got_close = True
            self.stop_parsing = True     # nothing after a Close counts
            if self.sent_close or "noclose" in self.breaks:
                return
            code = None
            if len(payload) >= 2:
                code = struct.unpack("!H", payload[:2])[0]
            self.server_close = code
            if "echoclosecode" in self.breaks:
                return self.send_close(code)
            if code is not None and not wp.close_code_valid(code):
                return self.fail(1002, "invalid close code")
            if len(payload) > 2 and "noutf8check" not in self.breaks and \
                    not wp.utf8_valid(payload[2:]):
                return self.fail(1007, "close reason is not UTF-8")
            self.send_close(code)        # echo the code (or none)


def run_testee(base, agent, breaks, cafile=None, verbose=True,
               offer=DEFAULT_OFFER):
    base = base.rstrip("/")
    q = urllib.parse.quote(agent, safe="")
    c = Connection(base + "/getCaseCount", breaks, cafile, collect=True,
                   offer=offer)
    c.run()
    if not c.messages:
        raise Failed("no case count received")
    n = int(c.messages[0][0])
    t0 = time.time()
    for i in range(1, n + 1):
        Connection("%s/runCase?case=%d&agent=%s" % (base, i, q), breaks,
                   cafile, offer=offer).run()
        if verbose and (i % 50 == 0 or i == n):
            sys.stderr.write("ref_testee: %d/%d cases (%.1f s)\n" %
                             (i, n, time.time() - t0))
    Connection("%s/updateReports?agent=%s" % (base, q), breaks,
               cafile, offer=offer).run()
    return n


def main():
    ap = argparse.ArgumentParser(description="reference fuzzing testee")
    ap.add_argument("base")
    ap.add_argument("agent")
    ap.add_argument("--break", dest="breaks", default="")
    ap.add_argument("--cacert")
    ap.add_argument("--offer", default=DEFAULT_OFFER,
                    help="Sec-WebSocket-Extensions to offer")
    ap.add_argument("--no-deflate", action="store_true",
                    help="offer no extension")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()
    breaks = {b for b in a.breaks.split(",") if b}
    bad = breaks - BREAKS
    if bad:
        ap.error("unknown --break mode(s): %s" % ", ".join(sorted(bad)))
    try:
        run_testee(a.base, a.agent, breaks, a.cacert, not a.quiet,
                   "" if a.no_deflate else a.offer)
    except (Failed, OSError) as e:
        sys.stderr.write("ref_testee: %s\n" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

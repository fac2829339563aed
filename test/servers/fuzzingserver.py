#!/usr/bin/python3
"""fuzzingserver.py — a WebSocket server that tests a *client*, speaking the
Autobahn|Testsuite "fuzzingserver" protocol (stdlib only).

The client under test (a "testee", e.g. `wschannel testee BASEURL AGENT`)
connects with WebSocket upgrades to:

  /getCaseCount                 one text message: the number N of enabled
                                cases; then Close 1000
  /runCase?case=I&agent=A       runs the I-th enabled case (1-based, in case
                                id order); the testee echoes every message
  /getCaseInfo?case=I           text message {"id": ..., "description": ...}
  /getCaseStatus?case=I&agent=A text message {"behavior": ...} once the case
                                has finished for that agent
  /updateReports?agent=A        writes REPORTS/index.json and one JSON file
                                per case and agent; then Close 1000
  /stopServer                   Close 1000, then the server exits

Options: --port (0 picks a free port; the first stdout line is always
"LISTENING <port>"), --host, --cases PATTERNS and --exclude PATTERNS (comma
separated case ids, "*" is a wildcard: "1.*,6.4.*"), --reports DIR,
--tls-cert/--tls-key (wss), --time-scale F (multiplies every case timer, for
slow testees such as valgrind runs), --list (print the enabled cases, exit).
permessage-deflate (sections 12, 13): --deflate-budget BYTES caps the
messages of a case at about that many payload bytes (default 1 MiB; 0 = the
full counts, 1000 messages per Autobahn case), --deflate-scan BYTES is how
much of what the client inflates to per case is walked exactly for window
and context violations (default 256 KiB; wsdeflate.py explains the rest).

Verdicts follow Autobahn's rules; see test/conformance/README.md.  The case
data lives in fuzzcases.py, the framing helpers in wsproto.py.
"""
import argparse
import asyncio
import json
import os
import re
import socket
import sys
import time
import urllib.parse
from collections import deque

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wsproto as wp                                    # noqa: E402
import wsdeflate as wd                                  # noqa: E402
import fuzzcases as fc                                  # noqa: E402
import pmddata                                          # noqa: E402

CONNECTING, OPEN, CLOSING, CLOSED = "CONNECTING", "OPEN", "CLOSING", "CLOSED"
MAX_WIRELOG = 5000
OPEN_TIMEOUT = 5.0          # opening handshake, seconds
CLOSE_TIMEOUT = 1.0         # wait for the peer's Close after ours (Autobahn)
FLUSH_TIMEOUT = 30.0        # unsent output after we decided to drop TCP
DROP = object()             # output queue marker: close TCP here


def select_cases(cases, include, exclude):
    """Autobahn's pattern rules: ids match exactly, '*' matches anything."""
    def matcher(pats):
        rx = []
        for p in pats:
            p = p.strip()
            if p:
                rx.append(re.compile("^" + re.escape(p).replace(r"\*", ".*") +
                                     "$"))
        return lambda cid: any(r.match(cid) for r in rx)
    inc, exc = matcher(include), matcher(exclude)
    return [c for c in cases if inc(c.id) and not exc(c.id)]


def clean_for_filename(s):
    s = "".join(c if c in "abcdefghijklmnopqrstuvwxyz0123456789" else " "
                for c in s.strip().lower())
    return "_".join(s.split())


def report_filename(agent, cid):
    return "%s_case_%s.json" % (clean_for_filename(agent),
                                cid.replace(".", "_"))


def event_log(ev):
    """An event as it appears in reports (payloads shortened)."""
    if ev[0] == "message":
        return ["message", wp.ascii_log(ev[1]), ev[2]]
    if ev[0] in ("ping", "pong"):
        return [ev[0], wp.ascii_log(ev[1])]
    return list(ev)


class Server:
    def __init__(self, args):
        self.args = args
        self.scale = args.time_scale
        self.cases = select_cases(fc.all_cases(), args.cases, args.exclude)
        self.results = {}            # agent -> case id -> result dict
        self.waiters = {}            # (agent, case id) -> [Future]
        self.stopping = None

    def log(self, text):
        if not self.args.quiet:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()

    def store(self, agent, cid, result):
        self.results.setdefault(agent, {})[cid] = result
        for fut in self.waiters.pop((agent, cid), []):
            if not fut.done():
                fut.set_result(result)

    async def wait_result(self, agent, cid):
        if cid in self.results.get(agent, {}):
            return self.results[agent][cid]
        fut = asyncio.get_running_loop().create_future()
        self.waiters.setdefault((agent, cid), []).append(fut)
        return await fut

    def write_reports(self):
        outdir = self.args.reports
        os.makedirs(outdir, exist_ok=True)
        index = {}
        for agent, byid in self.results.items():
            index[agent] = {}
            for cid, r in byid.items():
                fn = report_filename(agent, cid)
                index[agent][cid] = {
                    "behavior": r["behavior"],
                    "behaviorClose": r["behaviorClose"],
                    "duration": r["duration"],
                    "remoteCloseCode": r["remoteCloseCode"],
                    "reportfile": fn,
                    "tcpClosedFirstBy": r["tcpClosedFirstBy"]}
                with open(os.path.join(outdir, fn), "w") as f:
                    json.dump(r, f, sort_keys=True, indent=3)
        with open(os.path.join(outdir, "index.json"), "w") as f:
            json.dump(index, f, sort_keys=True, indent=3)
        self.log("reports written to %s" % outdir)

    async def handle(self, reader, writer):
        try:
            await Session(self, reader, writer).run()
        except Exception as e:           # one bad session must not stop us
            self.log("session error: %r" % (e,))
            writer.transport.abort()


class Session:
    """One TCP connection: opening handshake, then frames both ways, the
    closing handshake, and for /runCase the case script and its verdict.

    The state names and flags (closedByMe, wasClean, droppedByMe, ...) have
    the meaning they have in Autobahn's reports."""

    def __init__(self, server, reader, writer):
        self.srv = server
        self.loop = asyncio.get_running_loop()
        self.reader, self.writer = reader, writer
        self.state = CONNECTING
        self.closed_by_me = False
        self.failed_by_me = False
        self.dropped_by_me = False
        self.was_clean = False
        self.not_clean_reason = None
        self.close_timed_out = False
        self.peer_eof_first = False
        self.local_close_code = self.local_close_reason = None
        self.remote_close_code = self.remote_close_reason = None
        self.out = deque()
        self.out_event = asyncio.Event()
        self.writer_task = None
        self.timers = []
        self.close_timer = None
        self.parser = wp.FrameParser()
        self.input_dead = False
        self.cur = None
        self.cur_skip = False
        self.cur_ctl = []
        self.cur_head = b""
        self.msg_op = None
        self.msg_parts = []
        self.msg_skip = False
        self.utf8 = wp.Utf8Validator()
        self.wirelog = []
        self.wirelog_on = True
        self.rx_frames, self.tx_frames = {}, {}
        self.violations = []
        self.case = None
        self.agent = None
        self.received = []
        self.pmd_params = self.pmd_in = self.pmd_out = None
        self.msg_rsv1 = False
        self.pmd = None                  # per-case progress (kind "pmd")
        self.perf_behavior = None
        self.perf_result = None
        self.rtt_count = 0
        self.started = None
        self.t_open = self.t_end = None
        self.http_request = self.http_response = ""
        self.finished = False

    # ------------------------------------------------------------ plumbing

    def wlog(self, *entry):
        if self.wirelog_on and len(self.wirelog) < MAX_WIRELOG:
            self.wirelog.append(list(entry))
            if len(self.wirelog) == MAX_WIRELOG:
                self.wirelog.append(["WLM", "wire log truncated"])

    def after(self, delay, fn):
        h = self.loop.call_later(delay * self.srv.scale, fn)
        self.timers.append(h)
        return h

    async def run(self):
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        try:
            head = await asyncio.wait_for(
                self.reader.readuntil(b"\r\n\r\n"),
                OPEN_TIMEOUT * self.srv.scale)
        except (asyncio.TimeoutError, asyncio.IncompleteReadError,
                asyncio.LimitOverrunError, ConnectionError, OSError):
            self.writer.transport.abort()
            return
        if not self.handshake(head):
            try:
                await asyncio.wait_for(self.writer.drain(), 5)
            except Exception:
                pass
            self.writer.close()
            return
        self.writer_task = asyncio.ensure_future(self.writer_loop())
        self.on_open()
        while self.state != CLOSED:
            try:
                data = await self.reader.read(262144)
            except (ConnectionError, OSError):
                data = b""
            if not data:
                break
            self.on_data(data)
        if self.state != CLOSED:          # the peer closed TCP first
            self.state = CLOSED
            self.out.clear()
            self.writer.transport.abort()
        self.out_event.set()
        if self.writer_task:
            try:
                await asyncio.wait_for(self.writer_task, FLUSH_TIMEOUT)
            except (asyncio.TimeoutError, Exception):
                self.writer.transport.abort()
        self.connection_lost()

    def handshake(self, head):
        self.http_request = head.decode("latin-1")
        start, headers = wp.parse_http_head(head[:-4])
        status, reason, key = wp.check_client_request(start, headers)
        if status is None:
            target = urllib.parse.urlsplit(start.split(" ")[1])
            self.path = target.path
            q = urllib.parse.parse_qs(target.query)
            self.agent = q.get("agent", [None])[0]
            status, reason = self.route(q)
        if status is not None:
            resp = wp.http_error(status, reason)
            self.http_response = resp.decode("latin-1")
            self.writer.write(resp)
            self.srv.log("refused %r: %s" % (start, reason))
            return False
        # No subprotocol is ever accepted; permessage-deflate only by the
        # cases of sections 12 and 13 (elsewhere an offer is declined).
        ext = self.negotiate(headers)
        resp = wp.response_101(key, server="wschannel-fuzzingserver",
                               extensions=ext)
        self.http_response = resp.decode("latin-1")
        self.writer.write(resp)
        self.state = OPEN
        return True

    def negotiate(self, headers):
        """Checks the client's Sec-WebSocket-Extensions (an invalid offer is
        a violation: RFC 7692 §7.1 says what a valid one is) and, in a
        permessage-deflate case, answers the first offer the case's
        alternatives accept.  Returns the response header value or None."""
        values = headers.get("sec-websocket-extensions", [])
        if not values:
            return None
        try:
            exts = wd.parse_extensions(values)
        except wd.ExtensionSyntaxError as e:
            self.violations.append("malformed Sec-WebSocket-Extensions "
                                   "(RFC 6455 9.1): %s" % e)
            return None
        offers = []
        for name, params in exts:
            if name.lower() != wd.NAME:
                continue
            try:
                offers.append(wd.parse_offer(params))
            except wd.ExtensionSyntaxError as e:
                self.violations.append("invalid permessage-deflate offer "
                                       "(RFC 7692 7.1): %s" % e)
        c = self.case
        if c is None or c.kind != "pmd":
            return None
        for alt in c.params["alts"]:
            for off in offers:
                r = wd.accept_offer(off, alt)
                if r is not None:
                    text, params = r
                    self.pmd_params = params
                    self.pmd_in = wd.Inflater(
                        params.client_max_window_bits,
                        params.client_no_context_takeover,
                        self.srv.args.deflate_scan)
                    self.pmd_out = wd.Compressor(
                        params.server_max_window_bits,
                        params.server_no_context_takeover)
                    return text
        return None

    def route(self, q):
        cases = self.srv.cases
        self.case_index = None
        if "case" in q:
            try:
                i = int(q["case"][0])
            except ValueError:
                return 400, "bad case number"
            if not 1 <= i <= len(cases):
                return 404, "no case %d (there are %d)" % (i, len(cases))
            self.case_index = i
        if self.path == "/runCase":
            if self.case_index is None or not self.agent:
                return 400, "runCase needs case and agent"
            self.case = cases[self.case_index - 1]
        elif self.path in ("/getCaseInfo",):
            if self.case_index is None:
                return 400, "getCaseInfo needs case"
        elif self.path == "/getCaseStatus":
            if self.case_index is None or not self.agent:
                return 400, "getCaseStatus needs case and agent"
        elif self.path == "/updateReports":
            if not self.agent:
                return 400, "updateReports needs agent"
        elif self.path not in ("/getCaseCount", "/stopServer"):
            return 404, "unknown path %s" % self.path
        return None, None

    # ------------------------------------------------------------- output

    def send_data(self, data, sync=False, chopsize=None):
        if chopsize:
            n = (len(data) + chopsize - 1) // chopsize
            # Small pieces get a real pause so they reach the peer as
            # separate reads; long runs only yield to the event loop.
            delay = 0.0005 if n <= 300 else 0
            for i in range(0, len(data), chopsize):
                self.out.append((data[i:i + chopsize], True, delay))
        else:
            self.out.append((data, sync, 0.0005 if sync else 0))
        self.out_event.set()

    async def writer_loop(self):
        w = self.writer
        try:
            while True:
                await self.out_event.wait()
                self.out_event.clear()
                while self.out:
                    item = self.out.popleft()
                    if item is DROP:
                        # RFC 6455 7.1.1: the server closes TCP first and
                        # the client should wait for that.  A short grace
                        # lets a client that closes at once (it MAY, once
                        # Close frames went both ways) show up in the
                        # report as tcpClosedFirstBy "client".
                        await asyncio.sleep(0.01)
                        self.peer_eof_first = self.reader.at_eof()
                        w.close()
                        return
                    data, sync, delay = item
                    if not sync:
                        parts = [data]
                        while self.out and self.out[0] is not DROP and \
                                not self.out[0][1]:
                            parts.append(self.out.popleft()[0])
                        data = b"".join(parts)
                    if w.transport.is_closing():
                        return
                    w.write(data)
                    self.wlog("TO", [len(data), bytes(data[:64]).hex()], sync)
                    if sync:
                        await w.drain()
                        await asyncio.sleep(delay)
                    elif w.transport.get_write_buffer_size() > 1 << 20:
                        await w.drain()
                if self.state == CLOSED:     # aborted: nothing left to send
                    return
        except (ConnectionError, OSError):
            return

    def send_frame(self, opcode, payload=b"", fin=True, rsv=0,
                   payload_len=None, chopsize=None, sync=False):
        pl = wp.repeat_to(payload, payload_len) if payload_len is not None \
            else payload
        self.tx_frames[opcode] = self.tx_frames.get(opcode, 0) + 1
        self.wlog("TF", [len(pl), wp.ascii_log(pl)], opcode, fin, rsv, None,
                  payload_len, chopsize, sync)
        self.send_data(wp.frame_header(opcode, len(pl), fin, rsv) + pl, sync,
                       chopsize)

    def send_message(self, payload, binary=False, fragment=None):
        """Like Autobahn's sendMessage: a fragment size splits the message;
        when the size divides the payload exactly, an empty final
        continuation frame ends it."""
        op = 2 if binary else 1
        if fragment is None or len(payload) <= fragment:
            self.send_frame(op, payload)
            return
        i, first = 0, True
        while True:
            j = i + fragment
            last = j > len(payload)
            self.send_frame(op if first else 0, payload[i:j], fin=last)
            first = False
            if last:
                return
            i = j

    def send_close_frame(self, code=None, reason=b"", is_reply=False):
        if self.state != OPEN:
            return
        self.send_frame(8, wp.close_payload(code, reason or b""))
        self.state = CLOSING
        self.closed_by_me = not is_reply
        self.local_close_code = code
        self.local_close_reason = wp.ascii_log(reason or b"", 125)
        if self.closed_by_me:
            self.close_timer = self.after(CLOSE_TIMEOUT, self.on_close_timeout)

    def send_close(self, code=None, reason=None):
        self.send_close_frame(code, (reason or "").encode("utf-8"))

    def drop(self, abort=False):
        if self.state == CLOSED:
            return
        self.state = CLOSED
        self.dropped_by_me = True
        if abort:
            self.out.clear()
            self.writer.transport.abort()
        else:
            self.out.append(DROP)
        self.out_event.set()

    def fail_connection(self, code=1001, reason="Going Away"):
        if self.state == CLOSED:
            return
        self.failed_by_me = True
        if self.state == OPEN:
            self.send_close_frame(code, reason.encode("utf-8")[:123])
        else:
            self.drop()

    def on_close_timeout(self):
        if self.state != CLOSED:
            self.was_clean = False
            self.close_timed_out = True
            self.not_clean_reason = "peer did not answer our Close in time"
            self.drop(abort=True)

    # -------------------------------------------------------------- input

    def on_data(self, data):
        self.wlog("RO", [len(data), data[:64].hex()])
        if self.input_dead:
            return
        for kind, x in self.parser.feed(data):
            if self.state == CLOSED or self.input_dead:
                return
            if kind == "start":
                self.frame_start(x)
            elif kind == "data":
                self.frame_data(x)
            else:
                self.frame_end(x)

    def violation(self, what, code, fail=True):
        self.violations.append(what)
        self.wlog("VIOLATION", what)
        self.srv.log("client violation: %s" % what)
        if fail:
            self.fail_connection(code, what)

    def header_problem(self, h):
        if h.rsv:
            # RSV1 is 4 here (the field's top bit); permessage-deflate
            # allows it on the first frame of a data message (RFC 7692 6.1)
            if self.pmd_in is None:
                return "RSV=%d without a negotiated extension" % h.rsv
            if h.rsv & 3:
                return "RSV=%d: permessage-deflate defines RSV1 only" % h.rsv
            if h.opcode >= 8:
                return "RSV1 on a control frame (RFC 7692 6.1)"
            if h.opcode == 0:
                return "RSV1 on a continuation frame (RFC 7692 6.1)"
        if not h.masked:
            return "unmasked client frame (RFC 6455 5.1)"
        if h.length >> 63:
            return "64-bit length with the top bit set"
        if not h.minimal_length():
            return "length not minimally encoded"
        if h.opcode >= 8:
            if h.opcode not in (8, 9, 10):
                return "reserved control opcode %d" % h.opcode
            if not h.fin:
                return "fragmented control frame"
            if h.length > 125:
                return "control frame longer than 125 bytes"
            if h.opcode == 8 and h.length == 1:
                return "Close frame with a 1-byte payload"
        else:
            if h.opcode not in (0, 1, 2):
                return "reserved data opcode %d" % h.opcode
            if h.opcode == 0 and self.msg_op is None:
                return "continuation frame outside a message"
            if h.opcode != 0 and self.msg_op is not None:
                return "new data frame inside a fragmented message"
        return None

    def frame_start(self, h):
        self.cur, self.cur_ctl, self.cur_head = h, [], b""
        problem = self.header_problem(h)
        self.cur_skip = problem is not None
        if problem:
            self.violation(problem, 1002)
            if h.length >> 63:
                self.input_dead = True
            return
        if h.opcode in (1, 2):
            self.msg_op, self.msg_parts, self.msg_skip = h.opcode, [], False
            self.msg_rsv1 = bool(h.rsv & 4)
            self.utf8.reset()

    def frame_data(self, chunk):
        h = self.cur
        if len(self.cur_head) < 64:
            self.cur_head += chunk[:64 - len(self.cur_head)]
        if self.cur_skip:
            return
        if h.opcode >= 8:
            self.cur_ctl.append(chunk)
            return
        if self.msg_skip:
            return
        self.msg_parts.append(chunk)
        if self.msg_rsv1:
            return                     # checked once inflated
        if self.msg_op == 1 and not self.utf8.feed(chunk):
            self.msg_skip = True
            self.violation("invalid UTF-8 in a text message", 1007)

    def frame_end(self, h):
        self.rx_frames[h.opcode] = self.rx_frames.get(h.opcode, 0) + 1
        self.wlog("RF", [h.length, wp.ascii_log(self.cur_head)], h.opcode,
                  h.fin, h.rsv, h.masked,
                  h.mask_key.hex() if h.mask_key else None)
        if self.cur_skip:
            return
        if h.opcode >= 8:
            self.control(h.opcode, b"".join(self.cur_ctl))
            return
        if not h.fin:
            return
        op, parts, skip = self.msg_op, self.msg_parts, self.msg_skip
        self.msg_op, self.msg_parts, self.msg_skip = None, [], False
        if skip:
            return
        payload = b"".join(parts)
        if self.msg_rsv1:
            try:
                payload = self.pmd_in.message(payload)
            except wd.DeflateError as e:
                code = {"window": 1002, "context": 1002, "size": 1009}.get(
                    e.kind, 1007)
                self.violation("compressed message: %s" % e, code)
                return
            if op == 1 and not wp.utf8_valid(payload):
                self.violation("invalid UTF-8 in a compressed text message",
                               1007)
                return
        elif op == 1 and not self.utf8.complete:
            self.violation("text message ends inside a UTF-8 sequence", 1007)
            return
        if self.pmd_in is not None:
            st = self.pmd_in.stats
            st["plainMessages"] = st.get("plainMessages", 0) + \
                (not self.msg_rsv1)
        self.on_message(payload, op == 2)

    def control(self, opcode, payload):
        if opcode == 9:
            if self.state == OPEN:
                self.send_frame(10, payload)
        elif opcode == 10:
            if not self.failed_by_me:
                self.case_event(("pong", payload))
        else:
            self.on_close_frame(payload)

    def on_close_frame(self, payload):
        code, reason = None, b""
        if len(payload) >= 2:
            code = int.from_bytes(payload[:2], "big")
            reason = payload[2:]
        self.remote_close_code = code
        self.remote_close_reason = wp.ascii_log(reason, 125) if reason \
            else None
        reply = code
        if code is not None and not wp.close_code_valid(code):
            self.violation("invalid close code %d" % code, 1002, fail=False)
            reply = 1002
        elif reason and not wp.utf8_valid(reason):
            self.violation("close reason is not UTF-8", 1007, fail=False)
            reply = 1007
        if self.state == CLOSING:
            if self.close_timer:
                self.close_timer.cancel()
            self.was_clean = True
            self.drop()
        elif self.state == OPEN:
            # RFC 6455 5.5.1: answer with a Close, normally echoing the
            # code; the server then closes TCP first (7.1.1).
            self.was_clean = True
            self.send_close_frame(reply, b"", is_reply=True)
            self.drop()

    # --------------------------------------------------------------- cases

    def on_open(self):
        srv = self.srv
        self.t_open = time.time()
        self.started = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        p = self.path
        if self.case is not None:
            c = self.case
            self.wirelog_on = c.wirelog
            srv.log("case %s (%d/%d) for %s" % (c.id, self.case_index,
                                               len(srv.cases), self.agent))
            self.run_steps(c.steps)
            if c.kind == "rtt":
                self.rtt_send()
            elif c.kind == "pmd":
                self.pmd_start()
        elif p == "/getCaseCount":
            self.send_frame(1, str(len(srv.cases)).encode())
            self.send_close(1000)
        elif p == "/getCaseInfo":
            c = srv.cases[self.case_index - 1]
            self.send_frame(1, json.dumps({"id": c.id,
                                           "description": c.description})
                            .encode())
            self.send_close(1000)
        elif p == "/getCaseStatus":
            asyncio.ensure_future(self.send_status())
        elif p == "/updateReports":
            srv.write_reports()
            self.send_close(1000)
        elif p == "/stopServer":
            self.send_close(1000)
            srv.stopping.set()

    async def send_status(self):
        cid = self.srv.cases[self.case_index - 1].id
        r = await self.srv.wait_result(self.agent, cid)
        if self.state == OPEN:
            self.send_frame(1, json.dumps({"behavior": r["behavior"]})
                            .encode())
            self.send_close(1000)

    def run_steps(self, steps):
        for st in steps:
            k = st[0]
            if k == "frame":
                self.send_frame(**st[1])
            elif k == "msg":
                self.send_message(st[1], st[2], st[3])
            elif k == "raw":
                self.wlog("TR", [len(st[1]), st[1][:64].hex()], st[2])
                self.send_data(st[1], st[2])
            elif k == "close":
                self.send_close(st[1], st[2])
            elif k == "closeframe":
                self.send_close_frame(st[1], st[2])
            elif k == "kill":
                self.wlog("KL", st[1])
                self.after(st[1], self.kill)
            elif k == "closeafter":
                self.wlog("TI", st[1])
                self.after(st[1], self.close_after)
            elif k == "later":
                self.wlog("CT", st[1], st[2])
                self.after(st[1], lambda t=st[2], s=st[3]: self.later(t, s))
            else:
                raise ValueError("unknown step %r" % (k,))

    def kill(self):
        if self.state != CLOSED:
            self.wlog("KLE")
            if self.state == CLOSING:
                self.not_clean_reason = "case timer expired during the " \
                    "closing handshake; server dropped TCP"
            self.fail_connection()

    def close_after(self):
        if self.state != CLOSED:
            self.wlog("TIE")
            self.send_close()          # an empty Close, as Autobahn does

    def later(self, tag, steps):
        if self.state == CLOSED:
            return
        if tag is not None:
            if self.state != OPEN:
                return
            self.received.append(("timeout", tag))
        self.wlog("CTE", tag)
        self.run_steps(steps)

    def case_event(self, ev):
        c = self.case
        if c is None:
            return
        if c.kind in ("perf", "rtt") and ev[0] == "message":
            return self.perf_message(ev[1], ev[2])
        if c.kind == "pmd" and ev[0] == "message":
            return self.pmd_message(ev[1], ev[2])
        self.received.append(ev)
        if c.suppress_close or not c.close["closedByMe"]:
            return
        if any(self.received == evs for _, evs in c.expected):
            self.send_close(c.close["closeCode"][0])

    def on_message(self, payload, binary):
        if self.failed_by_me:
            return
        self.case_event(("message", payload, binary))

    def perf_message(self, payload, binary):
        c, p = self.case, self.case.params
        want = wp.repeat_to(p["pattern"], p["length"]) if c.kind == "perf" \
            else None
        kind = "binary" if p["binary"] else "text"
        if binary != p["binary"]:
            ok, res = False, "expected a %s message, got the other type" % kind
        elif len(payload) != p["length"]:
            ok, res = False, "expected %d bytes, got %d" % (p["length"],
                                                           len(payload))
        elif want is not None and payload != want:
            ok, res = False, "payload differs from what was sent"
        elif c.kind == "rtt" and self.rtt_count < p["count"]:
            self.rtt_send()
            return
        else:
            ok = True
            res = ("received the %s message of %d bytes" %
                   (kind, len(payload)) if c.kind == "perf" else
                   "all %d echoes received" % p["count"])
        if self.perf_behavior is None:
            self.perf_behavior = fc.OK if ok else fc.FAILED
            self.perf_result = res
        self.wirelog_on = True
        self.send_close(1000)

    def rtt_send(self):
        p = self.case.params
        if p["binary"]:
            self.send_frame(2, b"\xfe" * p["length"])
        else:
            self.send_frame(1, b"*" * p["length"])
        self.rtt_count += 1

    # ---------------------------------------------- permessage-deflate cases

    def pmd_count(self):
        """Messages this run sends: the case's count, capped by the byte
        budget (--deflate-budget; never below the case's min_count)."""
        p, budget = self.case.params, self.srv.args.deflate_budget
        if p["verbatim"]:
            return len(p["verbatim"])
        if budget <= 0:
            return p["count"]
        avg = max(1, sum(p["sizes"]) // len(p["sizes"]))
        return min(p["count"], max(p["min_count"], -(-budget // avg)))

    def pmd_start(self):
        p = self.case.params
        n = self.pmd_count()
        self.pmd = {"count": n, "fullCount": p["count"], "sent": 0,
                    "echoed": 0, "offset": 0, "expect": None,
                    "serverMessages": 0, "serverCompressed": 0,
                    "serverPayloadBytes": 0, "serverWireBytes": 0}
        if self.pmd_params is None:
            self.perf_behavior = fc.UNIMPLEMENTED
            self.perf_result = "The client offered no permessage-deflate " \
                "this case can accept."
            self.send_close(1000)
            return
        self.perf_result = "Case did not finish within %d seconds." % \
            p["wait"]
        self.run_steps([("closeafter", p["wait"])])
        self.pmd_send()

    def pmd_send(self):
        p, st = self.case.params, self.pmd
        i = st["sent"]
        if p["verbatim"]:
            plain, wire = p["verbatim"][i]
            if i == 1 and self.pmd_params.server_no_context_takeover:
                wire = p["verbatim"][0][1]    # no window to refer into
            wire, rsv1, binary = bytes.fromhex(wire), True, False
        else:
            size = p["sizes"][i % len(p["sizes"])]
            plain, st["offset"] = pmddata.piece(p["corpus"], st["offset"],
                                                size)
            binary = p["binary"]
            mode = p["modes"][i % len(p["modes"])]
            rsv1 = mode != "u"
            wire = self.pmd_out.compress(plain, final=mode == "f") if rsv1 \
                else plain
        frag = p["frags"][i % len(p["frags"])]
        if frag > 0 and wire:
            pieces = [wire[j:j + frag] for j in range(0, len(wire), frag)]
        elif frag < 0:
            pieces = [wire, b""]       # an empty last frame
        else:
            pieces = [wire]
        op = 2 if binary else 1
        for k, piece in enumerate(pieces):
            self.send_frame(op if k == 0 else 0, piece,
                            fin=k == len(pieces) - 1,
                            rsv=4 if rsv1 and k == 0 else 0)
        st["expect"] = (plain, binary)
        st["sent"] += 1
        st["serverMessages"] += 1
        st["serverCompressed"] += rsv1
        st["serverPayloadBytes"] += len(plain)
        st["serverWireBytes"] += len(wire)

    def pmd_message(self, payload, binary):
        st = self.pmd
        if self.state != OPEN:
            return                     # the verdict is already in
        want, wbin = st["expect"] if st and st["expect"] else (None, None)
        if want is None:
            ok, res = False, "a message came when none was expected"
        elif binary != wbin:
            ok, res = False, "echo %d has the wrong type (binary %s, " \
                "expected %s)" % (st["sent"], binary, wbin)
        elif len(payload) != len(want):
            ok, res = False, "echo %d has %d bytes, expected %d" % (
                st["sent"], len(payload), len(want))
        elif payload != want:
            ok, res = False, "echo %d differs from what was sent" % \
                st["sent"]
        else:
            st["echoed"] += 1
            st["expect"] = None
            if st["sent"] < st["count"]:
                self.pmd_send()
                return
            ok = True
            res = "Ok, received all %d echoed messages in time%s." % (
                st["count"], "" if st["count"] == st["fullCount"] else
                " (%d in a full run; --deflate-budget)" % st["fullCount"])
        self.perf_behavior = fc.OK if ok else fc.FAILED
        self.perf_result = res
        self.wirelog_on = True
        self.send_close(1000)

    def pmd_report(self):
        if self.pmd is None:
            return None
        r = dict(self.pmd)
        r.pop("expect", None)
        r.pop("offset", None)
        r["negotiated"] = self.pmd_params.as_dict() if self.pmd_params \
            else None
        if self.pmd_in is not None:
            r["client"] = self.pmd_in.stats
        return r

    # ------------------------------------------------------------- verdict

    def connection_lost(self):
        if self.finished:
            return
        self.finished = True
        self.state = CLOSED
        for t in self.timers:
            t.cancel()
        if self.writer_task and not self.writer_task.done():
            self.writer_task.cancel()
        if self.case is None:
            return
        self.t_end = time.time()
        r = self.verdict()
        self.srv.store(self.agent, self.case.id, r)
        self.srv.log("case %s for %s: %s / %s (%d ms)%s" % (
            self.case.id, self.agent, r["behavior"], r["behaviorClose"],
            r["duration"], "" if r["behavior"] in (fc.OK, fc.INFORMATIONAL)
            and r["behaviorClose"] in (fc.OK, fc.INFORMATIONAL)
            else " -- " + r["result"] + " / " + r["resultClose"]))

    def verdict(self):
        c = self.case
        behavior, result = fc.FAILED, "Actual events differ from any expected."
        for name, evs in c.expected:
            if self.received == evs:
                behavior, result = name, "Actual events match at least one " \
                    "expected."
                break
        if c.kind in ("perf", "rtt", "pmd"):
            behavior = self.perf_behavior or fc.FAILED
            result = self.perf_result or ("no complete echo before the "
                                          "case timed out")
        ec = c.close
        if ec["closedByMe"] != self.closed_by_me:
            bclose = fc.FAILED
            rclose = "The connection was failed by the wrong endpoint."
        elif ec["requireClean"] and not self.was_clean:
            bclose, rclose = fc.UNCLEAN, "A clean closing handshake was " \
                "required here (%s)." % (self.not_clean_reason or
                                         "TCP closed without one")
        elif self.remote_close_code is not None and \
                self.remote_close_code not in ec["closeCode"]:
            bclose = fc.WRONG_CODE
            rclose = "The close code should have been %s or empty." % \
                ",".join(str(x) for x in ec["closeCode"])
        else:
            bclose, rclose = fc.OK, "Connection was properly closed."
        if ec.get("closedByWrongEndpointIsFatal") and \
                ec["closedByMe"] != self.closed_by_me:
            behavior = fc.FAILED
            result = "The client did not fail the connection itself."
        if c.wrong_code_fatal and bclose == fc.WRONG_CODE:
            behavior, result = fc.FAILED, rclose
        if c.kind == "autofrag":
            want = {1: 1, 0: -(-c.params["length"] // c.params["fragment"]) - 1}
            got = {k: self.tx_frames.get(k, 0) for k in (0, 1)}
            if want != got:
                behavior = fc.FAILED
                result = "server sent frames %r, expected %r" % (got, want)
        if self.violations and not c.informational:
            behavior = fc.FAILED
            result = "The client violated the protocol: " + \
                "; ".join(self.violations)
        if c.informational:
            if behavior == fc.OK:
                result = "Events as in the first expected outcome."
            elif behavior == fc.NON_STRICT:
                result = "Events as in the second expected outcome."
            else:
                result = "Outcome not defined by the specification."
            behavior = bclose = fc.INFORMATIONAL
        return {
            "case": self.case_index,
            "id": c.id,
            "description": c.description,
            "expectation": c.expectation,
            "agent": self.agent,
            "started": self.started,
            "duration": int(round(1000 * (self.t_end - self.t_open))),
            "reportTime": c.report_time,
            "behavior": behavior,
            "behaviorClose": bclose,
            "result": result,
            "resultClose": rclose,
            "expected": {name: [event_log(e) for e in evs]
                         for name, evs in c.expected},
            "expectedClose": c.close,
            "received": [event_log(e) for e in self.received],
            "violations": self.violations,
            "closedByMe": self.closed_by_me,
            "failedByMe": self.failed_by_me,
            "droppedByMe": self.dropped_by_me,
            "wasClean": self.was_clean,
            "wasNotCleanReason": self.not_clean_reason,
            "wasCloseHandshakeTimeout": self.close_timed_out,
            "tcpClosedFirstBy": "server" if self.dropped_by_me and
            not self.peer_eof_first else "client",
            "localCloseCode": self.local_close_code,
            "localCloseReason": self.local_close_reason,
            "remoteCloseCode": self.remote_close_code,
            "remoteCloseReason": self.remote_close_reason,
            "isServer": True,
            "rxFrameStats": {str(k): v for k, v in self.rx_frames.items()},
            "txFrameStats": {str(k): v for k, v in self.tx_frames.items()},
            "httpRequest": self.http_request,
            "httpResponse": self.http_response,
            "permessageDeflate": self.pmd_report(),
            "wirelog": self.wirelog,
        }


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9001)
    ap.add_argument("--cases", action="append", default=[],
                    help="comma-separated case patterns (default: all)")
    ap.add_argument("--exclude", action="append", default=[],
                    help="comma-separated case patterns to leave out")
    ap.add_argument("--reports", default="reports")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--time-scale", type=float, default=1.0)
    ap.add_argument("--deflate-budget", type=int, default=1 << 20)
    ap.add_argument("--deflate-scan", type=int, default=256 << 10)
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--list", action="store_true")
    a = ap.parse_args(argv)
    split = lambda xs: [p for x in xs for p in x.split(",") if p.strip()]
    a.cases = split(a.cases) or ["*"]
    a.exclude = split(a.exclude)
    return a


async def main_async(args):
    srv = Server(args)
    srv.stopping = asyncio.Event()
    ctx = wp.server_ssl_context(args.tls_cert, args.tls_key)
    server = await asyncio.start_server(srv.handle, args.host, args.port,
                                        ssl=ctx, limit=1 << 16)
    wp.announce(server.sockets[0].getsockname()[1])
    srv.log("fuzzingserver: %d cases%s" % (len(srv.cases),
                                           " (TLS)" if ctx else ""))
    async with server:
        await srv.stopping.wait()
        await asyncio.sleep(0.2)        # let the last Close go out


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.list:
        for i, c in enumerate(select_cases(fc.all_cases(), args.cases,
                                           args.exclude), 1):
            print("%d %s %s" % (i, c.id, c.description))
        return 0
    try:
        asyncio.run(main_async(args))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

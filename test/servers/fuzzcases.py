"""The conformance cases run by fuzzingserver.py, as data.

Sections 1-7, 9, 10, 12 and 13 of the Autobahn|Testsuite case list (13.8 to
13.12 are our additions, marked "(ours)"): the numbering,
the frames each case sends and the outcomes it accepts follow the published
case descriptions of crossbario/autobahn-testsuite; the wording and the
representation here are ours.

A case is a CaseDef: `steps` is a small script the server runs when the
WebSocket opens (see Session.run_steps in fuzzingserver.py), `expected` maps
a behaviour name to the exact list of events the client must produce, and
`close` says how the closing handshake must go.  Events are
("message", payload bytes, is_binary), ("pong", payload) and
("timeout", tag) (a timed step found the connection still open).

Step forms:
  ("frame", {opcode, payload, fin, rsv, payload_len, chopsize, sync})
  ("msg", payload, is_binary, fragment_size or None)
  ("raw", bytes, sync)          bytes as they are (a bare header, chops)
  ("close", code, reason)       a proper Close; the server now waits 1 s
  ("closeframe", code, reason)  a Close with any content, valid or not
  ("kill", secs)                fail the connection (Close 1001) if still up
  ("closeafter", secs)          start the closing handshake if still up
  ("later", secs, tag, steps)   run steps later; with a tag, only if the
                                connection is still OPEN, recording
                                ("timeout", tag) first
"""

from wsproto import frame_header

OK = "OK"
NON_STRICT = "NON-STRICT"
FAILED = "FAILED"
INFORMATIONAL = "INFORMATIONAL"
UNIMPLEMENTED = "UNIMPLEMENTED"

# behaviorClose values besides OK / FAILED / INFORMATIONAL
WRONG_CODE = "WRONG CODE"
UNCLEAN = "UNCLEAN"

# how the closing handshake must go
CLEAN_BY_SERVER = {"closedByMe": True, "closeCode": [1000],
                   "requireClean": True}
FAIL_1002 = {"closedByMe": False, "closeCode": [1002], "requireClean": False}
FAIL_1007 = {"closedByMe": False, "closeCode": [1007], "requireClean": False,
             "closedByWrongEndpointIsFatal": True}

KOSME = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"      # "κόσμε"
HELLO_UTF8 = "Hello-µ@ßöäüàá-UTF-8!!".encode("utf-8")
BAD_UTF8 = KOSME + b"\xed\xa0\x80" + b"edited"                # a surrogate


class CaseDef:
    def __init__(self, cid, desc, expect, steps, expected=None,
                 close=CLEAN_BY_SERVER, kind="std", suppress_close=False,
                 informational=False, wrong_code_fatal=False, wirelog=True,
                 report_time=False, **params):
        self.id = cid
        self.tuple = tuple(int(x) for x in cid.split("."))
        self.description = desc
        self.expectation = expect
        self.steps = steps
        self.expected = expected if expected is not None else []
        self.close = close
        self.kind = kind
        self.suppress_close = suppress_close
        self.informational = informational
        self.wrong_code_fatal = wrong_code_fatal
        self.wirelog = wirelog
        self.report_time = report_time
        self.params = params


def F(opcode, payload=b"", **kw):
    """A ("frame", ...) step."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    d = {"opcode": opcode, "payload": payload}
    d.update(kw)
    return ("frame", d)


def msg(payload, binary=False):
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    return ("message", payload, binary)


def pong(payload=b""):
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    return ("pong", payload)


def _sec1(cases):
    sizes = [(0, 1), (125, 1), (126, 1), (127, 1), (128, 1), (65535, 10),
             (65536, 10), (65536, 10)]
    for sub, (opcode, fill, kind) in enumerate(
            [(1, b"*", "text"), (2, b"\xfe", "binary")], 1):
        for n, (size, kill) in enumerate(sizes, 1):
            chop = 997 if n == 8 else None
            p = fill * size
            how = " written to the socket in pieces of 997 bytes" if chop else ""
            cases.append(CaseDef(
                "1.%d.%d" % (sub, n),
                "One %s message of %d bytes in a single frame%s." %
                (kind, size, how),
                "The client echoes it unchanged; then a clean close with "
                "1000 started by the server.",
                [F(opcode, p, chopsize=chop), ("kill", kill)],
                [(OK, [msg(p, opcode == 2)])]))


def _sec2(cases):
    def ping_case(n, desc, payload, chop=None, wait=1):
        cases.append(CaseDef(
            "2.%d" % n, desc,
            "A Pong with the same payload, then a clean close with 1000.",
            [F(9, payload, chopsize=chop), ("closeafter", wait)],
            [(OK, [pong(payload)])]))

    ping_case(1, "Ping with an empty payload.", b"")
    ping_case(2, "Ping with a short text payload.", b"Hello, world!")
    ping_case(3, "Ping with a short binary (not UTF-8) payload.",
              b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff")
    ping_case(4, "Ping with 125 bytes of payload (the maximum).", b"\xfe" * 125)
    cases.append(CaseDef(
        "2.5", "Ping with 126 bytes of payload (over the control frame "
        "limit).",
        "The client fails the connection at once: Close 1002 (or TCP "
        "dropped), no Pong.",
        [F(9, b"\xfe" * 126), ("kill", 1)], [(OK, [])], FAIL_1002))
    ping_case(6, "Ping with 125 bytes of payload written one byte at a time.",
              b"\xfe" * 125, chop=1, wait=2)
    for n, p in ((7, b""), (8, b"unsolicited pong payload")):
        cases.append(CaseDef(
            "2.%d" % n, "Unsolicited Pong (%s), then a Close." %
            ("empty" if not p else "with payload"),
            "Nothing comes back for the Pong; clean close with 1000.",
            [F(10, p), ("close", 1000, None), ("closeafter", 1)], [(OK, [])]))
    cases.append(CaseDef(
        "2.9", "Unsolicited Pong, then a Ping with payload.",
        "Only the Ping is answered, with its payload; clean close.",
        [F(10, b"unsolicited pong payload"), F(9, b"ping payload"),
         ("closeafter", 1)], [(OK, [pong(b"ping payload")])]))
    for n, chop in ((10, None), (11, 1)):
        pays = [("payload-%d" % i).encode() for i in range(10)]
        how = ", written one byte at a time" if chop else ""
        cases.append(CaseDef(
            "2.%d" % n, "Ten Pings with distinct payloads back to back%s." %
            how,
            "Ten Pongs with the same payloads in the same order (RFC 6455 "
            "allows answering only the last; Autobahn expects all); clean "
            "close.",
            [F(9, p, chopsize=chop) for p in pays] + [("closeafter", 3)],
            [(OK, [pong(p) for p in pays])]))


def _sec3(cases):
    hello = b"Hello, world!"
    cases.append(CaseDef(
        "3.1", "Text message with RSV = 1, the RSV3 bit (no extension "
        "negotiated).",
        "The client fails the connection: Close 1002 or TCP dropped.",
        [F(1, hello, rsv=1), ("kill", 1)], [(OK, [])], FAIL_1002))
    for n, rsv, how in ((2, 2, {}), (3, 3, {"sync": True}),
                        (4, 4, {"chopsize": 1})):
        desc = {2: "in one write", 3: "frame by frame",
                4: "one byte per write"}[n]
        cases.append(CaseDef(
            "3.%d" % n, "Text message, then the same with RSV=%d, then a "
            "Ping, %s." % (rsv, desc),
            "The first message is echoed (or the connection fails before "
            "that: NON-STRICT), then Close 1002; the Ping is never answered.",
            [F(1, hello, **how), F(1, hello, rsv=rsv, **how), F(9, **how),
             ("kill", 1)],
            [(OK, [msg(hello)]), (NON_STRICT, [])], FAIL_1002))
    cases.append(CaseDef(
        "3.5", "Binary message with RSV=5.",
        "The client fails the connection: Close 1002 or TCP dropped.",
        [F(2, b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff", rsv=5), ("kill", 1)],
        [(OK, [])], FAIL_1002))
    cases.append(CaseDef(
        "3.6", "Binary frame with RSV=6 (Autobahn's case sends opcode 2).",
        "The client fails the connection: Close 1002 or TCP dropped.",
        [F(2, hello, rsv=6), ("kill", 1)], [(OK, [])], FAIL_1002))
    cases.append(CaseDef(
        "3.7", "Close frame with RSV=7.",
        "The client fails the connection: Close 1002 or TCP dropped.",
        [F(8, rsv=7), ("kill", 1)], [(OK, [])], FAIL_1002))


def _sec4(cases):
    hello = b"Hello, world!"
    for sub, ops in ((1, (3, 4, 5, 6, 7)), (2, (11, 12, 13, 14, 15))):
        kind = "non-control" if sub == 1 else "control"
        for n, op in enumerate(ops, 1):
            cid = "4.%d.%d" % (sub, n)
            if n <= 2:
                pl = b"" if n == 1 else b"reserved opcode payload"
                cases.append(CaseDef(
                    cid, "Frame with reserved %s opcode %d%s." %
                    (kind, op, " and a payload" if pl else ""),
                    "The client fails the connection: Close 1002 or TCP "
                    "dropped.",
                    [F(op, pl), ("kill", 1)], [(OK, [])], FAIL_1002))
            else:
                how = {"chopsize": 1} if n == 5 else {}
                pl = b"" if n == 3 else hello
                cases.append(CaseDef(
                    cid, "Text message, then a frame with reserved %s "
                    "opcode %d%s, then a Ping%s." %
                    (kind, op, " and a payload" if pl else "",
                     ", one byte per write" if how else ""),
                    "The message is echoed (or not: NON-STRICT), then Close "
                    "1002; no Pong.",
                    [F(1, hello, **how), F(op, pl, **how), F(9, **how),
                     ("kill", 1)],
                    [(OK, [msg(hello)]), (NON_STRICT, [])], FAIL_1002))


def _sec5(cases):
    def fail(n, desc, steps):
        cases.append(CaseDef(
            "5.%d" % n, desc,
            "The client fails the connection: Close 1002 or TCP dropped.",
            steps + [("kill", 1)], [(OK, [])], FAIL_1002))

    fail(1, "Ping split in two fragments.",
         [F(9, b"fragment1", fin=False), F(0, b"fragment2")])
    fail(2, "Pong split in two fragments.",
         [F(10, b"fragment1", fin=False), F(0, b"fragment2")])
    ways = (("in one write", {}), ("frame by frame", {"sync": True}),
            ("one byte per write", {"chopsize": 1}))
    for i, (how, kw) in enumerate(ways):
        cases.append(CaseDef(
            "5.%d" % (3 + i), "Text message in two fragments, %s." % how,
            "The whole message is echoed; clean close.",
            [F(1, b"fragment1", fin=False, **kw), F(0, b"fragment2", **kw),
             ("closeafter", 1)],
            [(OK, [msg(b"fragment1fragment2")])]))
    for i, (how, kw) in enumerate(ways):
        cases.append(CaseDef(
            "5.%d" % (6 + i), "Text message in two fragments with a Ping "
            "between them, %s." % how,
            "The Pong comes first, then the echoed message; clean close.",
            [F(1, b"fragment1", fin=False, **kw), F(9, b"ping payload", **kw),
             F(0, b"fragment2", **kw), ("closeafter", 1)],
            [(OK, [pong(b"ping payload"), msg(b"fragment1fragment2")])]))
    for fin, base in ((True, 9), (False, 12)):
        for i, (how, kw) in enumerate(ways):
            fail(base + i, "Continuation frame (FIN=%d) with nothing to "
                 "continue, then a text message, %s." % (fin, how),
                 [F(0, b"non-continuation payload", fin=fin, **kw),
                  F(1, b"Hello, world!", **kw)])
    cases.append(CaseDef(
        "5.15", "Text message in two fragments, then a continuation (FIN=0) "
        "with nothing to continue, then a text frame.",
        "The first message is echoed (or not: NON-STRICT), then Close 1002.",
        [F(1, b"fragment1", fin=False), F(0, b"fragment2"),
         F(0, b"fragment3", fin=False), F(1, b"fragment4"), ("kill", 1)],
        [(OK, [msg(b"fragment1fragment2")]), (NON_STRICT, [])], FAIL_1002))
    for n, fin in ((16, False), (17, True)):
        fail(n, "Twice: a continuation (FIN=%d) with nothing to continue, "
             "then a text message in two fragments." % fin,
             [F(0, b"fragment1", fin=fin), F(1, b"fragment2", fin=False),
              F(0, b"fragment3")] * 2)
    fail(18, "Text message in two fragments whose second frame also has "
         "opcode text.",
         [F(1, b"fragment1", fin=False), F(1, b"fragment2")])
    frags = [("fragment%d" % i).encode() for i in range(1, 6)]
    for n, sync in ((19, False), (20, True)):
        kw = {"sync": True} if sync else {}
        cases.append(CaseDef(
            "5.%d" % n, "Text message in five fragments: two fragments, a "
            "Ping, a 1 s pause, two more fragments, another Ping, the last "
            "fragment%s." % (" (frame by frame)" if sync else ""),
            "Each Ping is answered when it arrives, before the message "
            "ends; then the whole message is echoed; clean close.",
            [F(1, frags[0], fin=False, **kw), F(0, frags[1], fin=False, **kw),
             F(9, b"pongme 1!", **kw),
             ("later", 1, None,
              [F(0, frags[2], fin=False, **kw), F(0, frags[3], fin=False, **kw),
               F(9, b"pongme 2!", **kw), F(0, frags[4], **kw),
               ("closeafter", 1)])],
            [(OK, [pong(b"pongme 1!"), pong(b"pongme 2!"),
                   msg(b"".join(frags))])]))


def utf8_tables():
    """The UTF-8 decoder test sequences of sections 6.5-6.23 (after Markus
    Kuhn's UTF-8-test.txt, as arranged by Autobahn): [(title, [(valid,
    bytes)])]."""
    t = []
    t.append(("Some valid UTF-8 sequences", [
        (True, b"hello$world"), (True, b"hello\xc2\xa2world"),
        (True, b"hello\xe2\x82\xacworld"),
        (True, b"hello\xf0\xa4\xad\xa2world"), (True, KOSME)]))
    pre = []
    for i in range(1, len(KOSME) + 1):
        try:
            KOSME[:i].decode("utf-8")
            ok = True
        except UnicodeDecodeError:
            ok = False
        pre.append((ok, KOSME[:i]))
    t.append(("All prefixes of a valid UTF-8 string with multi-byte code "
              "points", pre))
    t.append(("First possible sequence of each length", [
        (True, b"\x00"), (True, b"\xc2\x80"), (True, b"\xe0\xa0\x80"),
        (True, b"\xf0\x90\x80\x80")]))
    t.append(("First possible sequence of length 5/6 (not UTF-8)", [
        (False, b"\xf8\x88\x80\x80\x80"), (False, b"\xfc\x84\x80\x80\x80\x80")]))
    t.append(("Last possible sequence of each length", [
        (True, b"\x7f"), (True, b"\xdf\xbf"), (True, b"\xef\xbf\xbf"),
        (True, b"\xf4\x8f\xbf\xbf")]))
    t.append(("Last possible sequence of length 4/5/6 (beyond U+10FFFF)", [
        (False, b"\xf7\xbf\xbf\xbf"), (False, b"\xfb\xbf\xbf\xbf\xbf"),
        (False, b"\xfd\xbf\xbf\xbf\xbf\xbf")]))
    t.append(("Other boundary conditions", [
        (True, b"\xed\x9f\xbf"), (True, b"\xee\x80\x80"),
        (True, b"\xef\xbf\xbd"), (True, b"\xf4\x8f\xbf\xbf"),
        (False, b"\xf4\x90\x80\x80")]))
    cont = [b"\x80", b"\xbf", b"\x80\xbf", b"\x80\xbf\x80",
            b"\x80\xbf\x80\xbf", b"\x80\xbf\x80\xbf\x80",
            b"\x80\xbf\x80\xbf\x80\xbf", bytes(range(0x80, 0xbf))]
    t.append(("Unexpected continuation bytes", [(False, c) for c in cont]))
    lonely = []
    for lo, hi in ((0xc0, 0xdf), (0xe0, 0xef), (0xf0, 0xf7), (0xf8, 0xfb),
                   (0xfc, 0xfd)):
        lonely.append((False, b"".join(bytes([c, 0x20])
                                       for c in range(lo, hi))))
    t.append(("Lonely start bytes", lonely))
    last = [b"\xc0", b"\xe0\x80", b"\xf0\x80\x80", b"\xf8\x80\x80\x80",
            b"\xfc\x80\x80\x80\x80", b"\xdf", b"\xef\xbf", b"\xf7\xbf\xbf",
            b"\xfb\xbf\xbf\xbf", b"\xfd\xbf\xbf\xbf\xbf"]
    t.append(("Sequences with the last continuation byte missing",
              [(False, s) for s in last]))
    t.append(("Concatenation of incomplete sequences",
              [(False, b"".join(last))]))
    t.append(("Impossible bytes", [(False, b"\xfe"), (False, b"\xff"),
                                   (False, b"\xfe\xfe\xff\xff")]))
    t.append(("Overlong forms of an ASCII character", [(False, s) for s in (
        b"\xc0\xaf", b"\xe0\x80\xaf", b"\xf0\x80\x80\xaf",
        b"\xf8\x80\x80\x80\xaf", b"\xfc\x80\x80\x80\x80\xaf")]))
    t.append(("Maximum overlong sequences", [(False, s) for s in (
        b"\xc1\xbf", b"\xe0\x9f\xbf", b"\xf0\x8f\xbf\xbf",
        b"\xf8\x87\xbf\xbf\xbf", b"\xfc\x83\xbf\xbf\xbf\xbf")]))
    t.append(("Overlong forms of NUL", [(False, s) for s in (
        b"\xc0\x80", b"\xe0\x80\x80", b"\xf0\x80\x80\x80",
        b"\xf8\x80\x80\x80\x80", b"\xfc\x80\x80\x80\x80\x80")]))
    singles = [b"\xed\xa0\x80", b"\xed\xad\xbf", b"\xed\xae\x80",
               b"\xed\xaf\xbf", b"\xed\xb0\x80", b"\xed\xbe\x80",
               b"\xed\xbf\xbf"]
    t.append(("Single UTF-16 surrogates", [(False, s) for s in singles]))
    pairs = []
    for hi in (b"\xed\xa0\x80", b"\xed\xad\xbf", b"\xed\xae\x80",
               b"\xed\xaf\xbf"):
        for lo in (b"\xed\xb0\x80", b"\xed\xbf\xbf"):
            pairs.append((False, hi + lo))
    t.append(("Paired UTF-16 surrogates", pairs))
    nonchars = [(True, b"\xef\xbf\xbe"), (True, b"\xef\xbf\xbf")]
    for z1 in (0xf0, 0xf1, 0xf2, 0xf3, 0xf4):
        for z2 in (0x8f, 0x9f, 0xaf, 0xbf):
            if z1 == 0xf4 and z2 != 0x8f:
                continue                      # above U+10FFFF
            for z3 in (0xbe, 0xbf):
                s = bytes([z1, z2, 0xbf, z3])
                if z1 == 0xf0 and z2 == 0x8f:
                    continue                  # overlong
                nonchars.append((True, s))
    t.append(("Non-character code points (valid UTF-8)", nonchars))
    t.append(("Unicode specials such as U+FFFD", [
        (True, bytes([0xef, 0xbf, c])) for c in range(0xb9, 0xc0)]))
    return t


def _sec6(cases):
    cases.append(CaseDef(
        "6.1.1", "Empty text message.", "Echoed (empty); clean close.",
        [F(1, b""), ("closeafter", 1)], [(OK, [msg(b"")])]))
    cases.append(CaseDef(
        "6.1.2", "Text message of three empty fragments.",
        "Echoed (empty); clean close.",
        [F(1, b"", fin=False), F(0, b"", fin=False), F(0, b""),
         ("closeafter", 1)], [(OK, [msg(b"")])]))
    cases.append(CaseDef(
        "6.1.3", "Text message of three fragments, only the middle one "
        "non-empty.", "Echoed; clean close.",
        [F(1, b"", fin=False), F(0, b"middle frame payload", fin=False),
         F(0, b""), ("closeafter", 1)],
        [(OK, [msg(b"middle frame payload")])]))
    a, b = "Hello-µ@ßöä".encode(), "üàá-UTF-8!!".encode()
    cases.append(CaseDef(
        "6.2.1", "Valid UTF-8 text (%s) in one frame." % HELLO_UTF8.hex(),
        "Echoed; clean close.",
        [("msg", HELLO_UTF8, False, None), ("closeafter", 1)],
        [(OK, [msg(HELLO_UTF8)])]))
    cases.append(CaseDef(
        "6.2.2", "Valid UTF-8 text in two frames split on a code point "
        "boundary.", "Echoed; clean close.",
        [F(1, a, fin=False), F(0, b), ("closeafter", 1)],
        [(OK, [msg(a + b)])]))
    for n, p in ((3, HELLO_UTF8), (4, KOSME)):
        cases.append(CaseDef(
            "6.2.%d" % n, "Valid UTF-8 text (%s) in frames of one byte, so "
            "frames end inside code points." % p.hex(),
            "Echoed; clean close.",
            [("msg", p, False, 1), ("closeafter", 1)], [(OK, [msg(p)])]))
    for n, frag in ((1, None), (2, 1)):
        cases.append(CaseDef(
            "6.3.%d" % n, "Invalid UTF-8 text (%s)%s." %
            (BAD_UTF8.hex(), " in frames of one byte" if frag else
             " in one frame"),
            "The client fails the connection with Close 1007 (or drops "
            "TCP); nothing is echoed.",
            [("msg", BAD_UTF8, False, frag), ("kill", 1)], [(OK, [])],
            FAIL_1007))
    # 6.4.x: fail fast.  PART2 makes the text invalid (F4 90 80 80 is
    # beyond U+10FFFF, invalid at its second byte).
    p1, p2, p3 = KOSME, b"\xf4\x90\x80\x80", b"edited"
    full = p1 + p2 + p3
    fail_fast = [(OK, [("timeout", "A")]),
                 (NON_STRICT, [("timeout", "A"), ("timeout", "B")])]
    exp = ("The client fails with 1007 right after the invalid part "
           "arrives (OK); failing only when the message or frame ends is "
           "NON-STRICT; not failing is FAILED.")
    for n, parts in ((1, (p1, p2, p3)), (2, (full[:12], full[12:13],
                                             full[13:]))):
        cases.append(CaseDef(
            "6.4.%d" % n, "Invalid UTF-8 text in three frames with 1 s "
            "pauses: %s | %s | %s." % tuple(x.hex() for x in parts), exp,
            [F(1, parts[0], fin=False),
             ("later", 1, "A", [
                 F(0, parts[1], fin=False),
                 ("later", 1, "B", [F(0, parts[2]), ("kill", 1)])])],
            fail_fast, FAIL_1007))
    for n, parts in ((3, (p1, p2, p3)), (4, (full[:12], full[12:13],
                                             full[13:]))):
        cases.append(CaseDef(
            "6.4.%d" % n, "Invalid UTF-8 text in ONE frame whose payload is "
            "written in three pieces with 1 s pauses: %s | %s | %s." %
            tuple(x.hex() for x in parts), exp,
            [("raw", frame_header(1, len(full), fin=False) + parts[0], True),
             ("later", 1, "A", [
                 ("raw", parts[1], True),
                 ("later", 1, "B", [("raw", parts[2], True), F(0, b""),
                                    ("kill", 1)])])],
            fail_fast, FAIL_1007))
    for i, (title, seqs) in enumerate(utf8_tables(), 5):
        for j, (valid, p) in enumerate(seqs, 1):
            if valid:
                cases.append(CaseDef(
                    "6.%d.%d" % (i, j), "%s: valid UTF-8 text %s in one "
                    "frame." % (title, p.hex()), "Echoed; clean close.",
                    [("msg", p, False, None), ("kill", 0.5)],
                    [(OK, [msg(p)])]))
            else:
                cases.append(CaseDef(
                    "6.%d.%d" % (i, j), "%s: invalid UTF-8 text %s in one "
                    "frame." % (title, p.hex()),
                    "The client fails the connection with 1007 (or drops "
                    "TCP); nothing is echoed.",
                    [("msg", p, False, None), ("kill", 0.5)], [(OK, [])],
                    FAIL_1007))


def _sec7(cases):
    def c7(cid, desc, expect, steps, expected=None, close=CLEAN_BY_SERVER,
           **kw):
        kw.setdefault("suppress_close", True)
        kw.setdefault("wrong_code_fatal", True)
        cases.append(CaseDef(cid, desc, expect, steps + [("kill", 1)],
                             expected or [(OK, [])], close, **kw))

    c7("7.1.1", "Text message, then nothing.",
       "Echoed, then a clean close with 1000 started by the server.",
       [F(1, b"Hello World!")], [(OK, [msg(b"Hello World!")])],
       suppress_close=False)
    c7("7.1.2", "Close 1000 followed by a second (empty) Close frame.",
       "One clean close with 1000; the second Close is ignored.",
       [("close", 1000, None), F(8)])
    c7("7.1.3", "Close 1000 followed by a Ping.",
       "Clean close with 1000; the Ping after the Close is not answered.",
       [("close", 1000, None), F(9)])
    c7("7.1.4", "Close 1000 followed by a text message.",
       "Clean close with 1000; the message after the Close is ignored.",
       [("close", 1000, None), F(1, b"Hello World!")])
    c7("7.1.5", "First fragment of a text message, Close 1000, the last "
       "fragment.", "Clean close with 1000; nothing echoed.",
       [F(1, b"fragment1", fin=False), ("close", 1000, None),
        F(0, b"fragment2")])
    c7("7.1.6", "A 256 KiB text message, a short text message, Close 1000 "
       "and a Ping, back to back.",
       "Informational: whether the messages are echoed before the Close "
       "is handled depends on the implementation.",
       [F(1, b"BAsd7&jh23", payload_len=256 * 1024), F(1, b"Hello World!"),
        ("close", 1000, None), F(9)],
       [(OK, [msg(b"Hello World!")]), (NON_STRICT, [])],
       informational=True, wrong_code_fatal=False)
    c7("7.3.1", "Close with an empty payload (no code).",
       "Clean close; the reply carries 1000 or no code.",
       [("closeframe", None, b"")])
    c7("7.3.2", "Close with a 1-byte payload.",
       "Close 1002 in reply, or TCP dropped.",
       [("closeframe", None, b"a")],
       close={"closedByMe": True, "closeCode": [1002],
              "requireClean": False})
    c7("7.3.3", "Close 1000 without a reason.", "Clean close with 1000.",
       [("close", 1000, None)])
    c7("7.3.4", "Close 1000 with a reason.", "Clean close with 1000.",
       [("close", 1000, "Hello World!")])
    c7("7.3.5", "Close 1000 with a 123-byte reason (the maximum).",
       "Clean close with 1000.", [("close", 1000, "*" * 123)])
    c7("7.3.6", "Close 1000 with a 124-byte reason (payload 126 bytes: "
       "over the control frame limit).",
       "Close 1002 in reply, or TCP dropped.",
       [("closeframe", 1000, b"*" * 124)],
       close={"closedByMe": True, "closeCode": [1002],
              "requireClean": False})
    c7("7.5.1", "Close 1000 whose reason is not valid UTF-8 (%s)." %
       BAD_UTF8.hex(), "Close 1002 or 1007 in reply, or TCP dropped.",
       [("closeframe", 1000, BAD_UTF8)],
       close={"closedByMe": True, "closeCode": [1002, 1007],
              "requireClean": False})
    for i, code in enumerate([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010,
                              1011, 3000, 3999, 4000, 4999], 1):
        c7("7.7.%d" % i, "Close with the valid code %d." % code,
           "Clean close; the reply carries 1000 or the same code.",
           [("closeframe", code, b"")],
           close={"closedByMe": True, "closeCode": [1000, code],
                  "requireClean": True})
    for i, code in enumerate([0, 999, 1004, 1005, 1006, 1016, 1100, 2000,
                              2999], 1):
        c7("7.9.%d" % i, "Close with the invalid code %d." % code,
           "Close 1002 in reply, or TCP dropped.",
           [("closeframe", code, b"")],
           close={"closedByMe": True, "closeCode": [1002],
                  "requireClean": False})
    for i, code in enumerate([5000, 65535], 1):
        c7("7.13.%d" % i, "Close with code %d (outside every range)." %
           code, "Informational: the RFC does not say what to do.",
           [("closeframe", code, b"")],
           close={"closedByMe": True, "closeCode": [1000, code, 1002],
                  "requireClean": False},
           informational=True, wrong_code_fatal=False)


def _sec9(cases):
    K, M = 1024, 1024 * 1024

    def size_name(n):
        return "%d MiB" % (n // M) if n >= M else "%d KiB" % (n // K)

    def perf(cid, desc, steps, binary, pattern, length, wait):
        cases.append(CaseDef(
            cid, desc, "The message is echoed with the same type and "
            "payload (timed, never failed on time alone); clean close.",
            steps + [("closeafter", wait)], kind="perf", wirelog=False,
            report_time=True, binary=binary, pattern=pattern, length=length))

    for sub, (op, pat, waits) in enumerate(
            [(1, b"BAsd7&jh23", [10, 10, 100, 100, 100, 100]),
             (2, b"\x00\xfe\x23\xfa\xf0", [10, 10, 10, 10, 100, 100])], 1):
        for n, size in enumerate([64 * K, 256 * K, M, 4 * M, 8 * M, 16 * M], 1):
            perf("9.%d.%d" % (sub, n), "%s message of %s in one frame." %
                 ("Text" if op == 1 else "Binary", size_name(size)),
                 [F(op, pat, payload_len=size)], op == 2, pat, size,
                 waits[n - 1])
    for sub, op in ((3, 1), (4, 2)):
        for n, frag in enumerate([64, 256, K, 4 * K, 16 * K, 64 * K, 256 * K,
                                  M, 4 * M], 1):
            pat = b"*" if op == 1 else b"\xfe"
            perf("9.%d.%d" % (sub, n), "%s message of 4 MiB in fragments "
                 "of %s." % ("Text" if op == 1 else "Binary",
                             "%d bytes" % frag if frag < K else
                             size_name(frag)),
                 [("msg", pat * (4 * M), op == 2, frag)], op == 2, pat,
                 4 * M, 100)
    for sub, (op, pat) in ((5, (1, b"BAsd7&jh23")),
                           (6, (2, b"\x00\xfe\x23\xfa\xf0"))):
        for n, chop in enumerate([64, 128, 256, 512, 1024, 2048], 1):
            perf("9.%d.%d" % (sub, n), "%s message of 1 MiB in one frame, "
                 "written in pieces of %d bytes." %
                 ("Text" if op == 1 else "Binary", chop),
                 [F(op, pat, payload_len=M, chopsize=chop)], op == 2, pat, M,
                 1000)
    for sub, binary in ((7, False), (8, True)):
        for n, (size, count, wait) in enumerate(
                [(0, 1000, 60), (16, 1000, 60), (64, 1000, 60),
                 (256, 1000, 120), (1024, 1000, 240), (4096, 1000, 480)], 1):
            cases.append(CaseDef(
                "9.%d.%d" % (sub, n), "%d %s messages of %d bytes, each sent "
                "when the previous echo arrived (round-trip time)." %
                (count, "binary" if binary else "text", size),
                "Every message echoed with the same type and length "
                "(timed); clean close.",
                [("closeafter", wait)], kind="rtt", wirelog=False,
                report_time=True, binary=binary, length=size, count=count))


def _sec10(cases):
    p = b"*" * 65536
    cases.append(CaseDef(
        "10.1.1", "Text message of 64 KiB that the server fragments itself "
        "into frames of 1300 bytes.",
        "Echoed whole; clean close.",
        [("msg", p, False, 1300), ("kill", 10)], [(OK, [msg(p)])],
        kind="autofrag", fragment=1300, length=len(p)))


# ---------------------------------------------------------------------------
# permessage-deflate (RFC 7692): sections 12 and 13
#
# Autobahn's 12.x.y and 13.x.y: for each corpus (12) or server answer (13),
# 18 (size, count, timeout, auto-fragment) rows.  The server sends a message
# (consecutive slices of the corpus, wrapping around), waits for the echo,
# compares it and sends the next; the 13.x answers are Autobahn's accept1..7
# as they come out for an offer that names client_max_window_bits (Autobahn
# assumes client_no_context_takeover acceptable in every offer, RFC 7692
# §7.1.1.2).  "kind" is "pmd"; see Session.pmd_* in fuzzingserver.py.
# Counts: the full run sends Autobahn's 1000 messages per case; by default
# the server caps a case at about --deflate-budget bytes (fuzzingserver.py).

PMD_SIZES = [
    (16, 1000, 60, 0), (64, 1000, 60, 0), (256, 1000, 120, 0),
    (1024, 1000, 240, 0), (4096, 1000, 480, 0), (8192, 1000, 480, 0),
    (16384, 1000, 480, 0), (32768, 1000, 480, 0), (65536, 1000, 480, 0),
    (131072, 1000, 480, 0),
    (8192, 1000, 480, 256), (16384, 1000, 480, 256), (32768, 1000, 480, 256),
    (65536, 1000, 480, 256), (131072, 1000, 480, 256),
    (131072, 1000, 480, 1024), (131072, 1000, 480, 4096),
    (131072, 1000, 480, 32768),
]

# Autobahn's server answers of section 13 (accept1..accept7), as
# alternatives tried in order against each offer (wsdeflate.accept_offer).
PMD_ACCEPTS = [
    ("[(False, 0)]", [{}]),
    ("[(True, 0)]", [{"cnct": True}]),
    ("[(False, 8)]", [{"cbits": 8, "needs_cbits": True}]),
    ("[(False, 15)]", [{"cbits": 15, "needs_cbits": True}]),
    ("[(True, 8)]", [{"cnct": True, "cbits": 8, "needs_cbits": True}]),
    ("[(True, 15)]", [{"cnct": True, "cbits": 15, "needs_cbits": True}]),
    ("[(True, 8), (True, 0), (False, 0)]",
     [{"cnct": True, "cbits": 8, "needs_cbits": True}, {"cnct": True}, {}]),
]

PMD_EXPECT = ("Every message comes back with the same type and payload "
              "within %d s, and what the client sends keeps the agreement: "
              "RSV1 only on the first frame of a data message, valid "
              "DEFLATE ending on a block boundary, no reference beyond the "
              "agreed window or (without context takeover) into an earlier "
              "message. Then a clean close with 1000 started by the server.")


def describe_alts(alts):
    """How the server answers, in RFC 7692 terms, for descriptions."""
    out = []
    for a in alts:
        p = []
        if a.get("snct"):
            p.append("server_no_context_takeover")
        if a.get("cnct"):
            p.append("client_no_context_takeover")
        if a.get("sbits"):
            p.append("server_max_window_bits=%d" % a["sbits"])
        if a.get("cbits"):
            p.append("client_max_window_bits=%d" % a["cbits"])
        s = "permessage-deflate" + "".join("; " + x for x in p)
        if a.get("needs_cbits"):
            s += " (if the offer names client_max_window_bits)"
        out.append(s)
    return ", else ".join(out)


def pmd_case(cid, desc, alts, corpus, binary, sizes, count, wait, frags=(0,),
             modes="c", verbatim=None, min_count=4):
    return CaseDef(cid, desc, PMD_EXPECT % wait, [], kind="pmd",
                   wirelog=False, report_time=True, alts=alts, corpus=corpus,
                   binary=binary, sizes=list(sizes or ()), count=count,
                   wait=wait,
                   frags=list(frags), modes=modes, verbatim=verbatim,
                   min_count=min_count)


def _pmd_rows(cases, sub, title, alts, corpus, binary):
    for i, (size, count, wait, frag) in enumerate(PMD_SIZES, 1):
        cases.append(pmd_case(
            "%s.%d" % (sub, i),
            "%s: %d messages of %d bytes, each sent compressed when the "
            "previous echo arrived, %s. The server answers the offer with "
            "%s." % (title, count, size, "in frames of at most %d bytes" %
                     frag if frag else "in one frame", describe_alts(alts)),
            alts, corpus, binary, [size], count, wait, [frag]))


def _sec12(cases):
    import pmddata
    for j, (name, desc, size, binary) in enumerate(pmddata.CORPORA, 1):
        title = "%s (%s, %d bytes)" % (desc, "binary" if binary else "utf8",
                                       size)
        _pmd_rows(cases, "12.%d" % j, title, [{}], name, binary)


def _sec13(cases):
    import pmddata
    desc, size, binary = pmddata.INFO["json"]
    title = "%s (utf8, %d bytes)" % (desc, size)
    for j, (adesc, alts) in enumerate(PMD_ACCEPTS, 1):
        _pmd_rows(cases, "13.%d" % j, title + ", Autobahn's server accept "
                  "%s" % adesc, alts, "json", binary)
    # Our additions (not in Autobahn): every window size both ways with
    # each combination of the context takeover flags, and the corner cases
    # of RFC 7692 §7.2.3 seen from the client's side.
    mix = [64, 1000, 8192, 300, 32768, 16, 65536, 4096]
    frags = [0, 0, 1300]
    for j, (snct, cnct) in enumerate([(False, False), (True, False),
                                      (False, True), (True, True)], 8):
        for i, bits in enumerate(range(8, 16), 1):
            alt = {"snct": snct, "cnct": cnct, "sbits": bits, "cbits": bits,
                   "needs_cbits": True}
            cases.append(pmd_case(
                "13.%d.%d" % (j, i),
                "(ours) JSON corpus, 48 text messages of 16..65536 bytes, "
                "some in frames of 1300 bytes; the server answers %s." %
                describe_alts([alt]), [alt], "json", False, mix, 48, 120,
                frags, min_count=48))
    special = [
        ("server_no_context_takeover alone: the server compresses each "
         "message afresh, the client keeps its own context",
         [{"snct": True}], "json", False, mix, 48, frags, "c", None),
        ("context takeover both ways, and every third message from the "
         "server goes uncompressed (RSV1 clear): an uncompressed message "
         "must not enter the client's inflate window (RFC 7692 §6)",
         [{}], "prose", True, mix, 48, frags, "ccu", None),
        ("server_no_context_takeover, and the server ends every other "
         "message with a BFINAL block followed by 0x00 (RFC 7692 §7.2.3.4)",
         [{"snct": True}], "html", False, mix, 48, frags, "fc", None),
        ("small compressed messages sent one byte per frame, and larger "
         "ones whose last frame is empty",
         [{}], "json", False, [16, 61, 300, 2000], 24, [1, 1, -1, -1], "c",
         None),
        ("empty and tiny messages (0, 1, 2, 3 bytes), all compressed "
         "although that makes them larger",
         [{}], "json", False, [0, 1, 2, 3], 40, [0], "c", None),
        ("asymmetric windows: server_max_window_bits=8 with the default "
         "client window, on the bitmap corpus",
         [{"sbits": 8}], "bitmap", True, [300, 8192, 65536], 24, [0], "c",
         None),
        ("asymmetric windows: client_max_window_bits=9 with the default "
         "server window, on the PDF corpus (hardly compressible)",
         [{"cbits": 9, "needs_cbits": True}], "pdf", True,
         [300, 8192, 65536], 24, [0], "c", None),
        ("the example payloads of RFC 7692 §7.2.3 sent verbatim: \"Hello\" "
         "in a fixed-Huffman block, again with a back-reference into the "
         "first message, in a stored block, in two blocks, with BFINAL set "
         "plus 0x00, and an empty message as 0x00",
         [{}], None, False, None, 6, [0], "c",
         # the second refers into the first: sent as the first when the
         # client's offer made the server drop its context
         [(b"Hello", "f248cdc9c90700"), (b"Hello", "f200110000"),
          (b"Hello", "000500faff48656c6c6f00"),
          (b"Hello", "f2480500" "0000ffff" "cac9c90700"),
          (b"Hello", "f348cdc9c9070000"), (b"", "00")]),
    ]
    for i, (what, alts, corpus, binary, sizes, count, fr, modes,
            verbatim) in enumerate(special, 1):
        if corpus:
            cdesc = "%s corpus, %d %s messages of %s bytes" % (
                corpus, count, "binary" if binary else "text",
                "/".join(str(x) for x in sizes))
        else:
            cdesc = "%d text messages" % count
        cases.append(pmd_case(
            "13.12.%d" % i, "(ours) %s; %s. The server answers %s." %
            (cdesc, what, describe_alts(alts)), alts, corpus, binary, sizes,
            count, 120, fr, modes, verbatim, min_count=count))


def all_cases():
    cases = []
    for section in (_sec1, _sec2, _sec3, _sec4, _sec5, _sec6, _sec7, _sec9,
                    _sec10, _sec12, _sec13):
        section(cases)
    cases.sort(key=lambda c: c.tuple)
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids)), "duplicate case id"
    return cases


CATEGORIES = {"1": "Framing", "2": "Pings/Pongs", "3": "Reserved Bits",
              "4": "Opcodes", "5": "Fragmentation", "6": "UTF-8 Handling",
              "7": "Close Handling", "9": "Limits/Performance",
              "10": "Misc", "12": "WebSocket Compression (different "
              "payloads)", "13": "WebSocket Compression (different "
              "parameters)"}

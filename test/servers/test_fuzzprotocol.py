#!/usr/bin/python3
"""test_fuzzprotocol.py BASEURL AGENT COUNT — checks fuzzingserver.py's
control endpoints after AGENT has run all COUNT cases: getCaseCount,
getCaseInfo, getCaseStatus, a bad case number, a plain HTTP request, and
/stopServer.  Prints PASS/FAIL lines; exit status 1 on any failure."""
import json
import os
import socket
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ref_testee                                       # noqa: E402


def fetch(url, cafile):
    c = ref_testee.Connection(url, set(), cafile, collect=True, deadline=20)
    c.run()
    return c


def main():
    base, agent, count = sys.argv[1].rstrip("/"), sys.argv[2], int(sys.argv[3])
    cafile = sys.argv[4] if len(sys.argv) > 4 else None
    q = urllib.parse.quote(agent, safe="")
    failed = 0

    def check(name, cond, why=""):
        nonlocal failed
        if cond:
            print("PASS fuzzingserver:%s" % name)
        else:
            failed += 1
            print("FAIL fuzzingserver:%s %s" % (name, why))

    c = fetch(base + "/getCaseCount", cafile)
    check("getCaseCount", c.messages == [(str(count).encode(), False)] and
          c.server_close == 1000, repr(c.messages))
    c = fetch(base + "/getCaseInfo?case=1", cafile)
    info = json.loads(c.messages[0][0]) if c.messages else {}
    check("getCaseInfo", info.get("id") == "1.1.1" and
          "description" in info, repr(info))
    c = fetch("%s/getCaseStatus?case=%d&agent=%s" % (base, count, q), cafile)
    st = json.loads(c.messages[0][0]) if c.messages else {}
    check("getCaseStatus", st.get("behavior") in ("OK", "NON-STRICT",
                                                  "INFORMATIONAL"), repr(st))
    try:
        fetch("%s/runCase?case=%d&agent=%s" % (base, count + 1, q), cafile)
        check("bad-case-refused", False, "handshake succeeded")
    except ref_testee.Failed as e:
        check("bad-case-refused", "404" in str(e), str(e))
    u = urllib.parse.urlsplit(base)
    if u.scheme == "ws":
        s = socket.create_connection((u.hostname, u.port), timeout=5)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        r = s.recv(200)
        s.close()
        check("plain-http-refused", r.startswith(b"HTTP/1.1 400"), repr(r))
    c = fetch(base + "/stopServer", cafile)
    check("stopServer", c.server_close == 1000, repr(c.server_close))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

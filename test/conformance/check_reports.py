#!/usr/bin/python3
"""check_reports.py REPORTS_DIR AGENT [options] — judge a fuzzingserver run.

Reads REPORTS_DIR/index.json (Autobahn's shape) and checks the cases of
AGENT.  A case passes when its behavior is OK, NON-STRICT or INFORMATIONAL
and its behaviorClose is OK or INFORMATIONAL.

  --expect-failed PATTERNS     these cases must have behavior FAILED
  --expect-nonstrict PATTERNS  these cases must have behavior NON-STRICT
  --expect-unclean PATTERNS    these cases must have behaviorClose UNCLEAN
  --expect-unimplemented PATTERNS  these cases must have behavior
                               UNIMPLEMENTED (no permessage-deflate agreed)
  --strict                     NON-STRICT counts as a failure elsewhere, and
                               so does a client closing TCP before the
                               server (tcpClosedFirstBy "client"; RFC 6455
                               7.1.1 lets it, but Gecko waits for the FIN)
  --count N                    exactly N cases must be in the report
  --by-section                 also print the verdict counts per section

Every other case must pass.  Prints one line per problem and a summary;
exit status 1 when anything is off.  PATTERNS are comma-separated case ids
with '*' wildcards, as for fuzzingserver.py.
"""
import argparse
import json
import os
import re
import sys

GOOD = {"OK", "NON-STRICT", "INFORMATIONAL"}
GOOD_CLOSE = {"OK", "INFORMATIONAL"}


def matcher(spec):
    rx = [re.compile("^" + re.escape(p.strip()).replace(r"\*", ".*") + "$")
          for p in (spec or "").split(",") if p.strip()]
    return lambda cid: any(r.match(cid) for r in rx)


def key(cid):
    return tuple(int(x) for x in cid.split("."))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("reports")
    ap.add_argument("agent")
    ap.add_argument("--expect-failed")
    ap.add_argument("--expect-nonstrict")
    ap.add_argument("--expect-unclean")
    ap.add_argument("--expect-unimplemented")
    ap.add_argument("--by-section", action="store_true")
    ap.add_argument("--strict", action="store_true")
    ap.add_argument("--count", type=int)
    a = ap.parse_args()
    try:
        with open(os.path.join(a.reports, "index.json")) as f:
            index = json.load(f)
    except (OSError, ValueError) as e:
        print("check_reports: cannot read index.json: %s" % e)
        return 1
    cases = index.get(a.agent)
    if not cases:
        print("check_reports: no results for agent %r" % a.agent)
        return 1
    want_failed = matcher(a.expect_failed)
    want_ns = matcher(a.expect_nonstrict)
    want_unclean = matcher(a.expect_unclean)
    want_unimpl = matcher(a.expect_unimplemented)
    problems = []
    tally = {}
    sections = {}
    for cid in sorted(cases, key=key):
        r = cases[cid]
        b, bc = r["behavior"], r["behaviorClose"]
        tally[b] = tally.get(b, 0) + 1
        sec = sections.setdefault(cid.split(".")[0], {})
        sec[b] = sec.get(b, 0) + 1
        if want_unimpl(cid):
            if b != "UNIMPLEMENTED" or bc not in GOOD_CLOSE:
                problems.append("%s: expected UNIMPLEMENTED, got %s/%s" %
                                (cid, b, bc))
        elif want_failed(cid):
            if b != "FAILED":
                problems.append("%s: expected FAILED, got %s/%s" %
                                (cid, b, bc))
        elif want_unclean(cid):
            if bc != "UNCLEAN":
                problems.append("%s: expected an UNCLEAN close, got %s/%s" %
                                (cid, b, bc))
        elif want_ns(cid):
            if b != "NON-STRICT" or bc not in GOOD_CLOSE:
                problems.append("%s: expected NON-STRICT, got %s/%s" %
                                (cid, b, bc))
        elif b not in GOOD or bc not in GOOD_CLOSE or \
                (a.strict and (b == "NON-STRICT" or
                               r.get("tcpClosedFirstBy") == "client")):
            detail = ""
            try:
                with open(os.path.join(a.reports, r["reportfile"])) as f:
                    d = json.load(f)
                detail = " (%s / %s)" % (d.get("result"), d.get("resultClose"))
            except (OSError, ValueError, KeyError):
                pass
            problems.append("%s: %s/%s%s" % (cid, b, bc, detail))
    if a.count is not None and len(cases) != a.count:
        problems.append("expected %d cases, the report has %d" %
                        (a.count, len(cases)))
    for p in problems:
        print("  " + p)
    if a.by_section:
        for sec in sorted(sections, key=int):
            print("  section %s: %s" % (sec, ", ".join(
                "%s %d" % kv for kv in sorted(sections[sec].items()))))
    print("%s: %d cases, %s; %d problem(s)" % (
        a.agent, len(cases),
        ", ".join("%s %d" % kv for kv in sorted(tally.items())),
        len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

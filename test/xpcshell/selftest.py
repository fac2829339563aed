#!/usr/bin/python3
"""Self-test of the xpcshell harness (head.js) and runner.

    selftest.py --xpcshell PATH [--timeout S]

1. Unit checks of runxpcshelltests.py's manifest parser and condition
   evaluator.
2. Runs selftest/xpcshell.ini through runxpcshelltests.py with the given
   xpcshell and checks every test's outcome against its name: pass_* pass,
   skip_* are skipped, known_* are known failures, fail_* fail (each for
   the reason expected, checked in its log), and that the runner exits
   non-zero and prints the right counts, including one failed server.

Prints one line per check and ends with "N passed, N failed"; exit status
0 only when every check passed.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # leave the source directory as it was
import runxpcshelltests as runner  # noqa: E402

# name -> (status, text that must appear in the test's log or reason)
EXPECTED = {
    "pass_simple.js": ("PASS", "tail file ran"),
    "pass_sequential.js": ("PASS", ""),
    "skip_always.js": ("SKIP", "skip-if = true"),
    "known_fail.js": ("KNOWN-FAIL", "expected to fail"),
    "fail_if_but_passes.js": ("FAIL", "TEST-UNEXPECTED-PASS"),
    "fail_assert.js": ("FAIL", "one is two - 1 == 2"),
    "fail_do_check_in_callback.js": ("FAIL", '"left" == "right"'),
    "fail_uncaught.js": ("FAIL", "TypeError"),
    "fail_uncaught_callback.js": ("FAIL", "thrown from a callback"),
    "fail_do_throw.js": ("FAIL", "explicit do_throw"),
    "fail_pending.js": ("FAIL", "pending: never finished"),
    "fail_add_test_no_next.js": ("FAIL", "pending: forgets_run_next_test"),
    "fail_task_reject.js": ("FAIL", "task rejected"),
    "fail_task_assert.js": ("FAIL", "deepEqual"),
    "fail_rejects.js": ("FAIL", "Missing expected rejection"),
    "fail_cleanup.js": ("FAIL", "cleanup failed"),
    "fail_async_cleanup.js": ("FAIL", "async cleanup failed"),
    "fail_syntax.js": ("FAIL", "SyntaxError"),
    "fail_quit_early.js": ("FAIL", "no 'exiting test' line"),
    "fail_todo_passes.js": ("FAIL", "TEST-UNEXPECTED-PASS"),
    "fail_finished_too_often.js": ("FAIL", "called more often"),
    "fail_run_next_test_in_task.js": ("FAIL", "run_next_test() called from"),
    "fail_native_callback.js": ("FAIL", "thrown to native code"),
}

# Text that must never appear in the log of these tests (e.g. a test that
# must stop at its first failure).
FORBIDDEN = {
    "fail_assert.js": "not reached",
    "fail_task_reject.js": "must not run",
    "skip_always.js": "a skipped test ran",
}


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print("TEST-PASS | selftest | %s" % what)
        else:
            self.failed += 1
            print("TEST-UNEXPECTED-FAIL | selftest | %s%s" %
                  (what, (" - " + detail) if detail else ""))


def unit_checks(c):
    info = {"os": "linux", "debug": False, "bits": 64, "asan": True}
    cases = [
        ("true", True), ("false", False), ('os == "linux"', True),
        ("os == 'win'", False), ('os != "linux"', False), ("debug", False),
        ("!debug", True), ('os == "linux" && !debug', True),
        ('os == "win" || bits == 64', True), ("bits > 32", True),
        ("bits < 32", False), ('(os == "mac" || os == "linux") && asan', True),
        ("unknownthing", False), ('unknownthing == "x"', False),
        ("!(true && false)", True),
    ]
    for text, want in cases:
        try:
            got = runner.evaluate_condition(text, info)
        except runner.ConditionError as e:
            got = "error: %s" % e
        c.check(got == want, "condition %r is %s" % (text, want),
                "got %r" % (got,))
    for bad in ['os ==', '"unterminated', "a b", "(true", "os = 1"]:
        try:
            runner.evaluate_condition(bad, info)
            c.check(False, "bad condition %r is refused" % bad)
        except runner.ConditionError:
            c.check(True, "bad condition %r is refused" % bad)
    c.check(runner.any_condition('os == "win"\nos == "linux"', info),
            "a multi-line skip-if is true if any line is")

    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "sub.ini"), "w") as f:
            f.write("[test_c.js]\nskip-if = debug\n")
        with open(os.path.join(d, "xpcshell.ini"), "w") as f:
            f.write("# comment\n"
                    "[DEFAULT]\n"
                    "head = head_a.js head_b.js  # inline comment\n"
                    "skip-if = os == 'win'\n"
                    "support-files =\n"
                    "  data/a.txt\n"
                    "  data/b.txt\n"
                    "\n"
                    "[test_a.js]\n"
                    "[test_b.js]\n"
                    "head = other.js\n"
                    "skip-if =\n"
                    "  os == 'mac'\n"
                    "  bits == 32\n"
                    "run-sequentially = port\n"
                    "requesttimeoutfactor = 2\n"
                    "[include:sub.ini]\n")
        tests = runner.parse_manifest(os.path.join(d, "xpcshell.ini"))
        names = [t.name for t in tests]
        c.check(names == ["test_a.js", "test_b.js", "test_c.js"],
                "manifest sections, in order, with include", repr(names))
        a, b, cc = tests
        c.check(a.files("head") == [os.path.join(d, "head_a.js"),
                                    os.path.join(d, "head_b.js")],
                "DEFAULT head list, relative to the manifest")
        c.check(b.files("head") == [os.path.join(d, "other.js")],
                "a test's head replaces DEFAULT's")
        c.check(a.props["support-files"] == "data/a.txt\ndata/b.txt",
                "continuation lines", repr(a.props["support-files"]))
        c.check(b.props["skip-if"] == "os == 'win'\nos == 'mac'\nbits == 32",
                "skip-if combines DEFAULT's and the test's",
                repr(b.props["skip-if"]))
        c.check(cc.props["skip-if"] == "os == 'win'\ndebug",
                "an included manifest inherits DEFAULT")
        c.check(runner.skip_reason(b, {"os": "mac"}) is not None and
                runner.skip_reason(a, {"os": "linux"}) is None,
                "skip_reason follows the conditions")
        c.check("run-sequentially" in b.props and
                b.props["requesttimeoutfactor"] == "2",
                "run-sequentially and requesttimeoutfactor are kept")
        with open(os.path.join(d, "bad.ini"), "w") as f:
            f.write("key = outside\n")
        try:
            runner.parse_manifest(os.path.join(d, "bad.ini"))
            c.check(False, "a key outside a section is refused")
        except runner.ManifestError:
            c.check(True, "a key outside a section is refused")


def run_checks(c, xpcshell, timeout):
    with tempfile.TemporaryDirectory() as d:
        out_json = os.path.join(d, "results.json")
        cmd = [sys.executable, os.path.join(HERE, "runxpcshelltests.py"),
               "--xpcshell", xpcshell,
               "--manifest", os.path.join(HERE, "selftest", "xpcshell.ini"),
               "--timeout", str(timeout), "--json", out_json,
               "--server", "SELFTEST_SERVER=echo ws://selftest.invalid/; cat",
               "--server", "SELFTEST_BROKEN_SERVER=echo broken >&2; exit 3"]
        proc = subprocess.run(cmd, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              timeout=600)
        lines = proc.stdout.rstrip("\n").splitlines()
        c.check(proc.returncode == 1, "the runner exits 1 on failures",
                "exit %d" % proc.returncode)
        n_fail = sum(1 for s, _ in EXPECTED.values() if s == "FAIL") + 1
        n_pass = sum(1 for s, _ in EXPECTED.values()
                     if s in ("PASS", "KNOWN-FAIL"))
        n_skip = sum(1 for s, _ in EXPECTED.values() if s == "SKIP")
        want = "%d passed, %d failed, %d skipped" % (n_pass, n_fail, n_skip)
        c.check(lines and lines[-1] == want,
                "final line is %r" % want, repr(lines[-1:] or None))
        c.check(any("TEST-UNEXPECTED-FAIL | server SELFTEST_BROKEN_SERVER"
                    in l for l in lines),
                "a server that does not start is a failure")
        try:
            with open(out_json) as f:
                data = json.load(f)
        except (OSError, ValueError) as e:
            c.check(False, "the runner wrote --json", str(e))
            print(proc.stdout)
            return
        results = {r["name"]: r for r in data["results"]}
        for name, (status, text) in sorted(EXPECTED.items()):
            r = results.get(name)
            if r is None:
                c.check(False, "%s was run" % name)
                continue
            ok = r["status"] == status
            c.check(ok, "%s: %s" % (name, status),
                    "got %s (%s)" % (r["status"], r["reason"]))
            blob = r["log"] + "\n" + r["reason"]
            if text:
                c.check(text in blob, "%s: log mentions %r" % (name, text),
                        "log:\n" + blob)
            bad = FORBIDDEN.get(name)
            if bad:
                c.check(bad not in r["log"], "%s: log lacks %r" % (name, bad),
                        "log:\n" + r["log"])
        failed_lines = [l for l in lines
                        if l.startswith("TEST-UNEXPECTED-FAIL | fail_")]
        c.check(len(failed_lines) == n_fail - 1,
                "one TEST-UNEXPECTED-FAIL summary line per failing test",
                "%d lines" % len(failed_lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--xpcshell", required=True)
    parser.add_argument("--timeout", type=float, default=5.0,
                        help="per-test timeout for the must-time-out tests")
    opts = parser.parse_args()
    c = Checks()
    unit_checks(c)
    run_checks(c, os.path.abspath(opts.xpcshell), opts.timeout)
    print("%d passed, %d failed" % (c.passed, c.failed))
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())

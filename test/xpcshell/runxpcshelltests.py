#!/usr/bin/python3
"""Runs xpcshell tests listed in xpcshell.ini manifests.

    runxpcshelltests.py --xpcshell PATH [--manifest xpcshell.ini]...
                        [--timeout S] [--jobs N] [--verbose]
                        [--server NAME=COMMAND]... [--mozinfo KEY=VALUE]...
                        [--json FILE] [TEST_NAME]...

Each test runs in its own xpcshell process, Gecko's way:

    xpcshell -e 'const _HEAD_FILES = [...];' -e 'const _TEST_FILE = [...];'
             -e 'const _TEST_NAME = "...";' ... -f head.js
             -e '_execute_test(); quit(0);'

with the test's directory as working directory and a fresh temporary
directory (TMPDIR, and do_get_tempdir()).  A test passes when xpcshell exits
0, printed no TEST-UNEXPECTED-* line (head.js's, or the leak report's), no
sanitizer error, no report of an uncaught exception by the shell ("JavaScript
error:" for a listener that native code called, "uncaught exception" for a
script or promise job), and
head.js reached its "exiting test" line.

Manifests (xpcshell.ini):
    [DEFAULT]
    head = head_a.js head_b.js      # loaded before each test, in order
    tail =                          # loaded after
    support-files = data/*          # recorded, not copied (tests run in place)
    [test_x.js]
    skip-if = os == "win" || debug  # one condition per line, any true skips
    run-if = ...                    # all must be true
    fail-if = ...                   # expected to fail (a pass is a failure)
    run-sequentially = reason       # never alongside another test
    requesttimeoutfactor = 2        # multiplies --timeout
    [include:other.ini]             # another manifest, relative path
Conditions use mozinfo values (os, processor, bits, debug, asan, tsan,
ccov, verify; override or add with --mozinfo KEY=VALUE), string and number
literals, true/false, == != < > <= >=, ! && || and parentheses; an unknown
name is null.

Servers: each --server NAME=COMMAND is started (with /bin/sh -c) before the
tests; it must print its URL as the first line of stdout, and stop when its
stdin closes.  Every test then gets `const NAME = "URL";` — or
`const NAME = null;` if the server did not start, which also counts as one
failure with the server's output shown.

Output: TEST-START / TEST-PASS / TEST-UNEXPECTED-FAIL lines per test, the
full log of every failure, a summary, and last `N passed, N failed,
N skipped`.  Exit status 0 only when nothing failed.
"""

import argparse
import concurrent.futures
import json
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


# ---- manifests ---------------------------------------------------------

class ManifestError(Exception):
    pass


class Test:
    """One [test_x.js] section, with the DEFAULT values folded in."""

    def __init__(self, name, path, manifest, props):
        self.name = name
        self.path = path
        self.manifest = manifest
        self.props = props

    def files(self, key):
        """Paths of a space-separated file list (head, tail)."""
        base = os.path.dirname(self.manifest)
        return [os.path.join(base, f) for f in self.props.get(key, "").split()]

    def __repr__(self):
        return "Test(%r)" % self.name


# Keys whose DEFAULT value combines with the test's value instead of being
# replaced by it, as Gecko's manifestparser does for conditions.
_OR_KEYS = ("skip-if", "fail-if")
_AND_KEYS = ("run-if",)


def _strip_comment(line):
    # A comment starts a line, or follows whitespace (' #', ' ;').
    s = line.lstrip()
    if s.startswith("#") or s.startswith(";"):
        return ""
    m = re.search(r"\s[#;]", line)
    return line[:m.start()] if m else line


def parse_manifest(path, defaults=None, _seen=None):
    """Returns the list of Test objects of the manifest at path."""
    path = os.path.abspath(path)
    _seen = set() if _seen is None else _seen
    if path in _seen:
        raise ManifestError("%s: included twice (include cycle?)" % path)
    _seen.add(path)
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise ManifestError("cannot read manifest %s: %s" % (path, e))

    sections = []           # [(name, {key: value}, lineno)]
    current = None
    last_key = None
    for lineno, raw in enumerate(lines, 1):
        line = _strip_comment(raw).rstrip()
        if not line.strip():
            continue
        if line[0] in " \t" and current is not None and last_key is not None:
            # Continuation of the previous value (one condition per line).
            props = current[1]
            props[last_key] = (props[last_key] + "\n" + line.strip()).strip()
            continue
        m = re.match(r"^\[(.+)\]$", line.strip())
        if m:
            current = (m.group(1).strip(), {}, lineno)
            sections.append(current)
            last_key = None
            continue
        if current is None:
            raise ManifestError("%s:%d: key outside a section" %
                                (path, lineno))
        if "=" not in line:
            raise ManifestError("%s:%d: expected 'key = value': %r" %
                                (path, lineno, raw))
        key, value = line.split("=", 1)
        key = key.strip()
        current[1][key] = value.strip()
        last_key = key

    base = dict(defaults or {})
    tests = []
    for name, props, lineno in sections:
        if name == "DEFAULT":
            base = _merge(base, props)
            continue
        if name.startswith("include:"):
            sub = os.path.join(os.path.dirname(path), name[len("include:"):])
            tests.extend(parse_manifest(sub, _merge(base, props), _seen))
            continue
        merged = _merge(base, props)
        test_path = os.path.join(os.path.dirname(path), name)
        tests.append(Test(name, test_path, path, merged))
    return tests


def _merge(base, props):
    out = dict(base)
    for key, value in props.items():
        if key in _OR_KEYS and out.get(key):
            out[key] = out[key] + "\n" + value
        elif key in _AND_KEYS and out.get(key):
            out[key] = "(" + out[key].replace("\n", ") && (") + ") && (" + \
                value.replace("\n", ") && (") + ")"
        else:
            out[key] = value
    return out


# ---- conditions --------------------------------------------------------

class ConditionError(Exception):
    pass


_TOKEN = re.compile(r"""
    \s*(?:
      (?P<op>==|!=|<=|>=|&&|\|\||[()!<>])
    | "(?P<dq>[^"]*)"
    | '(?P<sq>[^']*)'
    | (?P<num>-?\d+(?:\.\d+)?)
    | (?P<ident>[A-Za-z_][A-Za-z0-9_.-]*)
    )""", re.VERBOSE)


def _tokenize(text):
    pos = 0
    tokens = []
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ConditionError("cannot parse condition %r at %r" %
                                 (text, text[pos:]))
        pos = m.end()
        if m.group("op"):
            tokens.append(("op", m.group("op")))
        elif m.group("dq") is not None:
            tokens.append(("lit", m.group("dq")))
        elif m.group("sq") is not None:
            tokens.append(("lit", m.group("sq")))
        elif m.group("num"):
            n = m.group("num")
            tokens.append(("lit", float(n) if "." in n else int(n)))
        else:
            tokens.append(("ident", m.group("ident")))
    return tokens


def evaluate_condition(text, values):
    """Evaluates one manifest condition against the mozinfo dict values."""
    tokens = _tokenize(text)
    pos = [0]

    def peek():
        return tokens[pos[0]] if pos[0] < len(tokens) else (None, None)

    def take(kind=None, value=None):
        tok = peek()
        if tok[0] is None or (kind and tok[0] != kind) or \
                (value and tok[1] != value):
            raise ConditionError("bad condition %r: expected %s" %
                                 (text, value or kind))
        pos[0] += 1
        return tok

    def atom():
        kind, value = peek()
        if kind == "op" and value == "(":
            take()
            v = expr_or()
            take("op", ")")
            return v
        if kind == "lit":
            take()
            return value
        if kind == "ident":
            take()
            if value == "true":
                return True
            if value == "false":
                return False
            return values.get(value)
        raise ConditionError("bad condition %r" % text)

    def comparison():
        left = atom()
        kind, value = peek()
        if kind == "op" and value in ("==", "!=", "<", ">", "<=", ">="):
            take()
            right = atom()
            if value == "==":
                return left == right
            if value == "!=":
                return left != right
            try:
                return {"<": left < right, ">": left > right,
                        "<=": left <= right, ">=": left >= right}[value]
            except TypeError:
                return False
        return left

    def unary():
        kind, value = peek()
        if kind == "op" and value == "!":
            take()
            return not unary()
        return comparison()

    def expr_and():
        v = unary()
        while peek() == ("op", "&&"):
            take()
            rhs = unary()
            v = bool(v) and bool(rhs)
        return v

    def expr_or():
        v = expr_and()
        while peek() == ("op", "||"):
            take()
            rhs = expr_and()
            v = bool(v) or bool(rhs)
        return v

    result = expr_or()
    if pos[0] != len(tokens):
        raise ConditionError("bad condition %r: trailing %r" %
                             (text, tokens[pos[0]][1]))
    return bool(result)


def any_condition(text, values):
    """True if any line of a (multi-line) condition value is true."""
    return any(evaluate_condition(line, values)
               for line in text.split("\n") if line.strip())


def default_mozinfo():
    system = platform.system().lower()
    os_name = {"darwin": "mac", "windows": "win"}.get(system, system)
    sanitizers = os.environ.get("WSCHANNEL_SANITIZERS", "")
    return {
        "os": os_name,
        "processor": platform.machine(),
        "bits": 64 if sys.maxsize > 2 ** 32 else 32,
        "debug": False,
        "asan": "address" in sanitizers or "asan" in sanitizers,
        "tsan": False,
        "ccov": False,
        "verify": False,
        "toolkit": "none",
    }


def _mozinfo_value(text):
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text)
    except ValueError:
        return text


# ---- servers -----------------------------------------------------------

class Server:
    def __init__(self, name, command):
        self.name = name
        self.command = command
        self.proc = None
        self.url = None
        self.output = []
        self.error = None

    def start(self, timeout):
        try:
            self.proc = subprocess.Popen(
                ["/bin/sh", "-c", self.command], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True, start_new_session=True)
        except OSError as e:
            self.error = "cannot run %r: %s" % (self.command, e)
            return False
        # Read the URL line without blocking forever on a silent server.
        result = {}

        def read_url():
            result["line"] = self.proc.stdout.readline()

        t = threading.Thread(target=read_url, daemon=True)
        t.start()
        t.join(timeout)
        line = result.get("line")
        if line and line.strip():
            self.url = line.strip()
            # Keep draining both pipes so the server never blocks on them.
            for pipe in (self.proc.stdout, self.proc.stderr):
                threading.Thread(target=self._drain, args=(pipe,),
                                 daemon=True).start()
            return True
        if line is None:
            self.error = "printed no URL within %ds" % timeout
        else:
            self.error = "exited without printing its URL"
        self.stop()
        try:
            err = self.proc.stderr.read()
        except (OSError, ValueError):
            err = ""
        if err:
            self.output.append(err)
        return False

    def _drain(self, pipe):
        try:
            for line in pipe:
                self.output.append(line)
        except (OSError, ValueError):
            pass

    def stop(self):
        if not self.proc:
            return
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(3)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            self.proc.wait()


# ---- running -----------------------------------------------------------

class Result:
    def __init__(self, test, status, log="", reason="", duration=0.0):
        self.test = test
        self.status = status      # PASS, FAIL, SKIP, KNOWN-FAIL
        self.log = log
        self.reason = reason
        self.duration = duration


_SANITIZER = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer)|"
                        r"runtime error: |ThreadSanitizer: ")

# The shell's reports of an exception nobody caught: "JavaScript error"
# for one thrown by a JS object that native code called (a listener), "…:
# uncaught exception: …" for a script or promise job.  head.js cannot see
# those, so the runner fails the test on them.  A failure head.js already
# logged unwinds with "xpcshell test aborted after a failure"; its report
# is no news.  head.js's own lines (TEST-…) may quote such text.
_UNCAUGHT = re.compile(r"^(?!TEST-)(?!\s*JS frame).*"
                       r"(?:uncaught exception: |JavaScript error\b)"
                       r"(?!.*(?:TestAbortError|xpcshell test aborted))")


def _js_string(s):
    return json.dumps(s)


def build_command(test, opts, servers, tmpdir, timeout):
    cmd = [opts.xpcshell]
    for server in servers:
        value = _js_string(server.url) if server.url else "null"
        cmd += ["-e", "const %s = %s;" % (server.name, value)]
    cmd += [
        "-e", "const _HEAD_FILES = %s;" % json.dumps(test.files("head")),
        "-e", "const _TAIL_FILES = %s;" % json.dumps(test.files("tail")),
        "-e", "const _TEST_FILE = %s;" % json.dumps([test.path]),
        "-e", "const _TEST_NAME = %s;" % _js_string(test.name),
        "-e", "const _TEST_TMPDIR = %s;" % _js_string(tmpdir),
        "-e", "const _HARNESS_TIMEOUT_MS = %d;" % int(timeout * 1000),
        "-f", opts.head_js,
        "-e", "_execute_test(); quit(0);",
    ]
    return cmd


def run_one(test, opts, servers, mozinfo):
    why = skip_reason(test, mozinfo)
    if why:
        return Result(test, "SKIP", reason=why)
    try:
        factor = float(test.props.get("requesttimeoutfactor", "1") or 1)
    except ValueError:
        factor = 1.0
    timeout = opts.timeout * factor
    # head.js's watchdog fires at `timeout` and names what is pending; the
    # kill below is the backstop for a loop that cannot even run it.
    kill_after = timeout + max(5.0, timeout * 0.25)
    tmpdir = tempfile.mkdtemp(prefix="xpcshell-" + test.name + "-")
    env = dict(os.environ)
    env["TMPDIR"] = tmpdir
    cmd = build_command(test, opts, servers, tmpdir, timeout)
    start = time.monotonic()
    timed_out = False
    try:
        proc = subprocess.Popen(cmd, cwd=os.path.dirname(test.path),
                                stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    except OSError as e:
        shutil.rmtree(tmpdir, ignore_errors=True)
        return Result(test, "FAIL", reason="cannot run %s: %s" %
                      (opts.xpcshell, e))
    try:
        out, _ = proc.communicate(timeout=kill_after)
    except subprocess.TimeoutExpired:
        timed_out = True
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        out, _ = proc.communicate()
    duration = time.monotonic() - start
    shutil.rmtree(tmpdir, ignore_errors=True)
    log = out.decode("utf-8", errors="replace")
    lines = log.splitlines()

    reason = ""
    if timed_out:
        reason = "timed out: killed after %.0fs" % kill_after
    elif proc.returncode != 0:
        reason = "xpcshell return code: %d" % proc.returncode
    elif any(l.startswith("TEST-UNEXPECTED-") for l in lines):
        reason = "a TEST-UNEXPECTED line was logged"
    elif any(_SANITIZER.search(l) for l in lines):
        reason = "sanitizer error"
    elif any(_UNCAUGHT.search(l) for l in lines):
        reason = "uncaught exception reported by xpcshell"
    elif not any(re.match(r"^TEST-INFO \| .* \| exiting test$", l)
                 for l in lines):
        reason = "head.js did not finish (no 'exiting test' line)"
    status = "FAIL" if reason else "PASS"

    fail_if = test.props.get("fail-if", "")
    if fail_if and any_condition(fail_if, mozinfo):
        if status == "FAIL":
            return Result(test, "KNOWN-FAIL", log, reason, duration)
        return Result(test, "FAIL", log,
                      "TEST-UNEXPECTED-PASS: passed but fail-if = %s" %
                      fail_if.replace("\n", " || "), duration)
    return Result(test, status, log, reason, duration)


def skip_reason(test, mozinfo):
    skip_if = test.props.get("skip-if", "")
    if skip_if and any_condition(skip_if, mozinfo):
        return "skip-if = " + skip_if.replace("\n", " || ")
    run_if = test.props.get("run-if", "")
    if run_if and not all(evaluate_condition(l, mozinfo)
                          for l in run_if.split("\n") if l.strip()):
        return "run-if = " + run_if.replace("\n", " && ")
    disabled = test.props.get("disabled")
    if disabled is not None:
        return "disabled" + (": " + disabled if disabled else "")
    return None


class Printer:
    """Serialises output from the worker threads."""

    def __init__(self, verbose):
        self.verbose = verbose
        self.lock = threading.Lock()

    def line(self, text):
        with self.lock:
            print(text, flush=True)

    def result(self, r):
        with self.lock:
            name = r.test.name
            if r.status == "SKIP":
                print("TEST-SKIP | %s | %s" % (name, r.reason))
            elif r.status == "PASS":
                if self.verbose:
                    print(_indent(r.log))
                print("TEST-PASS | %s | took %dms" %
                      (name, r.duration * 1000))
            elif r.status == "KNOWN-FAIL":
                if self.verbose:
                    print(_indent(r.log))
                print("TEST-KNOWN-FAIL | %s | %s" % (name, r.reason))
            else:
                print(_indent(r.log))
                print("TEST-UNEXPECTED-FAIL | %s | %s" % (name, r.reason))
            sys.stdout.flush()


def _indent(log):
    return "\n".join(">>> " + l for l in log.rstrip("\n").splitlines()) \
        if log.strip() else ">>> (no output)"


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Run xpcshell tests from xpcshell.ini manifests.",
        epilog="Final line: 'N passed, N failed, N skipped'.")
    parser.add_argument("--xpcshell",
                        default=os.environ.get("XPCSHELL", "xpcshell"),
                        help="the xpcshell binary (default $XPCSHELL)")
    parser.add_argument("--manifest", action="append",
                        help="xpcshell.ini to run (repeatable; default: "
                             "the one beside this script)")
    parser.add_argument("--head-js", default=os.path.join(HERE, "head.js"),
                        help="the harness (default: head.js beside this "
                             "script)")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds per test, times requesttimeoutfactor "
                             "(default 60)")
    parser.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1,
                        help="tests run at once (default: CPU count)")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="show the log of passing tests too")
    parser.add_argument("--server", action="append", default=[],
                        metavar="NAME=COMMAND",
                        help="start COMMAND first; tests get const NAME = "
                             "its URL (first stdout line)")
    parser.add_argument("--server-timeout", type=float, default=20.0,
                        help="seconds a server has to print its URL")
    parser.add_argument("--mozinfo", action="append", default=[],
                        metavar="KEY=VALUE",
                        help="set a value used by skip-if/run-if/fail-if")
    parser.add_argument("--json", metavar="FILE",
                        help="also write the results as JSON")
    parser.add_argument("tests", nargs="*",
                        help="run only these tests (names as in the "
                             "manifest)")
    opts = parser.parse_args(argv)
    # Piped into head(1) and the like: stop quietly, like other tools.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)

    if opts.jobs < 1:
        parser.error("--jobs must be at least 1")
    manifests = opts.manifest or [os.path.join(HERE, "xpcshell.ini")]
    opts.head_js = os.path.abspath(opts.head_js)
    if os.sep in opts.xpcshell:
        opts.xpcshell = os.path.abspath(opts.xpcshell)
    if not (os.access(opts.xpcshell, os.X_OK) or
            shutil.which(opts.xpcshell)):
        print("runxpcshelltests.py: xpcshell not found: %s" % opts.xpcshell,
              file=sys.stderr)
        print("0 passed, 1 failed, 0 skipped")
        return 1

    mozinfo = default_mozinfo()
    for item in opts.mozinfo:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error("--mozinfo wants KEY=VALUE, got %r" % item)
        mozinfo[key.strip()] = _mozinfo_value(value.strip())

    try:
        tests = []
        for m in manifests:
            tests.extend(parse_manifest(m))
        if opts.tests:
            wanted = set(opts.tests)
            unknown = wanted - {t.name for t in tests}
            if unknown:
                raise ManifestError("no such test: " +
                                    ", ".join(sorted(unknown)))
            tests = [t for t in tests if t.name in wanted]
        # Conditions are checked up front so a typo fails loudly.
        for t in tests:
            for key in ("skip-if", "run-if", "fail-if"):
                if t.props.get(key):
                    any_condition(t.props[key], mozinfo)
    except (ManifestError, ConditionError) as e:
        print("runxpcshelltests.py: %s" % e, file=sys.stderr)
        print("0 passed, 1 failed, 0 skipped")
        return 1

    printer = Printer(opts.verbose)
    suite_start = time.monotonic()
    printer.line("SUITE-START | Running %d tests" % len(tests))

    servers = []
    server_failures = []
    for spec in opts.server:
        name, sep, command = spec.partition("=")
        if not sep or not re.match(r"^[A-Za-z_$][A-Za-z0-9_$]*$", name):
            parser.error("--server wants NAME=COMMAND with NAME a JS "
                         "identifier, got %r" % spec)
        server = Server(name, command)
        if server.start(opts.server_timeout):
            printer.line("PROCESS | server %s started at %s" %
                         (name, server.url))
        else:
            server_failures.append(server)
            printer.line(_indent("".join(server.output)))
            printer.line("TEST-UNEXPECTED-FAIL | server %s | %s: %s" %
                         (name, server.error, command))
        servers.append(server)

    results = []
    try:
        parallel = [t for t in tests if "run-sequentially" not in t.props]
        sequential = [t for t in tests if "run-sequentially" in t.props]
        with concurrent.futures.ThreadPoolExecutor(opts.jobs) as pool:
            futures = []
            for t in parallel:
                futures.append(pool.submit(_run_and_print, t, opts, servers,
                                           mozinfo, printer))
            for f in futures:
                results.append(f.result())
        for t in sequential:
            results.append(_run_and_print(t, opts, servers, mozinfo,
                                          printer))
    finally:
        for server in servers:
            server.stop()

    passed = [r for r in results if r.status in ("PASS", "KNOWN-FAIL")]
    failed = [r for r in results if r.status == "FAIL"]
    skipped = [r for r in results if r.status == "SKIP"]
    n_failed = len(failed) + len(server_failures)

    printer.line("SUITE-END | took %.1fs" % (time.monotonic() - suite_start))
    printer.line("INFO | Passed: %d" % len(passed))
    printer.line("INFO | Failed: %d" % n_failed)
    printer.line("INFO | Skipped: %d" % len(skipped))
    for r in failed:
        printer.line("INFO | failed: %s (%s)" % (r.test.name, r.reason))
    for s in server_failures:
        printer.line("INFO | failed: server %s (%s)" % (s.name, s.error))

    if opts.json:
        with open(opts.json, "w", encoding="utf-8") as f:
            json.dump({
                "results": [{"name": r.test.name, "status": r.status,
                             "reason": r.reason, "log": r.log,
                             "duration": r.duration} for r in results],
                "servers": [{"name": s.name, "url": s.url,
                             "error": s.error} for s in servers],
            }, f, indent=1)

    printer.line("%d passed, %d failed, %d skipped" %
                 (len(passed), n_failed, len(skipped)))
    return 1 if n_failed else 0


def _run_and_print(test, opts, servers, mozinfo, printer):
    if skip_reason(test, mozinfo) is None:
        printer.line("TEST-START | %s" % test.name)
    result = run_one(test, opts, servers, mozinfo)
    printer.result(result)
    return result


if __name__ == "__main__":
    sys.exit(main())

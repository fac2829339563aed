#!/usr/bin/python3
"""run-bench.py — `make bench`: the benchmark suite of issue 8.

On one benchmark server (test/bench/benchserver) it measures raw TCP
(test/bench/rawclient), our channel (`wschannel bench`), the JS path (a
script listener in bin/xpcshell, js_client.js; skipped when the shell is not
built, and not on echo: its clock is Date.now()), libwebsockets
(test/bench/lws_client.c, built here), Node `ws` (node_client.js) and Python
`websockets` (py_client.py) on the issue's workloads, 3 runs each,
interleaved (every client once per round), and prints the medians as a
table with each figure as a ratio of raw TCP and of libwebsockets. Then:
RSS per idle connection (test/bench/idleconns, 10,000 connections), the
memory high-water mark while receiving 1 MiB messages (ru_maxrss of the
1 MiB run minus that of a 10-message run, per client), and user-space
instructions per message from callgrind for the receive workloads (the
difference between two counts, so start-up cost cancels out).

Missing peers are installed when possible (as root: apt-get for
libwebsockets-dev and python3-websockets; npm ci for `ws`), otherwise
skipped with a line saying why. QUICK=1 (environment) or --quick uses
small counts for a smoke run. Results also go to bench-results.json in the
build directory.

The throughput server and clients are not pinned (the channel's socket
thread and main thread, like the server, need a CPU each on this 2-CPU
machine); the echo workload runs server and client on CPU 0 (taskset), so
that the latency is the CPU's, not the scheduler's cross-CPU wake-ups.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

# key, title, ws path, ws workload, raw path, raw workload, count, size,
# quick count, one CPU
WORKLOADS = [
    ("recv16", "1,000,000 x 16 B binary receive", "/blast-binary",
     "recv-binary", "/raw", "recv", 1000000, 16, 20000, False),
    ("text1k", "200,000 x 1 KiB text receive (UTF-8 validated)",
     "/blast-text", "recv-text", "/raw", "recv", 200000, 1024, 4000, False),
    ("bin1m", "2,000 x 1 MiB binary receive", "/blast-binary", "recv-binary",
     "/raw", "recv", 2000, 1048576, 40, False),
    ("send16", "1,000,000 x 16 B binary send", "/sink", "send-binary",
     "/raw-sink", "send", 1000000, 16, 20000, False),
    ("echo32", "20,000 x 32 B echo on one CPU (taskset -c 0)", "/echo",
     "echo", "/raw-echo", "echo", 20000, 32, 500, True),
]
# callgrind: (small count, large count) per receive workload.
CALLGRIND_COUNTS = {"recv16": (10000, 110000), "text1k": (1000, 11000),
                    "bin1m": (4, 24)}
CALLGRIND_QUICK = {"recv16": (1000, 6000), "text1k": (200, 1200),
                   "bin1m": (2, 6)}
RUN_TIMEOUT = 600


def say(*a):
    print(*a, flush=True)


def is_root():
    return os.geteuid() == 0


def apt_install(pkg):
    if not is_root() or not shutil.which("apt-get"):
        return False
    say("bench: installing %s (apt-get)" % pkg)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    r = subprocess.run(["apt-get", "install", "-y", "-qq", pkg], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if r.returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        r = subprocess.run(["apt-get", "install", "-y", "-qq", pkg], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return r.returncode == 0


class Client:
    def __init__(self, name, argv, env=None, raw=False, skip=()):
        self.name, self.argv, self.env, self.raw = name, argv, env, raw
        self.skip = skip  # workload keys it does not run

    def cmd(self, base, wl):
        key, title, wpath, wwork, rpath, rwork, count, size, qc, one = wl
        if self.raw:
            return self.argv + [base + rpath, rwork]
        return self.argv + [base + wpath, wwork]


MEMWRAP = None  # test/bench/memwrap, set in main()


def run_one(argv, env=None, cpu=None, timeout=RUN_TIMEOUT):
    """Runs argv; returns (parsed JSON or None, peak RSS KiB, stderr)."""
    if cpu is not None:
        argv = ["taskset", "-c", str(cpu)] + argv
    fd, rss_file = tempfile.mkstemp(prefix="rss.")
    os.close(fd)
    if MEMWRAP:
        argv = [MEMWRAP, rss_file] + argv
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen(argv, stdout=out, stderr=err, env=full_env)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                p.kill()
                pid, status, ru = os.wait4(p.pid, 0)
                break
            time.sleep(0.005)
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        o = out.read().decode(errors="replace").strip()
        e = err.read().decode(errors="replace").strip()
    rss = ru.ru_maxrss
    try:
        with open(rss_file) as f:
            rss = int(f.read())
    except (OSError, ValueError):
        pass
    os.unlink(rss_file)
    res = None
    if p.returncode == 0:
        try:
            res = json.loads(o.splitlines()[-1])
        except (ValueError, IndexError):
            e += "\n(no JSON line: %r)" % o[:200]
    else:
        e = "exit %d: %s" % (p.returncode, e[-400:])
    return res, rss, e


class Server:
    def __init__(self, path, cpu=None):
        argv = [path]
        if cpu is not None:
            argv = ["taskset", "-c", str(cpu)] + argv
        # stderr to a file: a pipe nobody reads could block the server.
        self.err = tempfile.TemporaryFile()
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                  stderr=self.err)
        line = self.p.stdout.readline().decode()
        if not line.startswith("PORT "):
            self.p.wait()
            self.err.seek(0)
            raise RuntimeError("benchserver did not start: %s" %
                               self.err.read().decode(errors="replace"))
        self.base = "ws://127.0.0.1:%d" % int(line.split()[1])

    def stop(self):
        self.p.terminate()
        self.p.wait()
        self.err.close()


def setup_peers(args, bdir, sdir):
    """The clients that can run here, and a list of skip lines."""
    clients, skips = [], []
    clients.append(Client("raw TCP", [os.path.join(bdir, "test/bench/rawclient")],
                          raw=True))
    # Our channel: the real binary (not libtool's wrapper script, whose
    # shell would count in ru_maxrss) with the uninstalled library.
    real = os.path.join(bdir, "bin/.libs/wschannel")
    env = {"WSCHANNEL_MANIFEST":
           os.path.join(bdir, "components/wschannel.manifest")}
    if os.path.exists(real):
        env["LD_LIBRARY_PATH"] = os.path.join(bdir, ".libs")
        wsc = real
    else:
        wsc = os.path.join(bdir, "bin/wschannel")
    clients.append(Client("wschannel", [wsc, "bench"], env))
    # The JS path: a script listener in bin/xpcshell (Date.now() has
    # millisecond resolution: no echo percentiles from it).
    xpc = os.path.join(bdir, "bin/.libs/xpcshell")
    if not os.path.exists(xpc):
        xpc = os.path.join(bdir, "bin/xpcshell")
    if os.path.exists(xpc):
        clients.append(Client("JS (xpcshell)",
                              [xpc, os.path.join(sdir, "test/bench/js_client.js")],
                              env, skip=("echo32",)))
    else:
        skips.append("SKIP JS (xpcshell): bin/xpcshell is not built")

    # libwebsockets
    lws_ok = subprocess.run(["pkg-config", "--exists", "libwebsockets"]).returncode == 0
    if not lws_ok and apt_install("libwebsockets-dev"):
        lws_ok = subprocess.run(["pkg-config", "--exists", "libwebsockets"]).returncode == 0
    if lws_ok:
        src = os.path.join(sdir, "test/bench/lws_client.c")
        exe = os.path.join(bdir, "test/bench/lws_client")
        flags = subprocess.run(["pkg-config", "--cflags", "--libs",
                                "libwebsockets"], capture_output=True,
                               text=True).stdout.split()
        if (not os.path.exists(exe) or
                os.path.getmtime(exe) < os.path.getmtime(src)):
            r = subprocess.run(["gcc", "-std=c11", "-D_GNU_SOURCE", "-O2",
                                "-g", "-o", exe, src] + flags,
                               capture_output=True, text=True)
            if r.returncode != 0:
                lws_ok = False
                skips.append("SKIP libwebsockets: lws_client.c does not "
                             "build: " + r.stderr.strip()[-300:])
        if lws_ok:
            ver = subprocess.run(["pkg-config", "--modversion",
                                  "libwebsockets"], capture_output=True,
                                 text=True).stdout.strip()
            clients.append(Client("libwebsockets %s" % ver.rstrip("-"), [exe]))
    elif not skips:
        skips.append("SKIP libwebsockets: libwebsockets-dev is not installed "
                     "(as root: apt-get install -y libwebsockets-dev)")

    # Node ws
    node = shutil.which("node")
    if not node and apt_install("nodejs"):
        node = shutil.which("node")
    servers = os.path.join(sdir, "test/xpcshell/servers")
    nenv = {"NODE_PATH": os.path.join(servers, "node_modules")}
    if node:
        def has_ws():
            return subprocess.run([node, "-e", "require('ws')"],
                                  env=dict(os.environ, **nenv),
                                  capture_output=True).returncode == 0
        ok = has_ws()
        if not ok and shutil.which("npm"):
            say("bench: installing the Node peers (npm ci in %s)" % servers)
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund"],
                           cwd=servers, capture_output=True)
            ok = has_ws()
        if ok:
            ver = subprocess.run(
                [node, "-p", "require('ws/package.json').version"],
                env=dict(os.environ, **nenv), capture_output=True,
                text=True).stdout.strip()
            nver = subprocess.run([node, "--version"], capture_output=True,
                                  text=True).stdout.strip()
            clients.append(Client("Node ws %s (node %s)" % (ver, nver),
                                  [node, os.path.join(sdir, "test/bench/node_client.js")],
                                  nenv))
        else:
            skips.append("SKIP Node ws: the ws package is missing "
                         "(npm ci --prefix test/xpcshell/servers)")
    else:
        skips.append("SKIP Node ws: node is not installed "
                     "(as root: apt-get install -y nodejs npm)")

    # Python websockets
    py = "/usr/bin/python3"
    chk = [py, "-c", "import websockets; print(websockets.__version__)"]
    r = subprocess.run(chk, capture_output=True, text=True)
    if r.returncode != 0 and apt_install("python3-websockets"):
        r = subprocess.run(chk, capture_output=True, text=True)
    if r.returncode == 0:
        clients.append(Client("Python websockets %s" % r.stdout.strip(),
                              [py, os.path.join(sdir, "test/bench/py_client.py")]))
    else:
        skips.append("SKIP Python websockets: not importable by %s "
                     "(as root: apt-get install -y python3-websockets)" % py)
    return clients, skips


def machine_info():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "model": model,
            "kernel": platform.release(),
            "date": datetime.datetime.now(datetime.timezone.utc)
            .strftime("%Y-%m-%d %H:%M UTC")}


def fmt_rate(x):
    if x is None:
        return "-"
    if x >= 1e6:
        return "%.2f M" % (x / 1e6)
    if x >= 1e3:
        return "%.1f k" % (x / 1e3)
    return "%.0f" % x


def fmt_ratio(x):
    return "-" if x is None else "%.2fx" % x


def callgrind_ir(client, base, wl, count, bdir):
    key, title, wpath, wwork, rpath, rwork, _c, size, qc, one = wl
    fd, out = tempfile.mkstemp(prefix="cg.", dir=bdir)
    os.close(fd)
    argv = (["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out] +
            client.argv + [base + wpath, wwork, str(count), str(size)])
    res, _rss, err = run_one(argv, client.env, timeout=1800)
    ir = None
    try:
        with open(out) as f:
            for line in f:
                if line.startswith("summary:") or line.startswith("totals:"):
                    ir = int(line.split()[1])
    except (OSError, ValueError):
        pass
    finally:
        try:
            os.unlink(out)
        except OSError:
            pass
    if res is None:
        return None, err
    return ir, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--builddir", default=".")
    ap.add_argument("--srcdir", default=os.path.join(os.path.dirname(
        os.path.abspath(__file__)), "..", ".."))
    ap.add_argument("--cflags", default="")
    ap.add_argument("--sanflags", default="")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", default="", help="comma-separated workloads")
    ap.add_argument("--no-idle", action="store_true")
    ap.add_argument("--no-callgrind", action="store_true")
    args = ap.parse_args()
    quick = args.quick or os.environ.get("QUICK", "") not in ("", "0")
    bdir = os.path.abspath(args.builddir)
    sdir = os.path.abspath(args.srcdir)
    global MEMWRAP
    MEMWRAP = os.path.join(bdir, "test/bench/memwrap")
    mi = machine_info()
    say("# wschannel benchmark (%s)" % ("QUICK: small counts, not for "
                                         "quoting" if quick else "full"))
    say("machine: %d CPUs, %s, Linux %s; %s" % (mi["nproc"], mi["model"],
                                                  mi["kernel"], mi["date"]))
    say("build: CFLAGS='%s'%s" % (args.cflags.strip(),
                                   " SANITIZERS='%s' (figures are not "
                                   "representative)" % args.sanflags.strip()
                                   if args.sanflags.strip() else ""))
    clients, skips = setup_peers(args, bdir, sdir)
    for s in skips:
        say(s)
    say("clients: " + ", ".join(c.name for c in clients))
    wls = [w for w in WORKLOADS if not args.only or w[0] in args.only.split(",")]
    can_pin = shutil.which("taskset") is not None

    server = Server(os.path.join(bdir, "test/bench/benchserver"))
    pinned = Server(os.path.join(bdir, "test/bench/benchserver"),
                    cpu=0 if can_pin else None)
    results = {}  # (wl key, client name) -> list of runs
    failures = []
    try:
        for rnd in range(args.runs):
            for wl in wls:
                key, title, wpath, wwork, rpath, rwork, count, size, qc, one = wl
                n = qc if quick else count
                base = pinned.base if one else server.base
                for c in clients:
                    if key in c.skip:
                        continue
                    argv = c.cmd(base, wl) + [str(n), str(size)]
                    res, rss, err = run_one(argv, c.env,
                                            cpu=0 if (one and can_pin) else None)
                    if res is None:
                        failures.append("%s / %s: %s" % (key, c.name, err))
                        say("FAILED %s / %s: %s" % (key, c.name, err))
                        continue
                    res["maxrss_kib"] = rss
                    res["round"] = rnd
                    results.setdefault((key, c.name), []).append(res)
            say("round %d of %d done" % (rnd + 1, args.runs))

        # Medians.
        med = {}
        for (key, name), runs in results.items():
            m = {"seconds": statistics.median(r["seconds"] for r in runs),
                 "msgs": runs[0]["msgs"], "bytes": runs[0]["bytes"],
                 "runs": len(runs),
                 "maxrss_kib": statistics.median(r["maxrss_kib"] for r in runs)}
            if "rtt_p50_us" in runs[0]:
                m["p50"] = statistics.median(r["rtt_p50_us"] for r in runs)
                m["p99"] = statistics.median(r["rtt_p99_us"] for r in runs)
            m["msg_s"] = m["msgs"] / m["seconds"] if m["seconds"] > 0 else None
            m["mb_s"] = m["bytes"] / m["seconds"] / 1e6 if m["seconds"] > 0 else None
            med[(key, name)] = m

        lws = next((c.name for c in clients if c.name.startswith("libwebsockets")), None)

        def paired(key, name, ref):
            """Median over rounds of name's figure / ref's in the same round
            (throughput; p50 latency for echo): runs of one round are
            minutes apart at most, so a machine whose speed drifts (other
            work on it) moves both sides of each ratio together."""
            a = {r["round"]: r for r in results.get((key, name), [])}
            b = {r["round"]: r for r in results.get((key, ref), [])}
            ratios = []
            for rnd in sorted(set(a) & set(b)):
                x, y = a[rnd], b[rnd]
                if "rtt_p50_us" in x and "rtt_p50_us" in y:
                    if y["rtt_p50_us"] > 0:
                        ratios.append(x["rtt_p50_us"] / y["rtt_p50_us"])
                elif x["seconds"] > 0 and y["seconds"] > 0:
                    ratios.append((x["bytes"] / x["seconds"]) /
                                  (y["bytes"] / y["seconds"]))
            return statistics.median(ratios) if ratios else None

        say("")
        say("Medians of %d interleaved runs. x raw / x lws: median of the "
            "per-round ratios to raw TCP / libwebsockets; throughput (higher "
            "is better), for echo the p50 latency (lower is better)." % args.runs)
        say("")
        say("| workload | client | msg/s | MB/s | x raw | x lws | p50 us | p99 us | max RSS MiB |")
        say("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for wl in wls:
            key, title = wl[0], wl[1]
            for c in clients:
                if key in c.skip:
                    continue
                m = med.get((key, c.name))
                if not m:
                    say("| %s | %s | failed | | | | | | |" % (key, c.name))
                    continue
                m["x_raw"] = paired(key, c.name, "raw TCP")
                m["x_lws"] = paired(key, c.name, lws) if lws else None
                say("| %s | %s | %s | %.1f | %s | %s | %s | %s | %.1f |" % (
                    key, c.name, fmt_rate(m["msg_s"]), m["mb_s"],
                    fmt_ratio(m["x_raw"]), fmt_ratio(m["x_lws"]),
                    "%.1f" % m["p50"] if "p50" in m else "",
                    "%.1f" % m["p99"] if "p99" in m else "",
                    m["maxrss_kib"] / 1024.0))
        say("")
        for wl in wls:
            say("%s: %s" % (wl[0], wl[1]))

        # Memory for a 1 MiB message: the 1 MiB run's high-water mark over a
        # 10-message run's, in units of the message.
        mem = {}
        if any(w[0] == "bin1m" for w in wls):
            say("")
            say("Memory high-water mark receiving 1 MiB messages (ru_maxrss of "
                "the 1 MiB run minus that of 10 x 16 B), in messages:")
            for c in clients:
                if c.raw or (("bin1m", c.name) not in med):
                    continue
                wl = next(w for w in WORKLOADS if w[0] == "recv16")
                res, rss0, err = run_one(c.cmd(server.base, wl) + ["10", "16"],
                                         c.env)
                if res is None:
                    say("  %s: baseline failed: %s" % (c.name, err))
                    continue
                hwm = med[("bin1m", c.name)]["maxrss_kib"]
                mem[c.name] = {"hwm_kib": hwm, "base_kib": rss0,
                               "per_message": (hwm - rss0) / 1024.0}
                say("  %-32s %7.1f MiB - %6.1f MiB = %5.2fx the message" % (
                    c.name, hwm / 1024.0, rss0 / 1024.0, (hwm - rss0) / 1024.0))

        idle = None
        if not args.no_idle:
            n = 500 if quick else 10000
            say("")
            say("Idle connections: %d ws:// connections in one process "
                "(test/bench/idleconns), each echoing one 32 B message:" % n)
            exe = os.path.join(bdir, "test/bench/.libs/idleconns")
            env = dict(clients[1].env)
            if not os.path.exists(exe):
                exe = os.path.join(bdir, "test/bench/idleconns")
            res, rss, err = run_one([exe, server.base + "/echo", str(n)], env,
                                    timeout=1800)
            if res is None:
                say("  failed: %s" % err)
                failures.append("idle: " + err)
            else:
                idle = res
                say("  %d bytes (%.1f KiB) RSS per connection (%.1f MiB at "
                    "%d, %.1f MiB at %d); all open and echoed in %.1f s" % (
                        res["bytes_per_conn"], res["bytes_per_conn"] / 1024.0,
                        res["rss_base_kib"] / 1024.0, n // 10,
                        res["rss_kib"] / 1024.0, n, res["open_seconds"]))

        # The floor under echo for any client that keeps Gecko's threading
        # model: the listener's thread and the socket thread hand each
        # message over twice per round trip (test/bench/hopbench).
        hop = None
        if any(w[0] == "echo32" for w in wls):
            exe = os.path.join(bdir, "test/bench/hopbench")
            argv = [exe, "2000" if quick else "20000"]
            if can_pin:
                argv = ["taskset", "-c", "0"] + argv
            p50s = []
            for _ in range(args.runs):
                res, _rss, err = run_one(argv, {})
                if res is None:
                    say("hopbench failed: %s" % err)
                    break
                p50s.append(res["rt_p50_us"])
            raw = med.get(("echo32", "raw TCP"), {}).get("p50")
            if p50s and raw:
                hop = statistics.median(p50s)
                say("")
                say("Thread hand-off floor (test/bench/hopbench, one CPU): two "
                    "hops between threads (eventfd, poll, read) take %.1f us "
                    "p50; raw ping-pong + two hops = %.1f us = %.2fx raw, "
                    "before any work of the channel." % (
                        hop, raw + hop, (raw + hop) / raw))

        cg = {}
        if not args.no_callgrind:
            say("")
            if not shutil.which("valgrind"):
                apt_install("valgrind")
            if not shutil.which("valgrind"):
                say("SKIP callgrind: valgrind is not installed "
                    "(as root: apt-get install -y valgrind)")
            else:
                say("User-space instructions per message (callgrind, all "
                    "threads; (Ir(n2) - Ir(n1)) / (n2 - n1)):")
                counts = CALLGRIND_QUICK if quick else CALLGRIND_COUNTS
                for wl in wls:
                    if wl[0] not in counts:
                        continue
                    n1, n2 = counts[wl[0]]
                    for c in clients:
                        if c.raw or not (c.name == "wschannel" or
                                         c.name.startswith("libwebsockets")):
                            continue
                        ir1, e1 = callgrind_ir(c, server.base, wl, n1, bdir)
                        ir2, e2 = callgrind_ir(c, server.base, wl, n2, bdir)
                        if ir1 is None or ir2 is None:
                            say("  %s / %s: failed: %s" % (wl[0], c.name, e1 or e2))
                            continue
                        per = (ir2 - ir1) / (n2 - n1)
                        cg[(wl[0], c.name)] = per
                        say("  %-7s %-24s %12.0f instructions/message "
                            "(%.2f per payload byte)" % (wl[0], c.name, per,
                                                         per / wl[7]))

        # Targets (issue 8, item 4).
        say("")
        say("Targets:")

        def verdict(label, value, limit, higher):
            if value is None or limit is None:
                say("  %-52s not measured" % label)
                return
            ok = value >= limit if higher else value <= limit
            say("  %-52s %s (%.2f, target %s %.2f)" % (
                label, "MET" if ok else "NOT MET", value,
                ">=" if higher else "<=", limit))

        ws = "wschannel"
        nodec = next((c.name for c in clients if c.name.startswith("Node")), None)
        verdict("1 MiB receive / raw TCP", paired("bin1m", ws, "raw TCP"), 0.85, True)
        verdict("16 B receive / libwebsockets", paired("recv16", ws, lws) if lws else None, 2.0, True)
        verdict("16 B send / libwebsockets", paired("send16", ws, lws) if lws else None, 2.0, True)
        verdict("1 KiB text receive / libwebsockets", paired("text1k", ws, lws) if lws else None, 2.0, True)
        verdict("1 KiB text receive / Node ws", paired("text1k", ws, nodec) if nodec else None, 1.0, True)
        verdict("echo p50 / raw TCP ping-pong p50", paired("echo32", ws, "raw TCP"), 1.5, False)
        verdict("idle connection RSS, KiB", idle["bytes_per_conn"] / 1024.0 if idle else None, 16.0, False)
        verdict("memory for a 1 MiB message, x the message",
                mem[ws]["per_message"] if ws in mem else None, 2.0, False)
        verdict("JS path 1 KiB text / C path",
                paired("text1k", "JS (xpcshell)", ws), 0.3, True)

        out = {"machine": mi, "quick": quick, "cflags": args.cflags,
               "sanflags": args.sanflags, "skips": skips,
               "medians": {"%s|%s" % k: v for k, v in med.items()},
               "runs": {"%s|%s" % k: v for k, v in results.items()},
               "memory_1mib": mem, "idle": idle, "hop_rt_p50_us": hop,
               "callgrind": {"%s|%s" % k: v for k, v in cg.items()},
               "failures": failures}
        with open(os.path.join(bdir, "bench-results.json"), "w") as f:
            json.dump(out, f, indent=1)
        say("")
        say("results: %s" % os.path.join(bdir, "bench-results.json"))
    finally:
        server.stop()
        pinned.stop()
    if failures:
        say("%d run(s) failed" % len(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

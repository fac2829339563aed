/* js_client.js — the JS path of `make bench`: a script listener in
 * bin/xpcshell, through the bridge, on the same channel component.
 *
 * usage: xpcshell js_client.js URL WORKLOAD COUNT SIZE
 * Same contract as `wschannel bench` (src/tools/wschannel_bench.c):
 * count=COUNT&size=SIZE appended to the query; recv-binary, recv-text,
 * send-binary, echo (quit(3) otherwise); one JSON line; seconds from
 * onStart to the COUNT-th message (recv, echo) or the sink's reply (send).
 * The clock is Date.now() (milliseconds; runs here last 0.1 s or more), and
 * for echo's percentiles too, so they are coarse. Sends keep at most 1 MiB
 * un-acknowledged (onAcknowledge), as wschannel bench does.
 */
"use strict";

const WORKLOADS = ["recv-binary", "recv-text", "send-binary", "echo"];
const WINDOW = 1 << 20;

function fail(why) {
  dump("js_client: " + why + "\n");
  quit(1);
}

function main(args) {
  if (args.length !== 4) {
    dump("usage: xpcshell js_client.js URL WORKLOAD COUNT SIZE\n");
    quit(2);
  }
  const [url, workload] = args;
  if (!WORKLOADS.includes(workload)) {
    dump("js_client: unknown workload '" + workload + "'\n");
    quit(3);
  }
  const count = Number(args[2]), size = Number(args[3]);
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(size) ||
      size < 0) {
    dump("js_client: COUNT >= 1 and SIZE >= 0 are integers\n");
    quit(2);
  }
  const full = url + (url.includes("?") ? "&" : "?") +
      "count=" + count + "&size=" + size;
  const chan = Cc["@mozilla.org/network/protocol;1?name=ws"]
      .createInstance(Ci.nsIWebSocketChannel);
  const payload = "x".repeat(size);
  let t0 = 0, t1 = 0, msgs = 0, bytes = 0, done = false, stopped = false;
  let status = 0, failed = null;
  let sent = 0, unacked = 0, unackedMsgs = 0, doneSent = false;
  let pingAt = 0;
  const rtts = [];

  function sendMore() {
    while (sent < count && (unackedMsgs === 0 || unacked + size <= WINDOW)) {
      chan.sendBinaryMsg(payload);
      sent++;
      unacked += size;
      unackedMsgs++;
    }
    if (sent === count && !doneSent) {
      doneSent = true;
      chan.sendMsg("done");
    }
  }

  function message(binary, data) {
    if (done || failed) {
      return;
    }
    if (workload === "send-binary") {
      t1 = Date.now();
      const m = /^(\d+) (\d+)$/.exec(data);
      if (binary || !m) {
        failed = "unexpected reply from the sink";
      } else {
        msgs = Number(m[1]);
        bytes = Number(m[2]);
        done = true;
      }
      chan.close(1000, "");
      return;
    }
    if (data.length !== size || binary !== (workload !== "recv-text")) {
      failed = "unexpected message type or size";
      chan.close(1000, "");
      return;
    }
    msgs++;
    bytes += data.length;
    if (workload === "echo") {
      const now = Date.now();
      rtts.push(now - pingAt);
      if (msgs === count) {
        t1 = now;
        done = true;
        chan.close(1000, "");
      } else {
        pingAt = Date.now();
        chan.sendBinaryMsg(payload);
      }
      return;
    }
    if (msgs === count) {
      t1 = Date.now();
      done = true;
    }
  }

  const listener = {
    QueryInterface(iid) {
      if (iid.equals(Ci.nsIWebSocketListener) || iid.equals(Ci.nsISupports)) {
        return this;
      }
      throw Components.results.NS_ERROR_NO_INTERFACE;
    },
    onStart(ctx) {
      t0 = Date.now();
      if (workload === "send-binary") {
        sendMore();
      } else if (workload === "echo") {
        pingAt = Date.now();
        chan.sendBinaryMsg(payload);
      }
    },
    onStop(ctx, st) {
      stopped = true;
      status = st;
    },
    onMessageAvailable(ctx, msg) {
      message(false, msg);
    },
    onBinaryMessageAvailable(ctx, msg) {
      message(true, msg);
    },
    onAcknowledge(ctx, n) {
      if (workload !== "send-binary" || unackedMsgs === 0) {
        return;
      }
      unackedMsgs--;
      unacked -= n;
      sendMore();
    },
    onServerClose(ctx, code, reason) {
      if (code !== 1000) {
        failed = "the server closed with code " + code;
      }
    },
  };
  chan.asyncOpen(Services.io.newURI(full, null, null), "", listener, null);
  const thread = Services.tm.currentThread;
  while (!stopped) {
    thread.processNextEvent(true);
  }
  if (failed) {
    fail(failed);
  }
  if (status !== 0) {
    fail("connection failed: 0x" + (status >>> 0).toString(16));
  }
  if (!done) {
    fail("the connection ended after " + msgs + " of " + count + " messages");
  }
  const out = { msgs, bytes, seconds: (t1 - t0) / 1000 };
  if (workload === "echo") {
    rtts.sort((a, b) => a - b);
    out.rtt_p50_us = rtts[Math.floor(rtts.length / 2)] * 1000;
    out.rtt_p99_us = rtts[Math.floor(rtts.length * 0.99)] * 1000;
  }
  print(JSON.stringify(out));
  quit(0);
}

main(arguments);

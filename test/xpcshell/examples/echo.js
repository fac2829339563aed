/* echo.js — the demo: opens a WebSocket channel by contract ID, exchanges
 * a few messages with an echo server and prints what happens.
 *
 *   xpcshell -e 'const ECHO_URL = "ws://127.0.0.1:PORT/";' echo.js
 *   xpcshell echo.js ws://127.0.0.1:PORT/       (if the shell passes args)
 *
 * run-demo.sh starts a local echo server and runs this.  A plain script,
 * as a Gecko add-on or chrome script would use the channel: no harness. */

const args = typeof scriptArgs !== "undefined" ? scriptArgs
           : typeof arguments !== "undefined" ? arguments : [];
const url = typeof ECHO_URL !== "undefined" ? ECHO_URL : args[0];
if (!url) {
  print("usage: xpcshell echo.js ws://HOST:PORT/");
  quit(2);
}

function resultName(code) {
  for (let name in Cr) {
    if (Cr[name] === code) {
      return name;
    }
  }
  return "0x" + (code >>> 0).toString(16);
}

function hex(bytes) {
  return Array.from(bytes, c => c.charCodeAt(0).toString(16).padStart(2, "0"))
              .join(" ");
}

// What we send, one at a time, each after the previous echo.
const outgoing = [
  ["text", "Hello from xpcshell!"],
  ["text", "UTF-8 too: h\u00e9llo w\u00f6rld \u2603 \ud83d\ude80"],
  ["binary", "\x00\x01\x02\x7f\x80\xfe\xff"],
];

const chan = Cc["@mozilla.org/network/protocol;1?name=ws"]
               .createInstance(Ci.nsIWebSocketChannel);
chan.protocol = "chat";

let done = false;
let exitCode = 1;

function sendNext() {
  let next = outgoing.shift();
  if (!next) {
    print("closing with 1000 \"demo finished\"");
    chan.close(Ci.nsIWebSocketChannel.CLOSE_NORMAL, "demo finished");
    return;
  }
  let [kind, data] = next;
  if (kind === "text") {
    print("sending text:    " + JSON.stringify(data));
    chan.sendMsg(data);
  } else {
    print("sending binary:  " + hex(data));
    chan.sendBinaryMsg(data);
  }
}

const listener = {
  onStart(aContext) {
    print("connected to " + chan.URI.spec + " (subprotocol \"" +
          chan.protocol + "\")");
    sendNext();
  },
  onMessageAvailable(aContext, aMsg) {
    print("received text:   " + JSON.stringify(aMsg));
    sendNext();
  },
  onBinaryMessageAvailable(aContext, aMsg) {
    print("received binary: " + hex(aMsg));
    sendNext();
  },
  onAcknowledge(aContext, aSize) {
    print("  (" + aSize + " bytes written to the socket)");
  },
  onServerClose(aContext, aCode, aReason) {
    print("server closed: " + aCode + " " + JSON.stringify(aReason));
  },
  onStop(aContext, aStatusCode) {
    print("stopped: " + resultName(aStatusCode));
    exitCode = aStatusCode === Cr.NS_OK ? 0 : 1;
    done = true;
  },
};

print("opening " + url);
chan.asyncOpen(Services.io.newURI(url, null, null), "http://localhost",
               listener, null);

// Give up after 15 s rather than hang if something goes wrong.
const timer = Cc["@mozilla.org/timer;1"].createInstance(Ci.nsITimer);
timer.initWithCallback({
  notify() {
    print("timed out");
    done = true;
  },
}, 15000, Ci.nsITimer.TYPE_ONE_SHOT);

const thread = Services.tm.currentThread;
while (!done) {
  thread.processNextEvent(true);
}
timer.cancel();
quit(exitCode);

/* head_websocket.js — shared helpers of the WebSocket xpcshell tests.
 *
 * The echo servers are started by the runner, not by the tests (a script
 * cannot start processes: there is no process component), and reach the
 * tests as constants defined with -e before head.js:
 *   WS_ECHO_PY    ws://127.0.0.1:PORT/ of servers/echo_server.py
 *                 (Python `websockets`)
 *   WS_ECHO_NODE  ws://127.0.0.1:PORT/ of servers/echo_server.js
 *                 (Node `ws`)
 *   WS_REFUSED    ws://127.0.0.1:PORT/ of a port that refuses connections
 *                 (servers/closed_port.py)
 * (run-suite.sh passes `--server WS_ECHO_PY=...` etc. to
 * runxpcshelltests.py; a server that failed to start is defined as null).  By hand:
 *   xpcshell -e 'const WS_ECHO_PY = "ws://127.0.0.1:8765/";' \
 *            -f head.js -f head_websocket.js -f test_websocket_echo.js \
 *            -e '_execute_test(); quit(0);'
 * Both servers echo every message as received and close on request with
 * the path /close?code=N&reason=R; subprotocols "chat" and "superchat".
 */

/* Text messages that must survive UTF-8 both ways: ASCII, Latin-1, BMP,
 * astral (a surrogate pair in JS), empty, and an embedded NUL. */
var WS_TEXT_MESSAGES = [
  "hello",
  "h\u00e9llo w\u00f6rld",
  "\u2603 snowman, \u20ac euro, \u65e5\u672c\u8a9e",
  "\ud834\udd1e clef (U+1D11E, four bytes in UTF-8)",
  "",
  "nul\u0000inside",
];

/* Every byte value 0-255, as Gecko passes binary data: one JS char per
 * byte. */
var WS_ALL_BYTES = (function () {
  let s = "";
  for (let i = 0; i < 256; i++) {
    s += String.fromCharCode(i);
  }
  return s;
})();

/* The URL of the server `name` ("WS_ECHO_PY", "WS_ECHO_NODE" or
 * "WS_REFUSED");
 * fails the test with the reason when it is not available. */
function wsServerURL(name) {
  let url;
  switch (name) {
    case "WS_ECHO_PY":
      url = typeof WS_ECHO_PY === "undefined" ? undefined : WS_ECHO_PY;
      break;
    case "WS_ECHO_NODE":
      url = typeof WS_ECHO_NODE === "undefined" ? undefined : WS_ECHO_NODE;
      break;
    case "WS_REFUSED":
      url = typeof WS_REFUSED === "undefined" ? undefined : WS_REFUSED;
      break;
    default:
      do_throw("unknown server name " + name);
  }
  if (url === undefined) {
    do_throw(name + " is not defined: run the test with " +
             "runxpcshelltests.py --server " + name + "=... (see " +
             "run-suite.sh), or define it with -e before head.js");
  }
  if (url === null) {
    do_throw("the " + name + " server did not start (see the " +
             "runner's log; for Node, `ws` must be installed: npm ci " +
             "--prefix test/xpcshell/servers)");
  }
  return url;
}

/* [label, name] of each echo server; tests run against all of them. */
var WS_ECHO_SERVERS = [
  ["python-websockets", "WS_ECHO_PY"],
  ["node-ws", "WS_ECHO_NODE"],
];

/* A new, unopened ws:// (or wss://) channel, by contract ID. */
function makeWebSocketChannel(scheme) {
  return Cc["@mozilla.org/network/protocol;1?name=" + (scheme || "ws")]
    .createInstance(Ci.nsIWebSocketChannel);
}

function wsNewURI(spec) {
  return Services.io.newURI(spec, null, null);
}

/* Number of bytes of s in UTF-8 (what onAcknowledge reports for text). */
function utf8Length(s) {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      n += 1;
    } else if (c < 0x800) {
      n += 2;
    } else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4; // with the low surrogate that follows
      i++;
    } else {
      n += 3;
    }
  }
  return n;
}

/* Expects func to throw an XPCOM exception with .result === Cr[name]. */
function expectResult(func, name, what) {
  Assert.throws(func, e => e !== null && typeof e === "object" &&
                e.result === Cr[name], (what || "call") + " throws " + name);
}

/* A promise-based connection for add_task tests, in the manner of Gecko's
 * WebSocketConnection helper:
 *   let conn = new WebSocketConnection();
 *   await conn.open(url, { protocol: "chat" });   // resolves on onStart,
 *                                                 // rejects on early onStop
 *   conn.send("text"); conn.sendBinary(bytes);
 *   let msg = await conn.receive();               // {binary, data}
 *   let size = await conn.acknowledged();         // next onAcknowledge
 *   conn.close(1000, "bye");
 *   let status = await conn.finished;             // onStop's status
 * Every listener call is also recorded in conn.events, in order. */
class WebSocketConnection {
  constructor(scheme) {
    this.channel = makeWebSocketChannel(scheme);
    this.events = [];
    this.serverClose = null;     // {code, reason} after onServerClose
    this._messages = [];
    this._messageWaiters = [];
    this._acks = [];
    this._ackWaiters = [];
    this._started = false;
    this._stopped = false;
    this.finished = new Promise(resolve => {
      this._resolveFinished = resolve;
    });
  }

  open(url, options) {
    options = options || {};
    if (options.protocol !== undefined) {
      this.channel.protocol = options.protocol;
    }
    let self = this;
    return new Promise((resolve, reject) => {
      let listener = {
        onStart(ctx) {
          self.events.push(["start"]);
          self._started = true;
          resolve(self);
        },
        onStop(ctx, status) {
          self.events.push(["stop", status]);
          self._stopped = true;
          if (!self._started) {
            let e = new Error("onStop(" + _result_name(status) +
                              ") without onStart");
            e.result = status;
            reject(e);
          }
          for (let w of self._messageWaiters.splice(0)) {
            w.reject(new Error("connection stopped: " +
                               _result_name(status)));
          }
          for (let w of self._ackWaiters.splice(0)) {
            w.reject(new Error("connection stopped: " +
                               _result_name(status)));
          }
          self._resolveFinished(status);
        },
        onMessageAvailable(ctx, msg) {
          self.events.push(["message", msg]);
          self._deliver({ binary: false, data: msg });
        },
        onBinaryMessageAvailable(ctx, msg) {
          self.events.push(["binary", msg]);
          self._deliver({ binary: true, data: msg });
        },
        onAcknowledge(ctx, size) {
          self.events.push(["ack", size]);
          let w = self._ackWaiters.shift();
          if (w) {
            w.resolve(size);
          } else {
            self._acks.push(size);
          }
        },
        onServerClose(ctx, code, reason) {
          self.events.push(["serverclose", code, reason]);
          self.serverClose = { code, reason };
        },
      };
      this.channel.asyncOpen(wsNewURI(url), options.origin || "", listener,
                             null);
    });
  }

  _deliver(msg) {
    let w = this._messageWaiters.shift();
    if (w) {
      w.resolve(msg);
    } else {
      this._messages.push(msg);
    }
  }

  send(text) {
    this.channel.sendMsg(text);
  }

  sendBinary(bytes) {
    this.channel.sendBinaryMsg(bytes);
  }

  receive() {
    if (this._messages.length) {
      return Promise.resolve(this._messages.shift());
    }
    if (this._stopped) {
      return Promise.reject(new Error("connection stopped"));
    }
    return new Promise((resolve, reject) => {
      this._messageWaiters.push({ resolve, reject });
    });
  }

  acknowledged() {
    if (this._acks.length) {
      return Promise.resolve(this._acks.shift());
    }
    if (this._stopped) {
      return Promise.reject(new Error("connection stopped"));
    }
    return new Promise((resolve, reject) => {
      this._ackWaiters.push({ resolve, reject });
    });
  }

  close(code, reason) {
    this.channel.close(code === undefined ? 1000 : code, reason || "");
  }
}

/* permessage-deflate (RFC 7692) end to end through XPCOM, against Python
 * `websockets` (servers/deflate_server.py, WS_DEFLATE_PY) and Node `ws`
 * (servers/deflate_server.js, WS_DEFLATE_NODE), with compression on (each
 * library's defaults and explicit parameters) and off (server side, and
 * pref network.websocket.extensions.permessage-deflate = false on ours):
 *  - the offer on the wire is exactly "permessage-deflate;
 *    client_max_window_bits", and nothing with the pref off;
 *  - the `extensions` attribute is exactly what the server answered;
 *  - text and binary messages up to 70 000 bytes (compressible and not,
 *    UTF-8 of every length, empty, all byte values) come back identical,
 *    sent one by one and pipelined (context takeover across messages in
 *    flight);
 *  - onAcknowledge reports the size before compression;
 *  - the bytes that reach the server show that we compressed (a 70 000
 *    byte text arrives in far fewer bytes) or did not, and the bytes the
 *    server wrote that it compressed the echo we inflated. */

const PMD_PREF = "network.websocket.extensions.permessage-deflate";
const PMD_OFFER = "permessage-deflate; client_max_window_bits";

/* The servers, defined by the runner (--server NAME=COMMAND, see
 * run-suite.sh); head_websocket.js knows only the echo servers. */
function deflateServerURL(name) {
  let url = name === "WS_DEFLATE_PY"
    ? (typeof WS_DEFLATE_PY === "undefined" ? undefined : WS_DEFLATE_PY)
    : (typeof WS_DEFLATE_NODE === "undefined" ? undefined : WS_DEFLATE_NODE);
  if (url === undefined) {
    do_throw(name + " is not defined: run with runxpcshelltests.py " +
             "--server " + name + "=... (see run-suite.sh)");
  }
  if (url === null) {
    do_throw("the " + name + " server did not start (see the runner's " +
             "log; for Node, `ws` must be installed: npm ci --prefix " +
             "test/xpcshell/servers)");
  }
  return url;
}

/* Per server, the configurations (the query string of the URL) and the
 * exact answer each library gives to our offer.  websockets answers its
 * defaults (12-bit windows both ways), ws accepts with no parameters; with
 * explicit parameters both list them, in their own order.  Python
 * websockets cannot compress with an 8-bit window (zlib refuses it), so
 * only the client window goes down to 8 (our deflater: 9-bit window with
 * Z_RLE, distances of 1). */
const CONFIGS = {
  WS_DEFLATE_PY: [
    ["", "permessage-deflate; server_max_window_bits=12; " +
         "client_max_window_bits=12"],
    ["?snct&cnct&smwb=10&cmwb=9",
     "permessage-deflate; server_no_context_takeover; " +
     "client_no_context_takeover; server_max_window_bits=10; " +
     "client_max_window_bits=9"],
    ["?smwb=9&cmwb=8",
     "permessage-deflate; server_max_window_bits=9; client_max_window_bits=8"],
    ["?snct", "permessage-deflate; server_no_context_takeover"],
    ["?cnct&smwb=15&cmwb=15",
     "permessage-deflate; client_no_context_takeover; " +
     "server_max_window_bits=15; client_max_window_bits=15"],
    ["?off", ""],
  ],
  WS_DEFLATE_NODE: [
    ["", "permessage-deflate"],
    ["?snct&cnct&smwb=10&cmwb=9",
     "permessage-deflate; client_max_window_bits=9; " +
     "server_no_context_takeover; client_no_context_takeover; " +
     "server_max_window_bits=10"],
    ["?smwb=8&cmwb=8&threshold=0",
     "permessage-deflate; client_max_window_bits=8; server_max_window_bits=8"],
    ["?cnct&threshold=0", "permessage-deflate; client_no_context_takeover"],
    ["?off", ""],
  ],
};

/* Deterministic test data. */
function lcg(seed) {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x >>> 16;
  };
}

const PROSE = "Habe nun, ach! Philosophie, Juristerei und Medizin, und " +
  "leider auch Theologie durchaus studiert, mit heißem Bemühn. Da steh " +
  "ich nun, ich armer Tor! und bin so klug als wie zuvor; \u2603 \u65e5 " +
  "\ud834\udd1e ";

/* Compressible text of about n UTF-8 bytes, varied so that deflate must
 * work for it (not one repeated block). */
function compressibleText(n, seed) {
  let rnd = lcg(seed);
  let words = PROSE.split(" ").map(w => [w, utf8Length(w) + 1]);
  let parts = [];
  let len = 0;
  while (len < n) {
    let [w, wlen] = words[rnd() % words.length];
    parts.push(w + (rnd() % 7 === 0 ? "\n" : " "));
    len += wlen;
  }
  return parts.join("");
}

/* n bytes (one char per byte) either compressible or pseudo-random. */
function binaryData(n, seed, random) {
  let rnd = lcg(seed);
  let parts = [];
  for (let i = 0; i < n; i++) {
    parts.push(String.fromCharCode(random ? rnd() & 0xff
                                          : (i % 251) ^ ((i >> 9) & 3)));
  }
  return parts.join("");
}

let _messages = null;

function messageSet() {
  if (_messages) {
    return _messages;
  }
  let msgs = _messages = WS_TEXT_MESSAGES.map(t => ["text", t]);
  msgs.push(["binary", WS_ALL_BYTES], ["binary", ""],
            ["text", compressibleText(70000, 1)],
            ["binary", binaryData(70000, 2, false)],
            ["binary", binaryData(70000, 3, true)],
            ["text", "x".repeat(70000)]);
  for (let i = 0; i < 20; i++) {
    msgs.push(["text", compressibleText(200 + 400 * i, 10 + i)]);
  }
  return msgs;
}

function sizeOf([kind, data]) {
  return kind === "text" ? utf8Length(data) : data.length;
}

function sendOne(conn, [kind, data]) {
  if (kind === "text") {
    conn.send(data);
  } else {
    conn.sendBinary(data);
  }
}

/* "" if the echo is right, else what is wrong (kept short: the data can
 * be 70 KB). */
function echoProblem(msg, [kind, data], what) {
  if (msg.binary !== (kind === "binary")) {
    return what + ": came back as " + (msg.binary ? "binary" : "text");
  }
  if (msg.data !== data) {
    let i = 0;
    while (i < data.length && msg.data[i] === data[i]) {
      i++;
    }
    return what + ": " + kind + " of " + data.length + " chars came back " +
      "as " + msg.data.length + " chars, first difference at " + i;
  }
  return "";
}

function checkEcho(msg, m, what) {
  let p = echoProblem(msg, m, what);
  Assert.ok(!p, p || what + " round-trips");
}

async function command(conn, text) {
  conn.send(text);
  await conn.acknowledged();
  let msg = await conn.receive();
  Assert.ok(!msg.binary, text + " answered as text");
  return JSON.parse(msg.data);
}

async function openChecked(url, expected) {
  let conn = new WebSocketConnection();
  await conn.open(url);
  Assert.equal(conn.channel.extensions, expected,
               url + ": the extensions attribute is the server's answer");
  let req = await command(conn, "__request__");
  Assert.equal(req.extensions, PMD_OFFER, "the offer on the wire");
  Assert.equal(req.response, expected === "" ? null : expected,
               "the server's record of its answer");
  return conn;
}

async function exercise(serverName, query, expected) {
  let url = deflateServerURL(serverName) + query;
  info("-- " + serverName + " " + url + " expecting '" + expected + "'");
  let conn = await openChecked(url, expected);
  let msgs = messageSet();

  // One at a time: acknowledged size, then the echo.
  let problems = [];
  let acks = [];
  for (let i = 0; i < msgs.length; i++) {
    sendOne(conn, msgs[i]);
    acks.push(await conn.acknowledged());
    let p = echoProblem(await conn.receive(), msgs[i], "message " + i);
    if (p) {
      problems.push(p);
    }
  }
  Assert.deepEqual(acks, msgs.map(sizeOf),
                   "onAcknowledge has each size before compression");
  Assert.deepEqual(problems, [], msgs.length + " messages echoed one by one");

  // Pipelined: all sent before any echo is read.
  for (let m of msgs) {
    sendOne(conn, m);
  }
  acks = [];
  for (let i = 0; i < msgs.length; i++) {
    acks.push(await conn.acknowledged());
  }
  Assert.deepEqual(acks, msgs.map(sizeOf), "pipelined: acknowledged sizes");
  for (let i = 0; i < msgs.length; i++) {
    let p = echoProblem(await conn.receive(), msgs[i],
                        "pipelined message " + i);
    if (p) {
      problems.push(p);
    }
  }
  Assert.deepEqual(problems, [], msgs.length + " messages echoed pipelined");

  // Did our side compress?  A highly compressible 70 000-byte text costs
  // the server a few hundred bytes when it was, more than 70 000 if not.
  let before = await command(conn, "__stats__");
  let big = "x".repeat(35000) + compressibleText(35000, 99);
  conn.send(big);
  await conn.acknowledged();
  checkEcho(await conn.receive(), ["text", big], "stats message");
  let after = await command(conn, "__stats__");
  let wire = after.bytesIn - before.bytesIn;
  let back = after.bytesOut - before.bytesOut;
  info("a 70 000-byte text went to the server as " + wire + " bytes and " +
       "came back as " + back);
  if (expected) {
    Assert.ok(wire < 35000, "we compressed (" + wire + " bytes)");
    Assert.ok(back < 35000, "the server compressed, we inflated (" + back +
              " bytes)");
  } else {
    Assert.ok(wire > utf8Length(big), "not compressed (" + wire + " bytes)");
    Assert.ok(back > utf8Length(big), "not compressed (" + back + " bytes)");
  }

  conn.close(1000, "done");
  Assert.equal(await conn.finished, Cr.NS_OK, "clean close");
}

add_task(async function deflate_python_websockets() {
  for (let [query, expected] of CONFIGS.WS_DEFLATE_PY) {
    await exercise("WS_DEFLATE_PY", query, expected);
  }
});

add_task(async function deflate_node_ws() {
  for (let [query, expected] of CONFIGS.WS_DEFLATE_NODE) {
    await exercise("WS_DEFLATE_NODE", query, expected);
  }
});

add_task(async function both_servers_concurrently() {
  await Promise.all([
    exercise("WS_DEFLATE_PY", "", CONFIGS.WS_DEFLATE_PY[0][1]),
    exercise("WS_DEFLATE_NODE", "?threshold=0", "permessage-deflate"),
  ]);
});

add_task(async function pref_off_no_offer() {
  Assert.equal(Services.prefs.getBoolPref(PMD_PREF), true,
               "permessage-deflate is on by default");
  Services.prefs.setBoolPref(PMD_PREF, false);
  try {
    for (let name of ["WS_DEFLATE_PY", "WS_DEFLATE_NODE"]) {
      let conn = new WebSocketConnection();
      await conn.open(deflateServerURL(name));
      Assert.equal(conn.channel.extensions, "", name + ": nothing agreed");
      let req = await command(conn, "__request__");
      Assert.equal(req.extensions, null, name + ": nothing offered");
      Assert.equal(req.response, null, name + ": nothing answered");
      let text = compressibleText(20000, 5);
      conn.send(text);
      Assert.equal(await conn.acknowledged(), utf8Length(text));
      checkEcho(await conn.receive(), ["text", text], name + " echo");
      conn.close(1000, "");
      Assert.equal(await conn.finished, Cr.NS_OK);
    }
  } finally {
    Services.prefs.setBoolPref(PMD_PREF, true);
  }
});

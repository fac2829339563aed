#!/usr/bin/env node
// WebSocket echo server for the xpcshell tests, on the Node `ws` package
// (declared in package.json beside this file; `npm ci` in this directory, or
// NODE_PATH pointing at a node_modules that has it).
//
// Usage: node echo_server.js [--port N]   (default: a free port)
//
// Prints its base URL (ws://127.0.0.1:PORT/) as the first line of stdout once
// it listens, then serves until stdin ends or it is killed.  Same paths and
// subprotocols as echo_server.py:
//   /  (any other path)       echo every message as received (text/binary)
//   /close?code=N&reason=R    close right after the handshake with N and R
// Subprotocols: the first client-offered one of ("chat", "superchat").
"use strict";

let WebSocketServer;
try {
  ({ WebSocketServer } = require("ws"));
} catch (e) {
  // A missing module is a broken test setup, not a reason to skip.
  process.stderr.write(
    "echo_server.js: the Node module 'ws' is not installed: run " +
    "`npm ci --prefix " + __dirname + "` (CI does this), or set NODE_PATH " +
    "to a node_modules that has it (" + e.message.split("\n")[0] + ")\n");
  process.exit(2);
}

const SUPPORTED_SUBPROTOCOLS = ["chat", "superchat"];

let port = 0;
const i = process.argv.indexOf("--port");
if (i >= 0) port = Number(process.argv[i + 1]);

const server = new WebSocketServer({
  host: "127.0.0.1",
  port,
  perMessageDeflate: false,
  handleProtocols(protocols) {
    // `protocols` is a Set in client order.
    for (const p of protocols) {
      if (SUPPORTED_SUBPROTOCOLS.includes(p)) return p;
    }
    return false;
  },
});

server.on("connection", (ws, req) => {
  const url = new URL(req.url, "ws://127.0.0.1/");
  if (url.pathname === "/close") {
    const code = Number(url.searchParams.get("code") || 1000);
    ws.close(code, url.searchParams.get("reason") || "");
    return;
  }
  ws.on("message", (data, isBinary) => {
    ws.send(data, { binary: isBinary });
  });
  ws.on("error", () => {});
});

server.on("listening", () => {
  process.stdout.write(`ws://127.0.0.1:${server.address().port}/\n`);
});

// End of stdin means the runner has gone.
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();

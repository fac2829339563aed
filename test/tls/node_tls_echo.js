#!/usr/bin/env node
// wss:// echo servers on the Node `ws` package over https.createServer, for
// the TLS tests. The `ws` module comes from test/xpcshell/servers (its
// package.json pins it; `npm ci` there, as build/check does) or NODE_PATH.
//
// Usage: node node_tls_echo.js CERTDIR
// Listens on 127.0.0.1 with CERTDIR/server.pem + server.key (made by
// make_certs.py) and prints ONE line once all listen:
//   PORTS tls12=N tls13=M
// (TLS 1.2 only and TLS 1.3 only), then echoes every message with its type
// until stdin ends or it is killed.
"use strict";

const fs = require("fs");
const https = require("https");
const path = require("path");

let WebSocketServer;
try {
  ({ WebSocketServer } = require("ws"));
} catch (e) {
  try {
    ({ WebSocketServer } = require(path.join(__dirname, "..", "xpcshell",
                                             "servers", "node_modules", "ws")));
  } catch (e2) {
    process.stderr.write("node_tls_echo.js: the Node module 'ws' is not " +
      "installed: run `npm ci` in test/xpcshell/servers (" +
      e2.message.split("\n")[0] + ")\n");
    process.exit(2);
  }
}

const dir = process.argv[2];
const key = fs.readFileSync(path.join(dir, "server.key"));
const cert = fs.readFileSync(path.join(dir, "server.pem"));

function start(version) {
  return new Promise((resolve) => {
    const server = https.createServer({
      key, cert, minVersion: version, maxVersion: version,
      ALPNProtocols: ["http/1.1"],
    });
    const wss = new WebSocketServer({ server, perMessageDeflate: false,
                                      maxPayload: 0x7fffffff });
    wss.on("connection", (ws) => {
      ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
      ws.on("error", () => {});
    });
    server.listen(0, "127.0.0.1", () => resolve(server.address().port));
  });
}

Promise.all([start("TLSv1.2"), start("TLSv1.3")]).then(([p12, p13]) => {
  process.stdout.write(`PORTS tls12=${p12} tls13=${p13}\n`);
});
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();

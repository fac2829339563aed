#!/usr/bin/env node
// WebSocket echo server with permessage-deflate for the xpcshell tests, on
// the Node `ws` package (package.json beside this file; `npm ci` here).
//
// Usage: node deflate_server.js [--port N]   (default: a free port)
//
// Prints its base URL (ws://127.0.0.1:PORT/) as the first line of stdout,
// then serves until stdin ends or it is killed.  Same URLs and commands as
// deflate_server.py:
//   /?QUERY   echo every message as received; QUERY configures
//             permessage-deflate for this connection:
//               (empty)   ws's defaults (`perMessageDeflate: true`)
//               off       compression off
//               snct, cnct, smwb=N, cmwb=N   serverNoContextTakeover,
//                         clientNoContextTakeover, serverMaxWindowBits,
//                         clientMaxWindowBits (with ws's other defaults)
//               threshold=N  compress only messages of at least N bytes
//                         (ws's default is 1024)
//   text "__stats__"    answered with {"bytesIn": N, "bytesOut": N}, the raw
//                       bytes read and written on this TCP connection
//   text "__request__"  answered with {"extensions": request header or
//                       null, "response": the answer or null}
"use strict";

const http = require("http");
let WebSocketServer;
try {
  ({ WebSocketServer } = require("ws"));
} catch (e) {
  process.stderr.write(
    "deflate_server.js: the Node module 'ws' is not installed: run " +
    "`npm ci --prefix " + __dirname + "` (" + e.message.split("\n")[0] +
    ")\n");
  process.exit(2);
}

let port = 0;
const i = process.argv.indexOf("--port");
if (i >= 0) port = Number(process.argv[i + 1]);

// One WebSocketServer per configuration (its options are fixed).
const servers = new Map();

function optionsFor(params) {
  if (params.has("off")) return false;
  const custom = ["snct", "cnct", "smwb", "cmwb", "threshold"]
    .some(k => params.has(k));
  if (!custom) return true;
  const o = {};
  if (params.has("snct")) o.serverNoContextTakeover = true;
  if (params.has("cnct")) o.clientNoContextTakeover = true;
  if (params.has("smwb")) o.serverMaxWindowBits = Number(params.get("smwb"));
  if (params.has("cmwb")) o.clientMaxWindowBits = Number(params.get("cmwb"));
  if (params.has("threshold")) o.threshold = Number(params.get("threshold"));
  return o;
}

function serverFor(url) {
  const options = optionsFor(url.searchParams);
  const key = JSON.stringify(options);
  let wss = servers.get(key);
  if (!wss) {
    wss = new WebSocketServer({ noServer: true, perMessageDeflate: options,
                                maxPayload: 0 });
    servers.set(key, wss);
  }
  return wss;
}

const httpServer = http.createServer((req, res) => {
  res.writeHead(426, { "Content-Type": "text/plain" });
  res.end("WebSocket only\n");
});

httpServer.on("upgrade", (req, socket, head) => {
  const url = new URL(req.url, "ws://127.0.0.1/");
  const wss = serverFor(url);
  const extRequest = req.headers["sec-websocket-extensions"] || null;
  let extResponse = null;
  // ws emits "headers" synchronously inside handleUpgrade (no verifyClient
  // here), so this listener sees this request's response only.
  const onHeaders = (headers) => {
    for (const h of headers) {
      const m = /^Sec-WebSocket-Extensions: (.*)$/i.exec(h);
      if (m) extResponse = m[1];
    }
  };
  wss.on("headers", onHeaders);
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.on("message", (data, isBinary) => {
      if (!isBinary && data.length < 16) {
        const text = data.toString();
        if (text === "__stats__") {
          ws.send(JSON.stringify({ bytesIn: socket.bytesRead,
                                   bytesOut: socket.bytesWritten }));
          return;
        }
        if (text === "__request__") {
          ws.send(JSON.stringify({ extensions: extRequest,
                                   response: extResponse }));
          return;
        }
      }
      ws.send(data, { binary: isBinary });
    });
    ws.on("error", () => {});
  });
  wss.removeListener("headers", onHeaders);
});

httpServer.listen(port, "127.0.0.1", () => {
  process.stdout.write(`ws://127.0.0.1:${httpServer.address().port}/\n`);
});

// End of stdin means the runner has gone.
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();

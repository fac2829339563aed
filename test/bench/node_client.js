#!/usr/bin/env node
// node_client.js — the Node `ws` peer of `make bench`.
//
// usage: node node_client.js URL WORKLOAD COUNT SIZE
// Same contract as `wschannel bench` (src/tools/wschannel_bench.c):
// count=COUNT&size=SIZE appended to the query; recv-binary, recv-text,
// send-binary, echo (exit 3 otherwise); one JSON line; seconds on the
// monotonic clock (process.hrtime) from 'open' to the COUNT-th message (recv,
// echo) or the sink's reply (send). Sends keep at most WINDOW bytes whose
// write callback has not run (the same window as wschannel bench).
// Compression off; UTF-8 validated by ws. `ws` comes from NODE_PATH or from
// test/xpcshell/servers/node_modules (npm ci --prefix test/xpcshell/servers).
'use strict';
const path = require('path');

let WebSocket;
try {
  WebSocket = require('ws');
} catch (e) {
  try {
    WebSocket = require(path.join(__dirname, '..', 'xpcshell', 'servers',
                                  'node_modules', 'ws'));
  } catch (e2) {
    console.error('node_client: the ws package is missing ' +
                  '(npm ci --prefix test/xpcshell/servers)');
    process.exit(1);
  }
}

const WORKLOADS = ['recv-binary', 'recv-text', 'send-binary', 'echo'];
const WINDOW = Number(process.env.WSCHANNEL_BENCH_WINDOW || (1 << 20));

function main() {
  const argv = process.argv.slice(2);
  if (argv.length !== 4) {
    console.error('usage: node_client.js URL WORKLOAD COUNT SIZE');
    process.exit(2);
  }
  const [url, workload] = argv;
  if (!WORKLOADS.includes(workload)) {
    console.error(`node_client: unknown workload '${workload}'`);
    process.exit(3);
  }
  const count = Number(argv[2]), size = Number(argv[3]);
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(size) ||
      size < 0) {
    console.error('node_client: COUNT >= 1 and SIZE >= 0 are integers');
    process.exit(2);
  }
  const full = url + (url.includes('?') ? '&' : '?') +
      `count=${count}&size=${size}`;
  const ws = new WebSocket(full, {perMessageDeflate: false,
                                  maxPayload: 0x7fffffff});
  let t0 = 0n, t1 = 0n, msgs = 0, bytes = 0, done = false, failed = false;
  const rtts = [];
  let pingAt = 0n;
  const payload = Buffer.alloc(size, 'x');

  function fail(why) {
    if (!failed) console.error('node_client: ' + why);
    failed = true;
    ws.terminate();
  }

  function finish() {
    const out = {msgs, bytes, seconds: Number(t1 - t0) / 1e9};
    if (workload === 'echo') {
      rtts.sort((a, b) => a - b);
      out.rtt_p50_us = rtts[Math.floor(rtts.length / 2)] / 1e3;
      out.rtt_p99_us = rtts[Math.floor(rtts.length * 0.99)] / 1e3;
    }
    console.log(JSON.stringify(out));
  }

  // send-binary: fill the window, refill from write callbacks.
  let sent = 0, unacked = 0, unackedMsgs = 0, doneSent = false;
  function sendMore() {
    while (sent < count && !failed && (unackedMsgs === 0 ||
                                       unacked + size <= WINDOW)) {
      sent++;
      unacked += size;
      unackedMsgs++;
      ws.send(payload, {binary: true}, (err) => {
        if (err) return fail(err.message);
        unacked -= size;
        unackedMsgs--;
        sendMore();
      });
    }
    if (sent === count && !doneSent) {
      doneSent = true;
      ws.send('done');
    }
  }

  ws.on('open', () => {
    t0 = process.hrtime.bigint();
    if (workload === 'send-binary') sendMore();
    if (workload === 'echo') {
      pingAt = process.hrtime.bigint();
      ws.send(payload, {binary: true});
    }
  });
  ws.on('message', (data, isBinary) => {
    if (done || failed) return;
    if (workload === 'send-binary') {
      t1 = process.hrtime.bigint();
      const m = /^(\d+) (\d+)$/.exec(data.toString());
      if (isBinary || !m) return fail('unexpected reply from the sink');
      msgs = Number(m[1]);
      bytes = Number(m[2]);
      done = true;
      ws.close(1000);
      return;
    }
    if (data.length !== size ||
        isBinary !== (workload !== 'recv-text')) {
      return fail('unexpected message type or size');
    }
    msgs++;
    bytes += data.length;
    if (workload === 'echo') {
      const now = process.hrtime.bigint();
      rtts.push(Number(now - pingAt));
      if (msgs === count) {
        t1 = now;
        done = true;
        ws.close(1000);
      } else {
        pingAt = process.hrtime.bigint();
        ws.send(payload, {binary: true});
      }
      return;
    }
    if (msgs === count) {
      t1 = process.hrtime.bigint();
      done = true;  // the server's Close 1000 follows
    }
  });
  ws.on('error', (err) => fail(err.message));
  ws.on('close', (code) => {
    if (failed) process.exit(1);
    if (code !== 1000 && code !== 1005) {
      console.error(`node_client: closed with code ${code}`);
      process.exit(1);
    }
    if (!done) {
      console.error(`node_client: the connection ended after ${msgs} of ` +
                    `${count} messages`);
      process.exit(1);
    }
    finish();
    process.exit(0);
  });
}

main();

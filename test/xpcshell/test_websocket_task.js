/* The same behaviour written as add_task tests with async/await, through
 * the WebSocketConnection helper of head_websocket.js, against both
 * servers at once. */

async function echo_round_trip(serverName) {
  let conn = new WebSocketConnection();
  await conn.open(wsServerURL(serverName), { protocol: "superchat" });
  Assert.equal(conn.channel.protocol, "superchat");

  for (let text of WS_TEXT_MESSAGES) {
    conn.send(text);
    Assert.equal(await conn.acknowledged(), utf8Length(text),
                 "acknowledged size");
    let msg = await conn.receive();
    Assert.deepEqual(msg, { binary: false, data: text });
  }
  conn.sendBinary(WS_ALL_BYTES);
  let msg = await conn.receive();
  Assert.ok(msg.binary, "binary comes back as binary");
  Assert.ok(msg.data === WS_ALL_BYTES, "bytes 0-255 round-trip");

  conn.close(1000, "task done");
  Assert.equal(await conn.finished, Cr.NS_OK);
  return conn.events;
}

add_task(async function echo_both_servers_concurrently() {
  let results = await Promise.all(WS_ECHO_SERVERS.map(
    ([, name]) => echo_round_trip(name)));
  for (let events of results) {
    Assert.equal(events[0][0], "start", "onStart first");
    Assert.equal(events[events.length - 1][0], "stop", "onStop last");
  }
});

add_task(async function server_close() {
  for (let [, name] of WS_ECHO_SERVERS) {
    let conn = new WebSocketConnection();
    await conn.open(wsServerURL(name) + "close?code=4002&reason=later");
    Assert.equal(await conn.finished, Cr.NS_OK);
    Assert.deepEqual(conn.serverClose, { code: 4002, reason: "later" });
  }
});

add_task(async function refused() {
  let conn = new WebSocketConnection();
  await Assert.rejects(conn.open(wsServerURL("WS_REFUSED")),
                       e => e.result === Cr.NS_ERROR_CONNECTION_REFUSED,
                       "open rejects with NS_ERROR_CONNECTION_REFUSED");
  Assert.deepEqual(conn.events.map(e => e[0]), ["stop"],
                   "onStop without onStart");
});

add_task(async function second_asyncOpen_throws() {
  let conn = new WebSocketConnection();
  let opened = conn.open(wsServerURL("WS_ECHO_NODE"));
  Assert.throws(() => conn.channel.asyncOpen(
                  wsNewURI(wsServerURL("WS_ECHO_NODE")), "", {}, null),
                e => e.result === Cr.NS_ERROR_ALREADY_OPENED);
  await opened;
  conn.close(1000, "");
  Assert.equal(await conn.finished, Cr.NS_OK);
});

/* Errors thrown by the channel reach script as exceptions with the right
 * .result: asyncOpen with a null listener (NS_ERROR_UNEXPECTED), a second
 * asyncOpen (NS_ERROR_ALREADY_OPENED, 0x804B0049), a close reason over 123
 * bytes (NS_ERROR_ILLEGAL_VALUE — counted in UTF-8 bytes), close before the
 * connection exists (NS_ERROR_NOT_CONNECTED, also onStop's status). */

function noop_listener(overrides) {
  return Object.assign({
    onStart() {},
    onStop() {},
    onMessageAvailable() {},
    onBinaryMessageAvailable() {},
    onAcknowledge() {},
    onServerClose() {},
  }, overrides);
}

add_test(function null_listener() {
  let chan = makeWebSocketChannel();
  expectResult(() => chan.asyncOpen(wsNewURI(wsServerURL("WS_ECHO_PY")), "",
                                    null, null),
               "NS_ERROR_UNEXPECTED", "asyncOpen with a null listener");
  run_next_test();
});

add_test(function second_asyncOpen_and_long_reason() {
  let chan = makeWebSocketChannel();
  let uri = wsNewURI(wsServerURL("WS_ECHO_PY"));
  chan.asyncOpen(uri, "", noop_listener({
    onStart() {
      // 62 x U+00E9 = 62 characters but 124 bytes: too long.
      let tooLong = "\u00e9".repeat(62);
      expectResult(() => chan.close(1000, tooLong), "NS_ERROR_ILLEGAL_VALUE",
                   "close with a 124-byte reason");
      expectResult(() => chan.close(1000, "x".repeat(124)),
                   "NS_ERROR_ILLEGAL_VALUE", "close with 124 ASCII bytes");
      // Exactly 123 bytes is allowed.
      chan.close(1000, "\u00e9".repeat(61) + "x");
    },
    onStop(aContext, aStatusCode) {
      Assert.equal(aStatusCode, Cr.NS_OK);
      run_next_test();
    },
  }), null);
  let ex = null;
  try {
    chan.asyncOpen(uri, "", noop_listener(), null);
  } catch (e) {
    ex = e;
  }
  Assert.ok(ex !== null, "a second asyncOpen throws");
  Assert.equal(ex && ex.result, 0x804b0049, "NS_ERROR_ALREADY_OPENED");
  Assert.equal(ex && ex.result, Cr.NS_ERROR_ALREADY_OPENED);
  Assert.throws(() => chan.asyncOpen(uri, "", noop_listener(), null),
                /NS_ERROR_ALREADY_OPENED/, "the message names the error");
});

add_test(function close_before_connected() {
  let chan = makeWebSocketChannel();
  let started = false;
  chan.asyncOpen(wsNewURI(wsServerURL("WS_ECHO_PY")), "", noop_listener({
    onStart() {
      started = true;
    },
    onStop(aContext, aStatusCode) {
      Assert.ok(!started, "no onStart after an early close");
      Assert.equal(aStatusCode, Cr.NS_ERROR_NOT_CONNECTED,
                   "status " + _result_name(aStatusCode));
      run_next_test();
    },
  }), null);
  // No event has run since asyncOpen, so no transport can exist yet.
  expectResult(() => chan.close(1000, ""), "NS_ERROR_NOT_CONNECTED",
               "close before the connection exists");
});

/* A refused connection: onStop(NS_ERROR_CONNECTION_REFUSED) without
 * onStart (Gecko 8's status for a failed connection), against a loopback
 * port that is bound but not listening (WS_REFUSED). */

function run_test() {
  let chan = makeWebSocketChannel();
  do_test_pending("refused");
  chan.asyncOpen(wsNewURI(wsServerURL("WS_REFUSED")), "", {
    onStart() {
      do_throw("onStart must not be called for a refused connection");
    },
    onStop(aContext, aStatusCode) {
      Assert.equal(aStatusCode, Cr.NS_ERROR_CONNECTION_REFUSED,
                   "status " + _result_name(aStatusCode));
      do_test_finished("refused");
    },
    onMessageAvailable() {
      do_throw("no message expected");
    },
    onBinaryMessageAvailable() {
      do_throw("no message expected");
    },
    onAcknowledge() {},
    onServerClose() {
      do_throw("no server close expected");
    },
  }, null);
}

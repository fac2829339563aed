/* The server closes with a code and a reason right after the handshake:
 * onStart, onServerClose(code, reason), then onStop(NS_OK); sending after
 * onStop fails with NS_ERROR_NOT_CONNECTED. */

var REASON = "server says bye \u2713";

function server_close_test(serverName, code) {
  let test = function () {
    let chan = makeWebSocketChannel();
    let url = wsServerURL(serverName) + "close?code=" + code + "&reason=" +
              encodeURIComponent(REASON);
    let events = [];
    chan.asyncOpen(wsNewURI(url), "", {
      onStart() {
        events.push("start");
      },
      onServerClose(aContext, aCode, aReason) {
        events.push("serverclose");
        Assert.equal(aCode, code, "the server's close code");
        Assert.equal(aReason, REASON, "the server's close reason (UTF-8)");
      },
      onStop(aContext, aStatusCode) {
        events.push("stop");
        Assert.equal(aStatusCode, Cr.NS_OK, "a server close is clean");
        Assert.deepEqual(events, ["start", "serverclose", "stop"]);
        expectResult(() => chan.sendMsg("late"), "NS_ERROR_NOT_CONNECTED",
                     "sendMsg after onStop");
        run_next_test();
      },
      onMessageAvailable(aContext, aMsg) {
        do_throw("no message expected, got " + JSON.stringify(aMsg));
      },
      onBinaryMessageAvailable() {
        do_throw("no binary message expected");
      },
      onAcknowledge() {},
    }, null);
  };
  Object.defineProperty(test, "name",
                        { value: "server_close_" + serverName + "_" + code });
  return test;
}

for (let [, name] of WS_ECHO_SERVERS) {
  add_test(server_close_test(name, 4001));
  add_test(server_close_test(name, Ci.nsIWebSocketChannel.CLOSE_GOING_AWAY));
}

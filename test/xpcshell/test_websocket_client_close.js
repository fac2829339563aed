/* The client closes: after close(), sendMsg and a second close() fail with
 * NS_ERROR_UNEXPECTED; the server echoes our close; onStop(NS_OK) comes
 * once, last. */

function client_close_test(serverName) {
  let test = function () {
    let chan = makeWebSocketChannel();
    let events = [];
    chan.asyncOpen(wsNewURI(wsServerURL(serverName)), "", {
      onStart() {
        events.push("start");
        chan.sendMsg("before close");
      },
      onMessageAvailable(aContext, aMsg) {
        events.push("message");
        Assert.equal(aMsg, "before close");
        chan.close(Ci.nsIWebSocketChannel.CLOSE_NORMAL, "client done");
        expectResult(() => chan.sendMsg("after close"),
                     "NS_ERROR_UNEXPECTED", "sendMsg after close");
        expectResult(() => chan.sendBinaryMsg("\u00ff"),
                     "NS_ERROR_UNEXPECTED", "sendBinaryMsg after close");
        expectResult(() => chan.close(1000, ""), "NS_ERROR_UNEXPECTED",
                     "a second close");
      },
      onServerClose(aContext, aCode, aReason) {
        // The server's reply to our close; Gecko reports it too.
        events.push("serverclose");
        Assert.equal(aCode, 1000, "the server echoes our code");
      },
      onStop(aContext, aStatusCode) {
        events.push("stop");
        Assert.equal(aStatusCode, Cr.NS_OK, "clean client close");
        let order = events.filter(e => e !== "serverclose");
        Assert.deepEqual(order, ["start", "message", "stop"]);
        Assert.equal(events[events.length - 1], "stop", "onStop is last");
        // A second onStop would arrive from the queue: give it a chance.
        do_timeout(100, () => {
          Assert.equal(events.filter(e => e === "stop").length, 1,
                       "onStop comes once");
          run_next_test();
        });
      },
      onBinaryMessageAvailable() {},
      onAcknowledge() {},
    }, null);
  };
  Object.defineProperty(test, "name",
                        { value: "client_close_" + serverName });
  return test;
}

for (let [, name] of WS_ECHO_SERVERS) {
  add_test(client_close_test(name));
}

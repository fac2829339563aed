/* Subprotocol negotiation against each echo server: the protocol attribute
 * set before asyncOpen is offered, and after onStart holds what the server
 * chose ("" when it chose none).  The servers pick the first offered of
 * "chat" and "superchat". */

var CASES = [
  ["superchat", "superchat"],
  ["nope, chat", "chat"],
  ["chat, superchat", "chat"],
  ["nope", ""],
];

function protocol_test(serverName, offered, expected) {
  let test = function () {
    let chan = makeWebSocketChannel();
    chan.protocol = offered;
    Assert.equal(chan.protocol, offered, "protocol reads back before open");
    chan.asyncOpen(wsNewURI(wsServerURL(serverName)), "", {
      onStart(aContext) {
        Assert.equal(chan.protocol, expected,
                     "offered " + JSON.stringify(offered));
        Assert.equal(chan.extensions, "", "no extension negotiated");
        chan.close(Ci.nsIWebSocketChannel.CLOSE_NORMAL, "");
      },
      onStop(aContext, aStatusCode) {
        Assert.equal(aStatusCode, Cr.NS_OK);
        run_next_test();
      },
      onMessageAvailable() {},
      onBinaryMessageAvailable() {},
      onAcknowledge() {},
      onServerClose() {},
    }, null);
  };
  Object.defineProperty(test, "name", {
    value: "protocol_" + serverName + "_" + offered.replace(/\W+/g, "_"),
  });
  return test;
}

for (let [, name] of WS_ECHO_SERVERS) {
  for (let [offered, expected] of CASES) {
    add_test(protocol_test(name, offered, expected));
  }
}

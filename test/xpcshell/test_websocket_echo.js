/* Echo of text (UTF-8) and binary (every byte 0-255, and a message longer
 * than 65535 bytes) against each echo server, written the Gecko way: a
 * listener object and run_next_test from onStop.  Checks the order of the
 * listener calls, one onAcknowledge per message with its size, that the
 * context object comes back as the same JS object, and a clean close. */

function echo_test(serverName) {
  let test = function () {
    let url = wsServerURL(serverName);
    let chan = makeWebSocketChannel();
    let context = { name: "echo context" };
    let big = "";
    for (let i = 0; i < 70000; i++) {
      big += String.fromCharCode((i * 7) & 0xff);
    }
    let sent = WS_TEXT_MESSAGES.map(m => ["message", m]);
    sent.push(["binary", WS_ALL_BYTES], ["binary", ""], ["binary", big]);
    let received = [];
    let acks = [];
    let started = false;
    let closing = false;

    let listener = {
      onStart(aContext) {
        Assert.ok(!started, "onStart comes once");
        started = true;
        Assert.strictEqual(aContext, context,
                           "the context comes back as the same object");
        Assert.equal(chan.protocol, "", "no subprotocol asked, none set");
        Assert.equal(chan.URI.spec, url, "URI is the URI opened");
        for (let [kind, data] of sent) {
          if (kind === "message") {
            chan.sendMsg(data);
          } else {
            chan.sendBinaryMsg(data);
          }
        }
      },
      onMessageAvailable(aContext, aMsg) {
        Assert.ok(started, "messages come after onStart");
        received.push(["message", aMsg]);
        listener._maybeClose();
      },
      onBinaryMessageAvailable(aContext, aMsg) {
        received.push(["binary", aMsg]);
        listener._maybeClose();
      },
      onAcknowledge(aContext, aSize) {
        acks.push(aSize);
      },
      onServerClose(aContext, aCode, aReason) {
        info("onServerClose(" + aCode + ", " + JSON.stringify(aReason) + ")");
      },
      onStop(aContext, aStatusCode) {
        Assert.equal(aStatusCode, Cr.NS_OK, "clean close");
        Assert.ok(closing, "onStop after our close");
        Assert.equal(received.length, sent.length, "every message echoed");
        for (let i = 0; i < sent.length; i++) {
          Assert.equal(received[i][0], sent[i][0], "message " + i + " kind");
          // strictEqual keeps the (long) data out of the log on success.
          Assert.ok(received[i][1] === sent[i][1],
                    "message " + i + " round-trips (" + sent[i][0] + ", " +
                    sent[i][1].length + " chars)");
        }
        Assert.deepEqual(acks, sent.map(([kind, data]) =>
                           kind === "message" ? utf8Length(data)
                                              : data.length),
                         "one onAcknowledge per message, with its size");
        run_next_test();
      },
      _maybeClose() {
        if (received.length === sent.length && !closing) {
          closing = true;
          chan.close(Ci.nsIWebSocketChannel.CLOSE_NORMAL, "done");
        }
      },
    };
    chan.asyncOpen(wsNewURI(url), "http://localhost", listener, context);
  };
  Object.defineProperty(test, "name", { value: "echo_" + serverName });
  return test;
}

for (let [, name] of WS_ECHO_SERVERS) {
  add_test(echo_test(name));
}

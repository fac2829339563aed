/* A test in the style of Gecko's older netwerk/test/unit tests, kept as
 * close to that form as our API allows: its own Cc/Ci/Cr constants, a
 * listener object with a hand-written QueryInterface that throws a bare
 * Cr value, do_test_pending/do_test_finished, do_check_* checks. */

const Cc = Components.classes;
const Ci = Components.interfaces;
const Cr = Components.results;

var chan;
var gotStart = false;
var received = [];

var listener = {
  QueryInterface: function (aIID) {
    if (aIID.equals(Ci.nsIWebSocketListener) ||
        aIID.equals(Ci.nsISupports)) {
      return this;
    }
    throw Cr.NS_ERROR_NO_INTERFACE;
  },

  onStart: function (aContext) {
    gotStart = true;
    do_check_eq(chan.protocol, "chat");
    chan.sendMsg("ping from an old-style test");
    chan.sendBinaryMsg("\u0000\u00ff");
  },

  onMessageAvailable: function (aContext, aMsg) {
    received.push(aMsg);
  },

  onBinaryMessageAvailable: function (aContext, aMsg) {
    received.push(aMsg);
    do_check_eq(received.length, 2);
    chan.close(Ci.nsIWebSocketChannel.CLOSE_NORMAL, "bye");
  },

  onAcknowledge: function (aContext, aSize) {},

  onServerClose: function (aContext, aCode, aReason) {},

  onStop: function (aContext, aStatusCode) {
    do_check_true(gotStart);
    do_check_eq(aStatusCode, Cr.NS_OK);
    do_check_eq(received[0], "ping from an old-style test");
    do_check_eq(received[1], "\u0000\u00ff");
    do_test_finished();
  },
};

function run_test() {
  do_get_profile();
  chan = Cc["@mozilla.org/network/protocol;1?name=ws"]
           .createInstance(Ci.nsIWebSocketChannel);
  chan.protocol = "chat";
  var ios = Cc["@mozilla.org/network/io-service;1"]
              .getService(Ci.nsIIOService);
  var uri = ios.newURI(wsServerURL("WS_ECHO_PY"), null, null);
  chan.asyncOpen(uri, "http://example.com", listener, null);
  do_test_pending();
}

/* wss:// through the channel from script: nsIWebSocketChannel.securityInfo
 * is null before the TLS handshake, then an nsIWebSocketSecurityInfo that
 * reports what was negotiated and the server's chain; a certificate from
 * an unknown CA ends in onStop with the NSS error mapped into the security
 * module (never onStart), and securityInfo then says why; ws:// has none.
 * Servers (run-xpcshell-tls.sh): WSS_ECHO, WSS_UNKNOWN_CA, WS_PLAIN. */

const NS_ERROR_MODULE_SECURITY = 21;
function securityError(prErrorCode) {
  // NS_ERROR_GENERATE_FAILURE(NS_ERROR_MODULE_SECURITY, -prErrorCode)
  return (0x80000000 + ((NS_ERROR_MODULE_SECURITY + 0x45) << 16) +
          (-prErrorCode)) >>> 0;
}
const SEC_ERROR_UNKNOWN_ISSUER = -8179;

/* `const` globals from the runner are not properties of the global. */
function serverURL(name) {
  let url;
  switch (name) {
    case "WSS_ECHO":
      url = typeof WSS_ECHO === "undefined" ? undefined : WSS_ECHO;
      break;
    case "WSS_UNKNOWN_CA":
      url = typeof WSS_UNKNOWN_CA === "undefined" ? undefined : WSS_UNKNOWN_CA;
      break;
    case "WS_PLAIN":
      url = typeof WS_PLAIN === "undefined" ? undefined : WS_PLAIN;
      break;
  }
  if (url === undefined || url === null) {
    do_throw(name + " is not available: run run-xpcshell-tls.sh");
  }
  return url;
}

function checkCert(cert, subject, issuer) {
  Assert.equal(cert.subject, subject, "subject");
  Assert.equal(cert.issuer, issuer, "issuer");
  Assert.ok(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/.test(cert.sha256Fingerprint),
            "SHA-256 fingerprint " + cert.sha256Fingerprint);
  Assert.ok(cert.der.length > 100, "DER bytes");
  Assert.equal(cert.der.charCodeAt(0), 0x30, "DER starts with a SEQUENCE");
  let now = Date.now() * 1000;
  Assert.ok(cert.notBefore < now && now < cert.notAfter,
            "valid now (PRTime microseconds)");
}

add_test(function secure_connection() {
  let url = serverURL("WSS_ECHO");
  let chan = makeWebSocketChannel("wss");
  Assert.equal(chan.securityInfo, null, "no securityInfo before asyncOpen");
  let started = false;
  chan.asyncOpen(wsNewURI(url), "http://localhost", {
    onStart(ctx) {
      started = true;
      let si = chan.securityInfo.QueryInterface(Ci.nsIWebSocketSecurityInfo);
      Assert.equal(si.securityState, Ci.nsIWebSocketSecurityInfo.STATE_IS_SECURE);
      Assert.equal(si.errorCode, 0);
      Assert.equal(si.errorCodeString, "");
      Assert.equal(si.protocolVersion, Ci.nsIWebSocketSecurityInfo.TLS_VERSION_1_3);
      Assert.ok(si.cipherSuite.startsWith("TLS_"), "cipher " + si.cipherSuite);
      Assert.equal(si.keaGroupName, "x25519");
      Assert.equal(si.signatureSchemeName, "ECDSA-P256-SHA256");
      Assert.equal(si.alpn, "http/1.1");
      Assert.equal(typeof si.resumed, "boolean");
      checkCert(si.serverCert, "CN=localhost", "CN=wschannel test CA");
      let chain = si.getCertChain();
      Assert.equal(chain.length, 2, "server certificate and the test CA");
      checkCert(chain[1], "CN=wschannel test CA", "CN=wschannel test CA");
      chan.sendMsg("over TLS");
    },
    onMessageAvailable(ctx, msg) {
      Assert.equal(msg, "over TLS");
      chan.close(Ci.nsIWebSocketChannel.CLOSE_NORMAL, "done");
    },
    onBinaryMessageAvailable() {},
    onAcknowledge() {},
    onServerClose() {},
    onStop(ctx, status) {
      Assert.ok(started, "onStart came");
      Assert.equal(status, Cr.NS_OK);
      Assert.notEqual(chan.securityInfo, null, "securityInfo stays after onStop");
      run_next_test();
    },
  }, null);
});

add_test(function unknown_issuer() {
  let url = serverURL("WSS_UNKNOWN_CA");
  let chan = makeWebSocketChannel("wss");
  chan.asyncOpen(wsNewURI(url), "http://localhost", {
    onStart() {
      do_throw("onStart for an untrusted server");
    },
    onMessageAvailable() {},
    onBinaryMessageAvailable() {},
    onAcknowledge() {},
    onServerClose() {},
    onStop(ctx, status) {
      Assert.equal(status, securityError(SEC_ERROR_UNKNOWN_ISSUER),
                   "0x805A1FF3");
      Assert.equal(status, 0x805A1FF3);
      let si = chan.securityInfo.QueryInterface(Ci.nsIWebSocketSecurityInfo);
      Assert.equal(si.securityState, Ci.nsIWebSocketSecurityInfo.STATE_IS_BROKEN);
      Assert.equal(si.errorCode, SEC_ERROR_UNKNOWN_ISSUER);
      Assert.equal(si.errorCodeString, "SEC_ERROR_UNKNOWN_ISSUER");
      Assert.equal(si.cipherSuite, "");
      checkCert(si.serverCert, "CN=localhost", "CN=wschannel untrusted CA");
      run_next_test();
    },
  }, null);
});

add_test(function plain_ws_has_no_security_info() {
  let url = serverURL("WS_PLAIN");
  let chan = makeWebSocketChannel("ws");
  chan.asyncOpen(wsNewURI(url), "http://localhost", {
    onStart() {
      Assert.equal(chan.securityInfo, null, "ws:// has no securityInfo");
      chan.close(Ci.nsIWebSocketChannel.CLOSE_NORMAL, "");
    },
    onMessageAvailable() {},
    onBinaryMessageAvailable() {},
    onAcknowledge() {},
    onServerClose() {},
    onStop(ctx, status) {
      Assert.equal(status, Cr.NS_OK);
      Assert.equal(chan.securityInfo, null);
      run_next_test();
    },
  }, null);
});

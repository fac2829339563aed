/* Native -> JS: JS objects implementing interfaces for C callers. */
_testName = "test_wrappedjs";

const t = Cc["@wschannel.test/jsbridge;1"].createInstance(Ci.nsIJSBridgeTest);

/* A JS implementation of nsIJSBridgeTest, following the component's
 * convention (result = b's old value, b = a); the C side checks it. */
const impl = {
  swap(a, b) { const old = b.value; b.value = a; return old; },
  testBoolean(a, b) { return this.swap(a, b); },
  testOctet(a, b) { return this.swap(a, b); },
  testShort(a, b) { return this.swap(a, b); },
  testLong(a, b) { return this.swap(a, b); },
  testLongLong(a, b) {
    if (typeof a !== "bigint") throw new Error("expected a BigInt beyond 2^53");
    return this.swap(a, b);
  },
  testUnsignedShort(a, b) { return this.swap(a, b); },
  testUnsignedLong(a, b) { return this.swap(a, b); },
  testUnsignedLongLong(a, b) { return this.swap(a, b); },
  testFloat(a, b) { return this.swap(a, b); },
  testDouble(a, b) { return this.swap(a, b); },
  testChar(a, b) { return this.swap(a, b); },
  testWchar(a, b) { return this.swap(a, b); },
  testString(a, b) { return this.swap(a, b); },
  testWstring(a, b) { return this.swap(a, b); },
  testAString(a, b) { return this.swap(a, b); },
  testDOMString(a, b) { return this.swap(a, b); },
  testUTF8String(a, b) {
    if (a !== "\u00e9\u20ac\ud83d\ude00") throw new Error("UTF-8 decoded wrong: " + a);
    return this.swap(a, b);
  },
  testACString(a, b) {
    if (a.length !== 256 || a.charCodeAt(255) !== 255) throw new Error("bytes");
    return this.swap(a, b);
  },
  testID(a, b) { return this.swap(a, b); },
  testInterface(a, b) {
    if (a !== impl) throw new Error("identity lost: " + a);
    return this.swap(a, b);
  },
  testOuts(a, b, c, d, e, f, g, h) {
    b.value = true; c.value = a * 2 ** 40; d.value = a + 0.5; e.value = String(a);
    f.value = String(a); g.value = "\x00\xff" + String.fromCharCode(a); h.value = this;
  },
  testMixed(...args) { return args.reduce((x, y) => x + y, 0); },
  testLongArray(aLength, a, bLength, b, rvLength) {
    const old = b.value;
    b.value = a;
    return old; /* lengths follow the arrays */
  },
  testStringArray(n, a) { return a.slice().reverse(); },
  testSizedString(n, a) { return [...a].reverse().join(""); },
  testInterfaceIs(iid, a, rvIID) {
    if (!iid.equals(Ci.nsIJSBridgeTest)) throw new Error("iid");
    rvIID.value = iid;
    return a;
  },
  longAttr: 0,
  get readonlyAttr() { return "js \u263a"; },
  fail(rv) { throw rv; },
  QueryInterface: ChromeUtils.generateQI(["nsIJSBridgeTest"]),
};
eq(t.exercise(impl), 0, "C calls a JS implementation with every type (see stderr)");
eq(impl.longAttr, 77, "attribute set from C");

/* The same JS object keeps one identity. */
t.hold(impl);
eq(t.held(), impl, "held JS object comes back as itself");
t.drop();

/* Observers: a JS object and a bare function ([function] interface). */
const obs = Services.obs;
const seen = [];
const observer = {observe(subject, topic, data) { seen.push([subject, topic, data]); }};
obs.addObserver(observer, "jsbridge-test", false);
const fnObserver = (s, topic, data) => seen.push(["fn", topic, data]);
obs.addObserver(fnObserver, "jsbridge-test", false);
obs.notifyObservers(t, "jsbridge-test", "d\u00e4ta \u263a");
eq(seen.length, 2, "both observers called");
const fromObject = seen.find(x => x[0] !== "fn"), fromFn = seen.find(x => x[0] === "fn");
eq(fromObject && fromObject[0], t, "subject identity");
eq(fromObject && fromObject[1], "jsbridge-test", "topic");
eq(fromObject && fromObject[2], "d\u00e4ta \u263a", "wstring data");
check(fromFn, "function observer");
seen.length = 0;
obs.notifyObservers(null, "jsbridge-test", null);
const nulls = seen.find(x => x[0] !== "fn");
eq(nulls && nulls[0], null, "null subject");
eq(nulls && nulls[2], null, "null data");
obs.removeObserver(observer, "jsbridge-test");
obs.removeObserver(fnObserver, "jsbridge-test");
obs.notifyObservers(null, "jsbridge-test", "");
eq(seen.length, 2, "removed observers are not called");

/* JS exceptions become nsresults as in Gecko. */
function runResult(fn) { return t.callRunnable({run: fn}); }
eq(runResult(() => {}), Cr.NS_OK, "run returns normally");
eq(runResult(() => { throw Cr.NS_ERROR_ABORT; }), Cr.NS_ERROR_ABORT, "thrown nsresult");
eq(runResult(() => { throw Components.Exception("x", Cr.NS_ERROR_NOT_AVAILABLE); }),
   Cr.NS_ERROR_NOT_AVAILABLE, "thrown Components.Exception");
eq(runResult(() => { throw {result: Cr.NS_ERROR_OUT_OF_MEMORY}; }), Cr.NS_ERROR_OUT_OF_MEMORY,
   "thrown object with a result");
eq(runResult(() => t.fail(Cr.NS_ERROR_FILE_NOT_FOUND)), Cr.NS_ERROR_FILE_NOT_FOUND,
   "native failure passes through JS");
dump("(the next four JavaScript errors on stderr are expected)\n");
eq(runResult(() => { throw new Error("boom"); }), Cr.NS_ERROR_XPC_JAVASCRIPT_ERROR_WITH_DETAILS,
   "thrown Error");
eq(runResult(() => { throw "str"; }), Cr.NS_ERROR_XPC_JS_THREW_STRING, "thrown string");
eq(runResult(() => { throw null; }), Cr.NS_ERROR_XPC_JS_THREW_NULL, "thrown null");
eq(runResult(() => { throw 42; }), Cr.NS_ERROR_XPC_JS_THREW_NUMBER, "thrown number");
eq(t.callRunnable({}), Cr.NS_ERROR_XPC_JSOBJECT_HAS_NO_FUNCTION_NAMED, "missing method");

/* Never run JS off the main thread. */
let ran = false;
eq(t.callRunnableOnThread({run() { ran = true; }}), Cr.NS_ERROR_NOT_SAME_THREAD,
   "call from another thread refused");
check(!ran, "JS did not run off the main thread");

/* QueryInterface from native code: synthesised, or the object's own. */
{
  const plain = {run() {}};
  t.hold(plain); /* wrapped as nsISupports */
  eq(t.queryInterfaceOf(plain, Ci.nsISupports), Cr.NS_OK, "no QI: nsISupports");
  eq(t.queryInterfaceOf(plain, Ci.nsIRunnable), Cr.NS_NOINTERFACE,
     "no QI: an interface it was never wrapped for");
  Services.tm.dispatchToMainThread(plain); /* now wrapped as nsIRunnable too */
  eq(t.queryInterfaceOf(plain, Ci.nsIRunnable), Cr.NS_OK, "no QI: the wrapped interface");
  eq(t.queryInterfaceOf(plain, Ci.nsIObserver), Cr.NS_NOINTERFACE, "no QI: others refused");
  t.drop();
  const asked = [];
  const withQI = {
    QueryInterface(iid) {
      asked.push(iid);
      if (iid.equals(Ci.nsIObserver) || iid.equals(Ci.nsISupports))
        return this;
      throw Cr.NS_ERROR_NO_INTERFACE;
    },
    observe() {},
  };
  eq(t.queryInterfaceOf(withQI, Ci.nsIObserver), Cr.NS_OK, "own QI accepts");
  eq(asked[0], Ci.nsIObserver, "QI receives the interface object");
  eq(t.queryInterfaceOf(withQI, Ci.nsITimerCallback), Cr.NS_NOINTERFACE, "own QI refuses");
  eq(t.queryInterfaceOf(withQI, Components.ID("{6633c0bf-d97a-428f-8ece-cb6a655fb95a}")),
     Cr.NS_NOINTERFACE,
     "non-scriptable interfaces are never implemented by JS");
  const gen = {QueryInterface: ChromeUtils.generateQI([Ci.nsIRunnable, "nsIObserver"])};
  eq(t.queryInterfaceOf(gen, Ci.nsIObserver), Cr.NS_OK, "generateQI by name");
  eq(t.queryInterfaceOf(gen, Ci.nsIRunnable), Cr.NS_OK, "generateQI by interface");
  eq(t.queryInterfaceOf(gen, Ci.nsIJSBridgeTest), Cr.NS_NOINTERFACE, "generateQI refuses");
  spinUntil(() => !Services.tm.mainThread.hasPendingEvents());
}

/* A component written in JS, registered with a JS factory. */
{
  const reg = Components.manager.QueryInterface(Ci.nsIComponentRegistrar);
  const cid = Components.ID("{2ee08f09-4965-4199-8dd5-e206d713e216}");
  let runs = 0;
  const impl = {run() { runs++; }, QueryInterface: ChromeUtils.generateQI(["nsIRunnable"])};
  const factory = {
    createInstance(outer, iid) {
      if (outer)
        throw Cr.NS_ERROR_NO_AGGREGATION;
      return impl.QueryInterface(iid);
    },
    lockFactory() {},
  };
  reg.registerFactory(cid, "JS runnable", "@wschannel.test/js-runnable;1", factory);
  const r = Cc["@wschannel.test/js-runnable;1"].createInstance(Ci.nsIRunnable);
  eq(r, impl, "createInstance of a JS component gives the JS object");
  Services.tm.dispatchToMainThread(r);
  Services.tm.spinEventLoopUntilEmpty();
  eq(runs, 1, "JS component used by native code");
  reg.unregisterFactory(cid, factory);
}

/* Events: a JS runnable on the main thread, a timer with a JS callback. */
{
  const order = [];
  Services.tm.dispatchToMainThread({run() { order.push("runnable"); }});
  Services.tm.mainThread.dispatch(() => order.push("function runnable"),
                                  Ci.nsIEventTarget.DISPATCH_NORMAL);
  const timer = Cc["@mozilla.org/timer;1"].createInstance(Ci.nsITimer);
  timer.initWithCallback({notify(tm) { order.push(tm === timer ? "timer" : "bad timer"); }},
                         20, Ci.nsITimer.TYPE_ONE_SHOT);
  const timer2 = Cc["@mozilla.org/timer;1"].createInstance(Ci.nsITimer);
  timer2.initWithCallback(() => order.push("timer fn"), 40, Ci.nsITimer.TYPE_ONE_SHOT);
  const timer3 = Cc["@mozilla.org/timer;1"].createInstance(Ci.nsITimer);
  timer3.init({observe(s, topic) { order.push(topic); }}, 60, Ci.nsITimer.TYPE_ONE_SHOT);
  Promise.resolve().then(() => order.push("promise"));
  spinUntil(() => order.length >= 6);
  /* The job queued by this script runs before the loop takes the first
   * event (Gecko runs jobs before an event loop may block). */
  deq(order, ["promise", "runnable", "function runnable", "timer", "timer fn", "timer-callback"],
      "event order");
}

/* Promise jobs run after each event, also from callbacks. */
{
  const log = [];
  Services.tm.dispatchToMainThread(() => {
    Promise.resolve().then(() => log.push("job"));
    log.push("event");
  });
  Services.tm.dispatchToMainThread(() => log.push("next event"));
  spinUntil(() => log.length >= 3);
  deq(log, ["event", "job", "next event"], "jobs between events");
}

/* async functions over timers */
{
  let done = false;
  (async () => {
    await new Promise(r => {
      const tt = Cc["@mozilla.org/timer;1"].createInstance(Ci.nsITimer);
      tt.initWithCallback(() => r(), 10, Ci.nsITimer.TYPE_ONE_SHOT);
    });
    done = true;
  })();
  spinUntil(() => done);
  check(done, "await over a timer");
}

finish();

/* Identity and lifetime: one wrapper per native object, one identity per
 * JS object, native references keep JS objects alive, releasing them lets
 * the GC collect, and dead wrappers release their natives. */
_testName = "test_gc";

const t = Cc["@wschannel.test/jsbridge;1"].createInstance(Ci.nsIJSBridgeTest);
gc();
const base = t.liveCount;

/* One wrapper per native identity, whatever interface it arrives as. */
{
  const other = Cc["@wschannel.test/jsbridge;1"].createInstance(Ci.nsIJSBridgeTest);
  t.hold(other);
  eq(t.held(), other, "same wrapper each time");
  const asSupports = Cc["@wschannel.test/jsbridge;1"].createInstance();
  check(asSupports !== other, "distinct objects, distinct wrappers");
  t.drop();
}

/* Native references keep a JS object alive; dropping them lets it go.
 * (Objects are made in functions: a top-level frame may keep stale
 * references in its slots.) */
{
  const ref = (() => {
    const obj = {name: "kept"};
    t.hold(obj);
    return new WeakRef(obj);
  })();
  gc();
  check(ref.deref() !== undefined, "held by native code: alive after GC");
  eq(t.held().name, "kept", "and the same object comes back");
  t.drop();
  gc();
  eq(ref.deref(), undefined, "released by native code: collected");
}

/* A JS object's identity survives being wrapped for several interfaces. */
{
  const o = {observe() {}, run() {}, notify() {}};
  t.hold(o);
  eq(t.testInterfaceIs(Ci.nsIObserver, o, {}), o, "as nsIObserver");
  eq(t.testInterfaceIs(Ci.nsIRunnable, o, {}), o, "as nsIRunnable");
  eq(t.held(), o, "as nsISupports");
  t.drop();
}

/* Wrappers of natives die with their JS objects and release the natives. */
{
  (() => {
    const many = [];
    for (let i = 0; i < 200; i++)
      many.push(Cc["@wschannel.test/jsbridge;1"].createInstance(Ci.nsIJSBridgeTest));
    eq(t.liveCount, base + 200, "200 instances alive");
  })();
  gc();
  eq(t.liveCount, base, "released after their wrappers were collected");
}

/* A native object stays the same JS object while JS holds it; expandos on
 * it survive. */
{
  const w = Cc["@wschannel.test/jsbridge;1"].createInstance(Ci.nsIJSBridgeTest);
  w.expando = 42;
  t.hold(w);
  gc();
  eq(t.held().expando, 42, "expando kept while the wrapper lives");
  t.drop();
}

/* Cycles through native code are broken at shutdown: a JS object held by a
 * native object that only that JS object keeps alive. */
{
  const cyc = Cc["@wschannel.test/jsbridge;1"].createInstance(Ci.nsIJSBridgeTest);
  const js = {native: cyc};
  cyc.hold(js);
  /* Left in place on purpose: the leak check at exit must still pass. */
}

/* Timers and observers hold JS callbacks until done. */
{
  let fired = 0;
  const timer = Cc["@mozilla.org/timer;1"].createInstance(Ci.nsITimer);
  const ref = (() => {
    const cb = {notify() { fired++; }};
    timer.initWithCallback(cb, 10, Ci.nsITimer.TYPE_ONE_SHOT);
    return new WeakRef(cb);
  })();
  gc();
  check(ref.deref() !== undefined, "armed timer keeps its JS callback");
  spinUntil(() => fired === 1);
  eq(fired, 1, "callback ran");
  timer.cancel();
  gc();
  eq(ref.deref(), undefined, "callback collected once the timer is done");
}

/* FinalizationRegistry callbacks run as jobs after the GC. */
{
  let cleaned = null;
  const reg = new FinalizationRegistry(v => { cleaned = v; });
  (() => { reg.register({}, "token"); })();
  gc();
  Services.tm.dispatchToMainThread(() => {});
  spinUntil(() => cleaned !== null);
  eq(cleaned, "token", "FinalizationRegistry cleanup");
}

finish();

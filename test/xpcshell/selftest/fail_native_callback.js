/* Must fail: an exception thrown by a JS object that native code calls (a
 * bare nsITimer callback, no harness wrapper).  Only the shell sees it and
 * reports it; the runner must fail the test on that report. */
var keepTimer;
function run_test() {
  do_test_pending("timer");
  keepTimer = Cc["@mozilla.org/timer;1"].createInstance(Ci.nsITimer);
  keepTimer.initWithCallback({
    notify() {
      do_timeout(50, () => do_test_finished("timer"));
      throw new Error("thrown to native code");
    },
  }, 10, Ci.nsITimer.TYPE_ONE_SHOT);
}

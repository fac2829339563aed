/* Must fail: an uncaught exception from an executeSoon callback, while the
 * test is pending (must not hang either). */
function run_test() {
  do_test_pending("never finished");
  executeSoon(function () {
    throw new Error("thrown from a callback");
  });
}

/* Harness self-test: the run_test style — do_test_pending/do_test_finished
 * around timers and executeSoon, and the old do_check_* checks. */

var order = [];

function run_test() {
  do_test_pending("timers");

  do_check_eq(1, "1"); // == as in Gecko
  do_check_neq(1, 2);
  do_check_true(true);
  do_check_true(1);
  do_check_false(false);
  do_check_false(0);
  do_check_null(null);
  do_check_instanceof([], Array);
  todo_check_true(false);
  todo_check_eq(1, 2);
  do_print("do_print writes a TEST-INFO line");
  info("so does info", { with: "data" });

  let start = Date.now();
  do_timeout(100, function () {
    order.push("timeout");
    Assert.greaterOrEqual(Date.now() - start, 90, "the timer waited");
    do_execute_soon(function () {
      order.push("do_execute_soon");
      Assert.deepEqual(order, ["executeSoon", "timeout", "do_execute_soon"]);
      do_test_finished("timers");
    });
  });
  executeSoon(() => order.push("executeSoon"));
  Assert.deepEqual(order, [], "executeSoon does not run synchronously");
}

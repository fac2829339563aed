/* Must fail: a failed do_check_eq inside a timer callback. */
function run_test() {
  do_test_pending();
  do_timeout(10, function () {
    do_check_eq("left", "right");
    do_test_finished();
  });
}

/* Must fail: do_test_finished without a matching do_test_pending. */
function run_test() {
  executeSoon(() => {
    do_test_finished("extra");
    do_test_finished("extra");
  });
}

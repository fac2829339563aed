/* Must fail: run_next_test() called from an add_task task. */
add_task(async function calls_run_next_test() {
  run_next_test();
});

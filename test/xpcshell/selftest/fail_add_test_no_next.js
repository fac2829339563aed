/* Must fail (by timeout): an add_test that never calls run_next_test. */
add_test(function forgets_run_next_test() {
  Assert.ok(true);
});
add_test(function never_reached() {
  run_next_test();
});

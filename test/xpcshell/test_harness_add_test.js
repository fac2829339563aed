/* Harness self-test: add_test/run_next_test, skip_if and .skip. */

var log = [];

add_test(function first() {
  log.push("first");
  run_next_test();
});

add_test(function second_waits_for_a_timer() {
  // The test stays pending until run_next_test, even with nothing queued.
  do_timeout(50, function () {
    log.push("second");
    run_next_test();
  });
});

add_test({ skip_if: () => true }, function skipped_by_skip_if() {
  do_throw("a test whose skip_if is true must not run");
});

add_test.skip(function skipped_by_dot_skip() {
  do_throw("an add_test.skip test must not run");
});

add_test(function last() {
  Assert.deepEqual(log, ["first", "second"]);
  run_next_test();
});

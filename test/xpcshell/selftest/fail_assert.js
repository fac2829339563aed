/* Must fail: a failed Assert in run_test. */
function run_test() {
  Assert.equal(1, 2, "one is two");
  do_throw("not reached: a failed assertion aborts the test");
}

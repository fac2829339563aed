/* Must fail: an uncaught exception from run_test. */
function run_test() {
  let x = null;
  x.property = 1; // TypeError
}

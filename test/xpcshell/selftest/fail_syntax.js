/* Must fail: a syntax error in the test file. */
function run_test() {
  let = = 1;
}

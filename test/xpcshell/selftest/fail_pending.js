/* Must fail (by timeout): pending forever, nothing left to happen. */
function run_test() {
  do_test_pending("never finished");
}

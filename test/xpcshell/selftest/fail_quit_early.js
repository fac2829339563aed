/* Must fail: quit(0) before the harness finishes is not a pass. */
function run_test() {
  quit(0);
}

/* skip-if = true: must never run. */
function run_test() {
  do_throw("a skipped test ran");
}

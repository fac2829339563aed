/* fail-if = true but passes: an unexpected pass is a failure. */
function run_test() {
  Assert.ok(true);
}

/* fail-if = true and fails: reported as a known failure. */
function run_test() {
  Assert.equal(1, 2, "expected to fail");
}

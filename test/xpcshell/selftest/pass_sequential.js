/* Must pass; listed with run-sequentially. */
function run_test() {
  Assert.ok(true);
}

/* Must fail: a cleanup function that throws. */
registerCleanupFunction(() => {
  throw new Error("cleanup failed");
});
function run_test() {
  Assert.ok(true);
}

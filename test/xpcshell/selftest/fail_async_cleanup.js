/* Must fail: a cleanup function whose promise rejects. */
registerCleanupFunction(async () => {
  await Promise.resolve();
  throw new Error("async cleanup failed");
});
function run_test() {
  Assert.ok(true);
}

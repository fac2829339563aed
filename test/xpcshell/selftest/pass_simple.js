/* Must pass: head and tail files are loaded; a server URL is defined. */
var SELFTEST_TAIL_CHECK = () => info("tail file ran");
function run_test() {
  Assert.ok(SELFTEST_HEAD_LOADED, "head file loaded first");
  Assert.equal(SELFTEST_SERVER, "ws://selftest.invalid/", "--server URL");
  Assert.strictEqual(SELFTEST_BROKEN_SERVER, null, "failed server is null");
}

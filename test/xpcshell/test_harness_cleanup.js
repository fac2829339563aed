/* Harness self-test: cleanup functions run after the test, last registered
 * first, with returned promises awaited. */

var ran = [];

// Registered first, so it runs last and sees the others.
registerCleanupFunction(function check_order() {
  Assert.deepEqual(ran, ["test", "async cleanup", "old-style cleanup"]);
});

do_register_cleanup(function old_style() {
  ran.push("old-style cleanup");
});

registerCleanupFunction(async function async_cleanup() {
  await new Promise(resolve => do_timeout(20, resolve));
  ran.push("async cleanup");
});

function run_test() {
  ran.push("test");
}

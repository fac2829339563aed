/* Must fail: a failed Assert in an add_task after an await. */
add_task(async function asserts() {
  await Promise.resolve();
  Assert.deepEqual([1, 2], [1, 3]);
});

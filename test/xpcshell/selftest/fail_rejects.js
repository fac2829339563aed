/* Must fail: Assert.rejects on a promise that resolves. */
add_task(async function rejects_resolved() {
  await Assert.rejects(Promise.resolve("fine"), /anything/);
});

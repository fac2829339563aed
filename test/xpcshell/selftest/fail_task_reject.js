/* Must fail: an add_task that rejects (after an await). */
add_task(async function rejects() {
  await new Promise(resolve => do_timeout(10, resolve));
  throw new Error("task rejected");
});
add_task(async function not_reached() {
  do_throw("a task after a failed one must not run");
});

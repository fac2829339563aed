/* Harness self-test: add_task.only runs only the .only tasks (and setup). */

var ran = [];

add_setup(function setup() {
  ran.push("setup");
});

add_task(async function not_only() {
  do_throw("a task not marked .only must not run when another one is");
});

add_task.only(async function the_only_one() {
  ran.push("only");
});

add_test(function not_only_either() {
  do_throw("an add_test not marked .only must not run either");
});

registerCleanupFunction(() => {
  Assert.deepEqual(ran, ["setup", "only"]);
});

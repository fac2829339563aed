/* Must fail: a todo check that passes. */
function run_test() {
  todo_check_true(true);
}

/* Must fail: do_throw in an add_test function. */
add_test(function throws() {
  do_throw("explicit do_throw");
});

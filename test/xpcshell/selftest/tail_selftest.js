/* Tail file of the self-test manifest: runs after the test. */
if (typeof SELFTEST_TAIL_CHECK === "function") {
  SELFTEST_TAIL_CHECK();
}

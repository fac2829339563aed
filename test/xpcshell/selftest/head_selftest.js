/* Head file of the self-test manifest: defines what tests there use. */
var SELFTEST_HEAD_LOADED = true;

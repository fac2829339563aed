/* Harness self-test: the shell's globals and the file helpers. */

function run_test() {
  for (let name of ["print", "dump", "quit", "load", "Components", "Cc", "Ci",
                    "Cr", "Cu", "Services"]) {
    Assert.notEqual(typeof globalThis[name], "undefined", name + " exists");
  }
  Assert.equal(Cr.NS_ERROR_ALREADY_OPENED, 0x804b0049);
  Assert.equal(Cr.NS_ERROR_ILLEGAL_VALUE, 0x80070057);

  let cwd = do_get_cwd();
  Assert.equal(cwd.leafName, "xpcshell", "the test's directory");
  let file = do_get_file("head.js");
  Assert.equal(file.leafName, "head.js");
  Assert.equal(file.parent.path, cwd.path);
  let copy = file.clone();
  copy.append("x");
  Assert.equal(copy.path, file.path + "/x", "clone is independent");
  Assert.notEqual(file.exists(), false, "head.js exists (or cannot tell)");
  do_get_file("no-such-file", true); // allowed to be missing

  Assert.stringMatches(do_get_tempdir().path, /^\//);
  if (typeof _TEST_TMPDIR === "string") {
    Assert.equal(do_get_tempdir().path, _TEST_TMPDIR);
  }
  Assert.equal(do_get_profile().leafName, "profile");
}

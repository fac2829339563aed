/*
 * head_bridge.js — assertions for the bridge tests (run as
 * `xpcshell -f head_bridge.js test_x.js`). Every check prints
 * `PASS | <test> | <message>` or `FAIL | <test> | <message>`; finish()
 * prints the verdict and quits with 1 when anything failed. An uncaught
 * exception makes xpcshell itself exit non-zero.
 */
"use strict";
var _failures = 0, _passes = 0;
var _testName = "bridge";

function _where() {
  let f = Components.stack;
  while (f && /head_bridge\.js$/.test(f.filename))
    f = f.caller;
  return f ? `${f.filename.replace(/.*\//, "")}:${f.lineNumber}` : "?";
}
function _report(ok, msg) {
  if (ok) {
    _passes++;
    print(`PASS | ${_testName} | ${msg}`);
  } else {
    _failures++;
    print(`FAIL | ${_testName} | ${msg} (${_where()})`);
  }
}
function check(cond, msg) { _report(!!cond, msg); }
function eq(actual, expected, msg) {
  const ok = Object.is(actual, expected) ||
             (typeof actual === "bigint" && actual === expected);
  _report(ok, `${msg}: got ${_show(actual)}, expected ${_show(expected)}`);
}
function deq(actual, expected, msg) {
  const a = JSON.stringify(actual, _big), e = JSON.stringify(expected, _big);
  _report(a === e, `${msg}: got ${a}, expected ${e}`);
}
function _big(k, v) { return typeof v === "bigint" ? v.toString() + "n" : v; }
function _show(v) {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "bigint") return v + "n";
  try { return String(v); } catch (e) { return "<?>"; }
}
/* fn must throw an exception whose .result is rv. */
function throwsResult(fn, rv, msg) {
  try {
    fn();
  } catch (e) {
    const got = e && typeof e === "object" ? e.result : e;
    _report(got === rv, `${msg}: threw result ${_hex(got)}, expected ${_hex(rv)}` +
            (e && e.message ? ` (${e.message})` : ""));
    return e;
  }
  _report(false, `${msg}: did not throw`);
  return null;
}
function _hex(v) { return typeof v === "number" ? "0x" + (v >>> 0).toString(16) : String(v); }
function spinUntil(cond) { Services.tm.spinEventLoopUntil("test", cond); }
function finish() {
  print(`${_failures ? "FAIL" : "PASS"} | ${_testName} | ${_passes} passed, ${_failures} failed`);
  quit(_failures ? 1 : 0);
}

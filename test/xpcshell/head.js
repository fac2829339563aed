/* head.js — the xpcshell test harness (installed as
 * share/wschannel/xpcshell/head.js).
 *
 * Gives a test file Gecko's xpcshell API in both of its eras:
 *   run_test, _execute_test, add_test/run_next_test, add_task (async
 *   functions, promises, old-style generators; .only/.skip; add_setup),
 *   do_test_pending/do_test_finished, do_timeout, do_execute_soon/executeSoon,
 *   registerCleanupFunction/do_register_cleanup, do_check_eq/neq/true/false/
 *   null, todo_check_*, do_check_instanceof, do_check_throws_nsIException,
 *   do_throw, do_print/info, do_report_unexpected_exception, Assert.* (also
 *   as globals: ok, equal, deepEqual, ...), do_get_file/do_get_cwd/
 *   do_get_tempdir/do_get_profile.
 *
 * Run line (Gecko's):
 *   xpcshell -f head.js -f test_x.js -e '_execute_test(); quit(0);'
 * or, as the runner does it, with the files named beforehand so load errors
 * are reported as test failures:
 *   xpcshell -e 'const _HEAD_FILES = [...]; const _TEST_FILE = ["/abs/t.js"];
 *                const _TEST_NAME = "t.js";' -f head.js
 *            -e '_execute_test(); quit(0);'
 * Optional definitions read here (all set with -e before head.js runs):
 *   _HEAD_FILES, _TEST_FILE, _TAIL_FILES   file path or array of paths
 *   _TEST_NAME            name used in the log lines
 *   _HARNESS_TIMEOUT_MS   watchdog: fail the test if it is still running
 *                         after this long (see below)
 *   _TEST_TMPDIR          what do_get_tempdir() returns
 *
 * Output is mozlog's tbpl text form, one line each:
 *   TEST-PASS | <test> | <subtest> - <message>
 *   TEST-UNEXPECTED-FAIL | <test> | <subtest> - <message>  (+ stack lines)
 *   TEST-INFO | <test> | <message>
 * and a final "TEST-INFO | <test> | exiting test" line.  _execute_test()
 * calls quit(1) when anything failed, so the trailing quit(0) is reached
 * only by a test that passed.
 *
 * A test fails on a failed assertion, do_throw, an exception escaping
 * run_test, an add_test function, an add_task task (rejection), a
 * do_timeout/executeSoon callback or a cleanup function, and on a load error.
 * Exceptions thrown from a listener object that native code calls (e.g.
 * nsIWebSocketListener.onStart) go to the shell, not here: the shell
 * reports them on stderr ("uncaught exception"), and runxpcshelltests.py
 * fails a test on such a report.  A failed assertion in such a callback is
 * recorded here before it throws, so it is never lost either way.
 *
 * "Still pending when nothing can happen any more": the main loop is
 * Gecko's `while (!_quit) processNextEvent(true)`.  Whether anything can
 * still arrive is not visible from script: hasPendingEvents() only covers
 * the queue, while the channel's socket thread and the timer thread post
 * events later.  So a test that stays pending blocks, and is failed by the
 * watchdog (_HARNESS_TIMEOUT_MS, an nsITimer that logs
 * TEST-UNEXPECTED-TIMEOUT with the names still pending) and, as a backstop,
 * by the runner's per-test timeout (which kills the process).
 */

/* Everything here is a global of the test's scope; private names start
 * with an underscore.  `var`/function declarations, so that a test file may
 * redefine any of them. */

var _quit = false;          // the main loop stops when set
var _passed = true;         // false after the first failure
var _tests_pending = 0;
var _pending_names = [];    // for diagnostics (watchdog, errors)
var _cleanupFunctions = [];
var _armedTimers = new Set(); // keeps do_timeout timers alive until they fire
var _watchdog = null;
var _watchdogFired = false;
var _current_subtest = "head";
var _guessedTestName = null;

// add_test/add_task state.
var _gTests = [];
var _gTestIndex = 0;
var _gRunningTest = null;
var _gTaskRunning = false;
var _gTestHasOnly = false;

/* Thrown to unwind a test after a failure was logged; never logged again. */
class _TestAbortError extends Error {
  constructor() {
    super("xpcshell test aborted after a failure");
    this.name = "TestAbortError";
  }
}

/* ---- logging ---------------------------------------------------------- */

function _test_name() {
  if (typeof _TEST_NAME === "string" && _TEST_NAME) {
    return _TEST_NAME;
  }
  if (typeof _TEST_FILE !== "undefined") {
    let files = Array.isArray(_TEST_FILE) ? _TEST_FILE : [_TEST_FILE];
    if (files.length) {
      return _basename(files[files.length - 1]);
    }
  }
  return _guessedTestName || "xpcshell-test";
}

function _basename(path) {
  let s = String(path);
  let i = s.lastIndexOf("/");
  return i >= 0 ? s.slice(i + 1) : s;
}

function _dirname(path) {
  let s = String(path);
  let i = s.lastIndexOf("/");
  if (i < 0) {
    return ".";
  }
  return i === 0 ? "/" : s.slice(0, i);
}

function _log_line(status, subtest, message) {
  let line = status + " | " + _test_name() + " | ";
  line += subtest ? subtest + " - " + message : message;
  print(line);
}

/* The frames of a stack string ("fn@file:line:col" per line), without the
 * harness's own frames. */
function _stack_frames(stack) {
  if (typeof stack !== "string") {
    return [];
  }
  let frames = [];
  for (let line of stack.split("\n")) {
    let m = /^(.*?)@(.*):(\d+):(\d+)$/.exec(line);
    if (!m) {
      continue;
    }
    if (/(^|\/)head\.js$/.test(m[2])) {
      continue;
    }
    frames.push({ name: m[1] || "<top>", file: m[2], line: +m[3] });
  }
  return frames;
}

/* The first frame outside head.js: the test code that called us. */
function _caller() {
  let frames = _stack_frames(new Error().stack);
  if (!_guessedTestName) {
    // Run as `-f test_x.js` without _TEST_NAME: name the log after the
    // first test file seen calling us.
    let t = frames.find(f => /^test_.*\.js$/.test(_basename(f.file)));
    if (t) {
      _guessedTestName = _basename(t.file);
    }
  }
  return frames.length ? frames[0] : null;
}

function _caller_tag() {
  let f = _caller();
  return f ? "[" + f.name + " : " + f.line + "] " : "";
}

/* stack: a stack string, or an nsIStackFrame such as the
 * Components.stack.caller that old tests pass to do_check_*. */
function _dump_stack(stack) {
  if (stack && typeof stack === "object") {
    stack = typeof stack.formattedStack === "string" ? stack.formattedStack
                                                     : String(stack);
  }
  let frames = _stack_frames(typeof stack === "string" ? stack : "");
  for (let f of frames) {
    print("    JS frame :: " + f.file + " :: " + f.name + " :: line " + f.line);
  }
}

/* A readable one-line form of any value, for assertion messages. */
function _fmt(value) {
  let s;
  try {
    if (typeof value === "string") {
      s = JSON.stringify(value);
    } else if (typeof value === "function") {
      s = "function " + (value.name || "(anonymous)");
    } else if (typeof value === "bigint") {
      s = String(value) + "n";
    } else if (value !== null && typeof value === "object") {
      if (value instanceof Error || value instanceof RegExp) {
        s = String(value);
      } else {
        try {
          s = JSON.stringify(value);
        } catch (e) {
          s = undefined; // cyclic
        }
        if (s === undefined || s === "{}") {
          s = String(value);
        }
      }
    } else {
      s = String(value);
    }
  } catch (e) {
    s = "<unprintable " + typeof value + ">";
  }
  return s.length > 300 ? s.slice(0, 300) + "…" : s;
}

/* Name of an nsresult, via Components.results, or its hex form. */
function _result_name(code) {
  let hex = "0x" + (code >>> 0).toString(16).padStart(8, "0");
  try {
    if (typeof Components !== "undefined" && Components.results) {
      for (let name in Components.results) {
        if (Components.results[name] === code) {
          return name + " (" + hex + ")";
        }
      }
    }
  } catch (e) {
    // A results object that cannot be enumerated: the number is enough.
  }
  return hex;
}

function _exception_message(ex) {
  if (ex === null || ex === undefined || typeof ex !== "object") {
    return typeof ex === "string" ? ex : _fmt(ex);
  }
  let text;
  try {
    text = String(ex);
  } catch (e) {
    text = "<exception>";
  }
  if (typeof ex.result === "number" && !/0x[0-9a-f]{8}/i.test(text)) {
    text += " [" + _result_name(ex.result) + "]";
  }
  let file = ex.fileName || ex.filename;
  if (file && !text.includes(file)) {
    text += " at " + file + ":" + (ex.lineNumber || "?");
  }
  return text;
}

/* ---- results ---------------------------------------------------------- */

/* Records one check.  A failure is logged, marks the test failed, stops the
 * main loop and throws _TestAbortError to unwind the current test. */
function do_report_result(passed, text, stack, todo) {
  if (todo) {
    if (passed) {
      _log_line("TEST-UNEXPECTED-PASS", _current_subtest, text);
      _dump_stack(stack);
      _abort_failed_test();
    } else {
      _log_line("TEST-KNOWN-FAIL", _current_subtest, text);
    }
    return;
  }
  if (passed) {
    _log_line("TEST-PASS", _current_subtest, text);
    return;
  }
  _log_line("TEST-UNEXPECTED-FAIL", _current_subtest, text);
  _dump_stack(stack);
  _abort_failed_test();
}

function _mark_failed() {
  _passed = false;
  _quit = true;
}

function _abort_failed_test() {
  _mark_failed();
  throw new _TestAbortError();
}

function _is_abort(ex) {
  return ex instanceof _TestAbortError;
}

/* Logs an exception nobody expected and fails the test (does not throw). */
function do_report_unexpected_exception(ex, text) {
  if (_is_abort(ex)) {
    _mark_failed(); // already logged
    return;
  }
  let msg = (text ? text + " - " : "") + "Unexpected exception " +
            _exception_message(ex);
  _log_line("TEST-UNEXPECTED-FAIL", _current_subtest, msg);
  if (ex && typeof ex === "object" && typeof ex.stack === "string") {
    _dump_stack(ex.stack);
  }
  _mark_failed();
}

/* Logs an exception that the test expected (information only). */
function do_note_exception(ex, text) {
  info((text ? text + " - " : "") + "Swallowed exception " +
       _exception_message(ex));
}

function do_throw(error, stack) {
  let text = error instanceof Error ? error.message : String(error);
  if (!stack) {
    stack = error instanceof Error && error.stack ? error.stack
                                                  : new Error().stack;
  }
  if (stack && typeof stack === "object" && stack.formattedStack) {
    stack = stack.formattedStack;
  }
  _log_line("TEST-UNEXPECTED-FAIL", _current_subtest, text);
  _dump_stack(typeof stack === "string" ? stack : "");
  _abort_failed_test();
}

function info(msg, data) {
  let text = String(msg);
  if (data !== undefined) {
    text += " " + _fmt(data);
  }
  _log_line("TEST-INFO", null, text);
}

function do_print(msg, data) {
  info(msg, data);
}

/* Callbacks run by _guard that have not returned yet (innermost last). */
var _guardStack = [];

/* Runs a callback for the harness; any exception fails the test. */
function _guard(func, what) {
  _guardStack.push(what);
  try {
    return func();
  } catch (ex) {
    do_report_unexpected_exception(ex, what);
    return undefined;
  } finally {
    // Skipped when the engine terminates the script (an uncatchable
    // error): _check_terminated then finds the entry still here.
    _guardStack.pop();
  }
}

/* Called by the event loops between events, when no guarded callback can
 * be running: one still listed was cut short without an exception (the
 * shell reports such an "uncatchable error" on stderr), so the test could
 * never finish: fail it now rather than wait for the timeout. */
function _check_terminated() {
  if (_guardStack.length) {
    _log_line("TEST-UNEXPECTED-FAIL", _current_subtest,
              _guardStack.join(" > ") + " was terminated without an " +
              "exception (an uncatchable error: see the shell's output)");
    _guardStack.length = 0;
    _mark_failed();
  }
}

/* ---- Assert ----------------------------------------------------------- */

class _AssertionError extends Error {
  constructor(message, actual, expected, operator) {
    super(message);
    this.name = "AssertionError";
    this.actual = actual;
    this.expected = expected;
    this.operator = operator;
  }
}

/* Structural equality in the manner of Assert.jsm: `==` for primitives
 * (=== when strict), same prototype-independent own enumerable keys for
 * objects, element-wise for arrays, value for Date/RegExp; cycles are
 * handled by remembering pairs under comparison. */
function _deep_equal(a, b, strict, seen) {
  if (a === b) {
    return true;
  }
  if (typeof a === "number" && typeof b === "number" && a !== a && b !== b) {
    return true; // NaN
  }
  let aObj = a !== null && typeof a === "object";
  let bObj = b !== null && typeof b === "object";
  if (!aObj && !bObj) {
    return strict ? false : a == b; // eslint-disable-line eqeqeq
  }
  if (!aObj || !bObj) {
    return false;
  }
  if (a instanceof Date && b instanceof Date) {
    return a.getTime() === b.getTime();
  }
  if (a instanceof RegExp && b instanceof RegExp) {
    return String(a) === String(b) && a.lastIndex === b.lastIndex;
  }
  if (Array.isArray(a) !== Array.isArray(b)) {
    return false;
  }
  if (strict && Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) {
    return false;
  }
  for (let [x, y] of seen) {
    if (x === a && y === b) {
      return true;
    }
  }
  seen.push([a, b]);
  try {
    if (a instanceof Map && b instanceof Map) {
      if (a.size !== b.size) {
        return false;
      }
      for (let [k, v] of a) {
        if (!b.has(k) || !_deep_equal(v, b.get(k), strict, seen)) {
          return false;
        }
      }
      return true;
    }
    if (a instanceof Set && b instanceof Set) {
      if (a.size !== b.size) {
        return false;
      }
      for (let v of a) {
        if (!b.has(v)) {
          return false;
        }
      }
      return true;
    }
    let ka = Object.keys(a).sort();
    let kb = Object.keys(b).sort();
    if (ka.length !== kb.length) {
      return false;
    }
    for (let i = 0; i < ka.length; i++) {
      if (ka[i] !== kb[i]) {
        return false;
      }
    }
    for (let k of ka) {
      if (!_deep_equal(a[k], b[k], strict, seen)) {
        return false;
      }
    }
    return true;
  } finally {
    seen.pop();
  }
}

/* Does exception `ex` match `expected` (Assert.throws/rejects)? */
function _exception_matches(ex, expected) {
  if (expected instanceof RegExp) {
    let texts = [];
    try {
      texts.push(String(ex));
    } catch (e) {}
    if (ex !== null && typeof ex === "object") {
      for (let key of ["message", "name"]) {
        if (typeof ex[key] === "string") {
          texts.push(ex[key]);
        }
      }
      // Lets /NS_ERROR_FOO/ match an exception that carries only .result.
      if (typeof ex.result === "number") {
        texts.push(_result_name(ex.result));
      }
    }
    return texts.some(t => {
      expected.lastIndex = 0;
      return expected.test(t);
    });
  }
  if (typeof expected === "number") {
    // An nsresult: the XPCOM exception's .result, or a thrown number.
    return ex === expected ||
           (ex !== null && typeof ex === "object" && ex.result === expected);
  }
  if (typeof expected === "function") {
    if (expected.prototype !== undefined && ex instanceof expected) {
      return true;
    }
    if (expected === Error || expected.prototype instanceof Error) {
      return false;
    }
    return expected.call({}, ex) === true;
  }
  if (expected !== null && typeof expected === "object") {
    // Every listed property must match (a RegExp value is tested).
    if (ex === null || typeof ex !== "object") {
      return false;
    }
    for (let key of Object.keys(expected)) {
      let want = expected[key];
      let got = ex[key];
      if (want instanceof RegExp ? !want.test(String(got))
                                 : !_deep_equal(got, want, true, [])) {
        return false;
      }
    }
    return true;
  }
  return false;
}

/* An Assert object in the manner of Assert.jsm.  `reporter(err, message,
 * stack)` gets err === null for a pass; without a reporter, a failure
 * throws the AssertionError. */
class _Assert {
  constructor(reporter) {
    this._reporter = reporter || null;
  }

  setReporter(reporter) {
    this._reporter = reporter || null;
  }

  /* passed: the check's outcome; message: the caller's text (may be
   * empty); detail: what was compared, shown on failure and when there is
   * no message. */
  _report(passed, message, detail, actual, expected, operator) {
    let text;
    if (passed) {
      text = message || detail;
    } else {
      text = message ? message + " - " + detail : detail;
    }
    text = _caller_tag() + text;
    let err = passed ? null
                     : new _AssertionError(text, actual, expected, operator);
    let stack = new Error().stack;
    if (this._reporter) {
      this._reporter(err, text, stack);
    } else if (err) {
      throw err;
    }
  }

  ok(value, message) {
    this._report(!!value, message,
                 "got " + _fmt(value) + ", expected a true value",
                 value, true, "==");
  }

  equal(actual, expected, message) {
    // eslint-disable-next-line eqeqeq
    this._report(actual == expected, message,
                 _fmt(actual) + " == " + _fmt(expected),
                 actual, expected, "==");
  }

  notEqual(actual, expected, message) {
    // eslint-disable-next-line eqeqeq
    this._report(actual != expected, message,
                 _fmt(actual) + " != " + _fmt(expected),
                 actual, expected, "!=");
  }

  strictEqual(actual, expected, message) {
    this._report(actual === expected, message,
                 _fmt(actual) + " === " + _fmt(expected),
                 actual, expected, "===");
  }

  notStrictEqual(actual, expected, message) {
    this._report(actual !== expected, message,
                 _fmt(actual) + " !== " + _fmt(expected),
                 actual, expected, "!==");
  }

  deepEqual(actual, expected, message) {
    this._report(_deep_equal(actual, expected, false, []), message,
                 _fmt(actual) + " deepEqual " + _fmt(expected),
                 actual, expected, "deepEqual");
  }

  notDeepEqual(actual, expected, message) {
    this._report(!_deep_equal(actual, expected, false, []), message,
                 _fmt(actual) + " notDeepEqual " + _fmt(expected),
                 actual, expected, "notDeepEqual");
  }

  greater(left, right, message) {
    this._report(left > right, message, _fmt(left) + " > " + _fmt(right),
                 left, right, ">");
  }

  greaterOrEqual(left, right, message) {
    this._report(left >= right, message, _fmt(left) + " >= " + _fmt(right),
                 left, right, ">=");
  }

  less(left, right, message) {
    this._report(left < right, message, _fmt(left) + " < " + _fmt(right),
                 left, right, "<");
  }

  lessOrEqual(left, right, message) {
    this._report(left <= right, message, _fmt(left) + " <= " + _fmt(right),
                 left, right, "<=");
  }

  stringContains(haystack, needle, message) {
    this._report(typeof haystack === "string" && haystack.includes(needle),
                 message, _fmt(haystack) + " contains " + _fmt(needle),
                 haystack, needle, "stringContains");
  }

  stringMatches(string, pattern, message) {
    let re = pattern instanceof RegExp ? pattern : new RegExp(pattern);
    this._report(typeof string === "string" && re.test(string), message,
                 _fmt(string) + " matches " + String(re),
                 string, pattern, "stringMatches");
  }

  /* expected: RegExp (tested against the exception's text, message, name
   * and result name), a constructor (instanceof), a predicate returning
   * true, an nsresult number, or an object whose properties must match. */
  throws(block, expected, message) {
    if (typeof expected === "string" && message === undefined) {
      message = expected;
      expected = undefined;
    }
    let threw = false;
    let ex;
    try {
      block();
    } catch (e) {
      threw = true;
      ex = e;
    }
    if (!threw) {
      this._report(false, message, "Missing expected exception",
                   undefined, expected, "throws");
      return;
    }
    if (expected === undefined) {
      this._report(true, message, "threw " + _exception_message(ex),
                   ex, expected, "throws");
      return;
    }
    this._report(_exception_matches(ex, expected), message,
                 "threw " + _exception_message(ex) + ", expected " +
                 _fmt(typeof expected === "number" ? _result_name(expected)
                                                   : expected),
                 ex, expected, "throws");
  }

  /* Returns a promise to await; the check is reported when it settles. */
  rejects(promise, expected, message) {
    if (typeof expected === "string" && message === undefined) {
      message = expected;
      expected = undefined;
    }
    return Promise.resolve(promise).then(
      value => {
        this._report(false, message,
                     "Missing expected rejection (resolved with " +
                     _fmt(value) + ")", value, expected, "rejects");
      },
      ex => {
        if (expected === undefined) {
          this._report(true, message, "rejected with " +
                       _exception_message(ex), ex, expected, "rejects");
          return;
        }
        this._report(_exception_matches(ex, expected), message,
                     "rejected with " + _exception_message(ex) +
                     ", expected " + _fmt(typeof expected === "number"
                                          ? _result_name(expected) : expected),
                     ex, expected, "rejects");
      });
  }
}

var Assert = new _Assert((err, message, stack) => {
  do_report_result(err === null, message, stack);
});

/* Gecko also offers Assert's methods as globals (ok, equal, ...); set as
 * plain properties so a test may still declare its own of the same name. */
for (let _name of ["ok", "equal", "notEqual", "strictEqual",
                   "notStrictEqual", "deepEqual", "notDeepEqual", "greater",
                   "greaterOrEqual", "less", "lessOrEqual", "stringContains",
                   "stringMatches", "throws", "rejects"]) {
  if (!(_name in globalThis)) {
    globalThis[_name] = Assert[_name].bind(Assert);
  }
}

/* ---- old-style checks ------------------------------------------------- */

function do_check_eq(left, right, stack, todo) {
  // eslint-disable-next-line eqeqeq
  do_report_result(left == right, _caller_tag() + _fmt(left) + " == " +
                   _fmt(right), stack || new Error().stack, todo);
}

function do_check_neq(left, right, stack, todo) {
  // eslint-disable-next-line eqeqeq
  do_report_result(left != right, _caller_tag() + _fmt(left) + " != " +
                   _fmt(right), stack || new Error().stack, todo);
}

/* As in Gecko these compare with ==, so do_check_true(1) passes and
 * do_check_true("yes") fails. */
function do_check_true(condition, stack, todo) {
  do_check_eq(condition, true, stack || new Error().stack, todo);
}

function do_check_false(condition, stack, todo) {
  do_check_eq(condition, false, stack || new Error().stack, todo);
}

function do_check_null(condition, stack, todo) {
  do_check_eq(condition, null, stack || new Error().stack, todo);
}

function todo_check_eq(left, right, stack) {
  do_check_eq(left, right, stack || new Error().stack, true);
}

function todo_check_neq(left, right, stack) {
  do_check_neq(left, right, stack || new Error().stack, true);
}

function todo_check_true(condition, stack) {
  do_check_eq(condition, true, stack || new Error().stack, true);
}

function todo_check_false(condition, stack) {
  do_check_eq(condition, false, stack || new Error().stack, true);
}

function todo_check_null(condition, stack) {
  do_check_eq(condition, null, stack || new Error().stack, true);
}

function do_check_instanceof(value, constructor, stack, todo) {
  let name = constructor && constructor.name ? constructor.name
                                             : String(constructor);
  do_report_result(value instanceof constructor, _caller_tag() +
                   _fmt(value) + " instanceof " + name,
                   stack || new Error().stack, todo);
}

/* func must throw an XPCOM exception whose .result is Cr[resultName]. */
function do_check_throws_nsIException(func, resultName, stack, todo) {
  let expected = Components.results[resultName];
  if (typeof expected !== "number") {
    do_throw("do_check_throws_nsIException: unknown result name " +
             resultName, stack);
  }
  let ex = null;
  try {
    func();
  } catch (e) {
    ex = e;
  }
  let text;
  if (ex === null) {
    text = "expected " + resultName + " to be thrown, nothing was";
  } else {
    text = "expected " + resultName + ", got " + _exception_message(ex);
  }
  let ok = ex !== null && typeof ex === "object" && ex.result === expected;
  do_report_result(ok, _caller_tag() + (ok ? resultName + " thrown" : text),
                   stack || new Error().stack, todo);
}

/* ---- pending count, event loop, timers -------------------------------- */

function do_test_pending(name) {
  _tests_pending++;
  _pending_names.push(name === undefined ? "(unnamed)" : String(name));
  _log_line("TEST-INFO", null, "(xpcshell/head.js) | test " +
            (name === undefined ? "" : name + " ") + "pending (" +
            _tests_pending + ")");
}

function do_test_finished(name) {
  let label = name === undefined ? "(unnamed)" : String(name);
  _log_line("TEST-INFO", null, "(xpcshell/head.js) | test " +
            (name === undefined ? "" : name + " ") + "finished (" +
            (_tests_pending - 1) + ")");
  if (_tests_pending <= 0) {
    do_report_result(false, "do_test_finished(" + label + ") called more " +
                     "often than do_test_pending", new Error().stack);
    return;
  }
  let i = _pending_names.lastIndexOf(label);
  _pending_names.splice(i >= 0 ? i : _pending_names.length - 1, 1);
  if (--_tests_pending === 0) {
    _quit = true;
  }
}

function _dispatch(func) {
  Services.tm.mainThread.dispatch({ run: func },
                                  Ci.nsIEventTarget.DISPATCH_NORMAL);
}

/* Runs func from the main thread's event queue, soon; the test stays
 * pending until it has run. */
function executeSoon(func, name) {
  let label = "executeSoon " + (name || func.name || "callback");
  do_test_pending(label);
  // Nothing may escape a runnable into native code: both steps guarded.
  _dispatch(() => {
    _guard(func, "executeSoon callback");
    _guard(() => do_test_finished(label), "executeSoon");
  });
}

function do_execute_soon(func, name) {
  executeSoon(func, name);
}

/* Calls func after delay ms (an nsITimer).  Like Gecko's, does not keep the
 * test pending: call do_test_pending yourself if the test must wait. */
function do_timeout(delay, func) {
  let timer = Cc["@mozilla.org/timer;1"].createInstance(Ci.nsITimer);
  _armedTimers.add(timer);
  timer.initWithCallback({
    notify() {
      _armedTimers.delete(timer);
      _guard(func, "do_timeout callback");
    },
  }, Math.max(0, Number(delay) || 0), Ci.nsITimer.TYPE_ONE_SHOT);
}

function _start_watchdog() {
  if (typeof _HARNESS_TIMEOUT_MS !== "number" || !(_HARNESS_TIMEOUT_MS > 0)) {
    return;
  }
  _watchdog = Cc["@mozilla.org/timer;1"].createInstance(Ci.nsITimer);
  _watchdog.initWithCallback({
    notify() {
      _watchdogFired = true;
      _log_line("TEST-UNEXPECTED-TIMEOUT", _current_subtest,
                "still running after " + _HARNESS_TIMEOUT_MS + " ms; " +
                "pending: " + (_pending_names.length
                               ? _pending_names.join(", ") : "nothing") +
                " (a do_test_pending without do_test_finished, an add_test " +
                "that never calls run_next_test, or a task that never " +
                "settles)");
      _mark_failed();
    },
  }, _HARNESS_TIMEOUT_MS, Ci.nsITimer.TYPE_ONE_SHOT);
}

function _stop_watchdog() {
  if (_watchdog) {
    _watchdog.cancel();
    _watchdog = null;
  }
}

/* Queues a no-op event.  Promise jobs run between events, so this makes
 * jobs queued by code that ran outside any event (the top-level script)
 * run before the loop blocks waiting for the next event. */
function _kick_jobs() {
  _dispatch(function () {});
}

function _do_main() {
  let thread = Services.tm.currentThread;
  _kick_jobs();
  while (!_quit) {
    thread.processNextEvent(true);
    _check_terminated();
  }
  // Run what is already queued (late callbacks may still report), but do
  // not wait for more; the bound guards against self-reposting events.
  for (let n = 0; n < 10000 && thread.hasPendingEvents(); n++) {
    thread.processNextEvent(false);
    _check_terminated();
  }
}

/* Spins the event loop until promise settles; a rejection fails the test. */
function _await_promise(promise, what) {
  let done = false;
  Promise.resolve(promise).then(
    () => { done = true; },
    ex => {
      done = true;
      do_report_unexpected_exception(ex, what);
    });
  let thread = Services.tm.currentThread;
  _kick_jobs();
  while (!done && !_watchdogFired) {
    thread.processNextEvent(true);
    _check_terminated();
    if (!_passed && _quit && !done) {
      break; // a terminated callback: the promise may never settle
    }
  }
}

/* ---- add_test / add_task ---------------------------------------------- */

function _note_test_file() {
  if (!_guessedTestName) {
    let f = _caller();
    if (f) {
      _guessedTestName = _basename(f.file);
    }
  }
}

function _add(kind, props, func, extra) {
  if (typeof props === "function") {
    func = props;
    props = {};
  }
  if (typeof func !== "function") {
    throw new TypeError(kind + "() needs a function");
  }
  _note_test_file();
  let entry = Object.assign({
    func,
    props: props || {},
    isTask: kind !== "add_test",
    isSetup: false,
    only: false,
    skip: false,
    name: func.name || "anonymous " + (kind === "add_test" ? "test" : "task"),
  }, extra);
  if (entry.only) {
    _gTestHasOnly = true;
  }
  _gTests.push(entry);
  return func;
}

/* A test function that must call run_next_test() when it is done. */
function add_test(props, func) {
  return _add("add_test", props, func, {});
}
add_test.only = (props, func) => _add("add_test", props, func, { only: true });
add_test.skip = (props, func) => _add("add_test", props, func, { skip: true });

/* An async function (or one returning a promise, or an old-style
 * generator yielding promises); the next test starts when it settles. */
function add_task(props, func) {
  return _add("add_task", props, func, {});
}
add_task.only = (props, func) => _add("add_task", props, func, { only: true });
add_task.skip = (props, func) => _add("add_task", props, func, { skip: true });

/* A task that runs even when others are marked .only. */
function add_setup(func) {
  return _add("add_setup", {}, func, { isSetup: true });
}

/* Drives an old-style generator task (Task.jsm): each yielded value is
 * awaited and its result or exception sent back in. */
function _drive_generator(gen) {
  return new Promise((resolve, reject) => {
    function step(method, arg) {
      let r;
      try {
        r = gen[method](arg);
      } catch (ex) {
        reject(ex);
        return;
      }
      if (r.done) {
        resolve(r.value);
        return;
      }
      Promise.resolve(r.value).then(v => step("next", v),
                                    e => step("throw", e));
    }
    step("next", undefined);
  });
}

function _run_task(entry) {
  return new Promise(resolve => resolve(entry.func())).then(result => {
    if (result && typeof result.next === "function" &&
        typeof result.throw === "function" &&
        typeof result.then !== "function") {
      return _drive_generator(result);
    }
    return result;
  });
}

function _should_skip(entry) {
  if (entry.skip) {
    return "marked .skip";
  }
  if (_gTestHasOnly && !entry.only && !entry.isSetup) {
    return "another test is marked .only";
  }
  if (typeof entry.props.skip_if === "function") {
    try {
      if (entry.props.skip_if()) {
        return "skip_if returned true";
      }
    } catch (ex) {
      do_report_unexpected_exception(ex, "skip_if of " + entry.name);
    }
  }
  return null;
}

function _run_next_test() {
  while (_gTestIndex < _gTests.length && !_quit) {
    let entry = _gTests[_gTestIndex++];
    let why = _should_skip(entry);
    if (why !== null) {
      info("skipping test " + entry.name + " (" + why + ")");
      continue;
    }
    _gRunningTest = entry;
    _current_subtest = entry.name;
    // Held until the test is done (run_next_test or task settled).
    do_test_pending(entry.name);
    if (entry.isTask) {
      info("running task " + entry.name);
      _gTaskRunning = true;
      _run_task(entry).then(
        () => {
          _gTaskRunning = false;
          info("finished task " + entry.name);
          run_next_test();
        },
        ex => {
          _gTaskRunning = false;
          do_report_unexpected_exception(ex, "task " + entry.name);
        });
    } else {
      info("running test " + entry.name);
      _guard(entry.func, "test " + entry.name);
    }
    return;
  }
}

/* Starts the next add_test/add_task test (from an event, soon) and ends the
 * current one. */
function run_next_test() {
  if (_gTaskRunning) {
    throw new Error("run_next_test() called from an add_task() task; " +
                    "return (or await) instead");
  }
  // Scheduled before the current test is finished, so the pending count
  // does not touch 0 between two tests.
  executeSoon(_run_next_test, "run_next_test " + _gTestIndex);
  if (_gRunningTest !== null) {
    let previous = _gRunningTest;
    _gRunningTest = null;
    do_test_finished(previous.name);
  }
}

/* ---- cleanup ------------------------------------------------------------ */

/* func runs after the test, last registered first; a returned promise is
 * awaited. */
function registerCleanupFunction(func) {
  _cleanupFunctions.push(func);
}

function do_register_cleanup(func) {
  registerCleanupFunction(func);
}

function _run_cleanup() {
  _current_subtest = "cleanup";
  while (_cleanupFunctions.length) {
    let func = _cleanupFunctions.pop();
    let result;
    try {
      result = func();
    } catch (ex) {
      do_report_unexpected_exception(ex, "cleanup function");
      continue;
    }
    if (result && typeof result.then === "function") {
      _await_promise(result, "cleanup function");
    }
  }
}

/* ---- files ---------------------------------------------------------------- */

/* The shell has no nsIFile; these return a small path object with the
 * nsIFile members tests mostly use (path, leafName, parent, clone, append,
 * exists — the last only when the shell can read files). */
function _PathFile(path) {
  this.path = String(path);
}
_PathFile.prototype = {
  get leafName() {
    return _basename(this.path);
  },
  get parent() {
    return new _PathFile(_dirname(this.path));
  },
  clone() {
    return new _PathFile(this.path);
  },
  append(name) {
    this.path = this.path.replace(/\/+$/, "") + "/" + name;
  },
  exists() {
    return _path_exists(this.path);
  },
  toString() {
    return this.path;
  },
};

/* true/false when the shell offers a way to read files, else null. */
function _path_exists(path) {
  let reader = null;
  if (typeof read === "function") {
    reader = read;
  } else if (typeof os === "object" && os && os.file &&
             typeof os.file.readFile === "function") {
    reader = os.file.readFile;
  }
  if (!reader) {
    return null;
  }
  try {
    reader(path);
    return true;
  } catch (ex) {
    // A directory cannot be read as a file but exists; tell them apart by
    // the message, which names the failure.
    return /directory/i.test(String(ex));
  }
}

/* The directory of the test file (the runner also makes it the cwd). */
function do_get_cwd() {
  if (typeof _TEST_FILE !== "undefined") {
    let files = Array.isArray(_TEST_FILE) ? _TEST_FILE : [_TEST_FILE];
    if (files.length) {
      return new _PathFile(_dirname(files[files.length - 1]));
    }
  }
  let f = _caller();
  return new _PathFile(f ? _dirname(f.file) : ".");
}

/* path relative to the test's directory; fails the test when the file is
 * known to be missing and allowNonexistent is not set. */
function do_get_file(path, allowNonexistent) {
  let base = do_get_cwd().path;
  let file = new _PathFile(String(path).startsWith("/") ? path
                                                         : base + "/" + path);
  if (!allowNonexistent && _path_exists(file.path) === false) {
    do_throw("do_get_file: " + file.path + " does not exist");
  }
  return file;
}

function do_get_tempdir() {
  return new _PathFile(typeof _TEST_TMPDIR === "string" ? _TEST_TMPDIR
                                                        : "/tmp");
}

/* No profile service here: a directory under the temporary directory. */
function do_get_profile() {
  let dir = do_get_tempdir();
  dir.append("profile");
  return dir;
}

/* ---- the driver ------------------------------------------------------- */

function _load_files(files, what) {
  if (typeof files === "undefined" || files === null) {
    return true;
  }
  for (let file of Array.isArray(files) ? files : [files]) {
    try {
      load(file);
    } catch (ex) {
      if (!_is_abort(ex)) {
        do_report_unexpected_exception(ex, "error loading " + what + " " +
                                       file);
      }
      _mark_failed();
      return false;
    }
  }
  return true;
}

/* Runs the test: head files, test file, run_test() or the add_test/add_task
 * list, the event loop until nothing is pending, tail files, cleanup
 * functions; then quits with 1 if anything failed. */
function _execute_test() {
  _start_watchdog();
  _current_subtest = "head";
  let loaded =
    _load_files(typeof _HEAD_FILES === "undefined" ? null : _HEAD_FILES,
                "head file") &&
    _load_files(typeof _TEST_FILE === "undefined" ? null : _TEST_FILE,
                "test file");

  if (loaded) {
    do_test_pending("MAIN run_test");
    try {
      if (typeof run_test === "function") {
        _current_subtest = "run_test";
        run_test();
      } else {
        run_next_test();
      }
      do_test_finished("MAIN run_test");
      _do_main();
    } catch (ex) {
      do_report_unexpected_exception(ex, "MAIN run_test");
    }
  }

  if (_passed && _gTaskRunning) {
    // Only reachable when the pending count was driven to 0 by hand.
    do_report_unexpected_exception(
      new Error("a task was still running when the test ended"), "");
  }

  if (typeof _TAIL_FILES !== "undefined") {
    _current_subtest = "tail";
    _load_files(_TAIL_FILES, "tail file");
  }
  _run_cleanup();

  _stop_watchdog();
  for (let timer of _armedTimers) {
    timer.cancel();
  }
  _armedTimers.clear();

  _log_line("TEST-INFO", null, "exiting test");
  if (!_passed) {
    quit(1);
  }
}

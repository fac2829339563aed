/* Harness self-test: add_task with async functions, promises and old-style
 * generators; add_setup; add_task.skip; every Assert method, passing, and
 * failing through an Assert object without a reporter. */

var steps = [];

function wait(ms) {
  return new Promise(resolve => do_timeout(ms, resolve));
}

add_setup(async function setup() {
  steps.push("setup");
});

add_task(async function awaits_a_timer() {
  let start = Date.now();
  await wait(30);
  steps.push("timer");
  Assert.greaterOrEqual(Date.now() - start, 25);
});

add_task(function returns_a_promise() {
  return wait(1).then(() => steps.push("promise"));
});

add_task(function* old_style_generator() {
  let v = yield wait(1).then(() => 42);
  Assert.equal(v, 42, "a yielded promise's value comes back");
  try {
    yield Promise.reject(new Error("boom"));
    do_throw("not reached");
  } catch (e) {
    Assert.equal(e.message, "boom", "a rejection is thrown back in");
  }
  steps.push("generator");
});

add_task.skip(async function skipped() {
  do_throw("an add_task.skip task must not run");
});

add_task({ skip_if: () => true }, async function skipped_by_skip_if() {
  do_throw("a task whose skip_if is true must not run");
});

add_task(async function passing_asserts() {
  Assert.ok(true);
  Assert.ok(1, "truthy");
  Assert.equal(1, "1");
  Assert.notEqual(1, 2);
  Assert.strictEqual("a", "a");
  Assert.notStrictEqual(1, "1");
  Assert.deepEqual({ a: [1, 2, { b: null }], c: "x" },
                   { c: "x", a: [1, 2, { b: null }] });
  Assert.deepEqual([1, 2], ["1", 2], "deepEqual uses == for primitives");
  Assert.notDeepEqual({ a: 1 }, { a: 1, b: 2 });
  Assert.deepEqual(new Map([[1, { x: 1 }]]), new Map([[1, { x: 1 }]]));
  let cyclic1 = { n: 1 };
  cyclic1.self = cyclic1;
  let cyclic2 = { n: 1 };
  cyclic2.self = cyclic2;
  Assert.deepEqual(cyclic1, cyclic2, "cycles are handled");
  Assert.greater(2, 1);
  Assert.greaterOrEqual(2, 2);
  Assert.less(1, 2);
  Assert.lessOrEqual(2, 2);
  Assert.stringContains("hello world", "lo w");
  Assert.stringMatches("hello", /^h.*o$/);
  Assert.throws(() => { throw new TypeError("bad type"); }, /bad type/);
  Assert.throws(() => { throw new TypeError("bad type"); }, TypeError);
  Assert.throws(() => { throw new RangeError("r"); },
                e => e instanceof RangeError && e.message === "r");
  Assert.throws(() => { throw { result: 0x804b0049 }; }, 0x804b0049,
                "an nsresult matches .result");
  Assert.throws(() => { throw { result: 7, extra: "x" }; },
                { result: 7, extra: /x/ }, "an object matches properties");
  Assert.throws(() => { throw new Error("any"); }, "just a message");
  await Assert.rejects(Promise.reject(new Error("nope")), /nope/);
  await Assert.rejects(Promise.reject(new Error("nope")), Error);
  // The global forms.
  ok(true);
  equal(3, 3);
  notEqual(3, 4);
  strictEqual(null, null);
  deepEqual([1], [1]);
  await rejects(Promise.reject(1), e => e === 1);
  throws(() => { throw new Error("global"); }, /global/);
  steps.push("asserts");
});

add_task(async function failing_asserts_throw_without_reporter() {
  let A = new Assert.constructor(); // no reporter: failures throw
  let cases = [
    () => A.ok(false),
    () => A.ok(0),
    () => A.equal(1, 2),
    () => A.notEqual(1, "1"),
    () => A.strictEqual(1, "1"),
    () => A.notStrictEqual(1, 1),
    () => A.deepEqual({ a: 1 }, { a: 2 }),
    () => A.deepEqual([1, 2], [1, 2, 3]),
    () => A.deepEqual({ a: 1 }, { b: 1 }),
    () => A.notDeepEqual([1], [1]),
    () => A.greater(1, 1),
    () => A.greaterOrEqual(1, 2),
    () => A.less(1, 1),
    () => A.lessOrEqual(2, 1),
    () => A.stringContains("abc", "x"),
    () => A.stringMatches("abc", /x/),
    () => A.throws(() => {}),
    () => A.throws(() => { throw new Error("a"); }, /b/),
    () => A.throws(() => { throw new Error("a"); }, TypeError),
    () => A.throws(() => { throw { result: 1 }; }, 2),
  ];
  for (let i = 0; i < cases.length; i++) {
    Assert.throws(cases[i], e => e.name === "AssertionError",
                  "failing case " + i + " throws an AssertionError");
  }
  await Assert.rejects(A.rejects(Promise.resolve(1)),
                       e => e.name === "AssertionError",
                       "rejects() of a resolved promise fails");
  await Assert.rejects(A.rejects(Promise.reject(new Error("x")), /y/),
                       e => e.name === "AssertionError",
                       "rejects() with the wrong error fails");
  let reported = [];
  let B = new Assert.constructor((err, message) => reported.push(!!err));
  B.ok(true);
  B.ok(false);
  Assert.deepEqual(reported, [false, true], "the reporter sees each check");
  steps.push("failing asserts");
});

add_task(async function everything_ran_in_order() {
  Assert.deepEqual(steps, ["setup", "timer", "promise", "generator",
                           "asserts", "failing asserts"]);
});

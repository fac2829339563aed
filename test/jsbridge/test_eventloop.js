/* The main thread's event loop and promise jobs together: jobs run after
 * every event, before the loop would block, and inside nested loops (also
 * when the nested loop is spun by a job), as in Gecko. */
_testName = "test_eventloop";

const tm = Services.tm;
eq(tm.currentThread, tm.mainThread, "current thread is the main thread");
check(tm.isMainThread, "isMainThread");

/* A job queued by the script: spinning for it must not block. */
{
  let x = false;
  Promise.resolve().then(() => { x = true; });
  tm.spinEventLoopUntil("test", () => x);
  check(x, "spinEventLoopUntil waits for a pending job without blocking");
}

/* processNextEvent(true) with only jobs pending returns. */
{
  let y = false;
  Promise.resolve().then(() => { y = true; });
  const ran = tm.currentThread.processNextEvent(true);
  check(y, "processNextEvent runs pending jobs first");
  check(ran, "and does not block");
}

/* A nested loop inside an event sees its own jobs. */
{
  const order = [];
  tm.dispatchToMainThread(() => {
    Promise.resolve().then(() => order.push("job"));
    let inner = false;
    Promise.resolve().then(() => { inner = true; });
    tm.spinEventLoopUntil(() => inner);
    order.push("event done");
  });
  tm.spinEventLoopUntil(() => order.length >= 2);
  deq(order, ["job", "event done"], "nested loop in an event");
}

/* A nested loop spun by a job (an async function) runs later jobs. */
{
  let done = false;
  (async () => {
    await null;
    let z = false;
    Promise.resolve().then(() => { z = true; });
    tm.spinEventLoopUntil(() => z);
    done = true;
  })();
  tm.spinEventLoopUntil(() => done);
  check(done, "nested loop inside a job");
}

/* spinEventLoopUntilEmpty and the old one-argument form. */
{
  let n = 0;
  for (let i = 0; i < 3; i++)
    tm.dispatchToMainThread(() => n++);
  tm.spinEventLoopUntilEmpty();
  eq(n, 3, "spinEventLoopUntilEmpty");
  let m = false;
  tm.dispatchToMainThread(() => { m = true; });
  tm.spinEventLoopUntil(() => m);
  check(m, "spinEventLoopUntil(condition)");
}

/* Async functions awaiting events, interleaved. */
{
  const log = [];
  const tick = () => new Promise(r => tm.dispatchToMainThread(r));
  const a = (async () => { for (let i = 0; i < 3; i++) { await tick(); log.push("a" + i); } })();
  const b = (async () => { for (let i = 0; i < 3; i++) { await tick(); log.push("b" + i); } })();
  let finished = false;
  Promise.all([a, b]).then(() => { finished = true; });
  tm.spinEventLoopUntil(() => finished);
  deq(log, ["a0", "b0", "a1", "b1", "a2", "b2"], "interleaved async functions");
}

/* Exceptions thrown by event callbacks do not stop the loop. */
{
  let after = false;
  dump("(one JavaScript error on stderr is expected)\n");
  tm.dispatchToMainThread(() => { throw new Error("event error"); });
  tm.dispatchToMainThread(() => { after = true; });
  tm.spinEventLoopUntil(() => after);
  check(after, "loop continues after a throwing event");
}

finish();

/*
 * test_threads.c — event queues and threads: dispatch from many threads,
 * FIFO order, synchronous dispatch (also nested), shutdown semantics,
 * dispatch after shutdown, the pollable event (also its OS descriptor and
 * wake-ups racing with the consumer), attached threads, descriptors closed
 * and creation failing cleanly without them, the thread manager service.
 */
#include "svc_test_util.h"
#include "nsIThreadManager.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <prio.h>
#include <private/pprio.h>
#include <sys/resource.h>

static void setup(void) { svc_init(); }
static void teardown(void) { svc_shutdown(); }

static nsIEventTarget *as_target(nsIThread *t) { return (nsIEventTarget *)t; }

/* ---- main thread ----------------------------------------------------- */

START_TEST(test_main_thread_identity)
{
  nsIThread *main = NULL, *cur = NULL;
  ck_assert_uint_eq(NS_GetMainThread(&main), NS_OK);
  ck_assert_uint_eq(NS_GetCurrentThread(&cur), NS_OK);
  ck_assert_ptr_eq(main, cur);
  ck_assert(NS_IsMainThread());
  bool on = false;
  ck_assert_uint_eq(nsIThread_IsOnCurrentThread(main, &on), NS_OK);
  ck_assert(on);
  PRThread *pr = NULL;
  ck_assert_uint_eq(nsIThread_GetPRThread(main, &pr), NS_OK);
  ck_assert_ptr_eq(pr, PR_GetCurrentThread());
  /* QI: the thread is an nsIEventTarget and an nsIThread, one identity. */
  nsIEventTarget *et = NULL;
  ck_assert_uint_eq(nsIThread_QueryInterface(main, &nsIEventTarget_IID,
                                             (void **)&et), NS_OK);
  ck_assert_ptr_eq((void *)et, (void *)main);
  NS_RELEASE(et);
  /* The main thread cannot be shut down through nsIThread. */
  ck_assert_uint_eq(nsIThread_Shutdown(main), NS_ERROR_UNEXPECTED);
  NS_RELEASE(main);
  NS_RELEASE(cur);
}
END_TEST

/* ---- FIFO on the main thread ------------------------------------------ */

typedef struct order_rec {
  int *log;
  atomic_int *n;
  int value;
} order_rec;

static void order_run(void *arg) {
  order_rec *r = arg;
  r->log[atomic_fetch_add(r->n, 1)] = r->value;
  free(r);
}

START_TEST(test_fifo_main)
{
  int log[50];
  atomic_int n = 0;
  nsIThread *main = NULL;
  ck_assert_uint_eq(NS_GetMainThread(&main), NS_OK);
  for (int i = 0; i < 50; i++) {
    order_rec *r = malloc(sizeof *r);
    *r = (order_rec){log, &n, i};
    ck_assert_uint_eq(xpcom_dispatch_fn(as_target(main), order_run, r, free),
                      NS_OK);
  }
  bool pending = false;
  ck_assert_uint_eq(nsIThread_HasPendingEvents(main, &pending), NS_OK);
  ck_assert(pending);
  ck_assert_uint_eq(NS_ProcessPendingEvents(NULL), NS_OK);
  ck_assert_int_eq(atomic_load(&n), 50);
  for (int i = 0; i < 50; i++)
    ck_assert_int_eq(log[i], i);
  ck_assert_uint_eq(nsIThread_HasPendingEvents(main, &pending), NS_OK);
  ck_assert(!pending);
  NS_RELEASE(main);
}
END_TEST

/* ---- many producers, one consumer thread -------------------------------- */

#define PRODUCERS 8
#define PER_PRODUCER 500

typedef struct consumer_state {
  int last[PRODUCERS];
  atomic_int total;
  atomic_bool out_of_order;
  PRThread *expected_thread;
  atomic_bool wrong_thread;
} consumer_state;

typedef struct item {
  consumer_state *st;
  int producer, seq;
} item;

static void item_run(void *arg) {
  item *it = arg;
  consumer_state *st = it->st;
  if (it->seq != st->last[it->producer] + 1)
    atomic_store(&st->out_of_order, true);
  st->last[it->producer] = it->seq;
  if (st->expected_thread && PR_GetCurrentThread() != st->expected_thread)
    atomic_store(&st->wrong_thread, true);
  atomic_fetch_add(&st->total, 1);
  free(it);
}

typedef struct producer_arg {
  nsIEventTarget *target;
  consumer_state *st;
  int id;
  atomic_int failures;
} producer_arg;

static void producer_main(void *arg) {
  producer_arg *p = arg;
  for (int i = 0; i < PER_PRODUCER; i++) {
    item *it = malloc(sizeof *it);
    *it = (item){p->st, p->id, i};
    if (NS_FAILED(xpcom_dispatch_fn(p->target, item_run, it, free))) {
      free(it);
      atomic_fetch_add(&p->failures, 1);
    }
  }
}

START_TEST(test_dispatch_from_many_threads)
{
  nsIThread *worker = NULL;
  ck_assert_uint_eq(NS_NewThread(&worker, NULL, 0), NS_OK);
  consumer_state st;
  memset(&st, 0, sizeof st);
  for (int i = 0; i < PRODUCERS; i++)
    st.last[i] = -1;
  ck_assert_uint_eq(nsIThread_GetPRThread(worker, &st.expected_thread), NS_OK);

  producer_arg args[PRODUCERS];
  PRThread *threads[PRODUCERS];
  for (int i = 0; i < PRODUCERS; i++) {
    args[i] = (producer_arg){as_target(worker), &st, i, 0};
    threads[i] = PR_CreateThread(PR_USER_THREAD, producer_main, &args[i],
                                 PR_PRIORITY_NORMAL, PR_GLOBAL_THREAD,
                                 PR_JOINABLE_THREAD, 0);
    ck_assert_ptr_nonnull(threads[i]);
  }
  for (int i = 0; i < PRODUCERS; i++) {
    PR_JoinThread(threads[i]);
    ck_assert_int_eq(atomic_load(&args[i].failures), 0);
  }
  /* Shutdown runs whatever is still queued before joining. */
  ck_assert_uint_eq(nsIThread_Shutdown(worker), NS_OK);
  ck_assert_int_eq(atomic_load(&st.total), PRODUCERS * PER_PRODUCER);
  ck_assert(!atomic_load(&st.out_of_order));
  ck_assert(!atomic_load(&st.wrong_thread));
  /* A second Shutdown is harmless. */
  ck_assert_uint_eq(nsIThread_Shutdown(worker), NS_OK);
  NS_RELEASE(worker);
}
END_TEST

/* ---- synchronous dispatch ------------------------------------------------- */

typedef struct sync_probe {
  PRThread *ran_on;
  atomic_bool ran;
  nsIThread *back_to; /* if set: sync-dispatch to it from the event */
  atomic_bool nested_ran;
  nsresult nested_rv;
} sync_probe;

static void nested_run(void *arg) {
  atomic_store(&((sync_probe *)arg)->nested_ran, true);
}

static void sync_run(void *arg) {
  sync_probe *p = arg;
  p->ran_on = PR_GetCurrentThread();
  if (p->back_to) {
    nsIRunnable *r = xpcom_runnable_new(nested_run, p, NULL);
    p->nested_rv = nsIThread_DispatchFromScript(p->back_to, r,
                                                nsIEventTarget_DISPATCH_SYNC);
    NS_RELEASE(r);
  }
  atomic_store(&p->ran, true);
}

START_TEST(test_sync_dispatch)
{
  nsIThread *worker = NULL;
  ck_assert_uint_eq(NS_NewThread(&worker, NULL, 0), NS_OK);
  PRThread *worker_pr = NULL;
  ck_assert_uint_eq(nsIThread_GetPRThread(worker, &worker_pr), NS_OK);

  sync_probe p;
  memset(&p, 0, sizeof p);
  nsIRunnable *r = xpcom_runnable_new(sync_run, &p, NULL);
  ck_assert_uint_eq(nsIThread_DispatchFromScript(worker, r,
                                                 nsIEventTarget_DISPATCH_SYNC),
                    NS_OK);
  ck_assert(atomic_load(&p.ran)); /* returned only after running */
  ck_assert_ptr_eq(p.ran_on, worker_pr);
  NS_RELEASE(r);

  /* The event sync-dispatches back to us while we wait for it: our queue
   * is spun during the wait, so this does not deadlock. */
  nsIThread *main = NULL;
  ck_assert_uint_eq(NS_GetMainThread(&main), NS_OK);
  memset(&p, 0, sizeof p);
  p.back_to = main;
  r = xpcom_runnable_new(sync_run, &p, NULL);
  ck_assert_uint_eq(nsIThread_DispatchFromScript(worker, r,
                                                 nsIEventTarget_DISPATCH_SYNC),
                    NS_OK);
  ck_assert(atomic_load(&p.ran));
  ck_assert(atomic_load(&p.nested_ran));
  ck_assert_uint_eq(p.nested_rv, NS_OK);
  NS_RELEASE(r);

  /* Sync dispatch to our own thread runs it before returning. */
  memset(&p, 0, sizeof p);
  r = xpcom_runnable_new(sync_run, &p, NULL);
  ck_assert_uint_eq(nsIThread_DispatchFromScript(main, r,
                                                 nsIEventTarget_DISPATCH_SYNC),
                    NS_OK);
  ck_assert(atomic_load(&p.ran));
  NS_RELEASE(r);

  NS_RELEASE(main);
  ck_assert_uint_eq(nsIThread_Shutdown(worker), NS_OK);
  NS_RELEASE(worker);
}
END_TEST

/* A thread without an event queue cannot wait for a sync dispatch. */
typedef struct queueless_arg {
  nsIThread *target;
  nsresult rv;
} queueless_arg;

static void queueless_main(void *arg) {
  queueless_arg *a = arg;
  nsIRunnable *r = xpcom_runnable_new(nested_run, &(sync_probe){0}, NULL);
  a->rv = nsIThread_DispatchFromScript(a->target, r,
                                       nsIEventTarget_DISPATCH_SYNC);
  NS_RELEASE(r);
}

START_TEST(test_sync_dispatch_needs_a_queue)
{
  nsIThread *worker = NULL;
  ck_assert_uint_eq(NS_NewThread(&worker, NULL, 0), NS_OK);
  queueless_arg a = {worker, NS_OK};
  PRThread *t = PR_CreateThread(PR_USER_THREAD, queueless_main, &a,
                                PR_PRIORITY_NORMAL, PR_GLOBAL_THREAD,
                                PR_JOINABLE_THREAD, 0);
  PR_JoinThread(t);
  ck_assert_uint_eq(a.rv, NS_ERROR_NOT_AVAILABLE);
  NS_RELEASE(worker); /* NS_ShutdownXPCOM shuts it down */
}
END_TEST

/* ---- shutdown ------------------------------------------------------------- */

static void slow_run(void *arg) {
  PR_Sleep(PR_MillisecondsToInterval(5));
  svc_count_run(arg);
}

START_TEST(test_shutdown_runs_pending_then_refuses)
{
  svc_counter c = {0, 0};
  nsIThread *worker = NULL;
  ck_assert_uint_eq(NS_NewThread(&worker, NULL, 0), NS_OK);
  for (int i = 0; i < 20; i++)
    ck_assert_uint_eq(xpcom_dispatch_fn(as_target(worker), slow_run, &c,
                                        svc_count_drop), NS_OK);
  ck_assert_uint_eq(nsIThread_Shutdown(worker), NS_OK);
  ck_assert_int_eq(atomic_load(&c.runs), 20);
  ck_assert_int_eq(atomic_load(&c.drops), 0);

  /* Dispatch(already_AddRefed): refused, the reference is taken and the
   * event released (drop called), never leaked. */
  nsIRunnable *r = xpcom_runnable_new(svc_count_run, &c, svc_count_drop);
  already_AddRefed_nsIRunnable holder = {r};
  ck_assert_uint_eq(nsIThread_Dispatch(worker, &holder,
                                       nsIEventTarget_DISPATCH_NORMAL),
                    NS_ERROR_UNEXPECTED);
  ck_assert_ptr_null(holder.mRawPtr);
  ck_assert_int_eq(atomic_load(&c.drops), 1);

  /* DispatchFromScript: the caller's reference stays the caller's. */
  r = xpcom_runnable_new(svc_count_run, &c, svc_count_drop);
  ck_assert_uint_eq(nsIThread_DispatchFromScript(worker, r, 0),
                    NS_ERROR_UNEXPECTED);
  ck_assert_int_eq(atomic_load(&c.drops), 1);
  NS_RELEASE(r); /* last reference: never ran, so drop */
  ck_assert_int_eq(atomic_load(&c.drops), 2);

  /* xpcom_dispatch_fn: on failure the caller keeps arg, nothing called. */
  ck_assert_uint_eq(xpcom_dispatch_fn(as_target(worker), svc_count_run, &c,
                                      svc_count_drop),
                    NS_ERROR_UNEXPECTED);
  ck_assert_int_eq(atomic_load(&c.drops), 2);
  ck_assert_int_eq(atomic_load(&c.runs), 20);

  /* Null events are refused. */
  already_AddRefed_nsIRunnable empty = {NULL};
  ck_assert_uint_eq(nsIThread_Dispatch(worker, &empty, 0),
                    NS_ERROR_INVALID_ARG);
  NS_RELEASE(worker);
}
END_TEST

typedef struct self_shutdown {
  nsIThread *thread;
  nsresult rv;
  atomic_bool done;
} self_shutdown;

static void shutdown_self_run(void *arg) {
  self_shutdown *s = arg;
  s->rv = nsIThread_Shutdown(s->thread);
  atomic_store(&s->done, true);
}

START_TEST(test_shutdown_from_itself_refused)
{
  self_shutdown s = {NULL, NS_OK, false};
  ck_assert_uint_eq(NS_NewThread(&s.thread, NULL, 0), NS_OK);
  ck_assert_uint_eq(xpcom_dispatch_fn(as_target(s.thread), shutdown_self_run,
                                      &s, NULL), NS_OK);
  svc_spin_until(&s.done);
  ck_assert_uint_eq(s.rv, NS_ERROR_UNEXPECTED);
  ck_assert_uint_eq(nsIThread_Shutdown(s.thread), NS_OK);
  NS_RELEASE(s.thread);
}
END_TEST

START_TEST(test_initial_event_and_async_shutdown)
{
  svc_counter c = {0, 0};
  nsIRunnable *first = xpcom_runnable_new(svc_count_run, &c, NULL);
  nsIThread *worker = NULL;
  ck_assert_uint_eq(NS_NewThread(&worker, first, 0), NS_OK);
  NS_RELEASE(first);
  ck_assert_uint_eq(xpcom_dispatch_fn(as_target(worker), slow_run, &c, NULL),
                    NS_OK);
  ck_assert_uint_eq(nsIThread_AsyncShutdown(worker), NS_OK);
  /* The thread finishes by itself; the join happens on our queue. */
  for (int i = 0; i < 2000 && atomic_load(&c.runs) < 2; i++)
    if (!NS_ProcessNextEvent(NULL, false))
      PR_Sleep(PR_MillisecondsToInterval(1));
  ck_assert_int_eq(atomic_load(&c.runs), 2);
  /* Once joined, it refuses events (until then they still run). */
  int tries = 0;
  while (xpcom_dispatch_fn(as_target(worker), svc_count_run, &c, NULL) ==
             NS_OK &&
         tries++ < 5000) {
    (void)NS_ProcessNextEvent(NULL, false);
    PR_Sleep(PR_MillisecondsToInterval(1));
  }
  ck_assert_int_lt(tries, 5000);
  NS_RELEASE(worker);
}
END_TEST

START_TEST(test_threads_shut_down_by_xpcom_shutdown)
{
  /* Threads left running are shut down (their queues run dry) by
   * NS_ShutdownXPCOM in teardown; the leak check there covers them. */
  svc_counter c = {0, 0};
  for (int i = 0; i < 3; i++) {
    nsIThread *t = NULL;
    ck_assert_uint_eq(NS_NewThread(&t, NULL, 0), NS_OK);
    ck_assert_uint_eq(xpcom_dispatch_fn(as_target(t), slow_run, &c, NULL),
                      NS_OK);
    NS_RELEASE(t);
  }
  ck_assert_uint_eq(NS_ShutdownXPCOM(NULL), NS_OK);
  ck_assert_int_eq(atomic_load(&c.runs), 3);
  ck_assert_uint_eq(XPCOM_LeakLiveCount(), 0);
  svc_init(); /* for teardown */
}
END_TEST

/* ---- waiting and the pollable event ---------------------------------------- */

typedef struct later_arg {
  nsIEventTarget *target;
  svc_counter *c;
} later_arg;

static void dispatch_later_main(void *arg) {
  later_arg *a = arg;
  PR_Sleep(PR_MillisecondsToInterval(50));
  (void)xpcom_dispatch_fn(a->target, svc_count_run, a->c, NULL);
}

START_TEST(test_process_next_event_waits)
{
  svc_counter c = {0, 0};
  nsIThread *main = NULL;
  ck_assert_uint_eq(NS_GetMainThread(&main), NS_OK);
  ck_assert(!NS_ProcessNextEvent(main, false));
  later_arg a = {as_target(main), &c};
  PRThread *t = PR_CreateThread(PR_USER_THREAD, dispatch_later_main, &a,
                                PR_PRIORITY_NORMAL, PR_GLOBAL_THREAD,
                                PR_JOINABLE_THREAD, 0);
  ck_assert(NS_ProcessNextEvent(main, true)); /* blocks until it arrives */
  ck_assert_int_eq(atomic_load(&c.runs), 1);
  PR_JoinThread(t);

  /* Through the interface too; not from another thread's queue. */
  bool ran = true;
  ck_assert_uint_eq(nsIThread_ProcessNextEvent(main, false, &ran), NS_OK);
  ck_assert(!ran);
  nsIThread *worker = NULL;
  ck_assert_uint_eq(NS_NewThread(&worker, NULL, 0), NS_OK);
  ck_assert_uint_eq(nsIThread_ProcessNextEvent(worker, false, &ran),
                    NS_ERROR_UNEXPECTED);
  ck_assert(!NS_ProcessNextEvent(worker, false));
  bool pending;
  ck_assert_uint_eq(nsIThread_HasPendingEvents(worker, &pending),
                    NS_ERROR_UNEXPECTED);
  ck_assert_uint_eq(NS_ProcessPendingEvents(worker), NS_ERROR_UNEXPECTED);
  ck_assert_uint_eq(nsIThread_Shutdown(worker), NS_OK);
  NS_RELEASE(worker);
  NS_RELEASE(main);
}
END_TEST

static bool readable(PRFileDesc *fd) {
  PRPollDesc pd = {fd, PR_POLL_READ, 0};
  return PR_Poll(&pd, 1, PR_INTERVAL_NO_WAIT) == 1 &&
         (pd.out_flags & PR_POLL_READ);
}

START_TEST(test_pollable_event)
{
  svc_counter c = {0, 0};
  nsIThread *main = NULL;
  ck_assert_uint_eq(NS_GetMainThread(&main), NS_OK);
  PRFileDesc *fd = xpcom_thread_pollable(main);
  ck_assert_ptr_nonnull(fd);
  ck_assert(!readable(fd));
  ck_assert_uint_eq(xpcom_thread_next_timeout(main), PR_INTERVAL_NO_TIMEOUT);

  /* Another thread dispatches: the fd wakes a poll on it. */
  later_arg a = {as_target(main), &c};
  PRThread *t = PR_CreateThread(PR_USER_THREAD, dispatch_later_main, &a,
                                PR_PRIORITY_NORMAL, PR_GLOBAL_THREAD,
                                PR_JOINABLE_THREAD, 0);
  PRPollDesc pd = {fd, PR_POLL_READ, 0};
  ck_assert_int_eq(PR_Poll(&pd, 1, PR_SecondsToInterval(10)), 1);
  ck_assert(pd.out_flags & PR_POLL_READ);
  PR_JoinThread(t);
  ck_assert_uint_eq(xpcom_thread_next_timeout(main), PR_INTERVAL_NO_WAIT);
  ck_assert_int_eq(atomic_load(&c.runs), 0);
  ck_assert_uint_eq(xpcom_thread_run_pending(main), 1);
  ck_assert_int_eq(atomic_load(&c.runs), 1);
  ck_assert(!readable(fd));

  /* It stays readable while events wait, and run_pending runs only what
   * was queued when it was called. */
  ck_assert_uint_eq(xpcom_dispatch_fn(as_target(main), svc_count_run, &c,
                                      NULL), NS_OK);
  ck_assert_uint_eq(xpcom_dispatch_fn(as_target(main), svc_count_run, &c,
                                      NULL), NS_OK);
  ck_assert(readable(fd));
  ck_assert(readable(fd));
  ck_assert_uint_eq(xpcom_thread_run_pending(main), 2);
  ck_assert(!readable(fd));
  ck_assert_uint_eq(xpcom_thread_run_pending(main), 0);

  /* Under it is an OS descriptor (what net_sts hands to epoll) with the
   * same readiness. */
  PRFileDesc *bottom = PR_GetIdentitiesLayer(fd, PR_NSPR_IO_LAYER);
  ck_assert_ptr_nonnull(bottom);
  PROsfd osfd = PR_FileDesc2NativeHandle(bottom);
  ck_assert_int_ge(osfd, 0);
  struct pollfd sys = {(int)osfd, POLLIN, 0};
  ck_assert_int_eq(poll(&sys, 1, 0), 0);
  ck_assert_uint_eq(xpcom_dispatch_fn(as_target(main), svc_count_run, &c,
                                      NULL), NS_OK);
  ck_assert_int_eq(poll(&sys, 1, 0), 1);
  ck_assert(sys.revents & POLLIN);
  ck_assert_uint_eq(xpcom_thread_run_pending(main), 1);
  ck_assert_int_eq(poll(&sys, 1, 0), 0);
  ck_assert_int_eq(atomic_load(&c.runs), 4);
  NS_RELEASE(main);
}
END_TEST

/* ---- wake-ups racing with the consumer ------------------------------------ */

/* Producers on other threads dispatch to the main thread while it takes
 * events: a producer signals after releasing the queue's lock, so its
 * write may land after the consumer emptied the queue. That may cost one
 * spurious wake-up, never a lost one (the loops below would stall) nor a
 * spin (the descriptor staying readable with nothing queued). */

#define RACE_PRODUCERS 3
#define RACE_PER_PRODUCER 20000

typedef struct race_state {
  int last[RACE_PRODUCERS]; /* consumer (main thread) only */
  int total;
  bool out_of_order;
} race_state;

typedef struct race_item {
  race_state *st;
  int producer, seq;
} race_item;

static void race_run(void *arg) {
  race_item *it = arg;
  race_state *st = it->st;
  if (it->seq != st->last[it->producer] + 1)
    st->out_of_order = true; /* also catches an event run twice */
  st->last[it->producer] = it->seq;
  st->total++;
}

typedef struct race_producer {
  nsIEventTarget *target;
  race_item *items; /* RACE_PER_PRODUCER of them */
  atomic_int failures;
} race_producer;

static void race_producer_main(void *arg) {
  race_producer *p = arg;
  for (int i = 0; i < RACE_PER_PRODUCER; i++) {
    if (NS_FAILED(xpcom_dispatch_fn(p->target, race_run, &p->items[i], NULL)))
      atomic_fetch_add(&p->failures, 1);
    if (i % 4 == 3) /* vary the interleaving with the consumer */
      PR_Sleep(PR_INTERVAL_NO_WAIT);
  }
}

typedef struct race_run_ctx {
  race_state st;
  race_item *items;
  race_producer prod[RACE_PRODUCERS];
  PRThread *threads[RACE_PRODUCERS];
} race_run_ctx;

static race_run_ctx *race_start(nsIThread *target) {
  race_run_ctx *r = calloc(1, sizeof *r);
  ck_assert_ptr_nonnull(r);
  r->items = calloc(RACE_PRODUCERS * RACE_PER_PRODUCER, sizeof *r->items);
  ck_assert_ptr_nonnull(r->items);
  for (int p = 0; p < RACE_PRODUCERS; p++) {
    r->st.last[p] = -1;
    race_item *mine = r->items + p * RACE_PER_PRODUCER;
    for (int i = 0; i < RACE_PER_PRODUCER; i++)
      mine[i] = (race_item){&r->st, p, i};
    r->prod[p].target = as_target(target);
    r->prod[p].items = mine;
    atomic_init(&r->prod[p].failures, 0);
  }
  for (int p = 0; p < RACE_PRODUCERS; p++) {
    r->threads[p] = PR_CreateThread(PR_USER_THREAD, race_producer_main,
                                    &r->prod[p], PR_PRIORITY_NORMAL,
                                    PR_GLOBAL_THREAD, PR_JOINABLE_THREAD, 0);
    ck_assert_ptr_nonnull(r->threads[p]);
  }
  return r;
}

/* Joins the producers (every write has landed then) and checks what ran. */
static void race_finish(race_run_ctx *r) {
  for (int p = 0; p < RACE_PRODUCERS; p++) {
    PR_JoinThread(r->threads[p]);
    ck_assert_int_eq(atomic_load(&r->prod[p].failures), 0);
  }
  ck_assert_int_eq(r->st.total, RACE_PRODUCERS * RACE_PER_PRODUCER);
  ck_assert(!r->st.out_of_order);
  for (int p = 0; p < RACE_PRODUCERS; p++)
    ck_assert_int_eq(r->st.last[p], RACE_PER_PRODUCER - 1);
  free(r->items);
  free(r);
}

/* The queue is empty: the descriptor may be readable once more (a write
 * that lost the race), which run_pending clears; then it sleeps. */
static void assert_settles(nsIThread *thread) {
  PRFileDesc *fd = xpcom_thread_pollable(thread);
  if (readable(fd))
    ck_assert_uint_eq(xpcom_thread_run_pending(thread), 0);
  ck_assert(!readable(fd));
  ck_assert_uint_eq(xpcom_thread_next_timeout(thread), PR_INTERVAL_NO_TIMEOUT);
}

START_TEST(test_wake_races_poll_loop)
{
  nsIThread *main = NULL;
  ck_assert_uint_eq(NS_GetMainThread(&main), NS_OK);
  PRFileDesc *fd = xpcom_thread_pollable(main);
  race_run_ctx *r = race_start(main);
  const int total = RACE_PRODUCERS * RACE_PER_PRODUCER;
  int wakes = 0, spurious = 0, in_a_row = 0, most_in_a_row = 0;
  for (unsigned turn = 0; r->st.total < total; turn++) {
    PRPollDesc pd = {fd, PR_POLL_READ, 0};
    uint32_t ran;
    if (turn % 2) {
      /* As the socket thread after a socket wake-up: run what is there
       * whether or not the descriptor is readable yet. This is how the
       * consumer takes events whose producer has not written yet. */
      (void)PR_Poll(&pd, 1, PR_INTERVAL_NO_WAIT);
      if (xpcom_thread_run_pending(main) > 0)
        in_a_row = 0;
      continue;
    }
    /* A lost wake-up shows as a timeout while events wait. */
    ck_assert_int_eq(PR_Poll(&pd, 1, PR_SecondsToInterval(10)), 1);
    wakes++;
    ran = xpcom_thread_run_pending(main);
    if (ran == 0) {
      spurious++;
      if (++in_a_row > most_in_a_row)
        most_in_a_row = in_a_row;
    } else {
      in_a_row = 0;
    }
  }
  race_finish(r);
  /* A spurious wake-up clears the descriptor, so the next one finds an
   * event: a spin would show as a long run of empty wake-ups. */
  ck_assert_int_le(most_in_a_row, 1);
  ck_assert_int_le(spurious, total);
  fprintf(stderr, "poll loop: %d events, %d wake-ups, %d spurious\n", total,
          wakes, spurious);
  assert_settles(main);
  NS_RELEASE(main);
}
END_TEST

START_TEST(test_wake_races_event_loop)
{
  nsIThread *main = NULL;
  ck_assert_uint_eq(NS_GetMainThread(&main), NS_OK);
  race_run_ctx *r = race_start(main);
  const int total = RACE_PRODUCERS * RACE_PER_PRODUCER;
  /* NS_ProcessNextEvent waits on the descriptor: a lost wake-up hangs
   * here (the test case's timeout fails it). */
  while (r->st.total < total)
    ck_assert(NS_ProcessNextEvent(NULL, true));
  race_finish(r);
  ck_assert(!NS_ProcessNextEvent(NULL, false));
  assert_settles(main);
  NS_RELEASE(main);
}
END_TEST

/* One event at a time: the main thread spins on run_pending, so it often
 * takes the event before the producer's write lands. Once the dispatch has
 * returned (the write has landed), the descriptor is either clear or
 * readable once with nothing queued, and run_pending clears that. */

#define PING_ROUNDS 20000

typedef struct ping_state {
  nsIEventTarget *target;
  atomic_int sent; /* dispatch calls returned */
  atomic_int ran;
  atomic_int checked; /* rounds the main thread has finished looking at */
  atomic_int failures;
} ping_state;

static void ping_run(void *arg) { atomic_fetch_add(&((ping_state *)arg)->ran, 1); }

static void ping_producer_main(void *arg) {
  ping_state *p = arg;
  for (int i = 0; i < PING_ROUNDS; i++) {
    if (NS_FAILED(xpcom_dispatch_fn(p->target, ping_run, p, NULL))) {
      atomic_fetch_add(&p->failures, 1);
      atomic_fetch_add(&p->ran, 1); /* keep the rounds going */
    }
    atomic_store(&p->sent, i + 1);
    while (atomic_load(&p->checked) < i + 1)
      PR_Sleep(PR_INTERVAL_NO_WAIT);
  }
}

START_TEST(test_wake_race_one_at_a_time)
{
  nsIThread *main = NULL;
  ck_assert_uint_eq(NS_GetMainThread(&main), NS_OK);
  PRFileDesc *fd = xpcom_thread_pollable(main);
  ping_state p = {as_target(main), 0, 0, 0, 0};
  PRThread *t = PR_CreateThread(PR_USER_THREAD, ping_producer_main, &p,
                                PR_PRIORITY_NORMAL, PR_GLOBAL_THREAD,
                                PR_JOINABLE_THREAD, 0);
  ck_assert_ptr_nonnull(t);
  int spurious = 0;
  unsigned idle = 0;
  for (int i = 0; i < PING_ROUNDS; i++) {
    while (atomic_load(&p.ran) < i + 1) {
      /* Spin (taking the event as soon as it is queued), yielding now and
       * then for a single CPU. */
      if (xpcom_thread_run_pending(main) == 0 && ++idle % 64 == 0)
        PR_Sleep(PR_INTERVAL_NO_WAIT);
    }
    while (atomic_load(&p.sent) < i + 1)
      PR_Sleep(PR_INTERVAL_NO_WAIT);
    if (readable(fd)) {
      spurious++;
      ck_assert_uint_eq(xpcom_thread_run_pending(main), 0);
      ck_assert(!readable(fd));
    }
    atomic_store(&p.checked, i + 1);
  }
  PR_JoinThread(t);
  ck_assert_int_eq(atomic_load(&p.failures), 0);
  ck_assert_int_eq(atomic_load(&p.ran), PING_ROUNDS);
  fprintf(stderr, "one at a time: %d events, %d spurious wake-ups\n",
          PING_ROUNDS, spurious);
  assert_settles(main);
  NS_RELEASE(main);
}
END_TEST

/* ---- descriptors ------------------------------------------------------------ */

static int count_open_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  ck_assert_ptr_nonnull(d);
  int n = 0;
  while (readdir(d))
    n++;
  closedir(d);
  return n;
}

START_TEST(test_thread_fds_closed)
{
  int before = count_open_fds();
  for (int i = 0; i < 20; i++) {
    nsIThread *worker = NULL;
    ck_assert_uint_eq(NS_NewThread(&worker, NULL, 0), NS_OK);
    svc_counter c = {0, 0};
    ck_assert_uint_eq(xpcom_dispatch_fn(as_target(worker), svc_count_run, &c,
                                        NULL), NS_OK);
    ck_assert_uint_eq(nsIThread_Shutdown(worker), NS_OK);
    ck_assert_int_eq(atomic_load(&c.runs), 1);
    NS_RELEASE(worker);
  }
  ck_assert_int_eq(count_open_fds(), before);
}
END_TEST

START_TEST(test_new_thread_without_fds)
{
  struct rlimit old, low;
  ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
  low = old;
  if (low.rlim_cur > 64)
    low.rlim_cur = 64;
  ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
  int null_fd = open("/dev/null", O_RDONLY);
  ck_assert_int_ge(null_fd, 0);
  int fds[64], n = 0, f, err = 0;
  while (n < 64 && (f = dup(null_fd)) >= 0)
    fds[n++] = f;
  err = n < 64 ? errno : 0;
  nsIThread *t = (nsIThread *)&t; /* must be reset to NULL */
  nsresult rv = NS_NewThread(&t, NULL, 0);
  while (n)
    close(fds[--n]);
  close(null_fd);
  ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
  ck_assert_int_eq(err, EMFILE);
  ck_assert_uint_eq(rv, NS_ERROR_OUT_OF_MEMORY);
  ck_assert_ptr_null(t);
  /* With descriptors back, threads work again. */
  ck_assert_uint_eq(NS_NewThread(&t, NULL, 0), NS_OK);
  ck_assert_uint_eq(nsIThread_Shutdown(t), NS_OK);
  NS_RELEASE(t);
}
END_TEST

/* ---- an attached thread with its own poll loop ----------------------------- */

typedef struct attached_state {
  nsIThread *thread;       /* set by the thread */
  atomic_bool ready;
  atomic_bool detached;
  PRThread *pr;
  svc_counter c;
  atomic_bool wrong_thread;
  nsresult second_attach;
} attached_state;

static void attached_event(void *arg) {
  attached_state *s = arg;
  if (PR_GetCurrentThread() != s->pr)
    atomic_store(&s->wrong_thread, true);
  atomic_fetch_add(&s->c.runs, 1);
}

static void attached_main(void *arg) {
  attached_state *s = arg;
  nsIThread *self = NULL;
  ck_assert_uint_eq(xpcom_thread_attach_current(&self), NS_OK);
  nsIThread *again = NULL;
  s->second_attach = xpcom_thread_attach_current(&again);
  nsIThread *cur = NULL;
  ck_assert_uint_eq(NS_GetCurrentThread(&cur), NS_OK);
  ck_assert_ptr_eq(cur, self);
  NS_RELEASE(cur);
  s->pr = PR_GetCurrentThread();
  s->thread = self;
  atomic_store(&s->ready, true);
  /* The socket-thread pattern: poll the queue (with sockets, in real
   * life), run what is pending, stop when asked. */
  PRFileDesc *fd = xpcom_thread_pollable(self);
  while (!xpcom_thread_shutdown_requested(self)) {
    PRPollDesc pd = {fd, PR_POLL_READ, 0};
    (void)PR_Poll(&pd, 1, xpcom_thread_next_timeout(self));
    (void)xpcom_thread_run_pending(self);
  }
  ck_assert_uint_eq(xpcom_thread_detach_current(), NS_OK);
  ck_assert_uint_eq(xpcom_thread_detach_current(), NS_ERROR_UNEXPECTED);
  atomic_store(&s->detached, true);
  /* s->thread is released by the main thread after Shutdown. */
}

START_TEST(test_attach_current_and_run_pending)
{
  attached_state *s = calloc(1, sizeof *s);
  PRThread *t = PR_CreateThread(PR_USER_THREAD, attached_main, s,
                                PR_PRIORITY_NORMAL, PR_GLOBAL_THREAD,
                                PR_JOINABLE_THREAD, 0);
  for (int i = 0; i < 10000 && !atomic_load(&s->ready); i++)
    PR_Sleep(PR_MillisecondsToInterval(1));
  ck_assert(atomic_load(&s->ready));
  ck_assert_uint_eq(s->second_attach, NS_ERROR_ALREADY_INITIALIZED);
  for (int i = 0; i < 100; i++)
    ck_assert_uint_eq(xpcom_dispatch_fn((nsIEventTarget *)s->thread,
                                        attached_event, s, NULL), NS_OK);
  /* Shutdown asks it to stop and waits until its detach has run the
   * queue dry and closed it. */
  ck_assert_uint_eq(nsIThread_Shutdown(s->thread), NS_OK);
  ck_assert_int_eq(atomic_load(&s->c.runs), 100);
  ck_assert(!atomic_load(&s->wrong_thread));
  ck_assert_uint_eq(xpcom_dispatch_fn((nsIEventTarget *)s->thread,
                                      attached_event, s, NULL),
                    NS_ERROR_UNEXPECTED);
  PR_JoinThread(t);
  ck_assert(atomic_load(&s->detached));
  NS_RELEASE(s->thread);
  free(s);
}
END_TEST

START_TEST(test_attach_requires_xpcom)
{
  ck_assert_uint_eq(NS_ShutdownXPCOM(NULL), NS_OK);
  nsIThread *t = NULL;
  ck_assert_uint_eq(xpcom_thread_attach_current(&t), NS_ERROR_NOT_INITIALIZED);
  ck_assert_uint_eq(NS_NewThread(&t, NULL, 0), NS_ERROR_NOT_INITIALIZED);
  ck_assert_uint_eq(NS_GetMainThread(&t), NS_ERROR_NOT_INITIALIZED);
  ck_assert(!NS_IsMainThread());
  svc_init();
}
END_TEST

/* ---- delayed dispatch ------------------------------------------------------ */

START_TEST(test_delayed_dispatch)
{
  svc_counter c = {0, 0};
  nsIThread *main = NULL;
  ck_assert_uint_eq(NS_GetMainThread(&main), NS_OK);
  already_AddRefed_nsIRunnable h = {xpcom_runnable_new(svc_count_run, &c,
                                                       svc_count_drop)};
  PRIntervalTime start = PR_IntervalNow();
  ck_assert_uint_eq(nsIThread_DelayedDispatch(main, &h, 30), NS_OK);
  ck_assert_ptr_null(h.mRawPtr);
  while (atomic_load(&c.runs) == 0)
    ck_assert(NS_ProcessNextEvent(NULL, true));
  ck_assert_uint_ge(PR_IntervalToMilliseconds(PR_IntervalNow() - start), 29);

  /* A zero delay is refused (Gecko), and the event released. */
  h.mRawPtr = xpcom_runnable_new(svc_count_run, &c, svc_count_drop);
  ck_assert_uint_eq(nsIThread_DelayedDispatch(main, &h, 0),
                    NS_ERROR_UNEXPECTED);
  ck_assert_int_eq(atomic_load(&c.drops), 1);
  NS_RELEASE(main);

  /* Delayed on a thread that shuts down first: dropped, not leaked. */
  nsIThread *worker = NULL;
  ck_assert_uint_eq(NS_NewThread(&worker, NULL, 0), NS_OK);
  h.mRawPtr = xpcom_runnable_new(svc_count_run, &c, svc_count_drop);
  ck_assert_uint_eq(nsIThread_DelayedDispatch(worker, &h, 60000), NS_OK);
  ck_assert_uint_eq(nsIThread_Shutdown(worker), NS_OK);
  ck_assert_int_eq(atomic_load(&c.drops), 2);
  ck_assert_int_eq(atomic_load(&c.runs), 1);
  /* ...and on one that has already shut down. */
  h.mRawPtr = xpcom_runnable_new(svc_count_run, &c, svc_count_drop);
  ck_assert_uint_eq(nsIThread_DelayedDispatch(worker, &h, 10),
                    NS_ERROR_UNEXPECTED);
  ck_assert_int_eq(atomic_load(&c.drops), 3);
  NS_RELEASE(worker);
}
END_TEST

/* ---- thread manager ------------------------------------------------------------ */

/* ---- close hooks ----------------------------------------------------------- */

typedef struct hook_log {
  char order[8];
  int n;
  PRThread *ran_on[8];
  nsIThread *self;        /* for the hook that registers another (refused) */
  nsresult late_rv;
} hook_log;

static hook_log g_hooks;

static void hook_a(void *arg) {
  (void)arg;
  g_hooks.ran_on[g_hooks.n] = PR_GetCurrentThread();
  g_hooks.order[g_hooks.n++] = 'a';
}
static void hook_b(void *arg) {
  (void)arg;
  g_hooks.ran_on[g_hooks.n] = PR_GetCurrentThread();
  g_hooks.order[g_hooks.n++] = 'b';
  /* Too late to register: the hooks are running. */
  g_hooks.late_rv = xpcom_thread_at_close(g_hooks.self, hook_a, NULL);
}
static void hook_c(void *arg) {
  (void)arg;
  g_hooks.order[g_hooks.n++] = 'c';
}

static void note_thread(void *arg) { *(PRThread **)arg = PR_GetCurrentThread(); }

START_TEST(test_close_hooks) {
  memset(&g_hooks, 0, sizeof g_hooks);
  g_hooks.late_rv = NS_OK;
  nsIThread *worker = NULL;
  ck_assert_uint_eq(NS_NewThread(&worker, NULL, 0), NS_OK);
  g_hooks.self = worker;
  ck_assert_uint_eq(xpcom_thread_at_close(worker, NULL, NULL), NS_ERROR_INVALID_ARG);
  ck_assert_uint_eq(xpcom_thread_at_close(worker, hook_a, NULL), NS_OK);
  ck_assert_uint_eq(xpcom_thread_at_close(worker, hook_c, NULL), NS_OK);
  ck_assert_uint_eq(xpcom_thread_at_close(worker, hook_b, NULL), NS_OK);
  /* Cancelled: does not run; a second cancel finds nothing. */
  ck_assert(xpcom_thread_cancel_at_close(worker, hook_c, NULL));
  ck_assert(!xpcom_thread_cancel_at_close(worker, hook_c, NULL));
  ck_assert(!xpcom_thread_cancel_at_close(worker, hook_a, &g_hooks)); /* other arg */
  PRThread *worker_pr = NULL;
  ck_assert_uint_eq(xpcom_dispatch_fn((nsIEventTarget *)(void *)worker, note_thread, &worker_pr,
                                      NULL),
                    NS_OK);
  ck_assert_uint_eq(nsIThread_Shutdown(worker), NS_OK);
  /* Newest first, on the thread itself, each once. */
  ck_assert_int_eq(g_hooks.n, 2);
  ck_assert_mem_eq(g_hooks.order, "ba", 2);
  ck_assert_ptr_nonnull(worker_pr);
  ck_assert_ptr_eq(g_hooks.ran_on[0], worker_pr);
  ck_assert_ptr_eq(g_hooks.ran_on[1], worker_pr);
  ck_assert_uint_eq(g_hooks.late_rv, NS_ERROR_UNEXPECTED);
  /* After the end: refused, and nothing to cancel. */
  ck_assert_uint_eq(xpcom_thread_at_close(worker, hook_a, NULL), NS_ERROR_UNEXPECTED);
  ck_assert(!xpcom_thread_cancel_at_close(worker, hook_a, NULL));
  NS_RELEASE(worker);
}
END_TEST

START_TEST(test_thread_manager)
{
  nsIServiceManager *sm = NULL;
  ck_assert_uint_eq(NS_GetServiceManager(&sm), NS_OK);
  nsIThreadManager *tm = NULL;
  ck_assert_uint_eq(nsIServiceManager_GetServiceByContractID(
                        sm, "@mozilla.org/thread-manager;1",
                        &nsIThreadManager_IID, (void **)&tm),
                    NS_OK);
  nsIThread *main = NULL, *cur = NULL, *mine = NULL;
  ck_assert_uint_eq(nsIThreadManager_GetMainThread(tm, &main), NS_OK);
  ck_assert_uint_eq(nsIThreadManager_GetCurrentThread(tm, &cur), NS_OK);
  ck_assert_ptr_eq(main, cur);
  bool is_main = false;
  ck_assert_uint_eq(nsIThreadManager_GetIsMainThread(tm, &is_main), NS_OK);
  ck_assert(is_main);
  nsIThread *worker = NULL;
  ck_assert_uint_eq(nsIThreadManager_NewThread(tm, 0, 0, &worker), NS_OK);
  PRThread *pr = NULL;
  ck_assert_uint_eq(nsIThread_GetPRThread(worker, &pr), NS_OK);
  ck_assert_uint_eq(nsIThreadManager_GetThreadFromPRThread(tm, pr, &mine),
                    NS_OK);
  ck_assert_ptr_eq(mine, worker);
  ck_assert_uint_eq(nsIThread_Shutdown(worker), NS_OK);
  NS_RELEASE(mine);
  NS_RELEASE(worker);
  NS_RELEASE(main);
  NS_RELEASE(cur);
  NS_RELEASE(tm);
  NS_RELEASE(sm);
}
END_TEST

static Suite *threads_suite(void) {
  Suite *s = suite_create("threads");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_main_thread_identity);
  tcase_add_test(tc, test_fifo_main);
  tcase_add_test(tc, test_dispatch_from_many_threads);
  tcase_add_test(tc, test_sync_dispatch);
  tcase_add_test(tc, test_sync_dispatch_needs_a_queue);
  tcase_add_test(tc, test_shutdown_runs_pending_then_refuses);
  tcase_add_test(tc, test_shutdown_from_itself_refused);
  tcase_add_test(tc, test_initial_event_and_async_shutdown);
  tcase_add_test(tc, test_threads_shut_down_by_xpcom_shutdown);
  tcase_add_test(tc, test_process_next_event_waits);
  tcase_add_test(tc, test_pollable_event);
  tcase_add_test(tc, test_wake_races_poll_loop);
  tcase_add_test(tc, test_wake_races_event_loop);
  tcase_add_test(tc, test_wake_race_one_at_a_time);
  tcase_add_test(tc, test_thread_fds_closed);
  tcase_add_test(tc, test_new_thread_without_fds);
  tcase_add_test(tc, test_attach_current_and_run_pending);
  tcase_add_test(tc, test_attach_requires_xpcom);
  tcase_add_test(tc, test_delayed_dispatch);
  tcase_add_test(tc, test_thread_manager);
  tcase_add_test(tc, test_close_hooks);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(threads_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

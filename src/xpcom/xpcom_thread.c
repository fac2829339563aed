/*
 * xpcom_thread.c — nsIThread / nsIEventTarget on NSPR: one locked FIFO of
 * nsIRunnable per thread plus a wake-up descriptor (a Linux eventfd wrapped
 * as a PRFileDesc) that is readable while the FIFO is non-empty; thread
 * creation, shutdown and joining; synchronous dispatch; the thread manager
 * service; the C conveniences of xpcom_thread.h.
 *
 * Locking: each thread's `lock` guards its queue and state flags; the
 * registry lock guards the list of threads. Never call out (Run, Release of
 * foreign objects) with a lock held. Lock order: timer lock (xpcom_timer.c)
 * → thread lock; registry lock is never held with either.
 */
#include "xpcom_services_int.h"
#include "nsIThreadManager.h"

#include <prcvar.h>
#include <prinit.h>
#include <private/pprio.h> /* PR_CreateSocketPollFd (public API, this header) */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* nsIThread.idl's other already_AddRefed native (nsIIdlePeriod is only
 * forward-declared there). */
struct already_AddRefed_nsIIdlePeriod {
  nsIIdlePeriod *mRawPtr;
};

typedef enum thread_kind {
  THREAD_MAIN,     /* the thread that called NS_InitXPCOM2 */
  THREAD_OWNED,    /* created by NS_NewThread: we join it */
  THREAD_ATTACHED  /* someone else's PRThread: it detaches itself */
} thread_kind;

typedef struct event_node {
  struct event_node *next;
  nsIRunnable *event; /* owned reference */
} event_node;

typedef struct waiter_node {
  struct waiter_node *next;
  xpcom_thread *thread; /* owned reference: woken with a no-op event */
} waiter_node;

typedef struct close_hook {
  struct close_hook *next;
  void (*fn)(void *);
  void *arg;
} close_hook;

struct xpcom_thread {
  nsIThread iface; /* identity; nsIEventTarget shares it (prefix vtable) */
  uint32_t refcnt;
  thread_kind kind;

  /* Set once at creation; a new thread also stores it for itself. */
  PRThread *prthread;
  int wake_fd;           /* eventfd (non-blocking), -1 if none */
  PRFileDesc *pollable;  /* wake_fd for PR_Poll (PR_CreateSocketPollFd) */

  PRLock *lock;          /* guards everything below */
  PRCondVar *finish_cv;  /* signalled when `finished` becomes true */
  event_node *head, *tail;
  uint32_t count;
  bool wake_owed;        /* one write to wake_fd is in flight or unread */
  bool closed;           /* queue drained and refusing events */
  bool joined;           /* PR_JoinThread done or underway */
  bool registered;       /* in the registry (which holds a reference) */
  bool can_invoke_js;
  waiter_node *waiters;  /* threads to wake when finished */
  close_hook *close_hooks; /* xpcom_thread_at_close, newest first */
  bool hooks_run;        /* they ran (or are running): no new ones */
  xpcom_thread *async_joiner; /* asyncShutdown caller: joins us */

  atomic_bool shutdown_requested;
  atomic_bool finished;

  /* Timers armed on this thread (xpcom_timer.c, under its lock). */
  struct xpcom_timer_heap *timers;

  xpcom_thread *reg_next; /* registry link, registry lock */
};

static const nsIThreadVtbl thread_vtbl;

XPCOM_LOG_MODULE(g_log, XPCOM_SERVICES_LOG_NAME);

/* ---- registry, current thread ------------------------------------------- */

static PRCallOnceType g_once;
static PRUintn g_tls_index;
static PRLock *g_reg_lock;
static xpcom_thread *g_registry;    /* registry lock */
static xpcom_thread *g_main;        /* set between init and shutdown */
static bool g_refuse_new;           /* registry lock */

static PRStatus threads_once(void) {
  if (PR_NewThreadPrivateIndex(&g_tls_index, NULL) != PR_SUCCESS)
    return PR_FAILURE;
  g_reg_lock = PR_NewLock();
  return g_reg_lock ? PR_SUCCESS : PR_FAILURE;
}

xpcom_thread *xpcom_thread_current(void) {
  if (!g_reg_lock)
    return NULL;
  return (xpcom_thread *)PR_GetThreadPrivate(g_tls_index);
}

xpcom_thread *xpcom_thread_from_iface(void *iface) {
  if (!iface)
    return NULL;
  nsIThread *t = (nsIThread *)iface;
  return t->vtbl == &thread_vtbl ? (xpcom_thread *)t : NULL;
}

nsIThread *xpcom_thread_iface(xpcom_thread *t) { return &t->iface; }

struct xpcom_timer_heap **xpcom_thread_timer_heap(xpcom_thread *t) {
  return &t->timers;
}

void xpcom_thread_addref(xpcom_thread *t) { xpcom_refcnt_inc(&t->refcnt); }

static void thread_destroy(xpcom_thread *t) {
  /* The queue is empty: threads drain before they are released for good,
   * and a thread that never ran has no events (dispatch needs a ref). */
  event_node *n = t->head;
  while (n) {
    event_node *next = n->next;
    NS_RELEASE(n->event);
    free(n);
    n = next;
  }
  xpcom_timers_thread_gone(t);
  /* Hooks of a thread that never finished (it never ran) do not run. */
  while (t->close_hooks) {
    close_hook *h = t->close_hooks;
    t->close_hooks = h->next;
    free(h);
  }
  if (t->pollable)
    PR_DestroySocketPollFd(t->pollable); /* the wrapper only */
  if (t->wake_fd >= 0)
    close(t->wake_fd);
  if (t->finish_cv)
    PR_DestroyCondVar(t->finish_cv);
  if (t->lock)
    PR_DestroyLock(t->lock);
  xpcom_leak_dtor("nsThread", sizeof *t);
  free(t);
}

void xpcom_thread_release(xpcom_thread *t) {
  if (xpcom_refcnt_dec(&t->refcnt) == 0)
    thread_destroy(t);
}

static xpcom_thread *thread_new(thread_kind kind) {
  xpcom_thread *t = calloc(1, sizeof *t);
  if (!t)
    return NULL;
  t->iface.vtbl = &thread_vtbl;
  t->refcnt = 1;
  t->kind = kind;
  atomic_init(&t->shutdown_requested, false);
  atomic_init(&t->finished, false);
  t->lock = PR_NewLock();
  t->finish_cv = t->lock ? PR_NewCondVar(t->lock) : NULL;
  t->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (t->wake_fd < 0)
    XPCOM_LOG(g_log, XPCOM_LOG_ERROR, ("cannot create a thread's eventfd: "
                                       "errno %d", errno));
  /* Identity PR_NSPR_IO_LAYER, poll passed through to the OS descriptor:
   * PR_Poll and PR_FileDesc2NativeHandle (net_sts's epoll) both work. */
  t->pollable = t->wake_fd >= 0 ? PR_CreateSocketPollFd(t->wake_fd) : NULL;
  xpcom_leak_ctor("nsThread", sizeof *t);
  if (!t->lock || !t->finish_cv || !t->pollable) {
    thread_destroy(t);
    return NULL;
  }
  return t;
}

/* Adds t to the registry (which takes a reference). */
static nsresult registry_add(xpcom_thread *t) {
  PR_Lock(g_reg_lock);
  if (g_refuse_new && t->kind != THREAD_MAIN) {
    PR_Unlock(g_reg_lock);
    return NS_ERROR_NOT_INITIALIZED;
  }
  xpcom_thread_addref(t);
  t->registered = true;
  t->reg_next = g_registry;
  g_registry = t;
  PR_Unlock(g_reg_lock);
  return NS_OK;
}

static void registry_remove(xpcom_thread *t) {
  bool found = false;
  PR_Lock(g_reg_lock);
  if (t->registered) {
    for (xpcom_thread **pp = &g_registry; *pp; pp = &(*pp)->reg_next) {
      if (*pp == t) {
        *pp = t->reg_next;
        found = true;
        break;
      }
    }
    t->registered = false;
  }
  PR_Unlock(g_reg_lock);
  if (found)
    xpcom_thread_release(t);
}

/* ---- the queue ------------------------------------------------------------ */

/*
 * Wake-ups. wake_fd is an eventfd; `wake_owed` (thread lock) says that one
 * write to it is in flight or not yet read. A producer decides under the
 * lock (flag clear → set it and write) but writes after unlocking: a write
 * under the lock let the woken consumer preempt the producer and then block
 * on that lock (a futex round and two extra context switches per event).
 *
 * So there is at most one write per "owed" period, and the consumer ends
 * the period only by reading that write's value (wake_consume, under the
 * lock, when the queue is empty). If the write has not landed yet (the
 * consumer took the event first), the read finds nothing and the flag
 * stays set: the fd becomes readable later, costing one spurious wake-up
 * whose read then clears it. Hence:
 *  - never lost: while events wait, the flag is set, so the fd is or will
 *    be readable; the consumer's read cannot swallow a later producer's
 *    write (no producer writes while the flag is set);
 *  - never a busy loop: whenever the fd is readable the flag is set, so a
 *    wake-up that finds the queue empty reads, and that read succeeds.
 * The counter never exceeds 1, so writes cannot fail with EAGAIN.
 */
static void wake_write(xpcom_thread *t) {
  uint64_t one = 1;
  while (write(t->wake_fd, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

/* With the lock held and the queue empty: ends an owed period if its write
 * has landed. */
static void wake_consume(xpcom_thread *t) {
  uint64_t v;
  if (t->wake_owed && read(t->wake_fd, &v, sizeof v) == (ssize_t)sizeof v)
    t->wake_owed = false;
}

/* Queues `event`, taking over the caller's reference in all cases. */
static nsresult queue_put(xpcom_thread *t, nsIRunnable *event) {
  event_node *n = malloc(sizeof *n);
  if (!n) {
    NS_RELEASE(event);
    return NS_ERROR_OUT_OF_MEMORY;
  }
  n->next = NULL;
  n->event = event;
  PR_Lock(t->lock);
  if (t->closed) {
    PR_Unlock(t->lock);
    free(n);
    NS_RELEASE(event); /* outside the lock: its destructor may dispatch */
    return NS_ERROR_UNEXPECTED;
  }
  if (t->tail)
    t->tail->next = n;
  else
    t->head = n;
  t->tail = n;
  t->count++;
  bool signal = !t->wake_owed;
  t->wake_owed = true;
  PR_Unlock(t->lock);
  if (signal) /* the caller's reference keeps t alive */
    wake_write(t);
  return NS_OK;
}

/* Takes the first event (owned reference) or NULL; once the queue is empty
 * it clears the fd (see above), so a poll on it sleeps. */
static nsIRunnable *queue_take(xpcom_thread *t) {
  nsIRunnable *event = NULL;
  PR_Lock(t->lock);
  event_node *n = t->head;
  if (n) {
    t->head = n->next;
    if (!t->head)
      t->tail = NULL;
    t->count--;
    event = n->event;
  }
  if (!t->head)
    wake_consume(t);
  PR_Unlock(t->lock);
  free(n);
  return event;
}

/* A timer wake-up, or a write that landed after the queue emptied, leaves
 * the fd readable with nothing queued: clear it. */
static void queue_clear_spurious_wake(xpcom_thread *t) {
  PR_Lock(t->lock);
  if (!t->head)
    wake_consume(t);
  PR_Unlock(t->lock);
}

void xpcom_thread_wake(xpcom_thread *t) {
  PR_Lock(t->lock);
  bool signal = !t->wake_owed;
  t->wake_owed = true;
  PR_Unlock(t->lock);
  if (signal)
    wake_write(t);
}

bool xpcom_thread_is_closed(xpcom_thread *t) {
  PR_Lock(t->lock);
  bool closed = t->closed;
  PR_Unlock(t->lock);
  return closed;
}

/* A static event that does nothing: queued to wake a thread that waits in
 * its loop for a condition another thread has just made true. */
static nsresult noop_QueryInterface(nsIRunnable *self, const nsIID *iid,
                                    void **result);
static nsrefcnt noop_AddRef(nsIRunnable *self) { return 2; }
static nsrefcnt noop_Release(nsIRunnable *self) { return 1; }
static nsresult noop_Run(nsIRunnable *self) { return NS_OK; }
static const nsIRunnableVtbl noop_vtbl = {
    .QueryInterface = noop_QueryInterface,
    .AddRef = noop_AddRef,
    .Release = noop_Release,
    .Run = noop_Run,
};
static nsIRunnable g_noop = {&noop_vtbl};

static nsresult noop_QueryInterface(nsIRunnable *self, const nsIID *iid,
                                    void **result) {
  if (nsID_Equals(iid, &nsISupports_IID) || nsID_Equals(iid, &nsIRunnable_IID)) {
    *result = self;
    return NS_OK;
  }
  *result = NULL;
  return NS_NOINTERFACE;
}

static void wake_with_event(xpcom_thread *t) { (void)queue_put(t, &g_noop); }

static void run_event(nsIRunnable *event) {
  nsresult rv = nsIRunnable_Run(event);
  if (NS_FAILED(rv))
    XPCOM_LOG(g_log, XPCOM_LOG_DEBUG, ("event %p returned 0x%08x",
                                       (void *)event, (unsigned)rv));
  NS_RELEASE(event);
}

/* One turn: due timers, then at most one event. Optionally waits. */
static bool process_next(xpcom_thread *t, bool may_wait, uint32_t *ran) {
  for (;;) {
    uint32_t n = 0;
    bool did = xpcom_timers_run_due(t, &n);
    nsIRunnable *event = queue_take(t);
    if (event) {
      run_event(event);
      n++;
      did = true;
    }
    if (ran)
      *ran += n;
    if (did || !may_wait)
      return did;
    uint64_t us = xpcom_timers_next_us(t);
    PRIntervalTime timeout = PR_INTERVAL_NO_TIMEOUT;
    if (us != UINT64_MAX) {
      uint64_t ms = (us + 999) / 1000;
      if (ms > 3600 * 1000)
        ms = 3600 * 1000; /* stay far from PRIntervalTime's wrap */
      timeout = PR_MillisecondsToInterval((PRUint32)ms);
    }
    PRPollDesc pd = {t->pollable, PR_POLL_READ, 0};
    (void)PR_Poll(&pd, 1, timeout);
  }
}

/* Runs every event, including those queued meanwhile, then closes the
 * queue and cancels the thread's timers. On the thread itself. */
static void run_close_hooks(xpcom_thread *t) {
  for (;;) {
    PR_Lock(t->lock);
    t->hooks_run = true;
    close_hook *h = t->close_hooks;
    if (h)
      t->close_hooks = h->next;
    PR_Unlock(t->lock);
    if (!h)
      return;
    h->fn(h->arg); /* outside the lock: it may dispatch, or cancel others */
    free(h);
  }
}

static void drain_and_close(xpcom_thread *t) {
  /* What was already queued first (a stop on its way is delivered as
   * such), then the hooks, then whatever they and others queued. */
  while (process_next(t, false, NULL)) {
  }
  run_close_hooks(t);
  for (;;) {
    while (process_next(t, false, NULL)) {
    }
    PR_Lock(t->lock);
    bool empty = t->head == NULL;
    if (empty)
      t->closed = true;
    PR_Unlock(t->lock);
    if (empty)
      break;
  }
  xpcom_timers_cancel_thread(t);
}

static void async_join_run(void *arg);
static void async_join_drop(void *arg);

/* Marks the thread finished and wakes everyone waiting for that; an
 * asyncShutdown caller gets an event that joins the thread. */
static void signal_finished(xpcom_thread *t) {
  PR_Lock(t->lock);
  atomic_store(&t->finished, true);
  waiter_node *w = t->waiters;
  t->waiters = NULL;
  xpcom_thread *joiner = t->async_joiner;
  t->async_joiner = NULL;
  PR_NotifyAllCondVar(t->finish_cv);
  PR_Unlock(t->lock);
  while (w) {
    waiter_node *next = w->next;
    wake_with_event(w->thread);
    xpcom_thread_release(w->thread);
    free(w);
    w = next;
  }
  if (joiner) {
    /* If the joiner's queue is gone, NS_ShutdownXPCOM joins us later. */
    xpcom_thread_addref(t);
    if (NS_FAILED(xpcom_dispatch_fn((nsIEventTarget *)&joiner->iface,
                                    async_join_run, t, async_join_drop)))
      xpcom_thread_release(t);
    xpcom_thread_release(joiner);
  }
}

/* ---- thread lifetime ------------------------------------------------------ */

static void thread_main(void *arg) {
  xpcom_thread *t = arg; /* we hold a reference for as long as we run */
  PR_Lock(t->lock);
  t->prthread = PR_GetCurrentThread();
  PR_Unlock(t->lock);
  PR_SetThreadPrivate(g_tls_index, t);
  XPCOM_LOG(g_log, XPCOM_LOG_DEBUG, ("thread %p started", (void *)t));
  while (!atomic_load(&t->shutdown_requested))
    process_next(t, true, NULL);
  drain_and_close(t);
  PR_SetThreadPrivate(g_tls_index, NULL);
  XPCOM_LOG(g_log, XPCOM_LOG_DEBUG, ("thread %p finished", (void *)t));
  signal_finished(t);
  xpcom_thread_release(t);
}

/* Joins an owned thread once; forgets it in the registry. */
static void join_and_forget(xpcom_thread *t) {
  bool do_join = false;
  PR_Lock(t->lock);
  if (t->kind == THREAD_OWNED && !t->joined) {
    t->joined = true;
    do_join = true;
  }
  PR_Unlock(t->lock);
  if (do_join)
    PR_JoinThread(t->prthread);
  registry_remove(t);
}

/* Waits, spinning the caller's own queue if it has one, until t finished.
 * The finishing thread wakes registered waiters with an event; the short
 * poll timeout only covers a failed registration (out of memory). */
static void wait_finished(xpcom_thread *t) {
  xpcom_thread *cur = xpcom_thread_current();
  if (!cur) {
    PR_Lock(t->lock);
    while (!atomic_load(&t->finished))
      PR_WaitCondVar(t->finish_cv, PR_INTERVAL_NO_TIMEOUT);
    PR_Unlock(t->lock);
    return;
  }
  waiter_node *w = malloc(sizeof *w);
  PR_Lock(t->lock);
  if (w && !atomic_load(&t->finished)) {
    xpcom_thread_addref(cur);
    w->thread = cur;
    w->next = t->waiters;
    t->waiters = w;
    w = NULL;
  }
  PR_Unlock(t->lock);
  free(w);
  while (!atomic_load(&t->finished)) {
    if (process_next(cur, false, NULL))
      continue;
    uint64_t us = xpcom_timers_next_us(cur);
    if (us > 50000)
      us = 50000;
    PRPollDesc pd = {cur->pollable, PR_POLL_READ, 0};
    (void)PR_Poll(&pd, 1, PR_MillisecondsToInterval((PRUint32)((us + 999) / 1000)));
  }
}

/* Asks t to stop, waits for it, joins it. From any thread but t. */
static nsresult thread_shutdown(xpcom_thread *t) {
  if (t->kind == THREAD_MAIN)
    return NS_ERROR_UNEXPECTED;
  if (xpcom_thread_current() == t)
    return NS_ERROR_UNEXPECTED;
  atomic_store(&t->shutdown_requested, true);
  wake_with_event(t); /* fails harmlessly if already closed */
  wait_finished(t);
  join_and_forget(t);
  return NS_OK;
}

nsresult xpcom_threads_init(void) {
  if (PR_CallOnce(&g_once, threads_once) != PR_SUCCESS)
    return NS_ERROR_OUT_OF_MEMORY;
  PR_Lock(g_reg_lock);
  g_refuse_new = false;
  PR_Unlock(g_reg_lock);
  xpcom_thread *t = thread_new(THREAD_MAIN);
  if (!t)
    return NS_ERROR_OUT_OF_MEMORY;
  t->prthread = PR_GetCurrentThread();
  nsresult rv = registry_add(t);
  if (NS_FAILED(rv)) {
    xpcom_thread_release(t);
    return rv;
  }
  PR_SetThreadPrivate(g_tls_index, t);
  g_main = t; /* keeps the creation reference */
  return NS_OK;
}

void xpcom_threads_shutdown_others(void) {
  PR_Lock(g_reg_lock);
  g_refuse_new = true;
  PR_Unlock(g_reg_lock);
  for (;;) {
    xpcom_thread *victim = NULL;
    PR_Lock(g_reg_lock);
    for (xpcom_thread *t = g_registry; t; t = t->reg_next) {
      if (t->kind != THREAD_MAIN) {
        victim = t;
        xpcom_thread_addref(victim);
        break;
      }
    }
    PR_Unlock(g_reg_lock);
    if (!victim)
      break;
    (void)thread_shutdown(victim);
    registry_remove(victim); /* attached threads that never registered out */
    xpcom_thread_release(victim);
  }
}

void xpcom_threads_shutdown_main(void) {
  xpcom_thread *t = g_main;
  if (!t)
    return;
  atomic_store(&t->shutdown_requested, true);
  drain_and_close(t);
  signal_finished(t);
  PR_SetThreadPrivate(g_tls_index, NULL);
  registry_remove(t);
  g_main = NULL;
  xpcom_thread_release(t);
}

/* ---- synchronous dispatch ------------------------------------------------ */

/* Runs the wrapped event on the target, then wakes the origin thread, which
 * spins its own queue until `done` (as Gecko's nsThreadSyncDispatch). */
typedef struct sync_event {
  nsIRunnable iface;
  uint32_t refcnt;
  nsIRunnable *inner; /* owned */
  xpcom_thread *origin; /* owned */
  atomic_bool done;
} sync_event;

static nsresult sync_QueryInterface(nsIRunnable *self, const nsIID *iid,
                                    void **result) {
  static const xpcom_qi_entry table[] = {
      XPCOM_QI_ENTRY(sync_event, iface, nsISupports_IID),
      XPCOM_QI_ENTRY(sync_event, iface, nsIRunnable_IID),
      XPCOM_QI_END};
  return xpcom_table_qi(self, table, iid, result);
}
static nsrefcnt sync_AddRef(nsIRunnable *self) {
  return xpcom_refcnt_inc(&((sync_event *)self)->refcnt);
}
static nsrefcnt sync_Release(nsIRunnable *self) {
  sync_event *s = (sync_event *)self;
  nsrefcnt n = xpcom_refcnt_dec(&s->refcnt);
  if (n == 0) {
    if (s->inner)
      NS_RELEASE(s->inner);
    xpcom_thread_release(s->origin);
    xpcom_leak_dtor("nsThreadSyncDispatch", sizeof *s);
    free(s);
  }
  return n;
}
static nsresult sync_Run(nsIRunnable *self) {
  sync_event *s = (sync_event *)self;
  nsIRunnable *inner = s->inner;
  s->inner = NULL;
  if (inner) {
    (void)nsIRunnable_Run(inner);
    NS_RELEASE(inner);
  }
  atomic_store(&s->done, true);
  wake_with_event(s->origin);
  return NS_OK;
}
static const nsIRunnableVtbl sync_vtbl = {
    .QueryInterface = sync_QueryInterface,
    .AddRef = sync_AddRef,
    .Release = sync_Release,
    .Run = sync_Run,
};

/* Dispatches `event` (owned reference, consumed in all cases). */
static nsresult thread_dispatch(xpcom_thread *t, nsIRunnable *event,
                                uint32_t flags) {
  if (!event)
    return NS_ERROR_INVALID_ARG;
  if (!(flags & nsIEventTarget_DISPATCH_SYNC))
    return queue_put(t, event);

  xpcom_thread *cur = xpcom_thread_current();
  if (!cur) {
    NS_RELEASE(event);
    return NS_ERROR_NOT_AVAILABLE;
  }
  sync_event *s = calloc(1, sizeof *s);
  if (!s) {
    NS_RELEASE(event);
    return NS_ERROR_OUT_OF_MEMORY;
  }
  s->iface.vtbl = &sync_vtbl;
  s->refcnt = 2; /* ours + the queue's */
  s->inner = event;
  xpcom_thread_addref(cur);
  s->origin = cur;
  atomic_init(&s->done, false);
  xpcom_leak_ctor("nsThreadSyncDispatch", sizeof *s);
  nsresult rv = queue_put(t, &s->iface);
  if (NS_SUCCEEDED(rv)) {
    while (!atomic_load(&s->done))
      process_next(cur, true, NULL);
  }
  sync_Release(&s->iface);
  return rv;
}

/* ---- nsIThread ------------------------------------------------------------ */

#define THREAD(self) ((xpcom_thread *)(self))

static nsresult thread_QueryInterface(nsIThread *self, const nsIID *iid,
                                      void **result) {
  static const xpcom_qi_entry table[] = {
      XPCOM_QI_ENTRY(xpcom_thread, iface, nsISupports_IID),
      XPCOM_QI_ENTRY(xpcom_thread, iface, nsIEventTarget_IID),
      XPCOM_QI_ENTRY(xpcom_thread, iface, nsIThread_IID),
      XPCOM_QI_END};
  return xpcom_table_qi(self, table, iid, result);
}

static nsrefcnt thread_AddRef(nsIThread *self) {
  return xpcom_refcnt_inc(&THREAD(self)->refcnt);
}

static nsrefcnt thread_Release(nsIThread *self) {
  xpcom_thread *t = THREAD(self);
  nsrefcnt n = xpcom_refcnt_dec(&t->refcnt);
  if (n == 0)
    thread_destroy(t);
  return n;
}

static nsresult thread_IsOnCurrentThread(nsIThread *self, bool *result) {
  if (!result)
    return NS_ERROR_INVALID_ARG;
  *result = xpcom_thread_current() == THREAD(self);
  return NS_OK;
}

static nsresult thread_Dispatch(nsIThread *self,
                                already_AddRefed_nsIRunnable *event,
                                uint32_t flags) {
  if (!event || !event->mRawPtr)
    return NS_ERROR_INVALID_ARG;
  nsIRunnable *r = event->mRawPtr;
  event->mRawPtr = NULL; /* the reference is ours now */
  return thread_dispatch(THREAD(self), r, flags);
}

static nsresult thread_DispatchFromScript(nsIThread *self, nsIRunnable *event,
                                          uint32_t flags) {
  if (!event)
    return NS_ERROR_INVALID_ARG;
  NS_ADDREF(event);
  return thread_dispatch(THREAD(self), event, flags);
}

/* DelayedDispatch: on the target thread, arm a one-shot timer whose
 * callback object holds the event. The armed timer keeps the callback
 * alive; if the timer is cancelled (its thread shuts down first) the
 * callback dies with the event unrun and releases it. */
typedef struct delayed_event {
  nsITimerCallback iface;
  uint32_t refcnt;
  nsIRunnable *event; /* owned until run */
  uint32_t delay;
} delayed_event;

static nsresult de_QueryInterface(nsITimerCallback *self, const nsIID *iid,
                                  void **result) {
  static const xpcom_qi_entry table[] = {
      XPCOM_QI_ENTRY(delayed_event, iface, nsITimerCallback_IID),
      XPCOM_QI_END};
  return xpcom_table_qi(self, table, iid, result);
}
static nsrefcnt de_AddRef(nsITimerCallback *self) {
  return xpcom_refcnt_inc(&((delayed_event *)self)->refcnt);
}
static nsrefcnt de_Release(nsITimerCallback *self) {
  delayed_event *d = (delayed_event *)self;
  nsrefcnt n = xpcom_refcnt_dec(&d->refcnt);
  if (n == 0) {
    NS_IF_RELEASE(d->event);
    xpcom_leak_dtor("DelayedRunnable", sizeof *d);
    free(d);
  }
  return n;
}
static nsresult de_Notify(nsITimerCallback *self, nsITimer *timer) {
  delayed_event *d = (delayed_event *)self;
  nsIRunnable *event = d->event;
  d->event = NULL;
  if (event)
    run_event(event);
  return NS_OK;
}
static const nsITimerCallbackVtbl delayed_vtbl = {
    .QueryInterface = de_QueryInterface,
    .AddRef = de_AddRef,
    .Release = de_Release,
    .Notify = de_Notify,
};

static void delayed_drop(void *arg) { de_Release(arg); }

/* Runs on the target: arms the timer there. */
static void delayed_arm(void *arg) {
  delayed_event *d = arg;
  nsITimer *timer = NULL;
  if (NS_SUCCEEDED(xpcom_timer_construct(NULL, &nsITimer_IID,
                                         (void **)&timer))) {
    (void)nsITimer_InitWithCallback(timer, &d->iface, d->delay,
                                    nsITimer_TYPE_ONE_SHOT);
    NS_RELEASE(timer); /* armed, it keeps itself and d alive */
  }
  de_Release(&d->iface);
}

static nsresult thread_DelayedDispatch(nsIThread *self,
                                       already_AddRefed_nsIRunnable *event,
                                       uint32_t delay) {
  if (!event || !event->mRawPtr)
    return NS_ERROR_INVALID_ARG;
  nsIRunnable *r = event->mRawPtr;
  event->mRawPtr = NULL;
  if (delay == 0) { /* Gecko refuses a zero delay */
    NS_RELEASE(r);
    return NS_ERROR_UNEXPECTED;
  }
  delayed_event *d = calloc(1, sizeof *d);
  if (!d) {
    NS_RELEASE(r);
    return NS_ERROR_OUT_OF_MEMORY;
  }
  d->iface.vtbl = &delayed_vtbl;
  d->refcnt = 1;
  d->event = r;
  d->delay = delay;
  xpcom_leak_ctor("DelayedRunnable", sizeof *d);
  nsresult rv = xpcom_dispatch_fn((nsIEventTarget *)self, delayed_arm, d,
                                  delayed_drop);
  if (NS_FAILED(rv))
    de_Release(&d->iface); /* releases the event too */
  return rv;
}

static nsresult thread_GetPRThread(nsIThread *self, PRThread **result) {
  if (!result)
    return NS_ERROR_INVALID_ARG;
  xpcom_thread *t = THREAD(self);
  PR_Lock(t->lock);
  *result = t->prthread;
  PR_Unlock(t->lock);
  return NS_OK;
}

static nsresult thread_GetCanInvokeJS(nsIThread *self, bool *result) {
  if (!result)
    return NS_ERROR_INVALID_ARG;
  xpcom_thread *t = THREAD(self);
  PR_Lock(t->lock);
  *result = t->can_invoke_js;
  PR_Unlock(t->lock);
  return NS_OK;
}

static nsresult thread_SetCanInvokeJS(nsIThread *self, bool value) {
  xpcom_thread *t = THREAD(self);
  PR_Lock(t->lock);
  t->can_invoke_js = value;
  PR_Unlock(t->lock);
  return NS_OK;
}

static nsresult thread_Shutdown(nsIThread *self) {
  return thread_shutdown(THREAD(self));
}

static nsresult thread_HasPendingEvents(nsIThread *self, bool *result) {
  xpcom_thread *t = THREAD(self);
  if (!result)
    return NS_ERROR_INVALID_ARG;
  if (xpcom_thread_current() != t)
    return NS_ERROR_UNEXPECTED;
  PR_Lock(t->lock);
  *result = t->head != NULL;
  PR_Unlock(t->lock);
  return NS_OK;
}

static nsresult thread_ProcessNextEvent(nsIThread *self, bool may_wait,
                                        bool *result) {
  xpcom_thread *t = THREAD(self);
  if (!result)
    return NS_ERROR_INVALID_ARG;
  if (xpcom_thread_current() != t)
    return NS_ERROR_UNEXPECTED;
  *result = process_next(t, may_wait, NULL);
  return NS_OK;
}

/* The finished thread wakes the caller's queue; this event joins it. */
static void async_join_run(void *arg) {
  xpcom_thread *t = arg;
  join_and_forget(t);
  xpcom_thread_release(t);
}

static void async_join_drop(void *arg) { xpcom_thread_release(arg); }

static nsresult thread_AsyncShutdown(nsIThread *self) {
  xpcom_thread *t = THREAD(self);
  xpcom_thread *cur = xpcom_thread_current();
  if (t->kind == THREAD_MAIN || cur == t)
    return NS_ERROR_UNEXPECTED;
  if (!cur) /* nobody to join it later: do it now */
    return thread_shutdown(t);
  if (atomic_exchange(&t->shutdown_requested, true))
    return NS_OK; /* already underway; whoever started it joins */
  PR_Lock(t->lock);
  bool finished = atomic_load(&t->finished);
  if (!finished) {
    xpcom_thread_addref(cur);
    t->async_joiner = cur; /* signal_finished sends it the join event */
  }
  PR_Unlock(t->lock);
  if (finished)
    join_and_forget(t);
  else
    wake_with_event(t);
  return NS_OK;
}

static nsresult thread_RegisterIdlePeriod(
    nsIThread *self, already_AddRefed_nsIIdlePeriod *period) {
  /* No idle scheduling here; take and drop the reference we were given. */
  if (period && period->mRawPtr) {
    nsISupports *p = (nsISupports *)period->mRawPtr;
    period->mRawPtr = NULL;
    NS_RELEASE(p);
  }
  return NS_OK;
}

static nsresult thread_IdleDispatch(nsIThread *self,
                                    already_AddRefed_nsIRunnable *event) {
  /* Without idle periods, idle events are ordinary events. */
  return thread_Dispatch(self, event, nsIEventTarget_DISPATCH_NORMAL);
}

static const nsIThreadVtbl thread_vtbl = {
    .QueryInterface = thread_QueryInterface,
    .AddRef = thread_AddRef,
    .Release = thread_Release,
    .IsOnCurrentThread = thread_IsOnCurrentThread,
    .Dispatch = thread_Dispatch,
    .DispatchFromScript = thread_DispatchFromScript,
    .DelayedDispatch = thread_DelayedDispatch,
    .GetPRThread = thread_GetPRThread,
    .GetCanInvokeJS = thread_GetCanInvokeJS,
    .SetCanInvokeJS = thread_SetCanInvokeJS,
    .Shutdown = thread_Shutdown,
    .HasPendingEvents = thread_HasPendingEvents,
    .ProcessNextEvent = thread_ProcessNextEvent,
    .AsyncShutdown = thread_AsyncShutdown,
    .RegisterIdlePeriod = thread_RegisterIdlePeriod,
    .IdleDispatch = thread_IdleDispatch,
};

/* ---- public C API ------------------------------------------------------- */

static nsresult new_thread(nsIThread **result, nsIRunnable *initial,
                           uint32_t stack_size) {
  if (!result)
    return NS_ERROR_INVALID_ARG;
  *result = NULL;
  if (xpcom_state() != XPCOM_STATE_RUNNING)
    return NS_ERROR_NOT_INITIALIZED;
  xpcom_thread *t = thread_new(THREAD_OWNED);
  if (!t)
    return NS_ERROR_OUT_OF_MEMORY;
  if (initial) {
    NS_ADDREF(initial);
    (void)queue_put(t, initial);
  }
  nsresult rv = registry_add(t);
  if (NS_FAILED(rv)) {
    t->closed = true;
    xpcom_thread_release(t);
    return rv;
  }
  xpcom_thread_addref(t); /* the running thread's reference */
  /* Hold the lock so prthread is stored before the thread can read it. */
  PR_Lock(t->lock);
  t->prthread = PR_CreateThread(PR_USER_THREAD, thread_main, t,
                                PR_PRIORITY_NORMAL, PR_GLOBAL_THREAD,
                                PR_JOINABLE_THREAD, stack_size);
  bool ok = t->prthread != NULL;
  if (!ok)
    t->closed = true;
  PR_Unlock(t->lock);
  if (!ok) {
    /* Nothing runs the queue: drop what is in it. */
    nsIRunnable *e;
    while ((e = queue_take(t)))
      NS_RELEASE(e);
    xpcom_thread_release(t); /* the running reference */
    registry_remove(t);
    xpcom_thread_release(t);
    return NS_ERROR_OUT_OF_MEMORY;
  }
  *result = &t->iface;
  return NS_OK;
}

XPCOM_API(nsresult)
NS_NewThread(nsIThread **result, nsIRunnable *initialEvent,
             uint32_t stackSize) {
  return new_thread(result, initialEvent, stackSize);
}

XPCOM_API(nsresult) NS_GetCurrentThread(nsIThread **result) {
  if (!result)
    return NS_ERROR_INVALID_ARG;
  xpcom_thread *t = xpcom_thread_current();
  if (!t) {
    *result = NULL;
    return NS_ERROR_NOT_AVAILABLE;
  }
  xpcom_thread_addref(t);
  *result = &t->iface;
  return NS_OK;
}

XPCOM_API(nsresult) NS_GetMainThread(nsIThread **result) {
  if (!result)
    return NS_ERROR_INVALID_ARG;
  xpcom_thread *t = g_main;
  if (!t) {
    *result = NULL;
    return NS_ERROR_NOT_INITIALIZED;
  }
  xpcom_thread_addref(t);
  *result = &t->iface;
  return NS_OK;
}

XPCOM_API(bool) NS_IsMainThread(void) {
  return g_main && xpcom_thread_current() == g_main;
}

static xpcom_thread *own_thread(nsIThread *thread) {
  xpcom_thread *cur = xpcom_thread_current();
  if (!cur)
    return NULL;
  if (thread && xpcom_thread_from_iface(thread) != cur)
    return NULL;
  return cur;
}

XPCOM_API(bool) NS_ProcessNextEvent(nsIThread *thread, bool mayWait) {
  xpcom_thread *t = own_thread(thread);
  return t ? process_next(t, mayWait, NULL) : false;
}

XPCOM_API(nsresult) NS_ProcessPendingEvents(nsIThread *thread) {
  xpcom_thread *t = own_thread(thread);
  if (!t)
    return NS_ERROR_UNEXPECTED;
  while (process_next(t, false, NULL)) {
  }
  return NS_OK;
}

XPCOM_API(nsresult) xpcom_thread_attach_current(nsIThread **result) {
  if (!result)
    return NS_ERROR_INVALID_ARG;
  *result = NULL;
  if (xpcom_state() != XPCOM_STATE_RUNNING)
    return NS_ERROR_NOT_INITIALIZED;
  if (xpcom_thread_current())
    return NS_ERROR_ALREADY_INITIALIZED;
  xpcom_thread *t = thread_new(THREAD_ATTACHED);
  if (!t)
    return NS_ERROR_OUT_OF_MEMORY;
  t->prthread = PR_GetCurrentThread();
  nsresult rv = registry_add(t);
  if (NS_FAILED(rv)) {
    xpcom_thread_release(t);
    return rv;
  }
  PR_SetThreadPrivate(g_tls_index, t);
  *result = &t->iface; /* the creation reference */
  return NS_OK;
}

XPCOM_API(nsresult) xpcom_thread_detach_current(void) {
  xpcom_thread *t = xpcom_thread_current();
  if (!t || t->kind != THREAD_ATTACHED)
    return NS_ERROR_UNEXPECTED;
  atomic_store(&t->shutdown_requested, true);
  drain_and_close(t);
  PR_SetThreadPrivate(g_tls_index, NULL);
  xpcom_thread_addref(t);
  signal_finished(t);
  registry_remove(t);
  xpcom_thread_release(t);
  return NS_OK;
}

XPCOM_API(bool) xpcom_thread_shutdown_requested(nsIThread *thread) {
  xpcom_thread *t = xpcom_thread_from_iface(thread);
  return t ? atomic_load(&t->shutdown_requested) : false;
}

XPCOM_API(nsresult) xpcom_thread_at_close(nsIThread *thread, void (*fn)(void *), void *arg) {
  xpcom_thread *t = xpcom_thread_from_iface(thread);
  if (!t || !fn)
    return NS_ERROR_INVALID_ARG;
  close_hook *h = malloc(sizeof *h);
  if (!h)
    return NS_ERROR_OUT_OF_MEMORY;
  h->fn = fn;
  h->arg = arg;
  PR_Lock(t->lock);
  bool late = t->hooks_run || t->closed;
  if (!late) {
    h->next = t->close_hooks;
    t->close_hooks = h;
  }
  PR_Unlock(t->lock);
  if (late) {
    free(h);
    return NS_ERROR_UNEXPECTED;
  }
  return NS_OK;
}

XPCOM_API(bool) xpcom_thread_cancel_at_close(nsIThread *thread, void (*fn)(void *), void *arg) {
  xpcom_thread *t = xpcom_thread_from_iface(thread);
  if (!t)
    return false;
  close_hook *found = NULL;
  PR_Lock(t->lock);
  for (close_hook **pp = &t->close_hooks; *pp; pp = &(*pp)->next) {
    if ((*pp)->fn == fn && (*pp)->arg == arg) {
      found = *pp;
      *pp = found->next;
      break;
    }
  }
  PR_Unlock(t->lock);
  free(found);
  return found != NULL;
}

XPCOM_API(PRFileDesc *) xpcom_thread_pollable(nsIThread *thread) {
  xpcom_thread *t = xpcom_thread_from_iface(thread);
  return t ? t->pollable : NULL;
}

XPCOM_API(uint32_t) xpcom_thread_run_pending(nsIThread *thread) {
  xpcom_thread *t = xpcom_thread_from_iface(thread);
  if (!t || xpcom_thread_current() != t)
    return 0;
  uint32_t ran = 0;
  (void)xpcom_timers_run_due(t, &ran);
  PR_Lock(t->lock);
  uint32_t todo = t->count;
  PR_Unlock(t->lock);
  while (todo--) {
    nsIRunnable *event = queue_take(t);
    if (!event)
      break;
    run_event(event);
    ran++;
  }
  /* A timer wake-up may have set the pollable event with nothing queued:
   * clear it, or the caller's poll would spin. */
  queue_clear_spurious_wake(t);
  return ran;
}

XPCOM_API(PRIntervalTime) xpcom_thread_next_timeout(nsIThread *thread) {
  xpcom_thread *t = xpcom_thread_from_iface(thread);
  if (!t || xpcom_thread_current() != t)
    return PR_INTERVAL_NO_TIMEOUT;
  PR_Lock(t->lock);
  bool pending = t->head != NULL;
  PR_Unlock(t->lock);
  if (pending)
    return PR_INTERVAL_NO_WAIT;
  uint64_t us = xpcom_timers_next_us(t);
  if (us == UINT64_MAX)
    return PR_INTERVAL_NO_TIMEOUT;
  if (us == 0)
    return PR_INTERVAL_NO_WAIT;
  uint64_t ms = (us + 999) / 1000;
  if (ms > 3600 * 1000)
    ms = 3600 * 1000;
  return PR_MillisecondsToInterval((PRUint32)ms);
}

/* ---- runnables from C functions ---------------------------------------- */

typedef struct fn_runnable {
  nsIRunnable iface;
  uint32_t refcnt;
  void (*run)(void *);
  void (*drop)(void *);
  void *arg;
  atomic_bool ran;
} fn_runnable;

static nsresult fn_QueryInterface(nsIRunnable *self, const nsIID *iid,
                                  void **result) {
  static const xpcom_qi_entry table[] = {
      XPCOM_QI_ENTRY(fn_runnable, iface, nsISupports_IID),
      XPCOM_QI_ENTRY(fn_runnable, iface, nsIRunnable_IID),
      XPCOM_QI_END};
  return xpcom_table_qi(self, table, iid, result);
}
static nsrefcnt fn_AddRef(nsIRunnable *self) {
  return xpcom_refcnt_inc(&((fn_runnable *)self)->refcnt);
}
static nsrefcnt fn_Release(nsIRunnable *self) {
  fn_runnable *r = (fn_runnable *)self;
  nsrefcnt n = xpcom_refcnt_dec(&r->refcnt);
  if (n == 0) {
    if (!atomic_load(&r->ran) && r->drop)
      r->drop(r->arg);
    xpcom_leak_dtor("xpcom_runnable", sizeof *r);
    free(r);
  }
  return n;
}
static nsresult fn_Run(nsIRunnable *self) {
  fn_runnable *r = (fn_runnable *)self;
  if (atomic_exchange(&r->ran, true))
    return NS_OK; /* run at most once: run() took arg over */
  r->run(r->arg);
  return NS_OK;
}
static const nsIRunnableVtbl fn_vtbl = {
    .QueryInterface = fn_QueryInterface,
    .AddRef = fn_AddRef,
    .Release = fn_Release,
    .Run = fn_Run,
};

XPCOM_API(nsIRunnable *)
xpcom_runnable_new(void (*run)(void *), void *arg, void (*drop)(void *)) {
  if (!run)
    return NULL;
  fn_runnable *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  r->iface.vtbl = &fn_vtbl;
  r->refcnt = 1;
  r->run = run;
  r->drop = drop;
  r->arg = arg;
  atomic_init(&r->ran, false);
  xpcom_leak_ctor("xpcom_runnable", sizeof *r);
  return &r->iface;
}

XPCOM_API(nsresult)
xpcom_dispatch_fn(nsIEventTarget *target, void (*run)(void *), void *arg,
                  void (*drop)(void *)) {
  if (!target || !run)
    return NS_ERROR_INVALID_ARG;
  nsIRunnable *r = xpcom_runnable_new(run, arg, drop);
  if (!r)
    return NS_ERROR_OUT_OF_MEMORY;
  /* Keep a reference so that on failure we can take arg back before the
   * runnable dies (the caller still owns arg then). */
  NS_ADDREF(r);
  nsresult rv;
  xpcom_thread *t = xpcom_thread_from_iface(target);
  if (t) {
    rv = thread_dispatch(t, r, nsIEventTarget_DISPATCH_NORMAL);
  } else {
    already_AddRefed_nsIRunnable holder = {r};
    rv = nsIEventTarget_Dispatch(target, &holder,
                                 nsIEventTarget_DISPATCH_NORMAL);
    if (holder.mRawPtr) /* a foreign target that did not take it */
      NS_RELEASE(holder.mRawPtr);
  }
  if (NS_FAILED(rv))
    ((fn_runnable *)r)->drop = NULL;
  NS_RELEASE(r);
  return rv;
}

/* ---- thread manager service --------------------------------------------- */

typedef struct thread_manager {
  nsIThreadManager iface;
  uint32_t refcnt;
} thread_manager;

static nsresult tm_QueryInterface(nsIThreadManager *self, const nsIID *iid,
                                  void **result) {
  static const xpcom_qi_entry table[] = {
      XPCOM_QI_ENTRY(thread_manager, iface, nsISupports_IID),
      XPCOM_QI_ENTRY(thread_manager, iface, nsIThreadManager_IID),
      XPCOM_QI_END};
  return xpcom_table_qi(self, table, iid, result);
}
static nsrefcnt tm_AddRef(nsIThreadManager *self) {
  return xpcom_refcnt_inc(&((thread_manager *)self)->refcnt);
}
static nsrefcnt tm_Release(nsIThreadManager *self) {
  thread_manager *m = (thread_manager *)self;
  nsrefcnt n = xpcom_refcnt_dec(&m->refcnt);
  if (n == 0) {
    xpcom_leak_dtor("nsThreadManager", sizeof *m);
    free(m);
  }
  return n;
}
static nsresult tm_NewThread(nsIThreadManager *self, uint32_t flags,
                             uint32_t stack_size, nsIThread **result) {
  return new_thread(result, NULL, stack_size);
}
static nsresult tm_GetThreadFromPRThread(nsIThreadManager *self,
                                         PRThread *prthread,
                                         nsIThread **result) {
  if (!prthread || !result)
    return NS_ERROR_INVALID_ARG;
  *result = NULL;
  if (!g_reg_lock)
    return NS_ERROR_NOT_AVAILABLE;
  PR_Lock(g_reg_lock);
  for (xpcom_thread *t = g_registry; t; t = t->reg_next) {
    PR_Lock(t->lock);
    bool match = t->prthread == prthread && !t->closed;
    PR_Unlock(t->lock);
    if (match) {
      xpcom_thread_addref(t);
      *result = &t->iface;
      break;
    }
  }
  PR_Unlock(g_reg_lock);
  return *result ? NS_OK : NS_ERROR_NOT_AVAILABLE;
}
static nsresult tm_GetMainThread(nsIThreadManager *self, nsIThread **result) {
  return NS_GetMainThread(result);
}
static nsresult tm_GetCurrentThread(nsIThreadManager *self,
                                    nsIThread **result) {
  return NS_GetCurrentThread(result);
}
static nsresult tm_GetIsMainThread(nsIThreadManager *self, bool *result) {
  if (!result)
    return NS_ERROR_INVALID_ARG;
  *result = NS_IsMainThread();
  return NS_OK;
}
static const nsIThreadManagerVtbl tm_vtbl = {
    .QueryInterface = tm_QueryInterface,
    .AddRef = tm_AddRef,
    .Release = tm_Release,
    .NewThread = tm_NewThread,
    .GetThreadFromPRThread = tm_GetThreadFromPRThread,
    .GetMainThread = tm_GetMainThread,
    .GetCurrentThread = tm_GetCurrentThread,
    .GetIsMainThread = tm_GetIsMainThread,
};

nsresult xpcom_thread_manager_construct(nsISupports *outer, const nsIID *iid,
                                        void **result) {
  *result = NULL;
  if (outer)
    return NS_ERROR_NO_AGGREGATION;
  thread_manager *m = calloc(1, sizeof *m);
  if (!m)
    return NS_ERROR_OUT_OF_MEMORY;
  m->iface.vtbl = &tm_vtbl;
  m->refcnt = 1;
  xpcom_leak_ctor("nsThreadManager", sizeof *m);
  nsresult rv = tm_QueryInterface(&m->iface, iid, result);
  tm_Release(&m->iface);
  return rv;
}

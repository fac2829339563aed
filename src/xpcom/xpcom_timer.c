/*
 * xpcom_timer.c — nsITimer without a timer thread: each armed timer sits in
 * the timer heap of the thread it fires on, and that thread's event loop
 * (process_next / xpcom_thread_run_pending) fires it.
 *
 * The heap is a binary min-heap on (deadline, arming sequence), so timers
 * with equal deadlines fire in arming order; every timer knows its heap
 * slot, so arm, cancel and re-arm are O(log n) wherever the timer sits
 * (the socket thread arms open/ping timers for every connection: a sorted
 * list made 10,000 connections quadratic).
 *
 * One global lock guards every timer's fields and every thread's heap; it
 * is never held while calling out. Lock order: timer lock → a thread's
 * lock.
 *
 * References: while armed (in a heap) a timer holds a reference to itself
 * and to its callback object, as Gecko's do, so `timer.init(...)` followed
 * by dropping the timer still fires. Firing a one-shot timer, cancel() and
 * the shutdown of its thread drop both.
 */
#include "xpcom_services_int.h"

#include <prinit.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef enum callback_kind {
  CB_NONE,
  CB_INTERFACE, /* nsITimerCallback::Notify */
  CB_OBSERVER,  /* nsIObserver::Observe(timer, "timer-callback", NULL) */
  CB_FUNC       /* nsTimerCallbackFunc / xpcom_timer_fn */
} callback_kind;

typedef struct timer_callback {
  callback_kind kind;
  nsISupports *obj;   /* CB_INTERFACE / CB_OBSERVER: owned reference */
  xpcom_timer_fn fn;  /* CB_FUNC */
  void *closure;      /* CB_FUNC: not owned */
} timer_callback;

typedef struct xpcom_timer {
  nsITimer iface;
  uint32_t refcnt;

  /* Everything below: timer lock. */
  timer_callback cb;       /* valid while armed or firing */
  uint32_t delay_ms;
  uint32_t type;
  uint64_t deadline_us;
  uint64_t seq;            /* arming order, breaks deadline ties */
  uint32_t generation;     /* bumped by every init/cancel */
  xpcom_thread *owner;     /* heap it is in (no reference: the thread
                              cancels its timers before it dies) */
  xpcom_thread *target;    /* SetTarget, owned reference, or NULL */
  bool in_list;            /* armed: holds a self reference */
  uint32_t heap_index;     /* its slot in owner's heap while in_list */
} xpcom_timer;

/* A heap slot repeats the timer's key so that sifting reads one array. */
typedef struct heap_entry {
  uint64_t deadline_us;
  uint64_t seq;
  xpcom_timer *t;
} heap_entry;

/* One per thread that has armed timers (allocated on first use; the thread
 * keeps the pointer, xpcom_thread_timer_heap). Timer lock. */
struct xpcom_timer_heap {
  heap_entry *v;
  uint32_t n, cap;
};

#define HEAP_MIN_CAP 16u

static PRCallOnceType g_once;
static PRLock *g_lock;
static uint64_t g_seq;

static PRStatus timers_once(void) {
  g_lock = PR_NewLock();
  return g_lock ? PR_SUCCESS : PR_FAILURE;
}

nsresult xpcom_timers_init(void) {
  return PR_CallOnce(&g_once, timers_once) == PR_SUCCESS
             ? NS_OK
             : NS_ERROR_OUT_OF_MEMORY;
}

void xpcom_timers_shutdown(void) {
  /* Timers are cancelled per thread as each queue closes. */
}

uint64_t xpcom_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static const nsITimerVtbl timer_vtbl;

#define TIMER(self) ((xpcom_timer *)(self))

static void callback_release(timer_callback *cb) {
  if (cb->obj)
    NS_RELEASE(cb->obj);
  memset(cb, 0, sizeof *cb);
}

/* ---- the per-thread heaps (timer lock held) ----------------------------- */

static bool entry_less(const heap_entry *a, const heap_entry *b) {
  return a->deadline_us < b->deadline_us ||
         (a->deadline_us == b->deadline_us && a->seq < b->seq);
}

static void heap_set(struct xpcom_timer_heap *h, uint32_t i, heap_entry e) {
  h->v[i] = e;
  e.t->heap_index = i;
}

static void sift_up(struct xpcom_timer_heap *h, uint32_t i) {
  heap_entry e = h->v[i];
  while (i > 0) {
    uint32_t parent = (i - 1) / 2;
    if (!entry_less(&e, &h->v[parent]))
      break;
    heap_set(h, i, h->v[parent]);
    i = parent;
  }
  heap_set(h, i, e);
}

static void sift_down(struct xpcom_timer_heap *h, uint32_t i) {
  heap_entry e = h->v[i];
  for (;;) {
    uint32_t c = 2 * i + 1;
    if (c >= h->n)
      break;
    if (c + 1 < h->n && entry_less(&h->v[c + 1], &h->v[c]))
      c++;
    if (!entry_less(&h->v[c], &e))
      break;
    heap_set(h, i, h->v[c]);
    i = c;
  }
  heap_set(h, i, e);
}

/* Makes room for one more timer in owner's heap. False when out of memory
 * (nothing changed then). */
static bool heap_reserve(xpcom_thread *owner) {
  struct xpcom_timer_heap **hp = xpcom_thread_timer_heap(owner);
  if (!*hp) {
    *hp = calloc(1, sizeof **hp);
    if (!*hp)
      return false;
  }
  struct xpcom_timer_heap *h = *hp;
  if (h->n < h->cap)
    return true;
  uint32_t cap = h->cap ? h->cap * 2 : HEAP_MIN_CAP;
  if (cap < h->cap)
    return false;
  heap_entry *v = realloc(h->v, (size_t)cap * sizeof *v);
  if (!v)
    return false;
  h->v = v;
  h->cap = cap;
  return true;
}

/* Gives back memory once a burst of timers is over (keeps amortised O(1)). */
static void heap_maybe_shrink(struct xpcom_timer_heap *h) {
  if (h->cap <= HEAP_MIN_CAP || h->n > h->cap / 4)
    return;
  uint32_t cap = h->cap / 2;
  heap_entry *v = realloc(h->v, (size_t)cap * sizeof *v);
  if (v) {
    h->v = v;
    h->cap = cap;
  }
}

static void list_remove(xpcom_timer *t) {
  struct xpcom_timer_heap *h = *xpcom_thread_timer_heap(t->owner);
  uint32_t i = t->heap_index;
  heap_entry last = h->v[--h->n];
  if (i < h->n) {
    /* The last entry fills the hole and moves whichever way it must. */
    heap_set(h, i, last);
    if (i > 0 && entry_less(&last, &h->v[(i - 1) / 2]))
      sift_up(h, i);
    else
      sift_down(h, i);
  }
  heap_maybe_shrink(h);
  t->in_list = false;
  t->owner = NULL;
}

/* Inserts by (deadline, seq); heap_reserve(owner) must have succeeded
 * since the last insert. Returns true if t became the nearest timer. */
static bool list_insert(xpcom_thread *owner, xpcom_timer *t) {
  struct xpcom_timer_heap *h = *xpcom_thread_timer_heap(owner);
  t->owner = owner;
  t->in_list = true;
  t->seq = ++g_seq;
  heap_entry e = {t->deadline_us, t->seq, t};
  h->v[h->n++] = e;
  sift_up(h, h->n - 1);
  return t->heap_index == 0;
}

/* The nearest timer of owner's heap, or NULL. */
static xpcom_timer *heap_top(xpcom_thread *owner) {
  struct xpcom_timer_heap *h = *xpcom_thread_timer_heap(owner);
  return h && h->n ? h->v[0].t : NULL;
}

/* The first entry by (deadline, seq) among those due at `now` and armed
 * before `limit`, in the subtree at i; *best is the best found so far.
 * A subtree whose root is not due holds nothing due, and one whose root
 * qualifies holds nothing better, so this visits only due timers armed
 * during the current run_due and their children. */
static void find_due(const struct xpcom_timer_heap *h, uint32_t i,
                     uint64_t now, uint64_t limit, const heap_entry **best) {
  if (i >= h->n || h->v[i].deadline_us > now)
    return;
  if (h->v[i].seq <= limit) {
    if (!*best || entry_less(&h->v[i], *best))
      *best = &h->v[i];
    return;
  }
  find_due(h, 2 * i + 1, now, limit, best);
  find_due(h, 2 * i + 2, now, limit, best);
}

/* ---- arming ---------------------------------------------------------------- */

/* Arms t with `cb` (whose reference is taken over in all cases). */
static nsresult timer_arm(xpcom_timer *t, timer_callback cb, uint32_t delay,
                          uint32_t type) {
  if (type > nsITimer_TYPE_REPEATING_PRECISE_CAN_SKIP) {
    callback_release(&cb);
    return NS_ERROR_INVALID_ARG;
  }
  if (!g_lock) {
    callback_release(&cb);
    return NS_ERROR_NOT_INITIALIZED;
  }
  timer_callback old = {CB_NONE, NULL, NULL, NULL};
  bool drop_self = false, take_self = false, wake = false;
  nsresult rv = NS_OK;
  xpcom_thread *cur = xpcom_thread_current();

  PR_Lock(g_lock);
  xpcom_thread *owner = t->target ? t->target : cur;
  if (!owner) {
    rv = NS_ERROR_NOT_INITIALIZED;
  } else if (xpcom_thread_is_closed(owner)) {
    rv = NS_ERROR_UNEXPECTED;
  }
  if (NS_SUCCEEDED(rv) && !heap_reserve(owner))
    rv = NS_ERROR_OUT_OF_MEMORY;
  if (NS_FAILED(rv)) {
    PR_Unlock(g_lock);
    callback_release(&cb);
    return rv;
  }
  t->generation++;
  if (t->in_list) {
    list_remove(t);
    drop_self = true; /* replaced below by a new self reference */
  }
  old = t->cb;
  t->cb = cb;
  t->delay_ms = delay;
  t->type = type;
  t->deadline_us = xpcom_now_us() + (uint64_t)delay * 1000u;
  wake = list_insert(owner, t) && owner != cur;
  take_self = true;
  PR_Unlock(g_lock);

  if (take_self)
    xpcom_addref(&t->iface);
  if (drop_self)
    xpcom_release(&t->iface);
  callback_release(&old);
  if (wake)
    xpcom_thread_wake(owner);
  return NS_OK;
}

static nsresult timer_cancel(xpcom_timer *t) {
  if (!g_lock)
    return NS_OK;
  PR_Lock(g_lock);
  t->generation++;
  bool was_armed = t->in_list;
  if (was_armed)
    list_remove(t);
  /* A repeating timer that is firing right now keeps a reference to its
   * callback on the stack; clearing ours stops it from re-arming. */
  timer_callback old = t->cb;
  memset(&t->cb, 0, sizeof t->cb);
  PR_Unlock(g_lock);
  callback_release(&old);
  if (was_armed)
    xpcom_release(&t->iface);
  return NS_OK;
}

/* ---- firing ----------------------------------------------------------------- */

static void invoke(xpcom_timer *t, const timer_callback *cb) {
  switch (cb->kind) {
  case CB_INTERFACE:
    (void)nsITimerCallback_Notify((nsITimerCallback *)cb->obj, &t->iface);
    break;
  case CB_OBSERVER:
    (void)nsIObserver_Observe((nsIObserver *)cb->obj, (nsISupports *)&t->iface,
                              "timer-callback", NULL);
    break;
  case CB_FUNC:
    cb->fn(&t->iface, cb->closure);
    break;
  case CB_NONE:
    break;
  }
}

bool xpcom_timers_run_due(xpcom_thread *owner, uint32_t *count) {
  if (!g_lock)
    return false;
  bool fired_any = false;
  uint64_t now = xpcom_now_us();
  PR_Lock(g_lock);
  uint64_t limit = g_seq; /* timers (re)armed from here on wait a turn */
  for (;;) {
    xpcom_timer *t = heap_top(owner);
    if (!t || t->deadline_us > now)
      break;
    if (t->seq > limit) {
      /* Re-armed during this run (delay 0, or a precise timer that fell
       * behind): look past it for one that is due and older. */
      const struct xpcom_timer_heap *h = *xpcom_thread_timer_heap(owner);
      const heap_entry *best = NULL;
      find_due(h, 0, now, limit, &best);
      if (!best)
        break;
      t = best->t;
    }

    /* Take it out: its self reference is now ours. */
    list_remove(t);
    uint32_t gen = t->generation;
    timer_callback cb = t->cb;
    bool one_shot = t->type == nsITimer_TYPE_ONE_SHOT;
    if (one_shot)
      memset(&t->cb, 0, sizeof t->cb); /* hand the callback ref to us */
    else if (cb.obj)
      NS_ADDREF(cb.obj); /* a cancel during the callback drops t->cb */
    if (!one_shot && t->type != nsITimer_TYPE_REPEATING_SLACK) {
      /* Precise: the next deadline follows the previous one; CAN_SKIP
       * drops the firings that are already late. */
      uint64_t next = t->deadline_us + (uint64_t)t->delay_ms * 1000u;
      if (t->type == nsITimer_TYPE_REPEATING_PRECISE_CAN_SKIP && next <= now)
        next = now + (uint64_t)t->delay_ms * 1000u;
      t->deadline_us = next;
    }
    PR_Unlock(g_lock);

    invoke(t, &cb);
    fired_any = true;
    if (count)
      (*count)++;

    bool keep_self = false;
    PR_Lock(g_lock);
    /* Out of memory for the heap slot stops a repeating timer (as a
     * cancel would) rather than losing track of it. */
    if (!one_shot && t->generation == gen && !t->in_list &&
        !xpcom_thread_is_closed(owner) && heap_reserve(owner)) {
      if (t->type == nsITimer_TYPE_REPEATING_SLACK)
        t->deadline_us = xpcom_now_us() + (uint64_t)t->delay_ms * 1000u;
      (void)list_insert(owner, t);
      keep_self = true; /* the heap has our self reference back */
    }
    PR_Unlock(g_lock);
    callback_release(&cb);
    if (!keep_self)
      xpcom_release(&t->iface);
    PR_Lock(g_lock);
  }
  PR_Unlock(g_lock);
  return fired_any;
}

uint64_t xpcom_timers_next_us(xpcom_thread *owner) {
  if (!g_lock)
    return UINT64_MAX;
  PR_Lock(g_lock);
  xpcom_timer *t = heap_top(owner);
  uint64_t deadline = t ? t->deadline_us : UINT64_MAX;
  PR_Unlock(g_lock);
  if (deadline == UINT64_MAX)
    return UINT64_MAX;
  uint64_t now = xpcom_now_us();
  return deadline > now ? deadline - now : 0;
}

void xpcom_timers_cancel_thread(xpcom_thread *owner) {
  if (!g_lock)
    return;
  for (;;) {
    PR_Lock(g_lock);
    struct xpcom_timer_heap *h = *xpcom_thread_timer_heap(owner);
    /* The last slot: removing it moves nothing. */
    xpcom_timer *t = h && h->n ? h->v[h->n - 1].t : NULL;
    timer_callback cb = {CB_NONE, NULL, NULL, NULL};
    if (t) {
      t->generation++;
      list_remove(t);
      cb = t->cb;
      memset(&t->cb, 0, sizeof t->cb);
    } else if (h) {
      /* The queue is closed: nothing can be armed here any more. */
      free(h->v);
      free(h);
      *xpcom_thread_timer_heap(owner) = NULL;
    }
    PR_Unlock(g_lock);
    if (!t)
      break;
    callback_release(&cb);
    xpcom_release(&t->iface);
  }
}

void xpcom_timers_thread_gone(xpcom_thread *owner) {
  /* Normally a no-op: the thread's queue closed and cancel_thread freed
   * the heap. A thread destroyed without that must not leave timers (or
   * the heap) behind. */
  xpcom_timers_cancel_thread(owner);
}

/* ---- nsITimer ---------------------------------------------------------------- */

static nsresult timer_QueryInterface(nsITimer *self, const nsIID *iid,
                                     void **result) {
  static const xpcom_qi_entry table[] = {
      XPCOM_QI_ENTRY(xpcom_timer, iface, nsISupports_IID),
      XPCOM_QI_ENTRY(xpcom_timer, iface, nsITimer_IID),
      XPCOM_QI_END};
  return xpcom_table_qi(self, table, iid, result);
}

static nsrefcnt timer_AddRef(nsITimer *self) {
  return xpcom_refcnt_inc(&TIMER(self)->refcnt);
}

static nsrefcnt timer_Release(nsITimer *self) {
  xpcom_timer *t = TIMER(self);
  nsrefcnt n = xpcom_refcnt_dec(&t->refcnt);
  if (n == 0) {
    /* Not armed (the list would hold a reference): only fields to drop. */
    callback_release(&t->cb);
    if (t->target)
      xpcom_thread_release(t->target);
    xpcom_leak_dtor("nsTimerImpl", sizeof *t);
    free(t);
  }
  return n;
}

static nsresult timer_Init(nsITimer *self, nsIObserver *observer,
                           uint32_t delay, uint32_t type) {
  if (!observer)
    return NS_ERROR_INVALID_ARG;
  NS_ADDREF(observer);
  timer_callback cb = {CB_OBSERVER, (nsISupports *)observer, NULL, NULL};
  return timer_arm(TIMER(self), cb, delay, type);
}

static nsresult timer_InitWithFuncCallback(nsITimer *self,
                                           nsTimerCallbackFunc fn,
                                           void *closure, uint32_t delay,
                                           uint32_t type) {
  if (!fn)
    return NS_ERROR_INVALID_ARG;
  timer_callback cb = {CB_FUNC, NULL, (xpcom_timer_fn)fn, closure};
  return timer_arm(TIMER(self), cb, delay, type);
}

static nsresult timer_InitWithCallback(nsITimer *self,
                                       nsITimerCallback *callback,
                                       uint32_t delay, uint32_t type) {
  if (!callback)
    return NS_ERROR_INVALID_ARG;
  NS_ADDREF(callback);
  timer_callback cb = {CB_INTERFACE, (nsISupports *)callback, NULL, NULL};
  return timer_arm(TIMER(self), cb, delay, type);
}

static nsresult timer_Cancel(nsITimer *self) {
  return timer_cancel(TIMER(self));
}

static nsresult timer_InitWithNamedFuncCallback(nsITimer *self,
                                                nsTimerCallbackFunc fn,
                                                void *closure, uint32_t delay,
                                                uint32_t type,
                                                const char *name) {
  return timer_InitWithFuncCallback(self, fn, closure, delay, type);
}

static nsresult timer_InitWithNameableFuncCallback(
    nsITimer *self, nsTimerCallbackFunc fn, void *closure, uint32_t delay,
    uint32_t type, nsTimerNameCallbackFunc name_fn) {
  return timer_InitWithFuncCallback(self, fn, closure, delay, type);
}

static nsresult timer_GetDelay(nsITimer *self, uint32_t *result) {
  if (!result)
    return NS_ERROR_INVALID_ARG;
  if (!g_lock)
    return NS_ERROR_NOT_INITIALIZED;
  PR_Lock(g_lock);
  *result = TIMER(self)->delay_ms;
  PR_Unlock(g_lock);
  return NS_OK;
}

/* Like Gecko: an armed timer is rescheduled `delay` from now. */
static nsresult timer_SetDelay(nsITimer *self, uint32_t delay) {
  xpcom_timer *t = TIMER(self);
  if (!g_lock)
    return NS_ERROR_NOT_INITIALIZED;
  bool wake = false;
  xpcom_thread *owner = NULL;
  PR_Lock(g_lock);
  t->delay_ms = delay;
  if (t->in_list) {
    owner = t->owner;
    list_remove(t);
    t->deadline_us = xpcom_now_us() + (uint64_t)delay * 1000u;
    wake = list_insert(owner, t) && owner != xpcom_thread_current();
  }
  PR_Unlock(g_lock);
  if (wake)
    xpcom_thread_wake(owner);
  return NS_OK;
}

static nsresult timer_GetType(nsITimer *self, uint32_t *result) {
  if (!result)
    return NS_ERROR_INVALID_ARG;
  if (!g_lock)
    return NS_ERROR_NOT_INITIALIZED;
  PR_Lock(g_lock);
  *result = TIMER(self)->type;
  PR_Unlock(g_lock);
  return NS_OK;
}

static nsresult timer_SetType(nsITimer *self, uint32_t type) {
  if (type > nsITimer_TYPE_REPEATING_PRECISE_CAN_SKIP)
    return NS_ERROR_INVALID_ARG;
  if (!g_lock)
    return NS_ERROR_NOT_INITIALIZED;
  PR_Lock(g_lock);
  TIMER(self)->type = type;
  PR_Unlock(g_lock);
  return NS_OK;
}

static nsresult timer_GetClosure(nsITimer *self, void **result) {
  if (!result)
    return NS_ERROR_INVALID_ARG;
  if (!g_lock)
    return NS_ERROR_NOT_INITIALIZED;
  PR_Lock(g_lock);
  xpcom_timer *t = TIMER(self);
  *result = t->cb.kind == CB_FUNC ? t->cb.closure : NULL;
  PR_Unlock(g_lock);
  return NS_OK;
}

static nsresult timer_GetCallback(nsITimer *self, nsITimerCallback **result) {
  if (!result)
    return NS_ERROR_INVALID_ARG;
  *result = NULL;
  if (!g_lock)
    return NS_ERROR_NOT_INITIALIZED;
  PR_Lock(g_lock);
  xpcom_timer *t = TIMER(self);
  if (t->cb.kind == CB_INTERFACE) {
    *result = (nsITimerCallback *)t->cb.obj;
    NS_ADDREF(*result);
  }
  PR_Unlock(g_lock);
  return NS_OK;
}

static nsresult timer_GetTarget(nsITimer *self, nsIEventTarget **result) {
  if (!result)
    return NS_ERROR_INVALID_ARG;
  *result = NULL;
  if (!g_lock)
    return NS_ERROR_NOT_INITIALIZED;
  PR_Lock(g_lock);
  xpcom_thread *th = TIMER(self)->target;
  if (!th)
    th = TIMER(self)->owner;
  if (th)
    xpcom_thread_addref(th);
  PR_Unlock(g_lock);
  if (!th)
    th = xpcom_thread_current(), th ? xpcom_thread_addref(th) : (void)0;
  if (th)
    *result = (nsIEventTarget *)xpcom_thread_iface(th);
  return NS_OK;
}

/* Only this runtime's threads can run timers; the target applies from the
 * next init. A null target means "the thread that arms the timer". */
static nsresult timer_SetTarget(nsITimer *self, nsIEventTarget *target) {
  xpcom_thread *th = NULL;
  if (target) {
    th = xpcom_thread_from_iface(target);
    if (!th)
      return NS_ERROR_NOT_IMPLEMENTED;
    xpcom_thread_addref(th);
  }
  if (!g_lock) {
    if (th)
      xpcom_thread_release(th);
    return NS_ERROR_NOT_INITIALIZED;
  }
  PR_Lock(g_lock);
  xpcom_thread *old = TIMER(self)->target;
  TIMER(self)->target = th;
  PR_Unlock(g_lock);
  if (old)
    xpcom_thread_release(old);
  return NS_OK;
}

static const nsITimerVtbl timer_vtbl = {
    .QueryInterface = timer_QueryInterface,
    .AddRef = timer_AddRef,
    .Release = timer_Release,
    .Init = timer_Init,
    .InitWithFuncCallback = timer_InitWithFuncCallback,
    .InitWithCallback = timer_InitWithCallback,
    .Cancel = timer_Cancel,
    .InitWithNamedFuncCallback = timer_InitWithNamedFuncCallback,
    .InitWithNameableFuncCallback = timer_InitWithNameableFuncCallback,
    .GetDelay = timer_GetDelay,
    .SetDelay = timer_SetDelay,
    .GetType = timer_GetType,
    .SetType = timer_SetType,
    .GetClosure = timer_GetClosure,
    .GetCallback = timer_GetCallback,
    .GetTarget = timer_GetTarget,
    .SetTarget = timer_SetTarget,
};

static xpcom_timer *timer_new(void) {
  xpcom_timer *t = calloc(1, sizeof *t);
  if (!t)
    return NULL;
  t->iface.vtbl = &timer_vtbl;
  t->refcnt = 1;
  xpcom_leak_ctor("nsTimerImpl", sizeof *t);
  return t;
}

nsresult xpcom_timer_construct(nsISupports *outer, const nsIID *iid,
                               void **result) {
  *result = NULL;
  if (outer)
    return NS_ERROR_NO_AGGREGATION;
  xpcom_timer *t = timer_new();
  if (!t)
    return NS_ERROR_OUT_OF_MEMORY;
  nsresult rv = timer_QueryInterface(&t->iface, iid, result);
  timer_Release(&t->iface);
  return rv;
}

/* ---- C API -------------------------------------------------------------------- */

XPCOM_API(nsresult)
xpcom_timer_arm(nsITimer **timer, uint32_t delay_ms, uint32_t type,
                xpcom_timer_fn fn, void *closure) {
  if (!timer || !fn)
    return NS_ERROR_INVALID_ARG;
  bool created = false;
  if (!*timer) {
    if (xpcom_state() == XPCOM_STATE_OFF)
      return NS_ERROR_NOT_INITIALIZED;
    xpcom_timer *t = timer_new();
    if (!t)
      return NS_ERROR_OUT_OF_MEMORY;
    *timer = &t->iface;
    created = true;
  }
  if ((*timer)->vtbl != &timer_vtbl) /* someone else's nsITimer */
    return nsITimer_InitWithFuncCallback(*timer, (nsTimerCallbackFunc)fn,
                                         closure, delay_ms, type);
  timer_callback cb = {CB_FUNC, NULL, fn, closure};
  nsresult rv = timer_arm(TIMER(*timer), cb, delay_ms, type);
  if (NS_FAILED(rv) && created) {
    NS_RELEASE(*timer);
    *timer = NULL;
  }
  return rv;
}

XPCOM_API(void) xpcom_timer_release(nsITimer **timer) {
  if (!timer || !*timer)
    return;
  (void)nsITimer_Cancel(*timer);
  NS_RELEASE(*timer);
  *timer = NULL;
}

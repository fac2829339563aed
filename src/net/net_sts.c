/*
 * net_sts.c — the socket-transport thread and its PR_Poll loop.
 *
 * The poll set is two parallel arrays, slot 0 being the thread's pollable
 * event: PRPollDesc for PR_Poll and the handler owning each slot. A handler
 * knows its slot, so update is O(1). Detach blanks the slot (fd NULL,
 * which PR_Poll ignores) and remembers its index; after the callbacks of an
 * iteration the blanks are filled by moving the last slot into them, so
 * slots never shift under a running dispatch loop and no step scans the
 * whole array.
 */
#include "net_sts.h"

#include <prerror.h>
#include <prinit.h>
#include <prlock.h>
#include <prthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "nsXPCOM.h"
#include "xpcom_thread.h" /* before the generated headers (C natives) */
#include "nsIEventTarget.h"
#include "nsIRunnable.h"
#include "nsIThread.h"
#include "xpcom_log.h"
#include "xpcom_object.h"

XPCOM_LOG_MODULE(g_log, "nsSocketTransport");

#define STS_SCRATCH_SIZE (256u * 1024u)
#define STS_MAX_HOOKS 16

typedef struct stop_hook {
  void (*fn)(void);
  int order;
} stop_hook;

/* ---- shared state (g_lock) ---------------------------------------------- */

static PRCallOnceType g_once;
static PRLock *g_lock;
static nsIThread *g_thread;   /* running service's thread (our reference) */
static bool g_stopping;       /* its loop has ended; hooks may be running */
static stop_hook g_hooks[STS_MAX_HOOKS];
static int g_nhooks;

/* The service thread's PRThread, for net_sts_is_current. */
static _Atomic(PRThread *) g_prthread;

/* ---- socket-thread state ------------------------------------------------ */

static PRPollDesc *g_pds;
static net_sts_handler **g_handlers; /* NULL in slot 0 and in blanks */
static uint32_t g_count;             /* used slots, including slot 0 */
static uint32_t g_cap;
static uint32_t g_live;              /* attached handlers */
static uint32_t *g_blanks;           /* detached slots not yet filled */
static uint32_t g_nblanks, g_blanks_cap;
static bool g_blanks_lost;           /* a blank could not be recorded */
static bool g_loop_stopped;          /* attach refused from now on */
static uint8_t *g_scratch;

static PRStatus sts_once(void) {
  g_lock = PR_NewLock();
  return g_lock ? PR_SUCCESS : PR_FAILURE;
}

static nsresult sts_lock(void) {
  if (PR_CallOnce(&g_once, sts_once) != PR_SUCCESS)
    return NS_ERROR_OUT_OF_MEMORY;
  PR_Lock(g_lock);
  return NS_OK;
}

NET_API(bool) net_sts_is_current(void) {
  PRThread *t = atomic_load(&g_prthread);
  return t && t == PR_GetCurrentThread();
}

/* ---- poll set ----------------------------------------------------------- */

static void slot_fill(uint32_t i, net_sts_handler *h) {
  g_handlers[i] = h;
  bool polled = h && h->fd && h->in_flags;
  g_pds[i].fd = polled ? h->fd : NULL;
  g_pds[i].in_flags = polled ? h->in_flags : 0;
  g_pds[i].out_flags = 0;
  if (h)
    h->sts_index = (int32_t)i;
}

static bool grow(void) {
  uint32_t cap = g_cap ? g_cap * 2 : 64;
  PRPollDesc *pds = realloc(g_pds, cap * sizeof *pds);
  if (!pds)
    return false;
  g_pds = pds;
  net_sts_handler **hs = realloc(g_handlers, cap * sizeof *hs);
  if (!hs)
    return false;
  g_handlers = hs;
  g_cap = cap;
  return true;
}

/* Fills the blanks left by detach: O(number of blanks). */
static void compact(void) {
  if (g_blanks_lost) {
    /* Rare (out of memory while recording a blank): one full pass. */
    uint32_t j = 1;
    for (uint32_t i = 1; i < g_count; i++) {
      if (g_handlers[i]) {
        g_pds[j] = g_pds[i];
        g_handlers[j] = g_handlers[i];
        g_handlers[j]->sts_index = (int32_t)j;
        j++;
      }
    }
    g_count = j;
    g_nblanks = 0;
    g_blanks_lost = false;
    return;
  }
  for (uint32_t k = 0; k < g_nblanks; k++) {
    uint32_t idx = g_blanks[k];
    while (g_count > 1 && !g_handlers[g_count - 1])
      g_count--;
    if (idx < g_count && !g_handlers[idx]) {
      g_pds[idx] = g_pds[g_count - 1];
      g_handlers[idx] = g_handlers[g_count - 1];
      g_handlers[idx]->sts_index = (int32_t)idx;
      g_count--;
    }
  }
  while (g_count > 1 && !g_handlers[g_count - 1])
    g_count--;
  g_nblanks = 0;
}

NET_API(nsresult) net_sts_attach(net_sts_handler *h) {
  if (!h || !h->on_ready || !h->on_detach)
    return NS_ERROR_INVALID_ARG;
  if (!net_sts_is_current() || h->sts_index >= 0)
    return NS_ERROR_UNEXPECTED;
  if (g_loop_stopped || !g_pds)
    return NS_ERROR_NOT_AVAILABLE;
  if (g_count == g_cap && !grow())
    return NS_ERROR_OUT_OF_MEMORY;
  slot_fill(g_count++, h);
  g_live++;
  return NS_OK;
}

NET_API(void) net_sts_update(net_sts_handler *h) {
  if (!h || h->sts_index < 0 || !net_sts_is_current())
    return;
  uint32_t i = (uint32_t)h->sts_index;
  bool polled = h->fd && h->in_flags;
  PRFileDesc *fd = polled ? h->fd : NULL;
  if (g_pds[i].fd != fd)
    g_pds[i].out_flags = 0; /* never report one fd's readiness for another */
  g_pds[i].fd = fd;
  g_pds[i].in_flags = polled ? h->in_flags : 0;
}

NET_API(void) net_sts_detach(net_sts_handler *h) {
  if (!h || h->sts_index < 0 || !net_sts_is_current())
    return;
  uint32_t i = (uint32_t)h->sts_index;
  h->sts_index = -1;
  g_live--;
  g_handlers[i] = NULL;
  g_pds[i].fd = NULL;
  g_pds[i].in_flags = 0;
  g_pds[i].out_flags = 0;
  if (g_loop_stopped)
    return; /* the stop sequence pops slots itself */
  if (g_nblanks == g_blanks_cap) {
    uint32_t cap = g_blanks_cap ? g_blanks_cap * 2 : 64;
    uint32_t *b = realloc(g_blanks, cap * sizeof *b);
    if (!b) {
      g_blanks_lost = true;
      return;
    }
    g_blanks = b;
    g_blanks_cap = cap;
  }
  g_blanks[g_nblanks++] = i;
}

NET_API(bool) net_sts_is_attached(const net_sts_handler *h) {
  return h && h->sts_index >= 0;
}

NET_API(uint32_t) net_sts_handler_count(void) {
  return net_sts_is_current() ? g_live : 0;
}

NET_API(uint8_t *) net_sts_scratch(size_t *size) {
  if (!net_sts_is_current() || !g_scratch) {
    if (size)
      *size = 0;
    return NULL;
  }
  if (size)
    *size = STS_SCRATCH_SIZE;
  return g_scratch;
}

/* ---- the loop ----------------------------------------------------------- */

static void dispatch_ready(uint32_t npoll, PRInt32 nready) {
  PRInt32 seen = g_pds[0].out_flags ? 1 : 0;
  for (uint32_t i = 1; i < npoll && seen < nready; i++) {
    PRInt16 out = g_pds[i].out_flags;
    if (!out)
      continue;
    seen++;
    g_pds[i].out_flags = 0;
    net_sts_handler *h = g_handlers[i];
    if (h) /* NULL: detached by an earlier callback of this round */
      h->on_ready(h, out);
  }
}

static int hook_cmp(const void *a, const void *b) {
  const stop_hook *x = a, *y = b;
  return x->order - y->order;
}

static void run_stop_sequence(void) {
  PR_Lock(g_lock);
  g_stopping = true;
  PR_Unlock(g_lock);
  g_loop_stopped = true;
  XPCOM_LOG(g_log, XPCOM_LOG_DEBUG,
            ("sts: stopping, detaching %u handlers", (unsigned)g_live));

  /* Detach everyone, last slot first; a callback may detach others (they
   * become blanks, skipped here) but cannot attach. */
  while (g_count > 1) {
    net_sts_handler *h = g_handlers[--g_count];
    if (!h)
      continue;
    h->sts_index = -1;
    g_live--;
    h->on_detach(h, NS_ERROR_ABORT);
  }

  stop_hook hooks[STS_MAX_HOOKS];
  PR_Lock(g_lock);
  int n = g_nhooks;
  /* Registration order reversed, then a stable sort by order. */
  for (int i = 0; i < n; i++)
    hooks[i] = g_hooks[n - 1 - i];
  g_nhooks = 0;
  PR_Unlock(g_lock);
  for (int i = 1; i < n; i++) { /* insertion sort: stable, n is tiny */
    stop_hook k = hooks[i];
    int j = i - 1;
    while (j >= 0 && hook_cmp(&hooks[j], &k) > 0) {
      hooks[j + 1] = hooks[j];
      j--;
    }
    hooks[j + 1] = k;
  }
  for (int i = 0; i < n; i++)
    hooks[i].fn();

  free(g_pds);
  free(g_handlers);
  free(g_blanks);
  free(g_scratch);
  g_pds = NULL;
  g_handlers = NULL;
  g_blanks = NULL;
  g_scratch = NULL;
  g_count = g_cap = g_live = g_nblanks = g_blanks_cap = 0;
  g_blanks_lost = false;
}

static void sts_main(void *arg) {
  (void)arg;
  nsIThread *self = NULL;
  if (NS_FAILED(NS_GetCurrentThread(&self)))
    return;
  atomic_store(&g_prthread, PR_GetCurrentThread());
  g_loop_stopped = false;
  g_scratch = malloc(STS_SCRATCH_SIZE);
  bool ok = g_scratch && grow();
  if (ok) {
    g_pds[0].fd = xpcom_thread_pollable(self);
    g_pds[0].in_flags = PR_POLL_READ;
    g_pds[0].out_flags = 0;
    g_handlers[0] = NULL;
    g_count = 1;
  }
  XPCOM_LOG(g_log, XPCOM_LOG_DEBUG, ("sts: thread started"));

  while (ok && !xpcom_thread_shutdown_requested(self)) {
    PRIntervalTime timeout = xpcom_thread_next_timeout(self);
    uint32_t npoll = g_count;
    PRInt32 n = PR_Poll(g_pds, (PRIntn)npoll, timeout);
    if (n < 0) {
      PRErrorCode err = PR_GetError();
      XPCOM_LOG(g_log, XPCOM_LOG_ERROR, ("sts: PR_Poll failed: %d", (int)err));
      if (err != PR_PENDING_INTERRUPT_ERROR)
        PR_Sleep(PR_MillisecondsToInterval(5)); /* never spin on an error */
    } else if (n > 0) {
      dispatch_ready(npoll, n);
    }
    (void)xpcom_thread_run_pending(self);
    if (g_nblanks || g_blanks_lost)
      compact();
  }
  /* Let queued events (commands racing with shutdown) see the service
   * still attached where possible, then stop. */
  if (ok)
    (void)xpcom_thread_run_pending(self);
  run_stop_sequence();
  XPCOM_LOG(g_log, XPCOM_LOG_DEBUG, ("sts: thread stopped"));

  PR_Lock(g_lock);
  nsIThread *mine = g_thread;
  g_thread = NULL;
  g_stopping = false;
  PR_Unlock(g_lock);
  NS_IF_RELEASE(mine);
  NS_RELEASE(self);
  /* The runtime's thread loop now runs what is still queued (handlers
   * refuse to attach) and closes the queue. */
}

/* With g_lock held. */
static nsresult ensure_locked(void) {
  if (g_thread)
    return g_stopping ? NS_ERROR_NOT_INITIALIZED : NS_OK;
  nsIRunnable *r = xpcom_runnable_new(sts_main, NULL, NULL);
  if (!r)
    return NS_ERROR_OUT_OF_MEMORY;
  nsIThread *t = NULL;
  nsresult rv = NS_NewThread(&t, r, 0);
  NS_RELEASE(r);
  if (NS_FAILED(rv))
    return rv;
  g_thread = t;
  g_stopping = false;
  return NS_OK;
}

NET_API(nsresult) net_sts_ensure(void) {
  nsresult rv = sts_lock();
  if (NS_FAILED(rv))
    return rv;
  rv = ensure_locked();
  PR_Unlock(g_lock);
  return rv;
}

NET_API(nsresult)
net_sts_dispatch(void (*run)(void *arg), void *arg, void (*drop)(void *arg)) {
  if (!run)
    return NS_ERROR_INVALID_ARG;
  nsresult rv = sts_lock();
  if (NS_FAILED(rv))
    return rv;
  rv = ensure_locked();
  nsIThread *t = g_thread;
  if (NS_SUCCEEDED(rv))
    NS_ADDREF(t);
  PR_Unlock(g_lock);
  if (NS_FAILED(rv))
    return rv;
  rv = xpcom_dispatch_fn((nsIEventTarget *)(void *)t, run, arg, drop);
  NS_RELEASE(t);
  return rv;
}

NET_API(nsresult) net_sts_at_stop(void (*fn)(void), int order) {
  if (!fn)
    return NS_ERROR_INVALID_ARG;
  nsresult rv = sts_lock();
  if (NS_FAILED(rv))
    return rv;
  rv = ensure_locked();
  if (NS_FAILED(rv)) {
    if (g_stopping)
      rv = NS_ERROR_NOT_AVAILABLE;
  } else {
    bool found = false;
    for (int i = 0; i < g_nhooks; i++)
      found = found || g_hooks[i].fn == fn;
    if (!found) {
      if (g_nhooks == STS_MAX_HOOKS) {
        rv = NS_ERROR_OUT_OF_MEMORY;
      } else {
        g_hooks[g_nhooks].fn = fn;
        g_hooks[g_nhooks].order = order;
        g_nhooks++;
      }
    }
  }
  PR_Unlock(g_lock);
  return rv;
}

/*
 * net_sts.c — the socket-transport thread and its wait loop.
 *
 * The loop waits with epoll (Linux) so that an iteration costs O(ready)
 * rather than PR_Poll's O(attached), which made n connections to one
 * server — n handshakes in a row, RFC 6455 §4.1 — cost O(n²).
 *
 * Each attached handler owns a slot (index = h->sts_index). Slots never
 * move; a detached slot is reused only after the current iteration, so a
 * readiness record collected for slot i always means the handler in slot i
 * now, or nobody. A slot records what is registered: the fd it was set up
 * for, the OS descriptor and epoll events, and, for layered fds, how OS
 * readiness maps back to the handler's flags (NSPR's own PR_Poll
 * bookkeeping, redone here). Readiness collected for a slot whose fd
 * changed during the current dispatch is dropped.
 *
 * Plain NSPR sockets live in the epoll set only. Slots that must be looked
 * at before each wait sit in a "turn" list: layered fds (their poll
 * methods are asked, as PR_Poll does), descriptors epoll refuses (regular
 * files: always ready, as poll(2) says) and broken ones (NVAL).
 *
 * epoll watches open file descriptions, not NSPR objects: a descriptor is
 * unregistered (EPOLL_CTL_DEL) while still open, at update/detach time,
 * and a per-descriptor owner table keeps a slot from deleting a
 * registration that a later socket with the same number made.
 */
#include "net_sts.h"

#include <errno.h>
#include <limits.h>
#include <prerror.h>
#include <prinit.h>
#include <prlock.h>
#include <prthread.h>
#include <private/pprio.h> /* PR_FileDesc2NativeHandle (public API, this header) */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

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
#define STS_MAX_EVENTS 1024 /* epoll records per wait; the rest next turn */
#define STS_PE_TAG UINT64_MAX /* epoll data of the thread's pollable event */
#define NO_SLOT UINT32_MAX

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

enum slot_mode {
  M_IDLE,    /* nothing polled (fd NULL or in_flags 0) */
  M_PLAIN,   /* a plain NSPR socket: in the epoll set only */
  M_LAYERED, /* layers asked before each wait (or on change) */
  M_ALWAYS,  /* epoll refused it (EPERM, a regular file): always ready */
  M_NVAL     /* no usable OS descriptor: reported as PR_POLL_NVAL */
};

/* How an OS readiness answers the handler's request (layered fds). */
enum {
  SYS_R_READ = 1,  /* READ asked, the layer waits for OS read */
  SYS_R_WRITE = 2, /* READ asked, the layer waits for OS write */
  SYS_W_READ = 4,  /* WRITE asked, the layer waits for OS read */
  SYS_W_WRITE = 8  /* WRITE asked, the layer waits for OS write */
};

typedef struct sts_slot {
  net_sts_handler *h;     /* NULL while free */
  PRFileDesc *fd;         /* the fd this slot is set up for */
  PRInt16 in_flags;       /* h->in_flags at the last sync */
  uint8_t mode;           /* enum slot_mode */
  uint8_t sysmap;         /* SYS_* bits of the current registration */
  int osfd;               /* registered OS descriptor, -1 when none */
  uint32_t events;        /* epoll events registered for osfd */
  uint32_t turn_pos;      /* index in g_turn, NO_SLOT when not there */
  uint64_t changed_round; /* the round in which fd last changed */
  uint64_t layer_round;   /* the round in which the layer said "ready" */
  uint32_t next_free;     /* free / deferred list link */
} sts_slot;

typedef struct ready_rec {
  uint32_t slot;
  PRInt16 out;
} ready_rec;

static sts_slot *g_slots;
static uint32_t g_nslots, g_slots_cap; /* slots ever used / allocated */
static uint32_t g_free = NO_SLOT;      /* reusable now */
static uint32_t g_deferred = NO_SLOT;  /* reusable after this iteration */
static uint32_t g_live;                /* attached handlers */
static uint32_t *g_turn;               /* slots looked at before each wait */
static uint32_t g_nturn, g_turn_cap;
static uint32_t *g_osfd_owner;         /* osfd -> slot + 1 (0: none) */
static uint32_t g_osfd_cap;
static int g_epfd = -1;
static struct epoll_event *g_events;
static ready_rec *g_ready;             /* this iteration's readiness */
static uint32_t g_nready, g_ready_cap;
static uint64_t g_round;               /* iterations (dispatch batches) */
static bool g_loop_stopped;            /* attach refused from now on */
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

/* ---- the turn list ---------------------------------------------------- */

static bool turn_add(uint32_t i) {
  if (g_slots[i].turn_pos != NO_SLOT)
    return true;
  if (g_nturn == g_turn_cap) {
    uint32_t cap = g_turn_cap ? g_turn_cap * 2 : 16;
    uint32_t *t = realloc(g_turn, (size_t)cap * sizeof *t);
    if (!t)
      return false;
    g_turn = t;
    g_turn_cap = cap;
  }
  g_slots[i].turn_pos = g_nturn;
  g_turn[g_nturn++] = i;
  return true;
}

static void turn_remove(uint32_t i) {
  uint32_t pos = g_slots[i].turn_pos;
  if (pos == NO_SLOT)
    return;
  uint32_t last = g_turn[--g_nturn];
  g_turn[pos] = last;
  g_slots[last].turn_pos = pos;
  g_slots[i].turn_pos = NO_SLOT;
}

/* ---- epoll registration --------------------------------------------------- */

static uint32_t epoll_events_for(PRInt16 sys_in) {
  uint32_t ev = 0;
  if (sys_in & PR_POLL_READ)
    ev |= EPOLLIN;
  if (sys_in & PR_POLL_WRITE)
    ev |= EPOLLOUT;
  if (sys_in & PR_POLL_EXCEPT)
    ev |= EPOLLPRI;
  return ev;
}

/* Records slot i as the owner of osfd (taking it from a slot whose fd was
 * closed without an update: the kernel dropped that registration). */
static void osfd_claim(int osfd, uint32_t i) {
  if ((uint32_t)osfd >= g_osfd_cap) {
    uint32_t cap = g_osfd_cap ? g_osfd_cap : 1024;
    while (cap <= (uint32_t)osfd)
      cap *= 2;
    uint32_t *m = realloc(g_osfd_owner, (size_t)cap * sizeof *m);
    if (!m)
      return; /* without the table we only lose that protection */
    memset(m + g_osfd_cap, 0, (size_t)(cap - g_osfd_cap) * sizeof *m);
    g_osfd_owner = m;
    g_osfd_cap = cap;
  }
  uint32_t prev = g_osfd_owner[osfd];
  if (prev && prev - 1 != i) {
    sts_slot *o = &g_slots[prev - 1];
    o->osfd = -1;
    o->events = 0;
  }
  g_osfd_owner[osfd] = i + 1;
}

/* Removes slot i's registration, if the descriptor is still ours. */
static void unregister(uint32_t i) {
  sts_slot *s = &g_slots[i];
  if (s->osfd < 0)
    return;
  bool ours = (uint32_t)s->osfd >= g_osfd_cap || g_osfd_owner[s->osfd] == i + 1;
  if (ours) {
    (void)epoll_ctl(g_epfd, EPOLL_CTL_DEL, s->osfd, NULL);
    if ((uint32_t)s->osfd < g_osfd_cap)
      g_osfd_owner[s->osfd] = 0;
  }
  s->osfd = -1;
  s->events = 0;
}

/* Registers osfd for slot i with `events`. Returns 0 or an errno. */
static int register_osfd(uint32_t i, int osfd, uint32_t events) {
  sts_slot *s = &g_slots[i];
  if (s->osfd == osfd && s->events == events)
    return 0;
  if (s->osfd >= 0 && s->osfd != osfd)
    unregister(i);
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = events;
  ev.data.u64 = i;
  int op = s->osfd == osfd ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  int rc = epoll_ctl(g_epfd, op, osfd, &ev);
  if (rc != 0 && op == EPOLL_CTL_MOD && errno == ENOENT)
    rc = epoll_ctl(g_epfd, EPOLL_CTL_ADD, osfd, &ev); /* closed and reused */
  else if (rc != 0 && op == EPOLL_CTL_ADD && errno == EEXIST)
    rc = epoll_ctl(g_epfd, EPOLL_CTL_MOD, osfd, &ev); /* a stale owner's */
  if (rc != 0) {
    int err = errno;
    s->osfd = -1;
    s->events = 0;
    return err;
  }
  osfd_claim(osfd, i);
  s->osfd = osfd;
  s->events = events;
  return 0;
}

/* The OS descriptor under fd (its NSPR bottom layer), or -1. */
static int native_of(PRFileDesc *fd) {
  PRFileDesc *bottom = PR_GetIdentitiesLayer(fd, PR_NSPR_IO_LAYER);
  if (!bottom)
    return -1;
  PROsfd osfd = PR_FileDesc2NativeHandle(bottom);
  return osfd >= 0 && osfd <= INT_MAX ? (int)osfd : -1;
}

static bool is_plain(PRFileDesc *fd) {
  return !fd->lower && !fd->higher && fd->identity == PR_NSPR_IO_LAYER;
}

static void set_mode_failed(uint32_t i, int err) {
  sts_slot *s = &g_slots[i];
  s->mode = err == EPERM ? M_ALWAYS : M_NVAL;
  if (err != EPERM)
    XPCOM_LOG(g_log, XPCOM_LOG_ERROR,
              ("sts: cannot poll descriptor of slot %u: errno %d", (unsigned)i, err));
  if (!turn_add(i))
    s->mode = M_IDLE; /* out of memory: nothing better to do than wait */
}

/* Brings slot i in line with its handler's fd, in_flags and layer_poll. */
static void sync_slot(uint32_t i) {
  sts_slot *s = &g_slots[i];
  net_sts_handler *h = s->h;
  PRFileDesc *fd = h->fd && h->in_flags ? h->fd : NULL;
  PRInt16 in = fd ? h->in_flags : 0;
  if (fd != s->fd) {
    /* Never report one fd's readiness for another; the old descriptor is
     * unregistered while its owner has not closed it yet. */
    unregister(i);
    turn_remove(i);
    s->fd = fd;
    s->mode = M_IDLE;
    s->changed_round = g_round;
  }
  s->in_flags = in;
  if (!fd) {
    s->mode = M_IDLE;
    unregister(i);
    turn_remove(i);
    return;
  }
  if (is_plain(fd)) {
    s->mode = M_PLAIN;
    turn_remove(i);
    s->sysmap = (uint8_t)(((in & PR_POLL_READ) ? SYS_R_READ : 0) |
                          ((in & PR_POLL_WRITE) ? SYS_W_WRITE : 0));
    int osfd = native_of(fd);
    int err = osfd < 0 ? EBADF : register_osfd(i, osfd, epoll_events_for(in));
    if (err)
      set_mode_failed(i, err);
    return;
  }
  /* Layered: the layers are asked before the next wait (and, unless the
   * handler chose ON_CHANGE, before every wait). */
  s->mode = M_LAYERED;
  if (!turn_add(i))
    set_mode_failed(i, ENOMEM);
}

static bool slots_grow(void) {
  uint32_t cap = g_slots_cap ? g_slots_cap * 2 : 64;
  sts_slot *v = realloc(g_slots, (size_t)cap * sizeof *v);
  if (!v)
    return false;
  g_slots = v;
  g_slots_cap = cap;
  return true;
}

NET_API(nsresult) net_sts_attach(net_sts_handler *h) {
  if (!h || !h->on_ready || !h->on_detach)
    return NS_ERROR_INVALID_ARG;
  if (!net_sts_is_current() || h->sts_index >= 0)
    return NS_ERROR_UNEXPECTED;
  if (g_loop_stopped || g_epfd < 0)
    return NS_ERROR_NOT_AVAILABLE;
  uint32_t i = g_free;
  if (i != NO_SLOT) {
    g_free = g_slots[i].next_free;
  } else {
    if (g_nslots == g_slots_cap && !slots_grow())
      return NS_ERROR_OUT_OF_MEMORY;
    i = g_nslots++;
  }
  sts_slot *s = &g_slots[i];
  memset(s, 0, sizeof *s);
  s->h = h;
  s->osfd = -1;
  s->turn_pos = NO_SLOT;
  s->next_free = NO_SLOT;
  s->changed_round = g_round;
  s->layer_round = UINT64_MAX;
  h->sts_index = (int32_t)i;
  g_live++;
  sync_slot(i);
  return NS_OK;
}

NET_API(void) net_sts_update(net_sts_handler *h) {
  if (!h || h->sts_index < 0 || !net_sts_is_current())
    return;
  sync_slot((uint32_t)h->sts_index);
}

NET_API(void) net_sts_detach(net_sts_handler *h) {
  if (!h || h->sts_index < 0 || !net_sts_is_current())
    return;
  uint32_t i = (uint32_t)h->sts_index;
  sts_slot *s = &g_slots[i];
  unregister(i);
  turn_remove(i);
  s->h = NULL;
  s->fd = NULL;
  s->mode = M_IDLE;
  s->next_free = g_deferred; /* records of this iteration may name it */
  g_deferred = i;
  h->sts_index = -1;
  g_live--;
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

static bool ready_add(uint32_t slot, PRInt16 out) {
  if (g_nready == g_ready_cap) {
    uint32_t cap = g_ready_cap ? g_ready_cap * 2 : 256;
    ready_rec *r = realloc(g_ready, (size_t)cap * sizeof *r);
    if (!r)
      return false; /* level-triggered / asked again: reported next turn */
    g_ready = r;
    g_ready_cap = cap;
  }
  g_ready[g_nready].slot = slot;
  g_ready[g_nready].out = out;
  g_nready++;
  return true;
}

/* PR_Poll's treatment of one layered fd: ask the layers for READ and for
 * WRITE separately; "ready now" is reported without waiting (returns
 * true), otherwise the OS events they need are registered for the bottom
 * descriptor. */
static bool ask_layers(uint32_t i) {
  sts_slot *s = &g_slots[i];
  PRFileDesc *fd = s->fd;
  PRInt16 in = s->in_flags;
  PRInt16 in_r = 0, in_w = 0, out_r = 0, out_w = 0;
  if (in & PR_POLL_READ)
    in_r = fd->methods->poll(fd, (PRInt16)(in & ~PR_POLL_WRITE), &out_r);
  if (in & PR_POLL_WRITE)
    in_w = fd->methods->poll(fd, (PRInt16)(in & ~PR_POLL_READ), &out_w);
  if ((in_r & out_r) || (in_w & out_w)) {
    s->layer_round = g_round;
    (void)ready_add(i, (PRInt16)(out_r | out_w));
    return true;
  }
  uint8_t map = 0;
  PRInt16 sys = 0;
  if (in_r & PR_POLL_READ)
    map |= SYS_R_READ, sys |= PR_POLL_READ;
  if (in_r & PR_POLL_WRITE)
    map |= SYS_R_WRITE, sys |= PR_POLL_WRITE;
  if (in_w & PR_POLL_READ)
    map |= SYS_W_READ, sys |= PR_POLL_READ;
  if (in_w & PR_POLL_WRITE)
    map |= SYS_W_WRITE, sys |= PR_POLL_WRITE;
  if (in & PR_POLL_EXCEPT)
    sys |= PR_POLL_EXCEPT;
  s->sysmap = map;
  int osfd = native_of(fd);
  int err = osfd < 0 ? EBADF : register_osfd(i, osfd, epoll_events_for(sys));
  if (err) {
    (void)ready_add(i, PR_POLL_NVAL); /* PR_Poll's answer for a bad fd */
    return true;
  }
  return false;
}

/* Before the wait: the turn list. Returns true if something is ready. */
static bool run_turn(void) {
  bool any = false;
  for (uint32_t k = 0; k < g_nturn;) {
    uint32_t i = g_turn[k];
    sts_slot *s = &g_slots[i];
    uint32_t before = g_nready;
    bool layer_ready = false;
    switch (s->mode) {
    case M_LAYERED:
      layer_ready = ask_layers(i);
      break;
    case M_ALWAYS:
      (void)ready_add(i, (PRInt16)(s->in_flags & (PR_POLL_READ | PR_POLL_WRITE)));
      break;
    case M_NVAL:
      (void)ready_add(i, PR_POLL_NVAL);
      break;
    default:
      break;
    }
    any = any || g_nready > before;
    /* ON_CHANGE handlers leave the list once asked, unless the layer said
     * "ready" (then on_ready runs and puts them back). */
    if (s->mode == M_LAYERED && s->h->layer_poll == NET_STS_LAYER_ON_CHANGE &&
        !layer_ready) {
      turn_remove(i); /* moved the last entry to k: look at k again */
      continue;
    }
    k++;
  }
  return any;
}

/* OS readiness of slot i in the handler's terms (PR_Poll's mapping). */
static PRInt16 out_flags_for(const sts_slot *s, uint32_t ev) {
  PRInt16 out = 0;
  if (ev & EPOLLIN) {
    if (s->sysmap & SYS_R_READ)
      out |= PR_POLL_READ;
    if (s->sysmap & SYS_W_READ)
      out |= PR_POLL_WRITE;
  }
  if (ev & EPOLLOUT) {
    if (s->sysmap & SYS_R_WRITE)
      out |= PR_POLL_READ;
    if (s->sysmap & SYS_W_WRITE)
      out |= PR_POLL_WRITE;
  }
  if ((ev & EPOLLPRI) && (s->in_flags & PR_POLL_EXCEPT))
    out |= PR_POLL_EXCEPT;
  if (ev & EPOLLERR)
    out |= PR_POLL_ERR;
  if (ev & EPOLLHUP)
    out |= PR_POLL_HUP;
  return out;
}

static int wait_ms(PRIntervalTime timeout) {
  if (timeout == PR_INTERVAL_NO_TIMEOUT)
    return -1;
  if (timeout == PR_INTERVAL_NO_WAIT)
    return 0;
  PRUint32 ms = PR_IntervalToMilliseconds(timeout);
  if (PR_MillisecondsToInterval(ms) < timeout)
    ms++; /* never wake before the timer is due */
  return ms > (PRUint32)INT_MAX ? INT_MAX : (int)ms;
}

/* One wait and the callbacks it calls for. */
static void poll_once(nsIThread *self) {
  g_round++;
  g_nready = 0;
  bool ready_now = run_turn();
  int timeout = ready_now ? 0 : wait_ms(xpcom_thread_next_timeout(self));
  int n = epoll_wait(g_epfd, g_events, STS_MAX_EVENTS, timeout);
  if (n < 0 && errno != EINTR) {
    XPCOM_LOG(g_log, XPCOM_LOG_ERROR, ("sts: epoll_wait failed: %d", errno));
    PR_Sleep(PR_MillisecondsToInterval(5)); /* never spin on an error */
  }
  for (int k = 0; k < n; k++) {
    if (g_events[k].data.u64 == STS_PE_TAG)
      continue; /* the queue: xpcom_thread_run_pending follows */
    uint32_t i = (uint32_t)g_events[k].data.u64;
    if (i >= g_nslots)
      continue;
    const sts_slot *s = &g_slots[i];
    if (!s->h || s->layer_round == g_round || s->mode == M_IDLE)
      continue; /* gone, or its layer answered already */
    PRInt16 out = out_flags_for(s, g_events[k].events);
    if (out)
      (void)ready_add(i, out);
  }
  /* Dispatch. A callback may attach, update or detach any handler: the
   * slot then holds someone else or nobody, or a new fd (dropped). Slots
   * are not reused before the next iteration, so `g_slots[i].h == h`
   * after a callback means h is still attached (and so still valid). */
  for (uint32_t k = 0; k < g_nready; k++) {
    uint32_t i = g_ready[k].slot;
    sts_slot *s = &g_slots[i];
    net_sts_handler *h = s->h;
    if (!h || s->changed_round == g_round || !s->fd)
      continue;
    if (s->mode == M_PLAIN && !is_plain(s->fd))
      sync_slot(i); /* a layer was pushed under the same pointer */
    PRInt16 out = (PRInt16)(g_ready[k].out &
                            (s->in_flags | PR_POLL_ERR | PR_POLL_HUP | PR_POLL_NVAL));
    if (!out)
      continue;
    h->on_ready(h, out);
    s = &g_slots[i]; /* the array may have grown */
    if (s->h != h)
      continue;
    /* Its I/O may have changed what its layers need. */
    if (s->mode == M_PLAIN && s->fd && !is_plain(s->fd))
      sync_slot(i);
    else if (s->mode == M_LAYERED)
      (void)turn_add(i);
  }
}

/* Detached slots become reusable once no record of this iteration can
 * name them. */
static void release_deferred(void) {
  while (g_deferred != NO_SLOT) {
    uint32_t i = g_deferred;
    g_deferred = g_slots[i].next_free;
    g_slots[i].next_free = g_free;
    g_free = i;
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
   * are skipped here) but cannot attach. */
  for (uint32_t i = g_nslots; i-- > 0;) {
    net_sts_handler *h = g_slots[i].h;
    if (!h)
      continue;
    net_sts_detach(h); /* unregisters: the handler closes its fd now */
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

  if (g_epfd >= 0)
    close(g_epfd);
  g_epfd = -1;
  free(g_slots);
  free(g_turn);
  free(g_osfd_owner);
  free(g_events);
  free(g_ready);
  free(g_scratch);
  g_slots = NULL;
  g_turn = NULL;
  g_osfd_owner = NULL;
  g_events = NULL;
  g_ready = NULL;
  g_scratch = NULL;
  g_nslots = g_slots_cap = g_live = g_nturn = g_turn_cap = g_osfd_cap = 0;
  g_nready = g_ready_cap = 0;
  g_free = g_deferred = NO_SLOT;
}

static void sts_main(void *arg) {
  (void)arg;
  nsIThread *self = NULL;
  if (NS_FAILED(NS_GetCurrentThread(&self)))
    return;
  atomic_store(&g_prthread, PR_GetCurrentThread());
  g_loop_stopped = false;
  g_scratch = malloc(STS_SCRATCH_SIZE);
  g_events = malloc(STS_MAX_EVENTS * sizeof *g_events);
  g_epfd = epoll_create1(EPOLL_CLOEXEC);
  bool ok = g_scratch && g_events && g_epfd >= 0;
  if (ok) {
    /* The queue's pollable descriptor: an eventfd in NSPR's I/O layer
     * (xpcom_thread.c), so its OS descriptor's readability is the answer. */
    int pe = native_of(xpcom_thread_pollable(self));
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.u64 = STS_PE_TAG;
    ok = pe >= 0 && epoll_ctl(g_epfd, EPOLL_CTL_ADD, pe, &ev) == 0;
  }
  if (!ok)
    XPCOM_LOG(g_log, XPCOM_LOG_ERROR, ("sts: cannot set up the wait (errno %d)", errno));
  XPCOM_LOG(g_log, XPCOM_LOG_DEBUG, ("sts: thread started"));

  while (ok && !xpcom_thread_shutdown_requested(self)) {
    poll_once(self);
    (void)xpcom_thread_run_pending(self);
    release_deferred();
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

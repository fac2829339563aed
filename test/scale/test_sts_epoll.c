/*
 * test_sts_epoll.c — the socket-transport loop's wait (epoll on the OS
 * descriptors) keeps PR_Poll's semantics where they matter:
 *   - a layered fd whose layer holds data the OS descriptor does not show
 *     (as an SSL layer holds decrypted records) is reported ready, also
 *     when the layer was pushed under an already attached pointer without
 *     an update, and in NET_STS_LAYER_ON_CHANGE mode;
 *   - a layer that needs the opposite direction (a TLS handshake wanting
 *     to write while the handler waits to read) gets it, and the handler
 *     sees its own flag;
 *   - pollable events (layered) and regular files (epoll refuses them:
 *     always ready, as poll(2) says) work as handler fds;
 *   - readiness collected for a handler whose fd another callback
 *     swapped in the same iteration is not reported;
 *   - a descriptor closed without an update and reused by another handler
 *     keeps the new handler's registration;
 *   - one busy socket among 5,000 idle ones: the cost per wake-up does
 *     not grow with the idle ones (printed, loosely bounded).
 * Real loopback sockets, no mocks. Each test boots and shuts XPCOM and
 * checks for leaks.
 */
#include <check.h>
#include <prerror.h>
#include <prinit.h>
#include <prio.h>
#include <prthread.h>
#include <private/pprio.h> /* PR_FileDesc2NativeHandle, PR_ImportTCPSocket */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "nsXPCOM.h"
#include "xpcom_thread.h" /* before the generated headers (C natives) */
#include "nsIServiceManager.h"
#include "xpcom_object.h"

#include "net/net_sts.h"
#include "../xpcom_harness.h"

/* ---- harness ----------------------------------------------------------- */

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Waits (main thread) until cond(arg) or ms passed. */
static bool wait_for(bool (*cond)(void *), void *arg, int ms) {
  double end = now_s() + ms / 1000.0;
  while (!cond(arg) && now_s() < end) {
    if (!NS_ProcessNextEvent(NULL, false))
      PR_Sleep(PR_MillisecondsToInterval(1));
  }
  return cond(arg);
}

typedef struct sync_call {
  void (*fn)(void *);
  void *arg;
  atomic_bool done;
} sync_call;

static void sync_run(void *p) {
  sync_call *s = p;
  s->fn(s->arg);
  atomic_store(&s->done, true);
}

static bool flag_set(void *p) { return atomic_load((atomic_bool *)p); }

/* Runs fn(arg) on the socket thread and waits for it. */
static void on_sts(void (*fn)(void *), void *arg) {
  sync_call s = {fn, arg, false};
  ck_assert_uint_eq(net_sts_dispatch(sync_run, &s, NULL), NS_OK);
  ck_assert(wait_for(flag_set, &s.done, 20000));
}

static void make_pair(PRFileDesc *fds[2]) {
  ck_assert_int_eq(PR_NewTCPSocketPair(fds), PR_SUCCESS);
  for (int i = 0; i < 2; i++) {
    PRSocketOptionData opt = {.option = PR_SockOpt_Nonblocking};
    opt.value.non_blocking = PR_TRUE;
    ck_assert_int_eq(PR_SetSocketOption(fds[i], &opt), PR_SUCCESS);
  }
}

/* ---- a layer that buffers (like SSL) or needs the other direction ------ */

static PRDescIdentity g_layer_id = PR_INVALID_IO_LAYER;
static PRIOMethods g_layer_methods;

typedef struct layer_state {
  char buf[256]; /* bytes pulled from the socket, not yet returned */
  int len;
  bool handshaking; /* asked READ, needs OS WRITE */
} layer_state;

/* recv pulls everything the socket has (as SSL reads whole records) and
 * returns one byte: the rest stays invisible to the OS descriptor. */
static PRInt32 layer_recv(PRFileDesc *fd, void *out, PRInt32 amount,
                          PRIntn flags, PRIntervalTime timeout) {
  layer_state *st = (layer_state *)fd->secret;
  for (;;) {
    int room = (int)sizeof st->buf - st->len;
    if (room <= 0)
      break;
    PRInt32 n = fd->lower->methods->recv(fd->lower, st->buf + st->len, room,
                                         flags, timeout);
    if (n <= 0)
      break;
    st->len += n;
  }
  if (st->len == 0) {
    PR_SetError(PR_WOULD_BLOCK_ERROR, 0);
    return -1;
  }
  ((char *)out)[0] = st->buf[0];
  memmove(st->buf, st->buf + 1, (size_t)--st->len);
  (void)amount;
  return 1;
}

static PRInt16 layer_poll(PRFileDesc *fd, PRInt16 in_flags,
                          PRInt16 *out_flags) {
  layer_state *st = (layer_state *)fd->secret;
  *out_flags = 0;
  if ((in_flags & PR_POLL_READ) && st->len > 0) {
    *out_flags = PR_POLL_READ; /* ready now, whatever the socket says */
    return in_flags;
  }
  if ((in_flags & PR_POLL_READ) && st->handshaking)
    return (PRInt16)((in_flags & ~PR_POLL_READ) | PR_POLL_WRITE);
  PRInt16 lower_out = 0;
  return fd->lower->methods->poll(fd->lower, in_flags, &lower_out);
}

static PRStatus layer_close(PRFileDesc *fd) {
  PRFileDesc *top = PR_PopIOLayer(fd, g_layer_id);
  free(top->secret);
  top->secret = NULL;
  top->dtor(top);
  return fd->methods->close(fd);
}

/* Pushes the layer on fd (the pointer stays the caller's top). */
static layer_state *push_layer(PRFileDesc *fd) {
  if (g_layer_id == PR_INVALID_IO_LAYER) {
    g_layer_id = PR_GetUniqueIdentity("test-buffering-layer");
    g_layer_methods = *PR_GetDefaultIOMethods();
    g_layer_methods.recv = layer_recv;
    g_layer_methods.poll = layer_poll;
    g_layer_methods.close = layer_close;
  }
  PRFileDesc *layer = PR_CreateIOLayerStub(g_layer_id, &g_layer_methods);
  ck_assert_ptr_nonnull(layer);
  layer_state *st = calloc(1, sizeof *st);
  ck_assert_ptr_nonnull(st);
  layer->secret = (PRFilePrivate *)st;
  ck_assert_int_eq(PR_PushIOLayer(fd, PR_TOP_IO_LAYER, layer), PR_SUCCESS);
  ck_assert_int_eq(fd->identity, g_layer_id);
  return st;
}

/* ---- a reading handler ----------------------------------------------------- */

typedef struct reader {
  net_sts_handler h;
  PRFileDesc *peer;
  char got[64];
  atomic_int ngot;
  atomic_int calls;
  atomic_int last_out;
  bool detach_after_one;
} reader;

static void reader_ready(net_sts_handler *h, PRInt16 out) {
  reader *r = (reader *)h;
  atomic_fetch_add(&r->calls, 1);
  atomic_store(&r->last_out, out);
  if (r->detach_after_one) {
    net_sts_detach(h);
    return;
  }
  char c;
  /* One byte per call: the rest must be reported again. */
  if ((out & PR_POLL_READ) && PR_Recv(h->fd, &c, 1, 0, PR_INTERVAL_NO_WAIT) == 1) {
    int n = atomic_load(&r->ngot);
    if (n < (int)sizeof r->got)
      r->got[n] = c;
    atomic_fetch_add(&r->ngot, 1);
  }
}

static void reader_detached(net_sts_handler *h, nsresult why) {}

static void reader_init(reader *r, PRFileDesc *fd, PRInt16 in) {
  memset(r, 0, sizeof *r);
  net_sts_handler init = NET_STS_HANDLER_INIT;
  r->h = init;
  r->h.fd = fd;
  r->h.in_flags = in;
  r->h.on_ready = reader_ready;
  r->h.on_detach = reader_detached;
}

static void attach_fn(void *p) {
  ck_assert_uint_eq(net_sts_attach(&((reader *)p)->h), NS_OK);
}
static void detach_fn(void *p) { net_sts_detach(&((reader *)p)->h); }

static bool got3(void *p) { return atomic_load(&((reader *)p)->ngot) >= 3; }
static bool called(void *p) { return atomic_load(&((reader *)p)->calls) >= 1; }

/* ---- tests ----------------------------------------------------------------- */

static reader g_r;
static layer_state *g_st;

static void push_on_sts(void *p) { g_st = push_layer(((reader *)p)->h.fd); }

/* The layer is pushed after attaching, under the same pointer and without
 * net_sts_update: the first OS readiness reveals it; the layer then keeps
 * two of three bytes that the OS descriptor no longer shows. */
START_TEST(layer_pushed_under_attached_pointer) {
  xh_boot();
  PRFileDesc *fds[2];
  make_pair(fds);
  reader_init(&g_r, fds[0], PR_POLL_READ);
  on_sts(attach_fn, &g_r);
  on_sts(push_on_sts, &g_r);
  ck_assert_int_eq(PR_Send(fds[1], "xyz", 3, 0, PR_INTERVAL_NO_TIMEOUT), 3);
  ck_assert_msg(wait_for(got3, &g_r, 5000), "got %d of 3 bytes",
                atomic_load(&g_r.ngot));
  ck_assert(memcmp(g_r.got, "xyz", 3) == 0);
  on_sts(detach_fn, &g_r);
  xh_shut();
  PR_Close(fds[0]);
  PR_Close(fds[1]);
}
END_TEST

static void check_buffered(uint8_t mode) {
  xh_boot();
  PRFileDesc *fds[2];
  make_pair(fds);
  reader_init(&g_r, fds[0], PR_POLL_READ);
  g_r.h.layer_poll = mode;
  g_st = push_layer(fds[0]);
  on_sts(attach_fn, &g_r);
  ck_assert_int_eq(PR_Send(fds[1], "abc", 3, 0, PR_INTERVAL_NO_TIMEOUT), 3);
  ck_assert_msg(wait_for(got3, &g_r, 5000), "got %d of 3 bytes",
                atomic_load(&g_r.ngot));
  ck_assert(memcmp(g_r.got, "abc", 3) == 0);
  /* Nothing more: no spurious calls once the layer is empty. */
  int calls = atomic_load(&g_r.calls);
  PR_Sleep(PR_MillisecondsToInterval(100));
  ck_assert_int_le(atomic_load(&g_r.calls), calls + 1);
  on_sts(detach_fn, &g_r);
  xh_shut();
  PR_Close(fds[0]);
  PR_Close(fds[1]);
}

START_TEST(layer_buffered_data_every_turn) { check_buffered(NET_STS_LAYER_EVERY_TURN); }
END_TEST

START_TEST(layer_buffered_data_on_change) { check_buffered(NET_STS_LAYER_ON_CHANGE); }
END_TEST

static void set_handshaking(void *p) {
  g_st->handshaking = *(bool *)p;
  net_sts_update(&g_r.h); /* what the layer needs changed outside on_ready */
}

/* Asked READ, the layer needs OS WRITE (a handshake): the writable socket
 * wakes the handler with its own flag, READ. */
START_TEST(layer_needs_the_other_direction) {
  xh_boot();
  PRFileDesc *fds[2];
  make_pair(fds);
  reader_init(&g_r, fds[0], PR_POLL_READ);
  g_r.detach_after_one = true;
  g_st = push_layer(fds[0]);
  g_st->handshaking = true;
  on_sts(attach_fn, &g_r);
  ck_assert(wait_for(called, &g_r, 5000));
  ck_assert_int_eq(atomic_load(&g_r.last_out), PR_POLL_READ);
  xh_shut();
  PR_Close(fds[0]);
  PR_Close(fds[1]);
}
END_TEST

/* Same with ON_CHANGE: the handshake starts from outside on_ready (an
 * update), then ends; the plain read path follows. */
START_TEST(layer_direction_change_on_update) {
  xh_boot();
  PRFileDesc *fds[2];
  make_pair(fds);
  reader_init(&g_r, fds[0], PR_POLL_READ);
  g_r.h.layer_poll = NET_STS_LAYER_ON_CHANGE;
  g_st = push_layer(fds[0]);
  on_sts(attach_fn, &g_r);
  PR_Sleep(PR_MillisecondsToInterval(50));
  ck_assert_int_eq(atomic_load(&g_r.calls), 0); /* nothing to read */
  bool on = true, off = false;
  on_sts(set_handshaking, &on);
  ck_assert(wait_for(called, &g_r, 5000)); /* writable socket → READ */
  ck_assert_int_eq(atomic_load(&g_r.last_out), PR_POLL_READ);
  on_sts(set_handshaking, &off);
  int calls = atomic_load(&g_r.calls);
  PR_Sleep(PR_MillisecondsToInterval(50));
  /* At most the calls that raced with the update. */
  ck_assert_int_le(atomic_load(&g_r.calls), calls + 2);
  ck_assert_int_eq(PR_Send(fds[1], "123", 3, 0, PR_INTERVAL_NO_TIMEOUT), 3);
  ck_assert(wait_for(got3, &g_r, 5000));
  ck_assert(memcmp(g_r.got, "123", 3) == 0);
  on_sts(detach_fn, &g_r);
  xh_shut();
  PR_Close(fds[0]);
  PR_Close(fds[1]);
}
END_TEST

/* A pollable event (an NSPR layer over a pipe) as a handler's fd. */
START_TEST(pollable_event_as_handler_fd) {
  xh_boot();
  PRFileDesc *pe = PR_NewPollableEvent();
  ck_assert_ptr_nonnull(pe);
  reader_init(&g_r, pe, PR_POLL_READ);
  g_r.detach_after_one = true;
  on_sts(attach_fn, &g_r);
  PR_Sleep(PR_MillisecondsToInterval(30));
  ck_assert_int_eq(atomic_load(&g_r.calls), 0);
  ck_assert_int_eq(PR_SetPollableEvent(pe), PR_SUCCESS);
  ck_assert(wait_for(called, &g_r, 5000));
  ck_assert(atomic_load(&g_r.last_out) & PR_POLL_READ);
  xh_shut();
  PR_DestroyPollableEvent(pe);
}
END_TEST

/* epoll refuses regular files; poll(2) calls them always ready. */
START_TEST(regular_file_is_always_ready) {
  xh_boot();
  char path[] = "/tmp/test_sts_epoll_XXXXXX";
  int tmp = mkstemp(path);
  ck_assert_int_ge(tmp, 0);
  close(tmp);
  PRFileDesc *f = PR_Open(path, PR_RDONLY, 0);
  ck_assert_ptr_nonnull(f);
  unlink(path);
  reader_init(&g_r, f, PR_POLL_READ);
  g_r.detach_after_one = true;
  on_sts(attach_fn, &g_r);
  ck_assert(wait_for(called, &g_r, 5000));
  ck_assert_int_eq(atomic_load(&g_r.last_out), PR_POLL_READ);
  xh_shut();
  PR_Close(f);
}
END_TEST

/* Two readable handlers; whichever runs first swaps the other's fd for a
 * silent socket (closing the old one): the other must not be called with
 * the readiness of its old fd, in that iteration or later. */
typedef struct swapper {
  net_sts_handler h;
  struct swapper *other;
  PRFileDesc *spare;     /* silent socket to swap in */
  PRFileDesc *old;       /* closed after the test */
  atomic_int calls;
} swapper;

static swapper g_sw[2];

static void swapper_ready(net_sts_handler *h, PRInt16 out) {
  swapper *s = (swapper *)h;
  atomic_fetch_add(&s->calls, 1);
  swapper *o = s->other;
  if (o->spare) {
    o->old = o->h.fd;
    o->h.fd = o->spare;
    o->spare = NULL;
    net_sts_update(&o->h);
    PR_Close(o->old); /* after the update, as the contract says */
    o->old = NULL;
  }
  char buf[8];
  (void)PR_Recv(h->fd, buf, sizeof buf, 0, PR_INTERVAL_NO_WAIT);
  s->h.in_flags = 0; /* one call is enough */
  net_sts_update(h);
}

static void swapper_detached(net_sts_handler *h, nsresult why) {}

static void attach_swappers(void *p) {
  for (int i = 0; i < 2; i++)
    ck_assert_uint_eq(net_sts_attach(&g_sw[i].h), NS_OK);
}
static void detach_swappers(void *p) {
  for (int i = 0; i < 2; i++)
    net_sts_detach(&g_sw[i].h);
}

static bool any_swapper_called(void *p) {
  return atomic_load(&g_sw[0].calls) + atomic_load(&g_sw[1].calls) >= 1;
}

START_TEST(no_readiness_for_a_swapped_fd) {
  xh_boot();
  PRFileDesc *a[2], *b[2], *sa[2], *sb[2];
  make_pair(a);
  make_pair(b);
  make_pair(sa);
  make_pair(sb);
  memset(g_sw, 0, sizeof g_sw);
  PRFileDesc *peers[2] = {a[1], b[1]};
  PRFileDesc *ends[2] = {a[0], b[0]};
  PRFileDesc *spares[2] = {sa[0], sb[0]};
  for (int i = 0; i < 2; i++) {
    net_sts_handler init = NET_STS_HANDLER_INIT;
    g_sw[i].h = init;
    g_sw[i].h.fd = ends[i];
    g_sw[i].h.in_flags = PR_POLL_READ;
    g_sw[i].h.on_ready = swapper_ready;
    g_sw[i].h.on_detach = swapper_detached;
    g_sw[i].other = &g_sw[1 - i];
    g_sw[i].spare = spares[i];
  }
  /* Both readable before the socket thread waits again. */
  ck_assert_int_eq(PR_Send(peers[0], "1", 1, 0, PR_INTERVAL_NO_TIMEOUT), 1);
  ck_assert_int_eq(PR_Send(peers[1], "2", 1, 0, PR_INTERVAL_NO_TIMEOUT), 1);
  on_sts(attach_swappers, NULL);
  ck_assert(wait_for(any_swapper_called, NULL, 5000));
  PR_Sleep(PR_MillisecondsToInterval(100));
  ck_assert_int_eq(atomic_load(&g_sw[0].calls) + atomic_load(&g_sw[1].calls), 1);
  on_sts(detach_swappers, NULL);
  xh_shut();
  for (int i = 0; i < 2; i++) {
    PR_Close(g_sw[i].h.fd);
    if (g_sw[i].spare)
      PR_Close(g_sw[i].spare);
  }
  PR_Close(a[1]);
  PR_Close(b[1]);
  PR_Close(sa[1]);
  PR_Close(sb[1]);
}
END_TEST

/* Handler X's fd is closed without an update (a contract violation the
 * service survives); a new socket gets the same descriptor number and is
 * attached as Y. X's later detach must not remove Y's registration. */
static reader g_x, g_y;
static PRFileDesc *g_y_peer, *g_q0;

static void violate_and_reuse(void *p) {
  ck_assert_uint_eq(net_sts_attach(&g_x.h), NS_OK);
  int x_os = (int)PR_FileDesc2NativeHandle(g_x.h.fd);
  PRFileDesc *fds[2];
  make_pair(fds);
  PR_Close(g_x.h.fd); /* no update: the kernel drops the registration */
  /* The lowest free number is X's: give Y's socket exactly that one. */
  int d = dup((int)PR_FileDesc2NativeHandle(fds[0]));
  ck_assert_int_eq(d, x_os);
  PRFileDesc *y = PR_ImportTCPSocket(d);
  ck_assert_ptr_nonnull(y);
  PRSocketOptionData opt = {.option = PR_SockOpt_Nonblocking};
  opt.value.non_blocking = PR_TRUE;
  PR_SetSocketOption(y, &opt);
  g_q0 = fds[0];
  reader_init(&g_y, y, PR_POLL_READ);
  g_y_peer = fds[1];
  ck_assert_uint_eq(net_sts_attach(&g_y.h), NS_OK);
  g_x.h.fd = NULL;
  net_sts_detach(&g_x.h);
}

START_TEST(reused_descriptor_keeps_new_registration) {
  xh_boot();
  PRFileDesc *fds[2];
  make_pair(fds);
  reader_init(&g_x, fds[0], PR_POLL_READ);
  on_sts(violate_and_reuse, NULL);
  ck_assert_int_eq(PR_Send(g_y_peer, "abc", 3, 0, PR_INTERVAL_NO_TIMEOUT), 3);
  ck_assert_msg(wait_for(got3, &g_y, 5000), "Y got %d bytes", atomic_load(&g_y.ngot));
  on_sts(detach_fn, &g_y);
  xh_shut();
  PR_Close(g_y.h.fd);
  PR_Close(g_q0);
  PR_Close(g_y_peer);
  PR_Close(fds[1]);
}
END_TEST

/* ---- one busy socket among many idle ones ---------------------------------- */

typedef struct pinger {
  net_sts_handler h;
  atomic_int rounds;
  int target;
  atomic_bool done;
} pinger;

static pinger g_ping;

/* Echo side on the socket thread: each byte read is answered. */
static void ping_ready(net_sts_handler *h, PRInt16 out) {
  pinger *p = (pinger *)h;
  char c;
  while (PR_Recv(h->fd, &c, 1, 0, PR_INTERVAL_NO_WAIT) == 1) {
    if (atomic_fetch_add(&p->rounds, 1) + 1 >= p->target) {
      atomic_store(&p->done, true);
      continue;
    }
    (void)PR_Send(h->fd, &c, 1, 0, PR_INTERVAL_NO_WAIT);
  }
}

static reader *g_idle;
static int g_nidle;

static void attach_idle(void *p) {
  for (int i = 0; i < g_nidle; i++)
    ck_assert_uint_eq(net_sts_attach(&g_idle[i].h), NS_OK);
}
static void detach_idle(void *p) {
  for (int i = 0; i < g_nidle; i++)
    net_sts_detach(&g_idle[i].h);
  net_sts_detach(&g_ping.h);
}
static void attach_ping(void *p) {
  ck_assert_uint_eq(net_sts_attach(&g_ping.h), NS_OK);
}

/* Round trips between the main thread (blocking) and the socket thread. */
static double ping_pong(int rounds) {
  PRFileDesc *fds[2];
  make_pair(fds);
  PRSocketOptionData opt = {.option = PR_SockOpt_Nonblocking};
  opt.value.non_blocking = PR_FALSE;
  PR_SetSocketOption(fds[1], &opt);
  memset(&g_ping, 0, sizeof g_ping);
  net_sts_handler init = NET_STS_HANDLER_INIT;
  g_ping.h = init;
  g_ping.h.fd = fds[0];
  g_ping.h.in_flags = PR_POLL_READ;
  g_ping.h.on_ready = ping_ready;
  g_ping.h.on_detach = reader_detached;
  g_ping.target = rounds;
  on_sts(attach_ping, NULL);
  double t0 = now_s();
  char c = 'p';
  ck_assert_int_eq(PR_Send(fds[1], &c, 1, 0, PR_INTERVAL_NO_TIMEOUT), 1);
  for (int i = 1; i < rounds; i++) {
    ck_assert_int_eq(PR_Recv(fds[1], &c, 1, 0, PR_SecondsToInterval(10)), 1);
    ck_assert_int_eq(PR_Send(fds[1], &c, 1, 0, PR_INTERVAL_NO_TIMEOUT), 1);
  }
  ck_assert(wait_for(flag_set, &g_ping.done, 10000));
  double t = now_s() - t0;
  on_sts(detach_idle, NULL);
  PR_Close(fds[0]);
  PR_Close(fds[1]);
  return t;
}

START_TEST(busy_socket_among_five_thousand_idle) {
  enum { IDLE = 5000, ROUNDS = 5000 };
  struct rlimit rl;
  ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
  ck_assert_msg(rl.rlim_cur >= 2 * IDLE + 100,
                "RLIMIT_NOFILE is %llu (hard %llu): %d socket pairs need %d "
                "descriptors",
                (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max,
                IDLE, 2 * IDLE + 100);
  xh_boot();
  g_nidle = 0;
  double alone = ping_pong(ROUNDS);
  g_idle = calloc(IDLE, sizeof *g_idle);
  PRFileDesc **peers = calloc(IDLE, sizeof *peers);
  ck_assert(g_idle && peers);
  for (int i = 0; i < IDLE; i++) {
    PRFileDesc *fds[2];
    make_pair(fds);
    reader_init(&g_idle[i], fds[0], PR_POLL_READ);
    peers[i] = fds[1];
  }
  g_nidle = IDLE;
  on_sts(attach_idle, NULL);
  double crowded = ping_pong(ROUNDS);
  fprintf(stderr,
          "%d round trips: %.3f s alone, %.3f s among %d idle sockets "
          "(%.1f vs %.1f us each)\n",
          ROUNDS, alone, crowded, IDLE, alone / ROUNDS * 1e6,
          crowded / ROUNDS * 1e6);
  /* PR_Poll would scan 5,001 descriptors per wake-up (tens of us each);
   * the bound is loose for loaded and sanitizer builds. */
  ck_assert_msg(crowded < alone * 4 + 1.0, "%.3f s vs %.3f s", crowded, alone);
  for (int i = 0; i < IDLE; i++)
    ck_assert_int_eq(atomic_load(&g_idle[i].calls), 0);
  xh_shut();
  for (int i = 0; i < IDLE; i++) {
    PR_Close(g_idle[i].h.fd);
    PR_Close(peers[i]);
  }
  free(g_idle);
  free(peers);
  g_idle = NULL;
  g_nidle = 0;
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("sts_epoll");
  TCase *tc = tcase_create("layers");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, layer_pushed_under_attached_pointer);
  tcase_add_test(tc, layer_buffered_data_every_turn);
  tcase_add_test(tc, layer_buffered_data_on_change);
  tcase_add_test(tc, layer_needs_the_other_direction);
  tcase_add_test(tc, layer_direction_change_on_update);
  tcase_add_test(tc, pollable_event_as_handler_fd);
  tcase_add_test(tc, regular_file_is_always_ready);
  tcase_add_test(tc, no_readiness_for_a_swapped_fd);
  tcase_add_test(tc, reused_descriptor_keeps_new_registration);
  suite_add_tcase(s, tc);
  TCase *sc = tcase_create("scale");
  tcase_set_timeout(sc, 120);
  tcase_add_test(sc, busy_socket_among_five_thousand_idle);
  suite_add_tcase(s, sc);
  return s;
}

int main(void) {
  /* 5,000 socket pairs: as far as the hard limit allows. */
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 10200) {
    rl.rlim_cur = rl.rlim_max < 10200 ? rl.rlim_max : 10200;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
  }
  SRunner *sr = srunner_create(suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

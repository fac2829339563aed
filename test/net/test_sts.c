/*
 * test_sts.c — the socket-transport service and its helpers (DNS pool,
 * admission queue, NSS), against real loopback sockets. No mocks.
 *
 * Each test boots XPCOM, works, shuts XPCOM down and checks that nothing
 * leaked (XPCOM leak accounting; ASan/LSan for memory).
 */
#include <check.h>
#include <nss.h>
#include <prerror.h>
#include <prinit.h>
#include <prio.h>
#include <prnetdb.h>
#include <prthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "nsXPCOM.h"
#include "xpcom_thread.h" /* before the generated headers (C natives) */
#include "nsIEventTarget.h"
#include "nsIServiceManager.h"
#include "nsIThread.h"
#include "xpcom_object.h"
#include "xpcom_prefs.h"

#include "net/net_admission.h"
#include "net/net_dns.h"
#include "net/net_nss.h"
#include "net/net_sts.h"
#include "../xpcom_harness.h"

/* ---- harness ----------------------------------------------------------- */

/* Spins the main thread until *flag (or ~20 s). */
static void spin_until(atomic_bool *flag) {
  PRIntervalTime start = PR_IntervalNow();
  while (!atomic_load(flag) &&
         PR_IntervalToMilliseconds(PR_IntervalNow() - start) < 20000) {
    if (!NS_ProcessNextEvent(NULL, false))
      PR_Sleep(PR_MillisecondsToInterval(1));
  }
  ck_assert_msg(atomic_load(flag), "timed out waiting");
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

/* Runs fn(arg) on the socket thread and waits for it. */
static void on_sts(void (*fn)(void *), void *arg) {
  sync_call s = {fn, arg, false};
  ck_assert_uint_eq(net_sts_dispatch(sync_run, &s, NULL), NS_OK);
  spin_until(&s.done);
}

/* ---- dispatch ------------------------------------------------------------ */

typedef struct order_state {
  atomic_int next;
  atomic_bool bad;
  atomic_bool on_sts;
  atomic_bool done;
} order_state;

static order_state g_order;

static void order_run(void *arg) {
  int i = (int)(intptr_t)arg;
  if (atomic_fetch_add(&g_order.next, 1) != i)
    atomic_store(&g_order.bad, true);
  if (!net_sts_is_current())
    atomic_store(&g_order.bad, true);
  if (i == 999)
    atomic_store(&g_order.done, true);
}

START_TEST(dispatch_runs_in_order_on_sts) {
  xh_boot();
  ck_assert(!net_sts_is_current());
  memset(&g_order, 0, sizeof g_order);
  for (int i = 0; i < 1000; i++)
    ck_assert_uint_eq(net_sts_dispatch(order_run, (void *)(intptr_t)i, NULL), NS_OK);
  spin_until(&g_order.done);
  ck_assert(!atomic_load(&g_order.bad));
  ck_assert_int_eq(atomic_load(&g_order.next), 1000);
  ck_assert_uint_eq(net_sts_dispatch(NULL, NULL, NULL), NS_ERROR_INVALID_ARG);
  xh_shut();
}
END_TEST

static atomic_int g_dropped;
static void never_run(void *arg) { (void)arg; }
static void count_drop(void *arg) {
  (void)arg;
  atomic_fetch_add(&g_dropped, 1);
}

START_TEST(dispatch_fails_without_xpcom) {
  /* Before init: no thread can start. */
  ck_assert_uint_eq(net_sts_dispatch(never_run, NULL, count_drop), NS_ERROR_NOT_INITIALIZED);
  ck_assert_int_eq(atomic_load(&g_dropped), 0);
  ck_assert_uint_eq(net_sts_ensure(), NS_ERROR_NOT_INITIALIZED);
  /* After a full cycle the service starts again. */
  xh_boot();
  ck_assert_uint_eq(net_sts_ensure(), NS_OK);
  xh_shut();
  ck_assert_uint_eq(net_sts_dispatch(never_run, NULL, count_drop), NS_ERROR_NOT_INITIALIZED);
  xh_boot();
  sync_call s = {never_run, NULL, false};
  ck_assert_uint_eq(net_sts_dispatch(sync_run, &s, NULL), NS_OK);
  spin_until(&s.done);
  xh_shut();
}
END_TEST

/* ---- handlers over socket pairs -------------------------------------------- */

typedef struct pair_handler {
  net_sts_handler h;
  PRFileDesc *peer; /* the writing end, used by the main thread */
  int index;
  atomic_int got;   /* bytes read */
  atomic_bool detached;
  nsresult why;
} pair_handler;

static atomic_int g_ready_count;
static pair_handler *g_pairs;
static int g_npairs;
static atomic_int g_attached_ok;

static void pair_on_ready(net_sts_handler *h, PRInt16 out) {
  pair_handler *p = (pair_handler *)h;
  char buf[64];
  PRInt32 n = PR_Recv(h->fd, buf, sizeof buf, 0, PR_INTERVAL_NO_WAIT);
  if (n > 0)
    atomic_fetch_add(&p->got, n);
  /* Detach self, and sometimes a neighbour too (exercise blanks filled
   * while the dispatch loop runs). */
  net_sts_detach(h);
  if (p->index % 7 == 0 && p->index + 1 < g_npairs) {
    pair_handler *q = &g_pairs[p->index + 1];
    if (net_sts_is_attached(&q->h)) {
      net_sts_detach(&q->h);
      atomic_fetch_add(&g_ready_count, 1); /* counted for it */
      atomic_fetch_add(&q->got, -1000000);  /* marks "detached by neighbour" */
    }
  }
  atomic_fetch_add(&g_ready_count, 1);
}

static void pair_on_detach(net_sts_handler *h, nsresult why) {
  pair_handler *p = (pair_handler *)h;
  p->why = why;
  atomic_store(&p->detached, true);
}

static void attach_all(void *arg) {
  (void)arg;
  for (int i = 0; i < g_npairs; i++)
    if (net_sts_attach(&g_pairs[i].h) == NS_OK)
      atomic_fetch_add(&g_attached_ok, 1);
}

static atomic_uint g_count_seen;
static void read_count(void *arg) {
  (void)arg;
  atomic_store(&g_count_seen, net_sts_handler_count());
}

static void make_pairs(int n) {
  g_npairs = n;
  g_pairs = calloc((size_t)n, sizeof *g_pairs);
  ck_assert_ptr_nonnull(g_pairs);
  for (int i = 0; i < n; i++) {
    PRFileDesc *fds[2];
    ck_assert_int_eq(PR_NewTCPSocketPair(fds), PR_SUCCESS);
    PRSocketOptionData opt = {.option = PR_SockOpt_Nonblocking};
    opt.value.non_blocking = PR_TRUE;
    PR_SetSocketOption(fds[0], &opt);
    net_sts_handler init = NET_STS_HANDLER_INIT;
    g_pairs[i].h = init;
    g_pairs[i].h.fd = fds[0];
    g_pairs[i].h.in_flags = PR_POLL_READ;
    g_pairs[i].h.on_ready = pair_on_ready;
    g_pairs[i].h.on_detach = pair_on_detach;
    g_pairs[i].peer = fds[1];
    g_pairs[i].index = i;
  }
}

static void free_pairs(void) {
  for (int i = 0; i < g_npairs; i++) {
    PR_Close(g_pairs[i].h.fd);
    PR_Close(g_pairs[i].peer);
  }
  free(g_pairs);
  g_pairs = NULL;
  g_npairs = 0;
}

static void run_pairs(int n) {
  xh_boot();
  atomic_store(&g_ready_count, 0);
  atomic_store(&g_attached_ok, 0);
  make_pairs(n);
  on_sts(attach_all, NULL);
  ck_assert_int_eq(atomic_load(&g_attached_ok), n);
  on_sts(read_count, NULL);
  ck_assert_uint_eq(atomic_load(&g_count_seen), (unsigned)n);
  for (int i = 0; i < n; i++)
    ck_assert_int_eq(PR_Send(g_pairs[i].peer, "x", 1, 0, PR_INTERVAL_NO_TIMEOUT), 1);
  PRIntervalTime start = PR_IntervalNow();
  while (atomic_load(&g_ready_count) < n &&
         PR_IntervalToMilliseconds(PR_IntervalNow() - start) < 20000)
    PR_Sleep(PR_MillisecondsToInterval(2));
  ck_assert_int_eq(atomic_load(&g_ready_count), n);
  for (int i = 0; i < n; i++) {
    int got = atomic_load(&g_pairs[i].got);
    ck_assert_msg(got == 1 || got == -1000000, "pair %d got %d", i, got);
    ck_assert(!atomic_load(&g_pairs[i].detached)); /* no on_detach for our own detach */
  }
  on_sts(read_count, NULL);
  ck_assert_uint_eq(atomic_load(&g_count_seen), 0);
  xh_shut();
  free_pairs();
}

START_TEST(one_socket_register_unregister) { run_pairs(1); }
END_TEST

START_TEST(thousand_sockets_one_thread) {
  /* 1,000 pairs = 2,000 descriptors: main() raised the soft limit. */
  struct rlimit rl;
  ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
  ck_assert_msg(rl.rlim_cur >= 2100,
                "RLIMIT_NOFILE is %llu (hard %llu): 1,000 socket pairs need 2,100 descriptors",
                (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
  run_pairs(1000);
}
END_TEST

/* update: a handler that first polls nothing, then READ. */
static pair_handler g_one;
static void attach_one_silent(void *arg) {
  (void)arg;
  g_one.h.in_flags = 0;
  ck_assert_uint_eq(net_sts_attach(&g_one.h), NS_OK);
  ck_assert_uint_eq(net_sts_attach(&g_one.h), NS_ERROR_UNEXPECTED); /* twice */
}
static void enable_read(void *arg) {
  (void)arg;
  g_one.h.in_flags = PR_POLL_READ;
  net_sts_update(&g_one.h);
}

START_TEST(update_changes_poll_flags) {
  xh_boot();
  atomic_store(&g_ready_count, 0);
  PRFileDesc *fds[2];
  ck_assert_int_eq(PR_NewTCPSocketPair(fds), PR_SUCCESS);
  net_sts_handler init = NET_STS_HANDLER_INIT;
  memset(&g_one, 0, sizeof g_one);
  g_one.h = init;
  g_one.h.fd = fds[0];
  g_one.h.on_ready = pair_on_ready;
  g_one.h.on_detach = pair_on_detach;
  g_one.index = 1; /* not a multiple of 7: no neighbour games */
  g_npairs = 0;
  on_sts(attach_one_silent, NULL);
  ck_assert_int_eq(PR_Send(fds[1], "y", 1, 0, PR_INTERVAL_NO_TIMEOUT), 1);
  PR_Sleep(PR_MillisecondsToInterval(100));
  ck_assert_int_eq(atomic_load(&g_ready_count), 0); /* not polled */
  on_sts(enable_read, NULL);
  PRIntervalTime start = PR_IntervalNow();
  while (atomic_load(&g_ready_count) < 1 &&
         PR_IntervalToMilliseconds(PR_IntervalNow() - start) < 5000)
    PR_Sleep(PR_MillisecondsToInterval(2));
  ck_assert_int_eq(atomic_load(&g_ready_count), 1);
  ck_assert_int_eq(atomic_load(&g_one.got), 1);
  xh_shut();
  PR_Close(fds[0]);
  PR_Close(fds[1]);
}
END_TEST

START_TEST(attach_refused_off_thread) {
  xh_boot();
  net_sts_handler h = NET_STS_HANDLER_INIT;
  h.on_ready = pair_on_ready;
  h.on_detach = pair_on_detach;
  ck_assert_uint_eq(net_sts_attach(&h), NS_ERROR_UNEXPECTED);
  net_sts_handler bad = NET_STS_HANDLER_INIT;
  ck_assert_uint_eq(net_sts_attach(&bad), NS_ERROR_INVALID_ARG);
  size_t sz = 1;
  ck_assert_ptr_null(net_sts_scratch(&sz));
  ck_assert_uint_eq(sz, 0);
  xh_shut();
}
END_TEST

/* ---- shutdown with attached handlers, and stop hooks ----------------------- */

static atomic_int g_hook_trace;
static void hook_a(void) { atomic_store(&g_hook_trace, atomic_load(&g_hook_trace) * 10 + 1); }
static void hook_b(void) { atomic_store(&g_hook_trace, atomic_load(&g_hook_trace) * 10 + 2); }
static void hook_c(void) { atomic_store(&g_hook_trace, atomic_load(&g_hook_trace) * 10 + 3); }

START_TEST(shutdown_detaches_everyone) {
  xh_boot();
  atomic_store(&g_attached_ok, 0);
  atomic_store(&g_hook_trace, 0);
  make_pairs(50);
  on_sts(attach_all, NULL);
  ck_assert_int_eq(atomic_load(&g_attached_ok), 50);
  /* Order: LAST after SERVICES after EARLY; same order: last registered
   * first. Registering twice adds nothing. */
  ck_assert_uint_eq(net_sts_at_stop(hook_c, NET_STS_STOP_LAST), NS_OK);
  ck_assert_uint_eq(net_sts_at_stop(hook_a, NET_STS_STOP_EARLY), NS_OK);
  ck_assert_uint_eq(net_sts_at_stop(hook_b, NET_STS_STOP_EARLY), NS_OK);
  ck_assert_uint_eq(net_sts_at_stop(hook_b, NET_STS_STOP_EARLY), NS_OK);
  xh_shut();
  for (int i = 0; i < 50; i++) {
    ck_assert(atomic_load(&g_pairs[i].detached));
    ck_assert_uint_eq(g_pairs[i].why, NS_ERROR_ABORT);
  }
  ck_assert_int_eq(atomic_load(&g_hook_trace), 213);
  free_pairs();
  /* A second life: hooks were consumed. */
  atomic_store(&g_hook_trace, 0);
  xh_boot();
  ck_assert_uint_eq(net_sts_ensure(), NS_OK);
  xh_shut();
  ck_assert_int_eq(atomic_load(&g_hook_trace), 0);
}
END_TEST

/* ---- NSS ------------------------------------------------------------------ */

START_TEST(nss_init_random_and_shutdown) {
  xh_boot();
  ck_assert(!NSS_IsInitialized());
  ck_assert_uint_eq(net_nss_init(), NS_OK);
  ck_assert(NSS_IsInitialized());
  ck_assert(net_nss_ready());
  uint8_t a[32], b[32];
  memset(a, 0, sizeof a);
  memset(b, 0, sizeof b);
  ck_assert_uint_eq(net_random(a, sizeof a), NS_OK);
  ck_assert_uint_eq(net_random(b, sizeof b), NS_OK);
  ck_assert(memcmp(a, b, sizeof a) != 0);
  ck_assert_uint_eq(net_nss_init(), NS_OK); /* idempotent */
  xh_shut();
  ck_assert(!net_nss_ready());
  ck_assert(!NSS_IsInitialized()); /* our context was the only one */
  /* Again in a new XPCOM life. */
  xh_boot();
  ck_assert_uint_eq(net_random(a, 16), NS_OK);
  xh_shut();
  ck_assert(!NSS_IsInitialized());
}
END_TEST

START_TEST(nss_host_initialised_is_respected) {
  ck_assert_int_eq(NSS_NoDB_Init(NULL), SECSuccess);
  xh_boot();
  ck_assert_uint_eq(net_nss_init(), NS_OK);
  uint8_t a[8];
  ck_assert_uint_eq(net_random(a, sizeof a), NS_OK);
  xh_shut();
  ck_assert(NSS_IsInitialized()); /* the host's, not ours to shut down */
  ck_assert_int_eq(NSS_Shutdown(), SECSuccess);
}
END_TEST

/* ---- DNS ----------------------------------------------------------------- */

typedef struct dns_result {
  atomic_bool done;
  nsresult status;
  net_addr_list *addrs;
  bool on_main;
} dns_result;

static void dns_cb(void *closure, nsresult status, net_addr_list *addrs) {
  dns_result *r = closure;
  r->status = status;
  r->addrs = addrs;
  r->on_main = NS_IsMainThread();
  atomic_store(&r->done, true);
}

static void resolve_wait(const char *host, uint16_t port, dns_result *r) {
  memset(r, 0, sizeof *r);
  net_dns_request *req = NULL;
  ck_assert_uint_eq(net_dns_resolve(host, port, dns_cb, r, &req), NS_OK);
  ck_assert_ptr_nonnull(req);
  ck_assert(!atomic_load(&r->done)); /* never inside resolve */
  spin_until(&r->done);
  ck_assert(r->on_main);
}

START_TEST(dns_resolves_and_fails) {
  xh_boot();
  dns_result r;
  resolve_wait("localhost", 8080, &r);
  ck_assert_uint_eq(r.status, NS_OK);
  ck_assert_ptr_nonnull(r.addrs);
  ck_assert_uint_ge(r.addrs->count, 1);
  ck_assert(PR_IsNetAddrType(&r.addrs->addrs[0], PR_IpAddrLoopback));
  ck_assert_uint_eq(PR_ntohs(PR_NetAddrInetPort(&r.addrs->addrs[0])), 8080);
  free(r.addrs);

  resolve_wait("127.0.0.1", 81, &r);
  ck_assert_uint_eq(r.status, NS_OK);
  ck_assert_uint_eq(r.addrs->count, 1);
  ck_assert_uint_eq(r.addrs->addrs[0].raw.family, PR_AF_INET);
  ck_assert_uint_eq(PR_ntohs(r.addrs->addrs[0].inet.port), 81);
  free(r.addrs);

  resolve_wait("[::1]", 82, &r);
  ck_assert_uint_eq(r.status, NS_OK);
  ck_assert_uint_eq(r.addrs->addrs[0].raw.family, PR_AF_INET6);
  ck_assert_uint_eq(PR_ntohs(r.addrs->addrs[0].ipv6.port), 82);
  free(r.addrs);

  resolve_wait("no-such-host.invalid", 80, &r);
  ck_assert_uint_eq(r.status, NS_ERROR_UNKNOWN_HOST);
  ck_assert_ptr_null(r.addrs);

  ck_assert_uint_eq(net_dns_resolve("", 80, dns_cb, &r, NULL), NS_ERROR_INVALID_ARG);
  xh_shut();
}
END_TEST

static void dns_never(void *closure, nsresult status, net_addr_list *addrs) {
  (void)closure;
  (void)status;
  free(addrs);
  ck_abort_msg("cancelled callback ran");
}

START_TEST(dns_cancel_drops_result) {
  xh_boot();
  net_dns_request *a = NULL, *b = NULL;
  ck_assert_uint_eq(net_dns_resolve("localhost", 1, dns_never, NULL, &a), NS_OK);
  ck_assert_uint_eq(net_dns_resolve("127.0.0.1", 1, dns_never, NULL, &b), NS_OK);
  net_dns_cancel(a);
  net_dns_cancel(b);
  /* Give the pool time to finish and post; nothing may run. */
  for (int i = 0; i < 100; i++) {
    NS_ProcessPendingEvents(NULL);
    PR_Sleep(PR_MillisecondsToInterval(2));
  }
  dns_result r;
  resolve_wait("localhost", 2, &r); /* the pool still works */
  ck_assert_uint_eq(r.status, NS_OK);
  free(r.addrs);
  xh_shut();
}
END_TEST

START_TEST(dns_requests_at_shutdown) {
  xh_boot();
  dns_result r[8];
  memset(r, 0, sizeof r);
  for (int i = 0; i < 8; i++)
    ck_assert_uint_eq(net_dns_resolve("localhost", 1, dns_cb, &r[i], NULL), NS_OK);
  xh_shut(); /* pool joined; results delivered or dropped, nothing leaks */
  for (int i = 0; i < 8; i++)
    if (atomic_load(&r[i].done))
      free(r[i].addrs);
}
END_TEST

/* ---- admission ----------------------------------------------------------------- */

typedef struct adm_test {
  net_admission_ticket t[4];
  atomic_int admitted[4];
  atomic_int order[4];
  atomic_int n;
  PRIntervalTime at[4];
  PRNetAddr addr;
} adm_test;

static adm_test g_adm;

static void adm_on_admit(net_admission_ticket *t) {
  int i = (int)(t - g_adm.t);
  atomic_fetch_add(&g_adm.admitted[i], 1);
  g_adm.order[atomic_fetch_add(&g_adm.n, 1)] = i;
  g_adm.at[i] = PR_IntervalNow();
}

static void adm_enqueue_all(void *arg) {
  (void)arg;
  for (int i = 0; i < 3; i++) {
    net_admission_ticket init = NET_ADMISSION_TICKET_INIT(adm_on_admit);
    g_adm.t[i] = init;
    ck_assert_uint_eq(net_admission_enqueue(&g_adm.t[i], &g_adm.addr), NS_OK);
    /* Never synchronously. */
    ck_assert_int_eq(atomic_load(&g_adm.admitted[i]), 0);
  }
  ck_assert_uint_eq(net_admission_enqueue(&g_adm.t[0], &g_adm.addr), NS_ERROR_UNEXPECTED);
}

static void adm_done_opened(void *arg) {
  net_admission_done(&g_adm.t[(intptr_t)arg], NET_ADMISSION_OPENED);
}
static void adm_done_failed(void *arg) {
  net_admission_done(&g_adm.t[(intptr_t)arg], NET_ADMISSION_FAILED);
}
static void adm_done_cancelled(void *arg) {
  net_admission_done(&g_adm.t[(intptr_t)arg], NET_ADMISSION_CANCELLED);
}
static atomic_uint g_delay;
static void adm_read_delay(void *arg) {
  (void)arg;
  atomic_store(&g_delay, net_admission_delay_ms(&g_adm.addr));
}

static void wait_admitted(int i) {
  PRIntervalTime start = PR_IntervalNow();
  while (atomic_load(&g_adm.admitted[i]) == 0 &&
         PR_IntervalToMilliseconds(PR_IntervalNow() - start) < 5000)
    PR_Sleep(PR_MillisecondsToInterval(1));
  ck_assert_int_eq(atomic_load(&g_adm.admitted[i]), 1);
}

static void adm_setup(void) {
  memset(&g_adm, 0, sizeof g_adm);
  ck_assert_int_eq(PR_StringToNetAddr("127.0.0.1", &g_adm.addr), PR_SUCCESS);
  g_adm.addr.inet.port = PR_htons(4242);
}

START_TEST(admission_one_connecting_per_address) {
  xh_boot();
  adm_setup();
  on_sts(adm_enqueue_all, NULL);
  wait_admitted(0);
  PR_Sleep(PR_MillisecondsToInterval(50));
  ck_assert_int_eq(atomic_load(&g_adm.admitted[1]), 0); /* §4.1: waits */
  on_sts(adm_done_opened, (void *)0);
  wait_admitted(1);
  ck_assert_int_eq(atomic_load(&g_adm.admitted[2]), 0);
  on_sts(adm_done_cancelled, (void *)2); /* leaves the line */
  on_sts(adm_done_opened, (void *)1);
  PR_Sleep(PR_MillisecondsToInterval(50));
  ck_assert_int_eq(atomic_load(&g_adm.admitted[2]), 0);
  ck_assert_int_eq(atomic_load(&g_adm.n), 2);
  xh_shut();
}
END_TEST

static void adm_enqueue_one(void *arg) {
  int i = (int)(intptr_t)arg;
  ck_assert_uint_eq(net_admission_enqueue(&g_adm.t[i], &g_adm.addr), NS_OK);
}

static void adm_enqueue_four(void *arg) {
  (void)arg;
  for (int i = 0; i < 4; i++) {
    net_admission_ticket init = NET_ADMISSION_TICKET_INIT(adm_on_admit);
    g_adm.t[i] = init;
    ck_assert_uint_eq(net_admission_enqueue(&g_adm.t[i], &g_adm.addr), NS_OK);
  }
}

/* Waiting tickets leave the line from its middle and its head (O(1)
 * unlinking): the others keep their order, and only they are admitted. */
START_TEST(admission_cancel_from_the_middle_and_head) {
  xh_boot();
  adm_setup();
  on_sts(adm_enqueue_four, NULL);
  wait_admitted(0);
  on_sts(adm_done_cancelled, (void *)2); /* middle of 1, 2, 3 */
  on_sts(adm_done_cancelled, (void *)1); /* head of 1, 3 */
  on_sts(adm_done_opened, (void *)0);
  wait_admitted(3);
  on_sts(adm_done_opened, (void *)3);
  PR_Sleep(PR_MillisecondsToInterval(50));
  ck_assert_int_eq(atomic_load(&g_adm.n), 2);
  ck_assert_int_eq(atomic_load(&g_adm.order[0]), 0);
  ck_assert_int_eq(atomic_load(&g_adm.order[1]), 3);
  ck_assert_int_eq(atomic_load(&g_adm.admitted[1]), 0);
  ck_assert_int_eq(atomic_load(&g_adm.admitted[2]), 0);
  /* The line is empty and consistent again: a cancelled ticket, queued
   * anew, is admitted at once. */
  on_sts(adm_enqueue_one, (void *)1);
  wait_admitted(1);
  on_sts(adm_done_opened, (void *)1);
  xh_shut();
}
END_TEST

START_TEST(admission_backoff_after_failure) {
  xh_boot();
  adm_setup();
  on_sts(adm_enqueue_all, NULL);
  wait_admitted(0);
  PRIntervalTime failed_at = PR_IntervalNow();
  on_sts(adm_done_failed, (void *)0);
  on_sts(adm_read_delay, NULL);
  uint32_t d1 = atomic_load(&g_delay);
  ck_assert_uint_le(d1, 400);
  ck_assert_uint_ge(d1, 150); /* 200-400 ms, minus the time spent */
  wait_admitted(1);
  uint32_t waited = PR_IntervalToMilliseconds(g_adm.at[1] - failed_at);
  ck_assert_uint_ge(waited, 190);
  /* A repeat failure grows the delay by 1.5. */
  on_sts(adm_done_failed, (void *)1);
  on_sts(adm_read_delay, NULL);
  uint32_t d2 = atomic_load(&g_delay);
  ck_assert_uint_ge(d2, 290);
  ck_assert_uint_le(d2, 600);
  wait_admitted(2);
  /* Success clears the record. */
  on_sts(adm_done_opened, (void *)2);
  on_sts(adm_read_delay, NULL);
  ck_assert_uint_eq(atomic_load(&g_delay), 0);
  xh_shut();
}
END_TEST

START_TEST(admission_backoff_pref_off) {
  xh_boot();
  ck_assert_uint_eq(xpcom_prefs_set_bool("network.websocket.delay-failed-reconnects", false),
                    NS_OK);
  adm_setup();
  on_sts(adm_enqueue_all, NULL);
  wait_admitted(0);
  on_sts(adm_done_failed, (void *)0);
  on_sts(adm_read_delay, NULL);
  ck_assert_uint_eq(atomic_load(&g_delay), 0);
  wait_admitted(1);
  on_sts(adm_done_cancelled, (void *)1);
  wait_admitted(2);
  xh_shut(); /* ticket 2 still CONNECTING: the stop hook forgets it */
}
END_TEST

START_TEST(admission_session_limit) {
  xh_boot();
  ck_assert_uint_eq(xpcom_prefs_set_int("network.websocket.max-connections", 2), NS_OK);
  ck_assert_uint_eq(net_admission_sessions(), 0);
  ck_assert(net_admission_try_reserve());
  ck_assert(net_admission_try_reserve());
  ck_assert(!net_admission_try_reserve());
  ck_assert_uint_eq(net_admission_sessions(), 2);
  net_admission_release();
  ck_assert(net_admission_try_reserve());
  net_admission_release();
  net_admission_release();
  net_admission_release(); /* never below zero */
  ck_assert_uint_eq(net_admission_sessions(), 0);
  ck_assert_uint_eq(xpcom_prefs_set_int("network.websocket.max-connections", 0), NS_OK);
  ck_assert(net_admission_try_reserve()); /* clamped to 1 */
  ck_assert(!net_admission_try_reserve());
  net_admission_release();
  xh_shut();
}
END_TEST

static Suite *sts_suite(void) {
  Suite *s = suite_create("net_sts");
  TCase *tc = tcase_create("sts");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, dispatch_runs_in_order_on_sts);
  tcase_add_test(tc, dispatch_fails_without_xpcom);
  tcase_add_test(tc, one_socket_register_unregister);
  tcase_add_test(tc, thousand_sockets_one_thread);
  tcase_add_test(tc, update_changes_poll_flags);
  tcase_add_test(tc, attach_refused_off_thread);
  tcase_add_test(tc, shutdown_detaches_everyone);
  suite_add_tcase(s, tc);
  TCase *nss = tcase_create("nss");
  tcase_add_test(nss, nss_init_random_and_shutdown);
  tcase_add_test(nss, nss_host_initialised_is_respected);
  suite_add_tcase(s, nss);
  TCase *dns = tcase_create("dns");
  tcase_set_timeout(dns, 60);
  tcase_add_test(dns, dns_resolves_and_fails);
  tcase_add_test(dns, dns_cancel_drops_result);
  tcase_add_test(dns, dns_requests_at_shutdown);
  suite_add_tcase(s, dns);
  TCase *adm = tcase_create("admission");
  tcase_add_test(adm, admission_one_connecting_per_address);
  tcase_add_test(adm, admission_cancel_from_the_middle_and_head);
  tcase_add_test(adm, admission_backoff_after_failure);
  tcase_add_test(adm, admission_backoff_pref_off);
  tcase_add_test(adm, admission_session_limit);
  suite_add_tcase(s, adm);
  return s;
}

int main(void) {
  /* As far as the hard limit allows (the 1,000-socket test needs ~2,100). */
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096) {
    rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
  }
  SRunner *sr = srunner_create(sts_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

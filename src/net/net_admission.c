/*
 * net_admission.c — per-address admission queue and reconnect delay
 * (RFC 6455 §4.1, §7.2.3), plus the session counter.
 *
 * One record per remote address, in a chained hash table, holds the FIFO
 * of waiting tickets, the ticket that is CONNECTING, and the failure
 * record. Admissions are never granted synchronously: a "pump" event (or
 * the delay timer) runs from the loop, so a connection that fails inside
 * on_admit cannot recurse into the next one.
 */
#include "net_admission.h"

#include <prnetdb.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nsXPCOM.h"
#include "xpcom_thread.h"
#include "nsITimer.h"
#include "xpcom_log.h"
#include "xpcom_object.h"
#include "xpcom_prefs.h"

XPCOM_LOG_MODULE(g_log, "nsWebSocket");

/* Gecko's FailDelayManager constants (milliseconds). */
#define FAIL_INITIAL_BASE 200
#define FAIL_INITIAL_RANDOM 200
#define FAIL_MAX_DELAY 60000
#define FAIL_LIFETIME 60000

enum { T_IDLE = 0, T_WAITING = 1, T_CONNECTING = 2 };

typedef struct adm_key {
  struct adm_key *hnext;
  PRNetAddr addr; /* normalised: family, ip, port only */
  uint32_t hash;
  net_admission_ticket *head, *tail; /* waiting, FIFO */
  net_admission_ticket *connecting;
  bool failed;
  uint32_t delay_ms;
  uint64_t last_failure_ms;
  nsITimer *timer;    /* delay timer, NULL when not armed */
  bool pump_pending;  /* a pump event is queued */
  bool busy;          /* inside on_admit: not to be freed */
} adm_key;

/* Socket thread only: */
static adm_key **g_buckets;
static uint32_t g_nbuckets, g_nkeys;
static bool g_hooked;
static uint64_t g_rand_state;

static atomic_uint g_sessions;

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint32_t rand32(void) {
  if (!g_rand_state)
    g_rand_state = (uint64_t)PR_Now() ^ (uint64_t)(uintptr_t)&g_rand_state ^ 0x9E3779B97F4A7C15u;
  uint64_t x = g_rand_state; /* xorshift64: jitter only, not security */
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  g_rand_state = x;
  return (uint32_t)(x >> 32);
}

static void normalise(const PRNetAddr *in, PRNetAddr *out) {
  memset(out, 0, sizeof *out);
  out->raw.family = in->raw.family;
  if (in->raw.family == PR_AF_INET) {
    out->inet.ip = in->inet.ip;
    out->inet.port = in->inet.port;
  } else if (in->raw.family == PR_AF_INET6) {
    out->ipv6.ip = in->ipv6.ip;
    out->ipv6.port = in->ipv6.port;
    out->ipv6.scope_id = in->ipv6.scope_id;
  } else {
    *out = *in;
  }
}

static uint32_t addr_hash(const PRNetAddr *a) {
  const unsigned char *p = (const unsigned char *)a;
  uint32_t h = 2166136261u; /* FNV-1a over the normalised bytes */
  for (size_t i = 0; i < sizeof *a; i++)
    h = (h ^ p[i]) * 16777619u;
  return h;
}

static adm_key *key_find(const PRNetAddr *norm, uint32_t hash) {
  if (!g_nbuckets)
    return NULL;
  for (adm_key *k = g_buckets[hash & (g_nbuckets - 1)]; k; k = k->hnext)
    if (k->hash == hash && memcmp(&k->addr, norm, sizeof *norm) == 0)
      return k;
  return NULL;
}

static bool table_grow(void) {
  uint32_t n = g_nbuckets ? g_nbuckets * 2 : 64;
  adm_key **b = calloc(n, sizeof *b);
  if (!b)
    return false;
  for (uint32_t i = 0; i < g_nbuckets; i++) {
    adm_key *k = g_buckets[i];
    while (k) {
      adm_key *next = k->hnext;
      k->hnext = b[k->hash & (n - 1)];
      b[k->hash & (n - 1)] = k;
      k = next;
    }
  }
  free(g_buckets);
  g_buckets = b;
  g_nbuckets = n;
  return true;
}

static adm_key *key_get(const PRNetAddr *addr) {
  PRNetAddr norm;
  normalise(addr, &norm);
  uint32_t hash = addr_hash(&norm);
  adm_key *k = key_find(&norm, hash);
  if (k)
    return k;
  if (g_nkeys >= g_nbuckets && !table_grow() && !g_nbuckets)
    return NULL;
  k = calloc(1, sizeof *k);
  if (!k)
    return NULL;
  k->addr = norm;
  k->hash = hash;
  adm_key **slot = &g_buckets[hash & (g_nbuckets - 1)];
  k->hnext = *slot;
  *slot = k;
  g_nkeys++;
  return k;
}

static bool fail_expired(const adm_key *k, uint64_t now) {
  return now > k->last_failure_ms + FAIL_LIFETIME + k->delay_ms;
}

static uint32_t remaining_delay(adm_key *k) {
  if (!k->failed)
    return 0;
  uint64_t now = now_ms();
  if (fail_expired(k, now)) {
    k->failed = false;
    return 0;
  }
  if (!xpcom_prefs_get_bool("network.websocket.delay-failed-reconnects", true))
    return 0;
  uint64_t end = k->last_failure_ms + k->delay_ms;
  return end > now ? (uint32_t)(end - now) : 0;
}

/* Frees k when nothing refers to it any more. */
static void schedule_pump(adm_key *k);

static void key_maybe_free(adm_key *k) {
  if (k->head || k->connecting || k->pump_pending || k->busy)
    return;
  if (k->failed && !fail_expired(k, now_ms()))
    return;
  xpcom_timer_release(&k->timer);
  adm_key **p = &g_buckets[k->hash & (g_nbuckets - 1)];
  while (*p != k)
    p = &(*p)->hnext;
  *p = k->hnext;
  g_nkeys--;
  free(k);
}

static void timer_fired(nsITimer *timer, void *closure);

/* Admits the first waiting ticket if nothing is CONNECTING and no delay
 * applies; otherwise arms the delay timer. The caller calls
 * key_maybe_free afterwards (k stays alive during on_admit: busy). */
static void pump(adm_key *k) {
  if (k->connecting || !k->head)
    return;
  uint32_t delay = remaining_delay(k);
  if (delay) {
    if (NS_SUCCEEDED(xpcom_timer_arm(&k->timer, delay, 0, timer_fired, k))) {
      XPCOM_LOG(g_log, XPCOM_LOG_DEBUG,
                ("admission: reconnect delayed %u ms (RFC 6455 7.2.3)", (unsigned)delay));
      return;
    }
    /* No timer: let it go rather than stall the queue forever. */
  }
  net_admission_ticket *t = k->head;
  k->head = t->next;
  if (k->head)
    k->head->prev = NULL;
  else
    k->tail = NULL;
  t->next = NULL;
  t->state = T_CONNECTING;
  k->connecting = t;
  k->busy = true;
  t->on_admit(t);
  k->busy = false;
}

static void timer_fired(nsITimer *timer, void *closure) {
  (void)timer;
  adm_key *k = closure;
  pump(k);
  key_maybe_free(k);
}

typedef struct pump_event {
  PRNetAddr addr;
} pump_event;

static void pump_run(void *arg) {
  pump_event *ev = arg;
  PRNetAddr norm = ev->addr;
  free(ev);
  adm_key *k = key_find(&norm, addr_hash(&norm));
  if (!k)
    return;
  k->pump_pending = false;
  pump(k);
  key_maybe_free(k);
}

static void schedule_pump(adm_key *k) {
  if (k->pump_pending || k->connecting || !k->head)
    return;
  pump_event *ev = malloc(sizeof *ev);
  if (ev) {
    ev->addr = k->addr;
    if (NS_SUCCEEDED(net_sts_dispatch(pump_run, ev, free))) {
      k->pump_pending = true;
      return;
    }
    free(ev);
  }
  /* The loop is going away; the connections will be detached. */
}

static void admission_stop_hook(void) { net_admission_shutdown(); }

NET_API(nsresult) net_admission_enqueue(net_admission_ticket *t, const PRNetAddr *addr) {
  if (!t || !addr || !t->on_admit)
    return NS_ERROR_INVALID_ARG;
  if (!net_sts_is_current() || t->key)
    return NS_ERROR_UNEXPECTED;
  if (!g_hooked) {
    nsresult rv = net_sts_at_stop(admission_stop_hook, NET_STS_STOP_EARLY);
    if (NS_FAILED(rv))
      return rv;
    g_hooked = true;
  }
  adm_key *k = key_get(addr);
  if (!k)
    return NS_ERROR_OUT_OF_MEMORY;
  t->next = NULL;
  t->prev = k->tail;
  t->key = k;
  t->state = T_WAITING;
  if (k->tail)
    k->tail->next = t;
  else
    k->head = t;
  k->tail = t;
  if (k->connecting)
    XPCOM_LOG(g_log, XPCOM_LOG_DEBUG,
              ("admission: waiting behind a connection in CONNECTING state"));
  schedule_pump(k);
  return NS_OK;
}

NET_API(void) net_admission_done(net_admission_ticket *t, net_admission_outcome outcome) {
  if (!t || !t->key || !net_sts_is_current())
    return;
  adm_key *k = t->key;
  if (t->state == T_WAITING) {
    /* O(1): a host cancelling thousands of queued sessions to one address
     * must not walk the queue for each. */
    if (t->prev)
      t->prev->next = t->next;
    else
      k->head = t->next;
    if (t->next)
      t->next->prev = t->prev;
    else
      k->tail = t->prev;
  } else if (t->state == T_CONNECTING && k->connecting == t) {
    k->connecting = NULL;
    if (outcome == NET_ADMISSION_OPENED) {
      k->failed = false; /* success clears the record */
    } else if (outcome == NET_ADMISSION_FAILED) {
      uint64_t now = now_ms();
      if (k->failed && !fail_expired(k, now)) {
        uint64_t d = (uint64_t)k->delay_ms * 3 / 2; /* ×1.5 per repeat failure */
        k->delay_ms = d > FAIL_MAX_DELAY ? FAIL_MAX_DELAY : (uint32_t)d;
      } else {
        k->delay_ms = FAIL_INITIAL_BASE + rand32() % (FAIL_INITIAL_RANDOM + 1);
      }
      k->failed = true;
      k->last_failure_ms = now;
      XPCOM_LOG(g_log, XPCOM_LOG_DEBUG,
                ("admission: failure recorded, next attempt waits %u ms",
                 (unsigned)k->delay_ms));
    }
    schedule_pump(k);
  }
  t->next = t->prev = NULL;
  t->key = NULL;
  t->state = T_IDLE;
  key_maybe_free(k);
}

NET_API(uint32_t) net_admission_delay_ms(const PRNetAddr *addr) {
  if (!addr || !net_sts_is_current())
    return 0;
  PRNetAddr norm;
  normalise(addr, &norm);
  adm_key *k = key_find(&norm, addr_hash(&norm));
  return k ? remaining_delay(k) : 0;
}

NET_API(void) net_admission_shutdown(void) {
  for (uint32_t i = 0; i < g_nbuckets; i++) {
    adm_key *k = g_buckets[i];
    while (k) {
      adm_key *next = k->hnext;
      for (net_admission_ticket *t = k->head; t;) {
        net_admission_ticket *tn = t->next;
        t->next = t->prev = NULL;
        t->key = NULL;
        t->state = T_IDLE;
        t = tn;
      }
      if (k->connecting) {
        k->connecting->key = NULL;
        k->connecting->state = T_IDLE;
      }
      xpcom_timer_release(&k->timer);
      free(k);
      k = next;
    }
  }
  free(g_buckets);
  g_buckets = NULL;
  g_nbuckets = g_nkeys = 0;
  g_hooked = false;
}

NET_API(bool) net_admission_try_reserve(void) {
  int32_t limit = xpcom_prefs_get_int("network.websocket.max-connections", 200);
  if (limit < 1)
    limit = 1;
  if (limit > 65535)
    limit = 65535;
  unsigned cur = atomic_load(&g_sessions);
  do {
    if (cur >= (unsigned)limit)
      return false;
  } while (!atomic_compare_exchange_weak(&g_sessions, &cur, cur + 1));
  return true;
}

NET_API(void) net_admission_release(void) {
  unsigned cur = atomic_load(&g_sessions);
  while (cur > 0 && !atomic_compare_exchange_weak(&g_sessions, &cur, cur - 1)) {
  }
}

NET_API(uint32_t) net_admission_sessions(void) { return atomic_load(&g_sessions); }

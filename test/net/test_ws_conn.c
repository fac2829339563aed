/*
 * test_ws_conn.c — WebSocket connections driven directly through
 * net_ws_conn against real peers on loopback:
 *   - test/net/ws_echo_server.py (Python `websockets`, /usr/bin/python3),
 *   - test/net/silent_server.py (handshake, then silence),
 *   - a TCP listener that never accepts (here, in C),
 *   - test/servers/badserver.py, the misbehaving server, when present.
 * Servers start once in main() (port 0, they print their port); every test
 * runs in its own process (Check's fork mode), boots XPCOM, and checks the
 * exact nsresult, the order of events, that nothing hangs, and that
 * nothing leaks (XPCOM leak accounting + ASan/LSan).
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <prinit.h>
#include <prio.h>
#include <prnetdb.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nsXPCOM.h"
#include "xpcom_thread.h" /* before the generated headers (C natives) */
#include "nsIEventTarget.h"
#include "nsIServiceManager.h"
#include "nsIThread.h"
#include "xpcom_object.h"
#include "xpcom_prefs.h"

#include "net/net_admission.h"
#include "net/net_sts.h"
#include "net/net_ws_conn.h"
#include "websocket/ws_deflate.h"
#include "../xpcom_harness.h"

#ifndef NET_TEST_SRCDIR
#define NET_TEST_SRCDIR "."
#endif

/* ---- peer processes ------------------------------------------------------ */

typedef struct server {
  pid_t pid;
  int in_fd;  /* its stdin: closing it stops our own servers */
  int out_fd; /* its stdout, kept open when it reports events */
  int port;
  char out[8192]; /* what it printed after the port line */
  size_t out_len;
} server;

static server g_echo, g_silent, g_deflate;
static bool g_have_badserver;

/* Starts /usr/bin/python3 script args... and reads its port from the
 * first line ("PORT <n>" or badserver's "LISTENING <n>"). keep_out: keep
 * reading its stdout later (server_output). */
static bool server_start(server *s, const char *script, const char *const *args,
                         bool keep_out) {
  memset(s, 0, sizeof *s);
  s->in_fd = s->out_fd = -1;
  int in[2], out[2];
  if (pipe(in) || pipe(out))
    return false;
  pid_t pid = fork();
  if (pid < 0)
    return false;
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    close(in[0]);
    close(in[1]);
    close(out[0]);
    close(out[1]);
    const char *argv[16] = {"python3", script};
    int k = 2;
    for (; args && args[k - 2] && k < 15; k++)
      argv[k] = args[k - 2];
    argv[k] = NULL;
    execv("/usr/bin/python3", (char *const *)(uintptr_t)argv);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  s->pid = pid;
  s->in_fd = in[1];
  char line[256];
  size_t len = 0;
  for (;;) {
    struct pollfd pfd = {out[0], POLLIN, 0};
    if (poll(&pfd, 1, 15000) <= 0)
      break;
    ssize_t n = read(out[0], line + len, sizeof line - 1 - len);
    if (n <= 0)
      break;
    len += (size_t)n;
    line[len] = '\0';
    char *nl = strchr(line, '\n');
    if (nl) {
      char *sp = memrchr(line, ' ', (size_t)(nl - line));
      if (sp)
        s->port = atoi(sp + 1);
      break;
    }
  }
  if (keep_out)
    s->out_fd = out[0];
  else
    close(out[0]);
  return s->port > 0;
}

/* Everything the server printed so far (waits up to ms for more). */
static const char *server_output(server *s, int ms) {
  while (s->out_fd >= 0 && s->out_len < sizeof s->out - 1) {
    struct pollfd pfd = {s->out_fd, POLLIN, 0};
    if (poll(&pfd, 1, ms) <= 0)
      break;
    ssize_t n = read(s->out_fd, s->out + s->out_len, sizeof s->out - 1 - s->out_len);
    if (n <= 0)
      break;
    s->out_len += (size_t)n;
    ms = 50;
  }
  s->out[s->out_len] = '\0';
  return s->out;
}

static void server_stop(server *s, bool terminate) {
  if (s->in_fd >= 0)
    close(s->in_fd);
  s->in_fd = -1;
  if (s->out_fd >= 0)
    close(s->out_fd);
  s->out_fd = -1;
  if (s->pid <= 0)
    return;
  if (terminate)
    kill(s->pid, SIGTERM);
  for (int i = 0; i < 200; i++) {
    if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
      s->pid = 0;
      return;
    }
    usleep(10000);
  }
  kill(s->pid, SIGKILL);
  waitpid(s->pid, NULL, 0);
  s->pid = 0;
}

/* ---- XPCOM ---------------------------------------------------------------- */

static void boot(void) { xh_boot(); }

static void shut(void) {
  xh_shut();
  ck_assert_uint_eq(net_ws_conn_live_count(), 0);
}

static PRIntervalTime elapsed_ms(PRIntervalTime start) {
  return PR_IntervalToMilliseconds(PR_IntervalNow() - start);
}

/* ---- a recording owner ------------------------------------------------------ */

typedef struct msg {
  bool binary;
  uint8_t *data;
  size_t len;
} msg;

typedef struct rec {
  net_ws_conn *c;
  bool started, stopped, bad_order;
  nsresult status;
  char protocol[64], extensions[128];
  msg *msgs;
  size_t nmsgs, cap;
  uint64_t acks, acked_bytes;
  bool server_closed;
  uint16_t sc_code;
  char sc_reason[128];
  /* behaviour */
  bool release_on_stop;   /* like the channel: drop the handle in on_stop */
  bool echo_then_close;   /* send `hello` at start, close after the echo */
  int id;
  atomic_int *stopped_counter;
  /* /blast (ws_echo_server.py): binary messages are checked on arrival
   * (sequence, length, pattern) and counted, not kept; text ones are kept */
  size_t blast_size;      /* 0: keep every message */
  bool send_go;           /* send "go" at start (the server's wait=1) */
  uint64_t blast_seq;     /* binary messages so far = next sequence number */
  char blast_err[160];    /* the first bad one; "" while all are good */
  /* deliver batches: the messages one deliver event hands over back to
   * back, i.e. during one spin() iteration (see g_iter) */
  uint64_t batch_iter;
  size_t batch_len, max_batch;
  size_t batch_bin, max_batch_bin;     /* binary messages only */
  uint64_t batch_cost, max_batch_cost; /* bytes + MSG_OVERHEAD each */
  /* a slow owner: sleeps in every on_message, and longer in every
   * long_sleep_every-th binary one */
  uint32_t msg_sleep_ms, long_sleep_ms, long_sleep_every;
  void (*start_hook)(struct rec *r); /* at the end of on_start */
  server *srv;            /* the /blast reports (start_hook) */
  uint32_t blocked_ms;    /* how long start_hook kept the owner busy */
} rec;

static void rec_on_start(void *owner, const char *protocol, const char *extensions) {
  rec *r = owner;
  if (r->started || r->stopped || r->nmsgs)
    r->bad_order = true;
  r->started = true;
  snprintf(r->protocol, sizeof r->protocol, "%s", protocol);
  snprintf(r->extensions, sizeof r->extensions, "%s", extensions);
  if (r->echo_then_close) {
    char text[32];
    int n = snprintf(text, sizeof text, "hello %d", r->id);
    ck_assert_uint_eq(net_ws_conn_send(r->c, false, (const uint8_t *)text, (size_t)n), NS_OK);
  }
  if (r->send_go)
    ck_assert_uint_eq(net_ws_conn_send(r->c, false, (const uint8_t *)"go", 2), NS_OK);
  if (r->start_hook)
    r->start_hook(r);
}

static void blast_check(rec *r, const net_ws_message *m);
static void note_batch(rec *r, const net_ws_message *m);

static void rec_on_message(void *owner, net_ws_message *m) {
  rec *r = owner;
  if (!r->started || r->stopped)
    r->bad_order = true;
  note_batch(r, m);
  if (r->blast_size && m->binary) {
    blast_check(r, m);
    uint32_t ms = r->msg_sleep_ms;
    if (r->long_sleep_every && r->blast_seq % r->long_sleep_every == 0)
      ms += r->long_sleep_ms;
    if (ms)
      PR_Sleep(PR_MillisecondsToInterval(ms));
    return;
  }
  if (r->nmsgs == r->cap) {
    r->cap = r->cap ? r->cap * 2 : 16;
    r->msgs = realloc(r->msgs, r->cap * sizeof *r->msgs);
    ck_assert_ptr_nonnull(r->msgs);
  }
  msg *x = &r->msgs[r->nmsgs++];
  x->binary = m->binary;
  x->len = m->len;
  x->data = net_ws_message_take(m); /* exercises both take paths */
  ck_assert(x->data || m->len == 0);
  if (r->echo_then_close)
    ck_assert_uint_eq(net_ws_conn_close(r->c, 1000, "bye", 3), NS_OK);
}

static void rec_on_ack(void *owner, uint64_t size) {
  rec *r = owner;
  if (!r->started || r->stopped)
    r->bad_order = true;
  r->acks++;
  r->acked_bytes += size;
}

static void rec_on_server_close(void *owner, uint16_t code, const char *reason, size_t len) {
  rec *r = owner;
  if (!r->started || r->stopped)
    r->bad_order = true;
  r->server_closed = true;
  r->sc_code = code;
  snprintf(r->sc_reason, sizeof r->sc_reason, "%.*s", (int)len, reason);
}

static void rec_on_stop(void *owner, nsresult status) {
  rec *r = owner;
  if (r->stopped)
    r->bad_order = true;
  r->stopped = true;
  r->status = status;
  if (r->stopped_counter)
    atomic_fetch_add(r->stopped_counter, 1);
  if (r->release_on_stop && r->c) {
    net_ws_conn_release(r->c);
    r->c = NULL;
  }
}

static const net_ws_conn_callbacks g_cb = {rec_on_start, rec_on_message, rec_on_ack,
                                           rec_on_server_close, rec_on_stop};

static void rec_free(rec *r) {
  for (size_t i = 0; i < r->nmsgs; i++)
    free(r->msgs[i].data);
  free(r->msgs);
  r->msgs = NULL;
  r->nmsgs = r->cap = 0;
  if (r->c) {
    net_ws_conn_release(r->c);
    r->c = NULL;
  }
}

static net_ws_conn_params params(int port, const char *path) {
  net_ws_conn_params p;
  memset(&p, 0, sizeof p);
  p.host = "127.0.0.1";
  p.port = (uint16_t)port;
  p.path = path;
  p.open_timeout_ms = 20000;
  p.close_timeout_ms = 20000;
  p.ping_timeout_ms = 10000;
  return p;
}

static nsresult open_rec(rec *r, const net_ws_conn_params *p) {
  nsIThread *main = NULL;
  ck_assert_uint_eq(NS_GetCurrentThread(&main), NS_OK);
  nsresult rv = net_ws_conn_open(p, (nsIEventTarget *)(void *)main, &g_cb, r, &r->c);
  NS_RELEASE(main);
  if (NS_SUCCEEDED(rv))
    ck_assert(!r->started && !r->stopped); /* nothing before open returns */
  return rv;
}

/* Iterations of spin(): NS_ProcessNextEvent runs one event per call, so
 * messages delivered during one iteration came in one deliver event (a
 * batch the socket thread handed over). */
static uint64_t g_iter;

/* Spins the main thread until cond(r) or the deadline. */
static bool spin(bool (*cond)(rec *), rec *r, uint32_t ms) {
  PRIntervalTime start = PR_IntervalNow();
  while (!cond(r) && elapsed_ms(start) < ms) {
    bool ran = NS_ProcessNextEvent(NULL, false);
    g_iter++;
    if (!ran)
      PR_Sleep(PR_MillisecondsToInterval(1));
  }
  return cond(r);
}

static bool is_started(rec *r) { return r->started || r->stopped; }
static bool is_stopped(rec *r) { return r->stopped; }
static size_t g_want_msgs;
static bool has_msgs(rec *r) { return r->nmsgs >= g_want_msgs || r->stopped; }

static void expect_stop(rec *r, nsresult want, uint32_t ms) {
  ck_assert_msg(spin(is_stopped, r, ms), "no on_stop within %u ms", ms);
  ck_assert_msg(r->status == want, "status 0x%08x (%s), expected 0x%08x (%s)",
                (unsigned)r->status, XPCOM_ErrorName(r->status), (unsigned)want,
                XPCOM_ErrorName(want));
  ck_assert(!r->bad_order);
}

/* ---- payloads --------------------------------------------------------------- */

static uint8_t *make_binary(size_t len, unsigned seed) {
  uint8_t *p = malloc(len ? len : 1);
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    p[i] = (uint8_t)x;
  }
  return p;
}

/* Valid UTF-8 of exactly len bytes: ASCII with a 2-, 3- or 4-byte
 * character now and then. */
static uint8_t *make_text(size_t len) {
  uint8_t *p = malloc(len ? len : 1);
  size_t i = 0;
  static const char *const seqs[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9d\x84\x9e"};
  unsigned k = 0;
  while (i < len) {
    if (i % 97 == 13) {
      const char *s = seqs[k++ % 3];
      size_t l = strlen(s);
      if (i + l <= len) {
        memcpy(p + i, s, l);
        i += l;
        continue;
      }
    }
    p[i] = (uint8_t)('a' + i % 26);
    i++;
  }
  return p;
}

/* ---- /blast payloads and deliver batches ---------------------------------- */

/* What one received message counts against max_undelivered besides its
 * bytes (net_ws_conn.h: "~32 bytes of overhead"; its event record). */
#define MSG_OVERHEAD 32u
/* The most net_ws_conn reads at a time (its 256 KiB read buffer); a read
 * may complete several messages at once. */
#define READ_MAX (256u * 1024u)
#define BLAST_PERIOD 4093u /* ws_echo_server.py's PERIOD */

/* Checks binary message number r->blast_seq of a /blast stream: its
 * length, its sequence number (first 8 bytes, big-endian) and the pattern
 * after it (ws_echo_server.py: byte k of the pattern is (k + k / 256) %
 * 256, starting at k = seq % 4093). Records the first fault. */
static void blast_check(rec *r, const net_ws_message *m) {
  uint64_t seq = r->blast_seq++;
  if (r->blast_err[0])
    return;
  if (m->len != r->blast_size) {
    snprintf(r->blast_err, sizeof r->blast_err, "message %llu: %zu bytes, expected %zu",
             (unsigned long long)seq, m->len, r->blast_size);
    return;
  }
  uint64_t got = 0;
  for (int i = 0; i < 8; i++)
    got = got << 8 | m->data[i];
  if (got != seq) {
    snprintf(r->blast_err, sizeof r->blast_err, "message %llu carries sequence number %llu",
             (unsigned long long)seq, (unsigned long long)got);
    return;
  }
  size_t off = (size_t)(seq % BLAST_PERIOD);
  for (size_t i = 8; i < m->len; i++) {
    size_t k = off + i - 8;
    if (m->data[i] != (uint8_t)(k + (k >> 8))) {
      snprintf(r->blast_err, sizeof r->blast_err, "message %llu: byte %zu is 0x%02x",
               (unsigned long long)seq, i, m->data[i]);
      return;
    }
  }
}

/* Batch accounting: a message delivered in another spin() iteration than
 * the previous one starts a new batch. */
static void note_batch(rec *r, const net_ws_message *m) {
  if (!r->batch_len || r->batch_iter != g_iter) {
    r->batch_iter = g_iter;
    r->batch_len = r->batch_bin = 0;
    r->batch_cost = 0;
  }
  r->batch_len++;
  r->batch_bin += m->binary;
  r->batch_cost += m->len + MSG_OVERHEAD;
  if (r->batch_len > r->max_batch)
    r->max_batch = r->batch_len;
  if (r->batch_bin > r->max_batch_bin)
    r->max_batch_bin = r->batch_bin;
  if (r->batch_cost > r->max_batch_cost)
    r->max_batch_cost = r->batch_cost;
}

/* The one text message a /blast stream ends with. */
static void expect_blast_end(const rec *r, unsigned count, size_t size) {
  ck_assert_msg(r->blast_err[0] == '\0', "%s", r->blast_err);
  ck_assert_uint_eq(r->blast_seq, count);
  char text[64];
  int n = snprintf(text, sizeof text, "blast %u %zu", count, size);
  ck_assert_uint_eq(r->nmsgs, 1);
  ck_assert(!r->msgs[0].binary);
  ck_assert_uint_eq(r->msgs[0].len, (size_t)n);
  ck_assert(memcmp(r->msgs[0].data, text, (size_t)n) == 0);
  ck_assert(r->server_closed);
  ck_assert_uint_eq(r->sc_code, 1000);
}

/* ---- echo -------------------------------------------------------------------- */

START_TEST(echo_text_and_binary_all_sizes) {
  boot();
  static const size_t sizes[] = {0, 1, 125, 126, 127, 65535, 65536, 65537, 300000, 1u << 20,
                                 16u << 20};
  const size_t nsizes = sizeof sizes / sizeof sizes[0];
  rec r = {0};
  net_ws_conn_params p = params(g_echo.port, "/");
  ck_assert_uint_eq(open_rec(&r, &p), NS_OK);
  /* The first two are queued before the handshake completes. */
  uint8_t *first = make_text(5);
  ck_assert_uint_eq(net_ws_conn_send(r.c, false, first, 5), NS_OK);
  ck_assert_uint_eq(net_ws_conn_send_adopt(r.c, true, make_binary(7, 7), 7), NS_OK);
  ck_assert_uint_le(net_ws_conn_buffered(r.c), 12); /* may already be written */
  ck_assert(spin(is_started, &r, 10000));
  ck_assert(r.started);
  ck_assert_str_eq(r.protocol, "");
  g_want_msgs = 2;
  ck_assert(spin(has_msgs, &r, 10000));
  ck_assert_uint_eq(r.nmsgs, 2);
  ck_assert(!r.msgs[0].binary && r.msgs[0].len == 5 && memcmp(r.msgs[0].data, first, 5) == 0);
  ck_assert(r.msgs[1].binary && r.msgs[1].len == 7);
  free(first);
  uint64_t sent_bytes = 12;
  for (size_t i = 0; i < nsizes; i++) {
    for (int bin = 0; bin < 2; bin++) {
      size_t len = sizes[i];
      uint8_t *data = bin ? make_binary(len, (unsigned)i) : make_text(len);
      ck_assert_uint_eq(net_ws_conn_send(r.c, bin, data, len), NS_OK);
      sent_bytes += len;
      g_want_msgs = r.nmsgs + 1;
      ck_assert_msg(spin(has_msgs, &r, 60000), "no echo of %zu bytes", len);
      msg *m = &r.msgs[r.nmsgs - 1];
      ck_assert_int_eq(m->binary, bin);
      ck_assert_uint_eq(m->len, len);
      ck_assert(len == 0 || memcmp(m->data, data, len) == 0);
      free(data);
    }
  }
  ck_assert_uint_eq(net_ws_conn_close(r.c, 1000, "done", 4), NS_OK);
  expect_stop(&r, NS_OK, 10000);
  ck_assert(r.server_closed);
  ck_assert_uint_eq(r.sc_code, 1000);
  ck_assert_str_eq(r.sc_reason, "done");
  ck_assert_uint_eq(r.acks, 2 + 2 * nsizes); /* once per message */
  ck_assert_uint_eq(r.acked_bytes, sent_bytes);
  ck_assert_uint_eq(net_ws_conn_buffered(r.c), 0);
  rec_free(&r);
  shut();
}
END_TEST

START_TEST(many_small_messages_batched) {
  boot();
  rec r = {0};
  net_ws_conn_params p = params(g_echo.port, "/");
  ck_assert_uint_eq(open_rec(&r, &p), NS_OK);
  ck_assert(spin(is_started, &r, 10000));
  enum { N = 5000 };
  for (int i = 0; i < N; i++) {
    char text[16];
    int n = snprintf(text, sizeof text, "m%d", i);
    ck_assert_uint_eq(net_ws_conn_send(r.c, false, (const uint8_t *)text, (size_t)n), NS_OK);
  }
  g_want_msgs = N;
  ck_assert(spin(has_msgs, &r, 30000));
  ck_assert_uint_eq(r.nmsgs, N);
  for (int i = 0; i < N; i++) {
    char text[16];
    int n = snprintf(text, sizeof text, "m%d", i);
    ck_assert_uint_eq(r.msgs[i].len, (size_t)n);
    ck_assert(memcmp(r.msgs[i].data, text, (size_t)n) == 0); /* in order */
  }
  ck_assert_uint_eq(r.acks, N);
  ck_assert_uint_eq(net_ws_conn_close(r.c, 0, NULL, 0), NS_OK); /* 0 → 1000 */
  expect_stop(&r, NS_OK, 10000);
  ck_assert_uint_eq(r.sc_code, 1000);
  rec_free(&r);
  shut();
}
END_TEST

START_TEST(backpressure_counter) {
  boot();
  rec r = {0};
  net_ws_conn_params p = params(g_echo.port, "/");
  ck_assert_uint_eq(open_rec(&r, &p), NS_OK);
  ck_assert(spin(is_started, &r, 10000));
  size_t len = 1u << 20;
  uint8_t *data = make_binary(len, 3);
  for (int i = 0; i < 20; i++)
    ck_assert_uint_eq(net_ws_conn_send(r.c, true, data, len), NS_OK);
  uint64_t b = net_ws_conn_buffered(r.c);
  ck_assert_uint_gt(b, 0); /* 20 MiB cannot all be written at once */
  ck_assert_uint_le(b, 20 * (uint64_t)len);
  g_want_msgs = 20;
  ck_assert(spin(has_msgs, &r, 60000));
  ck_assert_uint_eq(r.acks, 20);
  ck_assert_uint_eq(net_ws_conn_buffered(r.c), 0);
  free(data);
  net_ws_conn_close(r.c, 1000, NULL, 0);
  expect_stop(&r, NS_OK, 10000);
  rec_free(&r);
  shut();
}
END_TEST

START_TEST(permessage_deflate_echo) {
  boot();
  rec r = {0};
  net_ws_conn_params p = params(g_deflate.port, "/");
  p.extensions = ws_pmd_offer();
  ck_assert_uint_eq(open_rec(&r, &p), NS_OK);
  ck_assert(spin(is_started, &r, 10000));
  ck_assert_msg(strncmp(r.extensions, "permessage-deflate", 18) == 0, "extensions \"%s\"",
                r.extensions);
  static const size_t sizes[] = {0, 1, 100, 5000, 200000, 3u << 20};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    for (int bin = 0; bin < 2; bin++) {
      size_t len = sizes[i];
      uint8_t *data = bin ? make_binary(len, (unsigned)i) : make_text(len);
      ck_assert_uint_eq(net_ws_conn_send(r.c, bin, data, len), NS_OK);
      g_want_msgs = r.nmsgs + 1;
      ck_assert_msg(spin(has_msgs, &r, 30000), "no echo of %zu bytes", len);
      msg *m = &r.msgs[r.nmsgs - 1];
      ck_assert_int_eq(m->binary, bin);
      ck_assert_uint_eq(m->len, len);
      ck_assert(len == 0 || memcmp(m->data, data, len) == 0);
      free(data);
    }
  }
  net_ws_conn_close(r.c, 1000, NULL, 0);
  expect_stop(&r, NS_OK, 10000);
  rec_free(&r);

  /* A server without the extension: the offer is simply not taken. */
  rec q = {0};
  p = params(g_echo.port, "/");
  p.extensions = ws_pmd_offer();
  ck_assert_uint_eq(open_rec(&q, &p), NS_OK);
  ck_assert(spin(is_started, &q, 10000));
  ck_assert_str_eq(q.extensions, "");
  net_ws_conn_close(q.c, 1000, NULL, 0);
  expect_stop(&q, NS_OK, 10000);
  rec_free(&q);
  shut();
}
END_TEST

/* ---- subprotocols and closes --------------------------------------------------- */

START_TEST(subprotocol_negotiated) {
  boot();
  rec r = {0};
  net_ws_conn_params p = params(g_echo.port, "/");
  p.protocols = "foo, superchat";
  p.origin = "http://example.test";
  ck_assert_uint_eq(open_rec(&r, &p), NS_OK);
  ck_assert(spin(is_started, &r, 10000));
  ck_assert_str_eq(r.protocol, "superchat");
  net_ws_conn_close(r.c, 1000, NULL, 0);
  expect_stop(&r, NS_OK, 10000);
  rec_free(&r);

  rec q = {0};
  p.protocols = "unknown";
  ck_assert_uint_eq(open_rec(&q, &p), NS_OK);
  ck_assert(spin(is_started, &q, 10000));
  ck_assert_str_eq(q.protocol, ""); /* the server chose none: fine */
  net_ws_conn_close(q.c, 1000, NULL, 0);
  expect_stop(&q, NS_OK, 10000);
  rec_free(&q);
  shut();
}
END_TEST

START_TEST(server_close_with_code_and_reason) {
  boot();
  rec r = {0};
  net_ws_conn_params p = params(g_echo.port, "/close?code=4000&reason=going%20home");
  ck_assert_uint_eq(open_rec(&r, &p), NS_OK);
  expect_stop(&r, NS_OK, 10000);
  ck_assert(r.started);
  ck_assert(r.server_closed);
  ck_assert_uint_eq(r.sc_code, 4000);
  ck_assert_str_eq(r.sc_reason, "going home");
  rec_free(&r);
  shut();
}
END_TEST

START_TEST(client_close_and_odd_codes) {
  boot();
  /* 1004 (Gecko 8's CLOSE_TOO_LARGE) goes on the wire as 1009. */
  rec r = {0};
  net_ws_conn_params p = params(g_echo.port, "/");
  ck_assert_uint_eq(open_rec(&r, &p), NS_OK);
  ck_assert(spin(is_started, &r, 10000));
  PRIntervalTime t0 = PR_IntervalNow();
  ck_assert_uint_eq(net_ws_conn_close(r.c, 1004, "big", 3), NS_OK);
  ck_assert_uint_eq(net_ws_conn_close(r.c, 1000, NULL, 0), NS_OK); /* ignored */
  expect_stop(&r, NS_OK, 10000);
  ck_assert_uint_eq(r.sc_code, 1009);
  ck_assert_str_eq(r.sc_reason, "big");
  ck_assert_uint_lt(elapsed_ms(t0), 1500); /* the server's FIN ends the linger */
  /* Sends after the close are dropped, never sent. */
  rec_free(&r);

  rec q = {0};
  ck_assert_uint_eq(open_rec(&q, &p), NS_OK);
  ck_assert_uint_eq(net_ws_conn_close(q.c, 4321, "before open", 11), NS_OK);
  ck_assert_uint_eq(net_ws_conn_send(q.c, false, (const uint8_t *)"late", 4), NS_OK);
  expect_stop(&q, NS_OK, 10000); /* queued: sent once open */
  ck_assert(q.started);
  ck_assert_uint_eq(q.sc_code, 4321);
  ck_assert_uint_eq(q.nmsgs, 0);
  /* "late" may reach the socket thread only after the connection ended (a
   * slow or serialised scheduler, e.g. valgrind): it is then dropped there,
   * and the counter falls to 0 shortly after on_stop. */
  for (int i = 0; i < 500 && net_ws_conn_buffered(q.c) != 0; i++)
    PR_Sleep(PR_MillisecondsToInterval(10));
  ck_assert_uint_eq(net_ws_conn_buffered(q.c), 0);
  rec_free(&q);
  shut();
}
END_TEST

/* ---- keepalive --------------------------------------------------------------------- */

START_TEST(ping_keepalive_answered) {
  boot();
  rec r = {0};
  net_ws_conn_params p = params(g_echo.port, "/");
  p.ping_interval_ms = 100;
  p.ping_timeout_ms = 300;
  ck_assert_uint_eq(open_rec(&r, &p), NS_OK);
  ck_assert(spin(is_started, &r, 10000));
  /* Idle for a while: pings go out, pongs come back, nothing fails. */
  ck_assert(!spin(is_stopped, &r, 1200));
  ck_assert_uint_eq(net_ws_conn_send(r.c, false, (const uint8_t *)"x", 1), NS_OK);
  g_want_msgs = 1;
  ck_assert(spin(has_msgs, &r, 5000));
  net_ws_conn_close(r.c, 1000, NULL, 0);
  expect_stop(&r, NS_OK, 10000);
  rec_free(&r);
  shut();
}
END_TEST

START_TEST(ping_timeout_without_pong) {
  boot();
  rec r = {0};
  net_ws_conn_params p = params(g_silent.port, "/");
  p.ping_interval_ms = 100;
  p.ping_timeout_ms = 200;
  ck_assert_uint_eq(open_rec(&r, &p), NS_OK);
  PRIntervalTime t0 = PR_IntervalNow();
  expect_stop(&r, NS_ERROR_NET_TIMEOUT, 5000);
  ck_assert(r.started);
  ck_assert_uint_ge(elapsed_ms(t0), 250);
  rec_free(&r);
  shut();
}
END_TEST

START_TEST(close_timeout_when_server_ignores_close) {
  boot();
  rec r = {0};
  net_ws_conn_params p = params(g_silent.port, "/");
  p.close_timeout_ms = 300;
  ck_assert_uint_eq(open_rec(&r, &p), NS_OK);
  ck_assert(spin(is_started, &r, 10000));
  PRIntervalTime t0 = PR_IntervalNow();
  net_ws_conn_close(r.c, 1000, NULL, 0);
  expect_stop(&r, NS_ERROR_NET_TIMEOUT, 5000);
  ck_assert_uint_ge(elapsed_ms(t0), 280);
  ck_assert(!r.server_closed);
  rec_free(&r);
  shut();
}
END_TEST

/* ---- many connections ------------------------------------------------------------ */

static atomic_int g_nstopped;
static int g_nwant;
static bool all_stopped(rec *r) {
  (void)r;
  return atomic_load(&g_nstopped) >= g_nwant;
}

START_TEST(two_hundred_concurrent_connections) {
  boot();
  enum { N = 200 };
  ck_assert_uint_eq(xpcom_prefs_set_int("network.websocket.max-connections", 1000), NS_OK);
  rec *rs = calloc(N, sizeof *rs);
  atomic_store(&g_nstopped, 0);
  g_nwant = N;
  net_ws_conn_params p = params(g_echo.port, "/");
  for (int i = 0; i < N; i++) {
    rs[i].id = i;
    rs[i].echo_then_close = true;
    rs[i].stopped_counter = &g_nstopped;
    ck_assert_uint_eq(open_rec(&rs[i], &p), NS_OK);
  }
  ck_assert_msg(spin(all_stopped, NULL, 60000), "only %d stopped", atomic_load(&g_nstopped));
  for (int i = 0; i < N; i++) {
    ck_assert_uint_eq(rs[i].status, NS_OK);
    ck_assert(!rs[i].bad_order);
    ck_assert_uint_eq(rs[i].nmsgs, 1);
    char text[32];
    int n = snprintf(text, sizeof text, "hello %d", i);
    ck_assert_uint_eq(rs[i].msgs[0].len, (size_t)n);
    ck_assert(memcmp(rs[i].msgs[0].data, text, (size_t)n) == 0);
    ck_assert_uint_eq(rs[i].sc_code, 1000);
    rec_free(&rs[i]);
  }
  free(rs);
  shut();
}
END_TEST

/* ---- failures before the open -------------------------------------------------------- */

/* A port nobody listens on: bind, read the port, close. */
static int dead_port(void) {
  PRFileDesc *fd = PR_NewTCPSocket();
  PRNetAddr a;
  PR_InitializeNetAddr(PR_IpAddrLoopback, 0, &a);
  ck_assert_int_eq(PR_Bind(fd, &a), PR_SUCCESS);
  ck_assert_int_eq(PR_GetSockName(fd, &a), PR_SUCCESS);
  int port = PR_ntohs(a.inet.port);
  PR_Close(fd);
  return port;
}

START_TEST(refused_port) {
  boot();
  rec r = {0};
  net_ws_conn_params p = params(dead_port(), "/");
  ck_assert_uint_eq(open_rec(&r, &p), NS_OK);
  expect_stop(&r, NS_ERROR_CONNECTION_REFUSED, 10000);
  ck_assert(!r.started);
  rec_free(&r);
  shut();
}
END_TEST

START_TEST(unknown_host) {
  boot();
  rec r = {0};
  net_ws_conn_params p = params(80, "/");
  p.host = "no-such-host.invalid";
  ck_assert_uint_eq(open_rec(&r, &p), NS_OK);
  expect_stop(&r, NS_ERROR_UNKNOWN_HOST, 10000);
  ck_assert(!r.started);
  rec_free(&r);
  shut();
}
END_TEST

START_TEST(open_timeout_against_silent_listener) {
  boot();
  /* Listens but never accepts nor answers: the kernel completes TCP. */
  PRFileDesc *l = PR_NewTCPSocket();
  PRNetAddr a;
  PR_InitializeNetAddr(PR_IpAddrLoopback, 0, &a);
  ck_assert_int_eq(PR_Bind(l, &a), PR_SUCCESS);
  ck_assert_int_eq(PR_Listen(l, 16), PR_SUCCESS);
  ck_assert_int_eq(PR_GetSockName(l, &a), PR_SUCCESS);
  rec r = {0};
  net_ws_conn_params p = params(PR_ntohs(a.inet.port), "/");
  p.open_timeout_ms = 300;
  ck_assert_uint_eq(open_rec(&r, &p), NS_OK);
  PRIntervalTime t0 = PR_IntervalNow();
  expect_stop(&r, NS_ERROR_NET_TIMEOUT, 5000);
  ck_assert_uint_ge(elapsed_ms(t0), 250);
  ck_assert(!r.started);
  rec_free(&r);
  PR_Close(l);
  shut();
}
END_TEST

START_TEST(ipv6_and_name_hosts) {
  boot();
  rec r = {0};
  net_ws_conn_params p = params(g_echo.port, "/");
  p.host = "localhost"; /* through the DNS pool */
  ck_assert_uint_eq(open_rec(&r, &p), NS_OK);
  ck_assert(spin(is_started, &r, 10000));
  ck_assert(r.started);
  net_ws_conn_close(r.c, 1000, NULL, 0);
  expect_stop(&r, NS_OK, 10000);
  rec_free(&r);
  /* The echo server listens on IPv4 only: [::1] is refused. */
  rec q = {0};
  p.host = "[::1]";
  ck_assert_uint_eq(open_rec(&q, &p), NS_OK);
  expect_stop(&q, NS_ERROR_CONNECTION_REFUSED, 10000);
  rec_free(&q);
  shut();
}
END_TEST

START_TEST(bad_parameters_fail_at_open) {
  boot();
  rec r = {0};
  net_ws_conn_params p = params(g_echo.port, "no-slash");
  ck_assert_uint_eq(open_rec(&r, &p), NS_ERROR_ILLEGAL_VALUE);
  p = params(g_echo.port, "/");
  p.protocols = "two words";
  ck_assert_uint_eq(open_rec(&r, &p), NS_ERROR_ILLEGAL_VALUE);
  p.protocols = "dup, dup";
  ck_assert_uint_eq(open_rec(&r, &p), NS_ERROR_ILLEGAL_VALUE);
  p = params(g_echo.port, "/");
  p.origin = "http://x\r\nInjected: 1";
  ck_assert_uint_eq(open_rec(&r, &p), NS_ERROR_ILLEGAL_VALUE);
  p = params(g_echo.port, "/");
  p.host = "";
  ck_assert_uint_eq(open_rec(&r, &p), NS_ERROR_ILLEGAL_VALUE);
  ck_assert_ptr_null(r.c);
  shut();
}
END_TEST

/* ---- the owner going away, aborts, XPCOM shutdown --------------------------------------- */

START_TEST(release_while_connecting_stays_silent) {
  boot();
  rec r = {0};
  net_ws_conn_params p = params(g_echo.port, "/");
  ck_assert_uint_eq(open_rec(&r, &p), NS_OK);
  net_ws_conn_send(r.c, false, (const uint8_t *)"x", 1);
  net_ws_conn_release(r.c);
  r.c = NULL;
  /* Nothing may be delivered; the connection winds down by itself. */
  PRIntervalTime t0 = PR_IntervalNow();
  while (net_ws_conn_live_count() && elapsed_ms(t0) < 5000) {
    NS_ProcessPendingEvents(NULL);
    PR_Sleep(PR_MillisecondsToInterval(2));
  }
  ck_assert_uint_eq(net_ws_conn_live_count(), 0);
  ck_assert(!r.started && !r.stopped);
  shut();
}
END_TEST

START_TEST(abort_after_open) {
  boot();
  rec r = {0};
  net_ws_conn_params p = params(g_echo.port, "/");
  ck_assert_uint_eq(open_rec(&r, &p), NS_OK);
  ck_assert(spin(is_started, &r, 10000));
  net_ws_conn_send(r.c, true, (const uint8_t *)"abc", 3);
  net_ws_conn_abort(r.c, NS_ERROR_ABORT);
  expect_stop(&r, NS_ERROR_ABORT, 5000);
  ck_assert_uint_eq(net_ws_conn_buffered(r.c), 0);
  net_ws_conn_abort(r.c, NS_ERROR_ABORT); /* after the stop: harmless */
  rec_free(&r);
  shut();
}
END_TEST

START_TEST(xpcom_shutdown_with_open_connections) {
  boot();
  enum { N = 5 };
  rec rs[N];
  memset(rs, 0, sizeof rs);
  net_ws_conn_params p = params(g_echo.port, "/");
  for (int i = 0; i < N; i++) {
    rs[i].release_on_stop = true; /* as the channel does */
    ck_assert_uint_eq(open_rec(&rs[i], &p), NS_OK);
  }
  for (int i = 0; i < N; i++)
    ck_assert(spin(is_started, &rs[i], 10000));
  /* One more still resolving / connecting. */
  rec late = {0};
  late.release_on_stop = true;
  ck_assert_uint_eq(open_rec(&late, &p), NS_OK);
  shut(); /* the socket thread stops: everyone gets on_stop(NS_ERROR_ABORT) */
  for (int i = 0; i < N; i++) {
    ck_assert(rs[i].stopped);
    ck_assert_uint_eq(rs[i].status, NS_ERROR_ABORT);
    ck_assert_ptr_null(rs[i].c);
    rec_free(&rs[i]);
  }
  ck_assert(late.stopped);
  ck_assert(!late.bad_order);
  rec_free(&late);
  ck_assert_uint_eq(net_ws_conn_live_count(), 0);
}
END_TEST

/* ---- the misbehaving server (test/servers/badserver.py) ------------------------------- */

typedef struct bad_case {
  const char *mode;
  nsresult want;
  bool started;            /* on_start expected */
  const char *extra;       /* one more server option and its value, or NULL */
  const char *extra_value;
  uint32_t open_timeout_ms;
  uint32_t close_timeout_ms;
  uint64_t max_message;
  int nmsgs;               /* messages expected before the end */
  const char *wire;        /* what the server must report of us, or NULL */
} bad_case;

static const bad_case g_bad[] = {
    {"non101", NS_ERROR_CONNECTION_REFUSED, false, NULL, NULL, 0, 0, 0, 0, NULL},
    {"wrongaccept", NS_ERROR_ILLEGAL_VALUE, false, NULL, NULL, 0, 0, 0, 0, NULL},
    {"noupgrade", NS_ERROR_ILLEGAL_VALUE, false, NULL, NULL, 0, 0, 0, 0, NULL},
    {"noconnection", NS_ERROR_ILLEGAL_VALUE, false, NULL, NULL, 0, 0, 0, 0, NULL},
    {"badsubprotocol", NS_ERROR_ILLEGAL_VALUE, false, NULL, NULL, 0, 0, 0, 0, NULL},
    {"badextension", NS_ERROR_ILLEGAL_VALUE, false, NULL, NULL, 0, 0, 0, 0, NULL},
    {"garbage", NS_ERROR_CONNECTION_REFUSED, false, NULL, NULL, 0, 0, 0, 0, NULL},
    {"slowhandshake", NS_ERROR_NET_TIMEOUT, false, NULL, NULL, 500, 0, 0, 0, NULL},
    {"ignoreclose", NS_ERROR_NET_TIMEOUT, true, NULL, NULL, 0, 500, 0, 0,
     "client-close code=1000"},
    {"resetmidframe", NS_ERROR_NET_RESET, true, NULL, NULL, 0, 0, 0, 1, NULL},
    {"eofmidmessage", NS_BASE_STREAM_CLOSED, true, NULL, NULL, 0, 0, 0, 1, NULL},
    {"len2to63", NS_ERROR_ILLEGAL_VALUE, true, NULL, NULL, 0, 0, 0, 0, "client-close code=1002"},
    {"oversize", NS_ERROR_FILE_TOO_BIG, true, "--size", "1024", 0, 0, 1024, 0,
     "client-close code=1009"},
    {"hugeclaim", NS_ERROR_FILE_TOO_BIG, true, NULL, NULL, 0, 0, 0, 0, "client-close code=1009"},
    {"badutf8text", NS_ERROR_ILLEGAL_VALUE, true, NULL, NULL, 0, 0, 0, 0, "when=before-rest"},
    {"badutf8reason", NS_ERROR_ILLEGAL_VALUE, true, NULL, NULL, 0, 0, 0, 0,
     "client-close code=1007"},
    {"masked", NS_ERROR_ILLEGAL_VALUE, true, NULL, NULL, 0, 0, 0, 0, "client-close code=1002"},
    {"bytebybyte", NS_OK, true, NULL, NULL, 0, 0, 0, 2, "client-close code=1000"},
    {"frames101", NS_OK, true, NULL, NULL, 0, 0, 0, 2, "client-close code=1000"},
    {"servercloses", NS_OK, true, "--reason", "so long", 0, 0, 0, 0, "client-close code=1000"},
    {"echo", NS_OK, true, "--protocols", "b,c", 0, 0, 0, 1, "client-close code=1000"},
    {"closedport", NS_ERROR_CONNECTION_REFUSED, false, NULL, NULL, 0, 0, 0, 0, NULL},
};

START_TEST(misbehaving_server) {
  const bad_case *bc = &g_bad[_i];
  if (!g_have_badserver) {
    fprintf(stderr, "SKIP %s: test/servers/badserver.py not found\n", bc->mode);
    return;
  }
  server s;
  char script[512];
  snprintf(script, sizeof script, "%s/test/servers/badserver.py", NET_TEST_SRCDIR);
  const char *args[] = {"--mode", bc->mode, bc->extra, bc->extra_value, NULL};
  ck_assert_msg(server_start(&s, script, args, true), "badserver %s did not start", bc->mode);
  boot();
  rec r = {0};
  net_ws_conn_params p = params(s.port, "/");
  if (bc->open_timeout_ms)
    p.open_timeout_ms = bc->open_timeout_ms;
  if (bc->close_timeout_ms)
    p.close_timeout_ms = bc->close_timeout_ms;
  p.max_message_size = bc->max_message;
  p.protocols = "a, b";
  ck_assert_uint_eq(open_rec(&r, &p), NS_OK);
  if (strcmp(bc->mode, "ignoreclose") == 0 || strcmp(bc->mode, "echo") == 0) {
    ck_assert(spin(is_started, &r, 10000));
    if (strcmp(bc->mode, "echo") == 0) {
      ck_assert_str_eq(r.protocol, "b");
      net_ws_conn_send(r.c, false, (const uint8_t *)"ping", 4);
      g_want_msgs = 1;
      ck_assert(spin(has_msgs, &r, 5000));
    }
    net_ws_conn_close(r.c, 1000, NULL, 0);
  }
  if (bc->nmsgs && bc->want == NS_OK && strcmp(bc->mode, "echo") != 0) {
    /* These servers send messages, echo, and wait for our close. */
    g_want_msgs = (size_t)bc->nmsgs;
    ck_assert(spin(has_msgs, &r, 10000));
    net_ws_conn_close(r.c, 1000, NULL, 0);
  }
  expect_stop(&r, bc->want, 15000);
  ck_assert_int_eq(r.started, bc->started);
  ck_assert_uint_eq(r.nmsgs, (size_t)bc->nmsgs);
  if (strcmp(bc->mode, "bytebybyte") == 0) {
    ck_assert(!r.msgs[0].binary && r.msgs[0].len == 18 &&
              memcmp(r.msgs[0].data, "hello byte by byte", 18) == 0);
    ck_assert(r.msgs[1].binary && r.msgs[1].len == 4 &&
              memcmp(r.msgs[1].data, "\x00\x01\xfe\xff", 4) == 0);
  }
  if (strcmp(bc->mode, "frames101") == 0) {
    ck_assert(!r.msgs[0].binary && r.msgs[0].len == 12 &&
              memcmp(r.msgs[0].data, "first in 101", 12) == 0);
    ck_assert(r.msgs[1].binary && r.msgs[1].len == 3);
  }
  if (strcmp(bc->mode, "servercloses") == 0) {
    ck_assert(r.server_closed);
    ck_assert_uint_eq(r.sc_code, 1000);
    ck_assert_str_eq(r.sc_reason, "so long");
  }
  if (strcmp(bc->mode, "badutf8reason") == 0)
    ck_assert(!r.server_closed); /* the close was invalid: no onServerClose */
  rec_free(&r);
  shut();
  if (bc->wire) {
    const char *out = server_output(&s, 2000);
    ck_assert_msg(strstr(out, bc->wire), "%s: expected \"%s\" from the server, got:\n%s",
                  bc->mode, bc->wire, out);
  }
  server_stop(&s, true);
}
END_TEST

/* RFC 6455 §4.1 and §7.2.3 through real connections: while one connection
 * to an address is CONNECTING (a server that never answers the
 * handshake), the next waits; when the first fails, the next starts only
 * after the reconnect delay (200-400 ms). */
static int count_str(const char *hay, const char *needle) {
  int n = 0;
  for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
    n++;
  return n;
}

START_TEST(one_connecting_per_address_and_backoff) {
  if (!g_have_badserver) {
    fprintf(stderr, "SKIP: test/servers/badserver.py not found\n");
    return;
  }
  server s;
  char script[512];
  snprintf(script, sizeof script, "%s/test/servers/badserver.py", NET_TEST_SRCDIR);
  const char *args[] = {"--mode", "slowhandshake", NULL};
  ck_assert(server_start(&s, script, args, true));
  boot();
  rec a = {0}, b = {0};
  net_ws_conn_params p = params(s.port, "/");
  p.open_timeout_ms = 600;
  ck_assert_uint_eq(open_rec(&a, &p), NS_OK);
  p.open_timeout_ms = 10000;
  ck_assert_uint_eq(open_rec(&b, &p), NS_OK);
  PRIntervalTime t0 = PR_IntervalNow();
  ck_assert(!spin(is_stopped, &a, 300));
  ck_assert_int_eq(count_str(server_output(&s, 100), " connect"), 1); /* b waits */
  expect_stop(&a, NS_ERROR_NET_TIMEOUT, 5000);
  PRIntervalTime failed = elapsed_ms(t0);
  /* b connects once the delay after a's failure has passed. */
  while (count_str(server_output(&s, 20), " connect") < 2 && elapsed_ms(t0) < 5000)
    NS_ProcessPendingEvents(NULL);
  PRIntervalTime second = elapsed_ms(t0);
  ck_assert_int_eq(count_str(server_output(&s, 10), " connect"), 2);
  ck_assert_msg(second >= failed + 150, "second connect %u ms after the failure",
                (unsigned)(second - failed));
  ck_assert(!b.stopped);
  net_ws_conn_abort(b.c, NS_ERROR_ABORT);
  expect_stop(&b, NS_ERROR_ABORT, 5000);
  ck_assert(!a.started && !b.started);
  rec_free(&a);
  rec_free(&b);
  shut();
  server_stop(&s, true);
}
END_TEST

/* ---- receive backpressure (max_undelivered) ------------------------------------------ */

/* Own echo server for a test whose stdout it reads (/blast?report=1). */
static void blast_server_start(server *s) {
  char script[512];
  snprintf(script, sizeof script, "%s/test/net/ws_echo_server.py", NET_TEST_SRCDIR);
  static const char *const args[] = {"0", NULL};
  ck_assert_msg(server_start(s, script, args, true), "cannot start %s", script);
}

/* The setup the stalled-server tests share: a /blast server of their own
 * (768 x 64 KiB, waiting for "go", reporting stalls), the runtime, and a
 * record whose on_start runs `hook`. Returns the parameters for a limit
 * of 256 KiB; the caller may change them before open_rec. */
static net_ws_conn_params stalled_blast_setup(server *s, rec *r, void (*hook)(rec *)) {
  blast_server_start(s);
  boot();
  memset(r, 0, sizeof *r);
  r->blast_size = 64 * 1024;
  r->send_go = true;
  r->start_hook = hook;
  r->srv = s;
  net_ws_conn_params p = params(s->port, "/blast?count=768&size=65536&wait=1&report=1");
  p.max_undelivered = 256 * 1024;
  return p;
}

/* start_hook: keeps the owner's thread busy, as a slow listener would,
 * until the server reports that its sends stopped completing (the client
 * stopped reading: TCP flow control holds the server back), that it sent
 * everything (nothing held it back), or that the client went away. Waiting
 * for the server, not for a fixed time, means the socket thread has had
 * all the time it wanted to read, however loaded the machine. The server
 * waits for our "go", so on_start's batch holds no message: all that is
 * read meanwhile arrives in the next batch, whose size is what the socket
 * thread buffered for the blocked owner. */
static void block_until_server_stalls(rec *r) {
  PRIntervalTime t0 = PR_IntervalNow();
  for (;;) {
    const char *out = server_output(r->srv, 20);
    if (strstr(out, "blast stalled") || strstr(out, "blast done") || strstr(out, "blast closed"))
      break;
    if (elapsed_ms(t0) > 60000)
      break;
    PR_Sleep(PR_MillisecondsToInterval(5)); /* no busy loop if it died */
  }
  r->blocked_ms = elapsed_ms(t0);
}

/* Waits up to ms for `what` in the server's output. */
static bool server_says(server *s, const char *what, uint32_t ms) {
  PRIntervalTime t0 = PR_IntervalNow();
  while (!strstr(server_output(s, 20), what) && elapsed_ms(t0) < ms)
    PR_Sleep(PR_MillisecondsToInterval(5)); /* no busy loop if it died */
  return strstr(server_output(s, 0), what) != NULL;
}

static bool never(rec *r) {
  (void)r;
  return false;
}

static bool no_live_conns(rec *r) {
  (void)r;
  return net_ws_conn_live_count() == 0;
}

/* A fast server, a blocked owner: the socket thread stops reading at the
 * limit, the server's sends stop completing, and after the owner catches
 * up everything arrives intact and in order. Every batch the socket thread
 * hands over is bounded: it reads only while the batch's backlog is under
 * the limit (at most 3 of these messages), and the read that crosses it
 * (READ_MAX bytes) completes at most 4 more: 7 messages, 458976 bytes,
 * within LIMIT + READ_MAX while 8 are not (7 does happen, so limit/size +
 * 2 would be too tight). Without backpressure the batch read while the
 * owner was blocked holds the whole stream. */
START_TEST(backpressure_holds_a_fast_server) {
  enum { COUNT = 768, SIZE = 64 * 1024, LIMIT = 256 * 1024 };
  server s;
  rec r;
  net_ws_conn_params p = stalled_blast_setup(&s, &r, block_until_server_stalls);
  ck_assert_uint_eq(open_rec(&r, &p), NS_OK);
  expect_stop(&r, NS_OK, 120000);
  const char *out = server_output(&s, 10);
  fprintf(stderr, "backpressure: owner blocked %u ms, largest batch %zu messages (%llu bytes); %s",
          (unsigned)r.blocked_ms, r.max_batch, (unsigned long long)r.max_batch_cost, out);
  ck_assert_msg(r.max_batch_cost <= LIMIT + READ_MAX,
                "a batch of %zu messages (%llu bytes) for a limit of %u", r.max_batch,
                (unsigned long long)r.max_batch_cost, (unsigned)LIMIT);
  /* The server could not send everything while the owner was blocked. */
  const char *st = strstr(out, "blast stalled sent=");
  ck_assert_msg(st != NULL, "the server never stalled:\n%s", out);
  unsigned taken = COUNT;
  ck_assert_int_eq(sscanf(st, "blast stalled sent=%u", &taken), 1);
  ck_assert_uint_lt(taken, COUNT);
  expect_blast_end(&r, COUNT, SIZE);
  rec_free(&r);
  shut();
  server_stop(&s, true);
}
END_TEST

/* Messages larger than the limit: each pauses reading on its own, so they
 * arrive one at a time (no batch holds two; the final text message may
 * come with the last one, in the same read), whole and in order. The owner
 * is slower than the network, so without backpressure they would pile up
 * into larger batches. */
START_TEST(messages_larger_than_the_limit) {
  enum { COUNT = 24, SIZE = 1 << 20 };
  boot();
  rec r = {0};
  r.blast_size = SIZE;
  r.send_go = true;
  r.msg_sleep_ms = 10;
  net_ws_conn_params p = params(g_echo.port, "/blast?count=24&size=1048576&wait=1");
  p.max_undelivered = 64 * 1024;
  ck_assert_uint_eq(open_rec(&r, &p), NS_OK);
  expect_stop(&r, NS_OK, 120000);
  expect_blast_end(&r, COUNT, SIZE);
  ck_assert_msg(r.max_batch_bin == 1, "%zu messages in one batch", r.max_batch_bin);
  rec_free(&r);
  shut();
}
END_TEST

/* A slow owner (20 ms a message, 700 ms on every 40th) with a 200 ms
 * keepalive and a 300 ms ping timeout: reading pauses for much longer than
 * the ping timeout, which is not taken for a dead server, and the server's
 * close, read once the owner caught up, ends the connection cleanly. The
 * batch bound (as above: at most 31 + 16 messages of 16 KiB) shows the
 * long sleeps were spent paused: without backpressure the batch after one
 * holds the rest of the stream. */
START_TEST(keepalive_and_server_close_while_paused) {
  enum { COUNT = 120, SIZE = 16 * 1024, LIMIT = 512 * 1024 };
  boot();
  rec r = {0};
  r.blast_size = SIZE;
  r.send_go = true;
  r.msg_sleep_ms = 20;
  r.long_sleep_ms = 700;
  r.long_sleep_every = 40;
  net_ws_conn_params p = params(g_echo.port, "/blast?count=120&size=16384&wait=1");
  p.max_undelivered = LIMIT;
  p.ping_interval_ms = 200;
  p.ping_timeout_ms = 300;
  ck_assert_uint_eq(open_rec(&r, &p), NS_OK);
  expect_stop(&r, NS_OK, 120000);
  expect_blast_end(&r, COUNT, SIZE);
  ck_assert_msg(r.max_batch_cost <= LIMIT + READ_MAX,
                "a batch of %zu messages (%llu bytes) for a limit of %u", r.max_batch,
                (unsigned long long)r.max_batch_cost, (unsigned)LIMIT);
  rec_free(&r);
  shut();
}
END_TEST

static void abort_when_stalled(rec *r) {
  block_until_server_stalls(r);
  net_ws_conn_abort(r->c, NS_ERROR_ABORT);
}

/* An abort while reading is paused (from a callback, with read messages
 * waiting for the owner): they are still delivered, intact, then on_stop
 * with the abort's status, once; nothing after it; the socket is closed
 * (the server's send fails). */
START_TEST(abort_while_paused) {
  enum { COUNT = 768, SIZE = 64 * 1024, LIMIT = 256 * 1024 };
  server s;
  rec r;
  net_ws_conn_params p = stalled_blast_setup(&s, &r, abort_when_stalled);
  ck_assert_uint_eq(open_rec(&r, &p), NS_OK);
  expect_stop(&r, NS_ERROR_ABORT, 20000);
  ck_assert_msg(strstr(server_output(&s, 0), "blast stalled"), "not paused:\n%s", s.out);
  ck_assert_msg(r.blast_err[0] == '\0', "%s", r.blast_err);
  ck_assert_uint_lt(r.blast_seq, COUNT);
  ck_assert_uint_le(r.max_batch_cost, LIMIT + READ_MAX);
  (void)spin(never, &r, 300); /* late events would set bad_order */
  ck_assert(!r.bad_order);
  ck_assert_uint_eq(r.nmsgs, 0);
  ck_assert_uint_eq(net_ws_conn_buffered(r.c), 0);
  ck_assert_msg(server_says(&s, "blast closed", 20000), "the server still sends:\n%s", s.out);
  rec_free(&r);
  shut();
  server_stop(&s, true);
}
END_TEST

/* A release while reading is paused, outside any callback, with read
 * messages queued for the owner: none of them is delivered, nor on_stop;
 * the connection winds down (live count 0, the socket closed) and nothing
 * leaks (shut(): XPCOM leak accounting; ASan: the message buffers). */
START_TEST(release_while_paused) {
  server s;
  rec r;
  net_ws_conn_params p = stalled_blast_setup(&s, &r, block_until_server_stalls);
  ck_assert_uint_eq(open_rec(&r, &p), NS_OK);
  /* on_start has returned: what was read meanwhile is still queued, so
   * the backlog is at the limit and reading is paused. */
  ck_assert(spin(is_started, &r, 20000));
  ck_assert_msg(strstr(server_output(&s, 0), "blast stalled"), "not paused:\n%s", s.out);
  net_ws_conn_release(r.c);
  r.c = NULL;
  ck_assert(spin(no_live_conns, &r, 20000));
  (void)spin(never, &r, 200); /* late events would show */
  ck_assert(!r.stopped);
  ck_assert_uint_eq(r.blast_seq, 0);
  ck_assert_uint_eq(r.nmsgs, 0);
  ck_assert_msg(server_says(&s, "blast closed", 20000), "the server still sends:\n%s", s.out);
  rec_free(&r);
  shut();
  server_stop(&s, true);
}
END_TEST

static void close_when_stalled(rec *r) {
  block_until_server_stalls(r);
  ck_assert_uint_eq(net_ws_conn_close(r->c, 1000, "bye", 3), NS_OK);
  /* Busy past the close timeout: the server answers at once, but its close
   * waits behind what it had sent before, which we do not read now. */
  PR_Sleep(PR_MillisecondsToInterval(1500));
}

/* Our close while reading is paused: the server answers at once, but its
 * close comes after the messages it sent before; the close timeout must
 * not take the time we chose not to read for the server's silence (as the
 * keepalive does not): the timer starts over when it fires while paused. */
START_TEST(client_close_while_paused) {
  server s;
  rec r;
  net_ws_conn_params p = stalled_blast_setup(&s, &r, close_when_stalled);
  p.close_timeout_ms = 1000;
  ck_assert_uint_eq(open_rec(&r, &p), NS_OK);
  expect_stop(&r, NS_OK, 120000);
  ck_assert_msg(r.blast_err[0] == '\0', "%s", r.blast_err);
  ck_assert(r.server_closed);
  ck_assert_uint_eq(r.sc_code, 1000);
  rec_free(&r);
  shut();
  server_stop(&s, true);
}
END_TEST

/* ---- suite --------------------------------------------------------------------------------- */

static Suite *conn_suite(void) {
  Suite *s = suite_create("net_ws_conn");
  TCase *echo = tcase_create("echo");
  tcase_set_timeout(echo, 180);
  tcase_add_test(echo, echo_text_and_binary_all_sizes);
  tcase_add_test(echo, many_small_messages_batched);
  tcase_add_test(echo, backpressure_counter);
  tcase_add_test(echo, permessage_deflate_echo);
  tcase_add_test(echo, subprotocol_negotiated);
  tcase_add_test(echo, server_close_with_code_and_reason);
  tcase_add_test(echo, client_close_and_odd_codes);
  tcase_add_test(echo, ipv6_and_name_hosts);
  suite_add_tcase(s, echo);
  TCase *timers = tcase_create("timers");
  tcase_set_timeout(timers, 60);
  tcase_add_test(timers, ping_keepalive_answered);
  tcase_add_test(timers, ping_timeout_without_pong);
  tcase_add_test(timers, close_timeout_when_server_ignores_close);
  tcase_add_test(timers, open_timeout_against_silent_listener);
  suite_add_tcase(s, timers);
  TCase *scale = tcase_create("scale");
  tcase_set_timeout(scale, 180);
  tcase_add_test(scale, two_hundred_concurrent_connections);
  suite_add_tcase(s, scale);
  TCase *fail = tcase_create("failures");
  tcase_set_timeout(fail, 60);
  tcase_add_test(fail, refused_port);
  tcase_add_test(fail, unknown_host);
  tcase_add_test(fail, bad_parameters_fail_at_open);
  tcase_add_test(fail, release_while_connecting_stays_silent);
  tcase_add_test(fail, abort_after_open);
  tcase_add_test(fail, xpcom_shutdown_with_open_connections);
  tcase_add_test(fail, one_connecting_per_address_and_backoff);
  tcase_add_loop_test(fail, misbehaving_server, 0, (int)(sizeof g_bad / sizeof g_bad[0]));
  suite_add_tcase(s, fail);
  TCase *bp = tcase_create("backpressure");
  tcase_set_timeout(bp, 180);
  tcase_add_test(bp, backpressure_holds_a_fast_server);
  tcase_add_test(bp, messages_larger_than_the_limit);
  tcase_add_test(bp, keepalive_and_server_close_while_paused);
  tcase_add_test(bp, abort_while_paused);
  tcase_add_test(bp, release_while_paused);
  tcase_add_test(bp, client_close_while_paused);
  suite_add_tcase(s, bp);
  return s;
}

int main(void) {
  char script[512];
  snprintf(script, sizeof script, "%s/test/net/ws_echo_server.py", NET_TEST_SRCDIR);
  if (!server_start(&g_echo, script, NULL, false)) {
    fprintf(stderr, "cannot start %s\n", script);
    return EXIT_FAILURE;
  }
  static const char *const deflate_args[] = {"0", "deflate", NULL};
  if (!server_start(&g_deflate, script, deflate_args, false)) {
    fprintf(stderr, "cannot start %s deflate\n", script);
    server_stop(&g_echo, false);
    return EXIT_FAILURE;
  }
  snprintf(script, sizeof script, "%s/test/net/silent_server.py", NET_TEST_SRCDIR);
  if (!server_start(&g_silent, script, NULL, false)) {
    fprintf(stderr, "cannot start %s\n", script);
    server_stop(&g_echo, false);
    return EXIT_FAILURE;
  }
  snprintf(script, sizeof script, "%s/test/servers/badserver.py", NET_TEST_SRCDIR);
  g_have_badserver = access(script, R_OK) == 0;
  SRunner *sr = srunner_create(conn_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  server_stop(&g_echo, false);
  server_stop(&g_deflate, false);
  server_stop(&g_silent, false);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

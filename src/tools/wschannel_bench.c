/*
 * wschannel_bench.c — `wschannel bench URL WORKLOAD COUNT SIZE`.
 *
 * The server named by URL does the work (test/bench/benchserver.c); the
 * client appends "count=COUNT&size=SIZE" to URL's query so that one server
 * serves every size:
 *   recv-binary, recv-text  the server sends COUNT messages of SIZE bytes
 *                           then Close 1000; each is checked (type, size)
 *   send-binary             COUNT binary messages of SIZE bytes, as fast as
 *                           the channel takes them but never more than a
 *                           window of un-acknowledged bytes (onAcknowledge
 *                           reports each message written), then the text
 *                           "done"; the server answers "<messages> <bytes>"
 *   echo                    COUNT sequential round trips of one SIZE-byte
 *                           binary message
 * Output: one JSON line {"msgs": N, "bytes": B, "seconds": S}, plus
 * "rtt_p50_us"/"rtt_p99_us" for echo (p50 = sorted[n/2], p99 =
 * sorted[floor(0.99 n)]). `seconds` is CLOCK_MONOTONIC from onStart to
 * the COUNT-th message delivered (recv, echo) or to the server's reply
 * (send, whose msgs/bytes are the server's counts).
 *
 * Environment: WSCHANNEL_BENCH_WINDOW (bytes, default 1 MiB) sets the send
 * window; one message is always allowed in flight.
 */
#include "wschannel_bench.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nsError.h"
#include "nsXPCOM.h"
#include "nsXPCOMStrings.h"
#include "xpcom_object.h"
#include "xpcom_thread.h"

#include "nsIComponentManager.h"
#include "nsIIOService.h"
#include "nsIServiceManager.h"
#include "nsIURI.h"
#include "nsIWebSocketChannel.h"
#include "nsIWebSocketListener.h"

#define PROG "wschannel bench"
#define WS_CONTRACT "@mozilla.org/network/protocol;1?name=ws"
#define WSS_CONTRACT "@mozilla.org/network/protocol;1?name=wss"
#define IOSERVICE_CONTRACT "@mozilla.org/network/io-service;1"
#define DEFAULT_WINDOW (1u << 20)

enum { BENCH_OK = 0, BENCH_FAIL = 1, BENCH_USAGE = 2, BENCH_WORKLOAD = 3 };

typedef enum workload { W_RECV_BINARY, W_RECV_TEXT, W_SEND, W_ECHO } workload;

static const char *const kWorkloads[] = {"recv-binary", "recv-text",
                                         "send-binary", "echo"};

/* The whole run; one per process, main thread only. */
typedef struct bench {
  nsIWebSocketListener listener; /* identity; static, not refcounted */
  nsIWebSocketChannel *channel;
  workload w;
  uint64_t count, size, window;
  uint8_t *payload; /* SIZE bytes to send */
  bool started, stopped, done, failed, close_called;
  nsresult status;
  struct timespec t0, t1;
  /* recv */
  uint64_t msgs, bytes;
  /* send */
  uint64_t sent, unacked_bytes, unacked_msgs;
  bool done_sent;
  /* echo */
  uint64_t *rtt_ns;
  struct timespec ping_at;
} bench;

static bench g_b;

static void report_rv(const char *what, nsresult rv) {
  char buf[XPCOM_ERROR_FORMAT_MAX];
  XPCOM_FormatError(rv, buf, sizeof buf);
  fprintf(stderr, PROG ": %s: %s\n", what, buf);
}

static uint64_t ns_between(const struct timespec *a,
                           const struct timespec *b) {
  return (uint64_t)((int64_t)(b->tv_sec - a->tv_sec) * 1000000000 +
                    (b->tv_nsec - a->tv_nsec));
}

static void bench_close(void) {
  if (g_b.close_called || g_b.stopped || !g_b.channel)
    return;
  g_b.close_called = true;
  nsCStringContainer reason;
  NS_CStringContainerInit(&reason);
  (void)nsIWebSocketChannel_Close(g_b.channel,
                                  nsIWebSocketChannel_CLOSE_NORMAL, &reason);
  NS_CStringContainerFinish(&reason);
}

static void bench_fail(const char *fmt, const char *detail) {
  if (!g_b.failed) {
    fprintf(stderr, PROG ": ");
    fprintf(stderr, fmt, detail);
    fputc('\n', stderr);
  }
  g_b.failed = true;
  bench_close();
}

static nsresult send_binary(const uint8_t *data, uint64_t len) {
  nsCStringContainer msg;
  NS_CStringContainerInit2(&msg, (const char *)data, (uint32_t)len,
                           NS_CSTRING_CONTAINER_INIT_DEPEND |
                               NS_CSTRING_CONTAINER_INIT_SUBSTRING);
  nsresult rv = nsIWebSocketChannel_SendBinaryMsg(g_b.channel, &msg);
  NS_CStringContainerFinish(&msg);
  return rv;
}

/* Send workload: fill the window (onAcknowledge calls back here). */
static void send_more(void) {
  while (g_b.sent < g_b.count && !g_b.failed &&
         (g_b.unacked_msgs == 0 ||
          g_b.unacked_bytes + g_b.size <= g_b.window)) {
    nsresult rv = send_binary(g_b.payload, g_b.size);
    if (NS_FAILED(rv)) {
      report_rv("sendBinaryMsg", rv);
      bench_fail("%s", "send failed");
      return;
    }
    g_b.sent++;
    g_b.unacked_msgs++;
    g_b.unacked_bytes += g_b.size;
  }
  if (g_b.sent == g_b.count && !g_b.done_sent && !g_b.failed) {
    nsCStringContainer msg;
    NS_CStringContainerInit2(&msg, "done", 4,
                             NS_CSTRING_CONTAINER_INIT_DEPEND |
                                 NS_CSTRING_CONTAINER_INIT_SUBSTRING);
    nsresult rv = nsIWebSocketChannel_SendMsg(g_b.channel, &msg);
    NS_CStringContainerFinish(&msg);
    g_b.done_sent = true;
    if (NS_FAILED(rv)) {
      report_rv("sendMsg", rv);
      bench_fail("%s", "send failed");
    }
  }
}

static void echo_ping(void) {
  clock_gettime(CLOCK_MONOTONIC, &g_b.ping_at);
  nsresult rv = send_binary(g_b.payload, g_b.size);
  if (NS_FAILED(rv)) {
    report_rv("sendBinaryMsg", rv);
    bench_fail("%s", "send failed");
  }
}

/* ---- the listener ------------------------------------------------------- */

static nsresult l_QueryInterface(nsIWebSocketListener *self, const nsIID *iid,
                                 void **result) {
  static const xpcom_qi_entry table[] = {
      XPCOM_QI_ENTRY(bench, listener, nsIWebSocketListener_IID),
      XPCOM_QI_END};
  return xpcom_table_qi(XPCOM_CONTAINER_OF(self, bench, listener), table,
                        iid, result);
}

/* A static object: the channel's references need no counting. */
static nsrefcnt l_AddRef(nsIWebSocketListener *self) { return 2; }
static nsrefcnt l_Release(nsIWebSocketListener *self) { return 1; }

static nsresult l_OnStart(nsIWebSocketListener *self, nsISupports *ctx) {
  g_b.started = true;
  clock_gettime(CLOCK_MONOTONIC, &g_b.t0);
  if (g_b.w == W_SEND)
    send_more();
  else if (g_b.w == W_ECHO)
    echo_ping();
  return NS_OK;
}

static nsresult l_OnStop(nsIWebSocketListener *self, nsISupports *ctx,
                         nsresult status) {
  g_b.stopped = true;
  g_b.status = status;
  return NS_OK;
}

static void on_message(bool binary, const nsACString *msg) {
  const char *data;
  uint32_t len = xpcom_cstring_get(msg, &data);
  if (g_b.failed || g_b.done)
    return;
  switch (g_b.w) {
  case W_RECV_BINARY:
  case W_RECV_TEXT:
    if (binary != (g_b.w == W_RECV_BINARY) || len != g_b.size) {
      bench_fail("%s", "unexpected message type or size");
      return;
    }
    g_b.msgs++;
    g_b.bytes += len;
    if (g_b.msgs == g_b.count) {
      clock_gettime(CLOCK_MONOTONIC, &g_b.t1);
      g_b.done = true; /* the server's Close 1000 follows */
    }
    return;
  case W_SEND: {
    /* The server's "<messages> <bytes>". */
    char text[64];
    unsigned long long m, b;
    clock_gettime(CLOCK_MONOTONIC, &g_b.t1);
    if (binary || len >= sizeof text) {
      bench_fail("%s", "unexpected reply from the sink");
      return;
    }
    memcpy(text, data, len);
    text[len] = '\0';
    if (sscanf(text, "%llu %llu", &m, &b) != 2) {
      bench_fail("unexpected reply from the sink: %s", text);
      return;
    }
    g_b.msgs = m;
    g_b.bytes = b;
    g_b.done = true;
    bench_close();
    return;
  }
  case W_ECHO: {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!binary || len != g_b.size) {
      bench_fail("%s", "unexpected echo");
      return;
    }
    g_b.rtt_ns[g_b.msgs++] = ns_between(&g_b.ping_at, &now);
    g_b.bytes += len;
    if (g_b.msgs == g_b.count) {
      g_b.t1 = now;
      g_b.done = true;
      bench_close();
    } else {
      echo_ping();
    }
    return;
  }
  }
}

static nsresult l_OnMessage(nsIWebSocketListener *self, nsISupports *ctx,
                            const nsACString *msg) {
  on_message(false, msg);
  return NS_OK;
}

static nsresult l_OnBinaryMessage(nsIWebSocketListener *self,
                                  nsISupports *ctx, const nsACString *msg) {
  on_message(true, msg);
  return NS_OK;
}

static nsresult l_OnAcknowledge(nsIWebSocketListener *self, nsISupports *ctx,
                                PRUint32 size) {
  if (g_b.w != W_SEND || g_b.unacked_msgs == 0)
    return NS_OK; /* "done", or an echo ping */
  g_b.unacked_msgs--;
  g_b.unacked_bytes -= size <= g_b.unacked_bytes ? size : g_b.unacked_bytes;
  send_more();
  return NS_OK;
}

static nsresult l_OnServerClose(nsIWebSocketListener *self, nsISupports *ctx,
                                uint16_t code, const nsACString *reason) {
  if (code != nsIWebSocketChannel_CLOSE_NORMAL) {
    char c[16];
    snprintf(c, sizeof c, "%u", code);
    bench_fail("the server closed with code %s", c);
  }
  return NS_OK;
}

static const nsIWebSocketListenerVtbl kListenerVtbl = {
    .QueryInterface = l_QueryInterface,
    .AddRef = l_AddRef,
    .Release = l_Release,
    .OnStart = l_OnStart,
    .OnStop = l_OnStop,
    .OnMessageAvailable = l_OnMessage,
    .OnBinaryMessageAvailable = l_OnBinaryMessage,
    .OnAcknowledge = l_OnAcknowledge,
    .OnServerClose = l_OnServerClose,
};

/* ---- the run -------------------------------------------------------------- */

/* URL + "?count=N&size=S" (or "&..." when URL has a query); malloc'd. */
static char *bench_url(const char *url, uint64_t count, uint64_t size) {
  size_t n = strlen(url) + 64;
  char *u = malloc(n);
  if (u)
    snprintf(u, n, "%s%ccount=%" PRIu64 "&size=%" PRIu64, url,
             strchr(url, '?') ? '&' : '?', count, size);
  return u;
}

/* Opens the channel; NS_OK when onStop will follow. */
static nsresult bench_open(nsIServiceManager *sm, const char *url) {
  nsIComponentManager *cm = NULL;
  nsIIOService *io = NULL;
  nsIURI *uri = NULL;
  nsCStringContainer spec, origin;
  NS_CStringContainerInit2(&spec, url, UINT32_MAX, 0);
  NS_CStringContainerInit(&origin);
  nsresult rv = NS_GetComponentManager(&cm);
  if (NS_SUCCEEDED(rv))
    rv = nsIServiceManager_GetServiceByContractID(
        sm, IOSERVICE_CONTRACT, &nsIIOService_IID, (void **)&io);
  if (NS_FAILED(rv)) {
    report_rv("the WebSocket component is not registered (install it, or "
              "name its manifest in WSCHANNEL_MANIFEST)",
              rv);
    goto out;
  }
  rv = nsIIOService_NewURI(io, &spec, NULL, NULL, &uri);
  if (NS_FAILED(rv)) {
    report_rv(url, rv);
    goto out;
  }
  const char *contract = strncmp(url, "wss:", 4) == 0 ? WSS_CONTRACT
                                                      : WS_CONTRACT;
  rv = nsIComponentManager_CreateInstanceByContractID(
      cm, contract, NULL, &nsIWebSocketChannel_IID, (void **)&g_b.channel);
  if (NS_SUCCEEDED(rv))
    rv = nsIWebSocketChannel_AsyncOpen(g_b.channel, uri, &origin,
                                       &g_b.listener, NULL);
  if (NS_FAILED(rv)) {
    report_rv(url, rv);
    NS_IF_RELEASE(g_b.channel);
  }
out:
  NS_IF_RELEASE(uri);
  NS_IF_RELEASE(io);
  NS_IF_RELEASE(cm);
  NS_CStringContainerFinish(&spec);
  NS_CStringContainerFinish(&origin);
  return rv;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static void print_result(void) {
  double secs = (double)ns_between(&g_b.t0, &g_b.t1) / 1e9;
  printf("{\"msgs\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"seconds\": %.6f",
         g_b.msgs, g_b.bytes, secs);
  if (g_b.w == W_ECHO) {
    qsort(g_b.rtt_ns, g_b.count, sizeof *g_b.rtt_ns, cmp_u64);
    printf(", \"rtt_p50_us\": %.3f, \"rtt_p99_us\": %.3f",
           (double)g_b.rtt_ns[g_b.count / 2] / 1e3,
           (double)g_b.rtt_ns[g_b.count * 99 / 100] / 1e3);
  }
  printf("}\n");
  fflush(stdout);
}

/* A decimal integer in [lo, hi], or false. */
static bool parse_u64(const char *s, uint64_t lo, uint64_t hi,
                      uint64_t *out) {
  char *end;
  if (!s[0] || s[0] == '-' || s[0] == '+')
    return false;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end || v < lo || v > hi)
    return false;
  *out = v;
  return true;
}

void wschannel_bench_usage(FILE *out) {
  fputs("usage: wschannel bench URL WORKLOAD COUNT SIZE\n"
        "  WORKLOAD: recv-binary | recv-text | send-binary | echo\n",
        out);
}

int wschannel_bench_main(int argc, char **argv) {
  if (argc != 4) {
    wschannel_bench_usage(stderr);
    return BENCH_USAGE;
  }
  memset(&g_b, 0, sizeof g_b);
  g_b.listener.vtbl = &kListenerVtbl;
  size_t wi = 0;
  while (wi < 4 && strcmp(argv[1], kWorkloads[wi]) != 0)
    wi++;
  if (wi == 4) {
    fprintf(stderr, PROG ": unknown workload '%s'\n", argv[1]);
    wschannel_bench_usage(stderr);
    return BENCH_WORKLOAD;
  }
  g_b.w = (workload)wi;
  /* Messages are at most INT32_MAX bytes (max-message-size). */
  if (!parse_u64(argv[2], 1, UINT64_MAX / 2, &g_b.count) ||
      !parse_u64(argv[3], 0, INT32_MAX, &g_b.size)) {
    fprintf(stderr, PROG ": COUNT must be an integer >= 1 and SIZE one in "
                    "[0, 2147483647]\n");
    return BENCH_USAGE;
  }
  g_b.window = DEFAULT_WINDOW;
  const char *win = getenv("WSCHANNEL_BENCH_WINDOW");
  if (win && !parse_u64(win, 1, UINT64_MAX / 4, &g_b.window)) {
    fprintf(stderr, PROG ": bad WSCHANNEL_BENCH_WINDOW '%s'\n", win);
    return BENCH_USAGE;
  }
  if (g_b.w == W_SEND || g_b.w == W_ECHO) {
    g_b.payload = malloc(g_b.size ? g_b.size : 1);
    if (g_b.payload)
      memset(g_b.payload, 'x', g_b.size);
  }
  if (g_b.w == W_ECHO) {
    g_b.rtt_ns = g_b.count <= SIZE_MAX / sizeof(uint64_t)
                     ? malloc(g_b.count * sizeof(uint64_t))
                     : NULL;
  }
  char *url = bench_url(argv[0], g_b.count, g_b.size);
  if (!url || ((g_b.w == W_SEND || g_b.w == W_ECHO) &&
               (!g_b.payload || (g_b.w == W_ECHO && !g_b.rtt_ns)))) {
    fprintf(stderr, PROG ": out of memory\n");
    free(url);
    free(g_b.payload);
    free(g_b.rtt_ns);
    return BENCH_FAIL;
  }

  int status = BENCH_FAIL;
  nsIServiceManager *sm = NULL;
  nsresult rv = NS_InitXPCOM2(&sm, NULL, NULL);
  if (NS_FAILED(rv)) {
    report_rv("cannot start XPCOM", rv);
  } else if (NS_SUCCEEDED(bench_open(sm, url))) {
    while (!g_b.stopped)
      NS_ProcessNextEvent(NULL, true);
    if (NS_FAILED(g_b.status) && !g_b.failed) {
      report_rv(g_b.started ? "connection failed" : "cannot connect",
                g_b.status);
      g_b.failed = true;
    }
    if (!g_b.failed && !g_b.done) {
      fprintf(stderr,
              PROG ": the connection ended after %" PRIu64 " of %" PRIu64
                   " messages\n",
              g_b.msgs, g_b.count);
      g_b.failed = true;
    }
    if (!g_b.failed) {
      print_result();
      status = BENCH_OK;
    }
  }
  NS_IF_RELEASE(g_b.channel);
  if (sm) {
    NS_ShutdownXPCOM(sm);
    if (XPCOM_LeakLiveCount() != 0) {
      fprintf(stderr, PROG ": XPCOM reported leaked objects\n");
      status = BENCH_FAIL;
    }
  }
  free(url);
  free(g_b.payload);
  free(g_b.rtt_ns);
  return status;
}

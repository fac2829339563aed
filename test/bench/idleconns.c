/*
 * idleconns.c — memory per open connection, for `make bench`: one process
 * (a host of the component, like bin/wschannel) opens N ws:// channels to
 * benchserver's /echo, each echoes one 32-byte message, and the resident
 * set is read from /proc/self/statm.
 *
 * usage: idleconns URL N
 * Prints one JSON line:
 *   {"conns": N, "rss_base_kib": R0, "rss_kib": R1, "bytes_per_conn": B,
 *    "open_seconds": S}
 * where R0 is the RSS with the first K = max(1, N/10) connections open and
 * echoed, R1 with all N, and B = (R1 - R0) / (N - K): the marginal cost of an
 * idle connection (channel, connection, buffers, the host's listener), free
 * of the process's fixed cost. Raises RLIMIT_NOFILE toward the hard limit;
 * exits 1 with a clear message when N connections cannot fit. Exit 2 usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "nsError.h"
#include "nsXPCOM.h"
#include "nsXPCOMStrings.h"
#include "xpcom_object.h"
#include "xpcom_prefs.h"
#include "xpcom_thread.h"

#include "nsIComponentManager.h"
#include "nsIIOService.h"
#include "nsIServiceManager.h"
#include "nsIURI.h"
#include "nsIWebSocketChannel.h"
#include "nsIWebSocketListener.h"

#define ECHO_SIZE 32

typedef struct idle_conn {
  nsIWebSocketListener listener; /* static storage: no refcounting */
  nsIWebSocketChannel *channel;
  bool started, echoed, stopped;
  nsresult status;
} idle_conn;

static uint32_t g_started, g_echoed, g_stopped, g_failed;
static char g_payload[ECHO_SIZE];

static idle_conn *from(nsIWebSocketListener *l) {
  return XPCOM_CONTAINER_OF(l, idle_conn, listener);
}

static nsresult l_QueryInterface(nsIWebSocketListener *self, const nsIID *iid,
                                 void **result) {
  static const xpcom_qi_entry table[] = {
      XPCOM_QI_ENTRY(idle_conn, listener, nsIWebSocketListener_IID),
      XPCOM_QI_END};
  return xpcom_table_qi(from(self), table, iid, result);
}
static nsrefcnt l_AddRef(nsIWebSocketListener *self) { return 2; }
static nsrefcnt l_Release(nsIWebSocketListener *self) { return 1; }

static nsresult l_OnStart(nsIWebSocketListener *self, nsISupports *ctx) {
  idle_conn *c = from(self);
  c->started = true;
  g_started++;
  nsCStringContainer msg;
  NS_CStringContainerInit2(&msg, g_payload, ECHO_SIZE,
                           NS_CSTRING_CONTAINER_INIT_DEPEND |
                               NS_CSTRING_CONTAINER_INIT_SUBSTRING);
  if (NS_FAILED(nsIWebSocketChannel_SendBinaryMsg(c->channel, &msg)))
    g_failed++;
  NS_CStringContainerFinish(&msg);
  return NS_OK;
}

static nsresult l_OnStop(nsIWebSocketListener *self, nsISupports *ctx,
                         nsresult status) {
  idle_conn *c = from(self);
  c->stopped = true;
  c->status = status;
  g_stopped++;
  if (NS_FAILED(status))
    g_failed++;
  return NS_OK;
}

static nsresult l_OnMessage(nsIWebSocketListener *self, nsISupports *ctx,
                            const nsACString *msg) {
  g_failed++; /* the echo of a binary message is binary */
  return NS_OK;
}

static nsresult l_OnBinaryMessage(nsIWebSocketListener *self,
                                  nsISupports *ctx, const nsACString *msg) {
  idle_conn *c = from(self);
  const char *data;
  if (xpcom_cstring_get(msg, &data) != ECHO_SIZE || c->echoed)
    g_failed++;
  c->echoed = true;
  g_echoed++;
  return NS_OK;
}

static nsresult l_OnAcknowledge(nsIWebSocketListener *self, nsISupports *ctx,
                                PRUint32 size) {
  return NS_OK;
}

static nsresult l_OnServerClose(nsIWebSocketListener *self, nsISupports *ctx,
                                uint16_t code, const nsACString *reason) {
  return NS_OK;
}

static const nsIWebSocketListenerVtbl kVtbl = {
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

static long rss_kib(void) {
  long pages_total, pages_rss;
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f)
    return -1;
  int n = fscanf(f, "%ld %ld", &pages_total, &pages_rss);
  fclose(f);
  return n == 2 ? pages_rss * (sysconf(_SC_PAGESIZE) / 1024) : -1;
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Opens conns[from, to) and runs events until each has echoed or stopped. */
static int open_range(nsIComponentManager *cm, nsIURI *uri, idle_conn *conns,
                      uint32_t from_i, uint32_t to_i) {
  nsCStringContainer origin;
  NS_CStringContainerInit(&origin);
  for (uint32_t i = from_i; i < to_i; i++) {
    idle_conn *c = &conns[i];
    c->listener.vtbl = &kVtbl;
    nsresult rv = nsIComponentManager_CreateInstanceByContractID(
        cm, "@mozilla.org/network/protocol;1?name=ws", NULL,
        &nsIWebSocketChannel_IID, (void **)&c->channel);
    if (NS_SUCCEEDED(rv))
      rv = nsIWebSocketChannel_AsyncOpen(c->channel, uri, &origin,
                                         &c->listener, NULL);
    if (NS_FAILED(rv)) {
      char buf[XPCOM_ERROR_FORMAT_MAX];
      XPCOM_FormatError(rv, buf, sizeof buf);
      fprintf(stderr, "idleconns: connection %u: %s\n", i, buf);
      NS_IF_RELEASE(c->channel);
      c->stopped = true;
      g_stopped++;
      g_failed++;
    }
    /* Keep the main queue short while opening many. */
    if ((i & 255) == 255)
      NS_ProcessPendingEvents(NULL);
  }
  NS_CStringContainerFinish(&origin);
  for (;;) {
    uint32_t waiting = 0;
    for (uint32_t i = from_i; i < to_i; i++)
      waiting += !conns[i].echoed && !conns[i].stopped;
    if (!waiting)
      break;
    NS_ProcessNextEvent(NULL, true);
  }
  return g_failed ? -1 : 0;
}

int main(int argc, char **argv) {
  char *end = NULL;
  unsigned long n = argc == 3 ? strtoul(argv[2], &end, 10) : 0;
  if (argc != 3 || !end || *end || n < 2 || n > 1000000) {
    fprintf(stderr, "usage: idleconns ws://HOST:PORT/echo N (N >= 2)\n");
    return 2;
  }
  memset(g_payload, 'i', sizeof g_payload);
  /* Each connection is one descriptor; keep 64 for the runtime. */
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < n + 64) {
    rlim_t want = n + 64;
    rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
    (void)getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < want) {
      fprintf(stderr,
              "idleconns: %lu connections need %lu descriptors but "
              "RLIMIT_NOFILE allows %llu (hard limit %llu); raise it "
              "(ulimit -Hn, as root) or use fewer\n",
              n, n + 64, (unsigned long long)rl.rlim_cur,
              (unsigned long long)rl.rlim_max);
      return 1;
    }
  }
  idle_conn *conns = calloc(n, sizeof *conns);
  if (!conns)
    return 1;
  int status = 1;
  nsIServiceManager *sm = NULL;
  nsIComponentManager *cm = NULL;
  nsIIOService *io = NULL;
  nsIURI *uri = NULL;
  nsCStringContainer spec;
  NS_CStringContainerInit2(&spec, argv[1], UINT32_MAX, 0);
  nsresult rv = NS_InitXPCOM2(&sm, NULL, NULL);
  if (NS_SUCCEEDED(rv))
    rv = NS_GetComponentManager(&cm);
  if (NS_SUCCEEDED(rv))
    rv = nsIServiceManager_GetServiceByContractID(
        sm, "@mozilla.org/network/io-service;1", &nsIIOService_IID,
        (void **)&io);
  if (NS_SUCCEEDED(rv))
    rv = nsIIOService_NewURI(io, &spec, NULL, NULL, &uri);
  if (NS_FAILED(rv)) {
    char buf[XPCOM_ERROR_FORMAT_MAX];
    XPCOM_FormatError(rv, buf, sizeof buf);
    fprintf(stderr, "idleconns: cannot start: %s\n", buf);
    goto done;
  }
  /* Gecko's session limit (200) and open timeout (20 s, counted while the
   * admission queue makes later handshakes wait) are host settings. */
  xpcom_prefs_set_int("network.websocket.max-connections", (int32_t)n + 16);
  xpcom_prefs_set_int("network.websocket.timeout.open", 600);
  xpcom_prefs_set_bool("network.websocket.extensions.permessage-deflate",
                       false);

  uint32_t k = (uint32_t)(n / 10 ? n / 10 : 1);
  double t0 = now_s();
  if (open_range(cm, uri, conns, 0, k) != 0)
    goto fail;
  long r0 = rss_kib();
  if (open_range(cm, uri, conns, k, (uint32_t)n) != 0)
    goto fail;
  double t1 = now_s();
  long r1 = rss_kib();
  printf("{\"conns\": %lu, \"rss_base_kib\": %ld, \"rss_kib\": %ld, "
         "\"bytes_per_conn\": %.0f, \"open_seconds\": %.3f}\n",
         n, r0, r1, (double)(r1 - r0) * 1024.0 / (double)(n - k), t1 - t0);
  fflush(stdout);
  status = 0;
fail:
  if (status != 0)
    fprintf(stderr,
            "idleconns: %u failures (%u started, %u echoed, %u stopped of "
            "%lu)\n",
            g_failed, g_started, g_echoed, g_stopped, n);
  /* Close them all and wait for every onStop. */
  {
    nsCStringContainer reason;
    NS_CStringContainerInit(&reason);
    for (unsigned long i = 0; i < n; i++)
      if (conns[i].channel && !conns[i].stopped)
        (void)nsIWebSocketChannel_Close(conns[i].channel, 1000, &reason);
    NS_CStringContainerFinish(&reason);
    while (g_stopped < n)
      NS_ProcessNextEvent(NULL, true);
  }
done:
  for (unsigned long i = 0; i < n; i++)
    NS_IF_RELEASE(conns[i].channel);
  NS_IF_RELEASE(uri);
  NS_IF_RELEASE(io);
  NS_IF_RELEASE(cm);
  NS_CStringContainerFinish(&spec);
  if (sm)
    NS_ShutdownXPCOM(sm);
  free(conns);
  return status;
}

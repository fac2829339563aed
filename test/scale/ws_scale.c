/*
 * ws_scale.c — many concurrent ws:// connections on the one socket thread,
 * through the component only as a host uses it: contract ID,
 * nsIWebSocketChannel, a C listener on the main thread's event queue.
 *
 * usage: ws_scale [--count N] [--size BYTES] [--url URL] [--server PATH]
 *                 [--timeout SECONDS]
 *   Opens N channels (default 1000) to URL, or to a scale_server it starts
 *   itself (PATH, else $SCALE_SERVER, else the build tree's); each sends
 *   one text message of BYTES bytes (default 32) when it opens and must get
 *   it back unchanged. Once all N have echoed (all open at the same time)
 *   the resident set is read; then all are closed (Close 1000) and every
 *   onStop must report NS_OK, exactly once and last. XPCOM is shut down and
 *   must report no leaked object.
 *
 *   SECONDS (default 300) bounds the open-and-echo phase, which stops at
 *   the first failure; the close phase has 120 s of its own.
 *
 *   Raises RLIMIT_NOFILE toward the hard limit first; exits 1 with a clear
 *   message when N connections cannot fit. Exit status: 0 all good, 1 a
 *   failure (described on stderr), 2 usage.
 *
 * Prints one JSON line on stdout:
 *   {"connections": N, "size": S, "open_echo_seconds": A,
 *    "close_seconds": B, "total_seconds": C, "rss_before_kib": R0,
 *    "rss_open_kib": R1, "rss_per_connection_bytes": P}
 * A: from the first asyncOpen to the N-th echo; B: from the first close()
 * to the N-th onStop; P = (R1 - R0) / N with R0 read just before the first
 * asyncOpen (after XPCOM and the component are loaded). VmRSS comes from
 * /proc/self/status.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nsError.h"
#include "nsXPCOM.h"
#include "nsXPCOMStrings.h"
#include "xpcom_object.h"
#include "xpcom_prefs.h"
#include "xpcom_thread.h" /* before the generated headers (C natives) */

#include "nsIComponentManager.h"
#include "nsIIOService.h"
#include "nsIServiceManager.h"
#include "nsIURI.h"
#include "nsIWebSocketChannel.h"
#include "nsIWebSocketListener.h"

#ifndef SCALE_SERVER_PATH
#define SCALE_SERVER_PATH "scale_server"
#endif
#ifndef SCALE_MANIFEST_PATH
#define SCALE_MANIFEST_PATH ""
#endif

/* Descriptors the process needs besides one per connection. */
#define FD_RESERVE 64u
#define MAX_CONNECTIONS 65535u /* network.websocket.max-connections clamp */
#define CLOSE_DEADLINE_MS 120000u

/* ---- one connection's listener ------------------------------------------ */

typedef struct sconn {
  nsIWebSocketListener listener; /* identity */
  uint32_t refcnt;               /* references the channel holds */
  uint32_t index;
  nsIWebSocketChannel *channel;  /* ours */
  uint8_t starts, echoes, stops, bad; /* call counts; bad: wrong data/order */
  nsresult status;
} sconn;

static sconn *g_conns;
static uint32_t g_n;
static size_t g_size;
static uint32_t g_started, g_echoed, g_stopped, g_failures;
static bool g_deadline_passed;

static sconn *from(nsIWebSocketListener *l) {
  return XPCOM_CONTAINER_OF(l, sconn, listener);
}

/* The message of connection i: its index, padded to g_size bytes. */
static void make_message(uint32_t i, char *buf) {
  int n = snprintf(buf, g_size + 1, "scale %u ", i);
  for (size_t k = (size_t)n; k < g_size; k++)
    buf[k] = (char)('a' + (k + i) % 26);
  buf[g_size] = '\0';
}

static void failure(sconn *c, const char *what) {
  if (g_failures++ < 10)
    fprintf(stderr, "ws_scale: connection %u: %s\n", c->index, what);
  c->bad = 1;
}

static nsresult l_QueryInterface(nsIWebSocketListener *self, const nsIID *iid,
                                 void **result) {
  static const xpcom_qi_entry table[] = {
      XPCOM_QI_ENTRY(sconn, listener, nsIWebSocketListener_IID), XPCOM_QI_END};
  return xpcom_table_qi(from(self), table, iid, result);
}

/* The connections array owns the listeners; counting references still
 * shows that the channel lets go of its listener after onStop. */
static nsrefcnt l_AddRef(nsIWebSocketListener *self) {
  return ++from(self)->refcnt;
}
static nsrefcnt l_Release(nsIWebSocketListener *self) {
  return --from(self)->refcnt;
}

static nsresult l_OnStart(nsIWebSocketListener *self, nsISupports *ctx) {
  sconn *c = from(self);
  if (c->starts++ || c->stops || c->echoes)
    failure(c, "onStart out of order");
  g_started++;
  char *msg = malloc(g_size + 1);
  if (!msg) {
    failure(c, "out of memory");
    return NS_OK;
  }
  make_message(c->index, msg);
  nsCStringContainer s;
  NS_CStringContainerInit2(&s, msg, (uint32_t)g_size,
                           NS_CSTRING_CONTAINER_INIT_DEPEND);
  nsresult rv = nsIWebSocketChannel_SendMsg(c->channel, &s);
  NS_CStringContainerFinish(&s);
  free(msg);
  if (NS_FAILED(rv))
    failure(c, "sendMsg failed");
  return NS_OK;
}

static nsresult l_OnStop(nsIWebSocketListener *self, nsISupports *ctx,
                         nsresult status) {
  sconn *c = from(self);
  if (c->stops++)
    failure(c, "onStop twice");
  c->status = status;
  g_stopped++;
  if (status != NS_OK) {
    char buf[XPCOM_ERROR_FORMAT_MAX], what[XPCOM_ERROR_FORMAT_MAX + 32];
    XPCOM_FormatError(status, buf, sizeof buf);
    snprintf(what, sizeof what, "onStop(%s)", buf);
    failure(c, what);
  }
  return NS_OK;
}

static nsresult l_OnMessage(nsIWebSocketListener *self, nsISupports *ctx,
                            const nsACString *msg) {
  sconn *c = from(self);
  const char *data = NULL;
  uint32_t len = xpcom_cstring_get(msg, &data);
  char *want = malloc(g_size + 1);
  if (!want) {
    failure(c, "out of memory");
    return NS_OK;
  }
  make_message(c->index, want);
  if (len != g_size || memcmp(data, want, g_size) != 0)
    failure(c, "the echo differs from what was sent");
  free(want);
  if (c->echoes++ || !c->starts || c->stops)
    failure(c, "message out of order");
  else
    g_echoed++;
  return NS_OK;
}

static nsresult l_OnBinaryMessage(nsIWebSocketListener *self,
                                  nsISupports *ctx, const nsACString *msg) {
  failure(from(self), "binary message (a text echo was expected)");
  return NS_OK;
}

static nsresult l_OnAcknowledge(nsIWebSocketListener *self, nsISupports *ctx,
                                PRUint32 size) {
  if (size != g_size)
    failure(from(self), "onAcknowledge with another size");
  return NS_OK;
}

static nsresult l_OnServerClose(nsIWebSocketListener *self, nsISupports *ctx,
                                uint16_t code, const nsACString *reason) {
  return NS_OK;
}

static const nsIWebSocketListenerVtbl k_listener_vtbl = {
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

/* ---- process helpers ------------------------------------------------------ */

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* VmRSS in KiB from /proc/self/status, -1 if unreadable. */
static long vm_rss_kib(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f)
    return -1;
  char line[256];
  long kib = -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
      break;
  fclose(f);
  return kib;
}

/* RLIMIT_NOFILE up to what n connections need, as far as the hard limit
 * allows (and beyond it where the process may raise it). */
static bool raise_fd_limit(uint32_t n) {
  rlim_t want = (rlim_t)n + FD_RESERVE;
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return false;
  if (rl.rlim_cur >= want)
    return true;
  struct rlimit up = {want, rl.rlim_max > want ? rl.rlim_max : want};
  if (setrlimit(RLIMIT_NOFILE, &up) != 0) { /* not allowed past the hard limit */
    up.rlim_cur = rl.rlim_max;
    up.rlim_max = rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &up);
  }
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur >= want)
    return true;
  fprintf(stderr,
          "ws_scale: %u connections need %llu descriptors, but RLIMIT_NOFILE "
          "allows only %llu (hard limit %llu); raise the hard limit "
          "(ulimit -Hn, as root, or limits.conf) or ask for at most %llu "
          "connections\n",
          n, (unsigned long long)want, (unsigned long long)rl.rlim_cur,
          (unsigned long long)rl.rlim_max,
          rl.rlim_max > FD_RESERVE
              ? (unsigned long long)(rl.rlim_max - FD_RESERVE)
              : 0ull);
  return false;
}

typedef struct server {
  pid_t pid;
  int in_fd; /* its stdin: closing it stops it */
  char url[256];
} server;

static bool server_start(server *s, const char *path) {
  int in[2], out[2];
  if (pipe(in) != 0)
    return false;
  if (pipe(out) != 0) {
    close(in[0]);
    close(in[1]);
    return false;
  }
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
    execl(path, path, (char *)NULL);
    fprintf(stderr, "ws_scale: cannot run %s: %s\n", path, strerror(errno));
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  s->pid = pid;
  s->in_fd = in[1];
  /* Its first line is the URL. */
  size_t len = 0;
  char ch;
  while (len + 1 < sizeof s->url && read(out[0], &ch, 1) == 1 && ch != '\n')
    s->url[len++] = ch;
  s->url[len] = '\0';
  close(out[0]);
  if (strncmp(s->url, "ws://", 5) != 0) {
    fprintf(stderr, "ws_scale: %s did not start (it printed \"%s\")\n", path,
            s->url);
    return false;
  }
  return true;
}

static void server_stop(server *s) {
  if (s->pid <= 0)
    return;
  close(s->in_fd);
  int st;
  for (int i = 0; i < 200; i++) { /* 2 s to leave on stdin's EOF */
    if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
      s->pid = 0;
      return;
    }
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  kill(s->pid, SIGTERM);
  waitpid(s->pid, &st, 0);
  s->pid = 0;
}

/* ---- the run --------------------------------------------------------------- */

static void deadline_fired(nsITimer *timer, void *closure) {
  g_deadline_passed = true;
}

/* Runs main-thread events until *counter reaches `target`, the deadline
 * passes, or (when fail_fast) a problem was reported. */
static bool run_until(const uint32_t *counter, uint32_t target,
                      bool fail_fast) {
  while (*counter < target && !g_deadline_passed &&
         !(fail_fast && g_failures))
    NS_ProcessNextEvent(NULL, true);
  return *counter >= target;
}

static void usage(void) {
  fprintf(stderr, "usage: ws_scale [--count N] [--size BYTES] [--url URL] "
                  "[--server PATH] [--timeout SECONDS]\n");
}

int main(int argc, char **argv) {
  unsigned long n = 1000, size = 32, timeout_s = 300;
  const char *url = NULL;
  const char *server_path = getenv("SCALE_SERVER");
  if (!server_path || !*server_path)
    server_path = SCALE_SERVER_PATH;
  for (int i = 1; i < argc; i++) {
    char *end = NULL;
    if (i + 1 >= argc) {
      usage();
      return 2;
    }
    if (strcmp(argv[i], "--count") == 0)
      n = strtoul(argv[++i], &end, 10);
    else if (strcmp(argv[i], "--size") == 0)
      size = strtoul(argv[++i], &end, 10);
    else if (strcmp(argv[i], "--timeout") == 0)
      timeout_s = strtoul(argv[++i], &end, 10);
    else if (strcmp(argv[i], "--url") == 0)
      url = argv[++i];
    else if (strcmp(argv[i], "--server") == 0)
      server_path = argv[++i];
    else {
      usage();
      return 2;
    }
    if (end && *end) {
      usage();
      return 2;
    }
  }
  if (n < 1 || n > MAX_CONNECTIONS || size < 16 || size > (1u << 20) ||
      timeout_s < 1 || timeout_s > 86400) {
    fprintf(stderr, "ws_scale: need 1 <= N <= %u, 16 <= BYTES <= 1048576, "
                    "1 <= SECONDS <= 86400\n",
            MAX_CONNECTIONS);
    return 2;
  }
  g_n = (uint32_t)n;
  g_size = size;
  if (!raise_fd_limit(g_n))
    return 1;
  /* Build-tree manifest unless the caller named one. */
  if (!getenv("WSCHANNEL_MANIFEST") && *SCALE_MANIFEST_PATH)
    setenv("WSCHANNEL_MANIFEST", SCALE_MANIFEST_PATH, 1);

  server srv = {0, -1, ""};
  if (!url) {
    if (!server_start(&srv, server_path)) {
      server_stop(&srv);
      return 1;
    }
    url = srv.url;
  }
  g_conns = calloc(g_n, sizeof *g_conns);
  if (!g_conns) {
    server_stop(&srv);
    return 1;
  }

  int status = 1;
  nsIServiceManager *sm = NULL;
  nsIComponentManager *cm = NULL;
  nsIIOService *io = NULL;
  nsIURI *uri = NULL;
  nsITimer *deadline = NULL;
  nsCStringContainer spec, origin, reason;
  NS_CStringContainerInit2(&spec, url, UINT32_MAX, 0);
  NS_CStringContainerInit(&origin);
  NS_CStringContainerInit(&reason);
  nsresult rv = NS_InitXPCOM2(&sm, NULL, NULL);
  if (NS_SUCCEEDED(rv))
    rv = NS_GetComponentManager(&cm);
  if (NS_SUCCEEDED(rv))
    rv = nsIServiceManager_GetServiceByContractID(
        sm, "@mozilla.org/network/io-service;1", &nsIIOService_IID,
        (void **)&io);
  if (NS_SUCCEEDED(rv))
    rv = nsIIOService_NewURI(io, &spec, NULL, NULL, &uri);
  if (NS_SUCCEEDED(rv)) {
    /* The session limit (200 by default) and the open timeout (20 s,
     * counted from asyncOpen, while RFC 6455 §4.1 queues every handshake
     * to the one address behind the previous one) are host settings. */
    rv = xpcom_prefs_set_int("network.websocket.max-connections", (int32_t)g_n);
    if (NS_SUCCEEDED(rv))
      rv = xpcom_prefs_set_int("network.websocket.timeout.open", 1800);
    if (NS_SUCCEEDED(rv))
      rv = xpcom_prefs_set_bool("network.websocket.extensions.permessage-deflate",
                                false);
  }
  if (NS_SUCCEEDED(rv)) {
    /* Load the component before the first RSS reading. */
    nsIWebSocketChannel *warm = NULL;
    rv = nsIComponentManager_CreateInstanceByContractID(
        cm, "@mozilla.org/network/protocol;1?name=ws", NULL,
        &nsIWebSocketChannel_IID, (void **)&warm);
    NS_IF_RELEASE(warm);
  }
  if (NS_SUCCEEDED(rv))
    rv = xpcom_timer_arm(&deadline, (uint32_t)timeout_s * 1000u, 0,
                         deadline_fired, NULL);
  if (NS_FAILED(rv)) {
    char buf[XPCOM_ERROR_FORMAT_MAX];
    XPCOM_FormatError(rv, buf, sizeof buf);
    fprintf(stderr, "ws_scale: cannot start: %s\n", buf);
    goto done;
  }

  long rss0 = vm_rss_kib();
  double t0 = now_s();
  uint32_t opened = 0;
  for (uint32_t i = 0; i < g_n; i++) {
    sconn *c = &g_conns[i];
    c->listener.vtbl = &k_listener_vtbl;
    c->index = i;
    rv = nsIComponentManager_CreateInstanceByContractID(
        cm, "@mozilla.org/network/protocol;1?name=ws", NULL,
        &nsIWebSocketChannel_IID, (void **)&c->channel);
    if (NS_SUCCEEDED(rv))
      rv = nsIWebSocketChannel_AsyncOpen(c->channel, uri, &origin,
                                         &c->listener, NULL);
    if (NS_FAILED(rv)) {
      char buf[XPCOM_ERROR_FORMAT_MAX], what[XPCOM_ERROR_FORMAT_MAX + 32];
      XPCOM_FormatError(rv, buf, sizeof buf);
      snprintf(what, sizeof what, "asyncOpen: %s", buf);
      failure(c, what);
      NS_IF_RELEASE(c->channel);
      break;
    }
    opened++;
    /* Let early connections make progress while the rest are created. */
    if ((i & 255) == 255)
      NS_ProcessPendingEvents(NULL);
  }
  bool all_echoed = opened == g_n && run_until(&g_echoed, g_n, true);
  double t1 = now_s();
  long rss1 = vm_rss_kib();
  /* Every connection must still be open here: N at the same time. */
  bool all_open = all_echoed && g_stopped == 0;
  if (!all_echoed)
    fprintf(stderr,
            "ws_scale: %u of %u connections echoed (%u opened, %u started, "
            "%u stopped)%s\n",
            g_echoed, g_n, opened, g_started, g_stopped,
            g_deadline_passed ? " before the deadline"
                              : g_failures ? "; stopped waiting at the first failure"
                                           : "");
  else if (!all_open)
    fprintf(stderr, "ws_scale: %u connections stopped before the close\n",
            g_stopped);

  /* The close gets its own deadline (a failed open phase used its own). */
  g_deadline_passed = false;
  if (NS_FAILED(xpcom_timer_arm(&deadline, CLOSE_DEADLINE_MS, 0,
                                deadline_fired, NULL)))
    g_deadline_passed = true;
  double t2 = now_s();
  for (uint32_t i = 0; i < g_n; i++) {
    sconn *c = &g_conns[i];
    if (c->channel && !c->stops &&
        NS_FAILED(nsIWebSocketChannel_Close(c->channel, 1000, &reason)))
      failure(c, "close failed");
    if ((i & 255) == 255)
      NS_ProcessPendingEvents(NULL);
  }
  bool all_stopped = run_until(&g_stopped, opened, false);
  double t3 = now_s();
  if (!all_stopped)
    fprintf(stderr, "ws_scale: %u of %u connections stopped after close\n",
            g_stopped, opened);

  bool listeners_released = true;
  for (uint32_t i = 0; i < opened; i++) {
    sconn *c = &g_conns[i];
    if (c->stops && c->refcnt != 0)
      listeners_released = false;
    if (c->starts != 1 || c->echoes != 1 || c->stops != 1)
      c->bad = 1;
  }
  if (!listeners_released)
    fprintf(stderr, "ws_scale: a channel kept its listener after onStop\n");
  uint32_t bad = 0;
  for (uint32_t i = 0; i < g_n; i++)
    bad += g_conns[i].bad;

  printf("{\"connections\": %u, \"size\": %zu, \"open_echo_seconds\": %.3f, "
         "\"close_seconds\": %.3f, \"total_seconds\": %.3f, "
         "\"rss_before_kib\": %ld, \"rss_open_kib\": %ld, "
         "\"rss_per_connection_bytes\": %.0f}\n",
         g_n, g_size, t1 - t0, t3 - t2, t3 - t0, rss0, rss1,
         (double)(rss1 - rss0) * 1024.0 / (double)g_n);
  fflush(stdout);
  if (all_echoed && all_open && all_stopped && listeners_released && !bad &&
      !g_failures)
    status = 0;
  else
    fprintf(stderr, "ws_scale: FAILED (%u connections with problems, %u "
                    "problems reported)\n",
            bad, g_failures);

done:
  xpcom_timer_release(&deadline);
  for (uint32_t i = 0; i < g_n; i++)
    NS_IF_RELEASE(g_conns[i].channel);
  NS_IF_RELEASE(uri);
  NS_IF_RELEASE(io);
  NS_IF_RELEASE(cm);
  NS_CStringContainerFinish(&spec);
  NS_CStringContainerFinish(&origin);
  NS_CStringContainerFinish(&reason);
  if (sm && NS_FAILED(NS_ShutdownXPCOM(sm))) {
    fprintf(stderr, "ws_scale: XPCOM shutdown failed\n");
    status = 1;
  }
  if (XPCOM_LeakLiveCount() != 0) {
    XPCOM_LeakReport(stderr);
    fprintf(stderr, "ws_scale: %llu objects leaked\n",
            (unsigned long long)XPCOM_LeakLiveCount());
    status = 1;
  }
  server_stop(&srv);
  free(g_conns);
  return status;
}

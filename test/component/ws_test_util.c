/*
 * ws_test_util.c — see ws_test_util.h.
 */
#include "ws_test_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <prinrval.h>

#include "nsError.h"
#include "nsXPCOM.h"
#include "nsXPCOMStrings.h"
#include "xpcom_object.h"
#include "xpcom_thread.h"

#include "nsIComponentManager.h"
#include "nsIProtocolHandler.h"
#include "nsIURI.h"

extern char **environ;

/* ---- servers ------------------------------------------------------------ */

const char *wst_srcdir(void) {
  static char path[PATH_MAX];
  if (path[0])
    return path;
  const char *s = getenv("srcdir");
  /* The harness runs tests from the build directory with srcdir relative
   * to it; absolute paths keep the servers' own lookups simple. */
  if (!s || !*s || !realpath(s, path))
    snprintf(path, sizeof path, "%s", WST_SRCDIR);
  return path;
}

/* Reads one line (without newline) from fd within timeout_ms. */
static int read_line(int fd, char *buf, size_t cap, int timeout_ms) {
  size_t n = 0;
  PRIntervalTime start = PR_IntervalNow();
  while (n + 1 < cap) {
    int left = timeout_ms - (int)PR_IntervalToMilliseconds(
                                (PRIntervalTime)(PR_IntervalNow() - start));
    if (left <= 0)
      return -1;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = poll(&p, 1, left);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return -1;
    ssize_t got = read(fd, buf + n, 1);
    if (got <= 0)
      return -1;
    if (buf[n] == '\n') {
      buf[n] = '\0';
      return 0;
    }
    n++;
  }
  return -1;
}

int wst_server_start(wst_server *s, const char *const argv[]) {
  memset(s, 0, sizeof *s);
  s->pid = -1;
  s->stdin_fd = s->stdout_fd = -1;
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0)
    return -1;
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    return -1;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  pid_t pid;
  int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]);
  close(out[1]);
  if (rc != 0) {
    fprintf(stderr, "cannot start %s: %s\n", argv[0], strerror(rc));
    close(in[1]);
    close(out[0]);
    return -1;
  }
  s->pid = pid;
  s->stdin_fd = in[1];
  s->stdout_fd = out[0];
  char line[256];
  if (read_line(s->stdout_fd, line, sizeof line, 20000) != 0) {
    fprintf(stderr, "%s %s did not start\n", argv[0], argv[1] ? argv[1] : "");
    wst_server_stop(s);
    return -1;
  }
  if (strncmp(line, "LISTENING ", 10) == 0) {
    s->port = atoi(line + 10);
    snprintf(s->url, sizeof s->url, "ws://127.0.0.1:%d/", s->port);
  } else if (strncmp(line, "ws://", 5) == 0) {
    snprintf(s->url, sizeof s->url, "%s", line);
    const char *colon = strrchr(line + 5, ':');
    s->port = colon ? atoi(colon + 1) : 0;
  } else {
    fprintf(stderr, "%s: unexpected first line '%s'\n", argv[0], line);
    wst_server_stop(s);
    return -1;
  }
  return 0;
}

int wst_server_wait_line(wst_server *s, const char *needle, char *line,
                         size_t cap, int timeout_ms) {
  char buf[1024];
  PRIntervalTime start = PR_IntervalNow();
  for (;;) {
    int left = timeout_ms - (int)PR_IntervalToMilliseconds(
                                (PRIntervalTime)(PR_IntervalNow() - start));
    if (left <= 0 || read_line(s->stdout_fd, buf, sizeof buf, left) != 0)
      return -1;
    if (strstr(buf, needle)) {
      if (line)
        snprintf(line, cap, "%s", buf);
      return 0;
    }
  }
}

void wst_server_stop(wst_server *s) {
  if (s->stdin_fd >= 0)
    close(s->stdin_fd);
  if (s->pid > 0) {
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
  }
  if (s->stdout_fd >= 0)
    close(s->stdout_fd);
  s->pid = -1;
  s->stdin_fd = s->stdout_fd = -1;
}

/* ---- the recording listener ---------------------------------------------- */

static wst_listener *from_iface(nsIWebSocketListener *self) {
  return XPCOM_CONTAINER_OF(self, wst_listener, iface);
}

static nsresult l_qi(nsIWebSocketListener *self, const nsIID *iid,
                     void **result) {
  static const xpcom_qi_entry table[] = {
      XPCOM_QI_ENTRY(wst_listener, iface, nsIWebSocketListener_IID),
      XPCOM_QI_END};
  return xpcom_table_qi(from_iface(self), table, iid, result);
}

static nsrefcnt l_addref(nsIWebSocketListener *self) {
  return xpcom_refcnt_inc(&from_iface(self)->refcnt);
}

static nsrefcnt l_release(nsIWebSocketListener *self) {
  wst_listener *l = from_iface(self);
  nsrefcnt n = xpcom_refcnt_dec(&l->refcnt);
  if (n == 0) {
    NS_IF_RELEASE(l->channel);
    for (size_t i = 0; i < l->nevents; i++)
      free(l->events[i].data);
    free(l->events);
    xpcom_leak_dtor("wst_listener", sizeof *l);
    free(l);
  }
  return n;
}

static wst_event *record(wst_listener *l, nsISupports *ctx,
                         wst_event_kind kind, const nsACString *str) {
  if (ctx != l->expected_context)
    l->bad_context = true;
  if (l->nstops)
    l->after_stop = true;
  if (l->nevents == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 16;
    wst_event *grown = realloc(l->events, cap * sizeof *grown);
    if (!grown)
      abort();
    l->events = grown;
    l->cap = cap;
  }
  wst_event *e = &l->events[l->nevents++];
  memset(e, 0, sizeof *e);
  e->kind = kind;
  if (str) {
    const char *data;
    e->len = xpcom_cstring_get(str, &data);
    e->data = malloc((size_t)e->len + 1);
    if (!e->data)
      abort();
    memcpy(e->data, data, e->len);
    e->data[e->len] = '\0';
  }
  return e;
}

static void read_attr(nsIWebSocketChannel *ch, bool extensions, char *out,
                      size_t cap) {
  nsCStringContainer s;
  NS_CStringContainerInit(&s);
  out[0] = '\0';
  nsresult rv = extensions ? nsIWebSocketChannel_GetExtensions(ch, &s)
                           : nsIWebSocketChannel_GetProtocol(ch, &s);
  if (NS_SUCCEEDED(rv)) {
    const char *d;
    uint32_t n = xpcom_cstring_get(&s, &d);
    snprintf(out, cap, "%.*s", (int)n, d);
  }
  NS_CStringContainerFinish(&s);
}

static nsresult l_start(nsIWebSocketListener *self, nsISupports *ctx) {
  wst_listener *l = from_iface(self);
  record(l, ctx, WST_START, NULL);
  if (l->channel) {
    read_attr(l->channel, false, l->protocol_at_start,
              sizeof l->protocol_at_start);
    read_attr(l->channel, true, l->extensions_at_start,
              sizeof l->extensions_at_start);
  }
  if (l->hooks && l->hooks->on_start)
    l->hooks->on_start(l);
  return NS_OK;
}

static nsresult l_stop(nsIWebSocketListener *self, nsISupports *ctx,
                       nsresult status) {
  wst_listener *l = from_iface(self);
  wst_event *e = record(l, ctx, WST_STOP, NULL);
  e->status = status;
  l->nstops++;
  if (l->hooks && l->hooks->on_stop)
    l->hooks->on_stop(l, e);
  return NS_OK;
}

static nsresult l_msg(nsIWebSocketListener *self, nsISupports *ctx,
                      const nsACString *msg) {
  wst_listener *l = from_iface(self);
  wst_event *e = record(l, ctx, WST_TEXT, msg);
  if (l->hooks && l->hooks->on_message)
    l->hooks->on_message(l, e);
  return NS_OK;
}

static nsresult l_bin(nsIWebSocketListener *self, nsISupports *ctx,
                      const nsACString *msg) {
  wst_listener *l = from_iface(self);
  wst_event *e = record(l, ctx, WST_BINARY, msg);
  if (l->hooks && l->hooks->on_message)
    l->hooks->on_message(l, e);
  return NS_OK;
}

static nsresult l_ack(nsIWebSocketListener *self, nsISupports *ctx,
                      PRUint32 size) {
  wst_listener *l = from_iface(self);
  record(l, ctx, WST_ACK, NULL)->size = size;
  return NS_OK;
}

static nsresult l_close(nsIWebSocketListener *self, nsISupports *ctx,
                        uint16_t code, const nsACString *reason) {
  wst_listener *l = from_iface(self);
  wst_event *e = record(l, ctx, WST_SERVER_CLOSE, reason);
  e->code = code;
  if (l->hooks && l->hooks->on_server_close)
    l->hooks->on_server_close(l, e);
  return NS_OK;
}

static const nsIWebSocketListenerVtbl wst_listener_vtbl = {
    .QueryInterface = l_qi,
    .AddRef = l_addref,
    .Release = l_release,
    .OnStart = l_start,
    .OnStop = l_stop,
    .OnMessageAvailable = l_msg,
    .OnBinaryMessageAvailable = l_bin,
    .OnAcknowledge = l_ack,
    .OnServerClose = l_close,
};

wst_listener *wst_listener_new(const wst_hooks *hooks, void *user) {
  wst_listener *l = calloc(1, sizeof *l);
  if (!l)
    abort();
  l->iface.vtbl = &wst_listener_vtbl;
  l->refcnt = 1;
  l->hooks = hooks;
  l->user = user;
  xpcom_leak_ctor("wst_listener", sizeof *l);
  return l;
}

void wst_listener_release(wst_listener *l) {
  if (l)
    xpcom_release(&l->iface);
}

size_t wst_count(const wst_listener *l, wst_event_kind kind) {
  size_t n = 0;
  for (size_t i = 0; i < l->nevents; i++)
    n += l->events[i].kind == kind;
  return n;
}

const wst_event *wst_first(const wst_listener *l, wst_event_kind kind) {
  for (size_t i = 0; i < l->nevents; i++)
    if (l->events[i].kind == kind)
      return &l->events[i];
  return NULL;
}

bool wst_stopped(const wst_listener *l) { return l->nstops > 0; }

nsresult wst_stop_status(const wst_listener *l) {
  const wst_event *e = wst_first(l, WST_STOP);
  return e ? e->status : NS_ERROR_UNEXPECTED;
}

const char *wst_describe(const wst_listener *l) {
  static char buf[2048];
  static const char *names[] = {"START", "TEXT", "BINARY",
                                "ACK", "SERVERCLOSE", "STOP"};
  size_t off = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < l->nevents && off + 64 < sizeof buf; i++) {
    const wst_event *e = &l->events[i];
    off += (size_t)snprintf(buf + off, sizeof buf - off, "%s", names[e->kind]);
    if (e->kind == WST_TEXT || e->kind == WST_BINARY)
      off += (size_t)snprintf(buf + off, sizeof buf - off, "(%u)", e->len);
    else if (e->kind == WST_ACK)
      off += (size_t)snprintf(buf + off, sizeof buf - off, "(%u)", e->size);
    else if (e->kind == WST_SERVER_CLOSE)
      off += (size_t)snprintf(buf + off, sizeof buf - off, "(%u)", e->code);
    else if (e->kind == WST_STOP) {
      const char *n = XPCOM_ErrorName(e->status);
      off += (size_t)snprintf(buf + off, sizeof buf - off, "(%s)",
                              n ? n : "?");
    }
    buf[off++] = ' ';
    buf[off] = '\0';
  }
  return buf;
}

/* ---- channels ------------------------------------------------------------ */

nsIWebSocketChannel *wst_channel_new(const char *url) {
  nsIComponentManager *cm = NULL;
  nsIWebSocketChannel *ch = NULL;
  if (NS_FAILED(NS_GetComponentManager(&cm)))
    return NULL;
  const char *contract = strncmp(url, "wss:", 4) == 0
                             ? "@mozilla.org/network/protocol;1?name=wss"
                             : "@mozilla.org/network/protocol;1?name=ws";
  if (NS_FAILED(nsIComponentManager_CreateInstanceByContractID(
          cm, contract, NULL, &nsIWebSocketChannel_IID, (void **)&ch)))
    ch = NULL;
  NS_RELEASE(cm);
  return ch;
}

nsresult wst_open(wst_listener *l, const char *url, const char *protocol,
                  const char *origin) {
  l->channel = wst_channel_new(url);
  if (!l->channel)
    return NS_ERROR_FAILURE;
  nsCStringContainer s;
  nsresult rv = NS_OK;
  if (protocol) {
    NS_CStringContainerInit2(&s, protocol, UINT32_MAX, 0);
    rv = nsIWebSocketChannel_SetProtocol(l->channel, &s);
    NS_CStringContainerFinish(&s);
    if (NS_FAILED(rv))
      return rv;
  }
  /* Through the channel's own protocol handler, as a host without the IO
   * service would make the URI. */
  nsIProtocolHandler *ph = NULL;
  nsIURI *uri = NULL;
  rv = xpcom_query_interface(l->channel, &nsIProtocolHandler_IID, (void **)&ph);
  if (NS_SUCCEEDED(rv)) {
    NS_CStringContainerInit2(&s, url, UINT32_MAX, 0);
    rv = nsIProtocolHandler_NewURI(ph, &s, NULL, NULL, &uri);
    NS_CStringContainerFinish(&s);
    NS_RELEASE(ph);
  }
  if (NS_FAILED(rv))
    return rv;
  NS_CStringContainerInit2(&s, origin ? origin : "", UINT32_MAX, 0);
  rv = nsIWebSocketChannel_AsyncOpen(l->channel, uri, &s, &l->iface,
                                     l->expected_context);
  NS_CStringContainerFinish(&s);
  NS_RELEASE(uri);
  return rv;
}

nsresult wst_send(nsIWebSocketChannel *ch, bool binary, const void *data,
                  size_t len) {
  nsCStringContainer s;
  nsresult rv = NS_CStringContainerInit2(
      &s, len ? data : "", (uint32_t)len,
      NS_CSTRING_CONTAINER_INIT_DEPEND | NS_CSTRING_CONTAINER_INIT_SUBSTRING);
  if (NS_FAILED(rv))
    return rv;
  rv = binary ? nsIWebSocketChannel_SendBinaryMsg(ch, &s)
              : nsIWebSocketChannel_SendMsg(ch, &s);
  NS_CStringContainerFinish(&s);
  return rv;
}

nsresult wst_close(nsIWebSocketChannel *ch, uint16_t code, const char *reason) {
  nsCStringContainer s;
  NS_CStringContainerInit2(&s, reason ? reason : "", UINT32_MAX, 0);
  nsresult rv = nsIWebSocketChannel_Close(ch, code, &s);
  NS_CStringContainerFinish(&s);
  return rv;
}

/* ---- event loop ---------------------------------------------------------- */

static void tick(nsITimer *t, void *closure) {}

bool wst_run_until(bool (*done)(void *arg), void *arg, uint32_t timeout_ms) {
  /* A repeating timer wakes the blocking wait so the deadline is seen. */
  nsITimer *timer = NULL;
  xpcom_timer_arm(&timer, 20, 1 /* TYPE_REPEATING_SLACK */, tick, NULL);
  PRIntervalTime start = PR_IntervalNow();
  bool ok;
  while (!(ok = done(arg)) &&
         PR_IntervalToMilliseconds((PRIntervalTime)(PR_IntervalNow() - start)) <
             timeout_ms)
    NS_ProcessNextEvent(NULL, true);
  xpcom_timer_release(&timer);
  return ok;
}

static bool stopped_cb(void *arg) { return wst_stopped(arg); }

bool wst_run_until_stopped(wst_listener *l, uint32_t timeout_ms) {
  return wst_run_until(stopped_cb, l, timeout_ms);
}

static bool never(void *arg) { return false; }

void wst_spin(uint32_t ms) { wst_run_until(never, NULL, ms); }

int wst_thread_count(void) {
  DIR *d = opendir("/proc/self/task");
  if (!d)
    return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

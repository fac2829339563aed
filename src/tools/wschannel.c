/*
 * wschannel.c — `bin/wschannel`, a command-line WebSocket client that uses
 * the channel component only as a host would: XPCOM started with
 * NS_InitXPCOM2, URIs from the IO service, the channel created by contract
 * ID ("@mozilla.org/network/protocol;1?name=ws"), an nsIWebSocketListener
 * written in C, and NS_ProcessNextEvent on the main thread. No engine or
 * network internals are linked in.
 *
 * Subcommands (a table, so later issues add theirs, e.g. `bench`):
 *   cat URL [--protocol P] [--origin O] [--binary] [--cacert FILE]
 *       stdin lines become messages, received messages go to stdout (one per
 *       line); at end of input, once everything read has been written to the
 *       socket and no message has arrived for CAT_QUIET_MS (so the replies
 *       of an echo server are not cut off by our Close), Close 1000 is sent
 *       and output continues until the close handshake ends. Errors go to
 *       stderr with the nsresult name.
 *   testee BASEURL AGENT
 *       the client side of the Autobahn|Testsuite fuzzing-server protocol.
 *   bench URL WORKLOAD COUNT SIZE
 *       the channel's side of the benchmark suite (wschannel_bench.c).
 *
 * Exit status: 0 success, 1 failure (connection or protocol error), 2 usage
 * (bench also: 3 for an unknown workload).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <prcvar.h>
#include <prerror.h>
#include <prlock.h>
#include <prthread.h>

#include "nsError.h"
#include "nsXPCOM.h"
#include "nsXPCOMStrings.h"
#include "xpcom_object.h"
#include "xpcom_thread.h"

#include "nsIComponentManager.h"
#include "nsIEventTarget.h"
#include "nsIIOService.h"
#include "nsIServiceManager.h"
#include "nsIThread.h"
#include "nsIURI.h"
#include "nsIWebSocketChannel.h"
#include "nsIWebSocketListener.h"
#include "nsIWebSocketSecurityInfo.h"

#include "wschannel_bench.h"

#define PROG "wschannel"
#define PROTOCOL_CONTRACT_PREFIX "@mozilla.org/network/protocol;1?name="
#define IOSERVICE_CONTRACT "@mozilla.org/network/io-service;1"

/* Exit statuses. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

static void errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void errorf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs(PROG ": ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* "what: NS_ERROR_X (0x...)" on stderr; an NSS/NSPR error (security
 * module) with NSS's text: "what: 0x805a1ff3 (SEC_ERROR_UNKNOWN_ISSUER):
 * Peer's Certificate issuer is not recognized." */
static void report_rv(const char *what, nsresult rv) {
  char buf[XPCOM_ERROR_FORMAT_MAX];
  XPCOM_FormatError(rv, buf, sizeof buf);
  const char *text = NS_ERROR_IS_NSS_ERROR(rv)
                         ? PR_ErrorToString(NS_ERROR_TO_NSS_ERROR(rv), PR_LANGUAGE_I_DEFAULT)
                         : NULL;
  if (text && *text && strncmp(text, "Unknown code", 12) != 0)
    errorf("%s: %s: %s", what, buf, text);
  else
    errorf("%s: %s", what, buf);
}

/* ======================================================================
 * XPCOM host
 * ====================================================================== */

static nsIServiceManager *g_sm;
static nsIComponentManager *g_cm;
static nsIIOService *g_io;

static int host_start(void) {
  nsresult rv = NS_InitXPCOM2(&g_sm, NULL, NULL);
  if (NS_FAILED(rv)) {
    report_rv("cannot start XPCOM", rv);
    return -1;
  }
  rv = NS_GetComponentManager(&g_cm);
  if (NS_SUCCEEDED(rv))
    rv = nsIServiceManager_GetServiceByContractID(g_sm, IOSERVICE_CONTRACT,
                                                  &nsIIOService_IID,
                                                  (void **)&g_io);
  if (NS_FAILED(rv)) {
    report_rv("the WebSocket component is not registered (install it, or "
              "name its manifest in WSCHANNEL_MANIFEST)",
              rv);
    return -1;
  }
  return 0;
}

/* Stops XPCOM; returns non-zero when the runtime reported leaks (so a
 * leak makes the tool fail under test). */
static int host_stop(void) {
  NS_IF_RELEASE(g_io);
  NS_IF_RELEASE(g_cm);
  if (g_sm) {
    NS_ShutdownXPCOM(g_sm);
    g_sm = NULL;
  }
  return XPCOM_LeakLiveCount() != 0;
}

/* ======================================================================
 * A session: one channel and its listener (a C XPCOM object)
 * ====================================================================== */

typedef struct session session;

/* What a subcommand does with each listener call; any may be NULL. All run
 * on the main thread from NS_ProcessNextEvent. */
typedef struct session_ops {
  void (*on_start)(session *s);
  void (*on_message)(session *s, bool binary, const char *data, uint32_t len);
  void (*on_acknowledge)(session *s, uint32_t size);
  void (*on_server_close)(session *s, uint16_t code, const char *reason,
                          uint32_t len);
  void (*on_stop)(session *s, nsresult status);
} session_ops;

struct session {
  nsIWebSocketListener listener; /* identity */
  uint32_t refcnt;               /* ours + the channel's while it runs */
  nsIWebSocketChannel *channel;  /* ours; NULL before open */
  const session_ops *ops;
  void *user;
  bool started, stopped;
  bool server_closed;
  uint16_t server_code;
  nsresult status; /* onStop's */
};

static session *from_listener(nsIWebSocketListener *self) {
  return XPCOM_CONTAINER_OF(self, session, listener);
}

static nsresult l_QueryInterface(nsIWebSocketListener *self, const nsIID *iid,
                                 void **result) {
  static const xpcom_qi_entry table[] = {
      XPCOM_QI_ENTRY(session, listener, nsIWebSocketListener_IID),
      XPCOM_QI_END};
  return xpcom_table_qi(from_listener(self), table, iid, result);
}

static nsrefcnt l_AddRef(nsIWebSocketListener *self) {
  return xpcom_refcnt_inc(&from_listener(self)->refcnt);
}

static nsrefcnt l_Release(nsIWebSocketListener *self) {
  session *s = from_listener(self);
  nsrefcnt n = xpcom_refcnt_dec(&s->refcnt);
  if (n == 0) {
    NS_IF_RELEASE(s->channel);
    xpcom_leak_dtor("wschannel_session", sizeof *s);
    free(s);
  }
  return n;
}

static nsresult l_OnStart(nsIWebSocketListener *self, nsISupports *ctx) {
  session *s = from_listener(self);
  s->started = true;
  if (s->ops->on_start)
    s->ops->on_start(s);
  return NS_OK;
}

static nsresult l_OnStop(nsIWebSocketListener *self, nsISupports *ctx,
                         nsresult status) {
  session *s = from_listener(self);
  s->stopped = true;
  s->status = status;
  if (s->ops->on_stop)
    s->ops->on_stop(s, status);
  return NS_OK;
}

static nsresult l_OnMessage(nsIWebSocketListener *self, nsISupports *ctx,
                            const nsACString *msg) {
  session *s = from_listener(self);
  const char *data;
  uint32_t len = xpcom_cstring_get(msg, &data);
  if (s->ops->on_message)
    s->ops->on_message(s, false, data, len);
  return NS_OK;
}

static nsresult l_OnBinaryMessage(nsIWebSocketListener *self,
                                  nsISupports *ctx, const nsACString *msg) {
  session *s = from_listener(self);
  const char *data;
  uint32_t len = xpcom_cstring_get(msg, &data);
  if (s->ops->on_message)
    s->ops->on_message(s, true, data, len);
  return NS_OK;
}

static nsresult l_OnAcknowledge(nsIWebSocketListener *self, nsISupports *ctx,
                                PRUint32 size) {
  session *s = from_listener(self);
  if (s->ops->on_acknowledge)
    s->ops->on_acknowledge(s, size);
  return NS_OK;
}

static nsresult l_OnServerClose(nsIWebSocketListener *self, nsISupports *ctx,
                                uint16_t code, const nsACString *reason) {
  session *s = from_listener(self);
  const char *data;
  uint32_t len = xpcom_cstring_get(reason, &data);
  s->server_closed = true;
  s->server_code = code;
  if (s->ops->on_server_close)
    s->ops->on_server_close(s, code, data, len);
  return NS_OK;
}

static const nsIWebSocketListenerVtbl session_vtbl = {
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

/* A new session holding one reference (the caller's), or NULL. */
static session *session_new(const session_ops *ops, void *user) {
  session *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->listener.vtbl = &session_vtbl;
  s->refcnt = 1;
  s->ops = ops;
  s->user = user;
  xpcom_leak_ctor("wschannel_session", sizeof *s);
  return s;
}

static void session_release(session *s) {
  if (s)
    xpcom_release(&s->listener);
}

/*
 * Opens `url` on a new channel of the URL's scheme. Returns NS_OK when
 * asyncOpen accepted it (onStop will follow), or the failure (reported on
 * stderr, nothing pending).
 */
static nsresult session_open(session *s, const char *url, const char *protocol,
                             const char *origin) {
  nsCStringContainer spec, str;
  NS_CStringContainerInit2(&spec, url, UINT32_MAX, 0);
  NS_CStringContainerInit(&str);
  nsIURI *uri = NULL;
  char contract[64];
  const char *scheme = "";
  uint32_t slen = 0;
  nsresult rv = nsIIOService_NewURI(g_io, &spec, NULL, NULL, &uri);
  if (NS_FAILED(rv)) {
    report_rv(url, rv);
    goto out;
  }
  rv = nsIURI_GetScheme(uri, &str);
  if (NS_FAILED(rv))
    goto fail;
  slen = xpcom_cstring_get(&str, &scheme);
  if (!((slen == 2 && memcmp(scheme, "ws", 2) == 0) ||
        (slen == 3 && memcmp(scheme, "wss", 3) == 0))) {
    errorf("%s: not a ws:// or wss:// URL", url);
    rv = NS_ERROR_MALFORMED_URI;
    goto out;
  }
  snprintf(contract, sizeof contract, "%s%.*s", PROTOCOL_CONTRACT_PREFIX,
           (int)slen, scheme);
  rv = nsIComponentManager_CreateInstanceByContractID(
      g_cm, contract, NULL, &nsIWebSocketChannel_IID, (void **)&s->channel);
  if (NS_FAILED(rv))
    goto fail;
  if (protocol) {
    NS_CStringSetData(&str, protocol, UINT32_MAX);
    rv = nsIWebSocketChannel_SetProtocol(s->channel, &str);
    if (NS_FAILED(rv))
      goto fail;
  }
  NS_CStringSetData(&str, origin ? origin : "", UINT32_MAX);
  rv = nsIWebSocketChannel_AsyncOpen(s->channel, uri, &str, &s->listener, NULL);
  if (NS_SUCCEEDED(rv))
    goto out;
fail:
  report_rv(url, rv);
  NS_IF_RELEASE(s->channel);
out:
  NS_IF_RELEASE(uri);
  NS_CStringContainerFinish(&spec);
  NS_CStringContainerFinish(&str);
  return rv;
}

/* Runs main-thread events until the session has stopped or *flag is set. */
static void run_until_stopped(session *s) {
  while (!s->stopped)
    NS_ProcessNextEvent(NULL, true);
}

/* ======================================================================
 * cat
 * ====================================================================== */

/* Input bytes read but not yet acknowledged as written to the socket: the
 * reader thread waits above this, so a large stdin never piles up in
 * memory (the channel queues whatever it is given). */
#define CAT_MAX_PENDING (4u << 20)
#define CAT_READ_CHUNK 65536
/* Quiet time after end of input before our Close (see the top). */
#define CAT_QUIET_MS 250

typedef struct cat_line {
  struct cat_line *next;
  uint32_t len;
  char data[]; /* len bytes, no newline */
} cat_line;

typedef struct cat_state {
  session *s;
  bool binary;
  bool eof;         /* stdin ended (main thread's view) */
  bool close_sent;  /* we called close() */
  bool failed;      /* exit non-zero */
  uint32_t unacked; /* messages sent and not yet acknowledged */
  PRIntervalTime last_activity; /* last message received or acknowledged */
  nsITimer *quiet_timer;
  cat_line *queue, **tail; /* lines read before onStart */

  /* Shared with the reader thread, under lock. */
  PRLock *lock;
  PRCondVar *cv;
  uint64_t pending; /* bytes read and not yet acknowledged or dropped */
  bool quit;        /* main thread wants the reader to stop */

  nsIEventTarget *main_target; /* for the reader thread's dispatches */
} cat_state;

static cat_state g_cat;

static void cat_unpend(uint64_t n) {
  PR_Lock(g_cat.lock);
  g_cat.pending = n > g_cat.pending ? 0 : g_cat.pending - n;
  PR_NotifyAllCondVar(g_cat.cv);
  PR_Unlock(g_cat.lock);
}

static void cat_close(void);

/* End of input: close once the output has drained and input is quiet. */
static void cat_maybe_close(nsITimer *timer, void *closure) {
  session *s = g_cat.s;
  if (!g_cat.eof || !s->started || g_cat.close_sent || s->stopped ||
      g_cat.queue)
    return;
  if (g_cat.unacked)
    return; /* cat_ack comes back here */
  uint32_t quiet = PR_IntervalToMilliseconds(
      (PRIntervalTime)(PR_IntervalNow() - g_cat.last_activity));
  if (quiet < CAT_QUIET_MS) {
    if (NS_SUCCEEDED(xpcom_timer_arm(&g_cat.quiet_timer, CAT_QUIET_MS - quiet,
                                     0 /* TYPE_ONE_SHOT */, cat_maybe_close,
                                     NULL)))
      return;
  }
  cat_close();
}

static void cat_close(void) {
  session *s = g_cat.s;
  if (g_cat.close_sent || !s->channel || s->stopped)
    return;
  g_cat.close_sent = true;
  nsCStringContainer reason;
  NS_CStringContainerInit(&reason);
  nsresult rv = nsIWebSocketChannel_Close(s->channel,
                                          nsIWebSocketChannel_CLOSE_NORMAL,
                                          &reason);
  NS_CStringContainerFinish(&reason);
  /* After the server's close our reply is already on its way: a refusal
   * here is not a failure. */
  if (NS_FAILED(rv) && !s->server_closed) {
    report_rv("close", rv);
    g_cat.failed = true;
  }
}

static void cat_send(cat_line *l) {
  session *s = g_cat.s;
  if (s->stopped || g_cat.close_sent || s->server_closed) {
    cat_unpend(l->len);
    free(l);
    return;
  }
  nsCStringContainer msg;
  NS_CStringContainerInit2(&msg, l->data, l->len,
                           NS_CSTRING_CONTAINER_INIT_DEPEND |
                               NS_CSTRING_CONTAINER_INIT_SUBSTRING);
  nsresult rv = g_cat.binary ? nsIWebSocketChannel_SendBinaryMsg(s->channel, &msg)
                             : nsIWebSocketChannel_SendMsg(s->channel, &msg);
  NS_CStringContainerFinish(&msg);
  if (NS_SUCCEEDED(rv))
    g_cat.unacked++;
  if (NS_FAILED(rv)) {
    cat_unpend(l->len);
    report_rv(rv == NS_ERROR_ILLEGAL_VALUE ? "send (input is not UTF-8; "
                                             "use --binary)"
                                           : "send",
              rv);
    g_cat.failed = true;
    cat_close();
  }
  free(l);
}

/* Main thread: a line from the reader (ownership passes here). */
static void cat_on_line(void *arg) {
  cat_line *l = arg;
  if (!g_cat.s->started && !g_cat.s->stopped) {
    *g_cat.tail = l;
    g_cat.tail = &l->next;
    return;
  }
  cat_send(l);
}

/* Main thread: end of stdin. */
static void cat_on_eof(void *arg) {
  g_cat.eof = true;
  g_cat.last_activity = PR_IntervalNow();
  cat_maybe_close(NULL, NULL);
}

static void cat_start(session *s) {
  cat_line *l = g_cat.queue;
  g_cat.queue = NULL;
  g_cat.tail = &g_cat.queue;
  while (l) {
    cat_line *next = l->next;
    cat_send(l);
    l = next;
  }
  cat_maybe_close(NULL, NULL);
}

static void cat_message(session *s, bool binary, const char *data,
                        uint32_t len) {
  g_cat.last_activity = PR_IntervalNow();
  if (fwrite(data, 1, len, stdout) != len || fputc('\n', stdout) == EOF ||
      fflush(stdout) != 0) {
    /* Nobody reads us any more (EPIPE): stop politely. */
    if (!g_cat.failed)
      errorf("stdout: %s", strerror(errno));
    g_cat.failed = true;
    cat_close();
  }
}

static void cat_ack(session *s, uint32_t size) {
  cat_unpend(size);
  if (g_cat.unacked)
    g_cat.unacked--;
  g_cat.last_activity = PR_IntervalNow();
  cat_maybe_close(NULL, NULL);
}

static void cat_server_close(session *s, uint16_t code, const char *reason,
                             uint32_t len) {
  if (code != nsIWebSocketChannel_CLOSE_NORMAL &&
      code != nsIWebSocketChannel_CLOSE_NO_STATUS)
    errorf("server closed with code %u%s%.*s", code, len ? ": " : "",
           (int)len, reason);
}

/* A string attribute of a certificate, or "?" (into buf). */
static const char *cert_attr(nsIWebSocketCertInfo *cert,
                             nsresult (*get)(nsIWebSocketCertInfo *, nsACString *),
                             char *buf, size_t len) {
  nsCStringContainer str;
  snprintf(buf, len, "?");
  if (NS_FAILED(NS_CStringContainerInit(&str)))
    return buf;
  const char *data;
  if (NS_SUCCEEDED(get(cert, &str))) {
    uint32_t n = xpcom_cstring_get(&str, &data);
    snprintf(buf, len, "%.*s", (int)n, data);
  }
  NS_CStringContainerFinish(&str);
  return buf;
}

/* After a wss:// handshake failed on the certificate: which one it was. */
static void report_server_cert(session *s) {
  nsISupports *info = NULL;
  nsIWebSocketSecurityInfo *si = NULL;
  nsIWebSocketCertInfo *cert = NULL;
  uint32_t state = 0;
  if (!s->channel || NS_FAILED(nsIWebSocketChannel_GetSecurityInfo(s->channel, &info)) || !info)
    return;
  if (NS_SUCCEEDED(xpcom_query_interface(info, &nsIWebSocketSecurityInfo_IID, (void **)&si)) &&
      NS_SUCCEEDED(nsIWebSocketSecurityInfo_GetSecurityState(si, &state)) &&
      state == nsIWebSocketSecurityInfo_STATE_IS_BROKEN &&
      NS_SUCCEEDED(nsIWebSocketSecurityInfo_GetServerCert(si, &cert)) && cert) {
    char subject[512], issuer[512], fp[128];
    errorf("server certificate: %s, issued by %s, SHA-256 %s",
           cert_attr(cert, cert->vtbl->GetSubject, subject, sizeof subject),
           cert_attr(cert, cert->vtbl->GetIssuer, issuer, sizeof issuer),
           cert_attr(cert, cert->vtbl->GetSha256Fingerprint, fp, sizeof fp));
  }
  NS_IF_RELEASE(cert);
  NS_IF_RELEASE(si);
  NS_RELEASE(info);
}

static void cat_stop(session *s, nsresult status) {
  if (NS_SUCCEEDED(status))
    return;
  /* Our own close unanswered within network.websocket.timeout.close: the
   * session still ended as asked. */
  if (status == NS_ERROR_NET_TIMEOUT && g_cat.close_sent && !g_cat.failed) {
    errorf("the server did not answer our close in time");
    return;
  }
  report_rv(s->started ? "connection failed" : "cannot connect", status);
  report_server_cert(s);
  g_cat.failed = true;
}

static const session_ops cat_ops = {cat_start, cat_message, cat_ack,
                                    cat_server_close, cat_stop};

/* Reader thread: stdin → lines dispatched to the main thread. Polls so it
 * notices `quit` within 200 ms even when stdin stays silent. */
static void cat_reader(void *arg) {
  char *buf = malloc(CAT_READ_CHUNK);
  char *line = NULL;
  size_t line_len = 0, line_cap = 0;
  bool eof = false;
  while (buf && !eof) {
    PR_Lock(g_cat.lock);
    while (g_cat.pending > CAT_MAX_PENDING && !g_cat.quit)
      PR_WaitCondVar(g_cat.cv, PR_MillisecondsToInterval(200));
    bool quit = g_cat.quit;
    PR_Unlock(g_cat.lock);
    if (quit)
      break;
    struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
    int pr = poll(&pfd, 1, 200);
    if (pr == 0 || (pr < 0 && errno == EINTR))
      continue;
    ssize_t n = pr < 0 ? -1 : read(STDIN_FILENO, buf, CAT_READ_CHUNK);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      eof = true;
      n = 0;
    }
    /* Split into lines; a last line without newline is sent at EOF. */
    size_t i = 0;
    for (;;) {
      char *nl = memchr(buf + i, '\n', (size_t)n - i);
      size_t take = nl ? (size_t)(nl - (buf + i)) : (size_t)n - i;
      if (line_len + take > line_cap) {
        size_t cap = line_cap ? line_cap : 256;
        while (cap < line_len + take)
          cap *= 2;
        char *grown = realloc(line, cap);
        if (!grown) {
          eof = true;
          break;
        }
        line = grown;
        line_cap = cap;
      }
      if (take) /* line is still NULL before the first byte */
        memcpy(line + line_len, buf + i, take);
      line_len += take;
      i += take;
      if (!nl && !(eof && line_len))
        break;
      if (nl)
        i++;
      cat_line *l = malloc(sizeof *l + line_len);
      if (l) {
        l->next = NULL;
        l->len = (uint32_t)line_len;
        if (line_len)
          memcpy(l->data, line, line_len);
        PR_Lock(g_cat.lock);
        g_cat.pending += line_len;
        PR_Unlock(g_cat.lock);
        if (NS_FAILED(xpcom_dispatch_fn(g_cat.main_target, cat_on_line, l,
                                        free)))
          free(l);
      }
      line_len = 0;
      if (!nl)
        break;
    }
  }
  free(line);
  free(buf);
  if (eof)
    xpcom_dispatch_fn(g_cat.main_target, cat_on_eof, NULL, NULL);
}

static void usage_cat(FILE *out) {
  fputs("usage: " PROG " cat URL [--protocol P] [--origin O] [--binary] "
        "[--cacert FILE]\n",
        out);
}

static int cmd_cat(int argc, char **argv) {
  const char *url = NULL, *protocol = NULL, *origin = NULL, *cacert = NULL;
  bool binary = false;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--binary")) {
      binary = true;
    } else if ((!strcmp(a, "--protocol") || !strcmp(a, "--origin") ||
                !strcmp(a, "--cacert")) &&
               i + 1 < argc) {
      const char *v = argv[++i];
      if (!strcmp(a, "--protocol"))
        protocol = v;
      else if (!strcmp(a, "--origin"))
        origin = v;
      else
        cacert = v;
    } else if (a[0] == '-' && a[1] && !url) {
      errorf("cat: unknown option %s", a);
      usage_cat(stderr);
      return EXIT_USAGE;
    } else if (!url) {
      url = a;
    } else {
      usage_cat(stderr);
      return EXIT_USAGE;
    }
  }
  if (!url) {
    usage_cat(stderr);
    return EXIT_USAGE;
  }
  if (cacert) {
    /* Trusted roots for wss:// (the TLS issue): the convention OpenSSL,
     * curl and Python share, read when NSS is initialised. */
    if (access(cacert, R_OK) != 0) {
      errorf("--cacert %s: %s", cacert, strerror(errno));
      return EXIT_USAGE;
    }
    setenv("SSL_CERT_FILE", cacert, 1);
  }

  if (host_start() != 0) {
    host_stop();
    return EXIT_FAIL;
  }
  int status = EXIT_FAIL;
  memset(&g_cat, 0, sizeof g_cat);
  g_cat.binary = binary;
  g_cat.tail = &g_cat.queue;
  g_cat.lock = PR_NewLock();
  g_cat.cv = g_cat.lock ? PR_NewCondVar(g_cat.lock) : NULL;
  g_cat.s = session_new(&cat_ops, NULL);
  nsIThread *main_thread = NULL;
  PRThread *reader = NULL;
  if (!g_cat.cv || !g_cat.s || NS_FAILED(NS_GetMainThread(&main_thread)) ||
      NS_FAILED(xpcom_query_interface(main_thread, &nsIEventTarget_IID,
                                      (void **)&g_cat.main_target))) {
    errorf("out of memory");
    goto done;
  }
  if (NS_FAILED(session_open(g_cat.s, url, protocol, origin)))
    goto done;
  reader = PR_CreateThread(PR_USER_THREAD, cat_reader, NULL,
                           PR_PRIORITY_NORMAL, PR_GLOBAL_THREAD,
                           PR_JOINABLE_THREAD, 0);
  if (!reader) {
    errorf("cannot start the input thread");
    cat_close();
    g_cat.failed = true;
  }
  run_until_stopped(g_cat.s);
  status = g_cat.failed || NS_FAILED(g_cat.s->status) ? EXIT_FAIL : EXIT_OK;
  if (g_cat.close_sent && g_cat.s->status == NS_ERROR_NET_TIMEOUT &&
      !g_cat.failed)
    status = EXIT_OK;

done:
  if (reader) {
    PR_Lock(g_cat.lock);
    g_cat.quit = true;
    PR_NotifyAllCondVar(g_cat.cv);
    PR_Unlock(g_cat.lock);
    PR_JoinThread(reader);
  }
  /* Lines the reader dispatched after the end find the session stopped
   * and are freed; lines queued before onStart are freed here. */
  NS_ProcessPendingEvents(NULL);
  for (cat_line *l = g_cat.queue, *next; l; l = next) {
    next = l->next;
    free(l);
  }
  xpcom_timer_release(&g_cat.quiet_timer);
  NS_IF_RELEASE(g_cat.main_target);
  NS_IF_RELEASE(main_thread);
  session_release(g_cat.s);
  if (host_stop() != 0) {
    errorf("XPCOM reported leaked objects");
    status = EXIT_FAIL;
  }
  if (g_cat.cv)
    PR_DestroyCondVar(g_cat.cv);
  if (g_cat.lock)
    PR_DestroyLock(g_cat.lock);
  return status;
}

/* ======================================================================
 * testee: the Autobahn|Testsuite fuzzing-server client protocol
 * ====================================================================== */

typedef struct testee_state {
  char *count_text; /* getCaseCount's message */
  uint64_t messages;
} testee_state;

static void count_message(session *s, bool binary, const char *data,
                          uint32_t len) {
  testee_state *t = s->user;
  if (t->count_text)
    return;
  t->count_text = malloc((size_t)len + 1);
  if (t->count_text) {
    memcpy(t->count_text, data, len);
    t->count_text[len] = '\0';
  }
}

static const session_ops count_ops = {NULL, count_message, NULL, NULL, NULL};

/* Echo every message back as received: same type, same payload. */
static void echo_message(session *s, bool binary, const char *data,
                         uint32_t len) {
  testee_state *t = s->user;
  t->messages++;
  nsCStringContainer msg;
  NS_CStringContainerInit2(&msg, data, len,
                           NS_CSTRING_CONTAINER_INIT_DEPEND |
                               NS_CSTRING_CONTAINER_INIT_SUBSTRING);
  /* A refusal (we are closing, the server already closed) is part of the
   * case being tested, not an error of the testee. */
  if (binary)
    (void)nsIWebSocketChannel_SendBinaryMsg(s->channel, &msg);
  else
    (void)nsIWebSocketChannel_SendMsg(s->channel, &msg);
  NS_CStringContainerFinish(&msg);
}

static const session_ops echo_ops = {NULL, echo_message, NULL, NULL, NULL};

/* Percent-encodes everything but RFC 3986 unreserved characters. */
static char *url_escape(const char *in) {
  size_t n = strlen(in);
  char *out = malloc(3 * n + 1), *p = out;
  if (!out)
    return NULL;
  for (const unsigned char *c = (const unsigned char *)in; *c; c++) {
    if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
        (*c >= '0' && *c <= '9') || strchr("-._~", *c)) {
      *p++ = (char)*c;
    } else {
      p += sprintf(p, "%%%02X", *c);
    }
  }
  *p = '\0';
  return out;
}

/* Opens BASE + path and runs it to onStop. Returns onStop's status, or the
 * asyncOpen failure. */
static nsresult testee_run(const char *base, const char *path,
                           const session_ops *ops, testee_state *t,
                           bool *started) {
  size_t bl = strlen(base);
  while (bl && base[bl - 1] == '/')
    bl--;
  char *url = malloc(bl + strlen(path) + 1);
  session *s = session_new(ops, t);
  nsresult rv = NS_ERROR_OUT_OF_MEMORY;
  if (url && s) {
    memcpy(url, base, bl);
    strcpy(url + bl, path);
    rv = session_open(s, url, NULL, NULL);
    if (NS_SUCCEEDED(rv)) {
      run_until_stopped(s);
      rv = s->status;
      if (started)
        *started = s->started;
    }
  }
  free(url);
  session_release(s);
  return rv;
}

static void usage_testee(FILE *out) {
  fputs("usage: " PROG " testee BASEURL AGENT\n", out);
}

static int cmd_testee(int argc, char **argv) {
  if (argc != 2) {
    usage_testee(stderr);
    return EXIT_USAGE;
  }
  const char *base = argv[0];
  char *agent = url_escape(argv[1]);
  if (!agent || host_start() != 0) {
    free(agent);
    host_stop();
    return EXIT_FAIL;
  }
  int status = EXIT_FAIL;
  testee_state t = {NULL, 0};
  nsresult rv = testee_run(base, "/getCaseCount", &count_ops, &t, NULL);
  char *end = NULL;
  long count = t.count_text ? strtol(t.count_text, &end, 10) : -1;
  if (NS_FAILED(rv) || !t.count_text || end == t.count_text || count < 0) {
    if (NS_FAILED(rv))
      report_rv("getCaseCount", rv);
    else
      errorf("getCaseCount: no case count received");
    goto done;
  }
  fprintf(stderr, PROG ": %ld cases\n", count);

  for (long i = 1; i <= count; i++) {
    char path[256];
    snprintf(path, sizeof path, "/runCase?case=%ld&agent=%s", i, agent);
    t.messages = 0;
    bool started = false;
    rv = testee_run(base, path, &echo_ops, &t, &started);
    char buf[XPCOM_ERROR_FORMAT_MAX];
    XPCOM_FormatError(rv, buf, sizeof buf);
    fprintf(stderr, PROG ": case %ld/%ld: %s, %llu messages echoed, %s\n", i,
            count, started ? "opened" : "not opened",
            (unsigned long long)t.messages, buf);
  }

  char path[256];
  snprintf(path, sizeof path, "/updateReports?agent=%s", agent);
  rv = testee_run(base, path, &count_ops, &t, NULL);
  if (NS_FAILED(rv)) {
    report_rv("updateReports", rv);
    goto done;
  }
  status = EXIT_OK;

done:
  free(t.count_text);
  free(agent);
  if (host_stop() != 0) {
    errorf("XPCOM reported leaked objects");
    status = EXIT_FAIL;
  }
  return status;
}

/* ======================================================================
 * main: a table of subcommands
 * ====================================================================== */

typedef struct subcommand {
  const char *name;
  int (*run)(int argc, char **argv); /* arguments after the name */
  void (*usage)(FILE *out);
  const char *summary;
} subcommand;

static const subcommand kCommands[] = {
    {"cat", cmd_cat, usage_cat,
     "stdin lines to messages, messages to stdout (like websocat)"},
    {"testee", cmd_testee, usage_testee,
     "client of the Autobahn|Testsuite fuzzing server protocol"},
    /* Issue 8 (wschannel_bench.c): exit status 3 for an unknown workload. */
    {"bench", wschannel_bench_main, wschannel_bench_usage,
     "one benchmark workload against a benchmark server, a JSON line"},
    {NULL, NULL, NULL, NULL}};

static void usage(FILE *out) {
  fputs("usage: " PROG " COMMAND [ARGS]\ncommands:\n", out);
  for (const subcommand *c = kCommands; c->name; c++) {
    fprintf(out, "  %-8s %s\n  ", c->name, c->summary);
    c->usage(out);
  }
}

int main(int argc, char **argv) {
  /* A reader that went away must not kill us: writes report EPIPE. */
  signal(SIGPIPE, SIG_IGN);
  if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    usage(stdout);
    return EXIT_OK;
  }
  if (argc >= 2) {
    for (const subcommand *c = kCommands; c->name; c++) {
      if (!strcmp(argv[1], c->name))
        return c->run(argc - 2, argv + 2);
    }
    errorf("unknown command '%s'", argv[1]);
  }
  usage(stderr);
  return EXIT_USAGE;
}

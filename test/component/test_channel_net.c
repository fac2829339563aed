/*
 * test_channel_net.c — the channel end to end, through XPCOM only (contract
 * ID, nsIWebSocketChannel, a C listener on the main thread's event queue),
 * against real peers started here:
 *   - the Python `websockets` and Node `ws` echo servers of
 *     test/xpcshell/servers (text and binary echo from 0 bytes to 16 MiB,
 *     acknowledgements, subprotocols, server close with code and reason,
 *     client close, 200 concurrent sessions, a channel the host lets go);
 *   - test/servers/badserver.py, one process per misbehaviour, each of
 *     which must end in the documented nsresult (and, where one is due, the
 *     documented close code on the wire), without a hang or a leak;
 *   - a `websockets` server accepting permessage-deflate (the extension
 *     negotiated and used when the pref allows it, absent otherwise);
 *   - refused connections and unknown hosts.
 * Every test boots XPCOM and shuts it down again, failing on any leaked
 * object or connection.
 */
#include <check.h>
#include <stdatomic.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <prinrval.h>
#include <prthread.h>

#include "nsError.h"
#include "nsXPCOM.h"
#include "nsXPCOMStrings.h"
#include "xpcom_object.h"
#include "xpcom_prefs.h"
#include "xpcom_thread.h"

#include "nsIServiceManager.h"
#include "nsIThread.h"
#include "nsIURI.h"
#include "nsIWebSocketChannel.h"
#include "nsIWebSocketListener.h"

#include "ws_test_util.h"

/* The transport's live-connection counter: 0 after shutdown (no leak on
 * the socket thread's side either). */
#include "net/net_sts.h"
#include "net/net_ws_conn.h"

/* ---- servers shared by the tests (started once, in main) --------------- */

static wst_server g_py, g_node;
static bool g_have_node;

static const char *server_url(int which) {
  return which == 0 ? g_py.url : g_node.url;
}
static const char *server_name(int which) {
  return which == 0 ? "python-websockets" : "node-ws";
}

/* ---- fixture ------------------------------------------------------------ */

static nsIServiceManager *g_sm;

static void setup(void) {
  ck_assert_uint_eq(NS_InitXPCOM2(&g_sm, NULL, NULL), NS_OK);
}

static void xpcom_down(void) {
  if (!g_sm)
    return;
  ck_assert_uint_eq(NS_ShutdownXPCOM(g_sm), NS_OK);
  g_sm = NULL;
}

static void teardown(void) {
  xpcom_down();
  ck_assert_msg(XPCOM_LeakLiveCount() == 0, "%llu objects leaked",
                (unsigned long long)XPCOM_LeakLiveCount());
  ck_assert_uint_eq(net_ws_conn_live_count(), 0);
}

#define STOP_TIMEOUT_MS 30000

/* Checks the invariants every session must keep. */
static void check_invariants(const wst_listener *l) {
  ck_assert_msg(l->nstops == 1, "onStop called %zu times: %s", l->nstops,
                wst_describe(l));
  ck_assert_msg(l->events[l->nevents - 1].kind == WST_STOP,
                "onStop is not last: %s", wst_describe(l));
  ck_assert_msg(!l->bad_context, "a call passed another context");
  ck_assert_msg(!l->after_stop, "a call after onStop");
  size_t starts = wst_count(l, WST_START);
  ck_assert_uint_le(starts, 1);
  /* onStart comes first, if at all. */
  if (starts)
    ck_assert_int_eq(l->events[0].kind, WST_START);
  else
    ck_assert_uint_eq(l->nevents, 1);
}

/* ---- echo of every size, text and binary ------------------------------- */

static const size_t kSizes[] = {0,      1,       125,      126,     127,
                                65535,  65536,   65537,    1 << 20, 16 << 20};
#define NSIZES (sizeof kSizes / sizeof kSizes[0])

/* Deterministic payloads: binary covers every byte value; text mixes ASCII
 * with 2-, 3- and 4-byte UTF-8 sequences, never cut inside one. */
static char *make_payload(size_t len, bool binary, unsigned seed) {
  char *p = malloc(len + 1);
  ck_assert_ptr_nonnull(p);
  if (binary) {
    for (size_t i = 0; i < len; i++)
      p[i] = (char)((i * 131u + seed) & 0xff);
    return p;
  }
  static const char *const pieces[] = {"a", "Z", "\xc3\xa9", "\xe2\x82\xac",
                                       "\xf0\x9f\x98\x80", " ", "7"};
  size_t i = 0, k = seed;
  while (i < len) {
    const char *piece = pieces[k++ % 7];
    size_t n = strlen(piece);
    if (i + n > len)
      piece = "x", n = 1;
    memcpy(p + i, piece, n);
    i += n;
  }
  return p;
}

typedef struct echo_state {
  char *sent[2 * NSIZES];
  size_t sent_len[2 * NSIZES];
  bool binary[2 * NSIZES];
  size_t n;
  bool closed;
} echo_state;

static void echo_start(wst_listener *l) {
  echo_state *st = l->user;
  /* All queued at once: the channel copies, the connection keeps order. */
  for (size_t i = 0; i < NSIZES; i++) {
    for (int b = 0; b < 2; b++) {
      size_t k = st->n++;
      st->binary[k] = b;
      st->sent_len[k] = kSizes[i];
      st->sent[k] = make_payload(kSizes[i], b, (unsigned)k);
      ck_assert_uint_eq(wst_send(l->channel, b, st->sent[k], kSizes[i]), NS_OK);
    }
  }
}

static void echo_message(wst_listener *l, const wst_event *e) {
  echo_state *st = l->user;
  size_t got = wst_count(l, WST_TEXT) + wst_count(l, WST_BINARY);
  if (got == st->n && !st->closed) {
    st->closed = true;
    ck_assert_uint_eq(wst_close(l->channel, 1000, "all echoed"), NS_OK);
  }
}

static const wst_hooks echo_hooks = {echo_start, echo_message, NULL, NULL};

START_TEST(test_echo_all_sizes) {
  int which = _i;
  if (which == 1 && !g_have_node)
    ck_abort_msg("the Node `ws` echo server is not available (npm ci "
                 "--prefix test/xpcshell/servers)");
  echo_state st;
  memset(&st, 0, sizeof st);
  wst_listener *l = wst_listener_new(&echo_hooks, &st);
  ck_assert_uint_eq(wst_open(l, server_url(which), NULL, NULL), NS_OK);
  ck_assert_msg(wst_run_until_stopped(l, 120000), "%s: no onStop: %s",
                server_name(which), wst_describe(l));
  check_invariants(l);
  ck_assert_msg(wst_stop_status(l) == NS_OK, "%s: %s", server_name(which),
                wst_describe(l));
  /* Echoes in order, same type, same bytes; one acknowledgement per
   * message, in order, with its size. */
  size_t k = 0, a = 0;
  for (size_t i = 0; i < l->nevents; i++) {
    const wst_event *e = &l->events[i];
    if (e->kind == WST_TEXT || e->kind == WST_BINARY) {
      ck_assert_uint_lt(k, st.n);
      ck_assert_int_eq(e->kind == WST_BINARY, st.binary[k]);
      ck_assert_uint_eq(e->len, st.sent_len[k]);
      ck_assert_msg(memcmp(e->data, st.sent[k], e->len) == 0,
                    "%s: echo %zu differs", server_name(which), k);
      k++;
    } else if (e->kind == WST_ACK) {
      ck_assert_uint_lt(a, st.n);
      ck_assert_uint_eq(e->size, st.sent_len[a]);
      a++;
    }
  }
  ck_assert_uint_eq(k, st.n);
  ck_assert_uint_eq(a, st.n);
  const wst_event *sc = wst_first(l, WST_SERVER_CLOSE);
  ck_assert_ptr_nonnull(sc);
  ck_assert_uint_eq(sc->code, 1000);
  for (size_t i = 0; i < st.n; i++)
    free(st.sent[i]);
  wst_listener_release(l);
}
END_TEST

/* ---- subprotocols -------------------------------------------------------- */

static void close_on_start(wst_listener *l) {
  ck_assert_uint_eq(wst_close(l->channel, 1000, ""), NS_OK);
}
static const wst_hooks close_on_start_hooks = {close_on_start, NULL, NULL,
                                               NULL};

START_TEST(test_subprotocol) {
  int which = _i;
  if (which == 1 && !g_have_node)
    ck_abort_msg("the Node `ws` echo server is not available");
  /* offered → what the servers (first supported in the client's order
   * among "chat", "superchat") choose. */
  static const char *const cases[][2] = {{"chat", "chat"},
                                         {"superchat, chat", "superchat"},
                                         {"foo,superchat", "superchat"},
                                         {"foo", ""},
                                         {"", ""}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    wst_listener *l = wst_listener_new(&close_on_start_hooks, NULL);
    ck_assert_uint_eq(wst_open(l, server_url(which), cases[i][0], NULL),
                      NS_OK);
    /* Before the handshake the attribute is still what we offer. */
    nsCStringContainer s;
    NS_CStringContainerInit(&s);
    ck_assert_uint_eq(nsIWebSocketChannel_GetProtocol(l->channel, &s), NS_OK);
    ck_assert(xpcom_cstring_equals(&s, cases[i][0], strlen(cases[i][0])));
    ck_assert(wst_run_until_stopped(l, STOP_TIMEOUT_MS));
    check_invariants(l);
    ck_assert_uint_eq(wst_stop_status(l), NS_OK);
    ck_assert_uint_eq(wst_count(l, WST_START), 1);
    /* Updated before onStart, and kept afterwards. */
    ck_assert_msg(strcmp(l->protocol_at_start, cases[i][1]) == 0,
                  "%s offered '%s': got '%s' in onStart", server_name(which),
                  cases[i][0], l->protocol_at_start);
    ck_assert_str_eq(l->extensions_at_start, "");
    ck_assert_uint_eq(nsIWebSocketChannel_GetProtocol(l->channel, &s), NS_OK);
    ck_assert(xpcom_cstring_equals(&s, cases[i][1], strlen(cases[i][1])));
    NS_CStringContainerFinish(&s);
    wst_listener_release(l);
  }
}
END_TEST

/* ---- closes -------------------------------------------------------------- */

START_TEST(test_server_close_code_reason) {
  int which = _i;
  if (which == 1 && !g_have_node)
    ck_abort_msg("the Node `ws` echo server is not available");
  static const struct {
    const char *query;
    uint16_t code;
    const char *reason;
  } cases[] = {{"close?code=4000&reason=bye", 4000, "bye"},
               {"close?code=1000", 1000, ""},
               {"close?code=1001&reason=%C3%A9t%C3%A9", 1001, "\xc3\xa9t\xc3\xa9"},
               {"close?code=3999&reason=x", 3999, "x"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char url[512];
    snprintf(url, sizeof url, "%s%s", server_url(which), cases[i].query);
    wst_listener *l = wst_listener_new(NULL, NULL);
    ck_assert_uint_eq(wst_open(l, url, NULL, NULL), NS_OK);
    ck_assert(wst_run_until_stopped(l, STOP_TIMEOUT_MS));
    check_invariants(l);
    ck_assert_msg(wst_stop_status(l) == NS_OK, "%s %s: %s", server_name(which),
                  cases[i].query, wst_describe(l));
    ck_assert_uint_eq(l->nevents, 3); /* START SERVERCLOSE STOP */
    const wst_event *sc = wst_first(l, WST_SERVER_CLOSE);
    ck_assert_ptr_nonnull(sc);
    ck_assert_uint_eq(sc->code, cases[i].code);
    ck_assert_str_eq(sc->data, cases[i].reason);
    /* The session is over and we never closed: not connected. */
    ck_assert_uint_eq(wst_send(l->channel, false, "x", 1),
                      NS_ERROR_NOT_CONNECTED);
    ck_assert_uint_eq(wst_send(l->channel, true, "x", 1),
                      NS_ERROR_NOT_CONNECTED);
    ck_assert_uint_eq(wst_close(l->channel, 1000, ""), NS_ERROR_NOT_CONNECTED);
    wst_listener_release(l);
  }
}
END_TEST

typedef struct client_close_state {
  int phase;
} client_close_state;

static void cc_start(wst_listener *l) {
  ck_assert_uint_eq(wst_send(l->channel, false, "before close", 12), NS_OK);
}

static void cc_message(wst_listener *l, const wst_event *e) {
  client_close_state *st = l->user;
  if (st->phase++)
    return;
  ck_assert_str_eq(e->data, "before close");
  ck_assert_uint_eq(wst_close(l->channel, 1000, "client done"), NS_OK);
  ck_assert_uint_eq(wst_send(l->channel, false, "after", 5),
                    NS_ERROR_UNEXPECTED);
  ck_assert_uint_eq(wst_send(l->channel, true, "after", 5),
                    NS_ERROR_UNEXPECTED);
  ck_assert_uint_eq(wst_close(l->channel, 1000, ""), NS_ERROR_UNEXPECTED);
}

static const wst_hooks cc_hooks = {cc_start, cc_message, NULL, NULL};

START_TEST(test_client_close) {
  int which = _i;
  if (which == 1 && !g_have_node)
    ck_abort_msg("the Node `ws` echo server is not available");
  client_close_state st = {0};
  wst_listener *l = wst_listener_new(&cc_hooks, &st);
  ck_assert_uint_eq(wst_open(l, server_url(which), NULL, NULL), NS_OK);
  ck_assert(wst_run_until_stopped(l, STOP_TIMEOUT_MS));
  check_invariants(l);
  ck_assert_msg(wst_stop_status(l) == NS_OK, "%s", wst_describe(l));
  ck_assert_uint_eq(wst_count(l, WST_TEXT), 1);
  ck_assert_uint_eq(wst_count(l, WST_ACK), 1);
  const wst_event *sc = wst_first(l, WST_SERVER_CLOSE);
  ck_assert_ptr_nonnull(sc);
  ck_assert_uint_eq(sc->code, 1000); /* the server echoes our code */
  /* After onStop, close was requested: Gecko 8 says unexpected first. */
  ck_assert_uint_eq(wst_send(l->channel, false, "x", 1), NS_ERROR_UNEXPECTED);
  ck_assert_uint_eq(wst_close(l->channel, 1000, ""), NS_ERROR_UNEXPECTED);
  wst_listener_release(l);
}
END_TEST

/* ---- failures before onStart -------------------------------------------- */

START_TEST(test_refused) {
  /* A port bound but not listening: refused at once, no race. */
  char script[PATH_MAX];
  snprintf(script, sizeof script, "%s/test/servers/badserver.py", wst_srcdir());
  const char *argv[] = {"/usr/bin/python3", script, "--mode", "closedport",
                        NULL};
  wst_server s;
  ck_assert_int_eq(wst_server_start(&s, argv), 0);
  wst_listener *l = wst_listener_new(NULL, NULL);
  ck_assert_uint_eq(wst_open(l, s.url, NULL, NULL), NS_OK);
  ck_assert(wst_run_until_stopped(l, STOP_TIMEOUT_MS));
  check_invariants(l);
  ck_assert_uint_eq(wst_count(l, WST_START), 0);
  ck_assert_msg(wst_stop_status(l) == NS_ERROR_CONNECTION_REFUSED, "%s",
                wst_describe(l));
  wst_listener_release(l);
  wst_server_stop(&s);
}
END_TEST

START_TEST(test_unknown_host) {
  /* RFC 6761 §6.4: .invalid never resolves. */
  wst_listener *l = wst_listener_new(NULL, NULL);
  ck_assert_uint_eq(wst_open(l, "ws://no-such-host.invalid/", NULL, NULL),
                    NS_OK);
  ck_assert(wst_run_until_stopped(l, STOP_TIMEOUT_MS));
  check_invariants(l);
  ck_assert_uint_eq(wst_count(l, WST_START), 0);
  ck_assert_msg(wst_stop_status(l) == NS_ERROR_UNKNOWN_HOST, "%s",
                wst_describe(l));
  wst_listener_release(l);
}
END_TEST

/* ---- the misbehaving server ---------------------------------------------- */

typedef struct bad_case {
  const char *mode;
  const char *extra[6];  /* more badserver arguments */
  const char *protocol;  /* offered subprotocols, or NULL */
  int open_timeout;      /* network.websocket.timeout.open (s), 0 = default */
  int close_timeout;     /* network.websocket.timeout.close (s) */
  int max_message;       /* network.websocket.max-message-size, 0 = default */
  bool client_closes;    /* close(1000) once all expected messages came */
  bool expect_start;
  int messages;          /* messages expected before onStop */
  nsresult status;
  const char *wire;      /* an EVENT line the server must print, or NULL */
  int min_ms, max_ms;    /* how long until onStop (0 = unchecked) */
} bad_case;

static const bad_case kBad[] = {
    {"non101", {NULL}, NULL, 0, 0, 0, false, false, 0,
     NS_ERROR_CONNECTION_REFUSED, NULL, 0, 0},
    {"non101", {"--status", "200", NULL}, NULL, 0, 0, 0, false, false, 0,
     NS_ERROR_CONNECTION_REFUSED, NULL, 0, 0},
    {"wrongaccept", {NULL}, NULL, 0, 0, 0, false, false, 0,
     NS_ERROR_ILLEGAL_VALUE, NULL, 0, 0},
    {"noupgrade", {NULL}, NULL, 0, 0, 0, false, false, 0,
     NS_ERROR_ILLEGAL_VALUE, NULL, 0, 0},
    {"noconnection", {NULL}, NULL, 0, 0, 0, false, false, 0,
     NS_ERROR_ILLEGAL_VALUE, NULL, 0, 0},
    {"badsubprotocol", {NULL}, "chat", 0, 0, 0, false, false, 0,
     NS_ERROR_ILLEGAL_VALUE, "protocols=chat", 0, 0},
    {"badextension", {NULL}, NULL, 0, 0, 0, false, false, 0,
     NS_ERROR_ILLEGAL_VALUE, NULL, 0, 0},
    {"garbage", {NULL}, NULL, 0, 0, 0, false, false, 0,
     NS_ERROR_CONNECTION_REFUSED, NULL, 0, 0},
    /* network.websocket.timeout.open = 1 s. */
    {"slowhandshake", {NULL}, NULL, 1, 0, 0, false, false, 0,
     NS_ERROR_NET_TIMEOUT, NULL, 900, 10000},
    /* Our Close is never answered: timeout.close = 1 s. */
    {"ignoreclose", {NULL}, NULL, 0, 1, 0, true, true, 0, NS_ERROR_NET_TIMEOUT,
     "client-close code=1000", 900, 10000},
    {"resetmidframe", {NULL}, NULL, 0, 0, 0, false, true, 1, NS_ERROR_NET_RESET,
     NULL, 0, 0},
    {"eofmidmessage", {NULL}, NULL, 0, 0, 0, false, true, 1,
     NS_BASE_STREAM_CLOSED, NULL, 0, 0},
    {"len2to63", {NULL}, NULL, 0, 0, 0, false, true, 0, NS_ERROR_ILLEGAL_VALUE,
     "client-close code=1002", 0, 0},
    {"oversize", {"--size", "4096", NULL}, NULL, 0, 0, 4096, false, true, 0,
     NS_ERROR_FILE_TOO_BIG, "client-close code=1009", 0, 0},
    {"hugeclaim", {NULL}, NULL, 0, 0, 0, false, true, 0, NS_ERROR_FILE_TOO_BIG,
     "client-close code=1009", 0, 0},
    {"badutf8text", {NULL}, NULL, 0, 0, 0, false, true, 0,
     NS_ERROR_ILLEGAL_VALUE, "when=before-rest", 0, 0},
    {"badutf8reason", {NULL}, NULL, 0, 0, 0, false, true, 0,
     NS_ERROR_ILLEGAL_VALUE, "client-close code=1007", 0, 0},
    {"bytebybyte", {NULL}, NULL, 0, 0, 0, true, true, 2, NS_OK,
     "client-pong payload='bbb'", 0, 0},
    {"frames101", {NULL}, NULL, 0, 0, 0, true, true, 2, NS_OK,
     "client-pong payload='p101'", 0, 0},
    {"servercloses", {"--code", "4001", "--reason", "going", NULL}, NULL, 0, 0,
     0, false, true, 0, NS_OK, "client-close code=4001", 0, 0},
    {"servercloses", {"--code", "none", NULL}, NULL, 0, 0, 0, false, true, 0,
     NS_OK, "client-close code=none", 0, 0},
    {"masked", {NULL}, NULL, 0, 0, 0, false, true, 0, NS_ERROR_ILLEGAL_VALUE,
     "client-close code=1002", 0, 0},
};
#define NBAD ((int)(sizeof kBad / sizeof kBad[0]))

static nsITimer *g_close_timer;

static void bad_close_later(nsITimer *t, void *closure) {
  wst_listener *l = closure;
  if (!wst_stopped(l))
    ck_assert_uint_eq(wst_close(l->channel, 1000, ""), NS_OK);
}

static void bad_message(wst_listener *l, const wst_event *e) {
  const bad_case *bc = l->user;
  if (bc->client_closes &&
      (int)(wst_count(l, WST_TEXT) + wst_count(l, WST_BINARY)) ==
          bc->messages) {
    /* A Ping may still be on its way (bytebybyte sends it after the
     * messages): give its Pong time to leave before our Close. */
    ck_assert_uint_eq(xpcom_timer_arm(&g_close_timer, 300, 0, bad_close_later,
                                      l),
                      NS_OK);
  }
}

static void bad_start(wst_listener *l) {
  const bad_case *bc = l->user;
  if (bc->client_closes && bc->messages == 0)
    ck_assert_uint_eq(wst_close(l->channel, 1000, ""), NS_OK);
}

static const wst_hooks bad_hooks = {bad_start, bad_message, NULL, NULL};

START_TEST(test_badserver) {
  const bad_case *bc = &kBad[_i];
  char script[PATH_MAX];
  snprintf(script, sizeof script, "%s/test/servers/badserver.py", wst_srcdir());
  const char *argv[16] = {"/usr/bin/python3", script, "--mode", bc->mode,
                          "--once"};
  int argc = 5;
  for (int i = 0; bc->extra[i]; i++)
    argv[argc++] = bc->extra[i];
  argv[argc] = NULL;
  wst_server s;
  ck_assert_int_eq(wst_server_start(&s, argv), 0);
  if (bc->open_timeout)
    xpcom_prefs_set_int("network.websocket.timeout.open", bc->open_timeout);
  if (bc->close_timeout)
    xpcom_prefs_set_int("network.websocket.timeout.close", bc->close_timeout);
  if (bc->max_message)
    xpcom_prefs_set_int("network.websocket.max-message-size", bc->max_message);

  wst_listener *l = wst_listener_new(&bad_hooks, (void *)bc);
  PRIntervalTime t0 = PR_IntervalNow();
  ck_assert_uint_eq(wst_open(l, s.url, bc->protocol, "http://example.test"),
                    NS_OK);
  ck_assert_msg(wst_run_until_stopped(l, STOP_TIMEOUT_MS), "%s: hangs: %s",
                bc->mode, wst_describe(l));
  uint32_t ms =
      PR_IntervalToMilliseconds((PRIntervalTime)(PR_IntervalNow() - t0));
  check_invariants(l);
  const char *want = XPCOM_ErrorName(bc->status);
  const char *got = XPCOM_ErrorName(wst_stop_status(l));
  ck_assert_msg(wst_stop_status(l) == bc->status, "%s: want %s, got %s: %s",
                bc->mode, want, got ? got : "?", wst_describe(l));
  ck_assert_msg(wst_count(l, WST_START) == (bc->expect_start ? 1u : 0u),
                "%s: onStart: %s", bc->mode, wst_describe(l));
  ck_assert_msg((int)(wst_count(l, WST_TEXT) + wst_count(l, WST_BINARY)) ==
                    bc->messages,
                "%s: messages: %s", bc->mode, wst_describe(l));
  if (bc->min_ms)
    ck_assert_msg(ms >= (uint32_t)bc->min_ms, "%s: onStop after %u ms",
                  bc->mode, ms);
  if (bc->max_ms)
    ck_assert_msg(ms <= (uint32_t)bc->max_ms, "%s: onStop after %u ms",
                  bc->mode, ms);
  if (bc->wire) {
    char line[1024];
    ck_assert_msg(wst_server_wait_line(&s, bc->wire, line, sizeof line,
                                       5000) == 0,
                  "%s: the server did not see '%s'", bc->mode, bc->wire);
  }
  /* Mode-specific details. */
  if (!strcmp(bc->mode, "servercloses")) {
    const wst_event *sc = wst_first(l, WST_SERVER_CLOSE);
    ck_assert_ptr_nonnull(sc);
    bool none = !strcmp(bc->extra[1], "none");
    ck_assert_uint_eq(sc->code, none ? 1005 : 4001);
    ck_assert_str_eq(sc->data, none ? "" : "going");
  } else if (!strcmp(bc->mode, "badutf8reason")) {
    ck_assert_uint_eq(wst_count(l, WST_SERVER_CLOSE), 0);
  } else if (!strcmp(bc->mode, "bytebybyte")) {
    ck_assert_str_eq(l->events[1].data, "hello byte by byte");
    ck_assert_int_eq(l->events[2].kind, WST_BINARY);
    ck_assert_uint_eq(l->events[2].len, 4);
    ck_assert(memcmp(l->events[2].data, "\x00\x01\xfe\xff", 4) == 0);
  } else if (!strcmp(bc->mode, "frames101")) {
    /* Bytes in the same read as the 101 are frames, not lost. */
    ck_assert_str_eq(l->events[1].data, "first in 101");
    ck_assert_int_eq(l->events[2].kind, WST_BINARY);
    ck_assert(memcmp(l->events[2].data, "\x01\x02\x03", 3) == 0);
  } else if (!strcmp(bc->mode, "resetmidframe") ||
             !strcmp(bc->mode, "eofmidmessage")) {
    ck_assert_int_eq(l->events[1].kind, WST_TEXT);
  }
  xpcom_timer_release(&g_close_timer);
  wst_listener_release(l);
  wst_server_stop(&s);
}
END_TEST

/* The badserver's echo mode: a server Ping is answered with a Pong of the
 * same payload (the server then says "pong X"); the Origin we give is
 * sent; code 0 goes out as 1000 (Gecko 8). */
typedef struct ping_state {
  bool closed;
} ping_state;

static void ping_start(wst_listener *l) {
  ck_assert_uint_eq(wst_send(l->channel, false, "!ping abc", 9), NS_OK);
}

static void ping_message(wst_listener *l, const wst_event *e) {
  ping_state *st = l->user;
  ck_assert_str_eq(e->data, "pong abc");
  if (!st->closed) {
    st->closed = true;
    ck_assert_uint_eq(wst_close(l->channel, 0, ""), NS_OK);
  }
}

static const wst_hooks ping_hooks = {ping_start, ping_message, NULL, NULL};

START_TEST(test_ping_pong_origin_close0) {
  char script[PATH_MAX];
  snprintf(script, sizeof script, "%s/test/servers/badserver.py", wst_srcdir());
  const char *argv[] = {"/usr/bin/python3", script, "--mode", "echo", "--once",
                        NULL};
  wst_server s;
  ck_assert_int_eq(wst_server_start(&s, argv), 0);
  ping_state st = {false};
  wst_listener *l = wst_listener_new(&ping_hooks, &st);
  ck_assert_uint_eq(wst_open(l, s.url, NULL, "http://origin.example"), NS_OK);
  ck_assert(wst_run_until_stopped(l, STOP_TIMEOUT_MS));
  check_invariants(l);
  ck_assert_msg(wst_stop_status(l) == NS_OK, "%s", wst_describe(l));
  ck_assert_uint_eq(wst_count(l, WST_TEXT), 1);
  ck_assert_int_eq(wst_server_wait_line(&s, "origin=http://origin.example",
                                        NULL, 0, 5000),
                   0);
  ck_assert_int_eq(wst_server_wait_line(&s, "client-pong payload='abc'", NULL,
                                        0, 5000),
                   0);
  ck_assert_int_eq(wst_server_wait_line(&s, "client-close code=1000", NULL, 0,
                                        5000),
                   0);
  wst_listener_release(l);
  wst_server_stop(&s);
}
END_TEST

/* Keepalive (timeout.ping.request): after a second without inbound data
 * the client pings; the echo server's Pong keeps the session open. */
START_TEST(test_keepalive_ping) {
  char script[PATH_MAX];
  snprintf(script, sizeof script, "%s/test/servers/badserver.py", wst_srcdir());
  const char *argv[] = {"/usr/bin/python3", script, "--mode", "echo", "--once",
                        NULL};
  wst_server s;
  ck_assert_int_eq(wst_server_start(&s, argv), 0);
  xpcom_prefs_set_int("network.websocket.timeout.ping.request", 1);
  xpcom_prefs_set_int("network.websocket.timeout.ping.response", 1);
  wst_listener *l = wst_listener_new(NULL, NULL);
  ck_assert_uint_eq(wst_open(l, s.url, NULL, NULL), NS_OK);
  ck_assert_int_eq(wst_server_wait_line(&s, "client-ping", NULL, 0, 5000), 0);
  wst_spin(2500); /* two more intervals: still open (pongs came back) */
  ck_assert_msg(!wst_stopped(l), "%s", wst_describe(l));
  ck_assert_uint_eq(wst_close(l->channel, 1000, ""), NS_OK);
  ck_assert(wst_run_until_stopped(l, STOP_TIMEOUT_MS));
  check_invariants(l);
  ck_assert_uint_eq(wst_stop_status(l), NS_OK);
  wst_listener_release(l);
  wst_server_stop(&s);
}
END_TEST

/* ---- permessage-deflate (network.websocket.extensions.permessage-deflate) */

typedef struct deflate_state {
  char *text;
  char *bin;
  size_t len;
  bool closed;
} deflate_state;

static void deflate_start(wst_listener *l) {
  deflate_state *st = l->user;
  ck_assert_uint_eq(wst_send(l->channel, false, st->text, st->len), NS_OK);
  ck_assert_uint_eq(wst_send(l->channel, true, st->bin, st->len), NS_OK);
  ck_assert_uint_eq(wst_send(l->channel, false, "", 0), NS_OK);
}

static void deflate_message(wst_listener *l, const wst_event *e) {
  deflate_state *st = l->user;
  if (wst_count(l, WST_TEXT) + wst_count(l, WST_BINARY) == 3 && !st->closed) {
    st->closed = true;
    ck_assert_uint_eq(wst_close(l->channel, 1000, ""), NS_OK);
  }
}

static const wst_hooks deflate_hooks = {deflate_start, deflate_message, NULL,
                                        NULL};

START_TEST(test_permessage_deflate) {
  bool enabled = _i == 0;
  char script[PATH_MAX];
  snprintf(script, sizeof script, "%s/test/component/deflate_echo_server.py",
           wst_srcdir());
  const char *argv[] = {"/usr/bin/python3", script, NULL};
  wst_server s;
  ck_assert_int_eq(wst_server_start(&s, argv), 0);
  ck_assert_uint_eq(
      xpcom_prefs_set_bool("network.websocket.extensions.permessage-deflate",
                           enabled),
      NS_OK);
  deflate_state st = {NULL, NULL, 1 << 20, false};
  st.text = make_payload(st.len, false, 3);
  st.bin = make_payload(st.len, true, 5);
  wst_listener *l = wst_listener_new(&deflate_hooks, &st);
  ck_assert_uint_eq(wst_open(l, s.url, NULL, NULL), NS_OK);
  ck_assert(wst_run_until_stopped(l, 60000));
  check_invariants(l);
  ck_assert_msg(wst_stop_status(l) == NS_OK, "%s", wst_describe(l));
  if (enabled)
    ck_assert_msg(strncmp(l->extensions_at_start, "permessage-deflate", 18) ==
                      0,
                  "extensions '%s'", l->extensions_at_start);
  else
    ck_assert_str_eq(l->extensions_at_start, "");
  const wst_event *e[3];
  size_t k = 0;
  for (size_t i = 0; i < l->nevents && k < 3; i++)
    if (l->events[i].kind == WST_TEXT || l->events[i].kind == WST_BINARY)
      e[k++] = &l->events[i];
  ck_assert_uint_eq(k, 3);
  ck_assert(e[0]->len == st.len && !memcmp(e[0]->data, st.text, st.len));
  ck_assert(e[1]->len == st.len && !memcmp(e[1]->data, st.bin, st.len));
  ck_assert_int_eq(e[1]->kind, WST_BINARY);
  ck_assert_uint_eq(e[2]->len, 0);
  /* Acknowledged sizes are what was given to send, not the wire size. */
  const wst_event *ack = wst_first(l, WST_ACK);
  ck_assert_ptr_nonnull(ack);
  ck_assert_uint_eq(ack->size, st.len);
  ck_assert_uint_eq(wst_count(l, WST_ACK), 3);
  free(st.text);
  free(st.bin);
  wst_listener_release(l);
  wst_server_stop(&s);
}
END_TEST

/* ---- many sessions on the one socket thread ----------------------------- */

#define NCONC 200

typedef struct conc_state {
  int index;
  char msg[32];
} conc_state;

static void conc_start(wst_listener *l) {
  conc_state *st = l->user;
  ck_assert_uint_eq(wst_send(l->channel, false, st->msg, strlen(st->msg)),
                    NS_OK);
}

static void conc_message(wst_listener *l, const wst_event *e) {
  conc_state *st = l->user;
  ck_assert_str_eq(e->data, st->msg);
  ck_assert_uint_eq(wst_close(l->channel, 1000, ""), NS_OK);
}

static const wst_hooks conc_hooks = {conc_start, conc_message, NULL, NULL};

static wst_listener *g_conc[NCONC];

static bool all_stopped(void *arg) {
  for (int i = 0; i < NCONC; i++)
    if (!wst_stopped(g_conc[i]))
      return false;
  return true;
}

START_TEST(test_200_concurrent) {
  static conc_state st[NCONC];
  int threads_before = wst_thread_count();
  for (int i = 0; i < NCONC; i++) {
    st[i].index = i;
    snprintf(st[i].msg, sizeof st[i].msg, "session %d", i);
    g_conc[i] = wst_listener_new(&conc_hooks, &st[i]);
    ck_assert_uint_eq(wst_open(g_conc[i], g_py.url, NULL, NULL), NS_OK);
  }
  /* network.websocket.max-connections (200): one more is refused now. */
  wst_listener *extra = wst_listener_new(NULL, NULL);
  ck_assert_uint_eq(wst_open(extra, g_py.url, NULL, NULL),
                    NS_ERROR_SOCKET_CREATE_FAILED);
  wst_listener_release(extra);
  int threads_max = 0, rounds = 0;
  while (!all_stopped(NULL)) {
    wst_run_until(all_stopped, NULL, 50);
    int n = wst_thread_count();
    threads_max = n > threads_max ? n : threads_max;
    ck_assert_msg(++rounds < 2000, "200 sessions did not all end");
  }
  /* One socket thread (plus at most two DNS helpers), not one per
   * connection. */
  ck_assert_msg(threads_max <= threads_before + 4,
                "%d threads with 200 sessions (%d before)", threads_max,
                threads_before);
  for (int i = 0; i < NCONC; i++) {
    check_invariants(g_conc[i]);
    ck_assert_msg(wst_stop_status(g_conc[i]) == NS_OK, "session %d: %s", i,
                  wst_describe(g_conc[i]));
    ck_assert_uint_eq(wst_count(g_conc[i], WST_TEXT), 1);
    wst_listener_release(g_conc[i]);
  }
  /* Slots are given back after onStop. */
  extra = wst_listener_new(&close_on_start_hooks, NULL);
  ck_assert_uint_eq(wst_open(extra, g_py.url, NULL, NULL), NS_OK);
  ck_assert(wst_run_until_stopped(extra, STOP_TIMEOUT_MS));
  wst_listener_release(extra);
}
END_TEST

/* ---- the host lets go of an open channel --------------------------------- */

typedef struct drop_result {
  size_t stops;
  nsresult status;
} drop_result;

static void drop_on_start(wst_listener *l) {
  /* The host's only reference: the session must go on regardless. */
  NS_RELEASE(l->channel);
}
static void drop_on_stop(wst_listener *l, const wst_event *e) {
  drop_result *r = l->user;
  r->stops = l->nstops;
  r->status = e->status;
}
static const wst_hooks drop_hooks = {drop_on_start, NULL, NULL, drop_on_stop};

START_TEST(test_released_while_open) {
  static drop_result r;
  wst_listener *l = wst_listener_new(&drop_hooks, &r);
  ck_assert_uint_eq(wst_open(l, g_py.url, NULL, NULL), NS_OK);
  while (!wst_count(l, WST_START) && !wst_stopped(l))
    NS_ProcessNextEvent(NULL, true);
  ck_assert_ptr_null(l->channel);
  ck_assert_uint_eq(wst_count(l, WST_START), 1);
  /* The channel now holds the only reference to the listener. */
  wst_listener_release(l);
  wst_spin(200);
  ck_assert_uint_eq(r.stops, 0); /* still open */
  /* XPCOM shutdown ends it: onStop(NS_ERROR_ABORT), once; then channel
   * and listener are gone (teardown checks nothing leaked). */
  xpcom_down();
  ck_assert_uint_eq(r.stops, 1);
  ck_assert_msg(r.status == NS_ERROR_ABORT, "status 0x%08x",
                (unsigned)r.status);
}
END_TEST

START_TEST(test_released_while_opening) {
  /* Dropped right after asyncOpen: the session still runs to its end. */
  wst_listener *l = wst_listener_new(NULL, NULL);
  char url[512];
  snprintf(url, sizeof url, "%sclose?code=1000&reason=done", g_py.url);
  ck_assert_uint_eq(wst_open(l, url, NULL, NULL), NS_OK);
  NS_RELEASE(l->channel);
  ck_assert(wst_run_until_stopped(l, STOP_TIMEOUT_MS));
  check_invariants(l);
  ck_assert_uint_eq(wst_stop_status(l), NS_OK);
  ck_assert_uint_eq(wst_count(l, WST_START), 1);
  ck_assert_uint_eq(wst_count(l, WST_SERVER_CLOSE), 1);
  /* The listener was released by the channel after onStop. */
  ck_assert_uint_eq(l->refcnt, 1);
  wst_listener_release(l);
}
END_TEST

/* A channel opened on a thread of its own, which finishes while the
 * session is open: the channel must end on that thread as it finishes
 * (onStop(NS_ERROR_ABORT), once) instead of waiting for ever for a stop
 * the socket thread can no longer deliver (channel and listener leaked). */
typedef struct worker_session {
  wst_listener *l;
  nsresult open_rv;
  atomic_bool opened, started, stopped;
  nsresult status;
  PRThread *stop_thread;
  PRThread *worker;
} worker_session;

static void worker_on_start(wst_listener *l) {
  worker_session *w = l->user;
  atomic_store(&w->started, true);
}
static void worker_on_stop(wst_listener *l, const wst_event *e) {
  worker_session *w = l->user;
  w->status = e->status;
  w->stop_thread = PR_GetCurrentThread();
  atomic_store(&w->stopped, true);
}
static const wst_hooks worker_hooks = {worker_on_start, NULL, NULL, worker_on_stop};

static void worker_open(void *arg) {
  worker_session *w = arg;
  w->worker = PR_GetCurrentThread();
  w->open_rv = wst_open(w->l, g_py.url, NULL, NULL);
  atomic_store(&w->opened, true);
}

START_TEST(test_owner_thread_finishes_first) {
  static worker_session w;
  memset(&w, 0, sizeof w);
  w.l = wst_listener_new(&worker_hooks, &w);
  nsIThread *worker = NULL;
  ck_assert_uint_eq(NS_NewThread(&worker, NULL, 0), NS_OK);
  ck_assert_uint_eq(xpcom_dispatch_fn((nsIEventTarget *)(void *)worker, worker_open, &w, NULL),
                    NS_OK);
  for (int i = 0; i < 3000 && !atomic_load(&w.started) && !atomic_load(&w.stopped); i++)
    PR_Sleep(PR_MillisecondsToInterval(10));
  ck_assert(atomic_load(&w.opened));
  ck_assert_uint_eq(w.open_rv, NS_OK);
  ck_assert_msg(atomic_load(&w.started) && !atomic_load(&w.stopped), "%s", wst_describe(w.l));
  /* The session is open and the echo server keeps it so: the worker
   * finishes first. */
  ck_assert_uint_eq(nsIThread_Shutdown(worker), NS_OK);
  ck_assert_msg(atomic_load(&w.stopped), "no onStop: %s", wst_describe(w.l));
  ck_assert_msg(w.status == NS_ERROR_ABORT, "status 0x%08x", (unsigned)w.status);
  ck_assert_ptr_eq(w.stop_thread, w.worker); /* on its own thread */
  ck_assert_uint_eq(w.l->nstops, 1);
  check_invariants(w.l);
  NS_RELEASE(worker);
  /* The worker is gone; nothing else runs on the channel now. */
  wst_listener_release(w.l);
  /* teardown: XPCOM shuts down; no object or connection may be left. */
}
END_TEST

/* ---- suite --------------------------------------------------------------- */

/* The Node server needs the `ws` package: install it once if missing. */
static bool start_node(void) {
  char dir[PATH_MAX], script[PATH_MAX + 32], mod[PATH_MAX + 64];
  snprintf(dir, sizeof dir, "%s/test/xpcshell/servers", wst_srcdir());
  snprintf(script, sizeof script, "%s/echo_server.js", dir);
  snprintf(mod, sizeof mod, "%s/node_modules/ws/package.json", dir);
  struct stat sb;
  if (stat(mod, &sb) != 0 && !getenv("NODE_PATH")) {
    char cmd[3 * PATH_MAX];
    /* Serialised with the other tests that may install it at once
     * (test-wschannel-cat.sh), and checked again under the lock. */
    snprintf(cmd, sizeof cmd,
             "flock \"${TMPDIR:-/tmp}/wschannel-npm-ci.lock\" sh -c "
             "'[ -f \"%s\" ] || npm ci --prefix \"%s\" --no-audit --no-fund' "
             ">/dev/null 2>&1",
             mod, dir);
    fprintf(stderr, "test_channel_net: installing the Node `ws` package "
                    "(npm ci)\n");
    if (system(cmd) != 0)
      fprintf(stderr, "test_channel_net: npm ci failed\n");
  }
  const char *argv[] = {"node", script, NULL};
  return wst_server_start(&g_node, argv) == 0;
}

static Suite *net_suite(void) {
  Suite *s = suite_create("channel-net");
  TCase *tc = tcase_create("peers");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 300);
  tcase_add_loop_test(tc, test_echo_all_sizes, 0, 2);
  tcase_add_loop_test(tc, test_subprotocol, 0, 2);
  tcase_add_loop_test(tc, test_server_close_code_reason, 0, 2);
  tcase_add_loop_test(tc, test_client_close, 0, 2);
  tcase_add_test(tc, test_refused);
  tcase_add_test(tc, test_unknown_host);
  tcase_add_test(tc, test_ping_pong_origin_close0);
  tcase_add_test(tc, test_keepalive_ping);
  tcase_add_loop_test(tc, test_permessage_deflate, 0, 2);
  tcase_add_test(tc, test_200_concurrent);
  tcase_add_test(tc, test_released_while_open);
  tcase_add_test(tc, test_released_while_opening);
  tcase_add_test(tc, test_owner_thread_finishes_first);
  suite_add_tcase(s, tc);

  tc = tcase_create("badserver");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, test_badserver, 0, NBAD);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  if (access("/usr/bin/python3", X_OK) != 0) {
    fprintf(stderr, "SKIP: /usr/bin/python3 not found\n");
    return 77;
  }
  char script[PATH_MAX];
  snprintf(script, sizeof script, "%s/test/xpcshell/servers/echo_server.py",
           wst_srcdir());
  const char *argv[] = {"/usr/bin/python3", script, NULL};
  if (wst_server_start(&g_py, argv) != 0) {
    fprintf(stderr, "cannot start the Python echo server (python3-websockets)\n");
    return EXIT_FAILURE;
  }
  g_have_node = start_node();
  SRunner *sr = srunner_create(net_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  wst_server_stop(&g_py);
  wst_server_stop(&g_node);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

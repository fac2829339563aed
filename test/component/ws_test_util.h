/*
 * ws_test_util.h — helpers for the channel's end-to-end tests: starting
 * peer servers (Python, Node, the misbehaving badserver.py) as child
 * processes, a recording nsIWebSocketListener written in C, and an event
 * loop with a deadline. Test code only; everything runs on the main thread
 * except the child processes.
 */
#ifndef WSCHANNEL_WS_TEST_UTIL_H
#define WSCHANNEL_WS_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "nscore.h"
#include "nsIWebSocketChannel.h"
#include "nsIWebSocketListener.h"

/* ---- servers ------------------------------------------------------------ */

typedef struct wst_server {
  pid_t pid;
  int stdin_fd;  /* the child's stdin: closing it stops the echo servers */
  int stdout_fd; /* the child's stdout (read for EVENT lines) */
  char url[256]; /* "ws://127.0.0.1:PORT/" */
  int port;
} wst_server;

/*
 * Starts argv (argv[0] is looked up in PATH) with pipes for stdin and
 * stdout and waits up to 20 s for its first stdout line: either a URL
 * ("ws://…", the echo servers) or "LISTENING <port>" (badserver.py,
 * fuzzingserver.py). Fills *s and returns 0, or returns -1 (and prints why,
 * with the child's stderr left on ours) when it did not start.
 */
int wst_server_start(wst_server *s, const char *const argv[]);

/* Stops a server started by wst_server_start: closes its stdin, sends
 * SIGTERM to that pid, and reaps it. Safe on a zeroed struct. */
void wst_server_stop(wst_server *s);

/* Reads the server's stdout lines until one contains `needle` (copied into
 * line[cap] when line is not NULL) or timeout_ms passed. Returns 0 when
 * found. For badserver.py's "EVENT n what ..." lines. */
int wst_server_wait_line(wst_server *s, const char *needle, char *line,
                         size_t cap, int timeout_ms);

/* The source tree's top directory (the `srcdir` automake exports to tests,
 * made absolute, else the configure-time path). */
const char *wst_srcdir(void);

/* ---- the recording listener ---------------------------------------------- */

typedef enum wst_event_kind {
  WST_START,
  WST_TEXT,
  WST_BINARY,
  WST_ACK,
  WST_SERVER_CLOSE,
  WST_STOP
} wst_event_kind;

typedef struct wst_event {
  wst_event_kind kind;
  char *data;      /* message or close reason (malloc'd, NUL added) */
  uint32_t len;
  uint32_t size;   /* ACK */
  uint16_t code;   /* SERVER_CLOSE */
  nsresult status; /* STOP */
} wst_event;

typedef struct wst_listener wst_listener;

/* Optional hooks, called after the event was recorded. */
typedef struct wst_hooks {
  void (*on_start)(wst_listener *l);
  void (*on_message)(wst_listener *l, const wst_event *e);
  void (*on_server_close)(wst_listener *l, const wst_event *e);
  void (*on_stop)(wst_listener *l, const wst_event *e);
} wst_hooks;

struct wst_listener {
  nsIWebSocketListener iface;
  uint32_t refcnt;
  nsIWebSocketChannel *channel; /* the test's reference (may be NULL) */
  nsISupports *expected_context; /* what every call must pass */
  const wst_hooks *hooks;
  void *user;
  wst_event *events;
  size_t nevents, cap;
  size_t nstops;      /* onStop calls (must end at 1) */
  bool bad_context;   /* a call passed another context */
  bool after_stop;    /* a call came after onStop */
  char protocol_at_start[64];   /* channel.protocol read inside onStart */
  char extensions_at_start[64]; /* channel.extensions read inside onStart */
};

/* A new listener with one reference (the caller's). Leak-accounted. */
wst_listener *wst_listener_new(const wst_hooks *hooks, void *user);
void wst_listener_release(wst_listener *l);

/* Number of recorded events of a kind; the first one, or NULL. */
size_t wst_count(const wst_listener *l, wst_event_kind kind);
const wst_event *wst_first(const wst_listener *l, wst_event_kind kind);
bool wst_stopped(const wst_listener *l);
/* onStop's status (NS_ERROR_UNEXPECTED if it has not come). */
nsresult wst_stop_status(const wst_listener *l);
/* "START TEXT(5) ACK(5) …" for failure messages; static buffer. */
const char *wst_describe(const wst_listener *l);

/* ---- channels ------------------------------------------------------------ */

/* Creates a channel for `url`'s scheme by contract ID (ws or wss). NULL on
 * failure (the test fails). */
nsIWebSocketChannel *wst_channel_new(const char *url);

/*
 * Creates a channel, sets `protocol` (if not NULL), and asyncOpens `url`
 * with origin `origin` (NULL = "") and listener l (l->channel takes the
 * test's reference). Returns asyncOpen's result; on failure l->channel is
 * still set (release it with the listener).
 */
nsresult wst_open(wst_listener *l, const char *url, const char *protocol,
                  const char *origin);

/* sendMsg / sendBinaryMsg / close with plain C data. */
nsresult wst_send(nsIWebSocketChannel *ch, bool binary, const void *data,
                  size_t len);
nsresult wst_close(nsIWebSocketChannel *ch, uint16_t code, const char *reason);

/* ---- event loop ---------------------------------------------------------- */

/*
 * Runs main-thread events until done(arg) is true or timeout_ms passed.
 * Returns done's final value.
 */
bool wst_run_until(bool (*done)(void *arg), void *arg, uint32_t timeout_ms);

/* Until the listener has stopped. */
bool wst_run_until_stopped(wst_listener *l, uint32_t timeout_ms);

/* Runs events for ms milliseconds. */
void wst_spin(uint32_t ms);

/* Threads of this process now (from /proc/self/task). */
int wst_thread_count(void);

#endif /* WSCHANNEL_WS_TEST_UTIL_H */

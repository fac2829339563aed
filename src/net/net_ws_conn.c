/*
 * net_ws_conn.c — one WebSocket connection: the socket-thread state
 * machine, and the two lock-free lists through which it talks to its
 * owner.
 *
 * Cross-thread lists: commands (owner → socket thread) and event blocks
 * (socket thread → owner) are intrusive stacks pushed with one CAS; the
 * consumer takes the whole stack with one exchange and reverses it. A push
 * that finds the stack empty posts the consumer's event, so one event
 * serves every item queued before it runs (batching across threads).
 *
 * Events are records packed into blocks (a read that yields a thousand
 * small messages makes one or two allocations); small messages are copied
 * into the block, large ones travel as the session's own assembly buffer
 * (taken over, no copy).
 *
 * Lifetime: an atomic reference count. References: the owner's handle,
 * the socket side (from open until the state machine reaches DONE), and
 * each posted event. Every socket-thread entry point holds a reference for
 * its duration, so finishing (which drops the socket side's) is safe
 * anywhere.
 */
#include "net_ws_conn.h"

#include <prio.h>
#include <prnetdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net_admission.h"
#include "net_bufpool.h"
#include "net_dns.h"
#include "net_nss.h"
#include "net_secinfo.h"
#include "net_tls.h"
#include "nsXPCOM.h"
#include "xpcom_thread.h" /* before the generated headers (C natives) */
#include "nsIEventTarget.h"
#include "nsITimer.h"
#include "websocket/ws_deflate.h"
#include "websocket/ws_handshake.h"
#include "websocket/ws_session.h"
#include "xpcom_log.h"
#include "xpcom_object.h"

XPCOM_LOG_MODULE(g_log, "nsWebSocket");

#define LOG_DEBUG(args) XPCOM_LOG(g_log, XPCOM_LOG_DEBUG, args)
#define LOG_VERBOSE(args) XPCOM_LOG(g_log, XPCOM_LOG_VERBOSE, args)

/* Lingering close (Gecko's kLingeringCloseTimeout): after the close
 * handshake, wait this long for the server's FIN, reading and discarding
 * at most LINGER_MAX_BYTES, so our last bytes are not lost to a reset. */
#define LINGER_MS 1000
#define LINGER_MAX_BYTES (64u * 1024u)
#define READS_PER_WAKEUP 4       /* fairness between connections */
/* TLS hands out one record (at most 16 KiB) per read: read on while
 * plaintext is ready, up to this much per wakeup. */
#define TLS_READ_BUDGET (1u << 20)
#define EV_BLOCK_MIN 4096u
#define EV_BLOCK_MAX 65536u
#define EV_COPY_MAX 4096u        /* smaller messages are copied into the block */
#define EV_INLINE_MAX 65536u     /* larger copies get their own allocation */
#define WRITEV_CHUNK (1u << 30)  /* PRIOVec lengths are ints */
/* A frame with at least this much payload still to come is read straight
 * into its message buffer (no copy out of the shared read buffer). */
#define DIRECT_MIN (64u * 1024u)
/* After such a read, the next read (at a frame boundary) is this small:
 * if another large frame follows, only this much of it is copied. */
#define BOUNDARY_READ (16u * 1024u)
/* Default for net_ws_conn_params.max_undelivered. */
#define MAX_UNDELIVERED_DEFAULT (1u << 20)

static const char g_ping_payload[] = "PING";

/* ---- types ---------------------------------------------------------------- */

enum conn_state {
  S_NEW,        /* created; the start event has not run */
  S_RESOLVING,  /* DNS */
  S_WAITING,    /* admission queue (one CONNECTING per address) */
  S_CONNECTING, /* PR_Connect under way */
  S_TLS,        /* wss://: TLS handshake (net_tls) */
  S_HANDSHAKE,  /* HTTP upgrade request / response */
  S_OPEN,       /* ws_session runs (including the close handshake) */
  S_LINGER,     /* closes done, output written: waiting for the FIN */
  S_DONE
};

static const char *const g_state_names[] = {"new",       "resolving", "waiting",
                                            "connecting", "tls",      "handshake",
                                            "open",       "linger",   "done"};

enum ev_type { EV_START = 1, EV_MESSAGE, EV_ACK, EV_SERVER_CLOSE, EV_STOP, EV_SECINFO };

/* One event inside a block; inline bytes follow it. */
typedef struct ev_rec {
  uint32_t size; /* the whole record, a multiple of 8 */
  uint8_t type;
  uint8_t binary;
  uint16_t code;
  uint64_t value; /* EV_MESSAGE length, EV_ACK size, EV_STOP status,
                     EV_SERVER_CLOSE / EV_START inline length */
  uint8_t *ptr;   /* EV_MESSAGE: malloc'd bytes, or NULL when inline;
                     EV_SECINFO: a net_tls_info */
} ev_rec;

typedef struct ev_block {
  struct ev_block *next;
  uint32_t used, cap;
  uint64_t data[]; /* records, 8-aligned */
} ev_block;

enum cmd_type { C_SEND, C_CLOSE, C_ABORT };

typedef struct cmd {
  struct cmd *next;
  uint8_t type;
  bool binary;
  uint16_t code;
  nsresult status;
  size_t len;
  uint8_t *data;  /* inline_data, or an adopted buffer */
  bool adopted;
  uint8_t inline_data[];
} cmd;

enum timer_kind { TK_NONE, TK_OPEN, TK_CLOSE, TK_LINGER };

struct net_ws_conn {
  atomic_uint refcnt;

  /* ---- immutable after open ---- */
  char *host;    /* unbracketed, for DNS and TLS */
  uint16_t port;
  bool secure;   /* wss:// */
  uint64_t max_message;
  uint64_t max_undelivered;
  uint32_t open_timeout_ms, close_timeout_ms, ping_interval_ms, ping_timeout_ms;
  nsIEventTarget *owner_target; /* owned reference */
  net_ws_conn_callbacks cb;
  void (*on_security_info)(void *owner, nsISupports *info);
  void *owner;

  /* ---- shared ---- */
  atomic_uint_least64_t buffered;
  /* Receive backpressure: bytes of message events handed to the owner
   * and not yet delivered (the owner subtracts), and the socket thread's
   * request to be resumed once that falls under max_undelivered. */
  atomic_uint_least64_t undelivered;
  atomic_bool resume_wanted;
  _Atomic(cmd *) cmds;          /* owner pushes, socket thread takes */
  _Atomic(ev_block *) events;   /* socket thread pushes, owner takes */

  /* ---- owner thread only ---- */
  bool owner_released;
  bool stop_delivered;

  /* ---- socket thread only ---- */
  enum conn_state state;
  net_sts_handler h;
  net_admission_ticket ticket;
  net_dns_request *dns;
  net_addr_list *addrs;
  size_t next_addr;
  PRErrorCode last_err;
  net_tls *tls;            /* wss://: from TCP connect until the socket closes */
  struct ws_handshake *hs; /* built on the owner thread, then ours */
  size_t req_sent;
  struct ws_session *session;
  nsITimer *timer;          /* open, close or linger */
  enum timer_kind timer_kind;
  nsITimer *ping_timer;
  uint64_t last_rx_ms;
  bool ping_outstanding;
  cmd *pend_head, *pend_tail; /* commands waiting for the open */
  uint64_t in_session;        /* bytes given to the session, not yet acknowledged */
  nsresult status;            /* final status once known */
  bool closing;               /* our close is queued (or a failure is draining) */
  bool peer_eof;
  uint32_t linger_bytes;
  int ws_err;                 /* the session's failure */
  ev_block *cur_first, *cur_last; /* events not yet handed over */
  uint64_t ev_bytes;          /* message bytes in them (see `undelivered`) */
  bool ev_oom;                /* an event could not be recorded */
  bool rx_paused;             /* not reading: the owner is behind */
  bool small_read;            /* the last read was direct (see BOUNDARY_READ) */
};

static atomic_uint g_live_conns;

static void conn_finish(net_ws_conn *c, nsresult status);
static void conn_io(net_ws_conn *c);

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static char *dup_str(const char *s) {
  size_t n = strlen(s);
  char *d = malloc(n + 1);
  if (d)
    memcpy(d, s, n + 1);
  return d;
}

/* ---- errors ----------------------------------------------------------------- */

NET_API(nsresult) net_error_from_pr(PRErrorCode err) {
  switch (err) {
  case PR_WOULD_BLOCK_ERROR:
    return NS_BASE_STREAM_WOULD_BLOCK;
  case PR_CONNECT_ABORTED_ERROR:
  case PR_CONNECT_RESET_ERROR:
    return NS_ERROR_NET_RESET;
  case PR_END_OF_FILE_ERROR:
    return NS_ERROR_NET_INTERRUPT;
  case PR_CONNECT_REFUSED_ERROR:
  case PR_NETWORK_UNREACHABLE_ERROR:
  case PR_HOST_UNREACHABLE_ERROR:
  case PR_ADDRESS_NOT_AVAILABLE_ERROR:
  case PR_NO_ACCESS_RIGHTS_ERROR:
    return NS_ERROR_CONNECTION_REFUSED;
  case PR_IO_TIMEOUT_ERROR:
  case PR_CONNECT_TIMEOUT_ERROR:
    return NS_ERROR_NET_TIMEOUT;
  case PR_OUT_OF_MEMORY_ERROR:
  case PR_PROC_DESC_TABLE_FULL_ERROR:
  case PR_SYS_DESC_TABLE_FULL_ERROR:
  case PR_INSUFFICIENT_RESOURCES_ERROR:
    return NS_ERROR_OUT_OF_MEMORY;
  case PR_ADDRESS_IN_USE_ERROR:
    return NS_ERROR_SOCKET_ADDRESS_IN_USE;
  default:
    break;
  }
  /* NSS: SEC_ERROR_BASE (-0x2000) and SSL_ERROR_BASE (-0x3000) ranges. */
  if ((err >= -0x2000 && err < -0x2000 + 1000) || (err >= -0x3000 && err < -0x3000 + 1000))
    return NS_ERROR_FROM_NSS_ERROR(err);
  return NS_ERROR_FAILURE;
}

/* The handshake parser's verdict as Gecko 8 reports it. */
static nsresult handshake_error(const net_ws_conn *c, int err) {
  switch (err) {
  case WS_ERR_HANDSHAKE_STATUS:
    return NS_ERROR_CONNECTION_REFUSED; /* not 101 */
  case WS_ERR_HANDSHAKE_MALFORMED:
    /* Not even a status line: no HTTP response at all (Gecko's HTTP
     * layer would see HTTP/0.9 and answer "not 101"). */
    return ws_handshake_status_code(c->hs) == 0 ? NS_ERROR_CONNECTION_REFUSED
                                                : NS_ERROR_ILLEGAL_VALUE;
  case WS_ERR_NOMEM:
    return NS_ERROR_OUT_OF_MEMORY;
  default:
    return NS_ERROR_ILLEGAL_VALUE;
  }
}

/* A session failure as Gecko 8 reports it (the close frame carries
 * ws_error_close_code: 1002, 1007, 1009, 1011). */
static nsresult session_error(int err) {
  switch (err) {
  case WS_ERR_MESSAGE_TOO_BIG:
    return NS_ERROR_FILE_TOO_BIG;
  case WS_ERR_NOMEM:
    return NS_ERROR_OUT_OF_MEMORY;
  case WS_ERR_INTERNAL:
  case WS_ERR_CALLBACK_FAILURE:
    return NS_ERROR_UNEXPECTED;
  default:
    return NS_ERROR_ILLEGAL_VALUE; /* protocol violations, invalid UTF-8 */
  }
}

/* ---- references --------------------------------------------------------------- */

static void conn_addref(net_ws_conn *c) {
  atomic_fetch_add_explicit(&c->refcnt, 1, memory_order_relaxed);
}

static void free_blocks(ev_block *b) {
  while (b) {
    ev_block *next = b->next;
    for (uint32_t off = 0; off < b->used;) {
      ev_rec *r = (ev_rec *)(void *)((char *)b->data + off);
      if (r->type == EV_SECINFO)
        net_tls_info_free((net_tls_info *)(void *)r->ptr);
      else
        net_bufpool_put(r->ptr);
      off += r->size;
    }
    net_bufpool_put(b); /* full-size blocks are reused (net_bufpool_get) */
    b = next;
  }
}

static void free_cmds(cmd *k) {
  while (k) {
    cmd *next = k->next;
    if (k->adopted)
      free(k->data);
    free(k);
    k = next;
  }
}

static void conn_destroy(net_ws_conn *c) {
  free_blocks(atomic_load(&c->events));
  /* cur_last is the newest block; the chain runs newest → oldest. */
  free_blocks(c->cur_last);
  free_cmds(atomic_load(&c->cmds));
  free_cmds(c->pend_head);
  ws_handshake_del(c->hs);
  ws_session_del(c->session);
  net_tls_free(c->tls); /* NULL unless the socket thread never finished */
  free(c->addrs);
  free(c->host);
  NS_IF_RELEASE(c->owner_target);
  xpcom_leak_dtor("net_ws_conn", sizeof *c);
  free(c);
  atomic_fetch_sub(&g_live_conns, 1);
}

static void conn_release(net_ws_conn *c) {
  if (atomic_fetch_sub_explicit(&c->refcnt, 1, memory_order_acq_rel) == 1)
    conn_destroy(c);
}

static void conn_release_cb(void *arg) { conn_release(arg); }

NET_API(uint32_t) net_ws_conn_live_count(void) { return atomic_load(&g_live_conns); }

/* ---- events: socket thread side ------------------------------------------------- */

static ev_rec *ev_add(net_ws_conn *c, uint8_t type, size_t inline_len) {
  size_t need = (sizeof(ev_rec) + inline_len + 7u) & ~(size_t)7u;
  ev_block *b = c->cur_last;
  if (!b || b->cap - b->used < need) {
    size_t cap = b ? (b->cap * 2u > EV_BLOCK_MAX ? EV_BLOCK_MAX : b->cap * 2u) : EV_BLOCK_MIN;
    if (cap < need)
      cap = need;
    /* The largest blocks cycle through the buffer pool: a busy connection
     * then reuses mapped pages instead of faulting fresh ones in. */
    ev_block *nb = net_bufpool_get(sizeof *nb + cap);
    if (!nb) {
      c->ev_oom = true;
      return NULL;
    }
    nb->next = b; /* newest first */
    nb->used = 0;
    nb->cap = (uint32_t)cap;
    c->cur_last = nb;
    if (!c->cur_first)
      c->cur_first = nb;
    b = nb;
  }
  ev_rec *r = (ev_rec *)(void *)((char *)b->data + b->used);
  b->used += (uint32_t)need;
  memset(r, 0, sizeof *r);
  r->size = (uint32_t)need;
  r->type = type;
  return r;
}

static void deliver_run(void *arg);

/* What a message counts against max_undelivered: its bytes and its record
 * (so a flood of empty messages counts too). */
static uint64_t msg_cost(uint64_t len) { return len + sizeof(ev_rec); }

/* Hands the events recorded so far to the owner: one CAS; posts the
 * owner's event only when its list was empty. */
static void ev_flush(net_ws_conn *c) {
  ev_block *first = c->cur_first, *last = c->cur_last;
  if (!last)
    return;
  c->cur_first = c->cur_last = NULL;
  if (c->ev_bytes) { /* before the push: the owner subtracts after it */
    atomic_fetch_add(&c->undelivered, c->ev_bytes);
    c->ev_bytes = 0;
  }
  ev_block *old = atomic_load_explicit(&c->events, memory_order_relaxed);
  do {
    first->next = old;
  } while (!atomic_compare_exchange_weak_explicit(&c->events, &old, last, memory_order_release,
                                                  memory_order_relaxed));
  if (old)
    return; /* an event is already on its way */
  conn_addref(c);
  if (NS_FAILED(xpcom_dispatch_fn(c->owner_target, deliver_run, c, conn_release_cb)))
    conn_release(c); /* the owner's thread is gone; destroy frees the list */
}

static void ev_start(net_ws_conn *c, const char *protocol, const char *extensions) {
  size_t pl = strlen(protocol), el = strlen(extensions);
  ev_rec *r = ev_add(c, EV_START, pl + el + 2);
  if (!r)
    return;
  char *p = (char *)(r + 1);
  memcpy(p, protocol, pl + 1);
  memcpy(p + pl + 1, extensions, el + 1);
  r->value = pl;
}

/* Takes info over (freed here when the event cannot be recorded). */
static void ev_secinfo(net_ws_conn *c, net_tls_info *info) {
  if (!info)
    return;
  ev_rec *r = ev_add(c, EV_SECINFO, 0);
  if (!r) {
    net_tls_info_free(info);
    return;
  }
  r->ptr = (uint8_t *)(void *)info;
}

static void ev_stop(net_ws_conn *c, nsresult status) {
  ev_rec *r = ev_add(c, EV_STOP, 0);
  if (!r) {
    /* on_stop must come: retry with a fresh minimal block. */
    ev_block *nb = malloc(sizeof *nb + sizeof(ev_rec));
    if (!nb)
      return; /* nothing more we can do; the owner's release still works */
    nb->next = c->cur_last;
    nb->used = 0;
    nb->cap = sizeof(ev_rec);
    c->cur_last = nb;
    if (!c->cur_first)
      c->cur_first = nb;
    r = ev_add(c, EV_STOP, 0);
    if (!r)
      return;
  }
  r->value = status;
}

/* ---- events: owner side ------------------------------------------------------------ */

NET_API(uint8_t *) net_ws_message_take(net_ws_message *msg) {
  if (!msg || !msg->rec_)
    return NULL;
  ev_rec *r = msg->rec_;
  if (r->ptr) {
    uint8_t *p = r->ptr;
    r->ptr = NULL;
    msg->rec_ = NULL;
    return p;
  }
  if (!msg->len)
    return NULL;
  uint8_t *p = malloc(msg->len);
  if (p)
    memcpy(p, msg->data, msg->len);
  msg->rec_ = NULL;
  return p;
}

static void deliver_rec(net_ws_conn *c, ev_rec *r) {
  bool live = !c->owner_released && !c->stop_delivered;
  const char *inl = (const char *)(r + 1);
  switch (r->type) {
  case EV_START:
    if (live && c->cb.on_start)
      c->cb.on_start(c->owner, inl, inl + r->value + 1);
    break;
  case EV_MESSAGE:
    if (live && c->cb.on_message) {
      net_ws_message m = {r->binary != 0, r->ptr ? r->ptr : (const uint8_t *)inl,
                          (size_t)r->value, r};
      c->cb.on_message(c->owner, &m);
    }
    net_bufpool_put(r->ptr); /* its pages serve the next large message */
    r->ptr = NULL;
    break;
  case EV_ACK:
    if (live && c->cb.on_acknowledge)
      c->cb.on_acknowledge(c->owner, r->value);
    break;
  case EV_SERVER_CLOSE:
    if (live && c->cb.on_server_close)
      c->cb.on_server_close(c->owner, r->code, inl, (size_t)r->value);
    break;
  case EV_STOP:
    if (live) {
      c->stop_delivered = true;
      c->cb.on_stop(c->owner, (nsresult)r->value);
    }
    break;
  case EV_SECINFO: {
    net_tls_info *info = (net_tls_info *)(void *)r->ptr;
    r->ptr = NULL;
    if (!live || !c->on_security_info) {
      net_tls_info_free(info);
      break;
    }
    nsISupports *obj = NULL;
    if (NS_SUCCEEDED(net_secinfo_create(info, &obj))) { /* adopts info */
      c->on_security_info(c->owner, obj);
      NS_RELEASE(obj);
    }
    break;
  }
  default:
    break;
  }
}

static void conn_resume(void *arg);

/* Owner thread: `bytes` of messages were delivered (and their buffers
 * freed). If the socket thread stopped reading for them and the backlog is
 * now under the limit, it is told to read again — once: whoever takes
 * resume_wanted sends the event. The socket thread sets the flag before
 * it re-reads the counter, and we lower the counter before we read the
 * flag (both sequentially consistent), so one of us always sees the
 * other. */
static void rx_delivered(net_ws_conn *c, uint64_t bytes) {
  uint64_t left = atomic_fetch_sub(&c->undelivered, bytes) - bytes;
  if (left >= c->max_undelivered || !atomic_load(&c->resume_wanted) ||
      !atomic_exchange(&c->resume_wanted, false))
    return;
  conn_addref(c);
  if (NS_FAILED(net_sts_dispatch(conn_resume, c, conn_release_cb)))
    conn_release(c); /* the socket thread is gone: nothing to resume */
}

/* On the owner's thread: delivers everything queued so far, in order. */
static void deliver_run(void *arg) {
  net_ws_conn *c = arg;
  ev_block *stack = atomic_exchange_explicit(&c->events, NULL, memory_order_acquire);
  ev_block *list = NULL;
  while (stack) { /* reverse: oldest first */
    ev_block *next = stack->next;
    stack->next = list;
    list = stack;
    stack = next;
  }
  uint64_t delivered = 0;
  for (ev_block *b = list; b; b = b->next)
    for (uint32_t off = 0; off < b->used;) {
      ev_rec *r = (ev_rec *)(void *)((char *)b->data + off);
      if (r->type == EV_MESSAGE)
        delivered += msg_cost(r->value);
      deliver_rec(c, r);
      off += r->size;
    }
  free_blocks(list);
  if (delivered)
    rx_delivered(c, delivered);
  conn_release(c);
}

/* ---- session callbacks (socket thread, inside ws_session_*) ------------------------- */

static int sess_rand(void *ud, uint8_t *buf, size_t len) {
  (void)ud;
  return NS_SUCCEEDED(net_random(buf, len)) ? 0 : -1;
}

static void sess_on_message(void *ud, enum ws_message_type type, const uint8_t *data, size_t len) {
  net_ws_conn *c = ud;
  LOG_VERBOSE(("[%p] message in: %s, %zu bytes", (void *)c,
               type == WS_MESSAGE_TEXT ? "text" : "binary", len));
  ev_rec *r;
  uint8_t *own = NULL;
  size_t cap = 0;
  if (len > EV_COPY_MAX)
    own = ws_session_take_message_buffer(c->session, &cap); /* no copy */
  if (own) {
    r = ev_add(c, EV_MESSAGE, 0);
    if (!r) {
      net_bufpool_put(own);
      return;
    }
    r->ptr = own;
  } else if (len <= EV_INLINE_MAX) {
    r = ev_add(c, EV_MESSAGE, len);
    if (!r)
      return;
    if (len)
      memcpy(r + 1, data, len);
  } else {
    uint8_t *copy = malloc(len);
    r = copy ? ev_add(c, EV_MESSAGE, 0) : NULL;
    if (!r) {
      free(copy);
      c->ev_oom = true;
      return;
    }
    memcpy(copy, data, len);
    r->ptr = copy;
  }
  r->binary = type == WS_MESSAGE_BINARY;
  r->value = len;
  c->ev_bytes += msg_cost(len);
  /* Over the limit, the next message must not take a whole buffer from
   * the bytes left in this read: reading stops after it (rx_must_pause). */
  if (c->ev_bytes + atomic_load_explicit(&c->undelivered, memory_order_relaxed) >=
      c->max_undelivered)
    ws_session_set_prealloc(c->session, false);
}

static void sess_on_ping(void *ud, const uint8_t *data, size_t len) {
  LOG_VERBOSE(("[%p] ping in: %zu bytes (pong queued)", ud, len));
}

static void sess_on_pong(void *ud, const uint8_t *data, size_t len) {
  LOG_VERBOSE(("[%p] pong in: %zu bytes", ud, len));
}

static void sess_on_close(void *ud, uint16_t code, const uint8_t *reason, size_t len) {
  net_ws_conn *c = ud;
  LOG_DEBUG(("[%p] server close: code %u, reason %zu bytes", (void *)c, (unsigned)code, len));
  ev_rec *r = ev_add(c, EV_SERVER_CLOSE, len + 1);
  if (!r)
    return;
  r->code = code;
  r->value = len;
  char *p = (char *)(r + 1);
  if (len)
    memcpy(p, reason, len);
  p[len] = '\0';
}

static void sess_on_error(void *ud, int err) {
  net_ws_conn *c = ud;
  c->ws_err = err;
  LOG_DEBUG(("[%p] failing the connection: %s (%s), close %u", (void *)c, ws_error_name(err),
             ws_error_message(err), (unsigned)ws_error_close_code(err)));
}

static void sess_on_ack(void *ud, uint64_t size) {
  net_ws_conn *c = ud;
  c->in_session -= size;
  atomic_fetch_sub_explicit(&c->buffered, size, memory_order_relaxed);
  LOG_VERBOSE(("[%p] message out: %llu bytes written", (void *)c, (unsigned long long)size));
  ev_rec *r = ev_add(c, EV_ACK, 0);
  if (r)
    r->value = size;
}

/* ---- state helpers (socket thread) ------------------------------------------------ */

static void set_state(net_ws_conn *c, enum conn_state s) {
  LOG_DEBUG(("[%p] %s -> %s", (void *)c, g_state_names[c->state], g_state_names[s]));
  c->state = s;
}

static void set_poll(net_ws_conn *c, PRInt16 flags) {
  if (c->h.in_flags != flags) {
    c->h.in_flags = flags;
    net_sts_update(&c->h);
  }
}

static void timer_fired(nsITimer *t, void *closure);

static void arm_timer(net_ws_conn *c, enum timer_kind kind, uint32_t ms) {
  if (!ms) {
    xpcom_timer_release(&c->timer);
    c->timer_kind = TK_NONE;
    return;
  }
  c->timer_kind = kind;
  if (NS_FAILED(xpcom_timer_arm(&c->timer, ms, 0, timer_fired, c)))
    c->timer_kind = TK_NONE; /* no timer: the socket still ends the wait */
}

/* Closes the socket but stays attached (polling nothing). */
static void drop_fd(net_ws_conn *c) {
  PRFileDesc *fd = c->h.fd;
  c->h.fd = NULL;
  c->h.in_flags = 0;
  net_sts_update(&c->h); /* the poll array must not keep a closed fd */
  if (fd)
    PR_Close(fd);
}

static void close_fd(net_ws_conn *c) {
  net_sts_detach(&c->h);
  if (c->h.fd) {
    PR_Close(c->h.fd);
    c->h.fd = NULL;
  }
  c->h.in_flags = 0;
}

static void drop_cmd(net_ws_conn *c, cmd *k) {
  if (k->type == C_SEND)
    atomic_fetch_sub_explicit(&c->buffered, k->len, memory_order_relaxed);
  if (k->adopted)
    free(k->data);
  free(k);
}

/* The end: everything is released, on_stop is queued, the socket side's
 * reference is dropped. Idempotent. */
static void conn_finish(net_ws_conn *c, nsresult status) {
  if (c->state == S_DONE)
    return;
  bool opened = c->state >= S_OPEN;
  LOG_DEBUG(("[%p] stop: %s (0x%08x)", (void *)c, XPCOM_ErrorName(status), (unsigned)status));
  set_state(c, S_DONE);
  if (c->dns) {
    net_dns_cancel(c->dns);
    c->dns = NULL;
  }
  if (!opened) {
    /* Our own aborts do not count as failures of the address (Gecko does
     * not grow the delay for close() before connect either). */
    bool ours = status == NS_ERROR_ABORT || status == NS_BINDING_ABORTED ||
                status == NS_ERROR_NOT_CONNECTED;
    net_admission_done(&c->ticket, ours ? NET_ADMISSION_CANCELLED : NET_ADMISSION_FAILED);
  }
  xpcom_timer_release(&c->timer);
  xpcom_timer_release(&c->ping_timer);
  c->timer_kind = TK_NONE;
  close_fd(c);
  net_sts_detach(&c->h);
  net_tls_free(c->tls); /* after PR_Close: NSS's hooks pointed at it */
  c->tls = NULL;
  ws_session_del(c->session);
  c->session = NULL;
  ws_handshake_del(c->hs);
  c->hs = NULL;
  free(c->addrs);
  c->addrs = NULL;
  while (c->pend_head) {
    cmd *k = c->pend_head;
    c->pend_head = k->next;
    drop_cmd(c, k);
  }
  c->pend_tail = NULL;
  atomic_fetch_sub_explicit(&c->buffered, c->in_session, memory_order_relaxed);
  c->in_session = 0;
  ev_stop(c, status);
  ev_flush(c);
  conn_release(c); /* the socket side's reference */
}

/* Fails an open connection for a local reason (timeout, abort): when
 * `code` is non-zero and the session is open, a close frame is written if
 * the socket takes it right away; then the socket is closed. */
static void conn_fail_now(net_ws_conn *c, nsresult status, uint16_t code) {
  if (c->session && code && ws_session_state(c->session) == WS_SESSION_OPEN &&
      ws_session_send_close(c->session, code, NULL, 0) == 0 && c->h.fd) {
    struct ws_iovec iov[4];
    PRIOVec piov[4];
    size_t n = ws_session_peek_output(c->session, iov, 4);
    size_t total = 0, m = 0;
    for (; m < n; m++) {
      size_t l = iov[m].len > WRITEV_CHUNK ? WRITEV_CHUNK : iov[m].len;
      if (total + l > WRITEV_CHUNK)
        break;
      piov[m].iov_base = (char *)(uintptr_t)iov[m].base;
      piov[m].iov_len = (int)l;
      total += l;
    }
    (void)PR_Writev(c->h.fd, piov, (PRInt32)m, PR_INTERVAL_NO_WAIT);
  }
  conn_finish(c, status);
}

/* ---- the socket-thread state machine ---------------------------------------------- */

static void on_ready(net_sts_handler *h, PRInt16 out_flags);
static void on_detach(net_sts_handler *h, nsresult why);
static void try_connect(net_ws_conn *c);
static void apply_cmd(net_ws_conn *c, cmd *k);

static void enter(net_ws_conn *c) { conn_addref(c); }

static void leave(net_ws_conn *c) {
  ev_flush(c);
  conn_release(c);
}

static void dns_done(void *closure, nsresult status, net_addr_list *addrs) {
  net_ws_conn *c = closure;
  enter(c);
  c->dns = NULL;
  if (c->state != S_RESOLVING) {
    free(addrs);
  } else if (NS_FAILED(status)) {
    LOG_DEBUG(("[%p] cannot resolve %s: %s", (void *)c, c->host, XPCOM_ErrorName(status)));
    conn_finish(c, status);
  } else {
    c->addrs = addrs;
    set_state(c, S_WAITING);
    /* RFC 6455 §4.1: the first address is the one that queues. */
    nsresult rv = net_admission_enqueue(&c->ticket, &addrs->addrs[0]);
    if (NS_FAILED(rv))
      conn_finish(c, rv);
  }
  leave(c);
}

static void admitted(net_admission_ticket *t) {
  net_ws_conn *c = XPCOM_CONTAINER_OF(t, net_ws_conn, ticket);
  enter(c);
  if (c->state == S_WAITING) {
    set_state(c, S_CONNECTING);
    c->next_addr = 0;
    c->last_err = PR_CONNECT_REFUSED_ERROR;
    try_connect(c);
  }
  leave(c);
}

static void conn_start(void *arg) {
  net_ws_conn *c = arg; /* carries the socket side's reference */
  enter(c);
  c->h.fd = NULL;
  c->h.in_flags = 0;
  c->h.on_ready = on_ready;
  c->h.on_detach = on_detach;
  c->h.sts_index = -1;
  nsresult rv = net_sts_attach(&c->h);
  if (NS_FAILED(rv)) {
    conn_finish(c, NS_ERROR_ABORT);
  } else {
    set_state(c, S_RESOLVING);
    arm_timer(c, TK_OPEN, c->open_timeout_ms);
    rv = net_dns_resolve(c->host, c->port, dns_done, c, &c->dns);
    if (NS_FAILED(rv))
      conn_finish(c, rv == NS_ERROR_NOT_AVAILABLE ? NS_ERROR_ABORT : rv);
  }
  leave(c);
}

/* The start event was destroyed unrun (the socket thread went away). */
static void conn_start_drop(void *arg) {
  net_ws_conn *c = arg;
  if (c->state != S_DONE) {
    c->state = S_DONE;
    ev_stop(c, NS_ERROR_ABORT);
    ev_flush(c);
  }
  conn_release(c);
}

static void send_request(net_ws_conn *c) {
  const uint8_t *req;
  size_t len;
  ws_handshake_request(c->hs, &req, &len);
  while (c->req_sent < len) {
    size_t want = len - c->req_sent;
    PRInt32 n = PR_Send(c->h.fd, req + c->req_sent, want > INT32_MAX ? INT32_MAX : (PRInt32)want,
                        0, PR_INTERVAL_NO_WAIT);
    if (n < 0) {
      PRErrorCode err = PR_GetError();
      if (err == PR_WOULD_BLOCK_ERROR) {
        set_poll(c, PR_POLL_READ | PR_POLL_WRITE);
        return;
      }
      LOG_DEBUG(("[%p] writing the handshake failed: %d", (void *)c, (int)err));
      nsresult st = net_error_from_pr(err);
      conn_finish(c, NS_ERROR_IS_NSS_ERROR(st) ? st : NS_ERROR_CONNECTION_REFUSED);
      return;
    }
    c->req_sent += (size_t)n;
  }
  LOG_VERBOSE(("[%p] handshake request sent (%zu bytes)", (void *)c, len));
  set_poll(c, PR_POLL_READ);
}

/* TCP (and for wss:// TLS) is ready: the HTTP upgrade. */
static void transport_ready(net_ws_conn *c) {
  set_state(c, S_HANDSHAKE);
  c->req_sent = 0;
  send_request(c);
}

/* One step of the TLS handshake; PR_Poll calls again until it ends. The
 * open timer bounds a server that stalls it. */
static void tls_step(net_ws_conn *c) {
  PRInt16 flags = 0;
  nsresult rv = net_tls_handshake(c->tls, c->h.fd, &flags);
  if (rv == NS_BASE_STREAM_WOULD_BLOCK) {
    set_poll(c, flags);
    return;
  }
  /* Done or failed: the channel's securityInfo either way. */
  ev_secinfo(c, net_tls_get_info(c->tls, c->h.fd));
  if (NS_FAILED(rv)) {
    if (XPCOM_LOG_ENABLED(g_log, XPCOM_LOG_DEBUG)) {
      char buf[XPCOM_ERROR_FORMAT_MAX];
      XPCOM_FormatError(rv, buf, sizeof buf);
      LOG_DEBUG(("[%p] TLS handshake failed: %s", (void *)c, buf));
    }
    conn_finish(c, rv);
    return;
  }
  transport_ready(c);
}

static void connected(net_ws_conn *c) {
  free(c->addrs); /* the socket has its address */
  c->addrs = NULL;
  if (!c->secure) {
    transport_ready(c);
    return;
  }
  set_state(c, S_TLS);
  nsresult rv = net_tls_start(c->h.fd, c->host, &c->tls);
  /* The SSL layer now sits under the attached pointer: have the service
   * read the descriptor again (it asks the layer what to wait for). */
  net_sts_update(&c->h);
  if (NS_FAILED(rv)) {
    LOG_DEBUG(("[%p] cannot start TLS: 0x%08x", (void *)c, (unsigned)rv));
    conn_finish(c, rv);
    return;
  }
  tls_step(c);
}

static void try_connect(net_ws_conn *c) {
  while (c->addrs && c->next_addr < c->addrs->count) {
    const PRNetAddr *a = &c->addrs->addrs[c->next_addr++];
    if (XPCOM_LOG_ENABLED(g_log, XPCOM_LOG_DEBUG)) {
      char buf[80] = "";
      PR_NetAddrToString(a, buf, sizeof buf);
      LOG_DEBUG(("[%p] connecting to %s port %u", (void *)c, buf, (unsigned)c->port));
    }
    PRFileDesc *fd = PR_OpenTCPSocket(a->raw.family);
    if (!fd) {
      c->last_err = PR_GetError();
      continue;
    }
    PRSocketOptionData opt;
    opt.option = PR_SockOpt_Nonblocking;
    opt.value.non_blocking = PR_TRUE;
    PR_SetSocketOption(fd, &opt);
    opt.option = PR_SockOpt_NoDelay;
    opt.value.no_delay = PR_TRUE; /* small frames must not wait for Nagle */
    PR_SetSocketOption(fd, &opt);
    c->h.fd = fd;
    c->h.in_flags = 0;
    net_sts_update(&c->h);
    if (PR_Connect(fd, a, PR_INTERVAL_NO_WAIT) == PR_SUCCESS) {
      connected(c);
      return;
    }
    PRErrorCode err = PR_GetError();
    if (err == PR_IN_PROGRESS_ERROR) {
      set_poll(c, PR_POLL_WRITE | PR_POLL_EXCEPT);
      return;
    }
    c->last_err = err;
    drop_fd(c);
  }
  LOG_DEBUG(("[%p] connect failed: %d", (void *)c, (int)c->last_err));
  conn_finish(c, net_error_from_pr(c->last_err));
}

static void become_open(net_ws_conn *c, const uint8_t *rest, size_t rest_len) {
  struct ws_session_callbacks scb = {
      .rand = sess_rand,
      .on_message = sess_on_message,
      .on_ping = sess_on_ping,
      .on_pong = sess_on_pong,
      .on_close = sess_on_close,
      .on_error = sess_on_error,
      .on_acknowledge = sess_on_ack,
  };
  struct ws_session_options opt = {c->max_message, 0};
  /* Large buffers from the pool: message buffers come back to it after
   * delivery, so their pages stay mapped. */
  int rc = ws_session_new(&c->session, &scb, &opt, net_bufpool_mem(), c);
  (void)net_sts_at_stop(net_bufpool_drain, NET_STS_STOP_LAST); /* once per service */
  if (rc < 0) {
    conn_finish(c, rc == WS_ERR_NOMEM ? NS_ERROR_OUT_OF_MEMORY : NS_ERROR_FAILURE);
    return;
  }
  struct ws_pmd_params pmd;
  if (ws_handshake_pmd(c->hs, &pmd)) {
    /* RFC 7692: compressed from the first byte after the 101. */
    rc = ws_session_enable_pmd(c->session, &pmd);
    if (rc < 0) {
      conn_finish(c, rc == WS_ERR_NOMEM ? NS_ERROR_OUT_OF_MEMORY : NS_ERROR_ILLEGAL_VALUE);
      return;
    }
  }
  LOG_DEBUG(("[%p] handshake done: protocol \"%s\", extensions \"%s\"", (void *)c,
             ws_handshake_protocol(c->hs), ws_handshake_extensions(c->hs)));
  ev_start(c, ws_handshake_protocol(c->hs), ws_handshake_extensions(c->hs));
  ws_handshake_del(c->hs);
  c->hs = NULL;
  set_state(c, S_OPEN);
  net_admission_done(&c->ticket, NET_ADMISSION_OPENED);
  xpcom_timer_release(&c->timer);
  c->timer_kind = TK_NONE;
  c->last_rx_ms = now_ms();
  if (c->ping_interval_ms &&
      NS_FAILED(xpcom_timer_arm(&c->ping_timer, c->ping_interval_ms, 0, timer_fired, c)))
    LOG_DEBUG(("[%p] no keepalive timer", (void *)c));
  /* Commands queued before the open, in order. */
  while (c->pend_head && c->state == S_OPEN) {
    cmd *k = c->pend_head;
    c->pend_head = k->next;
    if (!c->pend_head)
      c->pend_tail = NULL;
    k->next = NULL;
    apply_cmd(c, k);
  }
  if (c->state != S_OPEN)
    return;
  if (rest_len) {
    LOG_VERBOSE(("[%p] %zu bytes of frames came with the response", (void *)c, rest_len));
    if (ws_session_recv(c->session, rest, rest_len) < 0 && !c->status)
      c->status = session_error(c->ws_err ? c->ws_err : ws_session_error(c->session));
  }
  conn_io(c);
}

/* Writes what the session has queued. False if the connection finished. */
static bool flush_output(net_ws_conn *c) {
  struct ws_iovec iov[4];
  PRIOVec piov[4];
  while (c->session && ws_session_want_write(c->session)) {
    size_t n = ws_session_peek_output(c->session, iov, 4);
    size_t total = 0, m = 0;
    for (; m < n; m++) {
      size_t l = iov[m].len;
      if (total + l > WRITEV_CHUNK)
        l = WRITEV_CHUNK - total;
      piov[m].iov_base = (char *)(uintptr_t)iov[m].base;
      piov[m].iov_len = (int)l;
      total += l;
      if (total == WRITEV_CHUNK) {
        m++;
        break;
      }
    }
    PRInt32 w = PR_Writev(c->h.fd, piov, (PRInt32)m, PR_INTERVAL_NO_WAIT);
    if (w < 0) {
      PRErrorCode err = PR_GetError();
      if (err == PR_WOULD_BLOCK_ERROR)
        return true;
      LOG_DEBUG(("[%p] write failed: %d", (void *)c, (int)err));
      enum ws_session_state st = ws_session_state(c->session);
      if (st == WS_SESSION_CLOSED)
        conn_finish(c, NS_OK);
      else if (st == WS_SESSION_FAILED)
        conn_finish(c, c->status);
      else
        conn_finish(c, net_error_from_pr(err));
      return false;
    }
    if (w == 0)
      return true;
    LOG_VERBOSE(("[%p] wrote %d bytes", (void *)c, (int)w));
    ws_session_consume_output(c->session, (size_t)w);
  }
  return true;
}

static void start_linger(net_ws_conn *c) {
  xpcom_timer_release(&c->ping_timer);
  if (c->peer_eof) {
    conn_finish(c, c->status);
    return;
  }
  set_state(c, S_LINGER);
  c->linger_bytes = 0;
  arm_timer(c, TK_LINGER, LINGER_MS);
  set_poll(c, PR_POLL_READ);
}

/* After any input, command or writability: write, then decide. */
static void conn_io(net_ws_conn *c) {
  if (c->state != S_OPEN)
    return;
  if (!flush_output(c))
    return;
  enum ws_session_state st = ws_session_state(c->session);
  if (st == WS_SESSION_FAILED && !c->status)
    c->status = session_error(c->ws_err ? c->ws_err : ws_session_error(c->session));
  if (st == WS_SESSION_CLOSED || st == WS_SESSION_FAILED) {
    xpcom_timer_release(&c->ping_timer);
    if (ws_session_is_finished(c->session)) {
      start_linger(c);
      return;
    }
    /* Our last frame is still going out: bounded by the close timeout. */
    if (!c->closing) {
      c->closing = true;
      arm_timer(c, TK_CLOSE, c->close_timeout_ms);
    }
  }
  set_poll(c, (PRInt16)((c->rx_paused ? 0 : PR_POLL_READ) |
                        (ws_session_want_write(c->session) ? PR_POLL_WRITE : 0)));
}

static void note_rx(net_ws_conn *c) {
  c->last_rx_ms = now_ms();
  if (c->ping_outstanding) { /* any inbound data answers the keepalive */
    c->ping_outstanding = false;
    if (c->ping_interval_ms)
      (void)xpcom_timer_arm(&c->ping_timer, c->ping_interval_ms, 0, timer_fired, c);
  }
}

/* EOF or a read error while open. */
static void input_ended(net_ws_conn *c, bool eof, PRErrorCode err) {
  enum ws_session_state st = ws_session_state(c->session);
  if (st == WS_SESSION_CLOSED) {
    conn_finish(c, NS_OK); /* the close handshake is complete */
  } else if (st == WS_SESSION_FAILED) {
    conn_finish(c, c->status);
  } else if (eof) {
    LOG_DEBUG(("[%p] EOF without a close frame", (void *)c));
    conn_finish(c, NS_BASE_STREAM_CLOSED);
  } else {
    LOG_DEBUG(("[%p] read failed: %d", (void *)c, (int)err));
    conn_finish(c, net_error_from_pr(err));
  }
}

/* Socket thread: true when the owner is max_undelivered or more behind;
 * then reading stops (TCP flow control holds the server back) until
 * conn_resume. The events so far are handed over first, so the owner can
 * catch up. */
static bool rx_must_pause(net_ws_conn *c) {
  if (c->rx_paused)
    return true;
  if (c->ev_bytes + atomic_load(&c->undelivered) < c->max_undelivered)
    return false;
  ev_flush(c);
  atomic_store(&c->resume_wanted, true);
  /* The owner may have caught up before it could see the flag. */
  if (atomic_load(&c->undelivered) < c->max_undelivered &&
      atomic_exchange(&c->resume_wanted, false)) {
    ws_session_set_prealloc(c->session, true);
    return false;
  }
  c->rx_paused = true;
  LOG_VERBOSE(("[%p] reading paused: the owner is %llu bytes behind", (void *)c,
               (unsigned long long)atomic_load(&c->undelivered)));
  return true;
}

/* `force`: the socket reported an error or hangup, which must be read
 * (and is never a flood) even while paused. (With nothing to write either,
 * a paused socket is not polled at all: an error or hangup is then seen
 * when reading resumes, in the same order, only later.) */
static void read_open(net_ws_conn *c, bool force) {
  size_t size;
  uint8_t *scratch = net_sts_scratch(&size);
  size_t tls_read = 0;
  for (int i = 0; c->state == S_OPEN; i++) {
    if (i >= READS_PER_WAKEUP && (!c->tls || tls_read >= TLS_READ_BUDGET))
      break;
    if (rx_must_pause(c) && !force)
      break;
    bool want = ws_session_want_read(c->session);
    size_t ask = 0;
    uint8_t *buf = want ? ws_session_direct_buffer(c->session, DIRECT_MIN, &ask) : NULL;
    bool direct = buf != NULL;
    if (!direct) {
      buf = scratch;
      ask = c->small_read ? BOUNDARY_READ : size;
    }
    if (ask > INT32_MAX)
      ask = INT32_MAX;
    PRInt32 n = PR_Recv(c->h.fd, buf, (PRInt32)ask, 0, PR_INTERVAL_NO_WAIT);
    if (n < 0) {
      PRErrorCode err = PR_GetError();
      if (err != PR_WOULD_BLOCK_ERROR)
        input_ended(c, false, err);
      break;
    }
    if (n == 0) {
      c->peer_eof = true;
      input_ended(c, true, 0);
      break;
    }
    note_rx(c);
    LOG_VERBOSE(("[%p] read %d bytes%s", (void *)c, (int)n, direct ? " (direct)" : ""));
    c->small_read = direct;
    int rc = direct ? ws_session_recv_direct(c->session, (size_t)n)
             : want ? ws_session_recv(c->session, buf, (size_t)n)
                    : 0;
    if (rc < 0) {
      if (!c->status)
        c->status = session_error(c->ws_err ? c->ws_err : ws_session_error(c->session));
      break;
    }
    if (c->tls)
      tls_read += (size_t)n; /* one record at a time: read on */
    else if ((size_t)n < ask)
      break;
  }
  conn_io(c);
}

/* Socket thread: the owner caught up (rx_delivered). */
static void conn_resume(void *arg) {
  net_ws_conn *c = arg;
  enter(c);
  if (c->rx_paused) {
    c->rx_paused = false;
    if (c->session)
      ws_session_set_prealloc(c->session, true);
    LOG_VERBOSE(("[%p] reading resumed", (void *)c));
    if (c->state == S_OPEN)
      read_open(c, false); /* what waits in the socket, then the poll flags */
  }
  leave(c);
  conn_release(c); /* the event's reference */
}

static void read_handshake(net_ws_conn *c) {
  size_t size;
  uint8_t *buf = net_sts_scratch(&size);
  PRInt32 n = PR_Recv(c->h.fd, buf, (PRInt32)size, 0, PR_INTERVAL_NO_WAIT);
  if (n < 0) {
    PRErrorCode err = PR_GetError();
    if (err == PR_WOULD_BLOCK_ERROR)
      return;
    /* Gecko 8: the HTTP request failed → the connection was refused;
     * but a TLS alert or record error keeps its own (security) code. */
    LOG_DEBUG(("[%p] read failed during the handshake: %d", (void *)c, (int)err));
    nsresult st = net_error_from_pr(err);
    conn_finish(c, NS_ERROR_IS_NSS_ERROR(st) ? st : NS_ERROR_CONNECTION_REFUSED);
    return;
  }
  if (n == 0) {
    LOG_DEBUG(("[%p] EOF during the handshake", (void *)c));
    conn_finish(c, NS_ERROR_CONNECTION_REFUSED);
    return;
  }
  size_t consumed = 0;
  int rc = ws_handshake_recv(c->hs, buf, (size_t)n, &consumed);
  if (rc == 0)
    return;
  if (rc < 0) {
    LOG_DEBUG(("[%p] handshake failed: %s (status %d)", (void *)c, ws_error_name(rc),
               ws_handshake_status_code(c->hs)));
    conn_finish(c, handshake_error(c, rc));
    return;
  }
  become_open(c, buf + consumed, (size_t)n - consumed);
}

static void read_linger(net_ws_conn *c) {
  size_t size;
  uint8_t *buf = net_sts_scratch(&size);
  PRInt32 n = PR_Recv(c->h.fd, buf, (PRInt32)size, 0, PR_INTERVAL_NO_WAIT);
  if (n < 0 && PR_GetError() == PR_WOULD_BLOCK_ERROR)
    return;
  if (n > 0) {
    c->linger_bytes += (uint32_t)n;
    if (c->linger_bytes <= LINGER_MAX_BYTES)
      return;
  }
  conn_finish(c, c->status); /* FIN, error, or too much: done */
}

static void on_ready(net_sts_handler *h, PRInt16 out) {
  net_ws_conn *c = XPCOM_CONTAINER_OF(h, net_ws_conn, h);
  enter(c);
  switch (c->state) {
  case S_CONNECTING:
    if (PR_ConnectContinue(c->h.fd, out) == PR_SUCCESS) {
      connected(c);
    } else {
      PRErrorCode err = PR_GetError();
      if (err != PR_IN_PROGRESS_ERROR) {
        c->last_err = err;
        drop_fd(c);
        try_connect(c); /* the next address, or the end */
      }
    }
    break;
  case S_TLS:
    tls_step(c);
    break;
  case S_HANDSHAKE:
    if (out & PR_POLL_WRITE)
      send_request(c);
    if (c->state == S_HANDSHAKE && (out & (PR_POLL_READ | PR_POLL_ERR | PR_POLL_HUP | PR_POLL_NVAL)))
      read_handshake(c);
    break;
  case S_OPEN:
    if (out & (PR_POLL_ERR | PR_POLL_HUP | PR_POLL_NVAL))
      read_open(c, true);
    else if (out & PR_POLL_READ)
      read_open(c, false);
    else
      conn_io(c);
    break;
  case S_LINGER:
    read_linger(c);
    break;
  default:
    break;
  }
  leave(c);
}

static void on_detach(net_sts_handler *h, nsresult why) {
  net_ws_conn *c = XPCOM_CONTAINER_OF(h, net_ws_conn, h);
  enter(c);
  conn_finish(c, why);
  leave(c);
}

static void ping_fired(net_ws_conn *c) {
  if (c->state != S_OPEN || !c->session || ws_session_state(c->session) != WS_SESSION_OPEN)
    return;
  if (c->rx_paused) {
    /* Not reading, by our choice: the server may well have answered. */
    c->ping_outstanding = false;
    (void)xpcom_timer_arm(&c->ping_timer, c->ping_interval_ms, 0, timer_fired, c);
    return;
  }
  if (c->ping_outstanding) {
    LOG_DEBUG(("[%p] no answer to the keepalive ping", (void *)c));
    conn_fail_now(c, NS_ERROR_NET_TIMEOUT, WS_CLOSE_GOING_AWAY);
    return;
  }
  uint64_t idle = now_ms() - c->last_rx_ms;
  if (idle < c->ping_interval_ms) {
    (void)xpcom_timer_arm(&c->ping_timer, (uint32_t)(c->ping_interval_ms - idle), 0, timer_fired, c);
    return;
  }
  if (ws_session_send_ping(c->session, (const uint8_t *)g_ping_payload,
                           sizeof g_ping_payload - 1) == 0) {
    LOG_VERBOSE(("[%p] keepalive ping out", (void *)c));
    /* ping_timeout 0: no deadline for the answer, just keep pinging. */
    c->ping_outstanding = c->ping_timeout_ms != 0;
    (void)xpcom_timer_arm(&c->ping_timer,
                          c->ping_timeout_ms ? c->ping_timeout_ms : c->ping_interval_ms, 0,
                          timer_fired, c);
    conn_io(c);
  }
}

static void timer_fired(nsITimer *t, void *closure) {
  net_ws_conn *c = closure;
  enter(c);
  if (t == c->ping_timer) {
    ping_fired(c);
  } else if (t == c->timer) {
    enum timer_kind kind = c->timer_kind;
    c->timer_kind = TK_NONE;
    switch (kind) {
    case TK_OPEN:
      LOG_DEBUG(("[%p] open timeout in state %s", (void *)c, g_state_names[c->state]));
      if (c->state < S_OPEN)
        conn_finish(c, NS_ERROR_NET_TIMEOUT);
      break;
    case TK_CLOSE: {
      enum ws_session_state st = c->session ? ws_session_state(c->session) : WS_SESSION_OPEN;
      if (c->rx_paused && st == WS_SESSION_CLOSE_SENT) {
        /* The server's close may be waiting behind data we chose not to
         * read yet: the owner is the slow one, so the wait starts over. */
        LOG_DEBUG(("[%p] close timeout while reading is paused: waiting on", (void *)c));
        arm_timer(c, TK_CLOSE, c->close_timeout_ms);
        break;
      }
      LOG_DEBUG(("[%p] close timeout", (void *)c));
      if (st == WS_SESSION_CLOSED)
        conn_finish(c, NS_OK); /* only our last bytes were still pending */
      else if (st == WS_SESSION_FAILED && c->status)
        conn_finish(c, c->status);
      else
        conn_finish(c, NS_ERROR_NET_TIMEOUT);
      break;
    }
    case TK_LINGER:
      LOG_DEBUG(("[%p] no FIN within %d ms; closing", (void *)c, LINGER_MS));
      conn_finish(c, c->status);
      break;
    default:
      break;
    }
  }
  leave(c);
}

/* ---- commands -------------------------------------------------------------------- */

/* Close codes an application may not put on the wire become legal ones:
 * 0 → 1000 (Gecko 8), 1004 (Gecko 8's CLOSE_TOO_LARGE) → 1009. */
static uint16_t wire_close_code(uint16_t code) {
  if (code == 0)
    return WS_CLOSE_NORMAL;
  if (code == 1004)
    return WS_CLOSE_TOO_BIG;
  return ws_close_code_is_valid(code) ? code : WS_CLOSE_NORMAL;
}

static void apply_open(net_ws_conn *c, cmd *k) {
  switch (k->type) {
  case C_SEND: {
    int rc = WS_ERR_INVALID_STATE;
    if (ws_session_state(c->session) == WS_SESSION_OPEN) {
      rc = k->binary ? ws_session_send_binary(c->session, k->data, k->len)
                     : ws_session_send_text(c->session, k->data, k->len);
    }
    if (rc == 0) {
      c->in_session += k->len;
      LOG_VERBOSE(("[%p] message out: %s, %zu bytes queued", (void *)c,
                   k->binary ? "binary" : "text", k->len));
      if (k->adopted)
        free(k->data);
      free(k);
      return;
    }
    if (rc == WS_ERR_INVALID_ARGUMENT)
      XPCOM_LOG(g_log, XPCOM_LOG_ERROR,
                ("[%p] refusing to send invalid UTF-8 (%zu bytes); dropped", (void *)c, k->len));
    else if (rc == WS_ERR_NOMEM || rc == WS_ERR_CALLBACK_FAILURE) {
      drop_cmd(c, k);
      conn_fail_now(c, rc == WS_ERR_NOMEM ? NS_ERROR_OUT_OF_MEMORY : NS_ERROR_FAILURE,
                    WS_CLOSE_INTERNAL);
      return;
    }
    drop_cmd(c, k);
    return;
  }
  case C_CLOSE: {
    if (ws_session_state(c->session) == WS_SESSION_OPEN) {
      uint16_t code = wire_close_code(k->code);
      int rc = ws_session_send_close(c->session, code, k->data, k->len);
      if (rc == WS_ERR_INVALID_ARGUMENT)
        rc = ws_session_send_close(c->session, code, NULL, 0);
      LOG_DEBUG(("[%p] client close: code %u, reason %zu bytes", (void *)c, (unsigned)code,
                 k->len));
      if (rc == 0) {
        c->closing = true;
        xpcom_timer_release(&c->ping_timer);
        /* Wait for the server's close (RFC 6455 §7.1.2), bounded. */
        arm_timer(c, TK_CLOSE, c->close_timeout_ms);
      }
    }
    drop_cmd(c, k);
    return;
  }
  case C_ABORT: {
    nsresult st = k->status;
    drop_cmd(c, k);
    conn_fail_now(c, st, WS_CLOSE_GOING_AWAY);
    return;
  }
  default:
    drop_cmd(c, k);
  }
}

static void apply_cmd(net_ws_conn *c, cmd *k) {
  switch (c->state) {
  case S_DONE:
    drop_cmd(c, k);
    return;
  case S_OPEN:
    apply_open(c, k);
    return;
  case S_LINGER:
    if (k->type == C_ABORT) {
      nsresult st = k->status;
      drop_cmd(c, k);
      conn_finish(c, st);
      return;
    }
    drop_cmd(c, k);
    return;
  default: /* not open yet */
    if (k->type == C_ABORT) {
      nsresult st = k->status;
      drop_cmd(c, k);
      conn_finish(c, st);
      return;
    }
    k->next = NULL;
    if (c->pend_tail)
      c->pend_tail->next = k;
    else
      c->pend_head = k;
    c->pend_tail = k;
  }
}

static void cmd_run(void *arg) {
  net_ws_conn *c = arg; /* the event's reference */
  cmd *stack = atomic_exchange_explicit(&c->cmds, NULL, memory_order_acquire);
  cmd *list = NULL;
  while (stack) {
    cmd *next = stack->next;
    stack->next = list;
    list = stack;
    stack = next;
  }
  while (list) {
    cmd *k = list;
    list = k->next;
    k->next = NULL;
    apply_cmd(c, k);
  }
  conn_io(c); /* one write for the whole batch */
  leave(c);
}

/* Owner side: one CAS; posts the socket thread's event when the list was
 * empty. */
static nsresult cmd_push(net_ws_conn *c, cmd *k) {
  cmd *old = atomic_load_explicit(&c->cmds, memory_order_relaxed);
  do {
    k->next = old;
  } while (!atomic_compare_exchange_weak_explicit(&c->cmds, &old, k, memory_order_release,
                                                  memory_order_relaxed));
  if (old)
    return NS_OK;
  conn_addref(c);
  nsresult rv = net_sts_dispatch(cmd_run, c, conn_release_cb);
  if (NS_FAILED(rv)) {
    conn_release(c); /* the list is freed with the connection */
    return NS_ERROR_NOT_AVAILABLE;
  }
  return NS_OK;
}

static cmd *cmd_new(uint8_t type, size_t inline_len) {
  cmd *k = malloc(sizeof *k + inline_len);
  if (!k)
    return NULL;
  memset(k, 0, sizeof *k);
  k->type = type;
  k->data = k->inline_data;
  k->len = inline_len;
  return k;
}

NET_API(nsresult) net_ws_conn_send(net_ws_conn *c, bool binary, const uint8_t *data, size_t len) {
  if (!c || (!data && len))
    return NS_ERROR_INVALID_ARG;
  cmd *k = cmd_new(C_SEND, len);
  if (!k)
    return NS_ERROR_OUT_OF_MEMORY;
  k->binary = binary;
  if (len)
    memcpy(k->inline_data, data, len);
  atomic_fetch_add_explicit(&c->buffered, len, memory_order_relaxed);
  return cmd_push(c, k);
}

NET_API(nsresult) net_ws_conn_send_adopt(net_ws_conn *c, bool binary, uint8_t *data, size_t len) {
  if (!c || (!data && len)) {
    free(data);
    return NS_ERROR_INVALID_ARG;
  }
  cmd *k = cmd_new(C_SEND, 0);
  if (!k) {
    free(data);
    return NS_ERROR_OUT_OF_MEMORY;
  }
  k->binary = binary;
  k->data = data;
  k->len = len;
  k->adopted = true;
  atomic_fetch_add_explicit(&c->buffered, len, memory_order_relaxed);
  return cmd_push(c, k);
}

NET_API(nsresult) net_ws_conn_close(net_ws_conn *c, uint16_t code, const char *reason,
                                    size_t reason_len) {
  if (!c || (!reason && reason_len))
    return NS_ERROR_INVALID_ARG;
  if (reason_len > 123)
    reason_len = 0; /* RFC 6455 §5.5: the owner was to refuse it */
  cmd *k = cmd_new(C_CLOSE, reason_len);
  if (!k)
    return NS_ERROR_OUT_OF_MEMORY;
  k->code = code;
  if (reason_len)
    memcpy(k->inline_data, reason, reason_len);
  return cmd_push(c, k);
}

NET_API(void) net_ws_conn_abort(net_ws_conn *c, nsresult status) {
  if (!c)
    return;
  cmd *k = cmd_new(C_ABORT, 0);
  if (!k)
    return; /* nothing sane to do; release still stops delivery */
  k->len = 0;
  k->status = NS_SUCCEEDED(status) ? NS_BINDING_ABORTED : status;
  (void)cmd_push(c, k);
}

NET_API(uint64_t) net_ws_conn_buffered(const net_ws_conn *c) {
  if (!c)
    return 0;
  net_ws_conn *m = (net_ws_conn *)(uintptr_t)c;
  return atomic_load_explicit(&m->buffered, memory_order_relaxed);
}

NET_API(void) net_ws_conn_release(net_ws_conn *c) {
  if (!c)
    return;
  bool running = !c->stop_delivered;
  c->owner_released = true;
  if (running)
    net_ws_conn_abort(c, NS_BINDING_ABORTED);
  conn_release(c);
}

/* ---- open --------------------------------------------------------------------------- */

/* Splits "a, b,c" into trimmed tokens (empty ones skipped). */
static char **split_protocols(const char *s, size_t *count, char **storage) {
  *count = 0;
  *storage = NULL;
  if (!s || !*s)
    return NULL;
  char *copy = dup_str(s);
  size_t max = 1;
  for (const char *p = s; *p; p++)
    max += *p == ',';
  char **v = copy ? malloc(max * sizeof *v) : NULL;
  if (!v) {
    free(copy);
    *count = SIZE_MAX;
    return NULL;
  }
  char *p = copy;
  while (p) {
    char *comma = strchr(p, ',');
    if (comma)
      *comma = '\0';
    while (*p == ' ' || *p == '\t')
      p++;
    char *e = p + strlen(p);
    while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
      *--e = '\0';
    if (*p)
      v[(*count)++] = p;
    p = comma ? comma + 1 : NULL;
  }
  *storage = copy;
  return v;
}

NET_API(nsresult)
net_ws_conn_open(const net_ws_conn_params *p, nsIEventTarget *owner_target,
                 const net_ws_conn_callbacks *cb, void *owner, net_ws_conn **out) {
  if (out)
    *out = NULL;
  if (!p || !owner_target || !cb || !cb->on_stop || !out)
    return NS_ERROR_INVALID_ARG;
  if (!p->host || !*p->host)
    return NS_ERROR_ILLEGAL_VALUE;
  nsresult rv = net_nss_init();
  if (NS_FAILED(rv))
    return rv;

  net_ws_conn *c = calloc(1, sizeof *c);
  if (!c)
    return NS_ERROR_OUT_OF_MEMORY;
  atomic_fetch_add(&g_live_conns, 1);
  xpcom_leak_ctor("net_ws_conn", sizeof *c);
  atomic_init(&c->refcnt, 1);
  atomic_init(&c->buffered, 0);
  atomic_init(&c->cmds, NULL);
  atomic_init(&c->events, NULL);
  c->h.sts_index = -1;
  c->ticket.on_admit = admitted;
  c->state = S_NEW;
  c->owner_target = owner_target;
  NS_ADDREF(owner_target);
  c->cb = *cb;
  c->on_security_info = p->on_security_info;
  c->owner = owner;
  c->port = p->port;
  c->secure = p->secure;
  c->max_message = p->max_message_size ? p->max_message_size : WS_SESSION_DEFAULT_MAX_MESSAGE;
  c->max_undelivered = p->max_undelivered ? p->max_undelivered : MAX_UNDELIVERED_DEFAULT;
  atomic_init(&c->undelivered, 0);
  atomic_init(&c->resume_wanted, false);
  c->open_timeout_ms = p->open_timeout_ms;
  c->close_timeout_ms = p->close_timeout_ms;
  c->ping_interval_ms = p->ping_interval_ms;
  c->ping_timeout_ms = p->ping_timeout_ms;

  /* The DNS name has no brackets; the handshake adds them to Host. */
  size_t hl = strlen(p->host);
  if (hl >= 2 && p->host[0] == '[' && p->host[hl - 1] == ']') {
    c->host = malloc(hl - 1);
    if (c->host) {
      memcpy(c->host, p->host + 1, hl - 2);
      c->host[hl - 2] = '\0';
    }
  } else {
    c->host = dup_str(p->host);
  }
  if (!c->host) {
    conn_release(c);
    return NS_ERROR_OUT_OF_MEMORY;
  }

  char *pstore = NULL;
  size_t nproto = 0;
  char **protos = split_protocols(p->protocols, &nproto, &pstore);
  if (nproto == SIZE_MAX) {
    conn_release(c);
    return NS_ERROR_OUT_OF_MEMORY;
  }
  struct ws_handshake_config cfg = {
      .host = c->host,
      .port = p->port,
      .secure = p->secure,
      .path = p->path,
      .origin = p->origin,
      .protocols = (const char *const *)protos,
      .nprotocols = nproto,
      .extensions = p->extensions,
  };
  rv = net_random(cfg.key, sizeof cfg.key);
  int rc = NS_SUCCEEDED(rv) ? ws_handshake_new(&c->hs, &cfg, NULL) : 0;
  free(protos);
  free(pstore);
  if (NS_FAILED(rv) || rc < 0) {
    conn_release(c);
    if (NS_FAILED(rv))
      return rv;
    return rc == WS_ERR_INVALID_ARGUMENT ? NS_ERROR_ILLEGAL_VALUE
           : rc == WS_ERR_NOMEM          ? NS_ERROR_OUT_OF_MEMORY
                                         : NS_ERROR_FAILURE;
  }

  conn_addref(c); /* the socket side's reference, carried by the start event */
  rv = net_sts_dispatch(conn_start, c, conn_start_drop);
  if (NS_FAILED(rv)) {
    conn_release(c);
    conn_release(c);
    return rv;
  }
  LOG_DEBUG(("[%p] open %s://%s:%u%s", (void *)c, p->secure ? "wss" : "ws", p->host,
             (unsigned)p->port,
             p->path && *p->path ? p->path : "/"));
  *out = c;
  return NS_OK;
}

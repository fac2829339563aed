/*
 * ws_channel.c — the WebSocket channel object (see ws_channel.h).
 *
 * One allocation holds two interface pointers, nsIWebSocketChannel first
 * (the object's identity, what QueryInterface(nsISupports) returns) and
 * nsIProtocolHandler second.
 *
 * The network work is done by a net_ws_conn (src/net/net_ws_conn.h) on the
 * socket-transport thread. The channel lives on its owning thread (the
 * one that called asyncOpen), talks to the connection only through its
 * commands (send, close, abort, release) and receives its events (start,
 * message, acknowledge, server close, stop) as callbacks the connection
 * posts to that thread, in order. The channel turns them into listener
 * calls with Gecko 8's rules:
 *  - no listener call before asyncOpen returns; onStart only after a valid
 *    101 (protocol and extensions set first), never for a failed
 *    connection; onStop exactly once, last; then listener and context are
 *    released;
 *  - the channel keeps itself alive from asyncOpen until onStop has been
 *    delivered (Gecko's transport and runnables hold it the same way), so a
 *    host may drop its reference to an open channel: the session runs to
 *    its end, and XPCOM shutdown ends it with NS_ERROR_ABORT.
 */
#include "ws_channel.h"

#include <stdlib.h>
#include <string.h>

#include <prthread.h>

#include "nsError.h"
#include "nsXPCOM.h"
#include "nsXPCOMStrings.h"
#include "xpcom_log.h"
#include "xpcom_object.h"
#include "xpcom_prefs.h"
#include "xpcom_thread.h"

#include "net/net_ioservice.h"
#include "net/net_uri_object.h"
#include "net/net_admission.h"
#include "net/net_ws_conn.h"
#include "websocket/ws_deflate.h"

#include "nsIEventTarget.h"
#include "nsIIOService.h"
#include "nsIInterfaceRequestor.h"
#include "nsILoadGroup.h"
#include "nsIProtocolHandler.h"
#include "nsIServiceManager.h"
#include "nsIThread.h"
#include "nsIURI.h"
#include "nsIWebSocketChannel.h"
#include "nsIWebSocketListener.h"

/* RFC 6455 §5.5: a control frame's payload is at most 125 bytes, and a
 * Close payload spends two of them on the status code. */
#define WS_MAX_CLOSE_REASON 123

/* Gecko's module name: NSPR_LOG_MODULES=nsWebSocket:5 traces a session
 * (the connection logs its side under the same name). */
XPCOM_LOG_MODULE(gWsLog, "nsWebSocket");
#define WS_LOG(lvl, args) XPCOM_LOG(gWsLog, lvl, args)

/* Where the channel is in its life. */
typedef enum ws_channel_state {
  WS_STATE_NEW = 0,  /* created, asyncOpen not (successfully) called */
  WS_STATE_OPENING,  /* asyncOpen accepted, handshake under way */
  WS_STATE_OPEN,     /* onStart delivered */
  WS_STATE_CLOSING,  /* close() called (before or after onStart) */
  WS_STATE_STOPPED   /* onStop delivered; listener and context dropped */
} ws_channel_state;

/* Settings read from network.websocket.* at asyncOpen. */
typedef struct ws_channel_config {
  uint32_t open_timeout_ms;
  uint32_t close_timeout_ms;
  uint32_t ping_interval_ms;
  uint32_t ping_timeout_ms;
  uint32_t max_message_size;
  bool permessage_deflate; /* offer permessage-deflate (RFC 7692) */
} ws_channel_config;

typedef struct ws_channel {
  /* The two interfaces; channel_iface is the identity. */
  nsIWebSocketChannel channel_iface;
  nsIProtocolHandler handler_iface;

  /* Any thread. */
  uint32_t refcnt;

  /* Immutable after construction, any thread. */
  ws_channel_kind kind;
  PRThread *owning_thread;

  /* ---- owning thread only ------------------------------------------- */
  ws_channel_state state;
  bool close_requested;   /* close() accepted (Gecko's mRequestedClose) */
  bool aborted;           /* we ended it before onStart: drop all but stop */
  bool server_closed;     /* onServerClose delivered */
  bool self_ref;          /* holding our own reference until onStop */
  bool close_hooked;      /* ws_owner_closing is registered (owner not main) */
  bool admitted;          /* holds a network.websocket.max-connections slot */
  nsIURI *original_uri;               /* set by asyncOpen; NULL before */
  nsIURI *uri;                        /* after redirects; NULL before */
  nsISupports *security_info;         /* wss only, once TLS ended */
  nsIInterfaceRequestor *callbacks;   /* AddRef'd or NULL */
  nsILoadGroup *load_group;           /* AddRef'd or NULL */
  nsCStringContainer protocol;        /* offered, then negotiated */
  nsCStringContainer extensions;      /* negotiated; empty before */
  nsIWebSocketListener *listener;     /* AddRef'd from asyncOpen to onStop */
  nsISupports *context;               /* AddRef'd from asyncOpen to onStop */
  nsIEventTarget *owner_target;       /* the owning thread, from asyncOpen */
  net_ws_conn *conn;                  /* from asyncOpen to onStop */
  ws_channel_config config;
  /* ---- end of owning-thread state ----------------------------------- */
  /* Nothing here is touched by the socket-transport thread: the
   * connection keeps its own state there and only posts events. */
} ws_channel;

#define WS_CLASS_NAME "WebSocketChannel"

/* From an interface pointer back to the object. */
static ws_channel *from_channel(nsIWebSocketChannel *self) {
  return XPCOM_CONTAINER_OF(self, ws_channel, channel_iface);
}
static ws_channel *from_handler(nsIProtocolHandler *self) {
  return XPCOM_CONTAINER_OF(self, ws_channel, handler_iface);
}

/* Methods must run on the owning thread: debug builds check it. */
#ifdef DEBUG
#include <assert.h>
#define WS_ASSERT_OWNING_THREAD(ch)                                            \
  assert((ch)->owning_thread == PR_GetCurrentThread())
#else
#define WS_ASSERT_OWNING_THREAD(ch) ((void)(ch))
#endif

/* Replaces an AddRef'd interface field: AddRef the new one first so that
 * setting the same object twice never drops it to zero. */
#define WS_ASSIGN_IFACE(field, value)                                          \
  do {                                                                         \
    void *old_ = (field);                                                      \
    if (value)                                                                 \
      xpcom_addref(value);                                                     \
    (field) = (value);                                                         \
    if (old_)                                                                  \
      xpcom_release(old_);                                                     \
  } while (0)

/* Hands out an AddRef'd copy of an interface field (NULL stays NULL). */
#define WS_GET_IFACE(out, field)                                               \
  do {                                                                         \
    if (!(out))                                                                \
      return NS_ERROR_NULL_POINTER;                                            \
    *(out) = (field);                                                          \
    if (*(out))                                                                \
      xpcom_addref(*(out));                                                    \
    return NS_OK;                                                              \
  } while (0)

/* Runs when the last reference goes: on the owning thread in practice,
 * since only the owning thread holds references once asyncOpen has run
 * (the connection holds none; events reach us through it). A connection is
 * never alive here: the channel holds itself until onStop, which releases
 * the connection first. */
static void ws_channel_destroy(ws_channel *ch) {
  if (ch->conn) { /* defensive: cannot happen, see above */
    net_ws_conn_release(ch->conn);
    ch->conn = NULL;
  }
  if (ch->admitted)
    net_admission_release();
  NS_IF_RELEASE(ch->original_uri);
  NS_IF_RELEASE(ch->uri);
  NS_IF_RELEASE(ch->security_info);
  NS_IF_RELEASE(ch->callbacks);
  NS_IF_RELEASE(ch->load_group);
  NS_IF_RELEASE(ch->listener);
  NS_IF_RELEASE(ch->context);
  NS_IF_RELEASE(ch->owner_target);
  NS_CStringContainerFinish(&ch->protocol);
  NS_CStringContainerFinish(&ch->extensions);
  xpcom_leak_dtor(WS_CLASS_NAME, sizeof(*ch));
  free(ch);
}

/* ---- nsISupports (shared by both interfaces) ---------------------------- */

static const xpcom_qi_entry ws_channel_qi_table[] = {
    XPCOM_QI_ENTRY(ws_channel, channel_iface, nsISupports_IID),
    XPCOM_QI_ENTRY(ws_channel, channel_iface, nsIWebSocketChannel_IID),
    XPCOM_QI_ENTRY(ws_channel, handler_iface, nsIProtocolHandler_IID),
    XPCOM_QI_END};

static nsresult ws_query_interface(ws_channel *ch, const nsIID *iid,
                                   void **result) {
  return xpcom_table_qi(ch, ws_channel_qi_table, iid, result);
}

static nsrefcnt ws_add_ref(ws_channel *ch) {
  return xpcom_refcnt_inc(&ch->refcnt);
}

static nsrefcnt ws_release(ws_channel *ch) {
  nsrefcnt n = xpcom_refcnt_dec(&ch->refcnt);
  if (n == 0)
    ws_channel_destroy(ch);
  return n;
}

static nsresult ch_QueryInterface(nsIWebSocketChannel *self, const nsIID *iid,
                                  void **result) {
  return ws_query_interface(from_channel(self), iid, result);
}
static nsrefcnt ch_AddRef(nsIWebSocketChannel *self) {
  return ws_add_ref(from_channel(self));
}
static nsrefcnt ch_Release(nsIWebSocketChannel *self) {
  return ws_release(from_channel(self));
}

/* ---- nsIWebSocketChannel: attributes ----------------------------------- */

static nsresult ch_GetOriginalURI(nsIWebSocketChannel *self,
                                  nsIURI **aOriginalURI) {
  ws_channel *ch = from_channel(self);
  WS_ASSERT_OWNING_THREAD(ch);
  WS_GET_IFACE(aOriginalURI, ch->original_uri);
}

static nsresult ch_GetURI(nsIWebSocketChannel *self, nsIURI **aURI) {
  ws_channel *ch = from_channel(self);
  WS_ASSERT_OWNING_THREAD(ch);
  /* As Gecko: the URI after redirects, else the one asyncOpen got. */
  WS_GET_IFACE(aURI, ch->uri ? ch->uri : ch->original_uri);
}

static nsresult ch_GetNotificationCallbacks(nsIWebSocketChannel *self,
                                            nsIInterfaceRequestor **aCallbacks) {
  ws_channel *ch = from_channel(self);
  WS_ASSERT_OWNING_THREAD(ch);
  WS_GET_IFACE(aCallbacks, ch->callbacks);
}

static nsresult ch_SetNotificationCallbacks(nsIWebSocketChannel *self,
                                            nsIInterfaceRequestor *aCallbacks) {
  ws_channel *ch = from_channel(self);
  WS_ASSERT_OWNING_THREAD(ch);
  WS_ASSIGN_IFACE(ch->callbacks, aCallbacks);
  return NS_OK;
}

static nsresult ch_GetSecurityInfo(nsIWebSocketChannel *self,
                                   nsISupports **aSecurityInfo) {
  ws_channel *ch = from_channel(self);
  WS_ASSERT_OWNING_THREAD(ch);
  WS_GET_IFACE(aSecurityInfo, ch->security_info);
}

static nsresult ch_GetLoadGroup(nsIWebSocketChannel *self,
                                nsILoadGroup **aLoadGroup) {
  ws_channel *ch = from_channel(self);
  WS_ASSERT_OWNING_THREAD(ch);
  WS_GET_IFACE(aLoadGroup, ch->load_group);
}

static nsresult ch_SetLoadGroup(nsIWebSocketChannel *self,
                                nsILoadGroup *aLoadGroup) {
  ws_channel *ch = from_channel(self);
  WS_ASSERT_OWNING_THREAD(ch);
  WS_ASSIGN_IFACE(ch->load_group, aLoadGroup);
  return NS_OK;
}

static nsresult ch_GetProtocol(nsIWebSocketChannel *self,
                               nsACString *aProtocol) {
  ws_channel *ch = from_channel(self);
  WS_ASSERT_OWNING_THREAD(ch);
  if (!aProtocol)
    return NS_ERROR_NULL_POINTER;
  return NS_CStringCopy(aProtocol, &ch->protocol);
}

static nsresult ch_SetProtocol(nsIWebSocketChannel *self,
                               const nsACString *aProtocol) {
  ws_channel *ch = from_channel(self);
  WS_ASSERT_OWNING_THREAD(ch);
  if (!aProtocol)
    return NS_ERROR_NULL_POINTER;
  /* A copy: the caller's string may change or die after we return. */
  return NS_CStringCopy(&ch->protocol, aProtocol);
}

static nsresult ch_GetExtensions(nsIWebSocketChannel *self,
                                 nsACString *aExtensions) {
  ws_channel *ch = from_channel(self);
  WS_ASSERT_OWNING_THREAD(ch);
  if (!aExtensions)
    return NS_ERROR_NULL_POINTER;
  return NS_CStringCopy(aExtensions, &ch->extensions);
}

/* ---- listener calls (owning thread, from connection events) ------------ */

/*
 * Every listener call holds a reference to the channel, so a listener that
 * drops the host's last reference inside a callback does not free the
 * channel under us.
 */

static void ws_owner_closing(void *arg);

/* The last event: releases the connection and the session slot, calls
 * onStop, drops listener and context, then our own reference. */
static void ws_deliver_stop(ws_channel *ch, nsresult status) {
  if (ch->state == WS_STATE_STOPPED)
    return;
  ws_add_ref(ch);
  if (ch->close_hooked) {
    ch->close_hooked = false;
    if (xpcom_thread_cancel_at_close((nsIThread *)(void *)ch->owner_target, ws_owner_closing,
                                     ch))
      ws_release(ch); /* the registration's reference */
  }
  WS_LOG(XPCOM_LOG_DEBUG, ("WebSocketChannel %p: onStop 0x%08x (%s)", (void *)ch,
                           (unsigned)status,
                           XPCOM_ErrorName(status) ? XPCOM_ErrorName(status) : "?"));
  ch->state = WS_STATE_STOPPED;
  if (ch->conn) {
    net_ws_conn_release(ch->conn);
    ch->conn = NULL;
  }
  if (ch->admitted) {
    ch->admitted = false;
    net_admission_release();
  }
  nsIWebSocketListener *listener = ch->listener;
  nsISupports *context = ch->context;
  ch->listener = NULL;
  ch->context = NULL;
  if (listener)
    nsIWebSocketListener_OnStop(listener, context, status);
  NS_IF_RELEASE(listener);
  NS_IF_RELEASE(context);
  bool self_ref = ch->self_ref;
  ch->self_ref = false;
  if (self_ref)
    ws_release(ch);
  ws_release(ch);
}

/* On the owning thread as it finishes (xpcom_thread_at_close), the session
 * still open: the socket thread's stop could no longer reach it, and the
 * channel would keep itself alive for ever. It ends here, as XPCOM shutdown
 * ends sessions: onStop(NS_ERROR_ABORT), the connection aborted. */
static void ws_owner_closing(void *arg) {
  ws_channel *ch = arg; /* the registration's reference */
  ch->close_hooked = false;
  WS_LOG(XPCOM_LOG_DEBUG, ("WebSocketChannel %p: owning thread finishing", (void *)ch));
  ws_deliver_stop(ch, NS_ERROR_ABORT);
  ws_release(ch);
}

/* Events other than stop are dropped once the session is over for the
 * listener: after onStop, or after we aborted it before onStart. */
static bool ws_live(ws_channel *ch) {
  return ch->state != WS_STATE_STOPPED && ch->state != WS_STATE_NEW &&
         !ch->aborted && ch->listener;
}

static void conn_on_start(void *owner, const char *protocol,
                          const char *extensions) {
  ws_channel *ch = owner;
  if (!ws_live(ch))
    return;
  /* Gecko updates both attributes before onStart. */
  if (NS_FAILED(NS_CStringSetData(&ch->protocol, protocol, UINT32_MAX)) ||
      NS_FAILED(NS_CStringSetData(&ch->extensions, extensions, UINT32_MAX))) {
    ch->aborted = true;
    net_ws_conn_abort(ch->conn, NS_ERROR_OUT_OF_MEMORY);
    return;
  }
  WS_LOG(XPCOM_LOG_DEBUG, ("WebSocketChannel %p: onStart protocol '%s' "
                           "extensions '%s'",
                           (void *)ch, protocol, extensions));
  if (ch->state == WS_STATE_OPENING)
    ch->state = WS_STATE_OPEN;
  ws_add_ref(ch);
  nsIWebSocketListener_OnStart(ch->listener, ch->context);
  ws_release(ch);
}

static void conn_on_message(void *owner, net_ws_message *msg) {
  ws_channel *ch = owner;
  if (!ws_live(ch))
    return;
  /* Lend the connection's bytes to the listener without a copy: an `in`
   * string is valid for the call only; a listener keeping it copies. */
  nsCStringContainer str;
  nsresult rv = NS_CStringContainerInit2(
      &str, msg->len ? (const char *)msg->data : "", (uint32_t)msg->len,
      NS_CSTRING_CONTAINER_INIT_DEPEND | NS_CSTRING_CONTAINER_INIT_SUBSTRING);
  if (NS_FAILED(rv)) {
    ch->aborted = true;
    net_ws_conn_abort(ch->conn, rv);
    return;
  }
  ws_add_ref(ch);
  if (msg->binary)
    nsIWebSocketListener_OnBinaryMessageAvailable(ch->listener, ch->context,
                                                  &str);
  else
    nsIWebSocketListener_OnMessageAvailable(ch->listener, ch->context, &str);
  NS_CStringContainerFinish(&str);
  ws_release(ch);
}

static void conn_on_acknowledge(void *owner, uint64_t size) {
  ws_channel *ch = owner;
  if (!ws_live(ch))
    return;
  ws_add_ref(ch);
  /* Messages are at most max-message-size (<= INT32_MAX) bytes. */
  nsIWebSocketListener_OnAcknowledge(ch->listener, ch->context,
                                     (uint32_t)size);
  ws_release(ch);
}

static void conn_on_server_close(void *owner, uint16_t code,
                                 const char *reason, size_t reason_len) {
  ws_channel *ch = owner;
  if (!ws_live(ch))
    return;
  ch->server_closed = true;
  nsCStringContainer str;
  if (NS_FAILED(NS_CStringContainerInit2(
          &str, reason_len ? reason : "", (uint32_t)reason_len,
          NS_CSTRING_CONTAINER_INIT_DEPEND |
              NS_CSTRING_CONTAINER_INIT_SUBSTRING)))
    return;
  WS_LOG(XPCOM_LOG_DEBUG, ("WebSocketChannel %p: onServerClose %u",
                           (void *)ch, (unsigned)code));
  ws_add_ref(ch);
  nsIWebSocketListener_OnServerClose(ch->listener, ch->context, code, &str);
  NS_CStringContainerFinish(&str);
  ws_release(ch);
}

static void conn_on_stop(void *owner, nsresult status) {
  ws_deliver_stop(owner, status);
}

/* wss:// only: the TLS handshake ended (before onStart, or before onStop
 * when it failed). securityInfo answers the nsIWebSocketSecurityInfo from
 * now on, also after onStop. */
static void conn_on_security_info(void *owner, nsISupports *info) {
  ws_channel *ch = owner;
  WS_ASSIGN_IFACE(ch->security_info, info);
}

static const net_ws_conn_callbacks ws_conn_callbacks = {
    conn_on_start, conn_on_message, conn_on_acknowledge, conn_on_server_close,
    conn_on_stop};

/* A stop of our own (no connection was made): posted so that it runs after
 * asyncOpen returned, as every listener call must. */
typedef struct ws_posted_stop {
  ws_channel *ch; /* AddRef'd by the event */
  nsresult status;
} ws_posted_stop;

static void ws_posted_stop_run(void *arg) {
  ws_posted_stop *ps = arg;
  ws_deliver_stop(ps->ch, ps->status);
  ws_release(ps->ch);
  free(ps);
}

static void ws_posted_stop_drop(void *arg) {
  ws_posted_stop *ps = arg;
  /* The owning thread went away first: nobody can be told any more, but
   * the references must still go. */
  ws_channel *ch = ps->ch;
  if (ch->self_ref) {
    ch->self_ref = false;
    ws_release(ch);
  }
  ws_release(ch);
  free(ps);
}

static nsresult ws_post_stop(ws_channel *ch, nsresult status) {
  ws_posted_stop *ps = malloc(sizeof *ps);
  if (!ps)
    return NS_ERROR_OUT_OF_MEMORY;
  ps->ch = ch;
  ps->status = status;
  ws_add_ref(ch);
  nsresult rv = xpcom_dispatch_fn(ch->owner_target, ws_posted_stop_run, ps,
                                  ws_posted_stop_drop);
  if (NS_FAILED(rv)) {
    ws_release(ch);
    free(ps);
  }
  return rv;
}

/* ---- nsIWebSocketChannel: methods -------------------------------------- */

/* An int pref clamped to [lo, hi], as Gecko's std::clamp reads. */
static int32_t ws_pref_clamped(const char *name, int32_t fallback, int32_t lo,
                               int32_t hi) {
  int32_t v = xpcom_prefs_get_int(name, fallback);
  return v < lo ? lo : v > hi ? hi : v;
}

/* network.websocket.* with Gecko's defaults and clamps (read at asyncOpen,
 * so a change affects later channels only). */
static void ws_read_prefs(ws_channel_config *c) {
  c->open_timeout_ms =
      (uint32_t)ws_pref_clamped("network.websocket.timeout.open", 20, 1, 1800) *
      1000u;
  c->close_timeout_ms =
      (uint32_t)ws_pref_clamped("network.websocket.timeout.close", 20, 1,
                                1800) *
      1000u;
  c->ping_interval_ms =
      (uint32_t)ws_pref_clamped("network.websocket.timeout.ping.request", 0, 0,
                                86400) *
      1000u;
  c->ping_timeout_ms =
      (uint32_t)ws_pref_clamped("network.websocket.timeout.ping.response", 10,
                                1, 3600) *
      1000u;
  c->max_message_size = (uint32_t)ws_pref_clamped(
      "network.websocket.max-message-size", INT32_MAX, 1024, INT32_MAX);
  c->permessage_deflate = xpcom_prefs_get_bool(
      "network.websocket.extensions.permessage-deflate", true);
}

/* A NUL-terminated copy of a URI part (free() it), or NULL. */
static char *ws_strdup_part(net_uri_str part) {
  char *p = malloc(part.len + 1);
  if (p) {
    memcpy(p, part.data, part.len);
    p[part.len] = '\0';
  }
  return p;
}

/* The IO service when one is registered (AddRef'd), else NULL. */
static nsIIOService *ws_get_io_service(void) {
  nsIServiceManager *sm = NULL;
  nsIIOService *io = NULL;
  if (NS_SUCCEEDED(NS_GetServiceManager(&sm))) {
    if (NS_FAILED(nsIServiceManager_GetServiceByContractID(
            sm, NET_IOSERVICE_CONTRACTID, &nsIIOService_IID, (void **)&io)))
      io = NULL;
    NS_RELEASE(sm);
  }
  return io;
}

/*
 * Checks the URI and starts the connection. On success ch->conn is set (or
 * *offline is true and no connection was made); on failure nothing is
 * kept. Errors are asyncOpen's.
 */
static nsresult ws_start_connection(ws_channel *ch, nsIURI *aURI,
                                    const nsACString *aOrigin, bool *offline) {
  net_uri *nu = NULL;
  char *host = NULL, *path = NULL, *origin = NULL, *protocols = NULL;
  nsIIOService *io = NULL;
  nsresult rv = net_uri_from_nsIURI(aURI, &nu);
  if (NS_FAILED(rv))
    return rv;

  /* Only ws:// on the ws handler's channels and wss:// on wss's: a
   * scheme decides the port and whether TLS is used, so a mismatch is not
   * guessed at. RFC 6455 §3: a fragment MUST NOT be used in a WebSocket
   * URI (the DOM refuses it with a SyntaxError too). */
  const char *want = ch->kind == WS_CHANNEL_WSS ? "wss" : "ws";
  if (!net_uri_scheme_is(nu, want) || net_uri_has_ref(nu)) {
    rv = NS_ERROR_MALFORMED_URI;
    goto out;
  }

  io = ws_get_io_service();
  /* Gecko never lets a WebSocket reach a banned port (the ws handler's
   * allowPort never lifts the ban). */
  if (io && net_uri_port(nu) != -1) {
    bool allowed = true;
    if (NS_SUCCEEDED(nsIIOService_AllowPort(io, net_uri_port(nu), want,
                                            &allowed)) &&
        !allowed) {
      rv = NS_ERROR_PORT_ACCESS_NOT_ALLOWED;
      goto out;
    }
  }
  bool is_offline = false;
  if (io && NS_SUCCEEDED(nsIIOService_GetOffline(io, &is_offline)) &&
      is_offline) {
    /* test_websocket_offline.js: asyncOpen succeeds, onStop fails. */
    *offline = true;
    rv = NS_OK;
    goto out;
  }

  const char *data;
  uint32_t len = NS_CStringGetData(aOrigin, &data, NULL);
  host = ws_strdup_part(net_uri_host(nu));
  path = ws_strdup_part(net_uri_request_target(nu));
  origin = ws_strdup_part((net_uri_str){data, len});
  len = NS_CStringGetData(&ch->protocol, &data, NULL);
  protocols = ws_strdup_part((net_uri_str){data, len});
  if (!host || !path || !origin || !protocols) {
    rv = NS_ERROR_OUT_OF_MEMORY;
    goto out;
  }
  /* A NUL inside origin or protocol would cut the header short unseen. */
  if (strlen(origin) != NS_CStringGetData(aOrigin, &data, NULL) ||
      strlen(protocols) != len) {
    rv = NS_ERROR_ILLEGAL_VALUE;
    goto out;
  }
  net_ws_conn_params params = {
      .host = host,
      .port = (uint16_t)net_uri_effective_port(nu),
      .secure = ch->kind == WS_CHANNEL_WSS,
      .path = path,
      .origin = origin,
      .protocols = protocols,
      /* Gecko (modern): network.websocket.extensions.permessage-deflate
       * offers the extension; the connection uses it when accepted. */
      .extensions = ch->config.permessage_deflate ? ws_pmd_offer() : NULL,
      .max_message_size = ch->config.max_message_size,
      .open_timeout_ms = ch->config.open_timeout_ms,
      .close_timeout_ms = ch->config.close_timeout_ms,
      .ping_interval_ms = ch->config.ping_interval_ms,
      .ping_timeout_ms = ch->config.ping_timeout_ms,
      .on_security_info = conn_on_security_info,
  };
  WS_LOG(XPCOM_LOG_DEBUG,
         ("WebSocketChannel %p: asyncOpen %s host %s port %u", (void *)ch,
          net_uri_spec(nu), host, (unsigned)params.port));
  rv = net_ws_conn_open(&params, ch->owner_target, &ws_conn_callbacks, ch,
                        &ch->conn);
out:
  NS_IF_RELEASE(io);
  free(host);
  free(path);
  free(origin);
  free(protocols);
  net_uri_free(nu);
  return rv;
}

static nsresult ch_AsyncOpen(nsIWebSocketChannel *self, nsIURI *aURI,
                             const nsACString *aOrigin,
                             nsIWebSocketListener *aListener,
                             nsISupports *aContext) {
  ws_channel *ch = from_channel(self);
  WS_ASSERT_OWNING_THREAD(ch);
  /* Gecko's order: missing URI or listener first, then a reopen. */
  if (!aURI || !aListener)
    return NS_ERROR_UNEXPECTED;
  if (ch->state != WS_STATE_NEW)
    return NS_ERROR_ALREADY_OPENED;
  if (!aOrigin)
    return NS_ERROR_INVALID_ARG;

  /* Listener calls go to the calling thread's queue. */
  nsIThread *thread = NULL;
  nsresult rv = NS_GetCurrentThread(&thread);
  if (NS_FAILED(rv))
    return rv;
  rv = xpcom_query_interface(thread, &nsIEventTarget_IID,
                             (void **)&ch->owner_target);
  NS_RELEASE(thread);
  if (NS_FAILED(rv))
    return rv;

  /* network.websocket.max-connections: Gecko refuses at asyncOpen. */
  if (!net_admission_try_reserve()) {
    WS_LOG(XPCOM_LOG_DEBUG, ("WebSocketChannel %p: too many sessions",
                             (void *)ch));
    NS_RELEASE(ch->owner_target);
    return NS_ERROR_SOCKET_CREATE_FAILED;
  }
  ch->admitted = true;
  ws_read_prefs(&ch->config);

  bool offline = false;
  rv = ws_start_connection(ch, aURI, aOrigin, &offline);
  if (NS_SUCCEEDED(rv) && offline)
    rv = ws_post_stop(ch, NS_ERROR_OFFLINE);
  if (NS_FAILED(rv)) {
    if (ch->conn) {
      net_ws_conn_release(ch->conn);
      ch->conn = NULL;
    }
    ch->admitted = false;
    net_admission_release();
    NS_RELEASE(ch->owner_target);
    WS_LOG(XPCOM_LOG_DEBUG, ("WebSocketChannel %p: asyncOpen failed 0x%08x",
                             (void *)ch, (unsigned)rv));
    return rv;
  }

  ch->state = WS_STATE_OPENING;
  WS_ASSIGN_IFACE(ch->original_uri, aURI);
  WS_ASSIGN_IFACE(ch->uri, aURI);
  WS_ASSIGN_IFACE(ch->listener, aListener);
  WS_ASSIGN_IFACE(ch->context, aContext);
  /* Alive until onStop, whoever else lets go. */
  ch->self_ref = true;
  ws_add_ref(ch);
  /* Off the main thread, the owning thread may finish before the socket
   * thread stops the session. (The main thread cannot: XPCOM shutdown
   * stops the socket thread first, so its stops reach the main thread.) */
  if (!NS_IsMainThread()) {
    ws_add_ref(ch);
    if (NS_SUCCEEDED(xpcom_thread_at_close((nsIThread *)(void *)ch->owner_target,
                                           ws_owner_closing, ch)))
      ch->close_hooked = true;
    else
      ws_release(ch);
  }
  return NS_OK;
}

static nsresult ch_Close(nsIWebSocketChannel *self, uint16_t aCode,
                         const nsACString *aReason) {
  ws_channel *ch = from_channel(self);
  WS_ASSERT_OWNING_THREAD(ch);
  if (!aReason)
    return NS_ERROR_INVALID_ARG;
  const char *data;
  uint32_t len = NS_CStringGetData(aReason, &data, NULL);
  /* RFC 6455 §5.5: the reason must fit a control frame after the code. */
  if (len > WS_MAX_CLOSE_REASON)
    return NS_ERROR_ILLEGAL_VALUE;
  if (ch->close_requested)
    return NS_ERROR_UNEXPECTED;
  /* Gecko 8: no session (never opened, or over) → not connected. */
  if (ch->state == WS_STATE_NEW || ch->state == WS_STATE_STOPPED)
    return NS_ERROR_NOT_CONNECTED;
  ch->close_requested = true;
  if (ch->state == WS_STATE_OPENING) {
    /* Before the transport exists Gecko 8 aborts the session: onStop
     * follows with the same status, and onStart never comes. */
    ch->state = WS_STATE_CLOSING;
    ch->aborted = true;
    if (ch->conn)
      net_ws_conn_abort(ch->conn, NS_ERROR_NOT_CONNECTED);
    return NS_ERROR_NOT_CONNECTED;
  }
  ch->state = WS_STATE_CLOSING;
  /* The reason is UTF-8 by contract (AUTF8String); the connection drops
   * an invalid one rather than send it. Code 0 goes out as 1000 (Gecko 8),
   * and the connection maps codes an endpoint may not send (§7.4.1). */
  WS_LOG(XPCOM_LOG_DEBUG, ("WebSocketChannel %p: close %u", (void *)ch,
                           (unsigned)aCode));
  return ch->conn ? net_ws_conn_close(ch->conn, aCode, data, len) : NS_OK;
}

static nsresult ws_send(ws_channel *ch, const nsACString *aMsg, bool binary) {
  WS_ASSERT_OWNING_THREAD(ch);
  if (!aMsg)
    return NS_ERROR_INVALID_ARG;
  /* Gecko 8's order: after close() → unexpected; without a session (not
   * opened, or stopped) → not connected. Messages sent before onStart are
   * queued by the connection and leave once it is open, as in Gecko 8. */
  if (ch->close_requested)
    return NS_ERROR_UNEXPECTED;
  if (ch->state == WS_STATE_NEW || ch->state == WS_STATE_STOPPED ||
      !ch->conn)
    return NS_ERROR_NOT_CONNECTED;
  const char *data;
  uint32_t len = NS_CStringGetData(aMsg, &data, NULL);
  /* Gecko 17+: a message the peer would have to refuse (our own limit,
   * max-message-size) is refused here, synchronously. */
  if (len > ch->config.max_message_size)
    return NS_ERROR_FILE_TOO_BIG;
  /* RFC 6455 §5.6: a text message is UTF-8; never put anything else on
   * the wire (the peer would have to fail the connection, §8.1). */
  if (!binary && !xpcom_utf8_valid(data, len))
    return NS_ERROR_ILLEGAL_VALUE;
  return net_ws_conn_send(ch->conn, binary, (const uint8_t *)data, len);
}

static nsresult ch_SendMsg(nsIWebSocketChannel *self, const nsACString *aMsg) {
  return ws_send(from_channel(self), aMsg, false);
}

static nsresult ch_SendBinaryMsg(nsIWebSocketChannel *self,
                                 const nsACString *aMsg) {
  return ws_send(from_channel(self), aMsg, true);
}

/* ---- nsIProtocolHandler ------------------------------------------------- */

static nsresult ph_QueryInterface(nsIProtocolHandler *self, const nsIID *iid,
                                  void **result) {
  return ws_query_interface(from_handler(self), iid, result);
}
static nsrefcnt ph_AddRef(nsIProtocolHandler *self) {
  return ws_add_ref(from_handler(self));
}
static nsrefcnt ph_Release(nsIProtocolHandler *self) {
  return ws_release(from_handler(self));
}

static nsresult ph_GetScheme(nsIProtocolHandler *self, nsACString *aScheme) {
  ws_channel *ch = from_handler(self);
  if (!aScheme)
    return NS_ERROR_NULL_POINTER;
  return ch->kind == WS_CHANNEL_WSS ? NS_CStringSetData(aScheme, "wss", 3)
                                    : NS_CStringSetData(aScheme, "ws", 2);
}

static nsresult ph_GetDefaultPort(nsIProtocolHandler *self,
                                  int32_t *aDefaultPort) {
  ws_channel *ch = from_handler(self);
  if (!aDefaultPort)
    return NS_ERROR_NULL_POINTER;
  /* RFC 6455 §3: ws uses 80 and wss 443 unless the URI names a port. */
  *aDefaultPort = ch->kind == WS_CHANNEL_WSS ? 443 : 80;
  return NS_OK;
}

static nsresult ph_GetProtocolFlags(nsIProtocolHandler *self,
                                    uint32_t *aProtocolFlags) {
  if (!aProtocolFlags)
    return NS_ERROR_NULL_POINTER;
  /* Gecko's BaseWebSocketChannel: the same flags for ws and wss. */
  *aProtocolFlags =
      nsIProtocolHandler_URI_NORELATIVE | nsIProtocolHandler_URI_NON_PERSISTABLE |
      nsIProtocolHandler_ALLOWS_PROXY | nsIProtocolHandler_ALLOWS_PROXY_HTTP |
      nsIProtocolHandler_URI_DOES_NOT_RETURN_DATA |
      nsIProtocolHandler_URI_DANGEROUS_TO_LOAD;
  return NS_OK;
}

static nsresult ph_NewURI(nsIProtocolHandler *self, const nsACString *aSpec,
                          const char *aOriginCharset, nsIURI *aBaseURI,
                          nsIURI **_retval) {
  if (!_retval)
    return NS_ERROR_NULL_POINTER;
  *_retval = NULL;
  if (!aSpec)
    return NS_ERROR_NULL_POINTER;
  /* Gecko's BaseWebSocketChannel makes a standard URL with the scheme's
   * default port; NS_NewURI is ours (src/net), which knows ws/wss/http/https
   * defaults and resolves against aBaseURI. The charset is ignored there. */
  return NS_NewURI(_retval, aSpec, aOriginCharset, aBaseURI);
}

static nsresult ph_NewChannel2(nsIProtocolHandler *self, nsIURI *aURI,
                               nsILoadInfo *aLoadinfo, nsIChannel **_retval) {
  if (!_retval)
    return NS_ERROR_NULL_POINTER;
  *_retval = NULL;
  /* As Gecko: a WebSocket is not an nsIChannel; create the channel by
   * contract ID instead. */
  return NS_ERROR_NOT_IMPLEMENTED;
}

static nsresult ph_NewChannel(nsIProtocolHandler *self, nsIURI *aURI,
                              nsIChannel **_retval) {
  return ph_NewChannel2(self, aURI, NULL, _retval);
}

static nsresult ph_AllowPort(nsIProtocolHandler *self, int32_t port,
                             const char *scheme, bool *_retval) {
  if (!_retval)
    return NS_ERROR_NULL_POINTER;
  /* As Gecko: never override the banned-port list. */
  *_retval = false;
  return NS_OK;
}

/* ---- vtables ------------------------------------------------------------ */

/*
 * A C++ vtable pointer points just past two words (offset-to-top, RTTI)
 * that dynamic_cast<void*> and typeid read. Give each table those words:
 * offset-to-top is the interface's distance from the object's start, and
 * no RTTI (typeid on our objects is not supported, as for any XPCOM object
 * implemented outside C++).
 */
static const struct {
  intptr_t offset_to_top;
  const void *rtti;
  nsIWebSocketChannelVtbl vtbl;
} ws_channel_vtbl = {
    -(intptr_t)offsetof(ws_channel, channel_iface),
    NULL,
    {
        .QueryInterface = ch_QueryInterface,
        .AddRef = ch_AddRef,
        .Release = ch_Release,
        .GetOriginalURI = ch_GetOriginalURI,
        .GetURI = ch_GetURI,
        .GetNotificationCallbacks = ch_GetNotificationCallbacks,
        .SetNotificationCallbacks = ch_SetNotificationCallbacks,
        .GetSecurityInfo = ch_GetSecurityInfo,
        .GetLoadGroup = ch_GetLoadGroup,
        .SetLoadGroup = ch_SetLoadGroup,
        .GetProtocol = ch_GetProtocol,
        .SetProtocol = ch_SetProtocol,
        .GetExtensions = ch_GetExtensions,
        .AsyncOpen = ch_AsyncOpen,
        .Close = ch_Close,
        .SendMsg = ch_SendMsg,
        .SendBinaryMsg = ch_SendBinaryMsg,
    }};

static const struct {
  intptr_t offset_to_top;
  const void *rtti;
  nsIProtocolHandlerVtbl vtbl;
} ws_handler_vtbl = {
    -(intptr_t)offsetof(ws_channel, handler_iface),
    NULL,
    {
        .QueryInterface = ph_QueryInterface,
        .AddRef = ph_AddRef,
        .Release = ph_Release,
        .GetScheme = ph_GetScheme,
        .GetDefaultPort = ph_GetDefaultPort,
        .GetProtocolFlags = ph_GetProtocolFlags,
        .NewURI = ph_NewURI,
        .NewChannel2 = ph_NewChannel2,
        .NewChannel = ph_NewChannel,
        .AllowPort = ph_AllowPort,
    }};

/* ---- construction ------------------------------------------------------- */

nsresult ws_channel_create(ws_channel_kind kind, const nsIID *iid,
                           void **result) {
  if (!result)
    return NS_ERROR_NULL_POINTER;
  *result = NULL;
  if (!iid)
    return NS_ERROR_NULL_POINTER;

  ws_channel *ch = calloc(1, sizeof(*ch));
  if (!ch)
    return NS_ERROR_OUT_OF_MEMORY;
  ch->channel_iface.vtbl = &ws_channel_vtbl.vtbl;
  ch->handler_iface.vtbl = &ws_handler_vtbl.vtbl;
  ch->kind = kind;
  ch->owning_thread = PR_GetCurrentThread();
  ch->state = WS_STATE_NEW;
  NS_CStringContainerInit(&ch->protocol);
  NS_CStringContainerInit(&ch->extensions);
  ch->refcnt = 1;
  xpcom_leak_ctor(WS_CLASS_NAME, sizeof(*ch));

  /* Our creation reference is dropped after the QI, which adds the
   * caller's; a failed QI therefore destroys the object. */
  nsresult rv = ws_query_interface(ch, iid, result);
  ws_release(ch);
  return rv;
}

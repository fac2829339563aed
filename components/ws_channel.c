/*
 * ws_channel.c — the WebSocket channel object (see ws_channel.h).
 *
 * One allocation holds two interface pointers, nsIWebSocketChannel first
 * (the object's identity, what QueryInterface(nsISupports) returns) and
 * nsIProtocolHandler second. Everything that needs no network is real:
 * QueryInterface, refcounting, leak accounting, the attributes, argument
 * checking, and the protocol-handler properties of the ws/wss schemes.
 * The network side (transport, handshake, framing) is the ws:// issue;
 * until it lands asyncOpen says NS_ERROR_NOT_IMPLEMENTED and close/send say
 * NS_ERROR_NOT_CONNECTED, which is what Gecko answers when no transport
 * exists.
 */
#include "ws_channel.h"

#include <stdlib.h>
#include <string.h>

#include <prthread.h>

#include "nsError.h"
#include "nsXPCOMStrings.h"
#include "xpcom_object.h"

#include "net/net_uri_object.h"

#include "nsIInterfaceRequestor.h"
#include "nsILoadGroup.h"
#include "nsIProtocolHandler.h"
#include "nsIURI.h"
#include "nsIWebSocketChannel.h"
#include "nsIWebSocketListener.h"

/* RFC 6455 §5.5: a control frame's payload is at most 125 bytes, and a
 * Close payload spends two of them on the status code. */
#define WS_MAX_CLOSE_REASON 123

/* Where the channel is in its life. Only WS_STATE_NEW exists until the
 * network side lands; the others are named now so the checks below read
 * as they will then. */
typedef enum ws_channel_state {
  WS_STATE_NEW = 0,  /* created, asyncOpen not (successfully) called */
  WS_STATE_OPENING,  /* asyncOpen accepted, handshake under way */
  WS_STATE_OPEN,     /* onStart delivered */
  WS_STATE_CLOSING,  /* close() called or server Close received */
  WS_STATE_STOPPED   /* onStop delivered; listener and context dropped */
} ws_channel_state;

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
  nsIURI *original_uri;               /* set by asyncOpen; NULL before */
  nsIURI *uri;                        /* after redirects; NULL before */
  nsISupports *security_info;         /* wss only, after connect */
  nsIInterfaceRequestor *callbacks;   /* AddRef'd or NULL */
  nsILoadGroup *load_group;           /* AddRef'd or NULL */
  nsCStringContainer protocol;        /* offered, then negotiated */
  nsCStringContainer extensions;      /* negotiated; empty before */
  nsIWebSocketListener *listener;     /* AddRef'd from asyncOpen to onStop */
  nsISupports *context;               /* AddRef'd from asyncOpen to onStop */
  /* ---- end of owning-thread state ----------------------------------- */

  /* Socket-thread state (the connection's engine and socket) joins here
   * with the ws:// issue, under its own "socket thread only" banner. */
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

/* Runs when the last reference goes. Today that is always on the owning
 * thread; once the socket thread holds references (ws:// issue) the
 * owning-thread members below must be released by an event posted to the
 * owning thread instead, as Gecko proxies its releases to the main thread. */
static void ws_channel_destroy(ws_channel *ch) {
  NS_IF_RELEASE(ch->original_uri);
  NS_IF_RELEASE(ch->uri);
  NS_IF_RELEASE(ch->security_info);
  NS_IF_RELEASE(ch->callbacks);
  NS_IF_RELEASE(ch->load_group);
  NS_IF_RELEASE(ch->listener);
  NS_IF_RELEASE(ch->context);
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

/* ---- nsIWebSocketChannel: methods -------------------------------------- */

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
  /* No transport yet (the ws:// issue): refuse honestly, keep no state, so
   * no listener call is ever owed. */
  return NS_ERROR_NOT_IMPLEMENTED;
}

static nsresult ch_Close(nsIWebSocketChannel *self, uint16_t aCode,
                         const nsACString *aReason) {
  ws_channel *ch = from_channel(self);
  WS_ASSERT_OWNING_THREAD(ch);
  if (!aReason)
    return NS_ERROR_INVALID_ARG;
  const char *data;
  /* RFC 6455 §5.5: the reason must fit a control frame after the code. */
  if (NS_CStringGetData(aReason, &data, NULL) > WS_MAX_CLOSE_REASON)
    return NS_ERROR_ILLEGAL_VALUE;
  if (ch->state == WS_STATE_CLOSING)
    return NS_ERROR_UNEXPECTED;
  /* Gecko 8: no transport (never opened, or already stopped) → not
   * connected. Every channel is in that case until the ws:// issue. */
  return NS_ERROR_NOT_CONNECTED;
}

static nsresult ch_SendMsg(nsIWebSocketChannel *self, const nsACString *aMsg) {
  ws_channel *ch = from_channel(self);
  WS_ASSERT_OWNING_THREAD(ch);
  if (!aMsg)
    return NS_ERROR_INVALID_ARG;
  if (ch->state == WS_STATE_CLOSING)
    return NS_ERROR_UNEXPECTED;
  return NS_ERROR_NOT_CONNECTED;
}

static nsresult ch_SendBinaryMsg(nsIWebSocketChannel *self,
                                 const nsACString *aMsg) {
  ws_channel *ch = from_channel(self);
  WS_ASSERT_OWNING_THREAD(ch);
  if (!aMsg)
    return NS_ERROR_INVALID_ARG;
  if (ch->state == WS_STATE_CLOSING)
    return NS_ERROR_UNEXPECTED;
  return NS_ERROR_NOT_CONNECTED;
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

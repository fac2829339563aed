/*
 * ws_channel.h — the WebSocket channel object: one C object implementing
 * nsIWebSocketChannel (Gecko 8 form) and nsIProtocolHandler (Gecko 52 form)
 * for the ws and wss schemes.
 *
 * This header is private to the component module: hosts never see it. They
 * create the channel by contract ID ("@mozilla.org/network/protocol;1?name=ws"
 * or "?name=wss") and use the generated interface headers only.
 *
 * Threads: a channel belongs to the thread that created it (its owning
 * thread); asyncOpen must be called there too, and every listener call is
 * made there, from that thread's event queue (so the thread must run its
 * events: NS_ProcessNextEvent or a host loop). nsIWebSocketChannel methods
 * are to be called on that thread (debug builds assert it).
 * nsIProtocolHandler methods read only immutable data and may be called on
 * any thread. AddRef and Release may be called on any thread (the count is
 * atomic); the socket-transport thread itself never holds a reference.
 *
 * Lifetime: from a successful asyncOpen until onStop has been delivered the
 * channel holds a reference to itself (as Gecko's transport does), so a
 * host may drop its own at any time; XPCOM shutdown ends a session still
 * running with onStop(NS_ERROR_ABORT). Listener and context are held from
 * asyncOpen until onStop returns.
 */
#ifndef WSCHANNEL_WS_CHANNEL_H
#define WSCHANNEL_WS_CHANNEL_H

#include "nscore.h"

/* Which class: the two differ only in scheme, default port and CID. */
typedef enum ws_channel_kind {
  WS_CHANNEL_WS = 0, /* ws://  port 80 */
  WS_CHANNEL_WSS = 1 /* wss:// port 443 */
} ws_channel_kind;

/* Class IDs, as in Gecko's nsNetCID.h. */
#define WS_CHANNEL_WS_CID_STR "dc01db59-a513-4c90-824b-085cce06c0aa"
#define WS_CHANNEL_WS_CID                                                      \
  {0xdc01db59, 0xa513, 0x4c90, {0x82, 0x4b, 0x08, 0x5c, 0xce, 0x06, 0xc0, 0xaa}}
#define WS_CHANNEL_WSS_CID_STR "dc01dbbb-a5bb-4cbb-82bb-085cce06c0bb"
#define WS_CHANNEL_WSS_CID                                                     \
  {0xdc01dbbb, 0xa5bb, 0x4cbb, {0x82, 0xbb, 0x08, 0x5c, 0xce, 0x06, 0xc0, 0xbb}}

#define WS_CHANNEL_WS_CONTRACTID "@mozilla.org/network/protocol;1?name=ws"
#define WS_CHANNEL_WSS_CONTRACTID "@mozilla.org/network/protocol;1?name=wss"

/*
 * Creates a channel of the given kind and queries it for `iid`.
 *
 * On success stores an AddRef'd interface pointer in *result (the caller
 * releases it) and returns NS_OK. On failure *result is NULL and the
 * object, if one was made, is already destroyed: NS_ERROR_NULL_POINTER for
 * null iid/result, NS_ERROR_OUT_OF_MEMORY, or NS_NOINTERFACE when the
 * channel does not implement `iid`.
 *
 * The calling thread becomes the channel's owning thread.
 */
nsresult ws_channel_create(ws_channel_kind kind, const nsIID *iid,
                           void **result);

#endif /* WSCHANNEL_WS_CHANNEL_H */

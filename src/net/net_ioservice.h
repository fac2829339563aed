/*
 * net_ioservice.h — the IO service (nsIIOService, plus
 * nsIIOServiceInternal), registered under Gecko's CID and contract:
 *
 *   CID       {9ac9e770-18bc-11d3-9337-00104ba0fd40}  (NS_IOSERVICE_CID)
 *   contract  "@mozilla.org/network/io-service;1"
 *
 * What it does:
 *  - newURI(spec, charset, base): ws, wss, http and https URIs are made
 *    here (NS_NewURI, net_uri_object.h) without consulting a protocol
 *    handler; other schemes go to the handler registered under
 *    "@mozilla.org/network/protocol;1?name=<scheme>". A spec without a
 *    scheme needs a base (else NS_ERROR_MALFORMED_URI); "#ref" alone is
 *    the base's cloneWithNewRef (Gecko).
 *  - getProtocolHandler(scheme): the service registered under that
 *    contract; none → NS_ERROR_UNKNOWN_PROTOCOL (there is no "default"
 *    handler here). getProtocolFlags asks it for protocolFlags.
 *  - offline (default false) and connectivity (default true): `offline`
 *    reads true when set offline or without connectivity (Gecko's
 *    network.offline-mirrors-connectivity default). Setting it on the main
 *    thread notifies observers of "network:offline-about-to-go-offline"
 *    (going offline) and "network:offline-status-changed" with "offline" /
 *    "online", subject the service, as Gecko does.
 *  - allowPort(port, scheme): -1 → true; <= 0 or > 65535 → false; a port
 *    on Gecko's banned list (gBadPortList, plus the preference
 *    network.security.ports.banned, minus .banned.override; both
 *    "p1,p2,lo-hi" lists, read on each call) → false unless the scheme's
 *    protocol handler allows it (a scheme without a handler allows
 *    nothing banned); anything else → true.
 *  - extractScheme(url): Gecko's net_ExtractURLScheme, lower-cased;
 *    NS_ERROR_MALFORMED_URI without one.
 *  - newChannelFromURI / newChannel / newChannelFromURIWithLoadInfo ask
 *    the scheme's handler (newChannel / newChannel2).
 *  - Not implemented (NS_ERROR_NOT_IMPLEMENTED): newFileURI (no nsIFile in
 *    this runtime), newChannelFromURI2 and newChannel2 (they need a load
 *    info built from principals and DOM nodes, which do not exist here).
 *
 * Threads: any thread may call it (state is atomic); observer
 * notifications are sent only when offline is set on the main thread.
 */
#ifndef WSCHANNEL_NET_IOSERVICE_H
#define WSCHANNEL_NET_IOSERVICE_H

#include "nscore.h"
#include "nsIIOService.h" /* generated from idl/nsIIOService.idl */

#define NET_IOSERVICE_CID_STR "9ac9e770-18bc-11d3-9337-00104ba0fd40"
#define NET_IOSERVICE_CID                                                     \
  {0x9ac9e770, 0x18bc, 0x11d3, {0x93, 0x37, 0x00, 0x10, 0x4b, 0xa0, 0xfd, 0x40}}
#define NET_IOSERVICE_CONTRACTID "@mozilla.org/network/io-service;1"

XPCOM_BEGIN_DECLS

/* The CID above as an object, for module tables. */
XPCOM_EXTERN_C XPCOM_EXPORT const nsCID net_ioservice_cid;

/*
 * The module constructor (xpcom_module_constructor_proc): makes a new IO
 * service and QueryInterfaces it to *iid into *result (AddRef'd, the
 * caller releases). A non-NULL outer gives NS_ERROR_NO_AGGREGATION; an
 * interface it lacks gives NS_NOINTERFACE; *result is NULL on failure.
 * Register it as a service (the component manager keeps one instance).
 */
XPCOM_API(nsresult)
net_ioservice_construct(nsISupports *outer, const nsIID *iid, void **result);

/* Gecko's port blacklist check alone, without preferences or handlers:
 * true when `port` is on the built-in list. */
XPCOM_API(bool) net_ioservice_port_is_banned(int32_t port);

XPCOM_END_DECLS

#endif /* WSCHANNEL_NET_IOSERVICE_H */

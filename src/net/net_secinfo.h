/*
 * net_secinfo.h — nsIWebSocketSecurityInfo (idl/nsIWebSocketSecurityInfo.idl),
 * the object nsIWebSocketChannel.securityInfo answers for wss://, built
 * from a net_tls_info snapshot.
 *
 * The object and the nsIWebSocketCertInfo objects it hands out are
 * immutable: any thread may use them, and they outlive the channel and
 * NSS (they hold plain copies, no NSS references).
 */
#ifndef WSCHANNEL_NET_SECINFO_H
#define WSCHANNEL_NET_SECINFO_H

#include "net_tls.h"
#include "nsISupports.h"

XPCOM_BEGIN_DECLS

/*
 * Wraps `info` (adopted: the object frees it, and on failure it is freed
 * here) in a new security-info object. *out receives its nsISupports
 * identity, AddRef'd for the caller; QueryInterface gives
 * nsIWebSocketSecurityInfo. NS_ERROR_INVALID_ARG (info or out NULL),
 * NS_ERROR_OUT_OF_MEMORY. Any thread.
 */
NET_API(nsresult) net_secinfo_create(net_tls_info *info, nsISupports **out);

XPCOM_END_DECLS

#endif /* WSCHANNEL_NET_SECINFO_H */

/*
 * net_nss.h — NSS for the network layer: initialised once per process,
 * shut down when the socket-transport service stops (XPCOM shutdown).
 *
 * Now: randomness (Sec-WebSocket-Key, frame masks) and, for the engine,
 * SHA-1 (Sec-WebSocket-Accept). The wss:// issue extends this file with
 * the SSL layer (SSL_ImportFD on a connection's NSPR socket), trust
 * anchors and a certificate database.
 *
 * A host that initialised NSS itself (NSS_IsInitialized() is true) is
 * respected: nothing is initialised or shut down here then. Otherwise NSS
 * gets a context of its own without databases (NSS_InitContext with
 * NSS_INIT_READONLY | NOCERTDB | NOMODDB | FORCEOPEN | NOROOTINIT), closed
 * with NSS_ShutdownContext once the socket-transport service has stopped.
 */
#ifndef WSCHANNEL_NET_NSS_H
#define WSCHANNEL_NET_NSS_H

#include <stddef.h>

#include "net_sts.h"

XPCOM_BEGIN_DECLS

/*
 * Makes NSS usable by this process (idempotent, cheap after the first
 * call). Starts the socket-transport service if needed, because its stop
 * is what shuts our NSS context down; the context is opened on that
 * thread too (a caller elsewhere waits for it, once), so NSS starts and
 * stops on the same thread.
 * Errors: those of net_sts_at_stop (XPCOM not running or shutting down),
 * or the NSS error mapped with NS_ERROR_FROM_NSS_ERROR. Any thread.
 */
NET_API(nsresult) net_nss_init(void);

/* True once net_nss_init succeeded and until NSS is shut down. Any thread. */
NET_API(bool) net_nss_ready(void);

/*
 * Fills buf[0..len) with random bytes from NSS's generator
 * (PK11_GenerateRandom), calling net_nss_init first if needed.
 * NS_OK, or the error of net_nss_init, or NS_ERROR_FAILURE. Any thread.
 */
NET_API(nsresult) net_random(void *buf, size_t len);

/*
 * Closes the NSS context net_nss_init opened (NSS_ShutdownContext), if any.
 * Registered as a stop hook of the socket-transport service, so XPCOM
 * shutdown calls it; a later net_nss_init initialises again. Call it
 * yourself only when nothing uses NSS through this module any more.
 * Any thread.
 */
NET_API(void) net_nss_shutdown(void);

XPCOM_END_DECLS

#endif /* WSCHANNEL_NET_NSS_H */

/*
 * net_nss.h — NSS for the network layer: initialised once per process,
 * shut down when the socket-transport service stops (XPCOM shutdown).
 *
 * Used for randomness (Sec-WebSocket-Key, frame masks), for the engine's
 * SHA-1 (Sec-WebSocket-Accept), and for wss:// (net_tls: the SSL library,
 * net_trust: trust anchors).
 *
 * A host that initialised NSS itself (NSS_IsInitialized() is true) is
 * respected: nothing is initialised or shut down here then, and the SSL
 * policy stays the host's. Otherwise NSS gets a context of its own
 * (NSS_InitContext, NSS_INIT_READONLY | FORCEOPEN | NOROOTINIT; the
 * built-in roots are net_trust's job):
 *   - in the certificate database directory the host named with
 *     net_nss_set_profile_dir() (its cert9.db / key4.db / pkcs11.txt), or
 *   - without any database (NOCERTDB | NOMODDB), the default;
 * with the domestic cipher policy (NSS_SetDomesticPolicy). It is closed
 * with NSS_ShutdownContext once the socket-transport service has stopped,
 * after every reference this project holds was released (the
 * net_nss_at_shutdown hooks — net_trust's anchors —, the SSL client
 * session cache), so NSS really shuts down; see net_nss_shutdown_status().
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

/* True while NSS is initialised by this module (not by the host). Any
 * thread. */
NET_API(bool) net_nss_is_ours(void);

/*
 * Names the host's profile directory: the next initialisation by this
 * module opens NSS's databases there (a "sql:" prefix is added when the
 * name has no "sql:"/"dbm:" prefix); NULL or "" goes back to no database.
 * The string is copied. Takes effect at the next net_nss_init after an
 * NSS shutdown; NS_ERROR_ALREADY_INITIALIZED while our NSS context is
 * open, NS_ERROR_OUT_OF_MEMORY. Any thread.
 */
NET_API(nsresult) net_nss_set_profile_dir(const char *dir);

/*
 * Fills buf[0..len) with random bytes from NSS's generator
 * (PK11_GenerateRandom), calling net_nss_init first if needed.
 * NS_OK, or the error of net_nss_init, or NS_ERROR_FAILURE. Any thread.
 */
NET_API(nsresult) net_random(void *buf, size_t len);

/*
 * Registers fn to run at the next net_nss_shutdown, before NSS itself is
 * shut down (also when the host owns NSS): a module that keeps NSS objects
 * (net_trust: its anchors) releases them there. A function already
 * registered is not added twice; the list empties at each shutdown, so a
 * module registers again when it keeps objects in a new NSS lifetime.
 * Hooks run in reverse registration order, under this module's lock: fn
 * must not call net_nss_* functions that take it (init, shutdown,
 * set_profile_dir, at_shutdown). NS_OK or NS_ERROR_OUT_OF_MEMORY (at most
 * 8 hooks). Any thread.
 */
NET_API(nsresult) net_nss_at_shutdown(void (*fn)(void));

/*
 * Releases this project's NSS references (the net_nss_at_shutdown hooks;
 * when the context is ours also SSL_ClearSessionCache) and closes the NSS context
 * net_nss_init opened (NSS_ShutdownContext), if any. Registered as a stop
 * hook of the socket-transport service, so XPCOM shutdown calls it; a
 * later net_nss_init initialises again. Call it yourself only when nothing
 * uses NSS through this module any more. Any thread.
 */
NET_API(void) net_nss_shutdown(void);

/*
 * What the last net_nss_shutdown found: NS_OK when NSS_ShutdownContext
 * succeeded, or there was no context of ours to close; the mapped NSS
 * error (typically SEC_ERROR_BUSY: someone still holds an NSS object) when
 * it failed. NS_OK before any shutdown. Tests check it after
 * NS_ShutdownXPCOM. Any thread.
 */
NET_API(nsresult) net_nss_shutdown_status(void);

XPCOM_END_DECLS

#endif /* WSCHANNEL_NET_NSS_H */

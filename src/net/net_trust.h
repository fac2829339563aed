/*
 * net_trust.h — the trust anchors wss:// verifies servers against.
 *
 * Sources, all loaded lazily by net_trust_ensure() (the first TLS
 * connection of an NSS lifetime pays for them, once):
 *   1. NSS's built-in roots (the PKCS#11 module libnssckbi.so that Firefox
 *      ships, loaded with SECMOD_LoadUserModule from the directory of
 *      libnss3, as `Builtin Roots`) — unless a root module is already
 *      loaded (a profile database that lists it, or the host's);
 *   2. the system store: the PEM bundle of Debian's ca-certificates
 *      (/etc/ssl/certs/ca-certificates.crt; other distributions' paths are
 *      tried after it);
 *   3. extra anchors: the PEM file named by the environment variable
 *      SSL_CERT_FILE (the convention OpenSSL, curl and Python share;
 *      `wschannel cat --cacert FILE` sets it) and the one named by the
 *      string pref `network.websocket.tls.cafile`. Both are read at every
 *      ensure, so a file named later is still added; each path is loaded
 *      once per NSS lifetime. Unlike OpenSSL these ADD to 1 and 2.
 * When the host initialised NSS itself (net_nss_is_ours() is false), 1 and
 * 2 are the host's business and only 3 is added.
 *
 * PEM certificates become NSS temporary certificates with trust attached
 * (CERT_NewTempCertificate + CERT_ChangeCertTrust: the trust lives in
 * NSS's in-memory crypto context, nothing is written to any database):
 * a CA certificate is trusted as a CA for TLS servers ("C,,"); any other
 * certificate is trusted as that server itself ("P,,", like curl's
 * --cacert with a self-signed server certificate). A certificate that is
 * already on a token (e.g. a built-in root) keeps that token's trust: a
 * PEM file cannot revive a root NSS distrusts.
 *
 * Nothing here switches verification off; there is no such switch.
 *
 * Threads: every function may be called from any thread (one lock), after
 * net_nss_init() succeeded. Logging: module "nsWebSocket".
 */
#ifndef WSCHANNEL_NET_TRUST_H
#define WSCHANNEL_NET_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net_sts.h"

XPCOM_BEGIN_DECLS

/* The pref naming an extra PEM file of trust anchors. */
#define NET_TRUST_CAFILE_PREF "network.websocket.tls.cafile"

/*
 * Makes sure the anchors above are loaded (see the header comment).
 * Problems with a source (module missing, unreadable or empty file) are
 * logged and skipped, never fatal: a server that needed the anchor then
 * fails verification with NSS's precise error (e.g.
 * SEC_ERROR_UNKNOWN_ISSUER). NS_OK, or NS_ERROR_NOT_INITIALIZED when NSS
 * is not initialised. Any thread.
 */
NET_API(nsresult) net_trust_ensure(void);

/*
 * Adds every "-----BEGIN CERTIFICATE-----" block of the PEM file at `path`
 * as an anchor, for the rest of the NSS lifetime; *added (may be NULL)
 * receives how many certificates were made anchors (certificates already
 * on a token are counted but keep their token's trust). Loading the same
 * path again adds nothing new.
 * Errors: NS_ERROR_NOT_INITIALIZED (NSS not initialised),
 * NS_ERROR_FILE_NOT_FOUND (cannot open or read), NS_ERROR_FILE_TOO_BIG
 * (over 64 MiB), NS_ERROR_FILE_CORRUPTED (no certificate could be decoded),
 * NS_ERROR_OUT_OF_MEMORY. Any thread.
 */
NET_API(nsresult) net_trust_add_pem_file(const char *path, unsigned *added);

/*
 * Same, for PEM text in memory (`len` bytes, need not be NUL-terminated).
 * Any thread.
 */
NET_API(nsresult) net_trust_add_pem(const char *pem, size_t len, unsigned *added);

/*
 * Drops every NSS reference this module holds (anchor certificates, the
 * built-in roots module: unloaded) and forgets which sources were loaded,
 * so a later NSS lifetime loads them again. Registered with
 * net_nss_at_shutdown by the functions above, so net_nss_shutdown calls it
 * before shutting NSS down. Any thread.
 */
NET_API(void) net_trust_shutdown(void);

/* For tests and diagnostics: whether this module loaded the built-in roots
 * module, and how many anchor certificates it holds. Any thread. */
NET_API(bool) net_trust_have_builtin_roots(void);
NET_API(unsigned) net_trust_anchor_count(void);

XPCOM_END_DECLS

#endif /* WSCHANNEL_NET_TRUST_H */

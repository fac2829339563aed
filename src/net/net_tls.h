/*
 * net_tls.h — the client side of TLS for wss://, on NSS's SSL library.
 *
 * net_tls_start() pushes NSS's SSL layer onto a connected, non-blocking
 * NSPR TCP socket (SSL_ImportFD) and configures it as Firefox configures
 * its sockets, minus what a WebSocket does not need:
 *   - TLS 1.2 and 1.3 only (SSL_VersionRangeSet);
 *   - SNI and the name to verify from the host (SSL_SetURL; NSS sends no
 *     SNI for an IP literal, RFC 6066 §3);
 *   - ALPN offering "http/1.1" (SSL_SetNextProtoNego), the protocol of
 *     the upgrade request (RFC 6455 §4.1 runs over HTTP/1.1);
 *   - NSS's client session cache (on by default; keyed by address, port
 *     and host name) and session tickets, so a reconnect resumes;
 *   - renegotiation only with RFC 5746; no false start, no 0-RTT: nothing
 *     is sent before the server is authenticated.
 * The handshake is driven by the caller's PR_Poll loop: net_tls_handshake()
 * never blocks; it says which poll flags to wait for (NSS's poll method
 * translates them while the handshake needs the other direction).
 * Afterwards the caller reads and writes the same PRFileDesc with PR_Recv /
 * PR_Send / PR_Writev as before; SSL's poll method reports buffered
 * plaintext as readable.
 *
 * Certificate verification happens inside the handshake, in NSS's
 * auth-certificate hook, and cannot be disabled: SSL_AuthCertificate
 * (CERT_VerifyCert for certUsageSSLServer — a chain to a trust anchor of
 * net_trust, signatures, validity dates of every certificate, basic
 * constraints, key usage and extended key usage — then CERT_VerifyCertName:
 * subjectAltName dNSName/iPAddress, a wildcard only as the whole left-most
 * label, RFC 6125 §6.4.3) plus one rule of Firefox's: a server certificate
 * without a subjectAltName extension fails (no fallback to the subject's
 * CN) with SSL_ERROR_BAD_CERT_DOMAIN. Revocation (OCSP, CRLs) is not
 * checked. A failure ends the handshake with NSS's error (e.g.
 * SEC_ERROR_UNKNOWN_ISSUER, SSL_ERROR_BAD_CERT_DOMAIN,
 * SEC_ERROR_EXPIRED_CERTIFICATE); net_tls_error() maps it as Gecko does.
 *
 * Threads: one net_tls belongs to the thread that drives its socket (the
 * socket-transport thread for net_ws_conn). net_tls_info is plain memory:
 * it may be handed to any thread.
 */
#ifndef WSCHANNEL_NET_TLS_H
#define WSCHANNEL_NET_TLS_H

#include <prio.h>
#include <prerror.h>
#include <prtime.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net_sts.h"

XPCOM_BEGIN_DECLS

typedef struct net_tls net_tls;

/* One certificate, decoded. Strings are NUL-terminated UTF-8, never NULL. */
typedef struct net_tls_cert {
  char *subject;      /* "CN=example.com,O=Example" (CERT_NameToAscii) */
  char *issuer;
  char *common_name;  /* "" when none */
  char *serial;       /* "01:A2:..." */
  char sha256[96];    /* "AB:CD:..." (32 bytes → 95 characters) */
  PRTime not_before, not_after; /* microseconds since the epoch */
  uint8_t *der;
  size_t der_len;
} net_tls_cert;

/* What a handshake negotiated, or how it failed. */
typedef struct net_tls_info {
  bool secure;           /* handshake done and the server verified */
  PRErrorCode error;     /* why not secure; 0 when secure */
  char error_name[64];   /* PR_ErrorToName(error), "" when none */
  uint16_t version;      /* SSL_LIBRARY_VERSION_TLS_1_2 (0x0303) / _1_3 */
  uint16_t cipher_suite; /* IANA number */
  char cipher_name[64];  /* "TLS_AES_128_GCM_SHA256" */
  char kea_group[24];    /* "x25519", "P256", "FF 2048", … or "" */
  char signature_scheme[32]; /* "ECDSA-P256-SHA256", "RSA-PSS-SHA256", … or "" */
  bool resumed;
  char alpn[64];         /* the selected ALPN protocol or "" */
  /* Secure: the verified chain, server's certificate first, trust anchor
   * last. Not secure: the certificates the server presented (maybe 0). */
  size_t ncerts;
  net_tls_cert *certs;
} net_tls_info;

/*
 * Layers TLS over `fd`, a connected non-blocking TCP socket, as a client
 * for `host` (ASCII: punycode name or IP literal without brackets; copied).
 * Calls net_trust_ensure() first (the first call of an NSS lifetime loads
 * the trust anchors). On success *out is the connection's TLS state and
 * the SSL layer sits on top of `fd` — the same PRFileDesc pointer, still
 * owned and closed (PR_Close closes the whole stack) by the caller.
 * On failure *out is NULL and the caller closes fd (it may carry the SSL
 * layer already; no handshake has started).
 * Errors: NS_ERROR_NOT_INITIALIZED (NSS not ready; call net_nss_init
 * first), NS_ERROR_INVALID_ARG, NS_ERROR_OUT_OF_MEMORY, or the NSS error
 * mapped by net_tls_error(). The thread that drives fd.
 */
NET_API(nsresult) net_tls_start(PRFileDesc *fd, const char *host, net_tls **out);

/*
 * Advances the handshake without blocking.
 *   NS_OK: done; the server was verified. Use fd for application data.
 *   NS_BASE_STREAM_WOULD_BLOCK: poll fd for *poll_flags (a PR_POLL_* set)
 *     and call again when PR_Poll reports anything for it.
 *   anything else: the handshake failed (net_tls_error of NSS's error);
 *     close fd. net_tls_get_info() then tells why.
 * Calling again after NS_OK returns NS_OK. The thread that drives fd.
 */
NET_API(nsresult) net_tls_handshake(net_tls *t, PRFileDesc *fd, PRInt16 *poll_flags);

/* True once net_tls_handshake has returned NS_OK. */
NET_API(bool) net_tls_is_done(const net_tls *t);

/* True when a certificate check ran and failed (the handshake then failed
 * for it): tells a certificate problem from a transport one. */
NET_API(bool) net_tls_cert_rejected(const net_tls *t);

/*
 * A snapshot of the outcome (malloc'd; free with net_tls_info_free), for a
 * handshake that is done (secure) or has failed (not secure; error set;
 * the presented chain when certificates had arrived). fd must still be
 * open. NULL when out of memory, or while the handshake is still running.
 * The thread that drives fd.
 */
NET_API(net_tls_info *) net_tls_get_info(net_tls *t, PRFileDesc *fd);

/* Frees t. Call after PR_Close(fd) (NSS's hooks point at t until then).
 * NULL is ignored. */
NET_API(void) net_tls_free(net_tls *t);

/* Frees an info and everything in it. NULL is ignored. Any thread. */
NET_API(void) net_tls_info_free(net_tls_info *info);

/*
 * A PRErrorCode from a TLS socket as an nsresult, as Gecko reports it:
 * NSS's own codes (SEC_ERROR_*, SSL_ERROR_*) go into the security module,
 * NS_ERROR_GENERATE_FAILURE(NS_ERROR_MODULE_SECURITY, -err) (e.g.
 * SEC_ERROR_UNKNOWN_ISSUER → 0x805A1FF3, SSL_ERROR_BAD_CERT_DOMAIN →
 * 0x805A2FF4); NSPR's socket codes as net_error_from_pr (a reset →
 * NS_ERROR_NET_RESET, EOF → NS_ERROR_NET_INTERRUPT). Pure; any thread.
 */
NET_API(nsresult) net_tls_error(PRErrorCode err);

/* Names used in net_tls_info, exposed for tests: key exchange groups
 * (SSLNamedGroup values) and signature schemes (SSLSignatureScheme).
 * "" when unknown or none. Static strings; any thread. */
NET_API(const char *) net_tls_group_name(uint32_t group);
NET_API(const char *) net_tls_signature_scheme_name(uint32_t scheme);

XPCOM_END_DECLS

#endif /* WSCHANNEL_NET_TLS_H */

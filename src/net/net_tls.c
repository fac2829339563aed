/*
 * net_tls.c — TLS client sockets on NSS for wss:// (see net_tls.h).
 */
#include "net_tls.h"

#include <cert.h>
#include <certt.h>
#include <hasht.h>
#include <pk11pub.h>
#include <prnetdb.h>
#include <secerr.h>
#include <secitem.h>
#include <secport.h>
#include <ssl.h>
#include <sslerr.h>
#include <sslproto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net_nss.h"
#include "net_trust.h"
#include "net_ws_conn.h" /* net_error_from_pr */
#include "xpcom_log.h"

XPCOM_LOG_MODULE(g_log, "nsWebSocket");

struct net_tls {
  char *host;
  bool done;        /* handshake completed */
  bool failed;      /* handshake failed with `error` */
  bool cert_failed; /* our certificate check rejected the server */
  PRErrorCode error;
  net_tls_cert *presented; /* the chain as sent, kept when rejected */
  size_t npresented;
};

/* The ALPN offer in wire form (RFC 7301 §3.1): one length-prefixed name. */
static const unsigned char k_alpn[] = "\x08http/1.1";

/* ---- names ----------------------------------------------------------------- */

NET_API(const char *) net_tls_group_name(uint32_t group) {
  /* The names Firefox shows (nsNSSCallbacks' key exchange group names). */
  switch (group) {
  case ssl_grp_ec_curve25519: return "x25519";
  case ssl_grp_ec_secp256r1: return "P256";
  case ssl_grp_ec_secp384r1: return "P384";
  case ssl_grp_ec_secp521r1: return "P521";
  case ssl_grp_ffdhe_2048: return "FF 2048";
  case ssl_grp_ffdhe_3072: return "FF 3072";
  case ssl_grp_ffdhe_4096: return "FF 4096";
  case ssl_grp_ffdhe_6144: return "FF 6144";
  case ssl_grp_ffdhe_8192: return "FF 8192";
  case ssl_grp_ffdhe_custom: return "custom";
  default: return "";
  }
}

NET_API(const char *) net_tls_signature_scheme_name(uint32_t scheme) {
  switch (scheme) {
  case ssl_sig_rsa_pkcs1_sha1: return "RSA-PKCS1-SHA1";
  case ssl_sig_rsa_pkcs1_sha256: return "RSA-PKCS1-SHA256";
  case ssl_sig_rsa_pkcs1_sha384: return "RSA-PKCS1-SHA384";
  case ssl_sig_rsa_pkcs1_sha512: return "RSA-PKCS1-SHA512";
  case ssl_sig_ecdsa_secp256r1_sha256: return "ECDSA-P256-SHA256";
  case ssl_sig_ecdsa_secp384r1_sha384: return "ECDSA-P384-SHA384";
  case ssl_sig_ecdsa_secp521r1_sha512: return "ECDSA-P521-SHA512";
  case ssl_sig_rsa_pss_rsae_sha256: return "RSA-PSS-SHA256";
  case ssl_sig_rsa_pss_rsae_sha384: return "RSA-PSS-SHA384";
  case ssl_sig_rsa_pss_rsae_sha512: return "RSA-PSS-SHA512";
  case ssl_sig_rsa_pss_pss_sha256: return "RSA-PSS-PSS-SHA256";
  case ssl_sig_rsa_pss_pss_sha384: return "RSA-PSS-PSS-SHA384";
  case ssl_sig_rsa_pss_pss_sha512: return "RSA-PSS-PSS-SHA512";
  case ssl_sig_ed25519: return "ED25519";
  case ssl_sig_ed448: return "ED448";
  case ssl_sig_ecdsa_sha1: return "ECDSA-SHA1";
  case ssl_sig_rsa_pkcs1_sha1md5: return "RSA-PKCS1-SHA1-MD5";
  default: return "";
  }
}

NET_API(nsresult) net_tls_error(PRErrorCode err) {
  if (IS_SEC_ERROR(err) || IS_SSL_ERROR(err))
    return NS_ERROR_FROM_NSS_ERROR(err);
  if (err == 0)
    return NS_ERROR_FAILURE;
  return net_error_from_pr(err);
}

/* ---- certificates as plain memory -------------------------------------------- */

static char *dup_or_empty(const char *s) {
  char *d = strdup(s ? s : "");
  return d;
}

/* An NSS-allocated string (PORT_Free) as a malloc'd copy. */
static char *take_port_string(char *s) {
  char *d = dup_or_empty(s);
  if (s)
    PORT_Free(s);
  return d;
}

/* "AB:CD:..." into out; cap must be at least 3 * n (or 1 when n is 0). */
static void hex_colon(const unsigned char *p, size_t n, char *out, size_t cap) {
  static const char digits[] = "0123456789ABCDEF";
  size_t o = 0;
  for (size_t i = 0; i < n && o + 3 <= cap - (i ? 1 : 0); i++) {
    if (i)
      out[o++] = ':';
    out[o++] = digits[p[i] >> 4];
    out[o++] = digits[p[i] & 15];
  }
  out[o] = '\0';
}

static void cert_clear(net_tls_cert *c) {
  free(c->subject);
  free(c->issuer);
  free(c->common_name);
  free(c->serial);
  free(c->der);
  memset(c, 0, sizeof *c);
}

static bool cert_fill(net_tls_cert *o, CERTCertificate *c) {
  memset(o, 0, sizeof *o);
  o->subject = take_port_string(CERT_NameToAscii(&c->subject));
  o->issuer = take_port_string(CERT_NameToAscii(&c->issuer));
  o->common_name = take_port_string(CERT_GetCommonName(&c->subject));
  size_t slen = c->serialNumber.len;
  o->serial = malloc(slen ? slen * 3 : 1);
  o->der = malloc(c->derCert.len ? c->derCert.len : 1);
  if (!o->subject || !o->issuer || !o->common_name || !o->serial || !o->der) {
    cert_clear(o);
    return false;
  }
  hex_colon(c->serialNumber.data, slen, o->serial, slen ? slen * 3 : 1);
  memcpy(o->der, c->derCert.data, c->derCert.len);
  o->der_len = c->derCert.len;
  unsigned char digest[SHA256_LENGTH];
  if (PK11_HashBuf(SEC_OID_SHA256, digest, c->derCert.data, (PRInt32)c->derCert.len) ==
      SECSuccess)
    hex_colon(digest, sizeof digest, o->sha256, sizeof o->sha256);
  if (CERT_GetCertTimes(c, &o->not_before, &o->not_after) != SECSuccess)
    o->not_before = o->not_after = 0;
  return true;
}

/* Copies a CERTCertList into a malloc'd array. */
static bool chain_from_list(CERTCertList *list, net_tls_cert **out, size_t *n) {
  *out = NULL;
  *n = 0;
  size_t count = 0;
  for (CERTCertListNode *node = CERT_LIST_HEAD(list); !CERT_LIST_END(node, list);
       node = CERT_LIST_NEXT(node))
    count++;
  if (!count)
    return true;
  net_tls_cert *v = calloc(count, sizeof *v);
  if (!v)
    return false;
  size_t i = 0;
  for (CERTCertListNode *node = CERT_LIST_HEAD(list); !CERT_LIST_END(node, list);
       node = CERT_LIST_NEXT(node)) {
    if (!cert_fill(&v[i], node->cert)) {
      for (size_t k = 0; k < i; k++)
        cert_clear(&v[k]);
      free(v);
      return false;
    }
    i++;
  }
  *out = v;
  *n = count;
  return true;
}

static void chain_free(net_tls_cert *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    cert_clear(&v[i]);
  free(v);
}

static bool chain_copy(const net_tls_cert *src, size_t n, net_tls_cert **out) {
  *out = NULL;
  if (!n)
    return true;
  net_tls_cert *v = calloc(n, sizeof *v);
  if (!v)
    return false;
  for (size_t i = 0; i < n; i++) {
    v[i] = src[i];
    v[i].subject = strdup(src[i].subject);
    v[i].issuer = strdup(src[i].issuer);
    v[i].common_name = strdup(src[i].common_name);
    v[i].serial = strdup(src[i].serial);
    v[i].der = malloc(src[i].der_len ? src[i].der_len : 1);
    if (!v[i].subject || !v[i].issuer || !v[i].common_name || !v[i].serial || !v[i].der) {
      chain_free(v, i + 1);
      return false;
    }
    memcpy(v[i].der, src[i].der, src[i].der_len);
  }
  *out = v;
  return true;
}

/* ---- the host name, strictly (RFC 6125 §6.4, as Firefox) ---------------------- */

/* One subjectAltName dNSName against the host: case-insensitive equality,
 * or "*.rest" where "*" stands for exactly one whole, non-empty left-most
 * label and rest has at least two labels (RFC 6125 §6.4.3; no partial
 * wildcards such as "f*.example.com", none in other positions). */
static bool dns_name_matches(const unsigned char *pat, size_t plen, const char *host) {
  if (!plen || memchr(pat, '\0', plen))
    return false; /* an embedded NUL would be an attack */
  size_t hlen = strlen(host);
  if (plen >= 2 && pat[0] == '*' && pat[1] == '.') {
    const unsigned char *rest = pat + 1; /* ".example.com" */
    size_t rlen = plen - 1;
    if (memchr(rest, '*', rlen) || !memchr(rest + 1, '.', rlen - 1) || rest[rlen - 1] == '.')
      return false;
    const char *hdot = strchr(host, '.');
    if (!hdot || hdot == host)
      return false;
    return strlen(hdot) == rlen && strncasecmp(hdot, (const char *)rest, rlen) == 0;
  }
  if (memchr(pat, '*', plen))
    return false;
  return hlen == plen && strncasecmp(host, (const char *)pat, plen) == 0;
}

/*
 * Firefox's rules on top of CERT_VerifyCertName: a subjectAltName must be
 * present (no fallback to the CN), and for a DNS host one of its dNSNames
 * must match under dns_name_matches (NSS also accepts partial wildcards,
 * or shell expressions with NSS_USE_SHEXP_IN_CERT_NAME set). IP literals
 * were matched exactly against iPAddress entries by NSS.
 */
static bool name_is_strictly_valid(CERTCertificate *cert, const char *host) {
  SECItem san = {siBuffer, NULL, 0};
  if (CERT_FindCertExtension(cert, SEC_OID_X509_SUBJECT_ALT_NAME, &san) != SECSuccess)
    return false;
  PRNetAddr addr;
  bool ok = false;
  if (PR_StringToNetAddr(host, &addr) == PR_SUCCESS) {
    ok = true;
  } else {
    PLArenaPool *arena = PORT_NewArena(DER_DEFAULT_CHUNKSIZE);
    CERTGeneralName *names = arena ? CERT_DecodeAltNameExtension(arena, &san) : NULL;
    CERTGeneralName *cur = names;
    while (cur && !ok) {
      if (cur->type == certDNSName)
        ok = dns_name_matches(cur->name.other.data, cur->name.other.len, host);
      cur = CERT_GetNextGeneralName(cur);
      if (cur == names)
        break;
    }
    if (arena)
      PORT_FreeArena(arena, PR_FALSE);
  }
  SECITEM_FreeItem(&san, PR_FALSE);
  return ok;
}

/* The server sent a single self-issued certificate that NSS rejected as an
 * issuer (it is not a CA, or not a trusted one). */
static bool is_self_signed_leaf(PRFileDesc *fd, PRErrorCode err) {
  if (err != SEC_ERROR_CA_CERT_INVALID && err != SEC_ERROR_UNTRUSTED_ISSUER)
    return false;
  CERTCertificate *leaf = SSL_PeerCertificate(fd);
  if (!leaf)
    return false;
  bool self = SECITEM_CompareItem(&leaf->derSubject, &leaf->derIssuer) == SECEqual;
  CERT_DestroyCertificate(leaf);
  return self;
}

/* NSS's auth-certificate hook: runs inside the handshake when the server's
 * certificates have arrived. */
static SECStatus auth_hook(void *arg, PRFileDesc *fd, PRBool checkSig, PRBool isServer) {
  net_tls *t = arg;
  SECStatus rv = SSL_AuthCertificate(CERT_GetDefaultCertDB(), fd, checkSig, isServer);
  PRErrorCode err = rv == SECSuccess ? 0 : PR_GetError();
  if (rv == SECSuccess) {
    CERTCertificate *leaf = SSL_PeerCertificate(fd);
    if (!leaf || !name_is_strictly_valid(leaf, t->host)) {
      rv = SECFailure;
      err = SSL_ERROR_BAD_CERT_DOMAIN;
    }
    if (leaf)
      CERT_DestroyCertificate(leaf);
  }
  if (rv != SECSuccess && is_self_signed_leaf(fd, err)) {
    /* NSS's verifier calls a self-signed server certificate an invalid CA
     * certificate; it is an unknown issuer, as Firefox reports it. */
    err = SEC_ERROR_UNKNOWN_ISSUER;
  }
  if (rv != SECSuccess) {
    if (!err)
      err = SEC_ERROR_UNTRUSTED_CERT;
    t->cert_failed = true;
    XPCOM_LOG(g_log, XPCOM_LOG_DEBUG,
              ("tls %s: certificate rejected: %s", t->host,
               PR_ErrorToName(err) ? PR_ErrorToName(err) : "?"));
    /* Keep what the server sent, for securityInfo. */
    CERTCertList *chain = SSL_PeerCertificateChain(fd);
    if (chain) {
      chain_free(t->presented, t->npresented);
      if (!chain_from_list(chain, &t->presented, &t->npresented)) {
        t->presented = NULL;
        t->npresented = 0;
      }
      CERT_DestroyCertList(chain);
    }
    PR_SetError(err, 0); /* NSS reports this error for the handshake */
  }
  return rv;
}

/* ---- the connection ------------------------------------------------------------ */

NET_API(nsresult) net_tls_start(PRFileDesc *fd, const char *host, net_tls **out) {
  if (out)
    *out = NULL;
  if (!fd || !host || !*host || !out)
    return NS_ERROR_INVALID_ARG;
  if (!net_nss_ready())
    return NS_ERROR_NOT_INITIALIZED;
  (void)net_trust_ensure();
  net_tls *t = calloc(1, sizeof *t);
  if (!t || !(t->host = strdup(host))) {
    free(t);
    return NS_ERROR_OUT_OF_MEMORY;
  }
  PRFileDesc *ssl = SSL_ImportFD(NULL, fd);
  if (!ssl) {
    PRErrorCode err = PR_GetError();
    net_tls_free(t);
    return net_tls_error(err);
  }
  /* SSL_ImportFD pushed the layer on top: the caller's pointer is the
   * stack's top, and NSS returns that same pointer. */
  SSLVersionRange range = {SSL_LIBRARY_VERSION_TLS_1_2, SSL_LIBRARY_VERSION_TLS_1_3};
  bool ok = SSL_OptionSet(ssl, SSL_SECURITY, PR_TRUE) == SECSuccess &&
            SSL_OptionSet(ssl, SSL_HANDSHAKE_AS_CLIENT, PR_TRUE) == SECSuccess &&
            SSL_OptionSet(ssl, SSL_HANDSHAKE_AS_SERVER, PR_FALSE) == SECSuccess &&
            SSL_OptionSet(ssl, SSL_NO_CACHE, PR_FALSE) == SECSuccess &&
            SSL_OptionSet(ssl, SSL_ENABLE_SESSION_TICKETS, PR_TRUE) == SECSuccess &&
            SSL_OptionSet(ssl, SSL_ENABLE_EXTENDED_MASTER_SECRET, PR_TRUE) == SECSuccess &&
            SSL_OptionSet(ssl, SSL_ENABLE_RENEGOTIATION, SSL_RENEGOTIATE_REQUIRES_XTN) ==
                SECSuccess &&
            SSL_OptionSet(ssl, SSL_ENABLE_FALSE_START, PR_FALSE) == SECSuccess &&
            SSL_OptionSet(ssl, SSL_ENABLE_0RTT_DATA, PR_FALSE) == SECSuccess &&
            SSL_OptionSet(ssl, SSL_ENABLE_ALPN, PR_TRUE) == SECSuccess &&
            SSL_VersionRangeSet(ssl, &range) == SECSuccess &&
            SSL_SetURL(ssl, host) == SECSuccess &&
            SSL_SetNextProtoNego(ssl, k_alpn, sizeof k_alpn - 1) == SECSuccess &&
            SSL_AuthCertificateHook(ssl, auth_hook, t) == SECSuccess &&
            SSL_ResetHandshake(ssl, PR_FALSE) == SECSuccess;
  if (!ok) {
    PRErrorCode err = PR_GetError();
    /* No handshake has run, and the caller closes fd now: the hook will
     * not be called with t. */
    net_tls_free(t);
    XPCOM_LOG(g_log, XPCOM_LOG_ERROR, ("tls %s: configuring the socket failed: %d", host, (int)err));
    return net_tls_error(err);
  }
  XPCOM_LOG(g_log, XPCOM_LOG_DEBUG, ("tls %s: handshake starts", host));
  *out = t;
  return NS_OK;
}

NET_API(nsresult) net_tls_handshake(net_tls *t, PRFileDesc *fd, PRInt16 *poll_flags) {
  if (!t || !fd)
    return NS_ERROR_INVALID_ARG;
  if (t->done)
    return NS_OK;
  if (t->failed)
    return net_tls_error(t->error);
  if (SSL_ForceHandshake(fd) == SECSuccess) {
    t->done = true;
    XPCOM_LOG(g_log, XPCOM_LOG_DEBUG, ("tls %s: handshake done", t->host));
    return NS_OK;
  }
  PRErrorCode err = PR_GetError();
  if (err == PR_WOULD_BLOCK_ERROR) {
    /* NSS's poll method turns this into write interest while its own
     * output is blocked. */
    if (poll_flags)
      *poll_flags = PR_POLL_READ;
    return NS_BASE_STREAM_WOULD_BLOCK;
  }
  t->failed = true;
  t->error = err ? err : SEC_ERROR_LIBRARY_FAILURE;
  XPCOM_LOG(g_log, XPCOM_LOG_DEBUG,
            ("tls %s: handshake failed: %d (%s)", t->host, (int)t->error,
             PR_ErrorToName(t->error) ? PR_ErrorToName(t->error) : "?"));
  return net_tls_error(t->error);
}

NET_API(bool) net_tls_is_done(const net_tls *t) { return t && t->done; }

NET_API(bool) net_tls_cert_rejected(const net_tls *t) { return t && t->cert_failed; }

/* Copies src into dst[cap], cut short if needed (names are ASCII). */
static void copy_str(char *dst, size_t cap, const char *src) {
  size_t n = src ? strlen(src) : 0;
  if (n >= cap)
    n = cap - 1;
  if (n)
    memcpy(dst, src, n);
  dst[n] = '\0';
}

NET_API(net_tls_info *) net_tls_get_info(net_tls *t, PRFileDesc *fd) {
  if (!t || !fd || (!t->done && !t->failed))
    return NULL;
  net_tls_info *info = calloc(1, sizeof *info);
  if (!info)
    return NULL;
  if (t->failed) {
    info->error = t->error;
    copy_str(info->error_name, sizeof info->error_name, PR_ErrorToName(t->error));
    if (!chain_copy(t->presented, t->npresented, &info->certs)) {
      free(info);
      return NULL;
    }
    info->ncerts = t->npresented;
    return info;
  }
  info->secure = true;
  SSLChannelInfo ci;
  if (SSL_GetChannelInfo(fd, &ci, sizeof ci) == SECSuccess) {
    info->version = ci.protocolVersion;
    info->cipher_suite = ci.cipherSuite;
    info->resumed = ci.resumed;
    /* A resumed TLS 1.2 session exchanged no key: name the group of the
     * handshake that made it. */
    SSLNamedGroup group = ci.keaGroup;
    if (ci.resumed && (group == ssl_grp_none || !*net_tls_group_name(group)))
      group = ci.originalKeaGroup;
    copy_str(info->kea_group, sizeof info->kea_group, net_tls_group_name(group));
    copy_str(info->signature_scheme, sizeof info->signature_scheme,
             net_tls_signature_scheme_name(ci.signatureScheme));
    SSLCipherSuiteInfo si;
    if (SSL_GetCipherSuiteInfo(ci.cipherSuite, &si, sizeof si) == SECSuccess)
      copy_str(info->cipher_name, sizeof info->cipher_name, si.cipherSuiteName);
  }
  SSLNextProtoState state;
  unsigned char proto[256];
  unsigned int plen = 0;
  if (SSL_GetNextProto(fd, &state, proto, &plen, sizeof proto - 1) == SECSuccess &&
      (state == SSL_NEXT_PROTO_SELECTED || state == SSL_NEXT_PROTO_NEGOTIATED)) {
    proto[plen] = '\0';
    copy_str(info->alpn, sizeof info->alpn, (const char *)proto);
  }
  /* The verified chain, up to the anchor (resumed sessions keep the
   * server's certificate in the cache). */
  CERTCertificate *leaf = SSL_PeerCertificate(fd);
  if (leaf) {
    CERTCertList *chain = CERT_GetCertChainFromCert(leaf, PR_Now(), certUsageSSLServer);
    if (!chain)
      chain = SSL_PeerCertificateChain(fd);
    bool ok = !chain || chain_from_list(chain, &info->certs, &info->ncerts);
    if (chain)
      CERT_DestroyCertList(chain);
    CERT_DestroyCertificate(leaf);
    if (!ok) {
      free(info);
      return NULL;
    }
  }
  return info;
}

NET_API(void) net_tls_free(net_tls *t) {
  if (!t)
    return;
  chain_free(t->presented, t->npresented);
  free(t->host);
  free(t);
}

NET_API(void) net_tls_info_free(net_tls_info *info) {
  if (!info)
    return;
  chain_free(info->certs, info->ncerts);
  free(info);
}

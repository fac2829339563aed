/*
 * net_secinfo.c — the security-info object of a wss:// connection and its
 * certificate objects. Both are read-only views of one net_tls_info: a
 * certificate object keeps its security-info object alive.
 */
#include "net_secinfo.h"

#include <sslproto.h>
#include <stdlib.h>
#include <string.h>

#include "nsError.h"
#include "nsMemory.h"
#include "nsXPCOMStrings.h"
#include "nsIWebSocketSecurityInfo.h"
#include "xpcom_object.h"

typedef struct net_secinfo {
  nsIWebSocketSecurityInfo iface; /* identity */
  uint32_t refcnt;
  net_tls_info *info; /* owned, immutable */
} net_secinfo;

typedef struct net_certinfo {
  nsIWebSocketCertInfo iface; /* identity */
  uint32_t refcnt;
  net_secinfo *owner; /* a reference: keeps `cert` alive */
  const net_tls_cert *cert;
} net_certinfo;

static const nsIWebSocketSecurityInfoVtbl k_secinfo_vtbl;
static const nsIWebSocketCertInfoVtbl k_certinfo_vtbl;

static const xpcom_qi_entry k_secinfo_qi[] = {
    XPCOM_QI_ENTRY(net_secinfo, iface, nsIWebSocketSecurityInfo_IID),
    XPCOM_QI_END,
};

static const xpcom_qi_entry k_certinfo_qi[] = {
    XPCOM_QI_ENTRY(net_certinfo, iface, nsIWebSocketCertInfo_IID),
    XPCOM_QI_END,
};

#define SEC(p) XPCOM_CONTAINER_OF((p), net_secinfo, iface)
#define CRT(p) XPCOM_CONTAINER_OF((p), net_certinfo, iface)

static nsresult assign_str(nsACString *out, const char *s) {
  if (!out)
    return NS_ERROR_NULL_POINTER;
  return xpcom_cstring_assign(out, s, strlen(s));
}

/* ---- certificates ------------------------------------------------------------- */

static nsresult ci_QueryInterface(nsIWebSocketCertInfo *self, const nsIID *iid, void **result) {
  return xpcom_table_qi(CRT(self), k_certinfo_qi, iid, result);
}

static nsrefcnt ci_AddRef(nsIWebSocketCertInfo *self) {
  return xpcom_refcnt_inc(&CRT(self)->refcnt);
}

static nsrefcnt ci_Release(nsIWebSocketCertInfo *self) {
  net_certinfo *c = CRT(self);
  nsrefcnt n = xpcom_refcnt_dec(&c->refcnt);
  if (n == 0) {
    net_secinfo *owner = c->owner;
    free(c);
    XPCOM_LEAK_DTOR(net_certinfo);
    owner->iface.vtbl->Release(&owner->iface);
  }
  return n;
}

static nsresult ci_GetSubject(nsIWebSocketCertInfo *self, nsACString *a) {
  return assign_str(a, CRT(self)->cert->subject);
}

static nsresult ci_GetIssuer(nsIWebSocketCertInfo *self, nsACString *a) {
  return assign_str(a, CRT(self)->cert->issuer);
}

static nsresult ci_GetCommonName(nsIWebSocketCertInfo *self, nsACString *a) {
  return assign_str(a, CRT(self)->cert->common_name);
}

static nsresult ci_GetNotBefore(nsIWebSocketCertInfo *self, PRTime *t) {
  if (!t)
    return NS_ERROR_NULL_POINTER;
  *t = CRT(self)->cert->not_before;
  return NS_OK;
}

static nsresult ci_GetNotAfter(nsIWebSocketCertInfo *self, PRTime *t) {
  if (!t)
    return NS_ERROR_NULL_POINTER;
  *t = CRT(self)->cert->not_after;
  return NS_OK;
}

static nsresult ci_GetSerialNumber(nsIWebSocketCertInfo *self, nsACString *a) {
  return assign_str(a, CRT(self)->cert->serial);
}

static nsresult ci_GetSha256Fingerprint(nsIWebSocketCertInfo *self, nsACString *a) {
  return assign_str(a, CRT(self)->cert->sha256);
}

static nsresult ci_GetDer(nsIWebSocketCertInfo *self, nsACString *a) {
  if (!a)
    return NS_ERROR_NULL_POINTER;
  const net_tls_cert *c = CRT(self)->cert;
  return xpcom_cstring_assign(a, (const char *)c->der, c->der_len);
}

static const nsIWebSocketCertInfoVtbl k_certinfo_vtbl = {
    .QueryInterface = ci_QueryInterface,
    .AddRef = ci_AddRef,
    .Release = ci_Release,
    .GetSubject = ci_GetSubject,
    .GetIssuer = ci_GetIssuer,
    .GetCommonName = ci_GetCommonName,
    .GetNotBefore = ci_GetNotBefore,
    .GetNotAfter = ci_GetNotAfter,
    .GetSerialNumber = ci_GetSerialNumber,
    .GetSha256Fingerprint = ci_GetSha256Fingerprint,
    .GetDer = ci_GetDer,
};

static nsIWebSocketCertInfo *certinfo_new(net_secinfo *owner, size_t index) {
  net_certinfo *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  XPCOM_LEAK_CTOR(net_certinfo);
  c->iface.vtbl = &k_certinfo_vtbl;
  c->refcnt = 1;
  c->owner = owner;
  owner->iface.vtbl->AddRef(&owner->iface);
  c->cert = &owner->info->certs[index];
  return &c->iface;
}

/* ---- the security info ------------------------------------------------------------ */

static nsresult si_QueryInterface(nsIWebSocketSecurityInfo *self, const nsIID *iid,
                                  void **result) {
  return xpcom_table_qi(SEC(self), k_secinfo_qi, iid, result);
}

static nsrefcnt si_AddRef(nsIWebSocketSecurityInfo *self) {
  return xpcom_refcnt_inc(&SEC(self)->refcnt);
}

static nsrefcnt si_Release(nsIWebSocketSecurityInfo *self) {
  net_secinfo *s = SEC(self);
  nsrefcnt n = xpcom_refcnt_dec(&s->refcnt);
  if (n == 0) {
    net_tls_info_free(s->info);
    free(s);
    XPCOM_LEAK_DTOR(net_secinfo);
  }
  return n;
}

static nsresult si_GetSecurityState(nsIWebSocketSecurityInfo *self, uint32_t *state) {
  if (!state)
    return NS_ERROR_NULL_POINTER;
  *state = SEC(self)->info->secure ? nsIWebSocketSecurityInfo_STATE_IS_SECURE
                                   : nsIWebSocketSecurityInfo_STATE_IS_BROKEN;
  return NS_OK;
}

static nsresult si_GetErrorCode(nsIWebSocketSecurityInfo *self, int32_t *code) {
  if (!code)
    return NS_ERROR_NULL_POINTER;
  *code = SEC(self)->info->error;
  return NS_OK;
}

static nsresult si_GetErrorCodeString(nsIWebSocketSecurityInfo *self, nsACString *a) {
  return assign_str(a, SEC(self)->info->error_name);
}

static nsresult si_GetProtocolVersion(nsIWebSocketSecurityInfo *self, uint16_t *v) {
  if (!v)
    return NS_ERROR_NULL_POINTER;
  /* Wire versions 0x0300 (SSL 3.0) … 0x0304 (TLS 1.3) → 0 … 4, as
   * Firefox's nsITransportSecurityInfo numbers them. */
  uint16_t wire = SEC(self)->info->version;
  *v = wire >= SSL_LIBRARY_VERSION_3_0 && wire <= SSL_LIBRARY_VERSION_TLS_1_3
           ? (uint16_t)(wire - SSL_LIBRARY_VERSION_3_0)
           : 0;
  return NS_OK;
}

static nsresult si_GetCipherSuite(nsIWebSocketSecurityInfo *self, nsACString *a) {
  return assign_str(a, SEC(self)->info->cipher_name);
}

static nsresult si_GetKeaGroupName(nsIWebSocketSecurityInfo *self, nsACString *a) {
  return assign_str(a, SEC(self)->info->kea_group);
}

static nsresult si_GetSignatureSchemeName(nsIWebSocketSecurityInfo *self, nsACString *a) {
  return assign_str(a, SEC(self)->info->signature_scheme);
}

static nsresult si_GetResumed(nsIWebSocketSecurityInfo *self, bool *r) {
  if (!r)
    return NS_ERROR_NULL_POINTER;
  *r = SEC(self)->info->resumed;
  return NS_OK;
}

static nsresult si_GetAlpn(nsIWebSocketSecurityInfo *self, nsACString *a) {
  return assign_str(a, SEC(self)->info->alpn);
}

static nsresult si_GetServerCert(nsIWebSocketSecurityInfo *self, nsIWebSocketCertInfo **out) {
  if (!out)
    return NS_ERROR_NULL_POINTER;
  net_secinfo *s = SEC(self);
  *out = NULL;
  if (!s->info->ncerts)
    return NS_OK;
  *out = certinfo_new(s, 0);
  return *out ? NS_OK : NS_ERROR_OUT_OF_MEMORY;
}

static nsresult si_GetCertChain(nsIWebSocketSecurityInfo *self, uint32_t *count,
                                nsIWebSocketCertInfo ***chain) {
  if (!chain)
    return NS_ERROR_NULL_POINTER;
  net_secinfo *s = SEC(self);
  size_t n = s->info->ncerts;
  *chain = NULL;
  if (count)
    *count = 0;
  /* XPCOM's rule for array out parameters: NS_Alloc'd, elements AddRef'd;
   * the caller releases each and NS_Frees the array. */
  nsIWebSocketCertInfo **v = NS_Alloc((n ? n : 1) * sizeof *v);
  if (!v)
    return NS_ERROR_OUT_OF_MEMORY;
  for (size_t i = 0; i < n; i++) {
    v[i] = certinfo_new(s, i);
    if (!v[i]) {
      while (i--)
        v[i]->vtbl->Release(v[i]);
      NS_Free(v);
      return NS_ERROR_OUT_OF_MEMORY;
    }
  }
  *chain = v;
  if (count)
    *count = (uint32_t)n;
  return NS_OK;
}

static const nsIWebSocketSecurityInfoVtbl k_secinfo_vtbl = {
    .QueryInterface = si_QueryInterface,
    .AddRef = si_AddRef,
    .Release = si_Release,
    .GetSecurityState = si_GetSecurityState,
    .GetErrorCode = si_GetErrorCode,
    .GetErrorCodeString = si_GetErrorCodeString,
    .GetProtocolVersion = si_GetProtocolVersion,
    .GetCipherSuite = si_GetCipherSuite,
    .GetKeaGroupName = si_GetKeaGroupName,
    .GetSignatureSchemeName = si_GetSignatureSchemeName,
    .GetResumed = si_GetResumed,
    .GetAlpn = si_GetAlpn,
    .GetServerCert = si_GetServerCert,
    .GetCertChain = si_GetCertChain,
};

NET_API(nsresult) net_secinfo_create(net_tls_info *info, nsISupports **out) {
  if (out)
    *out = NULL;
  if (!info || !out) {
    net_tls_info_free(info);
    return NS_ERROR_INVALID_ARG;
  }
  net_secinfo *s = calloc(1, sizeof *s);
  if (!s) {
    net_tls_info_free(info);
    return NS_ERROR_OUT_OF_MEMORY;
  }
  XPCOM_LEAK_CTOR(net_secinfo);
  s->iface.vtbl = &k_secinfo_vtbl;
  s->refcnt = 1;
  s->info = info;
  *out = (nsISupports *)(void *)&s->iface;
  return NS_OK;
}

/*
 * net_ioservice.c — nsIIOService / nsIIOServiceInternal (see the header
 * for what each method does and what is not implemented).
 */
#include "net/net_ioservice.h"

#include <stdlib.h>
#include <string.h>

#include "nsError.h"
#include "nsIObserverService.h"
#include "nsIProtocolHandler.h"
#include "nsIServiceManager.h"
#include "nsIURI.h"
#include "nsXPCOM.h"
#include "nsXPCOMStrings.h"
#include "net/net_uri.h"
#include "net/net_uri_object.h"
#include "xpcom_object.h"
#include "xpcom_prefs.h"

/* These come from %{C++ blocks of the IDL, which C does not see. */
#ifndef NS_NETWORK_PROTOCOL_CONTRACTID_PREFIX
#define NS_NETWORK_PROTOCOL_CONTRACTID_PREFIX "@mozilla.org/network/protocol;1?name="
#endif
#ifndef NS_IOSERVICE_GOING_OFFLINE_TOPIC
#define NS_IOSERVICE_GOING_OFFLINE_TOPIC "network:offline-about-to-go-offline"
#define NS_IOSERVICE_OFFLINE_STATUS_TOPIC "network:offline-status-changed"
#define NS_IOSERVICE_OFFLINE "offline"
#define NS_IOSERVICE_ONLINE "online"
#endif

const nsCID net_ioservice_cid = NET_IOSERVICE_CID;

typedef struct net_ioservice {
  nsIIOService iface; /* identity */
  nsIIOServiceInternal internal;
  uint32_t refcnt;
  bool offline;      /* atomic */
  bool connectivity; /* atomic */
} net_ioservice;

static const xpcom_qi_entry k_ios_qi[] = {
  XPCOM_QI_ENTRY(net_ioservice, iface, nsIIOService_IID),
  XPCOM_QI_ENTRY(net_ioservice, internal, nsIIOServiceInternal_IID),
  XPCOM_QI_END,
};

#define SELF(p) XPCOM_CONTAINER_OF((p), net_ioservice, iface)
#define SELF_INTERNAL(p) XPCOM_CONTAINER_OF((p), net_ioservice, internal)

/* Gecko 52's gBadPortList (netwerk/base/nsIOService.cpp, mozilla-esr52),
 * sorted, followed by the ports Gecko added later against cross-protocol
 * and NAT-slipstreaming attacks (69, 137, 161, 554, 1719, 1720, 1723,
 * 5060, 5061, 6566; Firefox 79-84), which a client today must refuse too. */
static const uint16_t k_bad_ports[] = {
  1,    7,    9,    11,   13,   15,   17,   19,   20,   21,   22,   23,   25,
  37,   42,   43,   53,   69,   77,   79,   87,   95,   101,  102,  103,  104,
  109,  110,  111,  113,  115,  117,  119,  123,  135,  137,  139,  143,  161,
  179,  389,  465,  512,  513,  514,  515,  526,  530,  531,  532,  540,  554,
  556,  563,  587,  601,  636,  993,  995,  1719, 1720, 1723, 2049, 3659, 4045,
  5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669,
};

bool net_ioservice_port_is_banned(int32_t port) {
  size_t lo = 0, hi = sizeof k_bad_ports / sizeof k_bad_ports[0];
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (k_bad_ports[mid] == port) return true;
    if (k_bad_ports[mid] < port) lo = mid + 1;
    else hi = mid;
  }
  return false;
}

/* Whether `port` is on a preference's list "p, lo-hi, ..." (Gecko
 * nsIOService::ParsePortList: entries are ports or ranges below 65536;
 * whitespace is ignored; malformed entries are skipped). */
static bool pref_lists_port(const char *pref, int32_t port) {
  char *list = xpcom_prefs_get_char(pref, NULL);
  bool found = false;
  if (!list) return false;
  for (char *tok = list; tok && *tok && !found;) {
    char *comma = strchr(tok, ',');
    if (comma) *comma = '\0';
    long a = -1, b = -1;
    char *p = tok, *end;
    while (*p == ' ' || *p == '\t') p++;
    a = strtol(p, &end, 10);
    if (end != p) {
      p = end;
      while (*p == ' ' || *p == '\t') p++;
      if (*p == '-') {
        p++;
        b = strtol(p, &end, 10);
        if (end == p) a = -1;
      } else {
        b = a;
      }
      if (a >= 0 && b < 65536 && port >= a && port <= b) found = true;
    }
    tok = comma ? comma + 1 : NULL;
  }
  free(list);
  return found;
}

/* ---- helpers reaching other services ------------------------------------- */

static nsresult get_service(const char *contract, const nsIID *iid, void **result) {
  nsIServiceManager *sm = NULL;
  *result = NULL;
  nsresult rv = NS_GetServiceManager(&sm);
  if (NS_FAILED(rv)) return rv;
  rv = sm->vtbl->GetServiceByContractID(sm, contract, iid, result);
  NS_RELEASE(sm);
  return rv;
}

static void notify(net_ioservice *s, const char *topic, const char16_t *data) {
  nsIObserverService *obs = NULL;
  if (NS_FAILED(get_service("@mozilla.org/observer-service;1", &nsIObserverService_IID, (void **)&obs)))
    return;
  (void)obs->vtbl->NotifyObservers(obs, (nsISupports *)&s->iface, topic, data);
  NS_RELEASE(obs);
}

/* The lower-cased scheme of a spec, or NS_ERROR_MALFORMED_URI. */
static nsresult extract_scheme(const char *data, size_t len, char *buf, size_t bufsize,
                               size_t *out_len) {
  size_t st, sl;
  if (net_uri_extract_scheme(data, len, &st, &sl) != NET_URI_OK) return NS_ERROR_MALFORMED_URI;
  if (sl >= bufsize) return NS_ERROR_MALFORMED_URI;
  for (size_t i = 0; i < sl; i++) {
    char c = data[st + i];
    buf[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
  }
  buf[sl] = '\0';
  *out_len = sl;
  return NS_OK;
}

/* ---- nsISupports ------------------------------------------------------------ */

static nsresult ios_QueryInterface(nsIIOService *self, const nsIID *iid, void **result) {
  return xpcom_table_qi(SELF(self), k_ios_qi, iid, result);
}

static nsrefcnt ios_AddRef(nsIIOService *self) { return xpcom_refcnt_inc(&SELF(self)->refcnt); }

static nsrefcnt ios_Release(nsIIOService *self) {
  net_ioservice *s = SELF(self);
  nsrefcnt n = xpcom_refcnt_dec(&s->refcnt);
  if (n == 0) {
    free(s);
    XPCOM_LEAK_DTOR(net_ioservice);
  }
  return n;
}

/* ---- nsIIOService --------------------------------------------------------------- */

static nsresult ios_GetProtocolHandler(nsIIOService *self, const char *scheme,
                                       nsIProtocolHandler **result) {
  if (!result) return NS_ERROR_NULL_POINTER;
  *result = NULL;
  if (!scheme) return NS_ERROR_NULL_POINTER;
  static const char prefix[] = NS_NETWORK_PROTOCOL_CONTRACTID_PREFIX;
  size_t n = strlen(scheme);
  if (n == 0 || n > 256) return NS_ERROR_UNKNOWN_PROTOCOL;
  char *contract = malloc(sizeof prefix + n);
  if (!contract) return NS_ERROR_OUT_OF_MEMORY;
  memcpy(contract, prefix, sizeof prefix - 1);
  for (size_t i = 0; i <= n; i++) {
    char c = scheme[i];
    contract[sizeof prefix - 1 + i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
  }
  nsresult rv = get_service(contract, &nsIProtocolHandler_IID, (void **)result);
  free(contract);
  if (rv == NS_ERROR_OUT_OF_MEMORY) return rv;
  /* Gecko falls back to the "default" handler; we have none. */
  return NS_FAILED(rv) ? NS_ERROR_UNKNOWN_PROTOCOL : NS_OK;
}

static nsresult ios_GetProtocolFlags(nsIIOService *self, const char *scheme, uint32_t *flags) {
  if (!flags) return NS_ERROR_NULL_POINTER;
  nsIProtocolHandler *h = NULL;
  nsresult rv = ios_GetProtocolHandler(self, scheme, &h);
  if (NS_FAILED(rv)) return rv;
  rv = h->vtbl->GetProtocolFlags(h, flags);
  NS_RELEASE(h);
  return rv;
}

static nsresult ios_NewURI(nsIIOService *self, const nsACString *spec, const char *charset,
                           nsIURI *base, nsIURI **result) {
  if (!result) return NS_ERROR_NULL_POINTER;
  *result = NULL;
  if (!spec) return NS_ERROR_NULL_POINTER;
  const char *data;
  uint32_t len = xpcom_cstring_get(spec, &data);
  char scheme[64];
  size_t slen;
  nsresult rv = extract_scheme(data, len, scheme, sizeof scheme, &slen);
  if (NS_FAILED(rv)) {
    /* Relative: needs a base; "#ref" alone keeps everything else of it. */
    if (!base) return NS_ERROR_MALFORMED_URI;
    if (len > 0 && data[0] == '#') return base->vtbl->CloneWithNewRef(base, spec, result);
    nsCStringContainer bs;
    if (NS_FAILED(rv = NS_CStringContainerInit(&bs))) return rv;
    rv = base->vtbl->GetScheme(base, &bs);
    if (NS_SUCCEEDED(rv)) {
      const char *bd;
      uint32_t bl = xpcom_cstring_get(&bs, &bd);
      if (bl >= sizeof scheme) {
        rv = NS_ERROR_UNKNOWN_PROTOCOL;
      } else {
        for (uint32_t i = 0; i < bl; i++)
          scheme[i] = (bd[i] >= 'A' && bd[i] <= 'Z') ? (char)(bd[i] + 32) : bd[i];
        scheme[bl] = '\0';
        slen = bl;
      }
    }
    NS_CStringContainerFinish(&bs);
    if (NS_FAILED(rv)) return rv;
  }
  /* Our own schemes never go through a handler: the ws/wss handler would
   * only call NS_NewURI, and http/https have none here. */
  if (net_uri_scheme_default_port(scheme, slen) >= 0) return NS_NewURI(result, spec, charset, base);

  nsIProtocolHandler *h = NULL;
  if (NS_FAILED(rv = ios_GetProtocolHandler(self, scheme, &h))) return rv;
  rv = h->vtbl->NewURI(h, spec, charset, base, result);
  NS_RELEASE(h);
  return rv;
}

static nsresult ios_NewFileURI(nsIIOService *self, nsIFile *file, nsIURI **result) {
  if (result) *result = NULL;
  return NS_ERROR_NOT_IMPLEMENTED;
}

static nsresult ios_NewChannelFromURI2(nsIIOService *self, nsIURI *uri, nsIDOMNode *node,
                                       nsIPrincipal *loading, nsIPrincipal *triggering,
                                       uint32_t sec_flags, uint32_t policy, nsIChannel **result) {
  if (result) *result = NULL;
  return NS_ERROR_NOT_IMPLEMENTED;
}

/* The handler of `uri`'s scheme, AddRef'd. */
static nsresult handler_for(nsIIOService *self, nsIURI *uri, nsIProtocolHandler **h) {
  *h = NULL;
  if (!uri) return NS_ERROR_NULL_POINTER;
  nsCStringContainer s;
  nsresult rv = NS_CStringContainerInit(&s);
  if (NS_FAILED(rv)) return rv;
  rv = uri->vtbl->GetScheme(uri, &s);
  if (NS_SUCCEEDED(rv)) {
    const char *d;
    xpcom_cstring_get(&s, &d); /* always terminated: we own the container */
    rv = ios_GetProtocolHandler(self, d, h);
  }
  NS_CStringContainerFinish(&s);
  return rv;
}

static nsresult ios_NewChannelFromURIWithLoadInfo(nsIIOService *self, nsIURI *uri,
                                                  nsILoadInfo *load_info, nsIChannel **result) {
  if (!result) return NS_ERROR_NULL_POINTER;
  *result = NULL;
  nsIProtocolHandler *h;
  nsresult rv = handler_for(self, uri, &h);
  if (NS_FAILED(rv)) return rv;
  rv = h->vtbl->NewChannel2(h, uri, load_info, result);
  NS_RELEASE(h);
  return rv;
}

static nsresult ios_NewChannel2(nsIIOService *self, const nsACString *spec, const char *charset,
                                nsIURI *base, nsIDOMNode *node, nsIPrincipal *loading,
                                nsIPrincipal *triggering, uint32_t sec_flags, uint32_t policy,
                                nsIChannel **result) {
  if (result) *result = NULL;
  return NS_ERROR_NOT_IMPLEMENTED;
}

static nsresult ios_NewChannelFromURI(nsIIOService *self, nsIURI *uri, nsIChannel **result) {
  if (!result) return NS_ERROR_NULL_POINTER;
  *result = NULL;
  nsIProtocolHandler *h;
  nsresult rv = handler_for(self, uri, &h);
  if (NS_FAILED(rv)) return rv;
  rv = h->vtbl->NewChannel(h, uri, result);
  NS_RELEASE(h);
  return rv;
}

static nsresult ios_NewChannel(nsIIOService *self, const nsACString *spec, const char *charset,
                               nsIURI *base, nsIChannel **result) {
  if (!result) return NS_ERROR_NULL_POINTER;
  *result = NULL;
  nsIURI *uri = NULL;
  nsresult rv = ios_NewURI(self, spec, charset, base, &uri);
  if (NS_FAILED(rv)) return rv;
  rv = ios_NewChannelFromURI(self, uri, result);
  NS_RELEASE(uri);
  return rv;
}

static nsresult ios_GetOffline(nsIIOService *self, bool *offline) {
  if (!offline) return NS_ERROR_NULL_POINTER;
  net_ioservice *s = SELF(self);
  *offline = __atomic_load_n(&s->offline, __ATOMIC_ACQUIRE) ||
             !__atomic_load_n(&s->connectivity, __ATOMIC_ACQUIRE);
  return NS_OK;
}

static nsresult ios_SetOffline(nsIIOService *self, bool offline) {
  net_ioservice *s = SELF(self);
  bool was = __atomic_exchange_n(&s->offline, offline, __ATOMIC_ACQ_REL);
  if (was == offline || !NS_IsMainThread()) return NS_OK;
  if (offline) {
    notify(s, NS_IOSERVICE_GOING_OFFLINE_TOPIC, u"" NS_IOSERVICE_OFFLINE);
    notify(s, NS_IOSERVICE_OFFLINE_STATUS_TOPIC, u"" NS_IOSERVICE_OFFLINE);
  } else if (__atomic_load_n(&s->connectivity, __ATOMIC_ACQUIRE)) {
    notify(s, NS_IOSERVICE_OFFLINE_STATUS_TOPIC, u"" NS_IOSERVICE_ONLINE);
  }
  return NS_OK;
}

static nsresult ios_GetConnectivity(nsIIOService *self, bool *c) {
  if (!c) return NS_ERROR_NULL_POINTER;
  *c = __atomic_load_n(&SELF(self)->connectivity, __ATOMIC_ACQUIRE);
  return NS_OK;
}

static nsresult ios_AllowPort(nsIIOService *self, int32_t port, const char *scheme, bool *result) {
  if (!result) return NS_ERROR_NULL_POINTER;
  if (port == -1) {
    *result = true;
    return NS_OK;
  }
  if (port <= 0 || port > 65535) {
    *result = false;
    return NS_OK;
  }
  /* Gecko applies "banned" first and "banned.override" last, so an
   * override wins. */
  bool banned = (net_ioservice_port_is_banned(port) ||
                 pref_lists_port("network.security.ports.banned", port)) &&
                !pref_lists_port("network.security.ports.banned.override", port);
  *result = !banned;
  if (!banned || !scheme) return NS_OK;
  /* Let the protocol handler decide, as Gecko does. */
  nsIProtocolHandler *h = NULL;
  if (NS_FAILED(ios_GetProtocolHandler(self, scheme, &h))) return NS_OK;
  nsresult rv = h->vtbl->AllowPort(h, port, scheme, result);
  NS_RELEASE(h);
  if (NS_FAILED(rv)) *result = false;
  return rv;
}

static nsresult ios_ExtractScheme(nsIIOService *self, const nsACString *url, nsACString *out) {
  if (!url || !out) return NS_ERROR_NULL_POINTER;
  const char *data;
  uint32_t len = xpcom_cstring_get(url, &data);
  size_t st, sl;
  if (net_uri_extract_scheme(data, len, &st, &sl) != NET_URI_OK) return NS_ERROR_MALFORMED_URI;
  nsresult rv = xpcom_cstring_assign(out, data + st, sl);
  if (NS_FAILED(rv)) return rv;
  char *w;
  uint32_t n = NS_CStringGetMutableData(out, UINT32_MAX, &w);
  if (!w) return NS_ERROR_OUT_OF_MEMORY;
  for (uint32_t i = 0; i < n; i++)
    if (w[i] >= 'A' && w[i] <= 'Z') w[i] = (char)(w[i] + 32);
  return NS_OK;
}

static const nsIIOServiceVtbl k_ios_vtbl = {
  .QueryInterface = ios_QueryInterface,
  .AddRef = ios_AddRef,
  .Release = ios_Release,
  .GetProtocolHandler = ios_GetProtocolHandler,
  .GetProtocolFlags = ios_GetProtocolFlags,
  .NewURI = ios_NewURI,
  .NewFileURI = ios_NewFileURI,
  .NewChannelFromURI2 = ios_NewChannelFromURI2,
  .NewChannelFromURIWithLoadInfo = ios_NewChannelFromURIWithLoadInfo,
  .NewChannel2 = ios_NewChannel2,
  .NewChannelFromURI = ios_NewChannelFromURI,
  .NewChannel = ios_NewChannel,
  .GetOffline = ios_GetOffline,
  .SetOffline = ios_SetOffline,
  .GetConnectivity = ios_GetConnectivity,
  .AllowPort = ios_AllowPort,
  .ExtractScheme = ios_ExtractScheme,
};

/* ---- nsIIOServiceInternal -------------------------------------------------- */

static nsresult iosi_QueryInterface(nsIIOServiceInternal *self, const nsIID *iid, void **result) {
  return xpcom_table_qi(SELF_INTERNAL(self), k_ios_qi, iid, result);
}
static nsrefcnt iosi_AddRef(nsIIOServiceInternal *self) { return ios_AddRef(&SELF_INTERNAL(self)->iface); }
static nsrefcnt iosi_Release(nsIIOServiceInternal *self) { return ios_Release(&SELF_INTERNAL(self)->iface); }

/* Records connectivity; like Gecko's SetConnectivityInternal, a change
 * while not offline is announced as going offline / coming online. */
static nsresult iosi_SetConnectivity(nsIIOServiceInternal *self, bool connectivity) {
  net_ioservice *s = SELF_INTERNAL(self);
  bool was = __atomic_exchange_n(&s->connectivity, connectivity, __ATOMIC_ACQ_REL);
  if (was == connectivity || __atomic_load_n(&s->offline, __ATOMIC_ACQUIRE) || !NS_IsMainThread())
    return NS_OK;
  if (connectivity) {
    notify(s, NS_IOSERVICE_OFFLINE_STATUS_TOPIC, u"" NS_IOSERVICE_ONLINE);
  } else {
    notify(s, NS_IOSERVICE_GOING_OFFLINE_TOPIC, u"" NS_IOSERVICE_OFFLINE);
    notify(s, NS_IOSERVICE_OFFLINE_STATUS_TOPIC, u"" NS_IOSERVICE_OFFLINE);
  }
  return NS_OK;
}

/* Gecko re-checks the network link here; there is no link service. */
static nsresult iosi_NotifyWakeup(nsIIOServiceInternal *self) { return NS_OK; }

static const nsIIOServiceInternalVtbl k_iosi_vtbl = {
  .QueryInterface = iosi_QueryInterface,
  .AddRef = iosi_AddRef,
  .Release = iosi_Release,
  .SetConnectivity = iosi_SetConnectivity,
  .NotifyWakeup = iosi_NotifyWakeup,
};

/* ---- construction ------------------------------------------------------------- */

nsresult net_ioservice_construct(nsISupports *outer, const nsIID *iid, void **result) {
  if (!result) return NS_ERROR_NULL_POINTER;
  *result = NULL;
  if (outer) return NS_ERROR_NO_AGGREGATION;
  if (!iid) return NS_ERROR_NULL_POINTER;
  net_ioservice *s = calloc(1, sizeof *s);
  if (!s) return NS_ERROR_OUT_OF_MEMORY;
  s->iface.vtbl = &k_ios_vtbl;
  s->internal.vtbl = &k_iosi_vtbl;
  s->refcnt = 1;
  s->offline = false;
  s->connectivity = true;
  XPCOM_LEAK_CTOR(net_ioservice);
  nsresult rv = ios_QueryInterface(&s->iface, iid, result);
  ios_Release(&s->iface);
  return rv;
}

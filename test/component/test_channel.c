/*
 * test_channel.c — the WebSocket channel component through XPCOM, from C,
 * without a WebSocket peer: creation by contract ID and by CID,
 * QueryInterface identity and failure, every attribute, the
 * protocol-handler side (newURI included), the IO service the module
 * registers, asyncOpen's synchronous checks (arguments, URIs, banned
 * ports, header injection, max-connections), offline, close before the
 * connection exists, sendMsg's checks (size limit with its clamp, UTF-8),
 * the open timeout's clamp against a listener that never answers,
 * aggregation refusal, the exported NSModule descriptor, and no leaks at
 * shutdown. End-to-end tests with real peers are in test_channel_net.c.
 *
 * Each test boots XPCOM in its fixture and shuts it down in the teardown,
 * which fails the test if any object is still alive. The component is
 * found through WSCHANNEL_MANIFEST (set by make check to the build tree's
 * components/wschannel.manifest).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <prio.h>
#include <prlink.h>
#include <prnetdb.h>

#include "nsError.h"
#include "nsXPCOM.h"
#include "nsXPCOMStrings.h"
#include "xpcom_module.h"
#include "xpcom_object.h"
#include "xpcom_prefs.h"

#include "nsIComponentManager.h"
#include "nsIFactory.h"
#include "nsIIOService.h"
#include "nsIInterfaceRequestor.h"
#include "nsILoadGroup.h"
#include "nsIProtocolHandler.h"
#include "nsIServiceManager.h"
#include "nsIURI.h"
#include "nsIWebSocketChannel.h"
#include "nsIWebSocketListener.h"

#include "net/net_ioservice.h"
#include "ws_channel.h"
#include "ws_test_util.h"

static const nsCID kWsCID = WS_CHANNEL_WS_CID;
static const nsCID kWssCID = WS_CHANNEL_WSS_CID;
static const nsCID kIOServiceCID = NET_IOSERVICE_CID;

/* Any pointer value that is not NULL, to see out parameters get nulled. */
#define GARBAGE ((void *)(uintptr_t)0x5a5a5a5a)

/* ---- fixture ------------------------------------------------------------ */

static nsIServiceManager *g_sm;
static nsIComponentManager *g_cm;

static void setup(void) {
  ck_assert_uint_eq(NS_InitXPCOM2(&g_sm, NULL, NULL), NS_OK);
  ck_assert_ptr_nonnull(g_sm);
  ck_assert_uint_eq(NS_GetComponentManager(&g_cm), NS_OK);
  ck_assert_ptr_nonnull(g_cm);
}

static void teardown(void) {
  NS_IF_RELEASE(g_cm);
  ck_assert_uint_eq(NS_ShutdownXPCOM(g_sm), NS_OK);
  g_sm = NULL;
  ck_assert_msg(XPCOM_LeakLiveCount() == 0, "%llu objects leaked",
                (unsigned long long)XPCOM_LeakLiveCount());
}

static void *create(const char *contract, const nsIID *iid) {
  void *p = GARBAGE;
  nsresult rv = nsIComponentManager_CreateInstanceByContractID(g_cm, contract,
                                                               NULL, iid, &p);
  ck_assert_msg(rv == NS_OK, "CreateInstanceByContractID(%s) = 0x%08x",
                contract, (unsigned)rv);
  ck_assert_ptr_nonnull(p);
  ck_assert_ptr_ne(p, GARBAGE);
  return p;
}

static nsIWebSocketChannel *create_ws(void) {
  return create(WS_CHANNEL_WS_CONTRACTID, &nsIWebSocketChannel_IID);
}

/* ---- a fake object for attributes that store interface pointers -------- */

/* Implements one interface whose slots after nsISupports are never called
 * by the channel (it only AddRefs and Releases what it stores). */
typedef struct fake {
  nsISupports iface;
  uint32_t refs;
  const nsIID *iid;
} fake;

static nsresult fake_qi(nsISupports *self, const nsIID *iid, void **result) {
  fake *f = XPCOM_CONTAINER_OF(self, fake, iface);
  const xpcom_qi_entry table[] = {{f->iid, offsetof(fake, iface)},
                                  XPCOM_QI_END};
  return xpcom_table_qi(f, table, iid, result);
}
static nsrefcnt fake_addref(nsISupports *self) {
  return ++XPCOM_CONTAINER_OF(self, fake, iface)->refs;
}
static nsrefcnt fake_release(nsISupports *self) {
  fake *f = XPCOM_CONTAINER_OF(self, fake, iface);
  ck_assert_uint_gt(f->refs, 0);
  return --f->refs;
}
static const nsISupportsVtbl fake_vtbl = {fake_qi, fake_addref, fake_release};

static void fake_init(fake *f, const nsIID *iid) {
  f->iface.vtbl = &fake_vtbl;
  f->refs = 1; /* the test's own reference, never dropped */
  f->iid = iid;
}

/* A complete nsIInterfaceRequestor, to store one of the right type. */
typedef struct requestor {
  nsIInterfaceRequestor iface;
  uint32_t refs;
} requestor;

static nsresult req_qi(nsIInterfaceRequestor *self, const nsIID *iid,
                       void **result) {
  static const xpcom_qi_entry table[] = {
      XPCOM_QI_ENTRY(requestor, iface, nsIInterfaceRequestor_IID),
      XPCOM_QI_END};
  return xpcom_table_qi(XPCOM_CONTAINER_OF(self, requestor, iface), table, iid,
                        result);
}
static nsrefcnt req_addref(nsIInterfaceRequestor *self) {
  return ++XPCOM_CONTAINER_OF(self, requestor, iface)->refs;
}
static nsrefcnt req_release(nsIInterfaceRequestor *self) {
  return --XPCOM_CONTAINER_OF(self, requestor, iface)->refs;
}
static nsresult req_getinterface(nsIInterfaceRequestor *self, const nsIID *iid,
                                 void **result) {
  return req_qi(self, iid, result);
}
static const nsIInterfaceRequestorVtbl req_vtbl = {
    .QueryInterface = req_qi,
    .AddRef = req_addref,
    .Release = req_release,
    .GetInterface = req_getinterface};

/* ---- creation ----------------------------------------------------------- */

START_TEST(test_create_by_contract) {
  nsIWebSocketChannel *ws = create_ws();
  nsIWebSocketChannel *wss =
      create(WS_CHANNEL_WSS_CONTRACTID, &nsIWebSocketChannel_IID);
  ck_assert_ptr_ne(ws, wss); /* createInstance: a new object each time */
  nsIWebSocketChannel *ws2 = create_ws();
  ck_assert_ptr_ne(ws, ws2);
  NS_RELEASE(ws);
  NS_RELEASE(wss);
  NS_RELEASE(ws2);
}
END_TEST

START_TEST(test_create_by_cid) {
  const nsCID *cids[] = {&kWsCID, &kWssCID};
  const char *schemes[] = {"ws", "wss"};
  for (int i = 0; i < 2; i++) {
    nsIProtocolHandler *ph = GARBAGE;
    ck_assert_uint_eq(nsIComponentManager_CreateInstance(
                          g_cm, cids[i], NULL, &nsIProtocolHandler_IID,
                          (void **)&ph),
                      NS_OK);
    ck_assert_ptr_nonnull(ph);
    nsCStringContainer s;
    NS_CStringContainerInit(&s);
    ck_assert_uint_eq(nsIProtocolHandler_GetScheme(ph, &s), NS_OK);
    ck_assert(xpcom_cstring_equals(&s, schemes[i], strlen(schemes[i])));
    NS_CStringContainerFinish(&s);
    NS_RELEASE(ph);
  }
}
END_TEST

START_TEST(test_unknown_contract) {
  void *p = GARBAGE;
  nsresult rv = nsIComponentManager_CreateInstanceByContractID(
      g_cm, "@mozilla.org/network/protocol;1?name=wsx", NULL,
      &nsIWebSocketChannel_IID, &p);
  ck_assert_uint_eq(rv, 0x80040154u);
  ck_assert_uint_eq(rv, NS_ERROR_FACTORY_NOT_REGISTERED);
  ck_assert_ptr_null(p);
}
END_TEST

START_TEST(test_aggregation_refused) {
  fake outer;
  fake_init(&outer, &nsISupports_IID);
  void *p = GARBAGE;
  nsresult rv = nsIComponentManager_CreateInstanceByContractID(
      g_cm, WS_CHANNEL_WS_CONTRACTID, &outer.iface, &nsISupports_IID, &p);
  ck_assert_uint_eq(rv, NS_ERROR_NO_AGGREGATION);
  ck_assert_ptr_null(p);

  /* Through the factory too. */
  nsIFactory *factory = NULL;
  ck_assert_uint_eq(nsIComponentManager_GetClassObject(
                        g_cm, &kWssCID, &nsIFactory_IID, (void **)&factory),
                    NS_OK);
  p = GARBAGE;
  rv = nsIFactory_CreateInstance(factory, &outer.iface, &nsISupports_IID, &p);
  ck_assert_uint_eq(rv, NS_ERROR_NO_AGGREGATION);
  ck_assert_ptr_null(p);
  p = NULL;
  ck_assert_uint_eq(
      nsIFactory_CreateInstance(factory, NULL, &nsIWebSocketChannel_IID, &p),
      NS_OK);
  ck_assert_ptr_nonnull(p);
  NS_RELEASE(p);
  NS_RELEASE(factory);
  ck_assert_uint_eq(outer.refs, 1);
}
END_TEST

/* ---- QueryInterface ----------------------------------------------------- */

START_TEST(test_qi_identity) {
  const char *contracts[] = {WS_CHANNEL_WS_CONTRACTID,
                             WS_CHANNEL_WSS_CONTRACTID};
  for (int i = 0; i < 2; i++) {
    nsIWebSocketChannel *ch = create(contracts[i], &nsIWebSocketChannel_IID);
    nsIProtocolHandler *ph = NULL;
    nsISupports *id1 = NULL, *id2 = NULL;
    nsIWebSocketChannel *back = NULL;

    ck_assert_uint_eq(xpcom_query_interface(ch, &nsIProtocolHandler_IID,
                                            (void **)&ph),
                      NS_OK);
    ck_assert_ptr_nonnull(ph);
    ck_assert_ptr_ne((void *)ph, (void *)ch); /* a second interface */
    ck_assert_uint_eq(
        xpcom_query_interface(ch, &nsISupports_IID, (void **)&id1), NS_OK);
    ck_assert_uint_eq(
        xpcom_query_interface(ph, &nsISupports_IID, (void **)&id2), NS_OK);
    ck_assert_ptr_eq(id1, id2); /* one identity from either interface */
    ck_assert_ptr_eq((void *)id1, (void *)ch); /* the first interface */
    ck_assert_uint_eq(xpcom_query_interface(ph, &nsIWebSocketChannel_IID,
                                            (void **)&back),
                      NS_OK);
    ck_assert_ptr_eq(back, ch);

    NS_RELEASE(back);
    NS_RELEASE(id1);
    NS_RELEASE(id2);
    NS_RELEASE(ph);
    NS_RELEASE(ch);
  }
}
END_TEST

START_TEST(test_qi_failure) {
  nsIWebSocketChannel *ch = create_ws();
  nsIProtocolHandler *ph = NULL;
  ck_assert_uint_eq(
      xpcom_query_interface(ch, &nsIProtocolHandler_IID, (void **)&ph), NS_OK);
  const nsIID *others[] = {&nsIURI_IID, &nsIWebSocketListener_IID,
                           &nsIFactory_IID, &nsIInterfaceRequestor_IID,
                           &nsILoadGroup_IID, &nsIRequest_IID,
                           &nsIProtocolHandlerWithDynamicFlags_IID};
  for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
    void *p = GARBAGE;
    ck_assert_uint_eq(xpcom_query_interface(ch, others[i], &p),
                      NS_NOINTERFACE);
    ck_assert_ptr_null(p);
    p = GARBAGE;
    ck_assert_uint_eq(xpcom_query_interface(ph, others[i], &p),
                      NS_NOINTERFACE);
    ck_assert_ptr_null(p);
  }
  ck_assert_uint_eq(NS_NOINTERFACE, 0x80004002u);
  NS_RELEASE(ph);
  NS_RELEASE(ch);
}
END_TEST

START_TEST(test_refcount) {
  nsIWebSocketChannel *ch = create_ws();
  ck_assert_uint_eq(xpcom_addref(ch), 2);
  nsIProtocolHandler *ph = NULL;
  ck_assert_uint_eq(
      xpcom_query_interface(ch, &nsIProtocolHandler_IID, (void **)&ph), NS_OK);
  /* One count for the whole object, whichever interface is used. */
  ck_assert_uint_eq(xpcom_addref(ph), 4);
  ck_assert_uint_eq(xpcom_release(ph), 3);
  ck_assert_uint_eq(xpcom_release(ph), 2);
  ck_assert_uint_eq(xpcom_release(ch), 1);
  ck_assert_uint_eq(xpcom_release(ch), 0);
}
END_TEST

/* ---- attributes --------------------------------------------------------- */

START_TEST(test_uri_attributes_null_before_open) {
  nsIWebSocketChannel *ch = create_ws();
  nsIURI *uri = GARBAGE;
  ck_assert_uint_eq(nsIWebSocketChannel_GetOriginalURI(ch, &uri), NS_OK);
  ck_assert_ptr_null(uri);
  uri = GARBAGE;
  ck_assert_uint_eq(nsIWebSocketChannel_GetURI(ch, &uri), NS_OK);
  ck_assert_ptr_null(uri);
  nsISupports *sec = GARBAGE;
  ck_assert_uint_eq(nsIWebSocketChannel_GetSecurityInfo(ch, &sec), NS_OK);
  ck_assert_ptr_null(sec);
  nsIInterfaceRequestor *cb = GARBAGE;
  ck_assert_uint_eq(nsIWebSocketChannel_GetNotificationCallbacks(ch, &cb),
                    NS_OK);
  ck_assert_ptr_null(cb);
  nsILoadGroup *lg = GARBAGE;
  ck_assert_uint_eq(nsIWebSocketChannel_GetLoadGroup(ch, &lg), NS_OK);
  ck_assert_ptr_null(lg);
  NS_RELEASE(ch);
}
END_TEST

START_TEST(test_null_out_pointers) {
  nsIWebSocketChannel *ch = create_ws();
  nsIProtocolHandler *ph = NULL;
  ck_assert_uint_eq(
      xpcom_query_interface(ch, &nsIProtocolHandler_IID, (void **)&ph), NS_OK);
  ck_assert_uint_eq(nsIWebSocketChannel_GetOriginalURI(ch, NULL),
                    NS_ERROR_NULL_POINTER);
  ck_assert_uint_eq(nsIWebSocketChannel_GetURI(ch, NULL),
                    NS_ERROR_NULL_POINTER);
  ck_assert_uint_eq(nsIWebSocketChannel_GetSecurityInfo(ch, NULL),
                    NS_ERROR_NULL_POINTER);
  ck_assert_uint_eq(nsIWebSocketChannel_GetNotificationCallbacks(ch, NULL),
                    NS_ERROR_NULL_POINTER);
  ck_assert_uint_eq(nsIWebSocketChannel_GetLoadGroup(ch, NULL),
                    NS_ERROR_NULL_POINTER);
  ck_assert_uint_eq(nsIWebSocketChannel_GetProtocol(ch, NULL),
                    NS_ERROR_NULL_POINTER);
  ck_assert_uint_eq(nsIWebSocketChannel_SetProtocol(ch, NULL),
                    NS_ERROR_NULL_POINTER);
  ck_assert_uint_eq(nsIWebSocketChannel_GetExtensions(ch, NULL),
                    NS_ERROR_NULL_POINTER);
  ck_assert_uint_eq(nsIProtocolHandler_GetScheme(ph, NULL),
                    NS_ERROR_NULL_POINTER);
  ck_assert_uint_eq(nsIProtocolHandler_GetDefaultPort(ph, NULL),
                    NS_ERROR_NULL_POINTER);
  ck_assert_uint_eq(nsIProtocolHandler_GetProtocolFlags(ph, NULL),
                    NS_ERROR_NULL_POINTER);
  ck_assert_uint_eq(nsIProtocolHandler_AllowPort(ph, 80, "ws", NULL),
                    NS_ERROR_NULL_POINTER);
  ck_assert_uint_eq(nsIProtocolHandler_NewURI(ph, NULL, NULL, NULL, NULL),
                    NS_ERROR_NULL_POINTER);
  ck_assert_uint_eq(nsIProtocolHandler_NewChannel(ph, NULL, NULL),
                    NS_ERROR_NULL_POINTER);
  ck_assert_uint_eq(nsIProtocolHandler_NewChannel2(ph, NULL, NULL, NULL),
                    NS_ERROR_NULL_POINTER);
  NS_RELEASE(ph);
  NS_RELEASE(ch);
}
END_TEST

START_TEST(test_extensions_empty) {
  nsIWebSocketChannel *ch =
      create(WS_CHANNEL_WSS_CONTRACTID, &nsIWebSocketChannel_IID);
  nsCStringContainer s;
  NS_CStringContainerInit2(&s, "stale", UINT32_MAX, 0);
  ck_assert_uint_eq(nsIWebSocketChannel_GetExtensions(ch, &s), NS_OK);
  const char *data;
  ck_assert_uint_eq(NS_CStringGetData(&s, &data, NULL), 0);
  ck_assert(!NS_CStringGetIsVoid(&s));
  NS_CStringContainerFinish(&s);
  NS_RELEASE(ch);
}
END_TEST

START_TEST(test_protocol_round_trip) {
  nsIWebSocketChannel *ch = create_ws();
  nsCStringContainer in, out;
  NS_CStringContainerInit(&in);
  NS_CStringContainerInit(&out);

  /* Empty before anything is set. */
  ck_assert_uint_eq(nsIWebSocketChannel_GetProtocol(ch, &out), NS_OK);
  ck_assert(xpcom_cstring_equals(&out, "", 0));

  ck_assert_uint_eq(NS_CStringSetData(&in, "chat, superchat", UINT32_MAX),
                    NS_OK);
  ck_assert_uint_eq(nsIWebSocketChannel_SetProtocol(ch, &in), NS_OK);
  /* The channel keeps a copy: changing or dropping ours changes nothing. */
  ck_assert_uint_eq(NS_CStringSetData(&in, "other", UINT32_MAX), NS_OK);
  NS_CStringContainerFinish(&in);
  ck_assert_uint_eq(nsIWebSocketChannel_GetProtocol(ch, &out), NS_OK);
  ck_assert(xpcom_cstring_equals(&out, "chat, superchat", 15));

  /* A dependent (non-owned, unterminated) source is copied too. */
  const char buf[] = "v2.bookings.example.netXXX";
  nsCStringContainer dep;
  ck_assert_uint_eq(NS_CStringContainerInit2(
                        &dep, buf, 23,
                        NS_CSTRING_CONTAINER_INIT_DEPEND |
                            NS_CSTRING_CONTAINER_INIT_SUBSTRING),
                    NS_OK);
  ck_assert_uint_eq(nsIWebSocketChannel_SetProtocol(ch, &dep), NS_OK);
  NS_CStringContainerFinish(&dep);
  ck_assert_uint_eq(nsIWebSocketChannel_GetProtocol(ch, &out), NS_OK);
  ck_assert(xpcom_cstring_equals(&out, "v2.bookings.example.net", 23));

  /* Back to empty. */
  NS_CStringContainerInit(&in);
  ck_assert_uint_eq(nsIWebSocketChannel_SetProtocol(ch, &in), NS_OK);
  ck_assert_uint_eq(nsIWebSocketChannel_GetProtocol(ch, &out), NS_OK);
  ck_assert(xpcom_cstring_equals(&out, "", 0));
  NS_CStringContainerFinish(&in);

  /* Two channels do not share the value. */
  nsIWebSocketChannel *other = create_ws();
  NS_CStringContainerInit2(&in, "mqtt", UINT32_MAX, 0);
  ck_assert_uint_eq(nsIWebSocketChannel_SetProtocol(other, &in), NS_OK);
  ck_assert_uint_eq(nsIWebSocketChannel_GetProtocol(ch, &out), NS_OK);
  ck_assert(xpcom_cstring_equals(&out, "", 0));
  NS_CStringContainerFinish(&in);
  NS_RELEASE(other);

  /* Destroying a channel that holds a protocol frees it (leak check). */
  NS_CStringContainerInit2(&in, "last", UINT32_MAX, 0);
  ck_assert_uint_eq(nsIWebSocketChannel_SetProtocol(ch, &in), NS_OK);
  NS_CStringContainerFinish(&in);
  NS_CStringContainerFinish(&out);
  NS_RELEASE(ch);
}
END_TEST

START_TEST(test_notification_callbacks) {
  nsIWebSocketChannel *ch = create_ws();
  requestor r1 = {{&req_vtbl}, 1}, r2 = {{&req_vtbl}, 1};

  ck_assert_uint_eq(nsIWebSocketChannel_SetNotificationCallbacks(ch, &r1.iface),
                    NS_OK);
  ck_assert_uint_eq(r1.refs, 2); /* the channel holds a reference */
  nsIInterfaceRequestor *got = NULL;
  ck_assert_uint_eq(nsIWebSocketChannel_GetNotificationCallbacks(ch, &got),
                    NS_OK);
  ck_assert_ptr_eq(got, &r1.iface);
  ck_assert_uint_eq(r1.refs, 3); /* the getter's result is AddRef'd */
  NS_RELEASE(got);

  /* Same object again: still exactly one reference held. */
  ck_assert_uint_eq(nsIWebSocketChannel_SetNotificationCallbacks(ch, &r1.iface),
                    NS_OK);
  ck_assert_uint_eq(r1.refs, 2);

  /* Replacing releases the old one. */
  ck_assert_uint_eq(nsIWebSocketChannel_SetNotificationCallbacks(ch, &r2.iface),
                    NS_OK);
  ck_assert_uint_eq(r1.refs, 1);
  ck_assert_uint_eq(r2.refs, 2);

  /* Null clears. */
  ck_assert_uint_eq(nsIWebSocketChannel_SetNotificationCallbacks(ch, NULL),
                    NS_OK);
  ck_assert_uint_eq(r2.refs, 1);
  got = GARBAGE;
  ck_assert_uint_eq(nsIWebSocketChannel_GetNotificationCallbacks(ch, &got),
                    NS_OK);
  ck_assert_ptr_null(got);

  /* Destruction releases what is held. */
  ck_assert_uint_eq(nsIWebSocketChannel_SetNotificationCallbacks(ch, &r2.iface),
                    NS_OK);
  ck_assert_uint_eq(r2.refs, 2);
  NS_RELEASE(ch);
  ck_assert_uint_eq(r2.refs, 1);
}
END_TEST

START_TEST(test_load_group) {
  nsIWebSocketChannel *ch = create_ws();
  fake g1, g2;
  fake_init(&g1, &nsILoadGroup_IID);
  fake_init(&g2, &nsILoadGroup_IID);
  nsILoadGroup *lg1 = (nsILoadGroup *)(void *)&g1.iface;
  nsILoadGroup *lg2 = (nsILoadGroup *)(void *)&g2.iface;

  ck_assert_uint_eq(nsIWebSocketChannel_SetLoadGroup(ch, lg1), NS_OK);
  ck_assert_uint_eq(g1.refs, 2);
  nsILoadGroup *got = NULL;
  ck_assert_uint_eq(nsIWebSocketChannel_GetLoadGroup(ch, &got), NS_OK);
  ck_assert_ptr_eq(got, lg1);
  ck_assert_uint_eq(g1.refs, 3);
  NS_RELEASE(got);

  ck_assert_uint_eq(nsIWebSocketChannel_SetLoadGroup(ch, lg2), NS_OK);
  ck_assert_uint_eq(g1.refs, 1);
  ck_assert_uint_eq(g2.refs, 2);
  ck_assert_uint_eq(nsIWebSocketChannel_SetLoadGroup(ch, NULL), NS_OK);
  ck_assert_uint_eq(g2.refs, 1);

  ck_assert_uint_eq(nsIWebSocketChannel_SetLoadGroup(ch, lg1), NS_OK);
  NS_RELEASE(ch);
  ck_assert_uint_eq(g1.refs, 1);
}
END_TEST

/* ---- asyncOpen, close and send without a peer (or with a silent one) ---- */

/* A URI made by the channel's own protocol handler. */
static nsIURI *new_uri(nsIWebSocketChannel *ch, const char *spec) {
  nsIProtocolHandler *ph = NULL;
  ck_assert_uint_eq(
      xpcom_query_interface(ch, &nsIProtocolHandler_IID, (void **)&ph), NS_OK);
  nsCStringContainer s;
  NS_CStringContainerInit2(&s, spec, UINT32_MAX, 0);
  nsIURI *uri = NULL;
  ck_assert_uint_eq(nsIProtocolHandler_NewURI(ph, &s, NULL, NULL, &uri),
                    NS_OK);
  NS_CStringContainerFinish(&s);
  NS_RELEASE(ph);
  return uri;
}

static nsresult open_with(nsIWebSocketChannel *ch, nsIURI *uri,
                          const char *origin, wst_listener *l) {
  nsCStringContainer o;
  NS_CStringContainerInit2(&o, origin, UINT32_MAX, 0);
  nsresult rv = nsIWebSocketChannel_AsyncOpen(ch, uri, &o, l ? &l->iface : NULL,
                                              l ? l->expected_context : NULL);
  NS_CStringContainerFinish(&o);
  return rv;
}

/* A TCP listener on 127.0.0.1 that never accepts nor answers: connects
 * succeed (the kernel's backlog) and the handshake waits forever. */
typedef struct silent_server {
  PRFileDesc *fd;
  char url[64];
} silent_server;

static void silent_start(silent_server *s) {
  s->fd = PR_OpenTCPSocket(PR_AF_INET);
  ck_assert_ptr_nonnull(s->fd);
  PRNetAddr addr;
  PR_InitializeNetAddr(PR_IpAddrLoopback, 0, &addr);
  ck_assert_int_eq(PR_Bind(s->fd, &addr), PR_SUCCESS);
  ck_assert_int_eq(PR_Listen(s->fd, 300), PR_SUCCESS);
  ck_assert_int_eq(PR_GetSockName(s->fd, &addr), PR_SUCCESS);
  snprintf(s->url, sizeof s->url, "ws://127.0.0.1:%u/silent",
           (unsigned)PR_ntohs(addr.inet.port));
}

static void silent_stop(silent_server *s) {
  if (s->fd)
    PR_Close(s->fd);
  s->fd = NULL;
}

START_TEST(test_async_open_arguments) {
  nsIWebSocketChannel *ch = create_ws();
  nsIURI *uri = new_uri(ch, "ws://127.0.0.1:9/x");
  wst_listener *l = wst_listener_new(NULL, NULL);
  fake c;
  fake_init(&c, &nsISupports_IID);
  l->expected_context = &c.iface;

  /* Gecko: a missing URI or listener is NS_ERROR_UNEXPECTED. */
  ck_assert_uint_eq(open_with(ch, NULL, "", l), NS_ERROR_UNEXPECTED);
  ck_assert_uint_eq(open_with(ch, uri, "", NULL), NS_ERROR_UNEXPECTED);
  ck_assert_uint_eq(nsIWebSocketChannel_AsyncOpen(ch, uri, NULL, &l->iface,
                                                  NULL),
                    NS_ERROR_INVALID_ARG);
  /* Nothing is kept after a refusal, and no call is owed. */
  ck_assert_uint_eq(l->refcnt, 1);
  ck_assert_uint_eq(c.refs, 1);
  nsIURI *got = GARBAGE;
  ck_assert_uint_eq(nsIWebSocketChannel_GetOriginalURI(ch, &got), NS_OK);
  ck_assert_ptr_null(got);
  ck_assert_uint_eq(l->nevents, 0);
  NS_RELEASE(uri);
  NS_RELEASE(ch);
  wst_listener_release(l);
}
END_TEST

START_TEST(test_async_open_bad_uris) {
  static const struct {
    bool wss;
    const char *spec;
    const char *origin;
    const char *protocol;
    nsresult rv;
  } cases[] = {
      /* RFC 6455 §3: no fragment in a WebSocket URI. */
      {false, "ws://127.0.0.1:8080/chat#frag", "", NULL, NS_ERROR_MALFORMED_URI},
      {false, "ws://127.0.0.1:8080/chat#", "", NULL, NS_ERROR_MALFORMED_URI},
      /* The scheme must be the channel's own. */
      {false, "http://127.0.0.1:8080/", "", NULL, NS_ERROR_MALFORMED_URI},
      {false, "wss://127.0.0.1:8080/", "", NULL, NS_ERROR_MALFORMED_URI},
      {true, "ws://127.0.0.1:8080/", "", NULL, NS_ERROR_MALFORMED_URI},
      /* Gecko's banned ports stay banned for WebSockets. */
      {false, "ws://127.0.0.1:25/", "", NULL, NS_ERROR_PORT_ACCESS_NOT_ALLOWED},
      {false, "ws://127.0.0.1:6000/", "", NULL,
       NS_ERROR_PORT_ACCESS_NOT_ALLOWED},
      /* No header injection through origin or protocol. */
      {false, "ws://127.0.0.1:8080/", "http://a\r\nX-Evil: 1", NULL,
       NS_ERROR_ILLEGAL_VALUE},
      {false, "ws://127.0.0.1:8080/", "", "chat\r\nX-Evil: 1",
       NS_ERROR_ILLEGAL_VALUE},
      {false, "ws://127.0.0.1:8080/", "", "not a token", NS_ERROR_ILLEGAL_VALUE},
      {false, "ws://127.0.0.1:8080/", "", "chat, chat", NS_ERROR_ILLEGAL_VALUE},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    nsIWebSocketChannel *ch = create(
        cases[i].wss ? WS_CHANNEL_WSS_CONTRACTID : WS_CHANNEL_WS_CONTRACTID,
        &nsIWebSocketChannel_IID);
    nsIURI *uri = new_uri(ch, cases[i].spec);
    wst_listener *l = wst_listener_new(NULL, NULL);
    if (cases[i].protocol) {
      nsCStringContainer p;
      NS_CStringContainerInit2(&p, cases[i].protocol, UINT32_MAX, 0);
      ck_assert_uint_eq(nsIWebSocketChannel_SetProtocol(ch, &p), NS_OK);
      NS_CStringContainerFinish(&p);
    }
    nsresult rv = open_with(ch, uri, cases[i].origin, l);
    ck_assert_msg(rv == cases[i].rv, "%s: 0x%08x", cases[i].spec, (unsigned)rv);
    /* Still not opened: a retry answers the same, not ALREADY_OPENED. */
    ck_assert_uint_eq(open_with(ch, uri, cases[i].origin, l), cases[i].rv);
    ck_assert_uint_eq(l->refcnt, 1);
    wst_spin(10);
    ck_assert_uint_eq(l->nevents, 0);
    NS_RELEASE(uri);
    NS_RELEASE(ch);
    wst_listener_release(l);
  }
}
END_TEST

/* test_websocket_offline.js: offline, asyncOpen succeeds and onStop comes
 * with a failure, never onStart. */
START_TEST(test_offline) {
  nsIIOService *io = NULL;
  ck_assert_uint_eq(nsIServiceManager_GetServiceByContractID(
                        g_sm, "@mozilla.org/network/io-service;1",
                        &nsIIOService_IID, (void **)&io),
                    NS_OK);
  ck_assert_uint_eq(nsIIOService_SetOffline(io, true), NS_OK);
  nsIWebSocketChannel *ch = create_ws();
  nsIURI *uri = new_uri(ch, "ws://127.0.0.1:8080/");
  wst_listener *l = wst_listener_new(NULL, NULL);
  ck_assert_uint_eq(open_with(ch, uri, "", l), NS_OK);
  ck_assert_uint_eq(l->nevents, 0); /* nothing before asyncOpen returns */
  ck_assert_uint_eq(open_with(ch, uri, "", l), NS_ERROR_ALREADY_OPENED);
  ck_assert(wst_run_until_stopped(l, 5000));
  ck_assert_uint_eq(l->nevents, 1);
  ck_assert_uint_eq(wst_stop_status(l), NS_ERROR_OFFLINE);
  ck_assert_uint_eq(nsIIOService_SetOffline(io, false), NS_OK);
  NS_RELEASE(io);
  NS_RELEASE(uri);
  NS_RELEASE(ch);
  wst_listener_release(l);
}
END_TEST

START_TEST(test_close_before_open) {
  silent_server srv;
  silent_start(&srv);
  nsIWebSocketChannel *ch = create_ws();
  nsIURI *uri = new_uri(ch, srv.url);
  wst_listener *l = wst_listener_new(NULL, NULL);
  fake c;
  fake_init(&c, &nsISupports_IID);
  l->expected_context = &c.iface;
  ck_assert_uint_eq(open_with(ch, uri, "http://example.com", l), NS_OK);
  /* Kept from asyncOpen: URI and originalURI are the caller's object;
   * listener and context are held. */
  nsIURI *got = NULL;
  ck_assert_uint_eq(nsIWebSocketChannel_GetURI(ch, &got), NS_OK);
  ck_assert_ptr_eq(got, uri);
  NS_RELEASE(got);
  ck_assert_uint_eq(nsIWebSocketChannel_GetOriginalURI(ch, &got), NS_OK);
  ck_assert_ptr_eq(got, uri);
  NS_RELEASE(got);
  ck_assert_uint_gt(l->refcnt, 1);
  ck_assert_uint_gt(c.refs, 1);
  ck_assert_uint_eq(open_with(ch, uri, "", l), NS_ERROR_ALREADY_OPENED);

  /* Gecko 8: no transport yet → NS_ERROR_NOT_CONNECTED, and the session
   * is aborted with that status. */
  nsCStringContainer reason;
  NS_CStringContainerInit(&reason);
  ck_assert_uint_eq(nsIWebSocketChannel_Close(ch, 1000, &reason),
                    NS_ERROR_NOT_CONNECTED);
  ck_assert_uint_eq(nsIWebSocketChannel_Close(ch, 1000, &reason),
                    NS_ERROR_UNEXPECTED);
  NS_CStringContainerFinish(&reason);
  ck_assert_uint_eq(wst_send(ch, false, "x", 1), NS_ERROR_UNEXPECTED);
  ck_assert_uint_eq(l->nevents, 0);
  ck_assert(wst_run_until_stopped(l, 5000));
  ck_assert_uint_eq(l->nevents, 1); /* onStop only */
  ck_assert_uint_eq(wst_stop_status(l), NS_ERROR_NOT_CONNECTED);
  ck_assert(!l->bad_context);
  /* After onStop the channel dropped listener and context. */
  ck_assert_uint_eq(l->refcnt, 1);
  ck_assert_uint_eq(c.refs, 1);
  NS_RELEASE(uri);
  NS_RELEASE(ch);
  wst_listener_release(l);
  silent_stop(&srv);
}
END_TEST

/* Checks sendMsg / sendBinaryMsg make synchronously, while the handshake
 * is pending (messages sent then are queued, as in Gecko 8). */
START_TEST(test_send_checks) {
  silent_server srv;
  silent_start(&srv);
  /* Clamped to Gecko's minimum, 1024. */
  ck_assert_uint_eq(xpcom_prefs_set_int("network.websocket.max-message-size",
                                        10),
                    NS_OK);
  nsIWebSocketChannel *ch = create_ws();
  nsIURI *uri = new_uri(ch, srv.url);
  wst_listener *l = wst_listener_new(NULL, NULL);
  ck_assert_uint_eq(open_with(ch, uri, "", l), NS_OK);
  char *big = malloc(1025);
  ck_assert_ptr_nonnull(big);
  memset(big, 'a', 1025);
  ck_assert_uint_eq(wst_send(ch, false, big, 1024), NS_OK);
  ck_assert_uint_eq(wst_send(ch, true, big, 1024), NS_OK);
  ck_assert_uint_eq(wst_send(ch, false, big, 1025), NS_ERROR_FILE_TOO_BIG);
  ck_assert_uint_eq(wst_send(ch, true, big, 1025), NS_ERROR_FILE_TOO_BIG);
  free(big);
  /* RFC 6455 §5.6: text is UTF-8; anything else is refused. */
  static const char *const bad[] = {"\xff", "\xc0\xaf", "\xed\xa0\x80",
                                    "ok\xe2\x82", "\xf4\x90\x80\x80"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ck_assert_uint_eq(wst_send(ch, false, bad[i], strlen(bad[i])),
                      NS_ERROR_ILLEGAL_VALUE);
    ck_assert_uint_eq(wst_send(ch, true, bad[i], strlen(bad[i])), NS_OK);
  }
  ck_assert_uint_eq(wst_send(ch, false, "\xe2\x82\xac \xf0\x9f\x98\x80", 8),
                    NS_OK);
  ck_assert_uint_eq(wst_send(ch, false, "", 0), NS_OK);
  ck_assert_uint_eq(nsIWebSocketChannel_SendMsg(ch, NULL),
                    NS_ERROR_INVALID_ARG);
  ck_assert_uint_eq(wst_close(ch, 1000, ""), NS_ERROR_NOT_CONNECTED);
  ck_assert(wst_run_until_stopped(l, 5000));
  ck_assert_uint_eq(wst_count(l, WST_ACK), 0); /* nothing was written */
  /* After onStop, close had been requested: unexpected first (Gecko 8). */
  ck_assert_uint_eq(wst_send(ch, true, "x", 1), NS_ERROR_UNEXPECTED);
  NS_RELEASE(uri);
  NS_RELEASE(ch);
  wst_listener_release(l);
  silent_stop(&srv);
}
END_TEST

/* network.websocket.max-connections, read by the admission module. */
START_TEST(test_max_connections) {
  silent_server srv;
  silent_start(&srv);
  ck_assert_uint_eq(xpcom_prefs_set_int("network.websocket.max-connections",
                                        2),
                    NS_OK);
  nsIWebSocketChannel *ch[3];
  wst_listener *l[3];
  nsIURI *uri = NULL;
  for (int i = 0; i < 3; i++) {
    ch[i] = create_ws();
    if (!uri)
      uri = new_uri(ch[i], srv.url);
    l[i] = wst_listener_new(NULL, NULL);
  }
  ck_assert_uint_eq(open_with(ch[0], uri, "", l[0]), NS_OK);
  ck_assert_uint_eq(open_with(ch[1], uri, "", l[1]), NS_OK);
  ck_assert_uint_eq(open_with(ch[2], uri, "", l[2]),
                    NS_ERROR_SOCKET_CREATE_FAILED);
  ck_assert_uint_eq(l[2]->refcnt, 1);
  /* A refused channel may try again once a slot is free. */
  ck_assert_uint_eq(wst_close(ch[0], 1000, ""), NS_ERROR_NOT_CONNECTED);
  ck_assert(wst_run_until_stopped(l[0], 5000));
  ck_assert_uint_eq(open_with(ch[2], uri, "", l[2]), NS_OK);
  for (int i = 1; i < 3; i++) {
    ck_assert_uint_eq(wst_close(ch[i], 1000, ""), NS_ERROR_NOT_CONNECTED);
    ck_assert(wst_run_until_stopped(l[i], 5000));
  }
  for (int i = 0; i < 3; i++) {
    ck_assert_uint_eq(l[i]->nevents, 1);
    ck_assert_uint_eq(wst_stop_status(l[i]), NS_ERROR_NOT_CONNECTED);
    NS_RELEASE(ch[i]);
    wst_listener_release(l[i]);
  }
  NS_RELEASE(uri);
  silent_stop(&srv);
}
END_TEST

/* network.websocket.timeout.open 0 is clamped to Gecko's minimum of 1 s:
 * a server that never answers fails with NS_ERROR_NET_TIMEOUT then. */
START_TEST(test_open_timeout_clamped) {
  silent_server srv;
  silent_start(&srv);
  ck_assert_uint_eq(xpcom_prefs_set_int("network.websocket.timeout.open", 0),
                    NS_OK);
  nsIWebSocketChannel *ch = create_ws();
  nsIURI *uri = new_uri(ch, srv.url);
  wst_listener *l = wst_listener_new(NULL, NULL);
  PRIntervalTime t0 = PR_IntervalNow();
  ck_assert_uint_eq(open_with(ch, uri, "", l), NS_OK);
  ck_assert(wst_run_until_stopped(l, 10000));
  uint32_t ms = PR_IntervalToMilliseconds((PRIntervalTime)(PR_IntervalNow() - t0));
  ck_assert_uint_eq(l->nevents, 1);
  ck_assert_uint_eq(wst_stop_status(l), NS_ERROR_NET_TIMEOUT);
  ck_assert_msg(ms >= 900 && ms < 5000, "timed out after %u ms", ms);
  NS_RELEASE(uri);
  NS_RELEASE(ch);
  wst_listener_release(l);
  silent_stop(&srv);
}
END_TEST

START_TEST(test_close) {
  nsIWebSocketChannel *ch = create_ws();
  nsCStringContainer reason;
  char buf[200];
  memset(buf, 'r', sizeof buf);

  /* RFC 6455 §5.5: 123 bytes fit, 124 do not — checked first. */
  NS_CStringContainerInit2(&reason, buf, 124, 0);
  ck_assert_uint_eq(nsIWebSocketChannel_Close(ch, 1000, &reason),
                    NS_ERROR_ILLEGAL_VALUE);
  NS_CStringSetData(&reason, buf, 200);
  ck_assert_uint_eq(nsIWebSocketChannel_Close(ch, 1000, &reason),
                    NS_ERROR_ILLEGAL_VALUE);
  NS_CStringSetData(&reason, buf, 123);
  ck_assert_uint_eq(nsIWebSocketChannel_Close(ch, 1000, &reason),
                    NS_ERROR_NOT_CONNECTED);
  NS_CStringSetData(&reason, "", 0);
  ck_assert_uint_eq(nsIWebSocketChannel_Close(ch, 1000, &reason),
                    NS_ERROR_NOT_CONNECTED);
  ck_assert_uint_eq(
      nsIWebSocketChannel_Close(ch, nsIWebSocketChannel_CLOSE_GOING_AWAY,
                                &reason),
      NS_ERROR_NOT_CONNECTED);
  ck_assert_uint_eq(NS_ERROR_NOT_CONNECTED, 0x804B000Cu);
  NS_CStringContainerFinish(&reason);
  NS_RELEASE(ch);
}
END_TEST

START_TEST(test_send) {
  nsIWebSocketChannel *ch =
      create(WS_CHANNEL_WSS_CONTRACTID, &nsIWebSocketChannel_IID);
  nsCStringContainer msg;
  NS_CStringContainerInit2(&msg, "hello", UINT32_MAX, 0);
  ck_assert_uint_eq(nsIWebSocketChannel_SendMsg(ch, &msg),
                    NS_ERROR_NOT_CONNECTED);
  ck_assert_uint_eq(nsIWebSocketChannel_SendBinaryMsg(ch, &msg),
                    NS_ERROR_NOT_CONNECTED);
  NS_CStringSetData(&msg, "", 0);
  ck_assert_uint_eq(nsIWebSocketChannel_SendMsg(ch, &msg),
                    NS_ERROR_NOT_CONNECTED);
  ck_assert_uint_eq(nsIWebSocketChannel_SendBinaryMsg(ch, &msg),
                    NS_ERROR_NOT_CONNECTED);
  NS_CStringContainerFinish(&msg);
  NS_RELEASE(ch);
}
END_TEST

/* ---- nsIProtocolHandler ------------------------------------------------- */

START_TEST(test_protocol_handler) {
  const char *contracts[] = {WS_CHANNEL_WS_CONTRACTID,
                             WS_CHANNEL_WSS_CONTRACTID};
  const char *schemes[] = {"ws", "wss"};
  const int32_t ports[] = {80, 443};
  const uint32_t flags =
      nsIProtocolHandler_URI_NORELATIVE | nsIProtocolHandler_URI_NON_PERSISTABLE |
      nsIProtocolHandler_ALLOWS_PROXY | nsIProtocolHandler_ALLOWS_PROXY_HTTP |
      nsIProtocolHandler_URI_DOES_NOT_RETURN_DATA |
      nsIProtocolHandler_URI_DANGEROUS_TO_LOAD;
  /* Gecko's values: 1|16384|4|8|2048|128. */
  ck_assert_uint_eq(flags, 0x488du);

  for (int i = 0; i < 2; i++) {
    nsIProtocolHandler *ph = create(contracts[i], &nsIProtocolHandler_IID);
    nsCStringContainer s;
    NS_CStringContainerInit(&s);
    ck_assert_uint_eq(nsIProtocolHandler_GetScheme(ph, &s), NS_OK);
    ck_assert(xpcom_cstring_equals(&s, schemes[i], strlen(schemes[i])));

    int32_t port = -1;
    ck_assert_uint_eq(nsIProtocolHandler_GetDefaultPort(ph, &port), NS_OK);
    ck_assert_int_eq(port, ports[i]);

    uint32_t f = 0;
    ck_assert_uint_eq(nsIProtocolHandler_GetProtocolFlags(ph, &f), NS_OK);
    ck_assert_uint_eq(f, flags);

    bool allow = true;
    ck_assert_uint_eq(nsIProtocolHandler_AllowPort(ph, 25, "ws", &allow),
                      NS_OK);
    ck_assert(!allow);
    allow = true;
    ck_assert_uint_eq(nsIProtocolHandler_AllowPort(ph, 80, schemes[i], &allow),
                      NS_OK);
    ck_assert(!allow);

    /* newURI: NS_NewURI, with the scheme's default port dropped and
     * relative specs resolved against the base. */
    nsIURI *uri = GARBAGE;
    const char *spec = i ? "WSS://Example.COM:443/chat?x#f"
                         : "ws://example.com:80/a/../chat";
    const char *want = i ? "wss://example.com/chat?x#f"
                         : "ws://example.com/chat";
    NS_CStringSetData(&s, spec, UINT32_MAX);
    ck_assert_uint_eq(nsIProtocolHandler_NewURI(ph, &s, NULL, NULL, &uri),
                      NS_OK);
    ck_assert_ptr_nonnull(uri);
    ck_assert_ptr_ne(uri, GARBAGE);
    nsCStringContainer got;
    NS_CStringContainerInit(&got);
    ck_assert_uint_eq(nsIURI_GetSpec(uri, &got), NS_OK);
    ck_assert_msg(xpcom_cstring_equals(&got, want, strlen(want)),
                  "spec %s", want);
    nsIURI *rel = GARBAGE;
    NS_CStringSetData(&s, "other?q=1", UINT32_MAX);
    ck_assert_uint_eq(nsIProtocolHandler_NewURI(ph, &s, "UTF-8", uri, &rel),
                      NS_OK);
    ck_assert_uint_eq(nsIURI_GetSpec(rel, &got), NS_OK);
    want = i ? "wss://example.com/other?q=1" : "ws://example.com/other?q=1";
    ck_assert(xpcom_cstring_equals(&got, want, strlen(want)));
    NS_RELEASE(rel);
    NS_RELEASE(uri);
    /* Malformed: NS_ERROR_MALFORMED_URI, out pointer nulled. */
    uri = GARBAGE;
    NS_CStringSetData(&s, "ws://[::1/", UINT32_MAX);
    ck_assert_uint_eq(nsIProtocolHandler_NewURI(ph, &s, NULL, NULL, &uri),
                      NS_ERROR_MALFORMED_URI);
    ck_assert_ptr_null(uri);
    uri = GARBAGE;
    ck_assert_uint_eq(nsIProtocolHandler_NewURI(ph, NULL, NULL, NULL, &uri),
                      NS_ERROR_NULL_POINTER);
    ck_assert_ptr_null(uri);
    NS_CStringContainerFinish(&got);

    nsIChannel *chan = GARBAGE;
    ck_assert_uint_eq(nsIProtocolHandler_NewChannel(ph, NULL, &chan),
                      NS_ERROR_NOT_IMPLEMENTED);
    ck_assert_ptr_null(chan);
    chan = GARBAGE;
    ck_assert_uint_eq(nsIProtocolHandler_NewChannel2(ph, NULL, NULL, &chan),
                      NS_ERROR_NOT_IMPLEMENTED);
    ck_assert_ptr_null(chan);

    NS_CStringContainerFinish(&s);
    NS_RELEASE(ph);
  }
}
END_TEST

/* ---- the IO service the module registers -------------------------------- */

START_TEST(test_io_service_registered) {
  nsIIOService *io = GARBAGE, *again = NULL;
  ck_assert_uint_eq(nsIServiceManager_GetServiceByContractID(
                        g_sm, "@mozilla.org/network/io-service;1",
                        &nsIIOService_IID, (void **)&io),
                    NS_OK);
  ck_assert_ptr_nonnull(io);
  ck_assert_uint_eq(nsIServiceManager_GetService(g_sm, &kIOServiceCID,
                                                 &nsIIOService_IID,
                                                 (void **)&again),
                    NS_OK);
  ck_assert_ptr_eq(io, again); /* one service instance */
  /* newURI for ws asks no handler; getProtocolHandler("ws") finds ours. */
  nsIProtocolHandler *ph = NULL;
  ck_assert_uint_eq(nsIIOService_GetProtocolHandler(io, "ws", &ph), NS_OK);
  int32_t port = 0;
  ck_assert_uint_eq(nsIProtocolHandler_GetDefaultPort(ph, &port), NS_OK);
  ck_assert_int_eq(port, 80);
  nsCStringContainer s;
  NS_CStringContainerInit2(&s, "ws://127.0.0.1:8080/x", UINT32_MAX, 0);
  nsIURI *uri = NULL;
  ck_assert_uint_eq(nsIIOService_NewURI(io, &s, NULL, NULL, &uri), NS_OK);
  ck_assert_ptr_nonnull(uri);
  NS_RELEASE(uri);
  NS_CStringContainerFinish(&s);
  NS_RELEASE(ph);
  NS_RELEASE(again);
  NS_RELEASE(io);
}
END_TEST

/* ---- the exported module descriptor ------------------------------------- */

/* The module the build-tree manifest names: .libs/ beside the manifest. */
static char *module_path(void) {
  const char *manifest = getenv("WSCHANNEL_MANIFEST");
  if (!manifest || !*manifest)
    return NULL;
  const char *end = strchr(manifest, ':');
  size_t len = end ? (size_t)(end - manifest) : strlen(manifest);
  const char *slash = memrchr(manifest, '/', len);
  size_t dir = slash ? (size_t)(slash - manifest) + 1 : 0;
  static const char tail[] = ".libs/libwschannel_component.so";
  char *path = malloc(dir + sizeof tail);
  ck_assert_ptr_nonnull(path);
  memcpy(path, manifest, dir);
  memcpy(path + dir, tail, sizeof tail);
  return path;
}

START_TEST(test_nsmodule_descriptor) {
  char *path = module_path();
  if (!path)
    return; /* not run from make check: nothing to find the module by */
  PRLibrary *lib = PR_LoadLibrary(path);
  ck_assert_msg(lib != NULL, "cannot load %s", path);
  free(path);
  const xpcom_module *const *sym = PR_FindSymbol(lib, "NSModule");
  ck_assert_ptr_nonnull(sym);
  const xpcom_module *m = *sym;
  ck_assert_uint_eq(m->mVersion, XPCOM_MODULE_VERSION);
  ck_assert_uint_eq(m->mVersion, 52);

  ck_assert_ptr_nonnull(m->mCIDs);
  ck_assert(memcmp(m->mCIDs[0].cid, &kWsCID, sizeof kWsCID) == 0);
  ck_assert(memcmp(m->mCIDs[1].cid, &kWssCID, sizeof kWssCID) == 0);
  ck_assert(memcmp(m->mCIDs[2].cid, &kIOServiceCID, sizeof kIOServiceCID) ==
            0);
  ck_assert(m->mCIDs[2].service);
  ck_assert_ptr_null(m->mCIDs[3].cid);
  ck_assert_ptr_nonnull(m->mContractIDs);
  ck_assert_str_eq(m->mContractIDs[0].contractid,
                   "@mozilla.org/network/protocol;1?name=ws");
  ck_assert(memcmp(m->mContractIDs[0].cid, &kWsCID, sizeof kWsCID) == 0);
  ck_assert_str_eq(m->mContractIDs[1].contractid,
                   "@mozilla.org/network/protocol;1?name=wss");
  ck_assert(memcmp(m->mContractIDs[1].cid, &kWssCID, sizeof kWssCID) == 0);
  ck_assert_str_eq(m->mContractIDs[2].contractid,
                   "@mozilla.org/network/io-service;1");
  ck_assert(memcmp(m->mContractIDs[2].cid, &kIOServiceCID,
                   sizeof kIOServiceCID) == 0);
  ck_assert_ptr_null(m->mContractIDs[3].contractid);

  /* The constructors themselves refuse aggregation (a Gecko loader would
   * call them without our component manager's check in front). */
  fake outer;
  fake_init(&outer, &nsISupports_IID);
  for (int i = 0; i < 2; i++) {
    ck_assert_ptr_null(m->mCIDs[i].getFactoryProc);
    ck_assert_ptr_nonnull(m->mCIDs[i].constructorProc);
    void *p = GARBAGE;
    ck_assert_uint_eq(
        m->mCIDs[i].constructorProc(&outer.iface, &nsISupports_IID, &p),
        NS_ERROR_NO_AGGREGATION);
    ck_assert_ptr_null(p);
    p = GARBAGE;
    ck_assert_uint_eq(m->mCIDs[i].constructorProc(NULL, &nsIURI_IID, &p),
                      NS_NOINTERFACE);
    ck_assert_ptr_null(p);
    ck_assert_uint_eq(
        m->mCIDs[i].constructorProc(NULL, &nsIWebSocketChannel_IID, &p),
        NS_OK);
    ck_assert_ptr_nonnull(p);
    NS_RELEASE(p);
  }
  ck_assert_uint_eq(outer.refs, 1);
  PR_UnloadLibrary(lib);
}
END_TEST

/* ---- suite -------------------------------------------------------------- */

static Suite *channel_suite(void) {
  Suite *s = suite_create("component");
  TCase *tc = tcase_create("channel");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_create_by_contract);
  tcase_add_test(tc, test_create_by_cid);
  tcase_add_test(tc, test_unknown_contract);
  tcase_add_test(tc, test_aggregation_refused);
  tcase_add_test(tc, test_qi_identity);
  tcase_add_test(tc, test_qi_failure);
  tcase_add_test(tc, test_refcount);
  tcase_add_test(tc, test_uri_attributes_null_before_open);
  tcase_add_test(tc, test_null_out_pointers);
  tcase_add_test(tc, test_extensions_empty);
  tcase_add_test(tc, test_protocol_round_trip);
  tcase_add_test(tc, test_notification_callbacks);
  tcase_add_test(tc, test_load_group);
  tcase_add_test(tc, test_async_open_arguments);
  tcase_add_test(tc, test_async_open_bad_uris);
  tcase_add_test(tc, test_offline);
  tcase_add_test(tc, test_close_before_open);
  tcase_add_test(tc, test_send_checks);
  tcase_add_test(tc, test_max_connections);
  tcase_add_test(tc, test_open_timeout_clamped);
  tcase_add_test(tc, test_close);
  tcase_add_test(tc, test_send);
  tcase_add_test(tc, test_protocol_handler);
  tcase_add_test(tc, test_io_service_registered);
  tcase_add_test(tc, test_nsmodule_descriptor);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(channel_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

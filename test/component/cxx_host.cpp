// cxx_host.cpp — a C++ host that uses the WebSocket channel component the
// way Gecko code would: through the published headers only (nscore.h,
// nsXPCOM.h, nsXPCOMStrings.h, nsError.h and the headers generated from
// the IDL), with C++ virtual calls into an object that happens to be
// written in C.
//
// It boots XPCOM with NS_InitXPCOM2(&sm, nullptr, nullptr), creates both
// contracts and one class by CID, checks QueryInterface identity and
// failure, every attribute of nsIWebSocketChannel and nsIProtocolHandler,
// the protocol round-trip through the frozen string API, the results of
// the methods that need the network, the unknown-contract error, and
// shuts down. It exits 0 only when every check passed and XPCOM's leak
// report (XPCOM_MEM_LEAK_LOG, written to a temporary file) says there is
// no leak.
//
// Built twice: in-tree by make check, and against an installed prefix
// with pkg-config by test/component/install-test.sh.

#include "nsError.h"
#include "nsXPCOM.h"
#include "nsXPCOMStrings.h"
#include "nscore.h"

#include "nsIComponentManager.h"
#include "nsIInterfaceRequestor.h"
#include "nsIProtocolHandler.h"
#include "nsIServiceManager.h"
#include "nsIURI.h"
#include "nsIWebSocketChannel.h"
#include "nsIWebSocketListener.h"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>

namespace {

int g_failures = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__,    \
                   #cond);                                                     \
      ++g_failures;                                                            \
    }                                                                          \
  } while (0)

#define CHECK_RV(expr, expected)                                               \
  do {                                                                         \
    nsresult rv_ = (expr);                                                     \
    if (rv_ != (expected)) {                                                   \
      std::fprintf(stderr, "%s:%d: %s returned 0x%08" PRIx32                   \
                           ", expected 0x%08" PRIx32 "\n",                     \
                   __FILE__, __LINE__, #expr, rv_, (nsresult)(expected));      \
      ++g_failures;                                                            \
    }                                                                          \
  } while (0)

// CIDs and contracts as Gecko's nsNetCID.h gives them.
const nsCID kWsCID = {0xdc01db59, 0xa513, 0x4c90,
                      {0x82, 0x4b, 0x08, 0x5c, 0xce, 0x06, 0xc0, 0xaa}};
const nsCID kWssCID = {0xdc01dbbb, 0xa5bb, 0x4cbb,
                       {0x82, 0xbb, 0x08, 0x5c, 0xce, 0x06, 0xc0, 0xbb}};
const char kWsContract[] = "@mozilla.org/network/protocol;1?name=ws";
const char kWssContract[] = "@mozilla.org/network/protocol;1?name=wss";

void *const kGarbage = reinterpret_cast<void *>(uintptr_t{0x5a5a5a5a});

// A frozen-API string on the stack, released on scope exit.
class CString {
 public:
  CString() { NS_CStringContainerInit(c_); }
  explicit CString(const char *s) {
    NS_CStringContainerInit2(c_, s, UINT32_MAX, 0);
  }
  ~CString() { NS_CStringContainerFinish(c_); }
  CString(const CString &) = delete;
  CString &operator=(const CString &) = delete;
  nsACString &get() { return c_; }
  std::string str() const {
    const char *data = nullptr;
    uint32_t len = NS_CStringGetData(c_, &data);
    return std::string(data, len);
  }

 private:
  nsCStringContainer c_;
};

bool SameID(const nsID &a, const nsID &b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

// An nsIInterfaceRequestor written in C++, stored by the C channel.
class Callbacks final : public nsIInterfaceRequestor {
 public:
  NS_IMETHOD QueryInterface(const nsIID &aIID, void **aResult) override {
    if (SameID(aIID, NS_GET_IID(nsISupports)) ||
        SameID(aIID, NS_GET_IID(nsIInterfaceRequestor))) {
      AddRef();
      *aResult = static_cast<nsIInterfaceRequestor *>(this);
      return NS_OK;
    }
    *aResult = nullptr;
    return NS_NOINTERFACE;
  }
  NS_IMETHOD_(nsrefcnt) AddRef() override { return ++refs; }
  NS_IMETHOD_(nsrefcnt) Release() override { return --refs; }
  NS_IMETHOD GetInterface(const nsIID &aIID, void **aResult) override {
    return QueryInterface(aIID, aResult);
  }
  nsrefcnt refs = 1;  // the test's own reference, never dropped
};

// A listener written in C++; none of its methods may be called here.
class Listener final : public nsIWebSocketListener {
 public:
  NS_IMETHOD QueryInterface(const nsIID &aIID, void **aResult) override {
    if (SameID(aIID, NS_GET_IID(nsISupports)) ||
        SameID(aIID, NS_GET_IID(nsIWebSocketListener))) {
      AddRef();
      *aResult = static_cast<nsIWebSocketListener *>(this);
      return NS_OK;
    }
    *aResult = nullptr;
    return NS_NOINTERFACE;
  }
  NS_IMETHOD_(nsrefcnt) AddRef() override { return ++refs; }
  NS_IMETHOD_(nsrefcnt) Release() override { return --refs; }
  NS_IMETHOD OnStart(nsISupports *) override { return Called(); }
  NS_IMETHOD OnStop(nsISupports *, nsresult) override { return Called(); }
  NS_IMETHOD OnMessageAvailable(nsISupports *, const nsACString &) override {
    return Called();
  }
  NS_IMETHOD OnBinaryMessageAvailable(nsISupports *,
                                      const nsACString &) override {
    return Called();
  }
  NS_IMETHOD OnAcknowledge(nsISupports *, uint32_t) override {
    return Called();
  }
  NS_IMETHOD OnServerClose(nsISupports *, uint16_t,
                           const nsACString &) override {
    return Called();
  }
  nsrefcnt refs = 1;
  int calls = 0;

 private:
  nsresult Called() {
    ++calls;
    return NS_OK;
  }
};

nsIWebSocketChannel *Create(nsIComponentManager *cm, const char *contract) {
  void *p = kGarbage;
  CHECK_RV(cm->CreateInstanceByContractID(
               contract, nullptr, NS_GET_IID(nsIWebSocketChannel), &p),
           NS_OK);
  CHECK(p != nullptr && p != kGarbage);
  return p == kGarbage ? nullptr : static_cast<nsIWebSocketChannel *>(p);
}

void TestIdentity(nsIWebSocketChannel *ch) {
  nsIProtocolHandler *ph = nullptr;
  nsISupports *id1 = nullptr, *id2 = nullptr;
  nsIWebSocketChannel *back = nullptr;
  CHECK_RV(ch->QueryInterface(NS_GET_IID(nsIProtocolHandler),
                              reinterpret_cast<void **>(&ph)),
           NS_OK);
  CHECK(ph != nullptr);
  if (!ph)
    return;
  CHECK(static_cast<void *>(ph) != static_cast<void *>(ch));
  CHECK_RV(ch->QueryInterface(NS_GET_IID(nsISupports),
                              reinterpret_cast<void **>(&id1)),
           NS_OK);
  CHECK_RV(ph->QueryInterface(NS_GET_IID(nsISupports),
                              reinterpret_cast<void **>(&id2)),
           NS_OK);
  CHECK(id1 != nullptr && id1 == id2);
  CHECK(static_cast<void *>(id1) == static_cast<void *>(ch));
  CHECK_RV(ph->QueryInterface(NS_GET_IID(nsIWebSocketChannel),
                              reinterpret_cast<void **>(&back)),
           NS_OK);
  CHECK(back == ch);

  // Anything else: NS_NOINTERFACE with the out pointer nulled.
  const nsIID *others[] = {&NS_GET_IID(nsIURI),
                           &NS_GET_IID(nsIWebSocketListener),
                           &NS_GET_IID(nsIInterfaceRequestor),
                           &NS_GET_IID(nsIComponentManager)};
  for (const nsIID *iid : others) {
    void *p = kGarbage;
    CHECK_RV(ch->QueryInterface(*iid, &p), NS_NOINTERFACE);
    CHECK(p == nullptr);
    p = kGarbage;
    CHECK_RV(ph->QueryInterface(*iid, &p), NS_NOINTERFACE);
    CHECK(p == nullptr);
  }
  CHECK(NS_NOINTERFACE == 0x80004002u);

  // One reference count behind both interfaces.
  CHECK(ch->AddRef() == 6);
  CHECK(ph->Release() == 5);
  if (back)
    back->Release();
  if (id2)
    id2->Release();
  if (id1)
    id1->Release();
  CHECK(ph->Release() == 1);
}

void TestAttributes(nsIWebSocketChannel *ch) {
  nsIURI *uri = static_cast<nsIURI *>(kGarbage);
  CHECK_RV(ch->GetOriginalURI(&uri), NS_OK);
  CHECK(uri == nullptr);
  uri = static_cast<nsIURI *>(kGarbage);
  CHECK_RV(ch->GetURI(&uri), NS_OK);
  CHECK(uri == nullptr);
  nsISupports *sec = static_cast<nsISupports *>(kGarbage);
  CHECK_RV(ch->GetSecurityInfo(&sec), NS_OK);
  CHECK(sec == nullptr);
  CHECK_RV(ch->GetOriginalURI(nullptr), NS_ERROR_NULL_POINTER);

  CString ext("stale");
  CHECK_RV(ch->GetExtensions(ext.get()), NS_OK);
  CHECK(ext.str().empty());

  // notificationCallbacks holds a reference to what it is given.
  Callbacks cb;
  nsIInterfaceRequestor *got = static_cast<nsIInterfaceRequestor *>(kGarbage);
  CHECK_RV(ch->GetNotificationCallbacks(&got), NS_OK);
  CHECK(got == nullptr);
  CHECK_RV(ch->SetNotificationCallbacks(&cb), NS_OK);
  CHECK(cb.refs == 2);
  CHECK_RV(ch->GetNotificationCallbacks(&got), NS_OK);
  CHECK(got == &cb);
  CHECK(cb.refs == 3);
  if (got == &cb)
    got->Release();
  CHECK_RV(ch->SetNotificationCallbacks(nullptr), NS_OK);
  CHECK(cb.refs == 1);

  // loadGroup: null until set; setting null keeps it null.
  nsILoadGroup *lg = static_cast<nsILoadGroup *>(kGarbage);
  CHECK_RV(ch->GetLoadGroup(&lg), NS_OK);
  CHECK(lg == nullptr);
  CHECK_RV(ch->SetLoadGroup(nullptr), NS_OK);
  lg = static_cast<nsILoadGroup *>(kGarbage);
  CHECK_RV(ch->GetLoadGroup(&lg), NS_OK);
  CHECK(lg == nullptr);

  // protocol round-trips through the frozen string API, as a copy.
  CString out;
  CHECK_RV(ch->GetProtocol(out.get()), NS_OK);
  CHECK(out.str().empty());
  {
    nsCStringContainer in;
    CHECK_RV(NS_CStringContainerInit(in), NS_OK);
    CHECK_RV(NS_CStringSetData(in, "chat, superchat"), NS_OK);
    CHECK_RV(ch->SetProtocol(in), NS_OK);
    CHECK_RV(NS_CStringSetData(in, "changed afterwards", 18), NS_OK);
    NS_CStringContainerFinish(in);
  }
  CHECK_RV(ch->GetProtocol(out.get()), NS_OK);
  const char *data = nullptr;
  bool terminated = false;
  uint32_t len = NS_CStringGetData(out.get(), &data, &terminated);
  CHECK(len == 15 && std::memcmp(data, "chat, superchat", 15) == 0);
  CHECK(terminated);
}

void TestMethods(nsIWebSocketChannel *ch) {
  Listener listener;
  CString origin("http://example.com");
  // Gecko: a missing URI (or listener) is NS_ERROR_UNEXPECTED.
  CHECK_RV(ch->AsyncOpen(nullptr, origin.get(), &listener, nullptr),
           NS_ERROR_UNEXPECTED);
  CHECK_RV(ch->AsyncOpen(nullptr, origin.get(), nullptr, nullptr),
           NS_ERROR_UNEXPECTED);
  CHECK(listener.refs == 1 && listener.calls == 0);

  std::string long_reason(124, 'x');
  CString reason(long_reason.c_str());
  CHECK_RV(ch->Close(nsIWebSocketChannel::CLOSE_NORMAL, reason.get()),
           NS_ERROR_ILLEGAL_VALUE);
  CHECK_RV(NS_CStringSetData(reason.get(), long_reason.data(), 123), NS_OK);
  CHECK_RV(ch->Close(nsIWebSocketChannel::CLOSE_NORMAL, reason.get()),
           NS_ERROR_NOT_CONNECTED);

  CString msg("hello");
  CHECK_RV(ch->SendMsg(msg.get()), NS_ERROR_NOT_CONNECTED);
  CHECK_RV(ch->SendBinaryMsg(msg.get()), NS_ERROR_NOT_CONNECTED);
  CHECK(NS_ERROR_NOT_CONNECTED == 0x804B000Cu);
}

void TestHandler(nsIWebSocketChannel *ch, const char *scheme, int32_t port) {
  nsIProtocolHandler *ph = nullptr;
  CHECK_RV(ch->QueryInterface(NS_GET_IID(nsIProtocolHandler),
                              reinterpret_cast<void **>(&ph)),
           NS_OK);
  if (!ph)
    return;
  CString s;
  CHECK_RV(ph->GetScheme(s.get()), NS_OK);
  CHECK(s.str() == scheme);
  int32_t p = -1;
  CHECK_RV(ph->GetDefaultPort(&p), NS_OK);
  CHECK(p == port);
  uint32_t flags = 0;
  CHECK_RV(ph->GetProtocolFlags(&flags), NS_OK);
  CHECK(flags == (nsIProtocolHandler::URI_NORELATIVE |
                  nsIProtocolHandler::URI_NON_PERSISTABLE |
                  nsIProtocolHandler::ALLOWS_PROXY |
                  nsIProtocolHandler::ALLOWS_PROXY_HTTP |
                  nsIProtocolHandler::URI_DOES_NOT_RETURN_DATA |
                  nsIProtocolHandler::URI_DANGEROUS_TO_LOAD));
  bool allow = true;
  CHECK_RV(ph->AllowPort(25, scheme, &allow), NS_OK);
  CHECK(!allow);
  // newURI makes our nsIURI (NS_NewURI): a virtual call back into C.
  nsIURI *uri = static_cast<nsIURI *>(kGarbage);
  CString spec("WS://Example.com:80/a/../b");
  CHECK_RV(ph->NewURI(spec.get(), nullptr, nullptr, &uri), NS_OK);
  CHECK(uri != nullptr && uri != kGarbage);
  if (uri && uri != kGarbage) {
    CString got;
    CHECK_RV(uri->GetSpec(got.get()), NS_OK);
    CHECK(got.str() == "ws://example.com/b");
    uri->Release();
  }
  uri = static_cast<nsIURI *>(kGarbage);
  CString bad("ws://[::1/");
  CHECK_RV(ph->NewURI(bad.get(), nullptr, nullptr, &uri),
           NS_ERROR_MALFORMED_URI);
  CHECK(uri == nullptr);
  ph->Release();
}

// Points XPCOM_MEM_LEAK_LOG at a fresh temporary file, so that the report
// NS_ShutdownXPCOM writes can be read back.
std::string PrepareLeakLog() {
  char path[] = "/tmp/cxx_host_leaks_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) {
    std::perror("mkstemp");
    std::exit(2);
  }
  close(fd);
  setenv("XPCOM_MEM_LEAK_LOG", path, 1);
  return path;
}

// True when the report says "no leaks"; echoes it to stderr either way.
bool LeakReportClean(const std::string &path) {
  FILE *f = std::fopen(path.c_str(), "r");
  if (!f) {
    std::fprintf(stderr, "cxx_host: no leak report in %s\n", path.c_str());
    return false;
  }
  std::string report;
  char buf[512];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
    report.append(buf, n);
  std::fclose(f);
  std::remove(path.c_str());
  std::fputs(report.c_str(), stderr);
  return report.find("TEST-PASS | leakcheck") != std::string::npos &&
         report.find("TEST-UNEXPECTED-FAIL") == std::string::npos;
}

}  // namespace

int main() {
  std::string leak_log = PrepareLeakLog();

  nsIServiceManager *sm = nullptr;
  nsresult rv = NS_InitXPCOM2(&sm, nullptr, nullptr);
  if (rv != NS_OK || !sm) {
    std::fprintf(stderr, "NS_InitXPCOM2 failed: 0x%08" PRIx32 "\n", rv);
    return 1;
  }
  nsIComponentManager *cm = nullptr;
  CHECK_RV(NS_GetComponentManager(&cm), NS_OK);
  if (!cm)
    return 1;

  nsIWebSocketChannel *ws = Create(cm, kWsContract);
  nsIWebSocketChannel *wss = Create(cm, kWssContract);
  CHECK(ws != wss);
  if (ws) {
    TestIdentity(ws);
    TestAttributes(ws);
    TestMethods(ws);
    TestHandler(ws, "ws", 80);
  }
  if (wss) {
    TestIdentity(wss);
    TestHandler(wss, "wss", 443);
  }

  // By CID.
  nsIProtocolHandler *ph = nullptr;
  CHECK_RV(cm->CreateInstance(kWssCID, nullptr, NS_GET_IID(nsIProtocolHandler),
                              reinterpret_cast<void **>(&ph)),
           NS_OK);
  if (ph) {
    int32_t port = 0;
    CHECK_RV(ph->GetDefaultPort(&port), NS_OK);
    CHECK(port == 443);
    ph->Release();
  }
  nsIWebSocketChannel *byCid = nullptr;
  CHECK_RV(cm->CreateInstance(kWsCID, nullptr, NS_GET_IID(nsIWebSocketChannel),
                              reinterpret_cast<void **>(&byCid)),
           NS_OK);
  if (byCid)
    TestHandler(byCid, "ws", 80);

  // Unknown contract: NS_ERROR_FACTORY_NOT_REGISTERED, out pointer nulled.
  void *p = kGarbage;
  rv = cm->CreateInstanceByContractID("@mozilla.org/network/protocol;1?name=wsx",
                                      nullptr, NS_GET_IID(nsISupports), &p);
  CHECK(rv == 0x80040154u);
  CHECK(p == nullptr);

  // Aggregation is refused.
  Callbacks outer;
  p = kGarbage;
  CHECK_RV(cm->CreateInstanceByContractID(kWsContract, &outer,
                                          NS_GET_IID(nsISupports), &p),
           NS_ERROR_NO_AGGREGATION);
  CHECK(p == nullptr);
  CHECK(outer.refs == 1);

  if (byCid)
    CHECK(byCid->Release() == 0);
  if (wss)
    CHECK(wss->Release() == 0);
  if (ws)
    CHECK(ws->Release() == 0);
  cm->Release();
  CHECK_RV(NS_ShutdownXPCOM(sm), NS_OK);

  bool clean = LeakReportClean(leak_log);
  CHECK(clean);
  if (g_failures) {
    std::fprintf(stderr, "cxx_host: %d check(s) failed\n", g_failures);
    return 1;
  }
  std::printf("cxx_host: all checks passed, no leaks\n");
  return 0;
}

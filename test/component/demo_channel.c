/*
 * demo_channel.c — the interim demo: boots XPCOM, creates the ws and wss
 * channels by contract ID, and prints what they report through their
 * interfaces (nsIWebSocketChannel and nsIProtocolHandler), including what
 * the methods that need the network answer until the ws:// issue lands.
 *
 * Usage: demo_channel [PROTOCOL]   (PROTOCOL is offered as the protocol
 * attribute and read back; default "chat"). Exits 0 when everything
 * behaved as documented and nothing leaked.
 *
 * The component is found like any host finds it: beside the installed
 * library, or through WSCHANNEL_MANIFEST (build/demo sets it to the build
 * tree's manifest).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsError.h"
#include "nsID.h"
#include "nsXPCOM.h"
#include "nsXPCOMStrings.h"
#include "xpcom_object.h"

#include "nsIComponentManager.h"
#include "nsIProtocolHandler.h"
#include "nsIServiceManager.h"
#include "nsIURI.h"
#include "nsIWebSocketChannel.h"

static int g_problems;

static const char *rv_text(nsresult rv) {
  static char buf[XPCOM_ERROR_FORMAT_MAX];
  XPCOM_FormatError(rv, buf, sizeof buf);
  return buf;
}

/* Prints "name: result" and counts a result other than the documented. */
static void report(const char *what, nsresult rv, nsresult expected) {
  printf("    %-28s %s%s\n", what, rv_text(rv),
         rv == expected ? "" : "   <-- unexpected");
  if (rv != expected)
    g_problems++;
}

static void print_flags(uint32_t flags) {
  static const struct {
    uint32_t bit;
    const char *name;
  } names[] = {
      {nsIProtocolHandler_URI_NORELATIVE, "URI_NORELATIVE"},
      {nsIProtocolHandler_ALLOWS_PROXY, "ALLOWS_PROXY"},
      {nsIProtocolHandler_ALLOWS_PROXY_HTTP, "ALLOWS_PROXY_HTTP"},
      {nsIProtocolHandler_URI_DANGEROUS_TO_LOAD, "URI_DANGEROUS_TO_LOAD"},
      {nsIProtocolHandler_URI_DOES_NOT_RETURN_DATA, "URI_DOES_NOT_RETURN_DATA"},
      {nsIProtocolHandler_URI_NON_PERSISTABLE, "URI_NON_PERSISTABLE"},
  };
  printf("    %-28s 0x%04x", "protocolFlags", (unsigned)flags);
  const char *sep = " (";
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (flags & names[i].bit) {
      printf("%s%s", sep, names[i].name);
      sep = "|";
    }
  }
  printf("%s\n", *sep == '|' ? ")" : "");
}

static void print_string(const char *what, const nsACString *s) {
  const char *data;
  uint32_t len = NS_CStringGetData(s, &data, NULL);
  printf("    %-28s \"%.*s\"\n", what, (int)len, data);
}

static void print_iface(const char *what, nsresult rv, void *p) {
  if (NS_FAILED(rv))
    g_problems++;
  printf("    %-28s %s\n", what,
         NS_FAILED(rv) ? rv_text(rv) : p ? "(object)" : "null");
  if (p)
    xpcom_release(p);
}

static void show(nsIComponentManager *cm, const char *contract,
                 const char *protocol) {
  nsIWebSocketChannel *ch = NULL;
  nsresult rv = nsIComponentManager_CreateInstanceByContractID(
      cm, contract, NULL, &nsIWebSocketChannel_IID, (void **)&ch);
  printf("%s\n", contract);
  if (NS_FAILED(rv)) {
    printf("    createInstance failed: %s\n", rv_text(rv));
    g_problems++;
    return;
  }

  nsIProtocolHandler *ph = NULL;
  rv = xpcom_query_interface(ch, &nsIProtocolHandler_IID, (void **)&ph);
  if (NS_SUCCEEDED(rv)) {
    nsCStringContainer scheme;
    NS_CStringContainerInit(&scheme);
    nsIProtocolHandler_GetScheme(ph, &scheme);
    print_string("scheme", &scheme);
    NS_CStringContainerFinish(&scheme);
    int32_t port = 0;
    nsIProtocolHandler_GetDefaultPort(ph, &port);
    printf("    %-28s %d\n", "defaultPort", (int)port);
    uint32_t flags = 0;
    nsIProtocolHandler_GetProtocolFlags(ph, &flags);
    print_flags(flags);
    NS_RELEASE(ph);
  } else {
    report("QI(nsIProtocolHandler)", rv, NS_OK);
  }

  void *p = NULL;
  rv = nsIWebSocketChannel_GetOriginalURI(ch, (nsIURI **)&p);
  print_iface("originalURI", rv, p);
  p = NULL;
  rv = nsIWebSocketChannel_GetURI(ch, (nsIURI **)&p);
  print_iface("URI", rv, p);
  p = NULL;
  rv = nsIWebSocketChannel_GetSecurityInfo(ch, (nsISupports **)&p);
  print_iface("securityInfo", rv, p);
  p = NULL;
  rv = nsIWebSocketChannel_GetNotificationCallbacks(
      ch, (nsIInterfaceRequestor **)&p);
  print_iface("notificationCallbacks", rv, p);
  p = NULL;
  rv = nsIWebSocketChannel_GetLoadGroup(ch, (nsILoadGroup **)&p);
  print_iface("loadGroup", rv, p);

  nsCStringContainer s;
  NS_CStringContainerInit(&s);
  nsIWebSocketChannel_GetExtensions(ch, &s);
  print_string("extensions", &s);
  nsIWebSocketChannel_GetProtocol(ch, &s);
  print_string("protocol", &s);
  NS_CStringSetData(&s, protocol, UINT32_MAX);
  report("protocol = ...", nsIWebSocketChannel_SetProtocol(ch, &s), NS_OK);
  NS_CStringSetData(&s, "", 0);
  nsIWebSocketChannel_GetProtocol(ch, &s);
  print_string("protocol (read back)", &s);
  if (!xpcom_cstring_equals(&s, protocol, strlen(protocol)))
    g_problems++;

  /* What a channel that was never opened answers. */
  report("asyncOpen(null, ...)",
         nsIWebSocketChannel_AsyncOpen(ch, NULL, &s, NULL, NULL),
         NS_ERROR_UNEXPECTED);
  NS_CStringSetData(&s, "bye", 3);
  report("close(1000, \"bye\")",
         nsIWebSocketChannel_Close(ch, nsIWebSocketChannel_CLOSE_NORMAL, &s),
         NS_ERROR_NOT_CONNECTED);
  report("sendMsg(\"bye\")", nsIWebSocketChannel_SendMsg(ch, &s),
         NS_ERROR_NOT_CONNECTED);
  NS_CStringContainerFinish(&s);
  NS_RELEASE(ch);
}

int main(int argc, char **argv) {
  const char *protocol = argc > 1 ? argv[1] : "chat";
  nsIServiceManager *sm = NULL;
  nsresult rv = NS_InitXPCOM2(&sm, NULL, NULL);
  if (NS_FAILED(rv)) {
    fprintf(stderr, "demo_channel: NS_InitXPCOM2: %s\n", rv_text(rv));
    return 1;
  }
  nsIComponentManager *cm = NULL;
  rv = NS_GetComponentManager(&cm);
  if (NS_FAILED(rv)) {
    fprintf(stderr, "demo_channel: NS_GetComponentManager: %s\n", rv_text(rv));
    NS_ShutdownXPCOM(sm);
    return 1;
  }

  printf("wschannel: the WebSocket channel component through XPCOM\n\n");
  show(cm, "@mozilla.org/network/protocol;1?name=ws", protocol);
  printf("\n");
  show(cm, "@mozilla.org/network/protocol;1?name=wss", protocol);
  printf("\n(for real traffic: bin/wschannel cat ws://HOST:PORT/PATH)\n");

  NS_RELEASE(cm);
  NS_ShutdownXPCOM(sm);
  uint64_t leaked = XPCOM_LeakLiveCount();
  if (leaked) {
    fprintf(stderr, "demo_channel: %llu objects leaked\n",
            (unsigned long long)leaked);
    g_problems++;
  }
  return g_problems ? 1 : 0;
}

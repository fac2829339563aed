/*
 * ws_module.c — the binary component module of the WebSocket channel: the
 * exported `NSModule` descriptor (Gecko 52 mozilla::Module layout, see
 * xpcom_module.h) registering the ws and wss channel classes and the IO
 * service (nsIIOService, implemented in libwschannel's src/net) under their
 * Gecko CIDs and contract IDs.
 *
 * The component manager loads this library through a manifest line
 * `binary-component libwschannel_component.so` (wschannel.manifest beside
 * it), and calls the constructors below on whichever thread asks for an
 * instance; that thread becomes the channel's owning thread.
 */
#include "nsError.h"
#include "xpcom_module.h"

#include "net/net_ioservice.h"

#include "ws_channel.h"

static const nsCID kWsChannelCID = WS_CHANNEL_WS_CID;
static const nsCID kWssChannelCID = WS_CHANNEL_WSS_CID;
static const nsCID kIOServiceCID = NET_IOSERVICE_CID;

/* The runtime refuses aggregation before calling a constructor; the
 * constructors check again because any loader (a Gecko host's, say) may
 * call them. */
static nsresult ws_construct(nsISupports *outer, const nsIID *iid,
                             void **result) {
  if (!result)
    return NS_ERROR_NULL_POINTER;
  *result = NULL;
  if (outer)
    return NS_ERROR_NO_AGGREGATION;
  return ws_channel_create(WS_CHANNEL_WS, iid, result);
}

static nsresult wss_construct(nsISupports *outer, const nsIID *iid,
                              void **result) {
  if (!result)
    return NS_ERROR_NULL_POINTER;
  *result = NULL;
  if (outer)
    return NS_ERROR_NO_AGGREGATION;
  return ws_channel_create(WS_CHANNEL_WSS, iid, result);
}

static const xpcom_module_cid_entry kCIDs[] = {
    {&kWsChannelCID, false, NULL, ws_construct, XPCOM_MODULE_ANY_PROCESS},
    {&kWssChannelCID, false, NULL, wss_construct, XPCOM_MODULE_ANY_PROCESS},
    /* A service: the component manager keeps the one instance. Its
     * constructor lives in libwschannel and refuses aggregation itself. */
    {&kIOServiceCID, true, NULL, net_ioservice_construct,
     XPCOM_MODULE_ANY_PROCESS},
    {NULL, false, NULL, NULL, XPCOM_MODULE_ANY_PROCESS}};

static const xpcom_module_contract_entry kContracts[] = {
    {WS_CHANNEL_WS_CONTRACTID, &kWsChannelCID, XPCOM_MODULE_ANY_PROCESS},
    {WS_CHANNEL_WSS_CONTRACTID, &kWssChannelCID, XPCOM_MODULE_ANY_PROCESS},
    {NET_IOSERVICE_CONTRACTID, &kIOServiceCID, XPCOM_MODULE_ANY_PROCESS},
    {NULL, NULL, XPCOM_MODULE_ANY_PROCESS}};

static const xpcom_module kWebSocketModule = {
    XPCOM_MODULE_VERSION, kCIDs, kContracts, NULL, NULL, NULL, NULL,
    XPCOM_MODULE_ANY_PROCESS};

XPCOM_NSMODULE_DEFN(kWebSocketModule);

/*
 * xpcom_init.c — NS_InitXPCOM2 / NS_ShutdownXPCOM, the component manager
 * getters, and the small shared helpers of the service files.
 *
 * State: OFF → RUNNING (init) → SHUTDOWN (shutdown under way: services and
 * instances refused) → OFF. Init and shutdown run on the main thread; the
 * state is read from any thread.
 */
#include "xpcom_services_int.h"
#include "nsIComponentManager.h"
#include "nsIServiceManager.h"
#include "nsIComponentRegistrar.h"

#include <prinit.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

XPCOM_LOG_MODULE(g_log, XPCOM_SERVICES_LOG_NAME);

static atomic_int g_state = XPCOM_STATE_OFF;

int xpcom_state(void) { return atomic_load(&g_state); }

void xpcom_report(const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fprintf(stderr, "%s\n", msg);
  fflush(stderr);
  XPCOM_LOG(g_log, XPCOM_LOG_ERROR, ("%s", msg));
}

static nsresult get_iface(const nsIID *iid, void **result) {
  if (!result)
    return NS_ERROR_NULL_POINTER;
  *result = NULL;
  if (xpcom_state() != XPCOM_STATE_RUNNING)
    return NS_ERROR_NOT_INITIALIZED;
  return xpcom_query_interface(xpcom_components_manager(), iid, result);
}

XPCOM_API(nsresult) NS_GetComponentManager(nsIComponentManager **result) {
  return get_iface(&nsIComponentManager_IID, (void **)result);
}

XPCOM_API(nsresult) NS_GetServiceManager(nsIServiceManager **result) {
  return get_iface(&nsIServiceManager_IID, (void **)result);
}

XPCOM_API(nsresult) NS_GetComponentRegistrar(nsIComponentRegistrar **result) {
  return get_iface(&nsIComponentRegistrar_IID, (void **)result);
}

/* Tears down what init built, in reverse order (also on a failed init). */
static void teardown(void) {
  xpcom_components_release_services();
  xpcom_observers_shutdown();
  xpcom_threads_shutdown_main();
  xpcom_components_shutdown();
  xpcom_modules_shutdown();
  xpcom_prefs_shutdown();
  xpcom_timers_shutdown();
}

XPCOM_API(nsresult)
NS_InitXPCOM2(nsIServiceManager **result, nsIFile *binDirectory,
              nsIDirectoryServiceProvider *appFileLocationProvider) {
  if (result)
    *result = NULL;
  int expected = XPCOM_STATE_OFF;
  if (!atomic_compare_exchange_strong(&g_state, &expected,
                                      XPCOM_STATE_RUNNING))
    return NS_ERROR_ALREADY_INITIALIZED;
  if (!PR_Initialized())
    PR_Init(PR_USER_THREAD, PR_PRIORITY_NORMAL, 0);
  if (binDirectory || appFileLocationProvider)
    XPCOM_LOG(g_log, XPCOM_LOG_WARNING,
              ("NS_InitXPCOM2: binDirectory and directory providers are "
               "not supported; use XPCOM_RegisterManifest"));

  nsresult rv = xpcom_timers_init();
  if (NS_SUCCEEDED(rv))
    rv = xpcom_threads_init();
  if (NS_SUCCEEDED(rv))
    rv = xpcom_prefs_init();
  if (NS_SUCCEEDED(rv))
    rv = xpcom_observers_init();
  if (NS_SUCCEEDED(rv))
    rv = xpcom_components_init();
  if (NS_FAILED(rv)) {
    atomic_store(&g_state, XPCOM_STATE_SHUTDOWN);
    teardown();
    atomic_store(&g_state, XPCOM_STATE_OFF);
    return rv;
  }

  xpcom_manifest_register_defaults();
  XPCOM_LOG(g_log, XPCOM_LOG_DEBUG, ("XPCOM initialised"));

  if (result)
    return NS_GetServiceManager(result);
  return NS_OK;
}

XPCOM_API(nsresult) NS_ShutdownXPCOM(nsIServiceManager *servMgr) {
  if (xpcom_state() != XPCOM_STATE_RUNNING)
    return NS_ERROR_NOT_INITIALIZED;
  if (!NS_IsMainThread())
    return NS_ERROR_UNEXPECTED;

  /* Gecko's order: the observers first (services still work for them,
   * and "xpcom-shutdown" gets the service manager as its subject), then
   * the other threads; only then are services refused. */
  (void)NS_ProcessPendingEvents(NULL);
  xpcom_observers_notify(NULL, "xpcom-will-shutdown", NULL);
  xpcom_observers_notify(xpcom_components_manager(), "xpcom-shutdown", NULL);
  (void)NS_ProcessPendingEvents(NULL);
  xpcom_observers_notify(NULL, "xpcom-shutdown-threads", NULL);
  (void)NS_ProcessPendingEvents(NULL);
  xpcom_threads_shutdown_others();
  (void)NS_ProcessPendingEvents(NULL);

  /* From here on getService/createInstance answer NS_ERROR_UNEXPECTED. */
  atomic_store(&g_state, XPCOM_STATE_SHUTDOWN);
  xpcom_components_begin_shutdown();

  /* As Gecko: we AddRef'd the pointer NS_InitXPCOM2 handed out. */
  if (servMgr)
    xpcom_release(servMgr);

  teardown();
  XPCOM_LOG(g_log, XPCOM_LOG_DEBUG, ("XPCOM shut down"));
  atomic_store(&g_state, XPCOM_STATE_OFF);
  (void)XPCOM_LeakReportFromEnv();
  return NS_OK;
}

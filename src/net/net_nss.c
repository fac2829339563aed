/*
 * net_nss.c — process-wide NSS initialisation and randomness.
 */
#include "net_nss.h"

#include <limits.h>
#include <nss.h>
#include <pk11pub.h>
#include <prerror.h>
#include <prinit.h>
#include <prcvar.h>
#include <prlock.h>
#include <stdatomic.h>

#include "xpcom_log.h"

XPCOM_LOG_MODULE(g_log, "nsWebSocket");

static PRCallOnceType g_once;
static PRLock *g_lock;
static NSSInitContext *g_ctx; /* ours, when we initialised NSS (g_lock) */
static atomic_bool g_ready;   /* net_nss_init succeeded */

static PRStatus nss_once(void) {
  g_lock = PR_NewLock();
  return g_lock ? PR_SUCCESS : PR_FAILURE;
}

static void nss_stop_hook(void) { net_nss_shutdown(); }

/* On the socket thread: NSS is initialised and shut down on the same
 * thread, the one that lives exactly as long as our context. (NSS keeps
 * per-thread data for the initialising thread; initialising elsewhere and
 * shutting down here would strand it.) */
static nsresult init_here(void) {
  nsresult rv = NS_OK;
  PR_Lock(g_lock);
  if (!atomic_load(&g_ready)) {
    /* Register the teardown first: if the service is stopping, NSS must
     * not be set up (nothing would shut it down). */
    rv = net_sts_at_stop(nss_stop_hook, NET_STS_STOP_LAST);
    if (NS_SUCCEEDED(rv)) {
      if (NSS_IsInitialized()) {
        XPCOM_LOG(g_log, XPCOM_LOG_DEBUG, ("NSS initialised by the host"));
      } else {
        g_ctx = NSS_InitContext("", "", "", "", NULL,
                                NSS_INIT_READONLY | NSS_INIT_NOCERTDB |
                                    NSS_INIT_NOMODDB | NSS_INIT_FORCEOPEN |
                                    NSS_INIT_NOROOTINIT);
        if (!g_ctx) {
          PRErrorCode err = PR_GetError();
          XPCOM_LOG(g_log, XPCOM_LOG_ERROR, ("NSS_InitContext failed: %d", (int)err));
          rv = err ? NS_ERROR_FROM_NSS_ERROR(err) : NS_ERROR_FAILURE;
        } else {
          XPCOM_LOG(g_log, XPCOM_LOG_DEBUG, ("NSS context opened"));
        }
      }
      if (NS_SUCCEEDED(rv))
        atomic_store_explicit(&g_ready, true, memory_order_release);
    }
  }
  PR_Unlock(g_lock);
  return rv;
}

/* A caller on another thread waits for init_here on the socket thread. */
typedef struct init_call {
  PRLock *lock;
  PRCondVar *cv;
  bool done;
  nsresult rv;
} init_call;

static void init_call_finish(init_call *ic, nsresult rv) {
  PR_Lock(ic->lock);
  ic->rv = rv;
  ic->done = true;
  PR_NotifyCondVar(ic->cv);
  PR_Unlock(ic->lock);
}

static void init_call_run(void *arg) { init_call_finish(arg, init_here()); }
static void init_call_drop(void *arg) { init_call_finish(arg, NS_ERROR_NOT_AVAILABLE); }

NET_API(nsresult) net_nss_init(void) {
  if (atomic_load_explicit(&g_ready, memory_order_acquire))
    return NS_OK;
  if (PR_CallOnce(&g_once, nss_once) != PR_SUCCESS)
    return NS_ERROR_OUT_OF_MEMORY;
  if (net_sts_is_current())
    return init_here();
  init_call ic = {PR_NewLock(), NULL, false, NS_OK};
  ic.cv = ic.lock ? PR_NewCondVar(ic.lock) : NULL;
  nsresult rv = NS_ERROR_OUT_OF_MEMORY;
  if (ic.cv) {
    /* The socket thread never waits for other threads: no deadlock. */
    rv = net_sts_dispatch(init_call_run, &ic, init_call_drop);
    if (NS_SUCCEEDED(rv)) {
      PR_Lock(ic.lock);
      while (!ic.done)
        PR_WaitCondVar(ic.cv, PR_INTERVAL_NO_TIMEOUT);
      PR_Unlock(ic.lock);
      rv = ic.rv;
    }
  }
  if (ic.cv)
    PR_DestroyCondVar(ic.cv);
  if (ic.lock)
    PR_DestroyLock(ic.lock);
  return rv;
}

NET_API(bool) net_nss_ready(void) { return atomic_load(&g_ready); }

NET_API(nsresult) net_random(void *buf, size_t len) {
  nsresult rv = net_nss_init();
  if (NS_FAILED(rv))
    return rv;
  unsigned char *p = buf;
  while (len) {
    int n = len > (size_t)INT_MAX ? INT_MAX : (int)len;
    if (PK11_GenerateRandom(p, n) != SECSuccess)
      return NS_ERROR_FAILURE;
    p += n;
    len -= (size_t)n;
  }
  return NS_OK;
}

NET_API(void) net_nss_shutdown(void) {
  if (PR_CallOnce(&g_once, nss_once) != PR_SUCCESS)
    return;
  PR_Lock(g_lock);
  atomic_store(&g_ready, false);
  if (g_ctx) {
    if (NSS_ShutdownContext(g_ctx) != SECSuccess)
      XPCOM_LOG(g_log, XPCOM_LOG_ERROR,
                ("NSS_ShutdownContext failed: %d (references still held)",
                 (int)PR_GetError()));
    else
      XPCOM_LOG(g_log, XPCOM_LOG_DEBUG, ("NSS context closed"));
    g_ctx = NULL;
  }
  PR_Unlock(g_lock);
}

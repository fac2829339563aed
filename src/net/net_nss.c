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
#include <ssl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xpcom_log.h"

XPCOM_LOG_MODULE(g_log, "nsWebSocket");

static PRCallOnceType g_once;
static PRLock *g_lock;
static NSSInitContext *g_ctx; /* ours, when we initialised NSS (g_lock) */
static atomic_bool g_ready;   /* net_nss_init succeeded */
static atomic_bool g_ours;    /* g_ctx is open */
static char *g_profile_dir;   /* "sql:<dir>" for the next init (g_lock) */
static _Atomic nsresult g_shutdown_status = NS_OK;
#define MAX_HOOKS 8
static void (*g_hooks[MAX_HOOKS])(void); /* g_lock */
static size_t g_nhooks;

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
        /* A profile directory has databases (and maybe a module list);
         * without one NSS runs with none. Roots: net_trust. */
        PRUint32 flags = NSS_INIT_READONLY | NSS_INIT_FORCEOPEN | NSS_INIT_NOROOTINIT;
        if (!g_profile_dir)
          flags |= NSS_INIT_NOCERTDB | NSS_INIT_NOMODDB;
        g_ctx = NSS_InitContext(g_profile_dir ? g_profile_dir : "", "", "", "", NULL, flags);
        if (!g_ctx) {
          PRErrorCode err = PR_GetError();
          XPCOM_LOG(g_log, XPCOM_LOG_ERROR,
                    ("NSS_InitContext(%s) failed: %d", g_profile_dir ? g_profile_dir : "no database",
                     (int)err));
          rv = err ? NS_ERROR_FROM_NSS_ERROR(err) : NS_ERROR_FAILURE;
        } else {
          /* Every cipher suite NSS enables by default may be used (the
           * policy is process-wide: only when NSS is ours). */
          if (NSS_SetDomesticPolicy() != SECSuccess)
            XPCOM_LOG(g_log, XPCOM_LOG_ERROR,
                      ("NSS_SetDomesticPolicy failed: %d", (int)PR_GetError()));
          atomic_store(&g_ours, true);
          XPCOM_LOG(g_log, XPCOM_LOG_DEBUG,
                    ("NSS context opened (%s)", g_profile_dir ? g_profile_dir : "no database"));
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

NET_API(bool) net_nss_is_ours(void) { return atomic_load(&g_ours); }

NET_API(nsresult) net_nss_set_profile_dir(const char *dir) {
  if (PR_CallOnce(&g_once, nss_once) != PR_SUCCESS)
    return NS_ERROR_OUT_OF_MEMORY;
  char *copy = NULL;
  if (dir && *dir) {
    bool prefixed = strncmp(dir, "sql:", 4) == 0 || strncmp(dir, "dbm:", 4) == 0;
    size_t n = strlen(dir) + 5;
    copy = malloc(n);
    if (!copy)
      return NS_ERROR_OUT_OF_MEMORY;
    snprintf(copy, n, "%s%s", prefixed ? "" : "sql:", dir);
  }
  PR_Lock(g_lock);
  nsresult rv = NS_OK;
  if (g_ctx) {
    rv = NS_ERROR_ALREADY_INITIALIZED;
    free(copy);
  } else {
    free(g_profile_dir);
    g_profile_dir = copy;
  }
  PR_Unlock(g_lock);
  return rv;
}

NET_API(nsresult) net_nss_at_shutdown(void (*fn)(void)) {
  if (!fn)
    return NS_ERROR_INVALID_ARG;
  if (PR_CallOnce(&g_once, nss_once) != PR_SUCCESS)
    return NS_ERROR_OUT_OF_MEMORY;
  nsresult rv = NS_OK;
  PR_Lock(g_lock);
  bool known = false;
  for (size_t i = 0; i < g_nhooks; i++)
    known = known || g_hooks[i] == fn;
  if (!known) {
    if (g_nhooks < MAX_HOOKS)
      g_hooks[g_nhooks++] = fn;
    else
      rv = NS_ERROR_OUT_OF_MEMORY;
  }
  PR_Unlock(g_lock);
  return rv;
}

NET_API(nsresult) net_nss_shutdown_status(void) { return atomic_load(&g_shutdown_status); }

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
  /* Our references first, or NSS would refuse to shut down (SEC_ERROR_BUSY);
   * with a host's NSS they are released all the same. */
  while (g_nhooks)
    g_hooks[--g_nhooks]();
  nsresult status = NS_OK;
  if (g_ctx) {
    /* Cached sessions hold the servers' certificates. */
    SSL_ClearSessionCache();
    if (NSS_ShutdownContext(g_ctx) != SECSuccess) {
      PRErrorCode err = PR_GetError();
      XPCOM_LOG(g_log, XPCOM_LOG_ERROR,
                ("NSS_ShutdownContext failed: %d (references still held)", (int)err));
      status = err ? NS_ERROR_FROM_NSS_ERROR(err) : NS_ERROR_FAILURE;
    } else {
      XPCOM_LOG(g_log, XPCOM_LOG_DEBUG, ("NSS context closed"));
    }
    g_ctx = NULL;
    atomic_store(&g_ours, false);
  }
  atomic_store(&g_shutdown_status, status);
  PR_Unlock(g_lock);
}

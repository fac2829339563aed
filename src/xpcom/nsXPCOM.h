/*
 * nsXPCOM.h — starting and stopping the XPCOM runtime, and the thread
 * helpers Gecko code expects (NS_GetCurrentThread, NS_ProcessNextEvent …).
 *
 * Usable from C and C++ (C linkage). The interface types are only
 * forward-declared here; include the generated headers (nsIThread.h,
 * nsIServiceManager.h, …) to call them.
 *
 * Threads: NS_InitXPCOM2 makes the calling thread the main thread;
 * NS_ShutdownXPCOM must be called on that same thread. The other
 * functions say which threads may call them.
 */
#ifndef WSCHANNEL_NSXPCOM_H
#define WSCHANNEL_NSXPCOM_H

#include "nscore.h"

#ifdef __cplusplus
class nsIServiceManager;
class nsIComponentManager;
class nsIComponentRegistrar;
class nsIFile;
class nsIDirectoryServiceProvider;
class nsIThread;
class nsIRunnable;
#define XPCOM_DEFAULT_ARG(x) = x
#else
typedef struct nsIServiceManager nsIServiceManager;
typedef struct nsIComponentManager nsIComponentManager;
typedef struct nsIComponentRegistrar nsIComponentRegistrar;
typedef struct nsIFile nsIFile;
typedef struct nsIDirectoryServiceProvider nsIDirectoryServiceProvider;
typedef struct nsIThread nsIThread;
typedef struct nsIRunnable nsIRunnable;
#define XPCOM_DEFAULT_ARG(x)
#endif

XPCOM_BEGIN_DECLS

/*
 * Starts XPCOM: NSPR, the calling thread's event queue (it becomes the main
 * thread), the built-in services (timers "@mozilla.org/timer;1", observer
 * service "@mozilla.org/observer-service;1", preferences
 * "@mozilla.org/preferences-service;1", thread manager
 * "@mozilla.org/thread-manager;1"), then the component manifests:
 *   1. every `*.manifest` in `<dir>/wschannel/components/`, where <dir> is
 *      the directory holding libwschannel itself (found with dladdr, so a
 *      relocated installation still works; the configured
 *      $(pkglibdir)/components is used only if that lookup fails);
 *   2. each file named in the environment variable WSCHANNEL_MANIFEST
 *      (colon-separated manifest paths).
 * Manifest problems are reported on stderr (`file:line: reason`) and never
 * make initialisation fail.
 *
 * binDirectory and appFileLocationProvider are accepted for Gecko
 * compatibility but unused: this runtime has no nsIFile implementation.
 * A host adds its own components with XPCOM_RegisterManifest() or
 * WSCHANNEL_MANIFEST.
 *
 * On success *result (if result is non-null) receives the service manager,
 * AddRef'd: release it, or pass it to NS_ShutdownXPCOM which releases it.
 * Returns NS_ERROR_ALREADY_INITIALIZED if XPCOM is running; after
 * NS_ShutdownXPCOM it may be called again.
 */
XPCOM_API(nsresult)
NS_InitXPCOM2(nsIServiceManager **result, nsIFile *binDirectory,
              nsIDirectoryServiceProvider *appFileLocationProvider);

/*
 * Stops XPCOM. Main thread only (else NS_ERROR_UNEXPECTED); without a
 * running XPCOM returns NS_ERROR_NOT_INITIALIZED. In Gecko's order: runs
 * pending main-thread events; notifies observers of "xpcom-will-shutdown",
 * "xpcom-shutdown" (subject: the service manager) and
 * "xpcom-shutdown-threads", running pending events after each; shuts down
 * every other thread (see nsIThread::Shutdown; an attached thread must
 * detach itself, see xpcom_thread.h). From then on creating instances or
 * getting services fails with NS_ERROR_UNEXPECTED. Then releases servMgr if
 * non-null (the reference NS_InitXPCOM2 gave); releases services,
 * observers, factories and armed timers; runs and then closes the main
 * queue; calls each module's unloadProc (libraries stay loaded); finally
 * prints the leak report (XPCOM_MEM_LEAK_LOG, see xpcom_object.h).
 * Returns NS_OK.
 */
XPCOM_API(nsresult) NS_ShutdownXPCOM(nsIServiceManager *servMgr);

/* The component manager / service manager / registrar (one object), as an
 * AddRef'd pointer in *result. NS_ERROR_NOT_INITIALIZED when XPCOM is not
 * running. Any thread. */
XPCOM_API(nsresult) NS_GetComponentManager(nsIComponentManager **result);
XPCOM_API(nsresult) NS_GetServiceManager(nsIServiceManager **result);
XPCOM_API(nsresult) NS_GetComponentRegistrar(nsIComponentRegistrar **result);

/*
 * Reads one more manifest (Gecko chrome.manifest syntax; relative paths in
 * it are relative to the manifest's directory). Main thread, while XPCOM
 * runs. Returns NS_ERROR_FILE_NOT_FOUND if the file cannot be read,
 * NS_ERROR_NOT_INITIALIZED / NS_ERROR_UNEXPECTED before init / during
 * shutdown, NS_OK otherwise — bad lines are reported (`file:line: reason`
 * on stderr and to the NSPR log module "xpcom") and skipped.
 */
XPCOM_API(nsresult) XPCOM_RegisterManifest(const char *path);

/* ---- threads ----------------------------------------------------------- */

/* The calling thread's nsIThread, AddRef'd. Threads get one when created
 * with NS_NewThread, when they are the main thread, or after
 * xpcom_thread_attach_current(); any other thread gets
 * NS_ERROR_NOT_AVAILABLE (unlike Gecko, no queue is created implicitly). */
XPCOM_API(nsresult) NS_GetCurrentThread(nsIThread **result);

/* The main thread's nsIThread, AddRef'd. Any thread. */
XPCOM_API(nsresult) NS_GetMainThread(nsIThread **result);

/* True on the thread that called NS_InitXPCOM2 (while XPCOM runs). */
XPCOM_API(bool) NS_IsMainThread(void);

/*
 * Creates a thread with its own event queue, running events until it is
 * shut down (nsIThread::Shutdown, or NS_ShutdownXPCOM). initialEvent, if
 * non-null, is AddRef'd and is the first event the thread runs.
 * stackSize 0 means NSPR's default. *result gets the thread, AddRef'd.
 * Any thread with XPCOM running; NS_ERROR_NOT_INITIALIZED otherwise or once
 * shutdown has begun.
 */
XPCOM_API(nsresult)
NS_NewThread(nsIThread **result,
             nsIRunnable *initialEvent XPCOM_DEFAULT_ARG(nullptr),
             uint32_t stackSize XPCOM_DEFAULT_ARG(0));

/*
 * Runs the next event (and any due timers) of `thread`, which must be the
 * calling thread's own (NULL = the current thread); returns true if
 * anything ran. With mayWait it blocks until something runs: it waits on
 * the queue's pollable event with the nearest timer as timeout. Returns
 * false at once when thread is not the caller's.
 */
XPCOM_API(bool)
NS_ProcessNextEvent(nsIThread *thread XPCOM_DEFAULT_ARG(nullptr),
                    bool mayWait XPCOM_DEFAULT_ARG(true));

/* Runs events of the calling thread's own `thread` (NULL = current) until
 * none is pending, including those dispatched meanwhile, plus due timers.
 * NS_ERROR_UNEXPECTED if thread is not the caller's. */
XPCOM_API(nsresult)
NS_ProcessPendingEvents(nsIThread *thread XPCOM_DEFAULT_ARG(nullptr));

XPCOM_END_DECLS

#endif /* WSCHANNEL_NSXPCOM_H */

/*
 * xpcom_services_int.h — private glue between the runtime service files
 * (threads, timers, components, manifests, prefs, observers, init).
 * Not installed; nothing here is exported from libwschannel.
 */
#ifndef WSCHANNEL_XPCOM_SERVICES_INT_H
#define WSCHANNEL_XPCOM_SERVICES_INT_H

#include "nscore.h"
#include "nsError.h"
#include "nsID.h"
#include "nsMemory.h"
#include "xpcom_object.h"
#include "xpcom_log.h"
#include "nsXPCOM.h"
#include "xpcom_module.h"
#include "xpcom_thread.h"
#include "xpcom_prefs.h"

#include "nsISupports.h"
#include "nsIRunnable.h"
#include "nsIEventTarget.h"
#include "nsIThread.h"
#include "nsITimer.h"
#include "nsIObserver.h"

#include <prlock.h>
#include <prthread.h>
#include <stdatomic.h>

#define XPCOM_HIDDEN __attribute__((visibility("hidden")))

/* Every service file logs to the NSPR module "xpcom"
 * (NSPR_LOG_MODULES=xpcom:5) through its own XPCOM_LOG_MODULE variable. */
#define XPCOM_SERVICES_LOG_NAME "xpcom"

/* Reports a problem on stderr (one line, newline added) and to the log
 * module "xpcom" at level ERROR. printf-style. */
XPCOM_HIDDEN void xpcom_report(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Monotonic clock in microseconds (CLOCK_MONOTONIC). */
XPCOM_HIDDEN uint64_t xpcom_now_us(void);

/* Copies a C string with malloc (NULL in → NULL out). */
XPCOM_HIDDEN char *xpcom_strdup(const char *s);

/* ---- lifecycle (xpcom_init.c) ------------------------------------------ */

/* 0 = not running, 1 = running, 2 = shutting down (services refused). */
enum { XPCOM_STATE_OFF = 0, XPCOM_STATE_RUNNING = 1, XPCOM_STATE_SHUTDOWN = 2 };
XPCOM_HIDDEN int xpcom_state(void);

/* ---- threads (xpcom_thread.c) ------------------------------------------ */

typedef struct xpcom_thread xpcom_thread;
struct xpcom_timer_heap;

/* Creates the main thread for the calling PRThread. */
XPCOM_HIDDEN nsresult xpcom_threads_init(void);
/* Refuses new threads, asks every non-main thread to stop and waits for
 * it (spinning the main queue meanwhile). */
XPCOM_HIDDEN void xpcom_threads_shutdown_others(void);
/* Runs the main queue dry, closes it, cancels its timers, forgets it. */
XPCOM_HIDDEN void xpcom_threads_shutdown_main(void);

/* The calling thread's queue, or NULL. No reference is added. */
XPCOM_HIDDEN xpcom_thread *xpcom_thread_current(void);
/* Our implementation behind an nsIThread / nsIEventTarget pointer, or NULL
 * if it is someone else's object. No reference is added. */
XPCOM_HIDDEN xpcom_thread *xpcom_thread_from_iface(void *iface);
XPCOM_HIDDEN nsIThread *xpcom_thread_iface(xpcom_thread *t);
XPCOM_HIDDEN void xpcom_thread_addref(xpcom_thread *t);
XPCOM_HIDDEN void xpcom_thread_release(xpcom_thread *t);
/* Sets the pollable event so a sleeping loop recomputes its timeout. */
XPCOM_HIDDEN void xpcom_thread_wake(xpcom_thread *t);
/* Whether the queue refuses events (after drain). Takes the thread lock. */
XPCOM_HIDDEN bool xpcom_thread_is_closed(xpcom_thread *t);
/* The thread's timer heap pointer (NULL until a timer is armed there;
 * allocated and freed by xpcom_timer.c); guarded by the timer lock. */
XPCOM_HIDDEN struct xpcom_timer_heap **xpcom_thread_timer_heap(xpcom_thread *t);
/* Constructor of the thread manager service. */
XPCOM_HIDDEN nsresult xpcom_thread_manager_construct(nsISupports *outer,
                                                     const nsIID *iid,
                                                     void **result);

/* ---- timers (xpcom_timer.c) -------------------------------------------- */

XPCOM_HIDDEN nsresult xpcom_timers_init(void);
XPCOM_HIDDEN void xpcom_timers_shutdown(void);
/* Fires the timers of `t` that were due when called. True if any fired. */
XPCOM_HIDDEN bool xpcom_timers_run_due(xpcom_thread *t, uint32_t *count);
/* Microseconds until the nearest timer of `t` (0 if due), or UINT64_MAX. */
XPCOM_HIDDEN uint64_t xpcom_timers_next_us(xpcom_thread *t);
/* Cancels every timer armed on `t` (its queue has closed) and frees its
 * heap. */
XPCOM_HIDDEN void xpcom_timers_cancel_thread(xpcom_thread *t);
/* `t` is being destroyed: frees what the timers kept for it. */
XPCOM_HIDDEN void xpcom_timers_thread_gone(xpcom_thread *t);
XPCOM_HIDDEN nsresult xpcom_timer_construct(nsISupports *outer,
                                            const nsIID *iid, void **result);

/* ---- components (xpcom_components.c) ----------------------------------- */

XPCOM_HIDDEN nsresult xpcom_components_init(void);
/* Marks shutdown: creation and getService fail from now on. */
XPCOM_HIDDEN void xpcom_components_begin_shutdown(void);
/* Releases service instances (and the reference the runtime holds). */
XPCOM_HIDDEN void xpcom_components_release_services(void);
/* Releases factories, entries, contracts, categories. */
XPCOM_HIDDEN void xpcom_components_shutdown(void);
XPCOM_HIDDEN nsISupports *xpcom_components_manager(void); /* no ref */

/* Where a registration comes from, for messages ("file:line"). */
typedef struct xpcom_reg_origin {
  const char *file; /* NULL for built-in / programmatic */
  int line;
} xpcom_reg_origin;

/* Registers a class created by `ctor`. NS_ERROR_FACTORY_EXISTS if the CID
 * is already registered (reported when origin has a file). */
XPCOM_HIDDEN nsresult xpcom_components_add_class(
    const nsCID *cid, const char *name, xpcom_module_constructor_proc ctor,
    bool service, const xpcom_reg_origin *origin);
/* Registers a CID implemented by a script file (no loader yet). */
XPCOM_HIDDEN nsresult xpcom_components_add_js(const nsCID *cid,
                                              const char *path,
                                              const xpcom_reg_origin *origin);
/* Maps a contract ID to a registered CID; NS_ERROR_FACTORY_NOT_REGISTERED
 * if the CID is unknown. */
XPCOM_HIDDEN nsresult xpcom_components_add_contract(
    const char *contract, const nsCID *cid, const xpcom_reg_origin *origin);
XPCOM_HIDDEN nsresult xpcom_category_add(const char *category,
                                         const char *entry,
                                         const char *value);

/* ---- manifests and modules (xpcom_manifest.c) -------------------------- */

XPCOM_HIDDEN nsresult xpcom_manifest_read(const char *path);
/* Registers the manifests installed with the library and those named in
 * WSCHANNEL_MANIFEST. */
XPCOM_HIDDEN void xpcom_manifest_register_defaults(void);
/* Calls unloadProc of every loaded module and forgets them. */
XPCOM_HIDDEN void xpcom_modules_shutdown(void);

/* ---- prefs (xpcom_prefs.c) ------------------------------------------- */

XPCOM_HIDDEN nsresult xpcom_prefs_init(void);
XPCOM_HIDDEN void xpcom_prefs_shutdown(void);
XPCOM_HIDDEN nsresult xpcom_prefs_construct(nsISupports *outer,
                                            const nsIID *iid, void **result);

/* ---- observers (xpcom_observers.c) ------------------------------------- */

XPCOM_HIDDEN nsresult xpcom_observers_init(void);
/* Notifies observers of topic (main thread), subject and data may be NULL. */
XPCOM_HIDDEN void xpcom_observers_notify(nsISupports *subject,
                                         const char *topic,
                                         const char16_t *data);
XPCOM_HIDDEN void xpcom_observers_shutdown(void);
XPCOM_HIDDEN nsresult xpcom_observers_construct(nsISupports *outer,
                                                const nsIID *iid,
                                                void **result);

/* An nsISimpleEnumerator over `count` objects (each AddRef'd by the
 * enumerator, which releases them when destroyed). */
XPCOM_HIDDEN nsresult xpcom_array_enumerator_new(nsISupports *const *items,
                                                 uint32_t count,
                                                 void **result);

#endif /* WSCHANNEL_XPCOM_SERVICES_INT_H */

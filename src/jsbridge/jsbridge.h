/*
 * jsbridge.h — the script host's JavaScript engine behind a C interface.
 *
 * The bridge embeds SpiderMonkey 102 and connects it to the XPCOM runtime
 * using nothing but the generated type information (xpt.h): any
 * scriptable interface can be called from JS, and JS objects can implement
 * any scriptable interface for native callers. No JS type appears here.
 *
 * One bridge per process. Everything runs on the main thread (the thread
 * that called NS_InitXPCOM2), which must also call every function below.
 * JS never runs on another thread: calls into JS-implemented interfaces
 * from other threads fail with NS_ERROR_NOT_SAME_THREAD.
 *
 * Life cycle:
 *   NS_InitXPCOM2(...);
 *   jsbridge_create(&b);                   // one global, see below
 *   jsbridge_run_file(b, "x.js");  ...      // scripts, in order
 *   jsbridge_gc(b);
 *   NS_ShutdownXPCOM(...);   // tears the engine down during shutdown
 *   jsbridge_destroy(b);
 *
 * The bridge observes "xpcom-shutdown-threads" and then (from the main
 * thread's queue, after that notification) collects garbage, drops every
 * native reference held by JS wrappers and destroys the engine, so that the
 * runtime's leak report, printed at the end of NS_ShutdownXPCOM, sees every
 * wrapper gone. JS objects still referenced from native code at that point
 * become inert (their methods return NS_ERROR_XPC_HAS_BEEN_SHUTDOWN).
 */
#ifndef WSCHANNEL_JSBRIDGE_H
#define WSCHANNEL_JSBRIDGE_H

#include <stdbool.h>
#include <stddef.h>

#include "nscore.h"

XPCOM_BEGIN_DECLS

typedef struct jsbridge jsbridge;

/* What running a script did. */
typedef enum jsbridge_status {
  JSBRIDGE_OK = 0,       /* ran to completion */
  JSBRIDGE_ERROR = 1,    /* threw: reported on stderr (file:line, stack) */
  JSBRIDGE_QUIT = 2,     /* quit() was called: stop running scripts */
  JSBRIDGE_NOT_FOUND = 3 /* the file could not be read (reported) */
} jsbridge_status;

/*
 * Starts the engine and makes the global: the standard JS classes,
 * Components (classes, interfaces, results, utils, manager, ID, Exception,
 * isSuccessCode, stack, Constructor), Cc, Ci, Cr, Cu, ChromeUtils,
 * XPCOMUtils, Services (io, prefs, obs, tm, …), print(...), dump(s),
 * quit([code]), load(file…), gc(), arguments ([] until
 * jsbridge_set_arguments). XPCOM must be running; main thread only.
 * Returns NS_ERROR_ALREADY_INITIALIZED for a second bridge,
 * NS_ERROR_NOT_INITIALIZED without XPCOM, NS_ERROR_FAILURE when the
 * engine cannot start. *out owns the bridge: jsbridge_destroy it.
 */
XPCOM_API(nsresult) jsbridge_create(jsbridge **out);

/* Sets the global `arguments` to an array of copies of argv[0..argc). */
XPCOM_API(void) jsbridge_set_arguments(jsbridge *b, int argc, char *const *argv);

/*
 * Runs a file (UTF-8) in the global. Uncaught exceptions are reported on
 * stderr as `file:line:column: uncaught exception: <text>` followed by the
 * stack, and give JSBRIDGE_ERROR. Promise jobs queued by the script run
 * before it returns; rejected promises left without a handler then are
 * reported the same way and also give JSBRIDGE_ERROR.
 */
XPCOM_API(jsbridge_status) jsbridge_run_file(jsbridge *b, const char *path);

/*
 * Runs code[0..len) (UTF-8) in the global, reporting errors against
 * `filename` starting at `line`. With print_result the completion value,
 * unless undefined, is printed on stdout (the interactive prompt).
 */
XPCOM_API(jsbridge_status)
jsbridge_run_string(jsbridge *b, const char *code, size_t len,
                    const char *filename, unsigned line, bool print_result);

/* True when code[0..len) is a complete statement list (nothing left open),
 * so an interactive prompt can stop collecting lines. */
XPCOM_API(bool) jsbridge_is_compilable_unit(jsbridge *b, const char *code, size_t len);

/* True once quit() was called; *exit_code (if non-NULL) gets its code. */
XPCOM_API(bool) jsbridge_quit_requested(jsbridge *b, int *exit_code);

/* Runs pending promise jobs. */
XPCOM_API(void) jsbridge_run_jobs(jsbridge *b);

/* Reports on stderr every rejected promise that still has no handler
 * (`file:line:column: unhandled promise rejection: <reason>` and the
 * stack where it was rejected) and forgets them; returns how many. The
 * jsbridge_run_* functions do this after their promise jobs and then
 * return JSBRIDGE_ERROR; call it once more before shutting down for
 * rejections made by later events. */
XPCOM_API(size_t) jsbridge_report_unhandled_rejections(jsbridge *b);

/* Full garbage collection, then releases of the native objects whose JS
 * wrappers died. */
XPCOM_API(void) jsbridge_gc(jsbridge *b);

/* "SpiderMonkey 102.x" (static string). */
XPCOM_API(const char *) jsbridge_engine_version(void);

/* Destroys the engine if NS_ShutdownXPCOM has not already done it, and
 * frees the bridge. The engine cannot be started again in this process. */
XPCOM_API(void) jsbridge_destroy(jsbridge *b);

XPCOM_END_DECLS

#endif /* WSCHANNEL_JSBRIDGE_H */

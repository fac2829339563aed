/*
 * xpcom_thread.h — C conveniences over the runtime's threads, event queues
 * and timers, for engine code and for hosts with their own main loop.
 *
 * Model (see docs/ARCHITECTURE.md, "Threads"): every nsIThread of this
 * runtime owns a locked FIFO of nsIRunnable and a pollable descriptor that
 * is readable whenever the FIFO is non-empty. Timers belong to the thread
 * that armed them and fire from that thread's loop. A thread that runs its
 * own PR_Poll loop (a host's main loop, the socket-transport thread) polls
 * xpcom_thread_pollable() together with its sockets, uses
 * xpcom_thread_next_timeout() as the poll timeout, and calls
 * xpcom_thread_run_pending() when the descriptor is readable or the
 * timeout expires.
 *
 * Ownership follows XPCOM: returned interface pointers are AddRef'd unless
 * stated otherwise; `in` pointers stay the caller's.
 */
#ifndef WSCHANNEL_XPCOM_THREAD_H
#define WSCHANNEL_XPCOM_THREAD_H

#include "nscore.h"
#include "nsXPCOM.h"
#include <prio.h>
#include <prinrval.h>

#ifdef __cplusplus
class nsIEventTarget;
class nsITimer;
#else
typedef struct nsIEventTarget nsIEventTarget;
typedef struct nsITimer nsITimer;

/*
 * C spellings of natives that the generated nsIEventTarget.h, nsIThread.h
 * and nsITimer.h use but only C++ defines. The generated C headers declare
 * each such native as an opaque struct unless XPCOM_FWD_<name> is already
 * defined; this header defines the real types and those guards, so include
 * it before them when compiling C.
 *
 * already_AddRefed<nsIRunnable> is passed by invisible reference: the C slot
 * receives a pointer to this one-pointer struct. The callee takes the
 * reference and sets mRawPtr to NULL; on failure it releases the event
 * (this runtime never leaks it, unlike Gecko's documented behaviour).
 */
#ifndef XPCOM_DEF_already_AddRefed_nsIRunnable
#define XPCOM_DEF_already_AddRefed_nsIRunnable
#define XPCOM_FWD_already_AddRefed_nsIRunnable
struct already_AddRefed_nsIRunnable {
  nsIRunnable *mRawPtr;
};
typedef struct already_AddRefed_nsIRunnable already_AddRefed_nsIRunnable;
#endif
/* nsITimer.idl's function-pointer natives (a C++ typedef there). */
#ifndef XPCOM_FWD_nsTimerCallbackFunc
#define XPCOM_FWD_nsTimerCallbackFunc
typedef void (*nsTimerCallbackFunc)(nsITimer *aTimer, void *aClosure);
#endif
#ifndef XPCOM_FWD_nsTimerNameCallbackFunc
#define XPCOM_FWD_nsTimerNameCallbackFunc
typedef void (*nsTimerNameCallbackFunc)(nsITimer *aTimer, void *aClosure,
                                        char *aBuf, size_t aLen);
#endif
#endif

XPCOM_BEGIN_DECLS

/* ---- runnables --------------------------------------------------------- */

/*
 * Makes an nsIRunnable that calls run(arg) when it runs. Returns it
 * AddRef'd (refcount 1), or NULL when out of memory (then arg is still the
 * caller's). The runnable owns arg: run(arg) is called at most once and
 * takes over arg; if the runnable is destroyed without having run (e.g. its
 * target thread had shut down), drop(arg) is called instead, on the thread
 * releasing the last reference. drop may be NULL when arg needs no
 * cleanup. Any thread.
 */
XPCOM_API(nsIRunnable *)
xpcom_runnable_new(void (*run)(void *arg), void *arg, void (*drop)(void *arg));

/*
 * Dispatches run(arg) to `target` (NS_DISPATCH_NORMAL). On NS_OK the event
 * owns arg exactly as with xpcom_runnable_new (run once on the target's
 * thread, or drop(arg) if destroyed unrun). On failure — NS_ERROR_UNEXPECTED
 * when the target has shut down, NS_ERROR_OUT_OF_MEMORY,
 * NS_ERROR_INVALID_ARG — nothing is called and the caller still owns arg.
 * Any thread.
 */
XPCOM_API(nsresult)
xpcom_dispatch_fn(nsIEventTarget *target, void (*run)(void *arg), void *arg,
                  void (*drop)(void *arg));

/* ---- threads with their own loop --------------------------------------- */

/*
 * Gives the calling NSPR thread (one not created by NS_NewThread) an event
 * queue, so that others can dispatch to it and NS_GetCurrentThread works
 * there. *result gets its nsIThread, AddRef'd. The thread must later call
 * xpcom_thread_detach_current(), and must watch
 * xpcom_thread_shutdown_requested(): NS_ShutdownXPCOM (or another thread's
 * nsIThread::Shutdown) asks it to stop and waits until it detaches.
 * Errors: NS_ERROR_NOT_INITIALIZED (XPCOM not running or shutting down),
 * NS_ERROR_ALREADY_INITIALIZED (the thread already has a queue).
 */
XPCOM_API(nsresult) xpcom_thread_attach_current(nsIThread **result);

/*
 * Ends what xpcom_thread_attach_current began, on that same thread: runs
 * every event still queued (including ones they dispatch), then refuses
 * further dispatch (NS_ERROR_UNEXPECTED), cancels the thread's timers and
 * wakes whoever waits in Shutdown. Release your own reference afterwards.
 * NS_ERROR_UNEXPECTED if the calling thread is not an attached one.
 */
XPCOM_API(nsresult) xpcom_thread_detach_current(void);

/*
 * True once the thread has been asked to shut down (nsIThread::Shutdown,
 * asyncShutdown or NS_ShutdownXPCOM). An event that runs a loop of its own
 * on a thread from NS_NewThread must return when this becomes true so the
 * thread can finish. Any thread.
 */
XPCOM_API(bool) xpcom_thread_shutdown_requested(nsIThread *thread);

/*
 * Registers fn(arg) to run once on `thread` itself when it finishes (its
 * shutdown, or NS_ShutdownXPCOM for the main thread): after the events
 * queued at that point have run and before the queue closes, so fn may
 * still call listeners and dispatch to the thread. For objects bound to a
 * thread that must not outlive it silently (a channel whose stop event
 * could otherwise never be delivered). Hooks run newest first.
 * NS_ERROR_INVALID_ARG (no fn, not one of this runtime's threads),
 * NS_ERROR_UNEXPECTED (the thread is already finishing: fn will not run),
 * NS_ERROR_OUT_OF_MEMORY. Any thread.
 */
XPCOM_API(nsresult) xpcom_thread_at_close(nsIThread *thread, void (*fn)(void *), void *arg);

/*
 * Removes one registration of fn(arg) made with xpcom_thread_at_close.
 * True when it was still registered (it will not run); false when it has
 * run, is running or never was. Any thread.
 */
XPCOM_API(bool) xpcom_thread_cancel_at_close(nsIThread *thread, void (*fn)(void *), void *arg);

/*
 * The thread's wake-up descriptor: readable (PR_POLL_READ) while events are
 * queued (at the latest once the dispatching call has returned), and after
 * a timer armed from another thread needs the loop to recompute its
 * timeout. A wake-up that races with the thread taking the event may make
 * it readable once more with nothing queued; xpcom_thread_run_pending()
 * clears that, so a poll loop sees at most one spurious wake-up per race,
 * never a spin.
 * It is a PRFileDesc of the NSPR I/O layer over an OS descriptor (a Linux
 * eventfd): PR_Poll works on it and PR_FileDesc2NativeHandle gives the OS
 * descriptor for epoll and the like. It belongs to the thread: do not
 * close, read or write it. Valid until the thread object is destroyed.
 * NULL if `thread` is not one of this runtime's threads. Any thread.
 */
XPCOM_API(PRFileDesc *) xpcom_thread_pollable(nsIThread *thread);

/*
 * Runs, without blocking, the due timers and the events that were queued
 * when it was called (events they dispatch wait for the next call, so a
 * poll loop is never starved). Returns how many events and timer firings
 * ran. Only on the thread itself (else returns 0).
 */
XPCOM_API(uint32_t) xpcom_thread_run_pending(nsIThread *thread);

/*
 * How long the thread may sleep: PR_INTERVAL_NO_WAIT when events are queued
 * or a timer is due, the time until the nearest timer otherwise (rounded up
 * to whole milliseconds), or PR_INTERVAL_NO_TIMEOUT without timers. Only on
 * the thread itself (timers armed from other threads wake the pollable
 * descriptor, so recompute after each wake-up).
 */
XPCOM_API(PRIntervalTime) xpcom_thread_next_timeout(nsIThread *thread);

/* ---- timers ------------------------------------------------------------ */

/* The callback of xpcom_timer_arm: runs on the arming thread. */
typedef void (*xpcom_timer_fn)(nsITimer *timer, void *closure);

/*
 * Arms a timer on the calling thread: fn(timer, closure) runs from this
 * thread's event loop after delay_ms milliseconds (type: one of
 * nsITimer's TYPE_ONE_SHOT 0, TYPE_REPEATING_SLACK 1,
 * TYPE_REPEATING_PRECISE 2, TYPE_REPEATING_PRECISE_CAN_SKIP 3).
 * If *timer is NULL a new timer is created and stored there (the caller
 * owns that reference); otherwise *timer is re-armed (a pending firing is
 * cancelled first). closure is not owned: keep it alive until the timer
 * fires (one-shot) or is cancelled. An armed timer keeps itself alive, so
 * releasing the caller's reference does not cancel it.
 * Errors: NS_ERROR_NOT_INITIALIZED when the calling thread has no event
 * queue, NS_ERROR_UNEXPECTED when that queue has shut down,
 * NS_ERROR_INVALID_ARG, NS_ERROR_OUT_OF_MEMORY.
 */
XPCOM_API(nsresult)
xpcom_timer_arm(nsITimer **timer, uint32_t delay_ms, uint32_t type,
                xpcom_timer_fn fn, void *closure);

/* Cancels *timer (if non-NULL), releases the caller's reference and sets
 * *timer to NULL. After it returns, fn will not be called again unless the
 * timer is firing right now on another thread. Any thread. */
XPCOM_API(void) xpcom_timer_release(nsITimer **timer);

XPCOM_END_DECLS

#endif /* WSCHANNEL_XPCOM_THREAD_H */

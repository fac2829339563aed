/*
 * net_sts.h — the socket-transport service: ONE thread per process that
 * owns every socket of the network layer and waits on them all (epoll on
 * Linux, with PR_Poll's semantics for NSPR's layered descriptors).
 *
 * The thread starts on first use (net_sts_ensure, net_sts_dispatch, …) and
 * is an ordinary runtime thread (NS_NewThread) whose first event runs the
 * poll loop: a wait on the thread's pollable event (readable while
 * events are queued) plus every attached socket, with
 * xpcom_thread_next_timeout() as timeout, so events dispatched to it and
 * timers armed on it (xpcom_timer_arm) run from the same loop. When XPCOM
 * shuts down (xpcom_thread_shutdown_requested) the loop stops: every
 * attached handler gets on_detach(NS_ERROR_ABORT), the stop hooks run
 * (net_sts_at_stop: admission, DNS, NSS …), and the runtime joins the
 * thread. A later NS_InitXPCOM2 starts a new one on first use.
 *
 * Other threads reach the service only through net_sts_dispatch(); socket
 * handlers are attached, updated and detached only on the thread itself.
 *
 * Scale (Linux): the loop waits with epoll, not PR_Poll, so an iteration
 * costs O(ready handlers) for plain NSPR sockets, whatever the number
 * attached: their OS descriptors (PR_FileDesc2NativeHandle) stay
 * registered in the epoll set (level-triggered), and attach, update and
 * detach change that registration in O(1). 10,000 sockets are fine within
 * RLIMIT_NOFILE. Dispatch order among ready handlers is unspecified.
 *
 * Layered descriptors (an NSS SSL layer over the socket, a pollable
 * event, any fd with fd->lower) keep PR_Poll's exact semantics: before
 * each wait the service asks the layer through its poll method, once for
 * READ and once for WRITE as PR_Poll does. A layer that answers "ready
 * now" (e.g. SSL plaintext already buffered, which the OS descriptor does
 * not show) is reported without waiting; otherwise the OS events the layer
 * asked for (possibly the opposite direction, as in a TLS handshake) are
 * registered for the bottom descriptor, and OS readiness is reported back
 * in the handler's terms. By default a layered handler's layers are asked
 * every iteration (O(layered handlers), user space only); a handler that
 * sets layer_poll = NET_STS_LAYER_ON_CHANGE is asked only after it was
 * attached or updated and after each of its on_ready calls (see the field).
 *
 * TLS (wss://) fits without change: a handler's fd may be an NSS SSL layer
 * stack; the handler keeps stating what it wants (read/write) in in_flags.
 */
#ifndef WSCHANNEL_NET_STS_H
#define WSCHANNEL_NET_STS_H

#include <prio.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nscore.h"
#include "nsError.h"

/* Exported from libwschannel: the channel component (a separate shared
 * object) calls the network layer through these. */
#define NET_API(type) XPCOM_API(type)

XPCOM_BEGIN_DECLS

/* ---- handlers (socket-transport thread only) --------------------------- */

typedef struct net_sts_handler net_sts_handler;

struct net_sts_handler {
  /* What to poll. fd may be NULL (attached but not polled: e.g. a
   * connection still resolving), and in_flags 0 polls nothing either.
   * After changing either while attached, call net_sts_update(). The
   * handler owns fd; the service never closes it. */
  PRFileDesc *fd;
  PRInt16 in_flags;
  /* The wait reported out_flags (non-zero, PR_Poll's meaning: only flags
   * of the current in_flags, plus PR_POLL_ERR, PR_POLL_HUP, PR_POLL_NVAL
   * although not asked for). May attach, update or detach any handler,
   * including this one. */
  void (*on_ready)(net_sts_handler *h, PRInt16 out_flags);
  /* The service detached the handler because it is stopping (why =
   * NS_ERROR_ABORT). The handler is no longer attached when this runs; it
   * should close its fd and finish. Not called for net_sts_detach(). */
  void (*on_detach)(net_sts_handler *h, nsresult why);
  /* Private to the service: its slot, -1 when not attached. */
  int32_t sts_index;
  /* Layered fds only (ignored for a plain NSPR socket): when the service
   * asks the layers' poll methods. NET_STS_LAYER_EVERY_TURN (0, the
   * default) asks before every wait, exactly like PR_Poll.
   * NET_STS_LAYER_ON_CHANGE asks after net_sts_attach/net_sts_update and
   * after each on_ready call of this handler, and again before every wait
   * while the layer answers "ready now"; the handler then promises to call
   * net_sts_update() after any I/O on fd it does outside on_ready (from a
   * command event or a timer), since such I/O can change what the layer
   * needs (e.g. an SSL write that leaves ciphertext pending). Set before
   * attaching or before net_sts_update(). */
  uint8_t layer_poll;
};

enum { NET_STS_LAYER_EVERY_TURN = 0, NET_STS_LAYER_ON_CHANGE = 1 };

#define NET_STS_HANDLER_INIT {NULL, 0, NULL, NULL, -1, NET_STS_LAYER_EVERY_TURN}

/*
 * Adds h (fields set, on_ready and on_detach non-NULL) to the poll set.
 * h must stay valid until detached. O(1) amortised (at most one
 * epoll_ctl).
 * Errors: NS_ERROR_UNEXPECTED when not on the socket thread or h is
 * already attached; NS_ERROR_NOT_AVAILABLE once the service is stopping;
 * NS_ERROR_OUT_OF_MEMORY. Socket-transport thread only.
 */
NET_API(nsresult) net_sts_attach(net_sts_handler *h);

/* Re-reads h->fd, h->in_flags and h->layer_poll into h's slot. O(1) (at
 * most one epoll_ctl). Call it before closing an fd that is attached (set
 * h->fd to NULL or the new fd first): the service unregisters the old
 * descriptor while it is still open. Readiness already collected for the
 * old fd is never reported for the new one. No-op when h is not attached.
 * Socket-transport thread only. */
NET_API(void) net_sts_update(net_sts_handler *h);

/* Removes h (unregistering its descriptor: close the fd only afterwards);
 * on_ready and on_detach will not be called for it any more, even if the
 * wait already reported it in the current iteration. O(1). No-op when h is
 * not attached. Socket-transport thread only. */
NET_API(void) net_sts_detach(net_sts_handler *h);

/* True when h is attached. Socket-transport thread only. */
NET_API(bool) net_sts_is_attached(const net_sts_handler *h);

/* Number of attached handlers. Socket-transport thread only. */
NET_API(uint32_t) net_sts_handler_count(void);

/*
 * A scratch buffer of *size bytes (at least 256 KiB) that socket readers
 * on the thread share: its content is valid only until the handler
 * returns to the loop. NULL when not on the socket thread.
 */
NET_API(uint8_t *) net_sts_scratch(size_t *size);

/* ---- any thread --------------------------------------------------------- */

/*
 * Starts the service if it is not running. NS_OK, or
 * NS_ERROR_NOT_INITIALIZED (XPCOM not running or shutting down) and
 * NS_ERROR_OUT_OF_MEMORY. Any thread.
 */
NET_API(nsresult) net_sts_ensure(void);

/*
 * Runs run(arg) on the socket-transport thread (starting it if needed),
 * after the events already dispatched there: xpcom_dispatch_fn on its
 * event target, with the same ownership of arg — on NS_OK the event owns
 * arg (run once, or drop(arg) if the thread goes away first; drop may be
 * NULL); on failure nothing is called and the caller still owns arg.
 * Errors: those of net_sts_ensure, NS_ERROR_UNEXPECTED when the thread has
 * stopped, NS_ERROR_OUT_OF_MEMORY. Any thread.
 */
NET_API(nsresult)
net_sts_dispatch(void (*run)(void *arg), void *arg, void (*drop)(void *arg));

/* True on the socket-transport thread. Any thread (for assertions). */
NET_API(bool) net_sts_is_current(void);

/* Orders of stop hooks (lower runs first). */
enum {
  NET_STS_STOP_EARLY = 0,    /* per-connection bookkeeping (admission) */
  NET_STS_STOP_SERVICES = 1, /* helper threads (DNS) */
  NET_STS_STOP_LAST = 2      /* process-wide libraries (NSS) */
};

/*
 * Registers fn to run once on the socket thread when the service stops
 * (after every handler was detached), by ascending `order`, then in reverse
 * registration order. A function already registered is not added twice.
 * The list is emptied when the hooks run: a module registers again when
 * it is used with a new service. Starts the service if needed.
 * Errors: NS_ERROR_NOT_AVAILABLE when the service is stopping (fn will not
 * run: do not set up what it would tear down), those of net_sts_ensure,
 * NS_ERROR_OUT_OF_MEMORY. Any thread.
 */
NET_API(nsresult) net_sts_at_stop(void (*fn)(void), int order);

XPCOM_END_DECLS

#endif /* WSCHANNEL_NET_STS_H */

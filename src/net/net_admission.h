/*
 * net_admission.h — when a WebSocket connection may start connecting.
 *
 * RFC 6455 §4.1 (item 2 of the client requirements): at most one
 * connection per remote address may be in the CONNECTING state; the others
 * wait, in FIFO order, until it has opened or failed. The address is the
 * resolved IP and port (the first address DNS returned), as in Gecko.
 *
 * RFC 6455 §7.2.3: after a failed attempt, the next attempt to the same
 * address waits. Gecko's numbers (FailDelayManager): the first delay is
 * random in 200–400 ms, each further failure multiplies it by 1.5 up to
 * 60 s, a record expires 60 s + delay after its last failure, and a
 * successful open clears it. The pref network.websocket.delay-failed-
 * reconnects (default true) turns the delay off.
 *
 * Also the process-wide session limit network.websocket.max-connections
 * (Gecko default 200, clamped to 1–65535): the channel reserves a session
 * at asyncOpen (NS_ERROR_SOCKET_CREATE_FAILED when full) and releases it
 * after onStop.
 *
 * Queue functions run on the socket-transport thread only; the session
 * counter may be used from any thread.
 */
#ifndef WSCHANNEL_NET_ADMISSION_H
#define WSCHANNEL_NET_ADMISSION_H

#include <prio.h>

#include "net_sts.h"

XPCOM_BEGIN_DECLS

typedef struct net_admission_ticket net_admission_ticket;

/* Embedded in a connection. Set on_admit, leave the rest to the module. */
struct net_admission_ticket {
  /* The connection may start connecting now (it is CONNECTING for its
   * address until net_admission_done). Runs from the socket thread's loop,
   * never inside net_admission_enqueue or net_admission_done. */
  void (*on_admit)(net_admission_ticket *t);
  /* private */
  struct net_admission_ticket *next, *prev; /* the waiting queue: O(1) removal */
  void *key;     /* the address record, NULL when not queued */
  int state;     /* 0 idle, 1 waiting, 2 connecting */
};

#define NET_ADMISSION_TICKET_INIT(fn) {(fn), NULL, NULL, NULL, 0}

typedef enum net_admission_outcome {
  NET_ADMISSION_OPENED,    /* the WebSocket handshake succeeded: clears the delay */
  NET_ADMISSION_FAILED,    /* the attempt failed: starts / grows the delay */
  NET_ADMISSION_CANCELLED  /* given up by our side: no effect on the delay */
} net_admission_outcome;

/*
 * Queues t for addr (IP and port; copied). on_admit runs later, from the
 * loop, when t is first in line, no other connection is CONNECTING to
 * addr and any failure delay has passed. NS_OK, NS_ERROR_UNEXPECTED (t
 * already queued, or not on the socket thread), NS_ERROR_OUT_OF_MEMORY.
 */
NET_API(nsresult) net_admission_enqueue(net_admission_ticket *t, const PRNetAddr *addr);

/*
 * Ends t's turn: removes it from the line, or, if it was CONNECTING,
 * records the outcome and lets the next connection to the address go.
 * No-op for a ticket that is not queued. Socket thread only.
 */
NET_API(void) net_admission_done(net_admission_ticket *t, net_admission_outcome outcome);

/* Milliseconds a new attempt to addr would wait now because of earlier
 * failures (0 = none). Socket thread only (for tests and logs). */
NET_API(uint32_t) net_admission_delay_ms(const PRNetAddr *addr);

/* Forgets every address record and cancels their timers. A stop hook of
 * the socket-transport service; queued tickets are dropped (their
 * connections were detached before). Socket thread only. */
NET_API(void) net_admission_shutdown(void);

/*
 * Reserves one session against network.websocket.max-connections: true
 * if the count was below the limit (it is now one higher), false if full.
 * Any thread; lock-free.
 */
NET_API(bool) net_admission_try_reserve(void);

/* Gives back a reserved session. Any thread. */
NET_API(void) net_admission_release(void);

/* Sessions currently reserved. Any thread. */
NET_API(uint32_t) net_admission_sessions(void);

XPCOM_END_DECLS

#endif /* WSCHANNEL_NET_ADMISSION_H */

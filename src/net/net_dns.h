/*
 * net_dns.h — host name resolution that never blocks the caller's loop.
 *
 * A small pool (at most two NSPR threads, started on demand) runs
 * PR_GetAddrInfoByName(host, PR_AF_UNSPEC, PR_AI_ADDRCONFIG) and posts the
 * result back to the requesting thread's event queue (xpcom_dispatch_fn);
 * IP literals (IPv4, or IPv6 with or without brackets) are converted
 * without the pool but still reported through the queue, so the callback
 * never runs inside net_dns_resolve. The pool stops when the
 * socket-transport service stops (XPCOM shutdown); it waits for a lookup
 * that is under way.
 */
#ifndef WSCHANNEL_NET_DNS_H
#define WSCHANNEL_NET_DNS_H

#include <prio.h>
#include <stddef.h>

#include "net_sts.h"

XPCOM_BEGIN_DECLS

/* The addresses of one host, in the resolver's order (RFC 6724), without
 * duplicates, each with the port asked for. One malloc'd block: free(). */
typedef struct net_addr_list {
  size_t count; /* >= 1 */
  PRNetAddr addrs[];
} net_addr_list;

/*
 * The result, on the thread that called net_dns_resolve: status NS_OK with
 * `addrs` (the callback owns it: free() it), or a failure with addrs NULL:
 * NS_ERROR_UNKNOWN_HOST (no such name, or no address for it),
 * NS_ERROR_ABORT (the pool stopped first), NS_ERROR_OUT_OF_MEMORY.
 * Called exactly once unless the request was cancelled.
 */
typedef void (*net_dns_callback)(void *closure, nsresult status, net_addr_list *addrs);

typedef struct net_dns_request net_dns_request;

/*
 * Starts resolving `host` (ASCII; IDN already punycode; copied) for
 * `port`. The calling thread must have an event queue (an XPCOM thread:
 * main, NS_NewThread, the socket-transport thread). On NS_OK *out (if not
 * NULL) is a handle valid until the callback has run or net_dns_cancel.
 * Errors (nothing is called later): NS_ERROR_INVALID_ARG (empty host,
 * NULL callback), NS_ERROR_NOT_AVAILABLE (no event queue on this thread,
 * or the pool is stopping), NS_ERROR_OUT_OF_MEMORY. Any XPCOM thread.
 */
NET_API(nsresult)
net_dns_resolve(const char *host, uint16_t port, net_dns_callback cb, void *closure,
                net_dns_request **out);

/*
 * Cancels a request whose callback has not run yet: the callback will
 * never be called and its result is freed. Only on the requesting thread,
 * and only before the callback ran (the handle is invalid afterwards).
 */
NET_API(void) net_dns_cancel(net_dns_request *req);

/*
 * Stops the pool: joins its threads (after a lookup under way returns);
 * queued requests complete with NS_ERROR_ABORT (or are dropped if their
 * thread is gone). Registered as a stop hook of the socket-transport
 * service; a later request starts the pool again. Any thread but a pool
 * thread.
 */
NET_API(void) net_dns_shutdown(void);

XPCOM_END_DECLS

#endif /* WSCHANNEL_NET_DNS_H */

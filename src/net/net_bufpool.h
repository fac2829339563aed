/*
 * net_bufpool.h — a small process-wide cache of large receive buffers.
 *
 * A large message is assembled by the socket thread and freed on its
 * owner's thread after delivery. Freeing and allocating it again per
 * message costs page faults and zeroing (about a fifth of the time at
 * 1 MiB per message) and leaves the allocator holding freed pages. The
 * pool keeps buffers of NET_BUFPOOL_MIN bytes or more that are given back
 * and hands them out again, up to NET_BUFPOOL_MAX_BYTES in all (whatever
 * does not fit is freed at once), so retention is bounded per process,
 * not per connection.
 *
 * Buffers are plain malloc() memory: one from the pool may be realloc()'d
 * or free()'d like any other (then it simply leaves the pool's cycle).
 *
 * Threads: net_bufpool_put and net_bufpool_drain from any thread;
 * net_bufpool_get from any thread too, but only one taker at a time uses
 * the cache (another concurrent taker just gets malloc). Lock-free: givers
 * push onto a stack with one CAS; the taker takes the whole stack.
 */
#ifndef WSCHANNEL_NET_BUFPOOL_H
#define WSCHANNEL_NET_BUFPOOL_H

#include <stddef.h>

#include "net_sts.h" /* NET_API */
#include "websocket/ws_mem.h"

XPCOM_BEGIN_DECLS

#define NET_BUFPOOL_MIN (64u * 1024u)        /* smaller sizes bypass the pool */
#define NET_BUFPOOL_MAX_BYTES (8u * 1024u * 1024u)

/* A buffer of at least `size` bytes: a cached one when one fits (at most
 * four times larger than asked), else malloc(size). NULL when out of
 * memory. */
NET_API(void *) net_bufpool_get(size_t size);

/* Gives `p` (malloc memory, any origin) back: cached when it is large and
 * the pool has room, else freed. NULL is ignored. */
NET_API(void) net_bufpool_put(void *p);

/* Frees every cached buffer (at socket-thread shutdown, and in tests). */
NET_API(void) net_bufpool_drain(void);

/* Bytes cached now (tests and diagnostics). */
NET_API(size_t) net_bufpool_cached_bytes(void);

/* The engine allocator over the pool (ws_mem.h), for sessions: large
 * allocations come from the pool and go back to it. Static; any thread. */
NET_API(const struct ws_mem *) net_bufpool_mem(void);

XPCOM_END_DECLS

#endif

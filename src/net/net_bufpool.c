/*
 * net_bufpool.c — the large receive buffer cache (see net_bufpool.h).
 *
 * A cached buffer carries its own list link and size in its first bytes
 * (it is free memory, at least NET_BUFPOOL_MIN long). Givers push with a
 * CAS; a taker swaps the whole stack out, picks one buffer and pushes the
 * rest back. Only one taker runs at a time (a try-lock; a second one
 * mallocs), so the swap-out never races with another pop: no ABA.
 */
#include "net_bufpool.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct cached {
  struct cached *next;
  size_t size; /* usable bytes */
} cached;

static _Atomic(cached *) g_stack;
static atomic_size_t g_bytes; /* usable bytes of the cached buffers */
static atomic_flag g_taking = ATOMIC_FLAG_INIT;

static void push(cached *c) {
  cached *old = atomic_load_explicit(&g_stack, memory_order_relaxed);
  do {
    c->next = old;
  } while (!atomic_compare_exchange_weak_explicit(&g_stack, &old, c, memory_order_release,
                                                  memory_order_relaxed));
}

NET_API(void) net_bufpool_put(void *p) {
  if (!p)
    return;
  size_t size = malloc_usable_size(p);
  if (size < NET_BUFPOOL_MIN) {
    free(p);
    return;
  }
  /* Reserve room first, so concurrent givers never overshoot the cap. */
  size_t before = atomic_fetch_add(&g_bytes, size);
  if (before + size > NET_BUFPOOL_MAX_BYTES) {
    atomic_fetch_sub(&g_bytes, size);
    free(p);
    return;
  }
  cached *c = p;
  c->size = size;
  push(c);
}

/* A cached buffer of at least `size` bytes, or NULL. */
static void *take(size_t size) {
  if (size < NET_BUFPOOL_MIN || atomic_load_explicit(&g_stack, memory_order_relaxed) == NULL ||
      atomic_flag_test_and_set_explicit(&g_taking, memory_order_acquire))
    return NULL;
  cached *list = atomic_exchange_explicit(&g_stack, NULL, memory_order_acquire);
  /* The smallest that fits and is not wastefully large. */
  cached *best = NULL, **best_link = NULL;
  for (cached **link = &list; *link; link = &(*link)->next) {
    cached *c = *link;
    if (c->size >= size && c->size / 4 <= size && (!best || c->size < best->size)) {
      best = c;
      best_link = link;
    }
  }
  if (best)
    *best_link = best->next;
  while (list) {
    cached *next = list->next;
    push(list);
    list = next;
  }
  atomic_flag_clear_explicit(&g_taking, memory_order_release);
  if (best)
    atomic_fetch_sub(&g_bytes, best->size);
  return best;
}

NET_API(void *) net_bufpool_get(size_t size) {
  void *p = take(size);
  return p ? p : malloc(size);
}

NET_API(void) net_bufpool_drain(void) {
  cached *list = atomic_exchange_explicit(&g_stack, NULL, memory_order_acquire);
  while (list) {
    cached *next = list->next;
    atomic_fetch_sub(&g_bytes, list->size);
    free(list);
    list = next;
  }
}

NET_API(size_t) net_bufpool_cached_bytes(void) { return atomic_load(&g_bytes); }

static void *pool_malloc(size_t size, void *ud) {
  (void)ud;
  return net_bufpool_get(size);
}

/* Growing a small buffer into a large one: a cached buffer if one fits
 * (a message that began small, then grew), else realloc as usual. */
static void *pool_realloc(void *ptr, size_t size, void *ud) {
  (void)ud;
  size_t old = malloc_usable_size(ptr);
  if (old < size) {
    uint8_t *p = take(size);
    if (p) {
      memcpy(p, ptr, old);
      net_bufpool_put(ptr);
      return p;
    }
  }
  return realloc(ptr, size);
}

static void pool_free(void *ptr, void *ud) {
  (void)ud;
  net_bufpool_put(ptr);
}

static const struct ws_mem g_mem = {pool_malloc, pool_realloc, pool_free, NULL};

NET_API(const struct ws_mem *) net_bufpool_mem(void) { return &g_mem; }

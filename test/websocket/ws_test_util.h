/*
 * ws_test_util.h — shared helpers for the engine's unit tests: a counting
 * allocator that can fail the Nth allocation, and hex formatting.
 * Header-only so each test program stays one source file.
 */
#ifndef WSCHANNEL_WS_TEST_UTIL_H
#define WSCHANNEL_WS_TEST_UTIL_H

#include <stdlib.h>

#include "websocket/ws_mem.h"

/* Counts live allocations; fail_at > 0 makes the fail_at-th allocation
 * (malloc or realloc, counted from 1) fail, and only that one. */
struct test_alloc {
  long live;
  long calls;
  long fail_at;
  long failures;
};

static inline void *test_alloc_malloc(size_t size, void *ud) {
  struct test_alloc *a = ud;
  if (++a->calls == a->fail_at) {
    a->failures++;
    return NULL;
  }
  void *p = malloc(size);
  if (p)
    a->live++;
  return p;
}

static inline void *test_alloc_realloc(void *ptr, size_t size, void *ud) {
  struct test_alloc *a = ud;
  if (++a->calls == a->fail_at) {
    a->failures++;
    return NULL;
  }
  return realloc(ptr, size);
}

static inline void test_alloc_free(void *ptr, void *ud) {
  struct test_alloc *a = ud;
  if (ptr)
    a->live--;
  free(ptr);
}

static inline struct ws_mem test_alloc_mem(struct test_alloc *a) {
  struct ws_mem m = {test_alloc_malloc, test_alloc_realloc, test_alloc_free, a};
  return m;
}

#endif

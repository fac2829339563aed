/*
 * test_bufpool.c — the large receive buffer cache (src/net/net_bufpool.h):
 * reuse, the size rules, the byte cap, the engine allocator over it, and
 * givers on several threads racing one taker.
 */
#include <check.h>
#include <malloc.h>
#include <prthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_bufpool.h"

static void setup(void) { net_bufpool_drain(); }
static void teardown(void) {
  net_bufpool_drain();
  ck_assert_uint_eq(net_bufpool_cached_bytes(), 0);
}

START_TEST(large_buffers_are_reused) {
  uint8_t *a = net_bufpool_get(1 << 20);
  ck_assert_ptr_nonnull(a);
  memset(a, 1, 1 << 20); /* really that large */
  net_bufpool_put(a);
  ck_assert_uint_ge(net_bufpool_cached_bytes(), 1 << 20);
  uint8_t *b = net_bufpool_get(1 << 20);
  ck_assert_ptr_eq(b, a);
  ck_assert_uint_eq(net_bufpool_cached_bytes(), 0);
  /* Smaller, but not four times smaller: the same buffer again. */
  net_bufpool_put(b);
  uint8_t *c = net_bufpool_get(300 * 1024);
  ck_assert_ptr_eq(c, a);
  net_bufpool_put(c);
  /* Far smaller: not wasted on it. */
  uint8_t *d = net_bufpool_get(NET_BUFPOOL_MIN);
  ck_assert_ptr_ne(d, a);
  free(d); /* plain malloc memory either way */
  /* Larger than any cached: a new one. */
  uint8_t *e = net_bufpool_get(2 << 20);
  ck_assert_ptr_ne(e, a);
  net_bufpool_put(e);
}
END_TEST

START_TEST(small_buffers_bypass_the_pool) {
  void *p = malloc(1000);
  net_bufpool_put(p); /* freed: ASan/valgrind would see a leak otherwise */
  ck_assert_uint_eq(net_bufpool_cached_bytes(), 0);
  net_bufpool_put(NULL);
  void *q = net_bufpool_get(100);
  ck_assert_ptr_nonnull(q);
  free(q);
}
END_TEST

START_TEST(the_cap_bounds_what_is_kept) {
  enum { N = 12 };
  void *bufs[N];
  for (int i = 0; i < N; i++)
    bufs[i] = malloc(1 << 20);
  for (int i = 0; i < N; i++)
    net_bufpool_put(bufs[i]);
  size_t kept = net_bufpool_cached_bytes();
  ck_assert_uint_le(kept, NET_BUFPOOL_MAX_BYTES);
  ck_assert_uint_ge(kept, NET_BUFPOOL_MAX_BYTES - (2u << 20));
}
END_TEST

START_TEST(engine_allocator_over_the_pool) {
  const struct ws_mem *m = net_bufpool_mem();
  /* A buffer that starts small and grows takes a cached one. */
  uint8_t *big = malloc(1 << 20);
  net_bufpool_put(big);
  uint8_t *p = m->malloc(1000, m->user_data);
  memcpy(p, "hello", 5);
  uint8_t *q = m->realloc(p, 1 << 20, m->user_data);
  ck_assert_ptr_eq(q, big);
  ck_assert_mem_eq(q, "hello", 5);
  /* Freed through the allocator: back in the pool. */
  m->free(q, m->user_data);
  ck_assert_uint_ge(net_bufpool_cached_bytes(), 1 << 20);
  /* No cached buffer fits: plain realloc keeps the bytes. */
  uint8_t *r = m->malloc(10, m->user_data);
  memcpy(r, "0123456789", 10);
  uint8_t *s = m->realloc(r, 8 << 20, m->user_data);
  ck_assert_ptr_nonnull(s);
  ck_assert_mem_eq(s, "0123456789", 10);
  m->free(s, m->user_data);
}
END_TEST

/* Givers on three threads, one taker: every buffer is either handed out
 * once or still cached, and nothing is lost or doubled (ASan would see a
 * double free; the count check sees a lost one). */
enum { GIVERS = 3, PER_GIVER = 400, BUF = 128 * 1024 };
static atomic_int g_given;

static void giver(void *arg) {
  (void)arg;
  for (int i = 0; i < PER_GIVER; i++) {
    uint8_t *b = malloc(BUF);
    ck_assert_ptr_nonnull(b);
    b[BUF - 1] = 7;
    net_bufpool_put(b);
    atomic_fetch_add(&g_given, 1);
  }
}

START_TEST(givers_race_a_taker) {
  atomic_store(&g_given, 0);
  PRThread *t[GIVERS];
  for (int i = 0; i < GIVERS; i++)
    t[i] = PR_CreateThread(PR_USER_THREAD, giver, NULL, PR_PRIORITY_NORMAL, PR_GLOBAL_THREAD,
                           PR_JOINABLE_THREAD, 0);
  int taken = 0;
  while (atomic_load(&g_given) < GIVERS * PER_GIVER || net_bufpool_cached_bytes() > 0) {
    uint8_t *b = net_bufpool_get(BUF);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_ge(malloc_usable_size(b), BUF);
    b[0] = 1;
    free(b);
    taken++;
  }
  for (int i = 0; i < GIVERS; i++)
    PR_JoinThread(t[i]);
  ck_assert_uint_eq(net_bufpool_cached_bytes(), 0);
  ck_assert_int_ge(taken, 1);
}
END_TEST

int main(void) {
  Suite *s = suite_create("net_bufpool");
  TCase *tc = tcase_create("pool");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, large_buffers_are_reused);
  tcase_add_test(tc, small_buffers_bypass_the_pool);
  tcase_add_test(tc, the_cap_bounds_what_is_kept);
  tcase_add_test(tc, engine_allocator_over_the_pool);
  tcase_add_test(tc, givers_race_a_taker);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

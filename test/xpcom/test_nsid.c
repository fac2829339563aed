/*
 * test_nsid.c — nsID parsing, formatting and comparison.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "nsID.h"

/* nsIWebSocketListener, from xpcom-facts.md §2. */
static const nsID kListener = {0xd74c96b2, 0x65b3, 0x4e39,
                               {0x9e, 0x39, 0xc5, 0x77, 0xde, 0x5d, 0x7a, 0x73}};
static const nsID kSupports = {0, 0, 0, {0xc0, 0, 0, 0, 0, 0, 0, 0x46}};

START_TEST(test_parse_braced)
{
  nsID id;
  ck_assert(nsID_Parse(&id, "{d74c96b2-65b3-4e39-9e39-c577de5d7a73}"));
  ck_assert(nsID_Equals(&id, &kListener));
}
END_TEST

START_TEST(test_parse_bare_and_upper)
{
  nsID id;
  ck_assert(nsID_Parse(&id, "d74c96b2-65b3-4e39-9e39-c577de5d7a73"));
  ck_assert(nsID_Equals(&id, &kListener));
  memset(&id, 0, sizeof id);
  ck_assert(nsID_Parse(&id, "{D74C96B2-65B3-4E39-9E39-C577DE5D7A73}"));
  ck_assert(nsID_Equals(&id, &kListener));
  ck_assert(nsID_Parse(&id, "00000000-0000-0000-c000-000000000046"));
  ck_assert(nsID_Equals(&id, &kSupports));
}
END_TEST

START_TEST(test_parse_field_values)
{
  nsID id;
  ck_assert(nsID_Parse(&id, "{01234567-89ab-cdef-0123-456789abcdef}"));
  ck_assert_uint_eq(id.m0, 0x01234567u);
  ck_assert_uint_eq(id.m1, 0x89ab);
  ck_assert_uint_eq(id.m2, 0xcdef);
  static const uint8_t m3[8] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
  ck_assert_mem_eq(id.m3, m3, 8);
  ck_assert(nsID_Parse(&id, "ffffffff-ffff-ffff-ffff-ffffffffffff"));
  ck_assert_uint_eq(id.m0, 0xffffffffu);
}
END_TEST

static const char *const kBad[] = {
    "",
    "{",
    "{}",
    "d74c96b2-65b3-4e39-9e39-c577de5d7a7",      /* one digit short */
    "d74c96b2-65b3-4e39-9e39-c577de5d7a733",    /* one digit long */
    "{d74c96b2-65b3-4e39-9e39-c577de5d7a73",    /* no closing brace */
    "d74c96b2-65b3-4e39-9e39-c577de5d7a73}",    /* no opening brace */
    "{d74c96b2-65b3-4e39-9e39-c577de5d7a73}x",  /* trailing text */
    " d74c96b2-65b3-4e39-9e39-c577de5d7a73",    /* leading space */
    "d74c96b2-65b3-4e39-9e39-c577de5d7a73 ",    /* trailing space */
    "d74c96b265b3-4e39-9e39-c577de5d7a73-",     /* dash misplaced */
    "d74c96b2-65b34e39-9e39-c577de5d7a73-",
    "d74c96b2-65b3-4e39-9e39c577-de5d7a73",
    "d74c96g2-65b3-4e39-9e39-c577de5d7a73",     /* not hex */
    "d74c96b2-65b3-4e39-9e39-c577de5d7a7z",
    "d74c96b2_65b3_4e39_9e39_c577de5d7a73",
    "+74c96b2-65b3-4e39-9e39-c577de5d7a73",
    "{{d74c96b2-65b3-4e39-9e39-c577de5d7a73}}",
    "d74c96b2-65b3-4e39-9e39",
};

START_TEST(test_parse_bad)
{
  nsID id = kSupports;
  for (size_t i = 0; i < sizeof kBad / sizeof kBad[0]; i++) {
    ck_assert_msg(!nsID_Parse(&id, kBad[i]), "accepted \"%s\"", kBad[i]);
    /* Left untouched on failure. */
    ck_assert(nsID_Equals(&id, &kSupports));
  }
  ck_assert(!nsID_Parse(&id, NULL));
  ck_assert(!nsID_Parse(NULL, "d74c96b2-65b3-4e39-9e39-c577de5d7a73"));
}
END_TEST

START_TEST(test_to_string)
{
  char buf[NSID_LENGTH];
  memset(buf, 'x', sizeof buf);
  nsID_ToString(&kListener, buf);
  ck_assert_str_eq(buf, "{d74c96b2-65b3-4e39-9e39-c577de5d7a73}");
  ck_assert_uint_eq(strlen(buf), NSID_LENGTH - 1);
  nsID_ToString(&kSupports, buf);
  ck_assert_str_eq(buf, "{00000000-0000-0000-c000-000000000046}");
}
END_TEST

START_TEST(test_round_trip)
{
  nsID a, b;
  char buf[NSID_LENGTH];
  ck_assert(nsID_Parse(&a, "{CE71D028-322A-4105-A947-A894689B52BF}"));
  nsID_ToString(&a, buf);
  ck_assert_str_eq(buf, "{ce71d028-322a-4105-a947-a894689b52bf}");
  ck_assert(nsID_Parse(&b, buf));
  ck_assert(nsID_Equals(&a, &b));
}
END_TEST

START_TEST(test_equals)
{
  nsID a = kListener, b = kListener;
  ck_assert(nsID_Equals(&a, &b));
  b.m3[7] ^= 1;
  ck_assert(!nsID_Equals(&a, &b));
  b = kListener;
  b.m0++;
  ck_assert(!nsID_Equals(&a, &b));
  b = kListener;
  b.m2++;
  ck_assert(!nsID_Equals(&a, &b));
  ck_assert(!nsID_Equals(&kListener, &kSupports));
}
END_TEST

static Suite *nsid_suite(void)
{
  Suite *s = suite_create("nsID");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_parse_braced);
  tcase_add_test(tc, test_parse_bare_and_upper);
  tcase_add_test(tc, test_parse_field_values);
  tcase_add_test(tc, test_parse_bad);
  tcase_add_test(tc, test_to_string);
  tcase_add_test(tc, test_round_trip);
  tcase_add_test(tc, test_equals);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(nsid_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

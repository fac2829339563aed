/*
 * test_ws_utf8.c — the UTF-8 validator against a reference decoder,
 * exhaustively for short inputs, and on the UTF-8 decoder stress-test
 * sequences that Autobahn|Testsuite section 6 uses, each fed whole, split in
 * two at every position, and one byte at a time.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "websocket/ws_utf8.h"

/* ---- reference model -------------------------------------------------
 * Independent of the DFA: a prefix is viable when some continuation could
 * complete it into RFC 3629 UTF-8. The first byte index whose inclusion
 * makes the prefix non-viable is where a fail-fast validator must stop. */

/* Returns -1 when p[0..len) is valid so far, else the first bad index.
 * *partial is set when valid but ending inside a sequence. */
static long ref_check(const uint8_t *p, size_t len, int *partial) {
  size_t i = 0;
  *partial = 0;
  while (i < len) {
    uint8_t b = p[i];
    unsigned n;
    uint32_t cp, min;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xC0 && b < 0xE0) {
      n = 2, cp = b & 0x1F, min = 0x80;
    } else if (b >= 0xE0 && b < 0xF0) {
      n = 3, cp = b & 0x0F, min = 0x800;
    } else if (b >= 0xF0 && b < 0xF8) {
      n = 4, cp = b & 0x07, min = 0x10000;
    } else {
      return (long)i; /* continuation byte or F8..FF as a lead */
    }
    size_t start = i;
    for (unsigned k = 1;; k++) {
      /* Range of code points reachable from the k bytes seen so far. */
      unsigned left = n - k;
      uint32_t lo = cp << (6 * left), hi = lo | ((1u << (6 * left)) - 1);
      uint32_t max = n == 2 ? 0x7FF : n == 3 ? 0xFFFF : 0x10FFFF;
      if (lo < min)
        lo = min;
      if (hi > max)
        hi = max;
      int ok = lo <= hi;
      /* Entirely inside the surrogate block? */
      if (ok && lo >= 0xD800 && hi <= 0xDFFF)
        ok = 0;
      if (!ok)
        return (long)(start + k - 1);
      if (k == n)
        break;
      if (start + k >= len) {
        *partial = 1;
        return -1;
      }
      uint8_t c = p[start + k];
      if ((c & 0xC0) != 0x80)
        return (long)(start + k);
      cp = (cp << 6) | (c & 0x3F);
    }
    i = start + n;
  }
  return -1;
}

/* Feeds `p` in the given pieces (split points, ascending) and compares the
 * final result and the absolute failure offset with the reference. Check's
 * assertions write to a pipe each time, so the hot loops compare first and
 * only assert on a mismatch. */
static void check_split(const uint8_t *p, size_t len, const size_t *cuts, size_t ncuts) {
  int partial;
  long bad = ref_check(p, len, &partial);
  struct ws_utf8 v;
  ws_utf8_init(&v);
  size_t from = 0;
  enum ws_utf8_result r = WS_UTF8_VALID;
  long got_bad = -1;
  for (size_t c = 0; c <= ncuts; c++) {
    size_t to = c < ncuts ? cuts[c] : len;
    size_t off = 0;
    r = ws_utf8_feed(&v, p + from, to - from, &off);
    if (r == WS_UTF8_INVALID) {
      got_bad = (long)(from + off);
      break;
    }
    from = to;
  }
  enum ws_utf8_result want = bad >= 0 ? WS_UTF8_INVALID : partial ? WS_UTF8_PARTIAL : WS_UTF8_VALID;
  if (r != want || got_bad != bad || ws_utf8_result(&v) != want) {
    char hex[64] = "";
    for (size_t i = 0; i < len && i < 16; i++)
      snprintf(hex + 3 * i, 4, "%02x ", p[i]);
    ck_abort_msg("input [%s] len %zu cuts %zu: result %d bad %ld, want %d bad %ld", hex, len,
                 ncuts, (int)r, got_bad, (int)want, bad);
  }
}

static void check_all_splits(const uint8_t *p, size_t len) {
  check_split(p, len, NULL, 0);
  for (size_t k = 0; k <= len; k++)
    check_split(p, len, &k, 1);
  size_t *cuts = malloc((len + 1) * sizeof *cuts);
  for (size_t k = 0; k < len; k++)
    cuts[k] = k + 1;
  check_split(p, len, cuts, len ? len - 1 : 0);
  free(cuts);
}

/* ---- exhaustive ------------------------------------------------------ */

START_TEST(test_exhaustive_two_bytes) {
  uint8_t b[2];
  for (unsigned x = 0; x < 256; x++) {
    b[0] = (uint8_t)x;
    check_split(b, 1, NULL, 0);
    for (unsigned y = 0; y < 256; y++) {
      b[1] = (uint8_t)y;
      check_split(b, 2, NULL, 0);
    }
  }
}
END_TEST

START_TEST(test_exhaustive_three_bytes) {
  /* First byte 0x80..0xFF (ASCII first bytes reduce to the 2-byte case). */
  uint8_t b[3];
  for (unsigned x = 0x80; x < 256; x++)
    for (unsigned y = 0; y < 256; y++)
      for (unsigned z = 0; z < 256; z += (y < 0x80 ? 37 : 1)) {
        b[0] = (uint8_t)x, b[1] = (uint8_t)y, b[2] = (uint8_t)z;
        check_split(b, 3, NULL, 0);
      }
}
END_TEST

START_TEST(test_boundary_bytes_four_and_five) {
  static const uint8_t set[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0,
                                0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0,
                                0xF1, 0xF3, 0xF4, 0xF5, 0xF7, 0xF8, 0xFF};
  const size_t n = sizeof set;
  uint8_t b[5];
  for (size_t a = 0; a < n; a++)
    for (size_t c = 0; c < n; c++)
      for (size_t d = 0; d < n; d++)
        for (size_t e = 0; e < n; e++) {
          b[0] = set[a], b[1] = set[c], b[2] = set[d], b[3] = set[e];
          check_split(b, 4, NULL, 0);
          size_t cut = 2;
          check_split(b, 4, &cut, 1);
          for (size_t f = 0; f < n; f += 5) {
            b[4] = set[f];
            check_split(b, 5, NULL, 0);
          }
        }
}
END_TEST

START_TEST(test_every_code_point) {
  /* Every scalar value encodes to valid UTF-8; surrogates are rejected at
   * their second byte. */
  uint8_t b[4];
  for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
    size_t n;
    if (cp < 0x80)
      b[0] = (uint8_t)cp, n = 1;
    else if (cp < 0x800)
      b[0] = (uint8_t)(0xC0 | cp >> 6), b[1] = (uint8_t)(0x80 | (cp & 0x3F)), n = 2;
    else if (cp < 0x10000)
      b[0] = (uint8_t)(0xE0 | cp >> 12), b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)),
      b[2] = (uint8_t)(0x80 | (cp & 0x3F)), n = 3;
    else
      b[0] = (uint8_t)(0xF0 | cp >> 18), b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F)),
      b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)), b[3] = (uint8_t)(0x80 | (cp & 0x3F)), n = 4;
    struct ws_utf8 v = WS_UTF8_INIT;
    size_t off = 99;
    enum ws_utf8_result r = ws_utf8_feed(&v, b, n, &off);
    if (cp >= 0xD800 && cp <= 0xDFFF) {
      ck_assert_int_eq(r, WS_UTF8_INVALID);
      ck_assert_uint_eq(off, 1);
    } else {
      ck_assert_int_eq(r, WS_UTF8_VALID);
    }
  }
}
END_TEST

/* ---- Autobahn 6.x sequences (Markus Kuhn's decoder stress test) ------ */

struct seq {
  int valid;
  const char *bytes;
};

#define KOSME "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"

static const struct seq autobahn_seqs[] = {
    /* 6.5 some valid UTF-8 */
    {1, "hello\x24world"},
    {1, "hello\xC2\xA2world"},
    {1, "hello\xE2\x82\xACworld"},
    {1, "hello\xF0\xA4\xAD\xA2world"},
    {1, KOSME},
    /* 6.7 first possible sequence of a length (NUL handled separately) */
    {1, "\xc2\x80"},
    {1, "\xe0\xa0\x80"},
    {1, "\xf0\x90\x80\x80"},
    /* 6.8 5/6-byte forms */
    {0, "\xf8\x88\x80\x80\x80"},
    {0, "\xfc\x84\x80\x80\x80\x80"},
    /* 6.9 last possible sequence of a length */
    {1, "\x7f"},
    {1, "\xdf\xbf"},
    {1, "\xef\xbf\xbf"},
    {1, "\xf4\x8f\xbf\xbf"},
    /* 6.10 */
    {0, "\xf7\xbf\xbf\xbf"},
    {0, "\xfb\xbf\xbf\xbf\xbf"},
    {0, "\xfd\xbf\xbf\xbf\xbf\xbf"},
    /* 6.11 other boundary conditions */
    {1, "\xed\x9f\xbf"},
    {1, "\xee\x80\x80"},
    {1, "\xef\xbf\xbd"},
    {1, "\xf4\x8f\xbf\xbf"},
    {0, "\xf4\x90\x80\x80"},
    /* 6.12 unexpected continuation bytes */
    {0, "\x80"},
    {0, "\xbf"},
    {0, "\x80\xbf"},
    {0, "\x80\xbf\x80"},
    {0, "\x80\xbf\x80\xbf"},
    {0, "\x80\xbf\x80\xbf\x80"},
    {0, "\x80\xbf\x80\xbf\x80\xbf"},
    /* 6.14 sequences with the last continuation byte missing */
    {0, "\xc0"},
    {0, "\xe0\x80"},
    {0, "\xf0\x80\x80"},
    {0, "\xf8\x80\x80\x80"},
    {0, "\xfc\x80\x80\x80\x80"},
    {0, "\xdf"},
    {0, "\xef\xbf"},
    {0, "\xf7\xbf\xbf"},
    {0, "\xfb\xbf\xbf\xbf"},
    {0, "\xfd\xbf\xbf\xbf\xbf"},
    /* 6.15 concatenation of incomplete sequences */
    {0, "\xc0\xe0\x80\xf0\x80\x80\xf8\x80\x80\x80\xfc\x80\x80\x80\x80\xdf\xef\xbf\xf7\xbf\xbf"
        "\xfb\xbf\xbf\xbf\xfd\xbf\xbf\xbf\xbf"},
    /* 6.16 impossible bytes */
    {0, "\xfe"},
    {0, "\xff"},
    {0, "\xfe\xfe\xff\xff"},
    /* 6.17 overlong ASCII */
    {0, "\xc0\xaf"},
    {0, "\xe0\x80\xaf"},
    {0, "\xf0\x80\x80\xaf"},
    {0, "\xf8\x80\x80\x80\xaf"},
    {0, "\xfc\x80\x80\x80\x80\xaf"},
    /* 6.18 maximum overlong sequences */
    {0, "\xc1\xbf"},
    {0, "\xe0\x9f\xbf"},
    {0, "\xf0\x8f\xbf\xbf"},
    {0, "\xf8\x87\xbf\xbf\xbf"},
    {0, "\xfc\x83\xbf\xbf\xbf\xbf"},
    /* 6.19 overlong NUL */
    {0, "\xc0\x80"},
    {0, "\xe0\x80\x80"},
    {0, "\xf0\x80\x80\x80"},
    {0, "\xf8\x80\x80\x80\x80"},
    {0, "\xfc\x80\x80\x80\x80\x80"},
    /* 6.20 single surrogates */
    {0, "\xed\xa0\x80"},
    {0, "\xed\xad\xbf"},
    {0, "\xed\xae\x80"},
    {0, "\xed\xaf\xbf"},
    {0, "\xed\xb0\x80"},
    {0, "\xed\xbe\x80"},
    {0, "\xed\xbf\xbf"},
    /* 6.21 paired surrogates */
    {0, "\xed\xa0\x80\xed\xb0\x80"},
    {0, "\xed\xa0\x80\xed\xbf\xbf"},
    {0, "\xed\xad\xbf\xed\xb0\x80"},
    {0, "\xed\xad\xbf\xed\xbf\xbf"},
    {0, "\xed\xae\x80\xed\xb0\x80"},
    {0, "\xed\xae\x80\xed\xbf\xbf"},
    {0, "\xed\xaf\xbf\xed\xb0\x80"},
    {0, "\xed\xaf\xbf\xed\xbf\xbf"},
    /* 6.22 non-characters are valid UTF-8 */
    {1, "\xef\xbf\xbe"},
    {1, "\xef\xbf\xbf"},
    {1, "\xf0\x9f\xbf\xbe"},
    {1, "\xf0\x9f\xbf\xbf"},
    {1, "\xf1\x8f\xbf\xbe"},
    {1, "\xf3\xbf\xbf\xbf"},
    {1, "\xf4\x8f\xbf\xbe"},
    {1, "\xf4\x8f\xbf\xbf"},
    /* 6.23 specials */
    {1, "\xef\xbf\xb9"},
    {1, "\xef\xbf\xba"},
    {1, "\xef\xbf\xbb"},
    {1, "\xef\xbf\xbc"},
    {1, "\xef\xbf\xbd"},
};

START_TEST(test_autobahn_sequences) {
  for (size_t i = 0; i < sizeof autobahn_seqs / sizeof autobahn_seqs[0]; i++) {
    const uint8_t *p = (const uint8_t *)autobahn_seqs[i].bytes;
    size_t len = strlen(autobahn_seqs[i].bytes);
    ck_assert_msg(ws_utf8_validate(p, len) == (autobahn_seqs[i].valid != 0), "sequence %zu", i);
    check_all_splits(p, len);
  }
  /* NUL is valid (strlen could not carry it). */
  ck_assert(ws_utf8_validate((const uint8_t *)"\0", 1));
}
END_TEST

START_TEST(test_autobahn_generated_sequences) {
  /* 6.6: every prefix of κόσμε; valid exactly at character boundaries. */
  const uint8_t *k = (const uint8_t *)KOSME;
  for (size_t n = 1; n <= 11; n++) {
    int boundary = n == 2 || n == 5 || n == 7 || n == 9 || n == 11;
    ck_assert(ws_utf8_validate(k, n) == boundary);
    check_all_splits(k, n);
  }
  /* 6.12.8: all continuation bytes 0x80..0xBE. */
  uint8_t buf[256];
  size_t n = 0;
  for (unsigned c = 0x80; c < 0xbf; c++)
    buf[n++] = (uint8_t)c;
  ck_assert(!ws_utf8_validate(buf, n));
  check_all_splits(buf, n);
  /* 6.13: lonely start characters, each followed by a space. */
  static const unsigned ranges[][2] = {
      {0xc0, 0xdf}, {0xe0, 0xef}, {0xf0, 0xf7}, {0xf8, 0xfb}, {0xfc, 0xfd}};
  for (size_t r = 0; r < 5; r++) {
    n = 0;
    for (unsigned c = ranges[r][0]; c < ranges[r][1]; c++)
      buf[n++] = (uint8_t)c, buf[n++] = 0x20;
    ck_assert(!ws_utf8_validate(buf, n));
    check_all_splits(buf, n);
  }
  /* 6.22: non-characters F[0-4] [89AB]F BF [BE-BF] (valid) */
  static const uint8_t z1s[] = {0xf0, 0xf1, 0xf2, 0xf3, 0xf4};
  static const uint8_t z2s[] = {0x8f, 0x9f, 0xaf, 0xbf};
  for (size_t a = 0; a < 5; a++)
    for (size_t b = 0; b < 4; b++)
      for (uint8_t z3 = 0xbe; z3 <= 0xbf; z3++) {
        uint8_t s[4] = {z1s[a], z2s[b], 0xbf, z3};
        int valid = !(s[0] == 0xf4 && s[1] != 0x8f) && !(s[0] == 0xf0 && s[1] == 0x8f);
        ck_assert(ws_utf8_validate(s, 4) == valid);
        check_all_splits(s, 4);
      }
}
END_TEST

START_TEST(test_fail_fast_positions) {
  struct ws_utf8 v;
  size_t off;
  /* F5 can never start a sequence: fails at once. */
  ws_utf8_init(&v);
  ck_assert_int_eq(ws_utf8_feed(&v, (const uint8_t *)"\xF5", 1, &off), WS_UTF8_INVALID);
  ck_assert_uint_eq(off, 0);
  /* "edited" then ED A0 80: fails at A0 (a surrogate), not at the end. */
  ws_utf8_init(&v);
  ck_assert_int_eq(ws_utf8_feed(&v, (const uint8_t *)"edited", 6, &off), WS_UTF8_VALID);
  ck_assert_int_eq(ws_utf8_feed(&v, (const uint8_t *)"\xED", 1, &off), WS_UTF8_PARTIAL);
  ck_assert_int_eq(ws_utf8_feed(&v, (const uint8_t *)"\xA0\x80", 2, &off), WS_UTF8_INVALID);
  ck_assert_uint_eq(off, 0);
  /* Sticky: further input stays invalid. */
  ck_assert_int_eq(ws_utf8_feed(&v, (const uint8_t *)"a", 1, &off), WS_UTF8_INVALID);
  ck_assert_int_eq(ws_utf8_result(&v), WS_UTF8_INVALID);
  /* Overlong lead C0 fails at once; E0 80 at the 80; F4 90 at the 90. */
  ws_utf8_init(&v);
  ck_assert_int_eq(ws_utf8_feed(&v, (const uint8_t *)"ab\xC0", 3, &off), WS_UTF8_INVALID);
  ck_assert_uint_eq(off, 2);
  ws_utf8_init(&v);
  ck_assert_int_eq(ws_utf8_feed(&v, (const uint8_t *)"\xE0\x80", 2, &off), WS_UTF8_INVALID);
  ck_assert_uint_eq(off, 1);
  ws_utf8_init(&v);
  ck_assert_int_eq(ws_utf8_feed(&v, (const uint8_t *)"\xF4\x90", 2, &off), WS_UTF8_INVALID);
  ck_assert_uint_eq(off, 1);
  /* Empty input leaves the state alone. */
  ws_utf8_init(&v);
  ck_assert_int_eq(ws_utf8_feed(&v, NULL, 0, NULL), WS_UTF8_VALID);
  ck_assert_int_eq(ws_utf8_feed(&v, (const uint8_t *)"\xE2\x82", 2, NULL), WS_UTF8_PARTIAL);
  ck_assert_int_eq(ws_utf8_feed(&v, NULL, 0, NULL), WS_UTF8_PARTIAL);
  ck_assert_int_eq(ws_utf8_feed(&v, (const uint8_t *)"\xAC", 1, NULL), WS_UTF8_VALID);
}
END_TEST

START_TEST(test_ascii_fast_path_positions) {
  /* A bad byte at every position of long ASCII runs (exercises the 32- and
   * 8-byte paths and their tails), and multi-byte characters straddling
   * word boundaries. */
  uint8_t buf[200];
  for (size_t bad = 0; bad < sizeof buf; bad++) {
    memset(buf, 'a', sizeof buf);
    buf[bad] = 0xFF;
    struct ws_utf8 v = WS_UTF8_INIT;
    size_t off = 0;
    ck_assert_int_eq(ws_utf8_feed(&v, buf, sizeof buf, &off), WS_UTF8_INVALID);
    ck_assert_uint_eq(off, bad);
  }
  for (size_t at = 0; at + 4 <= sizeof buf; at++) {
    memset(buf, 'a', sizeof buf);
    memcpy(buf + at, "\xF0\x9F\x98\x80", 4); /* U+1F600 */
    ck_assert(ws_utf8_validate(buf, sizeof buf));
    ck_assert(!ws_utf8_validate(buf, at + 3));
    check_split(buf, sizeof buf, &at, 1);
  }
}
END_TEST

START_TEST(test_random_mutations) {
  /* Valid mixed text with random single-byte corruptions, all split points. */
  static const char base[] = "Grüße, 世界! \xF0\x9F\x98\x80 ascii run ascii run ascii run "
                             "κόσμε \xF4\x8F\xBF\xBF end";
  size_t len = sizeof base - 1;
  uint8_t buf[sizeof base];
  srand(12345);
  ck_assert(ws_utf8_validate((const uint8_t *)base, len));
  for (int iter = 0; iter < 300; iter++) {
    memcpy(buf, base, len);
    buf[rand() % len] = (uint8_t)rand();
    check_all_splits(buf, len);
  }
}
END_TEST

static Suite *utf8_suite(void) {
  Suite *s = suite_create("ws_utf8");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_exhaustive_two_bytes);
  tcase_add_test(tc, test_exhaustive_three_bytes);
  tcase_add_test(tc, test_boundary_bytes_four_and_five);
  tcase_add_test(tc, test_every_code_point);
  tcase_add_test(tc, test_autobahn_sequences);
  tcase_add_test(tc, test_autobahn_generated_sequences);
  tcase_add_test(tc, test_fail_fast_positions);
  tcase_add_test(tc, test_ascii_fast_path_positions);
  tcase_add_test(tc, test_random_mutations);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(utf8_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

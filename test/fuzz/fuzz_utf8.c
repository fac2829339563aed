/*
 * fuzz_utf8.c — the incremental UTF-8 validator (ws_utf8) against a
 * one-shot reference written from RFC 3629 §4 / Unicode Table 3-7.
 *
 * Input: split spec (fuzz_input.h), then the string. The string is fed in
 * chunks (each an exact-size heap copy); after every chunk the validator's
 * state must be what the reference says of the prefix, and an invalid
 * result must name the same byte the reference does (fail-fast, RFC 6455
 * §8.1). ws_utf8_validate must agree on the whole string.
 */
#include "fuzz_input.h"
#include "websocket/ws_utf8.h"

/* Reference: the index of the first byte after which no continuation can
 * make the string valid, or `len` if there is none; *partial tells whether
 * a valid prefix ends inside a character. Deliberately byte-at-a-time and
 * table-shaped, sharing nothing with ws_utf8.c. */
static size_t ref_first_invalid(const uint8_t *p, size_t len, bool *partial) {
  size_t i = 0;
  *partial = false;
  while (i < len) {
    uint8_t b = p[i];
    unsigned ncont;
    uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the first continuation */
    if (b <= 0x7F) {
      i++;
      continue;
    } else if (b >= 0xC2 && b <= 0xDF) {
      ncont = 1;
    } else if (b == 0xE0) {
      ncont = 2, lo = 0xA0;
    } else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) {
      ncont = 2;
    } else if (b == 0xED) {
      ncont = 2, hi = 0x9F; /* no surrogates */
    } else if (b == 0xF0) {
      ncont = 3, lo = 0x90; /* no overlong 4-byte forms */
    } else if (b >= 0xF1 && b <= 0xF3) {
      ncont = 3;
    } else if (b == 0xF4) {
      ncont = 3, hi = 0x8F; /* nothing above U+10FFFF */
    } else {
      return i; /* 80..C1, F5..FF can never start a character */
    }
    for (unsigned k = 1; k <= ncont; k++) {
      if (i + k == len) {
        *partial = true;
        return len;
      }
      uint8_t c = p[i + k];
      uint8_t l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
      if (c < l || c > h)
        return i + k;
    }
    i += 1 + ncont;
  }
  return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct fuzz_in in = {data, size};
  struct fuzz_split split;
  fuzz_split_init(&split, &in);
  const uint8_t *s = in.p;
  size_t len = in.n;

  bool partial;
  size_t bad = ref_first_invalid(s, len, &partial);
  bool valid = bad == len && !partial;
  FUZZ_CHECK(ws_utf8_validate(s, len) == valid);

  struct ws_utf8 v = WS_UTF8_INIT;
  FUZZ_CHECK(ws_utf8_result(&v) == WS_UTF8_VALID);
  size_t pos = 0;
  bool seen_invalid = false;
  while (pos < len) {
    size_t n = fuzz_split_next(&split, len - pos);
    uint8_t *chunk = fuzz_dup(s + pos, n);
    size_t off = (size_t)-1;
    enum ws_utf8_result r = ws_utf8_feed(&v, chunk, n, &off);
    free(chunk);
    FUZZ_CHECK(r == ws_utf8_result(&v));
    if (seen_invalid) {
      /* already invalid before this call: stays so, offset 0 */
      FUZZ_CHECK(r == WS_UTF8_INVALID && off == 0);
    } else if (bad < pos + n) {
      FUZZ_CHECK(r == WS_UTF8_INVALID);
      FUZZ_CHECK(off == bad - pos);
      seen_invalid = true;
    } else {
      bool p2;
      size_t b2 = ref_first_invalid(s, pos + n, &p2);
      FUZZ_CHECK(b2 == pos + n);
      FUZZ_CHECK(r == (p2 ? WS_UTF8_PARTIAL : WS_UTF8_VALID));
    }
    pos += n;
  }
  /* An empty feed changes nothing. */
  enum ws_utf8_result before = ws_utf8_result(&v);
  FUZZ_CHECK(ws_utf8_feed(&v, NULL, 0, NULL) == before);
  if (len == 0)
    FUZZ_CHECK(before == WS_UTF8_VALID);
  else
    FUZZ_CHECK(before == (bad < len ? WS_UTF8_INVALID
                                    : partial ? WS_UTF8_PARTIAL : WS_UTF8_VALID));
  ws_utf8_init(&v);
  FUZZ_CHECK(ws_utf8_result(&v) == WS_UTF8_VALID);
  return 0;
}

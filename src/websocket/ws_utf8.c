/*
 * ws_utf8.c — UTF-8 validation: a word-at-a-time ASCII path and a DFA.
 *
 * The DFA has 9 states and 12 byte classes; states are stored multiplied
 * by the class count so a step is one table load. The table is written out
 * from RFC 3629 §4 (test_ws_utf8.c checks it exhaustively against a
 * straightforward decoder).
 */
#include "ws_utf8.h"

#include <string.h>

enum {
  NCLASS = 12,
  S_ACCEPT = 0 * NCLASS,
  S_REJECT = 1 * NCLASS,
  S_CONT1 = 2 * NCLASS, /* one continuation byte 80..BF left */
  S_CONT2 = 3 * NCLASS, /* two left */
  S_CONT3 = 4 * NCLASS, /* three left */
  S_E0 = 5 * NCLASS,    /* after E0: A0..BF (no overlong), then one */
  S_ED = 6 * NCLASS,    /* after ED: 80..9F (no surrogates), then one */
  S_F0 = 7 * NCLASS,    /* after F0: 90..BF (no overlong), then two */
  S_F4 = 8 * NCLASS     /* after F4: 80..8F (<= U+10FFFF), then two */
};

/* Byte classes: 0 ASCII, 1 80..8F, 2 90..9F, 3 A0..BF, 4 C2..DF, 5 E0,
 * 6 E1..EC/EE..EF, 7 ED, 8 F0, 9 F1..F3, 10 F4, 11 C0 C1 F5..FF. */
static const uint8_t ws_utf8_class[256] = {
    /* 00..7F */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0,
    /* 80..8F */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 90..9F */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    /* A0..BF */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3,
    /* C0..C1, C2..DF */
    11, 11, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4,
    /* E0, E1..EC, ED, EE..EF */
    5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 7, 6, 6,
    /* F0, F1..F3, F4, F5..FF */
    8, 9, 9, 9, 10, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11};

#define R S_REJECT
static const uint8_t ws_utf8_next[9 * NCLASS] = {
    /*            ASC  80   90   A0   C2       E0    E1       ED    F0    F1       F4    bad */
    /* ACCEPT */ S_ACCEPT, R, R, R, S_CONT1, S_E0, S_CONT2, S_ED, S_F0, S_CONT3, S_F4, R,
    /* REJECT */ R, R, R, R, R, R, R, R, R, R, R, R,
    /* CONT1  */ R, S_ACCEPT, S_ACCEPT, S_ACCEPT, R, R, R, R, R, R, R, R,
    /* CONT2  */ R, S_CONT1, S_CONT1, S_CONT1, R, R, R, R, R, R, R, R,
    /* CONT3  */ R, S_CONT2, S_CONT2, S_CONT2, R, R, R, R, R, R, R, R,
    /* E0     */ R, R, R, S_CONT1, R, R, R, R, R, R, R, R,
    /* ED     */ R, S_CONT1, S_CONT1, R, R, R, R, R, R, R, R, R,
    /* F0     */ R, R, S_CONT2, S_CONT2, R, R, R, R, R, R, R, R,
    /* F4     */ R, S_CONT2, R, R, R, R, R, R, R, R, R, R,
};
#undef R

#define WS_UTF8_HIGH_BITS UINT64_C(0x8080808080808080)

static inline uint64_t ws_load64(const uint8_t *p) {
  uint64_t w;
  memcpy(&w, p, sizeof w); /* unaligned-safe; compiles to one load */
  return w;
}

static enum ws_utf8_result ws_utf8_state_result(uint32_t state) {
  if (state == S_ACCEPT)
    return WS_UTF8_VALID;
  return state == S_REJECT ? WS_UTF8_INVALID : WS_UTF8_PARTIAL;
}

void ws_utf8_init(struct ws_utf8 *v) { v->state = S_ACCEPT; }

enum ws_utf8_result ws_utf8_feed(struct ws_utf8 *v, const uint8_t *p, size_t len,
                                 size_t *bad_offset) {
  uint32_t state = v->state;
  size_t i = 0;

  if (state == S_REJECT) {
    if (bad_offset)
      *bad_offset = 0;
    return WS_UTF8_INVALID;
  }
  while (i < len) {
    if (state == S_ACCEPT) {
      /* ASCII fast path: 32 bytes per iteration, then 8. */
      while (len - i >= 32) {
        uint64_t w = ws_load64(p + i) | ws_load64(p + i + 8) | ws_load64(p + i + 16) |
                     ws_load64(p + i + 24);
        if (w & WS_UTF8_HIGH_BITS)
          break;
        i += 32;
      }
      while (len - i >= 8 && !(ws_load64(p + i) & WS_UTF8_HIGH_BITS))
        i += 8;
      /* Skip the ASCII prefix of the word that stopped us. */
      while (i < len && p[i] < 0x80)
        i++;
      if (i == len)
        break;
    }
    state = ws_utf8_next[state + ws_utf8_class[p[i]]];
    if (state == S_REJECT) {
      v->state = S_REJECT;
      if (bad_offset)
        *bad_offset = i;
      return WS_UTF8_INVALID;
    }
    i++;
  }
  v->state = state;
  return ws_utf8_state_result(state);
}

enum ws_utf8_result ws_utf8_result(const struct ws_utf8 *v) {
  return ws_utf8_state_result(v->state);
}

bool ws_utf8_validate(const uint8_t *p, size_t len) {
  struct ws_utf8 v = WS_UTF8_INIT;
  return ws_utf8_feed(&v, p, len, NULL) == WS_UTF8_VALID;
}

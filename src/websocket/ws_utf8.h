/*
 * ws_utf8.h — incremental, fail-fast UTF-8 validator (RFC 3629).
 *
 * Accepts exactly the well-formed UTF-8 of RFC 3629 §4 (Unicode Table 3-7):
 * no overlong forms, no surrogates (U+D800..U+DFFF), nothing above
 * U+10FFFF. Input may be split at any byte; the validator keeps only a
 * 4-byte state, so it never allocates and never copies.
 *
 * Fail-fast: the result turns WS_UTF8_INVALID at the first byte after which
 * no continuation could make the input valid — e.g. at 0xC0, 0xC1 or 0xF5..
 * 0xFF immediately, at the second byte of E0 80, ED A0 (a surrogate) or
 * F4 90 (above U+10FFFF). RFC 6455 §8.1 requires failing the connection as
 * soon as invalid text is seen, even mid-frame.
 *
 * Speed: in the "between characters" state it checks 8 bytes per step
 * (32 per loop iteration) for ASCII; other bytes go through a small DFA.
 *
 * Pure functions on caller-owned state: any thread, no locks.
 */
#ifndef WSCHANNEL_WS_UTF8_H
#define WSCHANNEL_WS_UTF8_H

#include <stddef.h>
#include <stdint.h>

#include "ws_error.h"

WS_BEGIN_DECLS

enum ws_utf8_result {
  WS_UTF8_VALID = 0,   /* valid so far and at a character boundary */
  WS_UTF8_PARTIAL = 1, /* valid so far, inside a multi-byte sequence */
  WS_UTF8_INVALID = 2  /* invalid; stays invalid until ws_utf8_init */
};

/* Validator state. Treat as opaque; zero-initialised == ws_utf8_init. */
struct ws_utf8 {
  uint32_t state;
};

#define WS_UTF8_INIT {0}

/* Reset to the start of a new string. */
WS_API void ws_utf8_init(struct ws_utf8 *v);

/* Validates the next `len` bytes of the string (p may be NULL if len is 0).
 * Returns the state after them. When the result is WS_UTF8_INVALID and
 * `bad_offset` is not NULL, *bad_offset is the index in `p` of the byte that
 * made the input invalid (for input already invalid before this call: 0).
 * Never reads beyond p[len-1]. */
WS_API enum ws_utf8_result ws_utf8_feed(struct ws_utf8 *v, const uint8_t *p, size_t len,
                                        size_t *bad_offset);

/* The result the last feed returned (WS_UTF8_VALID for a fresh validator).
 * A complete message is valid only if this is WS_UTF8_VALID at its end. */
WS_API enum ws_utf8_result ws_utf8_result(const struct ws_utf8 *v);

/* One-shot: true when p[0..len) is complete, valid UTF-8. */
WS_API bool ws_utf8_validate(const uint8_t *p, size_t len);

WS_END_DECLS

#endif

/*
 * fuzz_input.h — helpers shared by the fuzz targets: reading structured
 * values from the fuzzer's bytes, splitting a byte stream at points the
 * input chooses, and a checking assertion that aborts (so libFuzzer and the
 * corpus replay both report it with the input that caused it).
 *
 * Header-only so each target stays one source file that links either with
 * libFuzzer (make fuzz) or with replay_main.c (make check).
 */
#ifndef WSCHANNEL_FUZZ_INPUT_H
#define WSCHANNEL_FUZZ_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An oracle violation: print where and abort. Not assert(): it must stay
 * active in NDEBUG builds. */
#define FUZZ_CHECK(cond)                                                          \
  do {                                                                            \
    if (!(cond)) {                                                                \
      fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond); \
      abort();                                                                    \
    }                                                                             \
  } while (0)

/* The unread rest of the input. Reads past the end give zeros / nothing, so
 * every input is meaningful. */
struct fuzz_in {
  const uint8_t *p;
  size_t n;
};

static inline uint8_t fuzz_u8(struct fuzz_in *in) {
  if (in->n == 0)
    return 0;
  in->n--;
  return *in->p++;
}

static inline uint16_t fuzz_u16(struct fuzz_in *in) {
  uint16_t hi = fuzz_u8(in);
  return (uint16_t)(hi << 8 | fuzz_u8(in));
}

/* Takes up to `want` bytes; returns how many and points *out at them. */
static inline size_t fuzz_bytes(struct fuzz_in *in, size_t want, const uint8_t **out) {
  if (want > in->n)
    want = in->n;
  *out = in->p;
  in->p += want;
  in->n -= want;
  return want;
}

/*
 * Split points: one byte gives the count (0..15) of size bytes that follow;
 * they are used cyclically as chunk sizes (0 → 1 byte, 1..200 → that many,
 * 201..255 → 64 * (b - 200), for a few large chunks). Count 0 means the
 * stream goes in one piece.
 */
struct fuzz_split {
  const uint8_t *sizes;
  size_t nsizes;
  size_t next;
};

static inline void fuzz_split_init(struct fuzz_split *s, struct fuzz_in *in) {
  s->nsizes = fuzz_bytes(in, fuzz_u8(in) % 16u, &s->sizes);
  s->next = 0;
}

/* Size of the next chunk, at most `left` (and at least 1 when left > 0). */
static inline size_t fuzz_split_next(struct fuzz_split *s, size_t left) {
  if (s->nsizes == 0)
    return left;
  unsigned b = s->sizes[s->next++ % s->nsizes];
  size_t n = b == 0 ? 1 : b <= 200 ? b : (size_t)64 * (b - 200);
  return n < left ? n : left;
}

/* An exact-size heap copy of a chunk, so that AddressSanitizer sees any
 * read past its end (the code under test promises never to read beyond
 * p[len-1]). Returns NULL for len 0 and aborts if malloc fails. */
static inline uint8_t *fuzz_dup(const uint8_t *p, size_t len) {
  if (len == 0)
    return NULL;
  uint8_t *c = malloc(len);
  FUZZ_CHECK(c != NULL);
  memcpy(c, p, len);
  return c;
}

/* A growable byte log, used to compare two runs of the same input. */
struct fuzz_log {
  uint8_t *p;
  size_t len, cap;
};

static inline void fuzz_log_put(struct fuzz_log *l, const void *p, size_t len) {
  if (len == 0)
    return;
  if (l->cap - l->len < len) {
    size_t cap = l->cap ? l->cap : 256;
    while (cap - l->len < len)
      cap *= 2;
    uint8_t *np = realloc(l->p, cap);
    FUZZ_CHECK(np != NULL);
    l->p = np;
    l->cap = cap;
  }
  memcpy(l->p + l->len, p, len);
  l->len += len;
}

static inline void fuzz_log_u64(struct fuzz_log *l, uint64_t v) { fuzz_log_put(l, &v, sizeof v); }

static inline void fuzz_log_free(struct fuzz_log *l) {
  free(l->p);
  l->p = NULL;
  l->len = l->cap = 0;
}

static inline bool fuzz_log_equal(const struct fuzz_log *a, const struct fuzz_log *b) {
  return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

#endif

/*
 * xpidl_util.h — memory, strings and diagnostics for the IDL compiler.
 *
 * The compiler is a short-lived host tool. Everything describing the input
 * (source text, tokens, the syntax tree, resolved names) lives in one arena
 * that is released at exit, so error paths never have to unwind ownership.
 * Output text is built in a growable `xp_buf` owned by its creator.
 * Allocation failure is fatal (message and exit status 1).
 * Single-threaded.
 */
#ifndef XPIDL_UTIL_H
#define XPIDL_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- malloc wrappers: never return NULL ------------------------------- */

void *xp_xmalloc(size_t n);
void *xp_xrealloc(void *p, size_t n);

/* ---- arena ------------------------------------------------------------ */

typedef struct xp_arena_chunk xp_arena_chunk;
typedef struct xp_arena {
  xp_arena_chunk *head;
} xp_arena;

/* Returns zeroed, suitably aligned memory owned by the arena. */
void *xp_alloc(xp_arena *a, size_t n);
char *xp_strdup(xp_arena *a, const char *s);
char *xp_strndup(xp_arena *a, const char *s, size_t n);
/* printf into arena memory. */
char *xp_printf(xp_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Frees every chunk; the arena can be reused afterwards. */
void xp_arena_free(xp_arena *a);

/* ---- vector of pointers (storage in the arena) ------------------------- */

typedef struct xp_vec {
  void **items;
  size_t len;
  size_t cap;
} xp_vec;

void xp_vec_push(xp_arena *a, xp_vec *v, void *item);

/* ---- string -> pointer map (storage in the arena) ----------------------- */

typedef struct xp_map_entry {
  const char *key; /* NULL: empty slot */
  void *value;
} xp_map_entry;

typedef struct xp_map {
  xp_map_entry *slots;
  size_t cap; /* power of two, or 0 */
  size_t len;
} xp_map;

void *xp_map_get(const xp_map *m, const char *key);
/* Inserts or replaces. The key must outlive the map (arena strings). */
void xp_map_put(xp_arena *a, xp_map *m, const char *key, void *value);

/* ---- growable output buffer (malloc; caller frees with xp_buf_free) ---- */

typedef struct xp_buf {
  char *data; /* NUL-terminated when non-NULL */
  size_t len;
  size_t cap;
} xp_buf;

void xp_buf_puts(xp_buf *b, const char *s);
void xp_buf_putn(xp_buf *b, const char *s, size_t n);
void xp_buf_printf(xp_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void xp_buf_free(xp_buf *b);

/* ---- diagnostics ------------------------------------------------------ */

/* A position in an input file; line and col are 1-based. */
typedef struct xp_loc {
  const char *file;
  int line;
  int col;
} xp_loc;

/* Print `file:line:col: error: msg` (or warning) to stderr. Errors are
 * counted in xp_error_count. */
void xp_error(xp_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void xp_warning(xp_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A follow-up line (`file:line:col: note: ...`) for the previous message. */
void xp_note(xp_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
extern int xp_error_count;

#endif /* XPIDL_UTIL_H */

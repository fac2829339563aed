/* xpidl_util.c — arena, vectors, maps, buffers and diagnostics. */
#include "xpidl_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int xp_error_count;

static void oom(void) {
  fputs("xpidl: out of memory\n", stderr);
  exit(1);
}

void *xp_xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p)
    oom();
  return p;
}

void *xp_xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q)
    oom();
  return q;
}

/* ---- arena ------------------------------------------------------------ */

struct xp_arena_chunk {
  xp_arena_chunk *next;
  size_t used;
  size_t size;
  max_align_t data[]; /* flexible member keeps the payload aligned */
};

#define XP_CHUNK_DEFAULT (64u * 1024u)

void *xp_alloc(xp_arena *a, size_t n) {
  const size_t align = sizeof(max_align_t);
  size_t need = (n + align - 1) / align * align;
  if (need < n)
    oom();
  xp_arena_chunk *c = a->head;
  if (!c || c->size - c->used < need) {
    size_t size = need > XP_CHUNK_DEFAULT ? need : XP_CHUNK_DEFAULT;
    c = xp_xmalloc(sizeof(*c) + size);
    c->used = 0;
    c->size = size;
    c->next = a->head;
    a->head = c;
  }
  char *p = (char *)c->data + c->used;
  c->used += need;
  memset(p, 0, n);
  return p;
}

char *xp_strndup(xp_arena *a, const char *s, size_t n) {
  char *p = xp_alloc(a, n + 1);
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

char *xp_strdup(xp_arena *a, const char *s) {
  return xp_strndup(a, s, strlen(s));
}

char *xp_printf(xp_arena *a, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    oom();
  char *p = xp_alloc(a, (size_t)n + 1);
  va_start(ap, fmt);
  vsnprintf(p, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return p;
}

void xp_arena_free(xp_arena *a) {
  xp_arena_chunk *c = a->head;
  while (c) {
    xp_arena_chunk *next = c->next;
    free(c);
    c = next;
  }
  a->head = NULL;
}

/* ---- vector ----------------------------------------------------------- */

void xp_vec_push(xp_arena *a, xp_vec *v, void *item) {
  if (v->len == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 8;
    void **items = xp_alloc(a, cap * sizeof(*items));
    if (v->len)
      memcpy(items, v->items, v->len * sizeof(*items));
    v->items = items; /* the old array stays in the arena until exit */
    v->cap = cap;
  }
  v->items[v->len++] = item;
}

/* ---- map (open addressing, FNV-1a) ------------------------------------ */

static size_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603u;
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211u;
  }
  return (size_t)h;
}

static xp_map_entry *map_find(const xp_map *m, const char *key) {
  size_t mask = m->cap - 1;
  for (size_t i = hash_str(key) & mask;; i = (i + 1) & mask) {
    xp_map_entry *e = &m->slots[i];
    if (!e->key || strcmp(e->key, key) == 0)
      return e;
  }
}

void *xp_map_get(const xp_map *m, const char *key) {
  if (!m->cap)
    return NULL;
  xp_map_entry *e = map_find(m, key);
  return e->key ? e->value : NULL;
}

void xp_map_put(xp_arena *a, xp_map *m, const char *key, void *value) {
  if ((m->len + 1) * 2 > m->cap) {
    xp_map old = *m;
    m->cap = old.cap ? old.cap * 2 : 16;
    m->slots = xp_alloc(a, m->cap * sizeof(*m->slots));
    m->len = 0;
    for (size_t i = 0; i < old.cap; i++)
      if (old.slots[i].key) {
        *map_find(m, old.slots[i].key) = old.slots[i];
        m->len++;
      }
  }
  xp_map_entry *e = map_find(m, key);
  if (!e->key) {
    e->key = key;
    m->len++;
  }
  e->value = value;
}

/* ---- buffer ----------------------------------------------------------- */

static void buf_reserve(xp_buf *b, size_t extra) {
  if (b->len + extra + 1 <= b->cap)
    return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + extra + 1)
    cap *= 2;
  b->data = xp_xrealloc(b->data, cap);
  b->cap = cap;
}

void xp_buf_putn(xp_buf *b, const char *s, size_t n) {
  buf_reserve(b, n);
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void xp_buf_puts(xp_buf *b, const char *s) { xp_buf_putn(b, s, strlen(s)); }

void xp_buf_printf(xp_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    oom();
  buf_reserve(b, (size_t)n);
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

void xp_buf_free(xp_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

/* ---- diagnostics ------------------------------------------------------ */

static void vdiag(xp_loc loc, const char *kind, const char *fmt, va_list ap) {
  if (loc.file)
    fprintf(stderr, "%s:%d:%d: %s: ", loc.file, loc.line, loc.col, kind);
  else
    fprintf(stderr, "xpidl: %s: ", kind);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
}

void xp_error(xp_loc loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vdiag(loc, "error", fmt, ap);
  va_end(ap);
  xp_error_count++;
}

void xp_warning(xp_loc loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vdiag(loc, "warning", fmt, ap);
  va_end(ap);
}

void xp_note(xp_loc loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vdiag(loc, "note", fmt, ap);
  va_end(ap);
}

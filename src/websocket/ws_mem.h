/*
 * ws_mem.h — the allocator every engine object allocates through.
 *
 * Objects take a `const struct ws_mem *` in their *_new function and copy
 * the struct, so the caller's struct need not outlive the call. NULL means
 * libc malloc/realloc/free. Tests pass a failing allocator to check that
 * every allocation failure returns WS_ERR_NOMEM and leaks nothing.
 */
#ifndef WSCHANNEL_WS_MEM_H
#define WSCHANNEL_WS_MEM_H

#include <stddef.h>

#include "ws_error.h"

WS_BEGIN_DECLS

struct ws_mem {
  /* Same contracts as malloc/realloc/free, plus user_data. realloc is only
   * called with a non-NULL pointer and a non-zero size; free may get NULL. */
  void *(*malloc)(size_t size, void *user_data);
  void *(*realloc)(void *ptr, size_t size, void *user_data);
  void (*free)(void *ptr, void *user_data);
  void *user_data;
};

/* The libc allocator (static struct, never freed). Any thread. */
WS_API const struct ws_mem *ws_mem_default(void);

/* Thin wrappers used inside the engine; `mem` must not be NULL. */
void *ws_mem_malloc(const struct ws_mem *mem, size_t size);
void *ws_mem_realloc(const struct ws_mem *mem, void *ptr, size_t size);
void ws_mem_free(const struct ws_mem *mem, void *ptr);

WS_END_DECLS

#endif

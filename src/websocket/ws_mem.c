/* ws_mem.c — default allocator and wrappers. */
#include "ws_mem.h"

#include <stdlib.h>

static void *ws_mem_libc_malloc(size_t size, void *ud) {
  (void)ud;
  return malloc(size);
}

static void *ws_mem_libc_realloc(void *ptr, size_t size, void *ud) {
  (void)ud;
  return realloc(ptr, size);
}

static void ws_mem_libc_free(void *ptr, void *ud) {
  (void)ud;
  free(ptr);
}

static const struct ws_mem ws_mem_libc = {ws_mem_libc_malloc, ws_mem_libc_realloc,
                                          ws_mem_libc_free, NULL};

const struct ws_mem *ws_mem_default(void) { return &ws_mem_libc; }

void *ws_mem_malloc(const struct ws_mem *mem, size_t size) {
  return mem->malloc(size ? size : 1, mem->user_data);
}

void *ws_mem_realloc(const struct ws_mem *mem, void *ptr, size_t size) {
  if (!ptr)
    return ws_mem_malloc(mem, size);
  return mem->realloc(ptr, size ? size : 1, mem->user_data);
}

void ws_mem_free(const struct ws_mem *mem, void *ptr) {
  if (ptr)
    mem->free(ptr, mem->user_data);
}

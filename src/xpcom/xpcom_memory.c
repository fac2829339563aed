/*
 * xpcom_memory.c — NS_Alloc / NS_Realloc / NS_Free over the C library.
 */
#include <stdlib.h>

#include "nsMemory.h"

XPCOM_API(void *) NS_Alloc(size_t size)
{
  /* malloc(0) may legally return NULL; callers treat NULL as OOM. */
  return malloc(size ? size : 1);
}

XPCOM_API(void *) NS_Realloc(void *ptr, size_t size)
{
  /* realloc(p, 0) may free p; keep a live block instead. */
  return realloc(ptr, size ? size : 1);
}

XPCOM_API(void) NS_Free(void *ptr)
{
  free(ptr);
}

/*
 * nsMemory.h — the XPCOM allocator.
 *
 * Memory that crosses an XPCOM interface (a `string`/`wstring` out
 * parameter, an array out parameter, NS_CStringCloneData's result, an
 * NS_CSTRING_CONTAINER_INIT_ADOPT buffer) is allocated with NS_Alloc and
 * freed by the receiver with NS_Free. They are the C library's
 * malloc/realloc/free, so a Gecko host, which uses the process allocator
 * for the same purpose, can free what we hand it and vice versa.
 *
 * Any thread.
 */
#ifndef WSCHANNEL_NSMEMORY_H
#define WSCHANNEL_NSMEMORY_H

#include "nscore.h"

XPCOM_BEGIN_DECLS

/* size bytes, uninitialised; NS_Alloc(0) returns a distinct, freeable
 * pointer. NULL when memory is exhausted. */
XPCOM_API(void *) NS_Alloc(size_t size);

/* Resizes ptr (which may be NULL, meaning NS_Alloc) keeping its contents
 * up to the smaller size. size 0 gives a minimal block rather than freeing
 * ptr. On failure returns NULL and ptr is still valid and still the
 * caller's. */
XPCOM_API(void *) NS_Realloc(void *ptr, size_t size);

/* Frees what NS_Alloc/NS_Realloc returned; NULL is ignored. */
XPCOM_API(void) NS_Free(void *ptr);

XPCOM_END_DECLS

#endif /* WSCHANNEL_NSMEMORY_H */

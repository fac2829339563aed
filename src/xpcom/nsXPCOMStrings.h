/*
 * nsXPCOMStrings.h — Gecko's frozen string API, with C linkage, over the
 * 16-byte nsACString / nsAString layout of nscore.h.
 *
 * The signatures are Gecko's. In C++ the string parameters are references
 * and the optional parameters have Gecko's defaults, so code written for
 * Gecko's nsXPCOMStrings.h compiles unchanged; in C the same parameters are
 * pointers (identical ABI). Example in C:
 *
 *   nsCStringContainer s;
 *   NS_CStringContainerInit(&s);
 *   NS_CStringSetData(&s, "hello", UINT32_MAX);    // UINT32_MAX: use strlen
 *   NS_CStringAppendData(&s, " world", 6);
 *   const char *p; uint32_t n = NS_CStringGetData(&s, &p, NULL);
 *   NS_CStringContainerFinish(&s);
 *
 * Semantics
 * ---------
 * - A string this runtime allocates is malloc'd (NS_Alloc), NUL-terminated,
 *   flagged TERMINATED|OWNED. An empty string points at a static "" and is
 *   flagged TERMINATED only (never written, never freed).
 * - Any function that gives a string a new buffer first lets go of the old
 *   one according to its flags: OWNED → NS_Free; SHARED (a Gecko host's
 *   nsStringBuffer, header {int32 refcount; uint32 storageSize} just before
 *   mData) → one reference dropped atomically, the block freed at zero;
 *   FIXED, LITERAL, dependent (no flag) → simply no longer pointed at.
 *   Buffers we do not own are never written: they are copied first.
 * - The class flags in the upper 16 bits of mFlags (Gecko's
 *   F_CLASS_FIXED…) are preserved; only the data flags change.
 * - Every function that modifies a string's contents clears VOIDED.
 * - Lengths are uint32_t and UINT32_MAX means "NUL-terminated, count it".
 *   A result longer than UINT32_MAX - 1 units is refused with
 *   NS_ERROR_OUT_OF_MEMORY; so is an allocation failure. On failure the
 *   string is left as it was.
 * - Source data may point into the destination string itself
 *   (e.g. inserting a string's own prefix into it).
 * - NULL string pointers (C) give NS_ERROR_NULL_POINTER, or 0 / NULL /
 *   false for functions that return a length, a buffer or a flag.
 *
 * Encodings (NS_CStringToUTF16 / NS_UTF16ToCString)
 * -------------------------------------------------
 * - ASCII: bytes → UTF-16 zero-extends each byte; UTF-16 → bytes keeps the
 *   low 8 bits of each unit (Gecko's "lossy" ASCII copy).
 * - UTF8: strict RFC 3629 decoding. Invalid input (bad or truncated
 *   sequences, overlong forms, encoded surrogates, values above U+10FFFF)
 *   is refused with NS_ERROR_ILLEGAL_VALUE and the destination left
 *   unchanged: Gecko 8 likewise dropped such input, and a WebSocket must
 *   never pass malformed text on silently. Encoding UTF-16 → UTF-8 writes
 *   surrogate pairs as 4-byte sequences and a lone surrogate as U+FFFD.
 * - NATIVE_FILESYSTEM: UTF-8 (the native charset on the Linux systems
 *   this runtime targets).
 *
 * Threads: a string object is used by one thread at a time; the functions
 * keep no global state and may run on any thread.
 */
#ifndef WSCHANNEL_NSXPCOMSTRINGS_H
#define WSCHANNEL_NSXPCOMSTRINGS_H

#include "nscore.h"
#include "nsError.h"
#include "nsMemory.h"

#ifdef __cplusplus
#define XPCOM_STRREF(T) T &
#define XPCOM_NULL nullptr
#else
#define XPCOM_STRREF(T) T *
#define XPCOM_NULL NULL
#endif
/* Also defined by nsXPCOM.h: keep both spellings token-identical. */
#ifndef XPCOM_DEFAULT_ARG
#ifdef __cplusplus
#define XPCOM_DEFAULT_ARG(x) = x
#else
#define XPCOM_DEFAULT_ARG(x)
#endif
#endif

/* NS_CStringContainerInit2 / NS_StringContainerInit2 flags. */
enum {
  /* Point at the caller's data instead of copying it; the caller keeps
   * it alive and unchanged until the container is finished or assigned. */
  NS_CSTRING_CONTAINER_INIT_DEPEND = (1 << 1),
  /* Take ownership of data allocated with NS_Alloc (freed with NS_Free). */
  NS_CSTRING_CONTAINER_INIT_ADOPT = (1 << 2),
  /* With DEPEND/ADOPT: data is not NUL-terminated at data[len]; an
   * explicit length is then required. */
  NS_CSTRING_CONTAINER_INIT_SUBSTRING = (1 << 3)
};
enum {
  NS_STRING_CONTAINER_INIT_DEPEND = (1 << 1),
  NS_STRING_CONTAINER_INIT_ADOPT = (1 << 2),
  NS_STRING_CONTAINER_INIT_SUBSTRING = (1 << 3)
};

typedef enum nsCStringEncoding {
  NS_CSTRING_ENCODING_ASCII = 0,
  NS_CSTRING_ENCODING_UTF8 = 1,
  NS_CSTRING_ENCODING_NATIVE_FILESYSTEM = 2
} nsCStringEncoding;

XPCOM_BEGIN_DECLS

/* ====================================================================== */
/* nsACString (8-bit)                                                      */
/* ====================================================================== */

/* Makes aContainer an empty string. Always NS_OK (or NULL_POINTER). */
XPCOM_API(nsresult) NS_CStringContainerInit(XPCOM_STRREF(nsCStringContainer) aContainer);

/*
 * Makes aContainer hold aData: a copy by default; see the
 * NS_CSTRING_CONTAINER_INIT_* flags for dependent and adopted buffers.
 * aData NULL gives an empty string. aDataLength UINT32_MAX means
 * strlen(aData), which is refused (NS_ERROR_INVALID_ARG) with SUBSTRING.
 * DEPEND without SUBSTRING promises aData[aDataLength] == '\0'.
 * On failure aContainer is left an empty (but valid) string.
 */
XPCOM_API(nsresult)
NS_CStringContainerInit2(XPCOM_STRREF(nsCStringContainer) aContainer,
                         const char *aData XPCOM_DEFAULT_ARG(XPCOM_NULL),
                         uint32_t aDataLength XPCOM_DEFAULT_ARG(UINT32_MAX),
                         uint32_t aFlags XPCOM_DEFAULT_ARG(0));

/* Releases the buffer; the container is left empty and may be reused
 * (finishing twice is harmless). */
XPCOM_API(void) NS_CStringContainerFinish(XPCOM_STRREF(nsCStringContainer) aContainer);

/*
 * Stores a read-only pointer to the characters in *aData (never NULL; valid
 * until the string is next modified) and returns the length. *aTerminated,
 * when asked for, tells whether aData[length] is '\0' (dependent
 * substrings are not terminated).
 */
XPCOM_API(uint32_t)
NS_CStringGetData(const XPCOM_STRREF(nsACString) aStr, const char **aData,
                  bool *aTerminated XPCOM_DEFAULT_ARG(XPCOM_NULL));

/*
 * Makes the string's buffer writable (copying it if it is not ours),
 * optionally resizing it first to aDataLength (UINT32_MAX keeps the
 * length; new characters are zero), and stores the buffer in *aData.
 * The buffer is NUL-terminated at the returned length. Returns the length,
 * or 0 with *aData = NULL on failure.
 */
XPCOM_API(uint32_t)
NS_CStringGetMutableData(XPCOM_STRREF(nsACString) aStr, uint32_t aDataLength,
                         char **aData);

/* A NUL-terminated NS_Alloc'd copy (caller NS_Frees), NULL on failure. */
XPCOM_API(char *) NS_CStringCloneData(const XPCOM_STRREF(nsACString) aStr);

/* Replaces the contents with a copy of aData (NULL → empty). */
XPCOM_API(nsresult)
NS_CStringSetData(XPCOM_STRREF(nsACString) aStr, const char *aData,
                  uint32_t aDataLength XPCOM_DEFAULT_ARG(UINT32_MAX));

/*
 * Replaces aCutLength characters at aCutOffset with aData (NULL: just
 * cut). aCutOffset UINT32_MAX appends (aCutLength ignored); aCutLength
 * UINT32_MAX cuts to the end. An offset past the end is clamped to the
 * end, and a length past the end to the end.
 */
XPCOM_API(nsresult)
NS_CStringSetDataRange(XPCOM_STRREF(nsACString) aStr, uint32_t aCutOffset,
                       uint32_t aCutLength, const char *aData,
                       uint32_t aDataLength XPCOM_DEFAULT_ARG(UINT32_MAX));

/* aDestStr = copy of aSrcStr, voidness included. */
XPCOM_API(nsresult)
NS_CStringCopy(XPCOM_STRREF(nsACString) aDestStr,
               const XPCOM_STRREF(nsACString) aSrcStr);

/* true: truncate and mark void (JS null); false: clear the mark. */
XPCOM_API(void) NS_CStringSetIsVoid(XPCOM_STRREF(nsACString) aStr, const bool aIsVoid);
XPCOM_API(bool) NS_CStringGetIsVoid(const XPCOM_STRREF(nsACString) aStr);

/* ====================================================================== */
/* nsAString (UTF-16): the same functions over char16_t                     */
/* ====================================================================== */

XPCOM_API(nsresult) NS_StringContainerInit(XPCOM_STRREF(nsStringContainer) aContainer);
XPCOM_API(nsresult)
NS_StringContainerInit2(XPCOM_STRREF(nsStringContainer) aContainer,
                        const char16_t *aData XPCOM_DEFAULT_ARG(XPCOM_NULL),
                        uint32_t aDataLength XPCOM_DEFAULT_ARG(UINT32_MAX),
                        uint32_t aFlags XPCOM_DEFAULT_ARG(0));
XPCOM_API(void) NS_StringContainerFinish(XPCOM_STRREF(nsStringContainer) aContainer);
XPCOM_API(uint32_t)
NS_StringGetData(const XPCOM_STRREF(nsAString) aStr, const char16_t **aData,
                 bool *aTerminated XPCOM_DEFAULT_ARG(XPCOM_NULL));
XPCOM_API(uint32_t)
NS_StringGetMutableData(XPCOM_STRREF(nsAString) aStr, uint32_t aDataLength,
                        char16_t **aData);
XPCOM_API(char16_t *) NS_StringCloneData(const XPCOM_STRREF(nsAString) aStr);
XPCOM_API(nsresult)
NS_StringSetData(XPCOM_STRREF(nsAString) aStr, const char16_t *aData,
                 uint32_t aDataLength XPCOM_DEFAULT_ARG(UINT32_MAX));
XPCOM_API(nsresult)
NS_StringSetDataRange(XPCOM_STRREF(nsAString) aStr, uint32_t aCutOffset,
                      uint32_t aCutLength, const char16_t *aData,
                      uint32_t aDataLength XPCOM_DEFAULT_ARG(UINT32_MAX));
XPCOM_API(nsresult)
NS_StringCopy(XPCOM_STRREF(nsAString) aDestStr,
              const XPCOM_STRREF(nsAString) aSrcStr);
XPCOM_API(void) NS_StringSetIsVoid(XPCOM_STRREF(nsAString) aStr, const bool aIsVoid);
XPCOM_API(bool) NS_StringGetIsVoid(const XPCOM_STRREF(nsAString) aStr);

/* ====================================================================== */
/* Conversions (see "Encodings" above)                                     */
/* ====================================================================== */

/* aDest = aSource decoded from aSrcEncoding. Unknown encoding →
 * NS_ERROR_NOT_IMPLEMENTED; invalid UTF-8 → NS_ERROR_ILLEGAL_VALUE. */
XPCOM_API(nsresult)
NS_CStringToUTF16(const XPCOM_STRREF(nsACString) aSource,
                  nsCStringEncoding aSrcEncoding, XPCOM_STRREF(nsAString) aDest);

/* aDest = aSource encoded in aDestEncoding. Unknown encoding →
 * NS_ERROR_NOT_IMPLEMENTED. */
XPCOM_API(nsresult)
NS_UTF16ToCString(const XPCOM_STRREF(nsAString) aSource,
                  nsCStringEncoding aDestEncoding, XPCOM_STRREF(nsACString) aDest);

XPCOM_END_DECLS

/* ====================================================================== */
/* Inline helpers (Gecko's, in terms of SetDataRange)                      */
/* ====================================================================== */

static inline nsresult
NS_CStringAppendData(XPCOM_STRREF(nsACString) aStr, const char *aData,
                     uint32_t aDataLength XPCOM_DEFAULT_ARG(UINT32_MAX))
{
  return NS_CStringSetDataRange(aStr, UINT32_MAX, 0, aData, aDataLength);
}

static inline nsresult
NS_CStringInsertData(XPCOM_STRREF(nsACString) aStr, uint32_t aOffset,
                     const char *aData,
                     uint32_t aDataLength XPCOM_DEFAULT_ARG(UINT32_MAX))
{
  return NS_CStringSetDataRange(aStr, aOffset, 0, aData, aDataLength);
}

static inline nsresult
NS_CStringCutData(XPCOM_STRREF(nsACString) aStr, uint32_t aCutOffset,
                  uint32_t aCutLength)
{
  return NS_CStringSetDataRange(aStr, aCutOffset, aCutLength, XPCOM_NULL, 0);
}

static inline nsresult
NS_StringAppendData(XPCOM_STRREF(nsAString) aStr, const char16_t *aData,
                    uint32_t aDataLength XPCOM_DEFAULT_ARG(UINT32_MAX))
{
  return NS_StringSetDataRange(aStr, UINT32_MAX, 0, aData, aDataLength);
}

static inline nsresult
NS_StringInsertData(XPCOM_STRREF(nsAString) aStr, uint32_t aOffset,
                    const char16_t *aData,
                    uint32_t aDataLength XPCOM_DEFAULT_ARG(UINT32_MAX))
{
  return NS_StringSetDataRange(aStr, aOffset, 0, aData, aDataLength);
}

static inline nsresult
NS_StringCutData(XPCOM_STRREF(nsAString) aStr, uint32_t aCutOffset,
                 uint32_t aCutLength)
{
  return NS_StringSetDataRange(aStr, aCutOffset, aCutLength, XPCOM_NULL, 0);
}

/* ====================================================================== */
/* Runtime helpers (pointer-based, size_t lengths, no UINT32_MAX magic)    */
/* ====================================================================== */

XPCOM_BEGIN_DECLS

/* *str = copy of data[0..len) (data may be NULL when len is 0).
 * len > UINT32_MAX - 1 or no memory → NS_ERROR_OUT_OF_MEMORY, str unchanged. */
XPCOM_API(nsresult) xpcom_cstring_assign(nsACString *str, const char *data, size_t len);
/* Appends data[0..len) to *str; same errors. */
XPCOM_API(nsresult) xpcom_cstring_append(nsACString *str, const char *data, size_t len);
/* Stores the characters in *data (never NULL) and returns the length. */
XPCOM_API(uint32_t) xpcom_cstring_get(const nsACString *str, const char **data);
/* True when *str holds exactly data[0..len). */
XPCOM_API(bool) xpcom_cstring_equals(const nsACString *str, const char *data, size_t len);

XPCOM_API(nsresult) xpcom_string_assign(nsAString *str, const char16_t *data, size_t len);
XPCOM_API(nsresult) xpcom_string_append(nsAString *str, const char16_t *data, size_t len);
XPCOM_API(uint32_t) xpcom_string_get(const nsAString *str, const char16_t **data);
XPCOM_API(bool) xpcom_string_equals(const nsAString *str, const char16_t *data, size_t len);

/* *str = utf8[0..len) decoded; NS_ERROR_ILLEGAL_VALUE if not valid UTF-8. */
XPCOM_API(nsresult) xpcom_string_assign_utf8(nsAString *str, const char *utf8, size_t len);
/* *str = utf16[0..len) as UTF-8, lone surrogates as U+FFFD. */
XPCOM_API(nsresult)
xpcom_cstring_assign_utf16(nsACString *str, const char16_t *utf16, size_t len);

/* True when data[0..len) is well-formed UTF-8 (RFC 3629 §3-4: no
 * overlongs, no surrogates, nothing above U+10FFFF, nothing truncated). */
XPCOM_API(bool) xpcom_utf8_valid(const char *data, size_t len);

XPCOM_END_DECLS

#endif /* WSCHANNEL_NSXPCOMSTRINGS_H */

/*
 * nscore.h — the base types every XPCOM header and generated interface
 * header builds on, usable from C11 and from C++.
 *
 * Binary layout follows Gecko on Linux x86-64 (Itanium C++ ABI):
 *  - nsresult is a 32-bit unsigned value with Gecko's numbering;
 *  - nsID is {uint32 m0; uint16 m1; uint16 m2; uint8 m3[8]};
 *  - nsACString / nsAString are Gecko's <= 56 string layout
 *    {data pointer; uint32 length; uint32 flags} (16 bytes, no vtable);
 *  - an interface pointer points at an object whose first word is a vtable
 *    pointer; slots are plain function pointers taking `this` first.
 *
 * In C an interface nsIFoo is `struct nsIFoo { const nsIFooVtbl *vtbl; }`;
 * in C++ it is an abstract class with the same slots, so one generated
 * header serves a C implementer and a C++ caller.
 */
#ifndef WSCHANNEL_NSCORE_H
#define WSCHANNEL_NSCORE_H

#include <stddef.h>
#include <stdint.h>
#ifndef __cplusplus
#include <stdbool.h>
#include <uchar.h>
#endif

/* ---- linkage ------------------------------------------------------- */

#ifdef __cplusplus
#define XPCOM_EXTERN_C extern "C"
#define XPCOM_BEGIN_DECLS extern "C" {
#define XPCOM_END_DECLS }
#else
#define XPCOM_EXTERN_C extern
#define XPCOM_BEGIN_DECLS
#define XPCOM_END_DECLS
#endif

/* Symbols of libwschannel that hosts may use. Everything else is built
 * with -fvisibility=hidden. */
#define XPCOM_EXPORT __attribute__((visibility("default")))
#define XPCOM_API(type) XPCOM_EXTERN_C XPCOM_EXPORT type
#define XPCOM_UNUSED __attribute__((unused))

/* ---- scalar types --------------------------------------------------- */

typedef uint32_t nsresult;
typedef uint32_t nsrefcnt; /* MozExternalRefCountType off Windows */

/* NSPR-style names used by IDL files of the Gecko 8 era. */
typedef int8_t PRInt8;
typedef uint8_t PRUint8;
typedef int16_t PRInt16;
typedef uint16_t PRUint16;
typedef int32_t PRInt32;
typedef uint32_t PRUint32;
typedef int64_t PRInt64;
typedef uint64_t PRUint64;
/* NSPR's prtypes.h defines PRUnichar as PRUint16 unless __PRUNICHAR__ is
 * set. Gecko's is char16_t; in C both are unsigned short, in C++ they are
 * distinct types, so whichever header comes first wins and the other
 * stands back. */
#ifndef __PRUNICHAR__
#define __PRUNICHAR__
typedef char16_t PRUnichar;
#endif

/* ---- nsID ----------------------------------------------------------- */

typedef struct nsID {
  uint32_t m0;
  uint16_t m1;
  uint16_t m2;
  uint8_t m3[8];
} nsID;
typedef nsID nsIID;
typedef nsID nsCID;

/* "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}" plus the NUL. */
#define NSID_LENGTH 39

#ifdef __cplusplus
typedef const nsIID &REFNSIID;
typedef const nsCID &REFNSCID;
#define XPCOM_IIDREF(x) (x)
#else
typedef const nsIID *REFNSIID;
typedef const nsCID *REFNSCID;
#define XPCOM_IIDREF(x) (&(x))
#endif

/* ---- strings: Gecko <= 56 layout and flags --------------------------- */

enum {
  NS_STRING_F_TERMINATED = 0x1, /* mData[mLength] == 0 */
  NS_STRING_F_VOIDED = 0x2,     /* IsVoid() */
  NS_STRING_F_SHARED = 0x4,     /* mData follows an nsStringBuffer header */
  NS_STRING_F_OWNED = 0x8,      /* mData is malloc'd and owned */
  NS_STRING_F_FIXED = 0x10,     /* mData is a caller's fixed buffer */
  NS_STRING_F_LITERAL = 0x20    /* mData is a static literal */
};

typedef struct nsACString {
  char *mData;
  uint32_t mLength;
  uint32_t mFlags;
} nsACString;

typedef struct nsAString {
  char16_t *mData;
  uint32_t mLength;
  uint32_t mFlags;
} nsAString;

/* The frozen API's containers have the same size as the abstract string. */
typedef nsACString nsCStringContainer;
typedef nsAString nsStringContainer;
typedef nsACString nsAUTF8String;

/* ---- C++ declaration helpers (Gecko's spelling) ---------------------- */

#ifdef __cplusplus
#define NS_IMETHOD virtual nsresult
#define NS_IMETHOD_(type) virtual type
#define NS_IMETHODIMP nsresult
#define NS_IMETHODIMP_(type) type
#define NS_NO_VTABLE
/* Gives each interface class a static GetIID() like Gecko's
 * NS_DECLARE_STATIC_IID_ACCESSOR. */
#define NS_DECLARE_STATIC_IID_ACCESSOR(the_iid)                              \
  static const nsIID &GetIID() {                                           \
    static const nsIID iid_ = the_iid;                                     \
    return iid_;                                                           \
  }
#define NS_GET_IID(T) (T::GetIID())
#else
/* In C every generated header defines `static const nsIID nsIFoo_IID`. */
#define NS_GET_IID(T) (&T##_IID)
#endif

#endif /* WSCHANNEL_NSCORE_H */

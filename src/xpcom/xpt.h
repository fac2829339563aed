/*
 * xpt.h — type information for XPCOM interfaces.
 *
 * The IDL compiler (build/xpidl) emits, for every interface it compiles, a
 * constant XPTInterfaceInfo in C source (`<stem>_xpt.c`), and an index file
 * listing all of them. The runtime looks interfaces up by IID and by name;
 * the script host calls any method through this data alone.
 *
 * Everything here is read-only static data: no allocation, no ownership.
 * Type tags carry Gecko's XPT numbering so that the meaning of each value is
 * the one XPConnect documents.
 */
#ifndef WSCHANNEL_XPT_H
#define WSCHANNEL_XPT_H

#include "nscore.h"

XPCOM_BEGIN_DECLS

/* Type tags (Gecko's TD_* values). */
typedef enum XPTTypeTag {
  XPT_TD_INT8 = 0,
  XPT_TD_INT16 = 1,
  XPT_TD_INT32 = 2,
  XPT_TD_INT64 = 3,
  XPT_TD_UINT8 = 4,
  XPT_TD_UINT16 = 5,
  XPT_TD_UINT32 = 6,
  XPT_TD_UINT64 = 7,
  XPT_TD_FLOAT = 8,
  XPT_TD_DOUBLE = 9,
  XPT_TD_BOOL = 10,
  XPT_TD_CHAR = 11,
  XPT_TD_WCHAR = 12,
  XPT_TD_VOID = 13,             /* void, or a [ptr]/[ref] native */
  XPT_TD_PNSIID = 14,           /* nsID* ([nsid] natives: nsIIDRef, nsCIDRef…) */
  XPT_TD_DOMSTRING = 15,        /* DOMString: nsAString */
  XPT_TD_PSTRING = 16,          /* string: char* */
  XPT_TD_PWSTRING = 17,         /* wstring: char16_t* */
  XPT_TD_INTERFACE_TYPE = 18,   /* nsIFoo*; iface names it */
  XPT_TD_INTERFACE_IS_TYPE = 19,/* void** with iid_is(argnum) */
  XPT_TD_ARRAY = 20,            /* [array, size_is(argnum)] T*; element */
  XPT_TD_PSTRING_SIZE_IS = 21,  /* [size_is(argnum)] string */
  XPT_TD_PWSTRING_SIZE_IS = 22, /* [size_is(argnum)] wstring */
  XPT_TD_UTF8STRING = 23,       /* AUTF8String: nsACString holding UTF-8 */
  XPT_TD_CSTRING = 24,          /* ACString: nsACString holding bytes */
  XPT_TD_ASTRING = 25,          /* AString: nsAString */
  XPT_TD_JSVAL = 26             /* jsval */
} XPTTypeTag;

/* XPTTypeDescriptor.flags */
#define XPT_TDF_POINTER 0x80   /* passed as a pointer ([ptr] native, strings) */
#define XPT_TDF_REFERENCE 0x40 /* passed as a C++ reference ([ref] native) */

typedef struct XPTTypeDescriptor {
  uint8_t tag;      /* XPTTypeTag */
  uint8_t flags;    /* XPT_TDF_* */
  uint8_t argnum;   /* size_is / iid_is: index of the parameter naming it */
  uint8_t argnum2;  /* length_is: index, or argnum when absent */
  const char *iface;/* XPT_TD_INTERFACE_TYPE: interface name; else NULL */
  const struct XPTTypeDescriptor *element; /* XPT_TD_ARRAY: element type */
  const char *native; /* natives: the declared C++ type, for messages */
} XPTTypeDescriptor;

/* XPTParamDescriptor.flags */
#define XPT_PD_IN 0x80
#define XPT_PD_OUT 0x40
#define XPT_PD_RETVAL 0x20
#define XPT_PD_SHARED 0x10
/* A string-class out/retval parameter (AString, ACString, AUTF8String,
 * DOMString): the caller passes a string object that the callee assigns
 * into, so the slot receives one pointer and OUT is also set. */
#define XPT_PD_DIPPER 0x08
#define XPT_PD_OPTIONAL 0x04
#define XPT_PD_CONST 0x02

typedef struct XPTParamDescriptor {
  const char *name;
  uint8_t flags; /* XPT_PD_* */
  XPTTypeDescriptor type;
} XPTParamDescriptor;

/* XPTMethodDescriptor.flags */
#define XPT_MD_GETTER 0x80
#define XPT_MD_SETTER 0x40
#define XPT_MD_NOTXPCOM 0x20
#define XPT_MD_CTOR 0x10     /* unused, kept for Gecko's numbering */
#define XPT_MD_HIDDEN 0x08   /* [noscript] */
#define XPT_MD_OPT_ARGC 0x04 /* [optional_argc] */
#define XPT_MD_CONTEXT 0x02  /* [implicit_jscontext] */

typedef struct XPTMethodDescriptor {
  /* IDL name: for attributes the attribute's name (no Get/Set). */
  const char *name;
  uint8_t flags;     /* XPT_MD_* */
  uint8_t num_args;  /* including a retval parameter */
  const XPTParamDescriptor *params;
  /* What the slot returns: nsresult (XPT_TD_UINT32) for ordinary
   * methods, the declared type for [notxpcom] ones. */
  XPTParamDescriptor result;
} XPTMethodDescriptor;

typedef struct XPTConstDescriptor {
  const char *name;
  XPTTypeDescriptor type; /* one of the integer tags */
  int64_t value;
} XPTConstDescriptor;

/* XPTInterfaceInfo.flags */
#define XPT_ID_SCRIPTABLE 0x80
#define XPT_ID_FUNCTION 0x40
#define XPT_ID_BUILTINCLASS 0x20
#define XPT_ID_MAIN_PROCESS_SCRIPTABLE_ONLY 0x10

typedef struct XPTInterfaceInfo {
  const char *name;   /* "nsIWebSocketChannel" */
  nsIID iid;
  const char *parent; /* "nsISupports"; NULL only for nsISupports */
  uint8_t flags;      /* XPT_ID_* */
  /* Vtable index of methods[0]: the number of slots all ancestors have. */
  uint16_t method_base;
  uint16_t num_methods; /* this interface's own slots only */
  const XPTMethodDescriptor *methods;
  uint16_t num_constants;
  const XPTConstDescriptor *constants;
} XPTInterfaceInfo;

/*
 * Look-ups over every registered interface (the built-in ones are
 * registered on first use; a host adds its own with XPT_RegisterInterfaces).
 * Return NULL when unknown. The returned data is static and lives forever.
 */
XPCOM_API(const XPTInterfaceInfo *) XPT_GetInterfaceByIID(const nsIID *iid);
XPCOM_API(const XPTInterfaceInfo *) XPT_GetInterfaceByName(const char *name);
/* The parent's info, or NULL for nsISupports or an unregistered parent. */
XPCOM_API(const XPTInterfaceInfo *) XPT_GetParent(const XPTInterfaceInfo *info);
/*
 * Finds a method (own or inherited) by IDL name. On success stores the
 * descriptor and its absolute vtable index and returns it; NULL if absent.
 * For an attribute the getter is found; pass want_setter to get the setter.
 */
XPCOM_API(const XPTMethodDescriptor *)
XPT_FindMethod(const XPTInterfaceInfo *info, const char *name, bool want_setter,
               uint16_t *vtable_index);
/* Finds a constant (own or inherited) by name; NULL if absent. */
XPCOM_API(const XPTConstDescriptor *)
XPT_FindConstant(const XPTInterfaceInfo *info, const char *name);
/*
 * Adds interfaces (a NULL-terminated array of pointers to static data).
 * An IID already registered with the same name is ignored; one registered
 * under another name gives NS_ERROR_ILLEGAL_VALUE and nothing is added.
 */
XPCOM_API(nsresult) XPT_RegisterInterfaces(const XPTInterfaceInfo *const *list);
/* Calls fn for every registered interface, in registration order. */
XPCOM_API(void) XPT_ForEachInterface(void (*fn)(const XPTInterfaceInfo *, void *),
                                     void *closure);

/* The index emitted by `xpidl -m index` for libwschannel's own IDL. */
extern const XPTInterfaceInfo *const xpt_builtin_interfaces[];

XPCOM_END_DECLS

#endif /* WSCHANNEL_XPT_H */

/*
 * idl_ast.h — the syntax tree of XPIDL files, and the resolved model the
 * emitters read.
 *
 * All nodes live in the compilation's arena (xpidl_util.h); nothing here
 * is freed individually. The parser fills the syntactic fields; the
 * resolver (idl_resolve.c, idl_check.c) fills the fields marked
 * "resolved".
 */
#ifndef XPIDL_IDL_AST_H
#define XPIDL_IDL_AST_H

#include "xpidl_util.h"

/* ---- built-in types ------------------------------------------------- */

typedef enum idl_builtin_kind {
  IDL_B_VOID,
  IDL_B_BOOLEAN,
  IDL_B_OCTET,
  IDL_B_SHORT,
  IDL_B_LONG,
  IDL_B_LONGLONG,
  IDL_B_USHORT,
  IDL_B_ULONG,
  IDL_B_ULONGLONG,
  IDL_B_FLOAT,
  IDL_B_DOUBLE,
  IDL_B_CHAR,
  IDL_B_WCHAR,
  IDL_B_STRING,
  IDL_B_WSTRING,
  IDL_B_COUNT
} idl_builtin_kind;

typedef struct idl_builtin {
  idl_builtin_kind kind;
  const char *idl_name;  /* "unsigned long long" */
  const char *native;    /* C/C++ spelling: "uint64_t", "char *" */
  const char *xpt_tag;   /* "XPT_TD_UINT64" */
  bool is_int;           /* usable as a const type */
  bool is_signed;
  int bits;              /* integer width */
  bool is_ptr;           /* string, wstring */
} idl_builtin;

extern const idl_builtin idl_builtins[IDL_B_COUNT];
/* NULL if `name` (e.g. "unsigned long") is not a built-in type. */
const idl_builtin *idl_builtin_lookup(const char *name);

/* ---- attributes as written: `[name(value), ...]` -------------------- */

typedef struct idl_attr {
  const char *name;
  const char *value; /* text inside the parentheses, trimmed; NULL if none */
  xp_loc loc;
  bool used; /* set when interpreted, so unknown ones can be reported */
} idl_attr;

/* ---- declarations (everything a type name can refer to) ------------- */

typedef enum idl_decl_kind {
  IDL_D_BUILTIN,
  IDL_D_TYPEDEF,
  IDL_D_NATIVE,
  IDL_D_FORWARD,
  IDL_D_INTERFACE
} idl_decl_kind;

typedef enum idl_native_mod {
  IDL_NMOD_NONE,
  IDL_NMOD_PTR,
  IDL_NMOD_REF
} idl_native_mod;

typedef enum idl_special {
  IDL_SP_NONE,
  IDL_SP_NSID,
  IDL_SP_DOMSTRING,
  IDL_SP_UTF8STRING,
  IDL_SP_CSTRING,
  IDL_SP_ASTRING,
  IDL_SP_JSVAL
} idl_special;

/* Interface attribute flags. */
enum {
  IDL_IF_SCRIPTABLE = 1 << 0,
  IDL_IF_FUNCTION = 1 << 1,
  IDL_IF_BUILTINCLASS = 1 << 2,
  IDL_IF_NOSCRIPT = 1 << 3,
  IDL_IF_DEPRECATED = 1 << 4,
  IDL_IF_OBJECT = 1 << 5,
  IDL_IF_MAIN_PROCESS_ONLY = 1 << 6
};

struct idl_file;
struct idl_decl;

typedef struct idl_typeref {
  const char *name; /* "unsigned long", "nsIURI", "AString" */
  xp_loc loc;
  struct idl_decl *decl; /* resolved */
} idl_typeref;

typedef struct idl_decl {
  idl_decl_kind kind;
  const char *name;
  xp_loc loc;
  xp_vec attrs; /* idl_attr* */
  struct idl_file *file; /* defining file; NULL for built-ins */

  /* IDL_D_BUILTIN */
  const idl_builtin *builtin;

  /* IDL_D_TYPEDEF */
  idl_typeref target;

  /* IDL_D_NATIVE */
  const char *cpp_type;    /* as written between the parentheses */
  idl_native_mod modifier; /* resolved from attrs */
  idl_special special;     /* resolved from attrs */

  /* IDL_D_INTERFACE */
  const char *base_name; /* NULL when no `: Base` */
  xp_loc base_loc;
  xp_vec members;        /* idl_member* */
  unsigned iflags;       /* IDL_IF_*, resolved */
  const char *uuid;      /* lower-cased text, resolved */
  uint32_t m0;
  uint16_t m1, m2;
  uint8_t m3[8];
  struct idl_decl *base; /* resolved; NULL for nsISupports */
  bool has_cdata;        /* a %{C++ %} block inside the body */
  bool resolved;         /* members resolved and checked */
} idl_decl;

/* ---- constant expressions -------------------------------------------- */

typedef enum idl_expr_op {
  IDL_E_NUM,
  IDL_E_IDENT,
  IDL_E_NEG,
  IDL_E_ADD,
  IDL_E_SUB,
  IDL_E_MUL,
  IDL_E_SHL,
  IDL_E_SHR,
  IDL_E_OR
} idl_expr_op;

typedef struct idl_expr {
  idl_expr_op op;
  xp_loc loc;
  uint64_t num;      /* IDL_E_NUM (may exceed INT64_MAX before checks) */
  const char *ident; /* IDL_E_IDENT */
  struct idl_expr *lhs, *rhs;
} idl_expr;

/* ---- interface members ----------------------------------------------- */

typedef enum idl_member_kind {
  IDL_M_CONST,
  IDL_M_ATTRIBUTE,
  IDL_M_METHOD,
  IDL_M_CDATA
} idl_member_kind;

/* Method / attribute attribute flags. */
enum {
  IDL_MF_NOSCRIPT = 1 << 0,
  IDL_MF_NOTXPCOM = 1 << 1,
  IDL_MF_NOSTDCALL = 1 << 2,
  IDL_MF_JSCONTEXT = 1 << 3,
  IDL_MF_OPTARGC = 1 << 4,
  IDL_MF_MUST_USE = 1 << 5,
  IDL_MF_INFALLIBLE = 1 << 6,
  IDL_MF_DEPRECATED = 1 << 7
};

typedef enum idl_dir { IDL_IN, IDL_OUT, IDL_INOUT } idl_dir;

typedef struct idl_param {
  const char *name;
  xp_loc loc;
  xp_vec attrs; /* idl_attr* */
  idl_dir dir;
  idl_typeref type;
  /* resolved from attrs */
  bool retval, shared, optional, is_const, array;
  const char *size_is, *iid_is, *length_is;
  int size_is_idx, iid_is_idx, length_is_idx; /* -1 when absent */
} idl_param;

typedef struct idl_member {
  idl_member_kind kind;
  const char *name; /* NULL for CDATA */
  xp_loc loc;
  xp_vec attrs;     /* idl_attr* */
  idl_typeref type; /* const type, attribute type, method return type */

  /* IDL_M_CONST */
  idl_expr *expr;
  int64_t value; /* resolved */

  /* IDL_M_ATTRIBUTE */
  bool readonly;

  /* IDL_M_METHOD */
  xp_vec params; /* idl_param* */
  xp_vec raises; /* const char* */

  /* IDL_M_CDATA */
  const char *text;

  /* resolved from attrs (attributes and methods) */
  unsigned mflags;        /* IDL_MF_* */
  const char *binaryname; /* NULL when absent */
} idl_member;

/* ---- files and top-level productions --------------------------------- */

typedef enum idl_prod_kind {
  IDL_P_INCLUDE,
  IDL_P_CDATA,
  IDL_P_TYPEDEF,
  IDL_P_NATIVE,
  IDL_P_FORWARD,
  IDL_P_INTERFACE
} idl_prod_kind;

typedef struct idl_prod {
  idl_prod_kind kind;
  xp_loc loc;
  const char *text;          /* include path as written / CDATA text */
  idl_decl *decl;            /* typedef, native, forward, interface */
  struct idl_file *included; /* IDL_P_INCLUDE, resolved */
} idl_prod;

typedef enum idl_file_state {
  IDL_FILE_NEW,
  IDL_FILE_RESOLVING,
  IDL_FILE_DONE
} idl_file_state;

typedef struct idl_file {
  const char *path;     /* as opened; used in diagnostics */
  const char *realpath; /* canonical, identifies the file */
  const char *dir;      /* directory of path, for relative includes */
  const char *stem;     /* base name without ".idl" */
  xp_vec prods;         /* idl_prod* */
  xp_map scope;         /* name -> idl_decl*: own and included names */
  idl_file_state state;
} idl_file;

/* ---- slots: what an interface adds to the vtable --------------------- */

typedef enum idl_slot_kind {
  IDL_SLOT_METHOD,
  IDL_SLOT_GETTER,
  IDL_SLOT_SETTER
} idl_slot_kind;

typedef struct idl_slot {
  idl_slot_kind kind;
  idl_member *member;
  const char *native_name; /* "GetFoo", "SetFoo", "AsyncOpen" */
} idl_slot;

/* Appends the interface's own slots, in vtable order, to `out` (vector of
 * idl_slot*). */
void idl_iface_own_slots(xp_arena *a, const idl_decl *iface, xp_vec *out);
/* Number of slots of the interface's ancestors (its vtable index base). */
unsigned idl_iface_base_slots(const idl_decl *iface);
/* Number of slots of the interface itself (no ancestors). */
unsigned idl_iface_own_slot_count(const idl_decl *iface);

/* Follows typedefs to the underlying declaration. */
const idl_decl *idl_underlying(const idl_decl *d);

/* "nsIFoo" -> "NS_IFOO", "mozIBar" -> "MOZIBAR" (IID macro prefix). */
char *idl_iid_macro_prefix(xp_arena *a, const char *iface_name);
/* "foo" -> "Foo". */
char *idl_first_cap(xp_arena *a, const char *s);

#endif /* XPIDL_IDL_AST_H */

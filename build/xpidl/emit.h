/*
 * emit.h — output generators. Each appends a complete file to `out`
 * (a caller-owned buffer) from a file resolved without errors.
 */
#ifndef XPIDL_EMIT_H
#define XPIDL_EMIT_H

#include "idl_resolve.h"

/* `-m header`: the C/C++ header described in docs/ARCHITECTURE.md. */
void emit_header(idl_ctx *ctx, const idl_file *file, xp_buf *out);
/* `-m typelib`: a C file defining xpt_<Name> for each interface defined in
 * `file` (src/xpcom/xpt.h). */
void emit_typelib(idl_ctx *ctx, const idl_file *file, xp_buf *out);
/* `-m index`: xpt_builtin_interfaces[] over the interfaces defined in
 * `files` (each once, in file then declaration order). */
void emit_index(idl_ctx *ctx, idl_file *const *files, size_t nfiles,
                xp_buf *out);

/* ---- type spelling (emit_types.c), used by the header emitter ---- */

/* How a value of a type is passed. */
typedef struct emit_use {
  idl_dir dir;
  bool is_const;  /* [const] */
  bool shared;    /* [shared] */
  bool array;     /* [array]: a pointer to elements */
} emit_use;

/* The C++ type as Gecko's header.py spells it, ready for the parameter
 * name to be appended ("const nsACString & ", "nsIFoo **", "int32_t "). */
const char *emit_cxx_type(xp_arena *a, const idl_decl *t, emit_use use);
/* The C type, without a trailing space ("const nsACString *", "int32_t"). */
const char *emit_c_type(xp_arena *a, const idl_decl *t, emit_use use);
/* "int32_t" + "x" -> "int32_t x"; "char *" + "x" -> "char *x". */
const char *emit_c_decl(xp_arena *a, const char *type, const char *name);
/* A native's C++ type spelled for C: `already_AddRefed<nsIRunnable>` ->
 * `already_AddRefed_nsIRunnable`, `PRFileDesc*` -> `PRFileDesc *`. Sets
 * *base to the identifier naming the type (for a forward declaration),
 * or NULL when the type is built into C or nscore.h. */
const char *emit_c_native(xp_arena *a, const char *cpp, const char **base);
/* Whether C passes this by-value native `in` parameter by pointer: class
 * templates (smart pointers) are not trivially copyable in C++, so the
 * Itanium ABI passes them by invisible reference. */
bool emit_native_byref_in_c(const idl_decl *native);
/* Whether nscore.h (or the C library it includes) already declares this
 * name, so generated headers must not typedef it again. */
bool emit_name_predeclared(const char *name);

#endif /* XPIDL_EMIT_H */

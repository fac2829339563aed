/*
 * idl_resolve.h — loading IDL files with their includes, name resolution
 * and semantic checks.
 *
 * A compilation (idl_ctx) owns one arena holding every file, token and
 * node. Each file is parsed and resolved once, however often it is
 * included; its scope holds its own names plus those of its includes
 * (transitively), as in Gecko's xpidl.
 */
#ifndef XPIDL_IDL_RESOLVE_H
#define XPIDL_IDL_RESOLVE_H

#include "idl_ast.h"

typedef struct idl_ctx {
  xp_arena arena;
  xp_vec incdirs; /* const char*: -I directories, in order */
  xp_map files;   /* realpath -> idl_file* */
  idl_decl *builtins[IDL_B_COUNT];
} idl_ctx;

void idl_ctx_init(idl_ctx *ctx);
/* Releases everything the compilation allocated. */
void idl_ctx_free(idl_ctx *ctx);
void idl_ctx_add_incdir(idl_ctx *ctx, const char *dir);

/*
 * Loads `path`, its includes, resolves names and runs all checks.
 * Returns the file, or NULL when any error was reported (xp_error_count).
 */
idl_file *idl_load(idl_ctx *ctx, const char *path);

/* ---- used between idl_resolve.c and idl_check.c ---- */

/* Resolves t->name in `file`'s scope (built-ins first). Reports an error
 * and returns false when unknown. */
bool idl_resolve_type(idl_ctx *ctx, idl_file *file, idl_typeref *t);
/* Interprets a native's attributes (modifier, special type). */
void idl_check_native(idl_ctx *ctx, idl_decl *native);
/* Checks a typedef's target (built-in or typedef). */
void idl_check_typedef(idl_ctx *ctx, idl_decl *td);
/* Interprets an interface's attributes and resolves and checks its base
 * and members. The interface is already visible in file's scope. */
void idl_check_interface(idl_ctx *ctx, idl_file *file, idl_decl *iface);

#endif /* XPIDL_IDL_RESOLVE_H */

/*
 * idl_parser.h — recursive-descent parser for one XPIDL file.
 *
 * Produces the syntactic tree (idl_ast.h) only; includes are recorded as
 * productions and loaded later by the resolver.
 */
#ifndef XPIDL_IDL_PARSER_H
#define XPIDL_IDL_PARSER_H

#include "idl_ast.h"

/*
 * Parses `src` (NUL-terminated, `len` bytes, kept alive by the caller) into
 * file->prods, allocating from `arena`. On a syntax error, reports it with
 * xp_error() and returns false; the file then holds what was parsed so far.
 */
bool idl_parse(xp_arena *arena, idl_file *file, const char *src, size_t len);

#endif /* XPIDL_IDL_PARSER_H */

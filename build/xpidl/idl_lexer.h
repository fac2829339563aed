/*
 * idl_lexer.h — tokens of XPIDL.
 *
 * Besides ordinary tokens the lexer recognises the two line-oriented forms
 * of the language: `#include "file"` and `%{C++ ... %}` blocks. Comments
 * (`/ * * /`, `//`, doc comments) are skipped. Attribute arguments such
 * as `uuid(...)` are read raw with idl_lex_raw_paren(), because a uuid is
 * not a sequence of ordinary tokens.
 *
 * Errors are reported through xp_error(); the lexer then returns IDL_T_ERROR.
 */
#ifndef XPIDL_IDL_LEXER_H
#define XPIDL_IDL_LEXER_H

#include "xpidl_util.h"

typedef enum idl_tok_kind {
  IDL_T_EOF,
  IDL_T_ERROR,
  IDL_T_IDENT,
  IDL_T_NUMBER,
  IDL_T_INCLUDE, /* text: the quoted file name */
  IDL_T_CDATA,   /* text: the block's contents */
  IDL_T_PUNCT,   /* punct: one of { } ( ) [ ] ; , : = | + - * < > */
  IDL_T_SHL,     /* << */
  IDL_T_SHR,     /* >> */
  /* keywords */
  IDL_T_CONST,
  IDL_T_INTERFACE,
  IDL_T_IN,
  IDL_T_INOUT,
  IDL_T_OUT,
  IDL_T_ATTRIBUTE,
  IDL_T_RAISES,
  IDL_T_READONLY,
  IDL_T_NATIVE,
  IDL_T_TYPEDEF
} idl_tok_kind;

typedef struct idl_token {
  idl_tok_kind kind;
  xp_loc loc;
  const char *text; /* arena copy: identifier/keyword spelling, include, CDATA */
  char punct;
  uint64_t num;
} idl_token;

typedef struct idl_lexer {
  xp_arena *arena;
  const char *file; /* for locations */
  const char *src;
  size_t len;
  size_t pos;
  int line;
  size_t line_start; /* offset of the current line's first byte */
} idl_lexer;

/* `src` must stay alive (and NUL-terminated at src[len]) while lexing. */
void idl_lex_init(idl_lexer *lx, xp_arena *arena, const char *file,
                  const char *src, size_t len);
void idl_lex_next(idl_lexer *lx, idl_token *tok);
/* Reads the text up to the next `)` (which is consumed) and returns it
 * trimmed. Call right after the `(` token. NULL (error reported) if there
 * is no `)` on the rest of the line. */
const char *idl_lex_raw_paren(idl_lexer *lx);
/* Describes a token for messages: "'foo'", "end of file". */
const char *idl_tok_describe(xp_arena *a, const idl_token *tok);

#endif /* XPIDL_IDL_LEXER_H */

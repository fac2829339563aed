/* idl_lexer.c — XPIDL tokenizer. */
#include "idl_lexer.h"

#include <ctype.h>
#include <string.h>

void idl_lex_init(idl_lexer *lx, xp_arena *arena, const char *file,
                  const char *src, size_t len) {
  memset(lx, 0, sizeof(*lx));
  lx->arena = arena;
  lx->file = file;
  lx->src = src;
  lx->len = len;
  lx->line = 1;
}

static xp_loc here(const idl_lexer *lx) {
  xp_loc l = {lx->file, lx->line, (int)(lx->pos - lx->line_start) + 1};
  return l;
}

static int peekc(const idl_lexer *lx, size_t ahead) {
  size_t p = lx->pos + ahead;
  return p < lx->len ? (unsigned char)lx->src[p] : -1;
}

/* Consumes one byte, keeping line/column bookkeeping. */
static void bump(idl_lexer *lx) {
  if (lx->src[lx->pos] == '\n') {
    lx->line++;
    lx->line_start = lx->pos + 1;
  }
  lx->pos++;
}

static bool starts_with(const idl_lexer *lx, const char *s) {
  size_t n = strlen(s);
  return lx->len - lx->pos >= n && memcmp(lx->src + lx->pos, s, n) == 0;
}

/* Skips whitespace and comments. False (error reported) on an
 * unterminated comment. */
static bool skip_space(idl_lexer *lx) {
  for (;;) {
    int c = peekc(lx, 0);
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
        c == '\v') {
      bump(lx);
    } else if (c == '/' && peekc(lx, 1) == '/') {
      while (peekc(lx, 0) != -1 && peekc(lx, 0) != '\n')
        bump(lx);
    } else if (c == '/' && peekc(lx, 1) == '*') {
      xp_loc start = here(lx);
      bump(lx);
      bump(lx);
      while (!(peekc(lx, 0) == '*' && peekc(lx, 1) == '/')) {
        if (peekc(lx, 0) == -1) {
          xp_error(start, "unterminated comment");
          return false;
        }
        bump(lx);
      }
      bump(lx);
      bump(lx);
    } else {
      return true;
    }
  }
}

static const struct {
  const char *word;
  idl_tok_kind kind;
} keywords[] = {
    {"const", IDL_T_CONST},         {"interface", IDL_T_INTERFACE},
    {"in", IDL_T_IN},               {"inout", IDL_T_INOUT},
    {"out", IDL_T_OUT},             {"attribute", IDL_T_ATTRIBUTE},
    {"raises", IDL_T_RAISES},       {"readonly", IDL_T_READONLY},
    {"native", IDL_T_NATIVE},       {"typedef", IDL_T_TYPEDEF},
};

/* `#include "file"`; the '#' is current. */
static void lex_directive(idl_lexer *lx, idl_token *tok) {
  bump(lx);
  size_t w = lx->pos;
  while (isalpha(peekc(lx, 0)))
    bump(lx);
  if (lx->pos - w != 7 || memcmp(lx->src + w, "include", 7) != 0) {
    xp_error(tok->loc, "unknown preprocessor directive '#%.*s'",
             (int)(lx->pos - w), lx->src + w);
    tok->kind = IDL_T_ERROR;
    return;
  }
  while (peekc(lx, 0) == ' ' || peekc(lx, 0) == '\t')
    bump(lx);
  if (peekc(lx, 0) != '"') {
    xp_error(here(lx), "expected \"file\" after #include");
    tok->kind = IDL_T_ERROR;
    return;
  }
  bump(lx);
  size_t s = lx->pos;
  while (peekc(lx, 0) != '"') {
    if (peekc(lx, 0) == -1 || peekc(lx, 0) == '\n') {
      xp_error(tok->loc, "unterminated file name in #include");
      tok->kind = IDL_T_ERROR;
      return;
    }
    bump(lx);
  }
  if (lx->pos == s) {
    xp_error(tok->loc, "empty file name in #include");
    tok->kind = IDL_T_ERROR;
    return;
  }
  tok->text = xp_strndup(lx->arena, lx->src + s, lx->pos - s);
  bump(lx);
  tok->kind = IDL_T_INCLUDE;
}

/* `%{C++` ... `%}` (Gecko also accepts `%{ C++` and a trailing `%} C++`).
 * The '%' is current. */
static void lex_cdata(idl_lexer *lx, idl_token *tok) {
  bump(lx); /* % */
  bump(lx); /* { */
  while (peekc(lx, 0) == ' ' || peekc(lx, 0) == '\t')
    bump(lx);
  if (!starts_with(lx, "C++")) {
    xp_error(tok->loc, "expected 'C++' after '%%{'");
    tok->kind = IDL_T_ERROR;
    return;
  }
  for (int i = 0; i < 3; i++)
    bump(lx);
  while (peekc(lx, 0) == ' ' || peekc(lx, 0) == '\t' || peekc(lx, 0) == '\r')
    bump(lx);
  if (peekc(lx, 0) == '\n')
    bump(lx);
  size_t s = lx->pos;
  while (!starts_with(lx, "%}")) {
    if (peekc(lx, 0) == -1) {
      xp_error(tok->loc, "unterminated %%{C++ block");
      tok->kind = IDL_T_ERROR;
      return;
    }
    bump(lx);
  }
  /* drop the line break before `%}` (and blanks indenting the `%}`) */
  size_t e = lx->pos;
  size_t t = e;
  while (t > s && (lx->src[t - 1] == ' ' || lx->src[t - 1] == '\t'))
    t--;
  if (t == s || lx->src[t - 1] == '\n')
    e = t;
  if (e > s && lx->src[e - 1] == '\n')
    e--;
  if (e > s && lx->src[e - 1] == '\r')
    e--;
  tok->text = xp_strndup(lx->arena, lx->src + s, e - s);
  bump(lx);
  bump(lx);
  /* optional trailing "C++" on the closing line */
  size_t save = lx->pos;
  while (peekc(lx, 0) == ' ' || peekc(lx, 0) == '\t')
    bump(lx);
  if (starts_with(lx, "C++")) {
    for (int i = 0; i < 3; i++)
      bump(lx);
  } else {
    lx->pos = save; /* no newline was crossed, so line bookkeeping holds */
  }
  tok->kind = IDL_T_CDATA;
}

static void lex_number(idl_lexer *lx, idl_token *tok) {
  uint64_t v = 0;
  bool overflow = false;
  if (peekc(lx, 0) == '0' && (peekc(lx, 1) == 'x' || peekc(lx, 1) == 'X')) {
    bump(lx);
    bump(lx);
    if (!isxdigit(peekc(lx, 0))) {
      xp_error(tok->loc, "malformed hexadecimal number");
      tok->kind = IDL_T_ERROR;
      return;
    }
    while (isxdigit(peekc(lx, 0))) {
      int c = peekc(lx, 0);
      unsigned d = isdigit(c) ? (unsigned)(c - '0')
                              : (unsigned)(tolower(c) - 'a' + 10);
      if (v > (UINT64_MAX >> 4))
        overflow = true;
      v = (v << 4) | d;
      bump(lx);
    }
  } else {
    while (isdigit(peekc(lx, 0))) {
      unsigned d = (unsigned)(peekc(lx, 0) - '0');
      if (v > (UINT64_MAX - d) / 10)
        overflow = true;
      v = v * 10 + d;
      bump(lx);
    }
  }
  if (isalnum(peekc(lx, 0)) || peekc(lx, 0) == '_') {
    xp_error(here(lx), "invalid character in number");
    tok->kind = IDL_T_ERROR;
    return;
  }
  if (overflow) {
    xp_error(tok->loc, "number too large");
    tok->kind = IDL_T_ERROR;
    return;
  }
  tok->num = v;
  tok->kind = IDL_T_NUMBER;
}

void idl_lex_next(idl_lexer *lx, idl_token *tok) {
  memset(tok, 0, sizeof(*tok));
  if (!skip_space(lx)) {
    tok->kind = IDL_T_ERROR;
    return;
  }
  tok->loc = here(lx);
  int c = peekc(lx, 0);
  if (c == -1) {
    tok->kind = IDL_T_EOF;
    return;
  }
  if (c == '\0') {
    xp_error(tok->loc, "NUL byte in input");
    tok->kind = IDL_T_ERROR;
    return;
  }
  if (c == '#') {
    lex_directive(lx, tok);
    return;
  }
  if (c == '%' && peekc(lx, 1) == '{') {
    lex_cdata(lx, tok);
    return;
  }
  if (isalpha(c) || c == '_') {
    size_t s = lx->pos;
    while (isalnum(peekc(lx, 0)) || peekc(lx, 0) == '_')
      bump(lx);
    tok->text = xp_strndup(lx->arena, lx->src + s, lx->pos - s);
    tok->kind = IDL_T_IDENT;
    for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
      if (strcmp(tok->text, keywords[i].word) == 0)
        tok->kind = keywords[i].kind;
    return;
  }
  if (isdigit(c)) {
    lex_number(lx, tok);
    return;
  }
  if ((c == '<' && peekc(lx, 1) == '<') || (c == '>' && peekc(lx, 1) == '>')) {
    tok->kind = c == '<' ? IDL_T_SHL : IDL_T_SHR;
    bump(lx);
    bump(lx);
    return;
  }
  if (strchr("{}()[];,:=|+-*<>", c)) {
    tok->kind = IDL_T_PUNCT;
    tok->punct = (char)c;
    bump(lx);
    return;
  }
  if (isprint(c))
    xp_error(tok->loc, "unexpected character '%c'", c);
  else
    xp_error(tok->loc, "unexpected byte 0x%02x", (unsigned)c);
  tok->kind = IDL_T_ERROR;
}

const char *idl_lex_raw_paren(idl_lexer *lx) {
  xp_loc start = here(lx);
  size_t s = lx->pos;
  int depth = 0;
  for (;;) {
    int c = peekc(lx, 0);
    if (c == -1 || c == '\n') {
      xp_error(start, "missing ')'");
      return NULL;
    }
    if (c == '(')
      depth++;
    if (c == ')' && depth-- == 0)
      break;
    bump(lx);
  }
  size_t e = lx->pos;
  bump(lx); /* ')' */
  while (s < e && isspace((unsigned char)lx->src[s]))
    s++;
  while (e > s && isspace((unsigned char)lx->src[e - 1]))
    e--;
  return xp_strndup(lx->arena, lx->src + s, e - s);
}

const char *idl_tok_describe(xp_arena *a, const idl_token *tok) {
  switch (tok->kind) {
  case IDL_T_EOF:
    return "end of file";
  case IDL_T_ERROR:
    return "invalid input";
  case IDL_T_NUMBER:
    return xp_printf(a, "number %llu", (unsigned long long)tok->num);
  case IDL_T_INCLUDE:
    return "#include";
  case IDL_T_CDATA:
    return "%{C++ block";
  case IDL_T_PUNCT:
    return xp_printf(a, "'%c'", tok->punct);
  case IDL_T_SHL:
    return "'<<'";
  case IDL_T_SHR:
    return "'>>'";
  default:
    return xp_printf(a, "'%s'", tok->text);
  }
}

/*
 * idl_parser.c — XPIDL grammar (after Gecko's xpidl.py):
 *
 *   file       := { '#include' | cdata | typedef | native | interface }
 *   typedef    := 'typedef' type IDENT ';'
 *   native     := [attrs] 'native' IDENT '(' raw-c++-type ')' ';'
 *   interface  := [attrs] 'interface' IDENT
 *                   ( ';' | [':' IDENT] '{' { member } '}' ';' )
 *   member     := cdata
 *               | 'const' type IDENT '=' expr ';'
 *               | [attrs] ['readonly'] 'attribute' type IDENT ';'
 *               | [attrs] type IDENT '(' [param {',' param}] ')'
 *                   ['raises' '(' IDENT {',' IDENT} ')'] ';'
 *   param      := [attrs] ('in' | 'out' | 'inout') type IDENT
 *   attrs      := '[' attr {',' attr} ']'     attr := NAME ['(' raw ')']
 *   expr       := shift {'|' shift}      shift := add {('<<'|'>>') add}
 *   add        := mul {('+'|'-') mul}    mul := unary {'*' unary}
 *   unary      := '-' unary | NUMBER | IDENT | '(' expr ')'
 *
 * A syntax error is reported once and unwinds with longjmp; every node is
 * arena memory, so nothing leaks.
 */
#include "idl_parser.h"

#include <setjmp.h>
#include <string.h>

#include "idl_lexer.h"

typedef struct parser {
  xp_arena *a;
  idl_file *file;
  idl_lexer lx;
  idl_token tok; /* current token */
  jmp_buf fail;
} parser;

static _Noreturn void fail(parser *p) { longjmp(p->fail, 1); }

static void advance(parser *p) {
  idl_lex_next(&p->lx, &p->tok);
  if (p->tok.kind == IDL_T_ERROR)
    fail(p);
}

static _Noreturn void syntax_error(parser *p, const char *expected) {
  xp_error(p->tok.loc, "expected %s, found %s", expected,
           idl_tok_describe(p->a, &p->tok));
  fail(p);
}

static bool is_punct(const parser *p, char c) {
  return p->tok.kind == IDL_T_PUNCT && p->tok.punct == c;
}

static void expect_punct(parser *p, char c) {
  if (!is_punct(p, c)) {
    char what[4] = {'\'', c, '\'', '\0'};
    syntax_error(p, what);
  }
  advance(p);
}

static const char *expect_ident(parser *p, const char *what) {
  if (p->tok.kind != IDL_T_IDENT)
    syntax_error(p, what);
  const char *s = p->tok.text;
  advance(p);
  return s;
}

/* ---- attributes --------------------------------------------------------- */

static bool is_word(const idl_token *t) {
  return t->text && (t->kind == IDL_T_IDENT || t->kind >= IDL_T_CONST);
}

/* Parses `[a, b(x), ...]` if present. */
static void parse_attrs(parser *p, xp_vec *out) {
  if (!is_punct(p, '['))
    return;
  advance(p);
  for (;;) {
    /* `const` is both a keyword and a parameter attribute. */
    if (!is_word(&p->tok))
      syntax_error(p, "attribute name");
    idl_attr *at = xp_alloc(p->a, sizeof(*at));
    at->name = p->tok.text;
    at->loc = p->tok.loc;
    /* Look at the raw next byte: `uuid(` must be read raw, before the
     * lexer tokenizes the uuid. */
    idl_lexer save = p->lx;
    idl_token t;
    idl_lex_next(&p->lx, &t);
    if (t.kind == IDL_T_ERROR)
      fail(p);
    if (t.kind == IDL_T_PUNCT && t.punct == '(') {
      at->value = idl_lex_raw_paren(&p->lx);
      if (!at->value)
        fail(p);
    } else {
      p->lx = save;
    }
    xp_vec_push(p->a, out, at);
    advance(p);
    if (is_punct(p, ','))
      advance(p);
    else if (is_punct(p, ']'))
      break;
    else
      syntax_error(p, "',' or ']'");
  }
  advance(p);
}

/* ---- types -------------------------------------------------------------- */

static void parse_type(parser *p, idl_typeref *t) {
  t->loc = p->tok.loc;
  if (p->tok.kind != IDL_T_IDENT)
    syntax_error(p, "type name");
  const char *w = p->tok.text;
  advance(p);
  if (strcmp(w, "unsigned") == 0) {
    if (p->tok.kind != IDL_T_IDENT ||
        (strcmp(p->tok.text, "short") != 0 && strcmp(p->tok.text, "long") != 0))
      syntax_error(p, "'short' or 'long' after 'unsigned'");
    const char *w2 = p->tok.text;
    advance(p);
    if (strcmp(w2, "long") == 0 && p->tok.kind == IDL_T_IDENT &&
        strcmp(p->tok.text, "long") == 0) {
      advance(p);
      t->name = "unsigned long long";
    } else {
      t->name = xp_printf(p->a, "unsigned %s", w2);
    }
  } else if (strcmp(w, "long") == 0 && p->tok.kind == IDL_T_IDENT &&
             strcmp(p->tok.text, "long") == 0) {
    advance(p);
    t->name = "long long";
  } else {
    t->name = w;
  }
}

/* ---- constant expressions ------------------------------------------------ */

static idl_expr *new_expr(parser *p, idl_expr_op op, xp_loc loc) {
  idl_expr *e = xp_alloc(p->a, sizeof(*e));
  e->op = op;
  e->loc = loc;
  return e;
}

static idl_expr *parse_or(parser *p);

static idl_expr *parse_unary(parser *p) {
  xp_loc loc = p->tok.loc;
  if (is_punct(p, '-')) {
    advance(p);
    idl_expr *e = new_expr(p, IDL_E_NEG, loc);
    e->lhs = parse_unary(p);
    return e;
  }
  if (p->tok.kind == IDL_T_NUMBER) {
    idl_expr *e = new_expr(p, IDL_E_NUM, loc);
    e->num = p->tok.num;
    advance(p);
    return e;
  }
  if (p->tok.kind == IDL_T_IDENT) {
    idl_expr *e = new_expr(p, IDL_E_IDENT, loc);
    e->ident = p->tok.text;
    advance(p);
    return e;
  }
  if (is_punct(p, '(')) {
    advance(p);
    idl_expr *e = parse_or(p);
    expect_punct(p, ')');
    return e;
  }
  syntax_error(p, "constant expression");
}

static idl_expr *binary(parser *p, idl_expr_op op, xp_loc loc, idl_expr *l,
                        idl_expr *r) {
  idl_expr *e = new_expr(p, op, loc);
  e->lhs = l;
  e->rhs = r;
  return e;
}

static idl_expr *parse_mul(parser *p) {
  idl_expr *e = parse_unary(p);
  while (is_punct(p, '*')) {
    xp_loc loc = p->tok.loc;
    advance(p);
    e = binary(p, IDL_E_MUL, loc, e, parse_unary(p));
  }
  return e;
}

static idl_expr *parse_add(parser *p) {
  idl_expr *e = parse_mul(p);
  while (is_punct(p, '+') || is_punct(p, '-')) {
    idl_expr_op op = is_punct(p, '+') ? IDL_E_ADD : IDL_E_SUB;
    xp_loc loc = p->tok.loc;
    advance(p);
    e = binary(p, op, loc, e, parse_mul(p));
  }
  return e;
}

static idl_expr *parse_shift(parser *p) {
  idl_expr *e = parse_add(p);
  while (p->tok.kind == IDL_T_SHL || p->tok.kind == IDL_T_SHR) {
    idl_expr_op op = p->tok.kind == IDL_T_SHL ? IDL_E_SHL : IDL_E_SHR;
    xp_loc loc = p->tok.loc;
    advance(p);
    e = binary(p, op, loc, e, parse_add(p));
  }
  return e;
}

static idl_expr *parse_or(parser *p) {
  idl_expr *e = parse_shift(p);
  while (is_punct(p, '|')) {
    xp_loc loc = p->tok.loc;
    advance(p);
    e = binary(p, IDL_E_OR, loc, e, parse_shift(p));
  }
  return e;
}

/* ---- interface members ----------------------------------------------------- */

static idl_member *new_member(parser *p, idl_member_kind kind, xp_loc loc) {
  idl_member *m = xp_alloc(p->a, sizeof(*m));
  m->kind = kind;
  m->loc = loc;
  return m;
}

static idl_param *parse_param(parser *p) {
  idl_param *pa = xp_alloc(p->a, sizeof(*pa));
  pa->size_is_idx = pa->iid_is_idx = pa->length_is_idx = -1;
  parse_attrs(p, &pa->attrs);
  switch (p->tok.kind) {
  case IDL_T_IN:
    pa->dir = IDL_IN;
    break;
  case IDL_T_OUT:
    pa->dir = IDL_OUT;
    break;
  case IDL_T_INOUT:
    pa->dir = IDL_INOUT;
    break;
  default:
    syntax_error(p, "'in', 'out' or 'inout'");
  }
  advance(p);
  parse_type(p, &pa->type);
  pa->loc = p->tok.loc;
  pa->name = expect_ident(p, "parameter name");
  return pa;
}

static idl_member *parse_member(parser *p) {
  xp_loc loc = p->tok.loc;
  if (p->tok.kind == IDL_T_CDATA) {
    idl_member *m = new_member(p, IDL_M_CDATA, loc);
    m->text = p->tok.text;
    advance(p);
    return m;
  }
  if (p->tok.kind == IDL_T_CONST) {
    advance(p);
    idl_member *m = new_member(p, IDL_M_CONST, loc);
    parse_type(p, &m->type);
    m->loc = p->tok.loc;
    m->name = expect_ident(p, "constant name");
    expect_punct(p, '=');
    m->expr = parse_or(p);
    expect_punct(p, ';');
    return m;
  }
  xp_vec attrs = {0};
  parse_attrs(p, &attrs);
  if (p->tok.kind == IDL_T_CONST) {
    xp_error(loc, "constants cannot have attributes");
    fail(p);
  }
  if (p->tok.kind == IDL_T_READONLY || p->tok.kind == IDL_T_ATTRIBUTE) {
    idl_member *m = new_member(p, IDL_M_ATTRIBUTE, loc);
    m->attrs = attrs;
    if (p->tok.kind == IDL_T_READONLY) {
      m->readonly = true;
      advance(p);
      if (p->tok.kind != IDL_T_ATTRIBUTE)
        syntax_error(p, "'attribute' after 'readonly'");
    }
    advance(p);
    parse_type(p, &m->type);
    m->loc = p->tok.loc;
    m->name = expect_ident(p, "attribute name");
    expect_punct(p, ';');
    return m;
  }
  idl_member *m = new_member(p, IDL_M_METHOD, loc);
  m->attrs = attrs;
  parse_type(p, &m->type);
  m->loc = p->tok.loc;
  m->name = expect_ident(p, "method name");
  expect_punct(p, '(');
  if (!is_punct(p, ')')) {
    for (;;) {
      xp_vec_push(p->a, &m->params, parse_param(p));
      if (!is_punct(p, ','))
        break;
      advance(p);
    }
  }
  expect_punct(p, ')');
  if (p->tok.kind == IDL_T_RAISES) {
    advance(p);
    expect_punct(p, '(');
    for (;;) {
      xp_vec_push(p->a, &m->raises, (void *)expect_ident(p, "exception name"));
      if (!is_punct(p, ','))
        break;
      advance(p);
    }
    expect_punct(p, ')');
  }
  expect_punct(p, ';');
  return m;
}

/* ---- top level --------------------------------------------------------------- */

static idl_prod *new_prod(parser *p, idl_prod_kind kind, xp_loc loc) {
  idl_prod *pr = xp_alloc(p->a, sizeof(*pr));
  pr->kind = kind;
  pr->loc = loc;
  xp_vec_push(p->a, &p->file->prods, pr);
  return pr;
}

static idl_decl *new_decl(parser *p, idl_decl_kind kind) {
  idl_decl *d = xp_alloc(p->a, sizeof(*d));
  d->kind = kind;
  d->file = p->file;
  return d;
}

static void parse_interface(parser *p, xp_vec attrs, xp_loc loc) {
  advance(p); /* 'interface' */
  xp_loc name_loc = p->tok.loc;
  const char *name = expect_ident(p, "interface name");
  if (is_punct(p, ';')) {
    advance(p);
    if (attrs.len) {
      idl_attr *at = attrs.items[0];
      xp_error(at->loc, "a forward declaration cannot have attributes");
      fail(p);
    }
    idl_prod *pr = new_prod(p, IDL_P_FORWARD, loc);
    pr->decl = new_decl(p, IDL_D_FORWARD);
    pr->decl->name = name;
    pr->decl->loc = name_loc;
    return;
  }
  idl_decl *d = new_decl(p, IDL_D_INTERFACE);
  d->name = name;
  d->loc = name_loc;
  d->attrs = attrs;
  if (is_punct(p, ':')) {
    advance(p);
    d->base_loc = p->tok.loc;
    d->base_name = expect_ident(p, "base interface name");
  }
  expect_punct(p, '{');
  while (!is_punct(p, '}')) {
    if (p->tok.kind == IDL_T_EOF)
      syntax_error(p, "'}'");
    idl_member *m = parse_member(p);
    if (m->kind == IDL_M_CDATA)
      d->has_cdata = true;
    xp_vec_push(p->a, &d->members, m);
  }
  advance(p);
  expect_punct(p, ';');
  new_prod(p, IDL_P_INTERFACE, loc)->decl = d;
}

static void parse_production(parser *p) {
  xp_loc loc = p->tok.loc;
  switch (p->tok.kind) {
  case IDL_T_INCLUDE:
    new_prod(p, IDL_P_INCLUDE, loc)->text = p->tok.text;
    advance(p);
    return;
  case IDL_T_CDATA:
    new_prod(p, IDL_P_CDATA, loc)->text = p->tok.text;
    advance(p);
    return;
  case IDL_T_TYPEDEF: {
    advance(p);
    idl_decl *d = new_decl(p, IDL_D_TYPEDEF);
    parse_type(p, &d->target);
    d->loc = p->tok.loc;
    d->name = expect_ident(p, "typedef name");
    expect_punct(p, ';');
    new_prod(p, IDL_P_TYPEDEF, loc)->decl = d;
    return;
  }
  default:
    break;
  }
  xp_vec attrs = {0};
  parse_attrs(p, &attrs);
  if (p->tok.kind == IDL_T_NATIVE) {
    advance(p);
    idl_decl *d = new_decl(p, IDL_D_NATIVE);
    d->attrs = attrs;
    d->loc = p->tok.loc;
    d->name = expect_ident(p, "native type name");
    if (!is_punct(p, '('))
      syntax_error(p, "'('");
    /* The lexer stands right after '(' : read the C++ type raw. */
    d->cpp_type = idl_lex_raw_paren(&p->lx);
    if (!d->cpp_type)
      fail(p);
    if (!*d->cpp_type) {
      xp_error(d->loc, "native type '%s' has an empty C++ type", d->name);
      fail(p);
    }
    advance(p);
    expect_punct(p, ';');
    new_prod(p, IDL_P_NATIVE, loc)->decl = d;
    return;
  }
  if (p->tok.kind == IDL_T_INTERFACE) {
    parse_interface(p, attrs, loc);
    return;
  }
  syntax_error(p, attrs.len ? "'interface' or 'native'"
                            : "'interface', 'native', 'typedef', "
                              "'#include' or '%{C++'");
}

bool idl_parse(xp_arena *arena, idl_file *file, const char *src, size_t len) {
  parser p;
  memset(&p, 0, sizeof(p));
  p.a = arena;
  p.file = file;
  idl_lex_init(&p.lx, arena, file->path, src, len);
  if (setjmp(p.fail))
    return false;
  advance(&p);
  while (p.tok.kind != IDL_T_EOF)
    parse_production(&p);
  return true;
}

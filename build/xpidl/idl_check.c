/*
 * idl_check.c — attribute interpretation, constant evaluation and the
 * semantic checks of XPIDL (after Gecko's xpidl.py and the old C xpidl):
 * uuids, base interfaces, duplicate names (IDL names and the C/C++ names
 * they become), unknown types, the 250-slot limit, parameter attribute
 * rules and scriptability.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "idl_resolve.h"

/* ---- attributes ------------------------------------------------------- */

typedef struct attr_spec {
  const char *name;
  bool has_value;
} attr_spec;

/* Reports unknown, duplicated and malformed attributes. `what` names the
 * kind of thing being annotated ("interface", "parameter", ...). */
static void check_attr_list(const xp_vec *attrs, const attr_spec *specs,
                            const char *what) {
  for (size_t i = 0; i < attrs->len; i++) {
    idl_attr *at = attrs->items[i];
    const attr_spec *sp = NULL;
    for (const attr_spec *s = specs; s->name; s++)
      if (strcmp(s->name, at->name) == 0)
        sp = s;
    if (!sp) {
      xp_error(at->loc, "unknown attribute '%s' on %s", at->name, what);
      continue;
    }
    for (size_t j = 0; j < i; j++)
      if (strcmp(((idl_attr *)attrs->items[j])->name, at->name) == 0)
        xp_error(at->loc, "duplicate attribute '%s'", at->name);
    if (sp->has_value && (!at->value || !*at->value))
      xp_error(at->loc, "attribute '%s' requires a value: %s(...)", at->name,
               at->name);
    else if (!sp->has_value && at->value)
      xp_error(at->loc, "attribute '%s' takes no value", at->name);
  }
}

static idl_attr *find_attr(const xp_vec *attrs, const char *name) {
  for (size_t i = 0; i < attrs->len; i++) {
    idl_attr *at = attrs->items[i];
    if (strcmp(at->name, name) == 0)
      return at;
  }
  return NULL;
}

static bool has_attr(const xp_vec *attrs, const char *name) {
  return find_attr(attrs, name) != NULL;
}

static bool is_ident(const char *s) {
  if (!s || !(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
    return false;
  for (; *s; s++)
    if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
          (*s >= '0' && *s <= '9')))
      return false;
  return true;
}

/* Checks that an attribute's value is an identifier. */
static const char *ident_attr(const xp_vec *attrs, const char *name) {
  idl_attr *at = find_attr(attrs, name);
  if (!at || !at->value)
    return NULL;
  if (!is_ident(at->value)) {
    xp_error(at->loc, "%s(...) needs an identifier, not '%s'", name, at->value);
    return NULL;
  }
  return at->value;
}

/* ---- typedefs and natives ------------------------------------------- */

void idl_check_typedef(idl_ctx *ctx, idl_decl *td) {
  if (!idl_resolve_type(ctx, td->file, &td->target))
    return;
  const idl_decl *t = td->target.decl;
  if ((t->kind != IDL_D_BUILTIN && t->kind != IDL_D_TYPEDEF) ||
      (t->kind == IDL_D_BUILTIN && t->builtin->kind == IDL_B_VOID))
    xp_error(td->target.loc,
             "typedef '%s' must name a built-in type or another typedef, "
             "not %s '%s'",
             td->name,
             t->kind == IDL_D_BUILTIN ? "type" : "the non-typedef", t->name);
}

static const attr_spec native_attrs[] = {
    {"ptr", false},        {"ref", false},     {"nsid", false},
    {"domstring", false},  {"utf8string", false}, {"cstring", false},
    {"astring", false},    {"jsval", false},   {NULL, false}};

void idl_check_native(idl_ctx *ctx, idl_decl *n) {
  (void)ctx;
  check_attr_list(&n->attrs, native_attrs, "native type");
  bool ptr = has_attr(&n->attrs, "ptr"), ref = has_attr(&n->attrs, "ref");
  if (ptr && ref)
    xp_error(n->loc, "native '%s' cannot be both [ptr] and [ref]", n->name);
  n->modifier = ptr ? IDL_NMOD_PTR : ref ? IDL_NMOD_REF : IDL_NMOD_NONE;
  static const struct {
    const char *attr;
    idl_special sp;
  } specials[] = {{"nsid", IDL_SP_NSID},         {"domstring", IDL_SP_DOMSTRING},
                  {"utf8string", IDL_SP_UTF8STRING}, {"cstring", IDL_SP_CSTRING},
                  {"astring", IDL_SP_ASTRING},   {"jsval", IDL_SP_JSVAL}};
  for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++) {
    if (!has_attr(&n->attrs, specials[i].attr))
      continue;
    if (n->special != IDL_SP_NONE)
      xp_error(n->loc, "native '%s' has more than one special type", n->name);
    n->special = specials[i].sp;
  }
  if (n->special == IDL_SP_JSVAL && n->modifier != IDL_NMOD_REF)
    xp_error(n->loc, "[jsval] native '%s' must be [ref]", n->name);
}

/* ---- interface attributes, uuid and base ------------------------------- */

static const attr_spec iface_attrs[] = {
    {"uuid", true},         {"scriptable", false},
    {"function", false},    {"builtinclass", false},
    {"noscript", false},    {"deprecated", false},
    {"object", false},      {"main_process_scriptable_only", false},
    {NULL, false}};

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Parses "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" into the interface. */
static bool parse_uuid(xp_arena *a, idl_decl *iface, const char *s) {
  static const int groups[5] = {8, 4, 4, 4, 12};
  uint8_t bytes[16];
  size_t nb = 0;
  const char *p = s;
  for (int g = 0; g < 5; g++) {
    if (g > 0 && *p++ != '-')
      return false;
    for (int i = 0; i < groups[g]; i += 2) {
      int hi = hexval(p[0]), lo = hi < 0 ? -1 : hexval(p[1]);
      if (hi < 0 || lo < 0)
        return false;
      bytes[nb++] = (uint8_t)(hi << 4 | lo);
      p += 2;
    }
  }
  if (*p)
    return false;
  iface->m0 = (uint32_t)bytes[0] << 24 | (uint32_t)bytes[1] << 16 |
              (uint32_t)bytes[2] << 8 | bytes[3];
  iface->m1 = (uint16_t)(bytes[4] << 8 | bytes[5]);
  iface->m2 = (uint16_t)(bytes[6] << 8 | bytes[7]);
  memcpy(iface->m3, bytes + 8, 8);
  char *lower = xp_strdup(a, s);
  for (char *q = lower; *q; q++)
    if (*q >= 'A' && *q <= 'F')
      *q = (char)(*q - 'A' + 'a');
  iface->uuid = lower;
  return true;
}

static void check_iface_attrs(idl_ctx *ctx, idl_decl *iface) {
  check_attr_list(&iface->attrs, iface_attrs, "interface");
  static const struct {
    const char *attr;
    unsigned flag;
  } flags[] = {{"scriptable", IDL_IF_SCRIPTABLE},
               {"function", IDL_IF_FUNCTION},
               {"builtinclass", IDL_IF_BUILTINCLASS},
               {"noscript", IDL_IF_NOSCRIPT},
               {"deprecated", IDL_IF_DEPRECATED},
               {"object", IDL_IF_OBJECT},
               {"main_process_scriptable_only", IDL_IF_MAIN_PROCESS_ONLY}};
  for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
    if (has_attr(&iface->attrs, flags[i].attr))
      iface->iflags |= flags[i].flag;
  idl_attr *u = find_attr(&iface->attrs, "uuid");
  if (!u)
    xp_error(iface->loc, "interface '%s' has no [uuid(...)]", iface->name);
  else if (u->value && *u->value && !parse_uuid(&ctx->arena, iface, u->value))
    xp_error(u->loc, "malformed uuid '%s' (expected xxxxxxxx-xxxx-xxxx-xxxx-"
                     "xxxxxxxxxxxx)",
             u->value);
}

static void check_base(idl_file *file, idl_decl *iface) {
  if (!iface->base_name) {
    if (strcmp(iface->name, "nsISupports") != 0)
      xp_error(iface->loc,
               "interface '%s' must inherit from nsISupports or a "
               "descendant",
               iface->name);
    return;
  }
  xp_loc loc = iface->base_loc;
  idl_decl *b = xp_map_get(&file->scope, iface->base_name);
  if (!b || b == iface) {
    xp_error(loc, "unknown base interface '%s'", iface->base_name);
    return;
  }
  if (b->kind == IDL_D_FORWARD) {
    xp_error(loc,
             "unknown base interface '%s': it is only forward-declared "
             "(include its .idl file)",
             iface->base_name);
    return;
  }
  if (b->kind != IDL_D_INTERFACE) {
    xp_error(loc, "unknown base interface '%s': it is a %s", iface->base_name,
             b->kind == IDL_D_NATIVE ? "native type" : "typedef");
    return;
  }
  iface->base = b;
  if ((iface->iflags & IDL_IF_SCRIPTABLE) && !(b->iflags & IDL_IF_SCRIPTABLE))
    xp_warning(loc, "interface '%s' is scriptable but derives from "
                    "non-scriptable '%s'",
               iface->name, b->name);
  if ((b->iflags & IDL_IF_BUILTINCLASS) &&
      !(iface->iflags & IDL_IF_BUILTINCLASS))
    xp_error(loc,
             "interface '%s' is not [builtinclass] but derives from "
             "[builtinclass] '%s'",
             iface->name, b->name);
}

/* ---- constants ---------------------------------------------------------- */

/* Finds an already evaluated constant of `iface` or its ancestors.
 * `upto` bounds the search in `iface` itself (constants defined before). */
static const idl_member *find_const(const idl_decl *iface, const char *name,
                                    size_t upto) {
  for (const idl_decl *d = iface; d; d = d->base) {
    size_t n = d == iface ? upto : d->members.len;
    for (size_t i = 0; i < n; i++) {
      const idl_member *m = d->members.items[i];
      if (m->kind == IDL_M_CONST && strcmp(m->name, name) == 0)
        return m;
    }
  }
  return NULL;
}

static bool eval(const idl_decl *iface, size_t upto, const idl_expr *e,
                 int64_t *out) {
  int64_t l = 0, r = 0;
  switch (e->op) {
  case IDL_E_NUM:
    if (e->num > (uint64_t)INT64_MAX) {
      xp_error(e->loc, "constant %" PRIu64 " is too large", e->num);
      return false;
    }
    *out = (int64_t)e->num;
    return true;
  case IDL_E_IDENT: {
    const idl_member *c = find_const(iface, e->ident, upto);
    if (!c) {
      xp_error(e->loc, "unknown constant '%s'%s", e->ident,
               find_const(iface, e->ident, iface->members.len)
                   ? " (constants must be defined before use)"
                   : "");
      return false;
    }
    *out = c->value;
    return true;
  }
  case IDL_E_NEG:
    if (!eval(iface, upto, e->lhs, &l))
      return false;
    if (l == INT64_MIN)
      goto overflow;
    *out = -l;
    return true;
  default:
    break;
  }
  if (!eval(iface, upto, e->lhs, &l) || !eval(iface, upto, e->rhs, &r))
    return false;
  switch (e->op) {
  case IDL_E_ADD:
    if (__builtin_add_overflow(l, r, out))
      goto overflow;
    return true;
  case IDL_E_SUB:
    if (__builtin_sub_overflow(l, r, out))
      goto overflow;
    return true;
  case IDL_E_MUL:
    if (__builtin_mul_overflow(l, r, out))
      goto overflow;
    return true;
  case IDL_E_SHL:
  case IDL_E_SHR:
    if (r < 0 || r > 63) {
      xp_error(e->loc, "shift count %" PRId64 " out of range", r);
      return false;
    }
    if (e->op == IDL_E_SHL) {
      if (l == 0) {
        *out = 0;
        return true;
      }
      /* multiply, so negative operands and overflow are well defined */
      if (r == 63 || __builtin_mul_overflow(l, (int64_t)1 << r, out))
        goto overflow;
    } else {
      /* floor division by 2^r, as Gecko's Python evaluation does */
      *out = l >= 0 ? l >> r : -((-(l + 1)) >> r) - 1;
    }
    return true;
  case IDL_E_OR:
    *out = (int64_t)((uint64_t)l | (uint64_t)r);
    return true;
  default:
    return false;
  }
overflow:
  xp_error(e->loc, "integer overflow in constant expression");
  return false;
}

static void check_const(idl_ctx *ctx, idl_file *file, idl_decl *iface,
                        idl_member *m, size_t index) {
  bool typed = idl_resolve_type(ctx, file, &m->type);
  const idl_decl *t = typed ? idl_underlying(m->type.decl) : NULL;
  if (typed && (t->kind != IDL_D_BUILTIN || !t->builtin->is_int)) {
    xp_error(m->type.loc, "const '%s' must have an integer type, not '%s'",
             m->name, m->type.name);
    t = NULL;
  }
  int64_t v;
  if (!eval(iface, index, m->expr, &v))
    return;
  m->value = v;
  if (!t)
    return;
  const idl_builtin *b = t->builtin;
  int64_t lo, hi;
  if (b->is_signed) {
    hi = b->bits == 64 ? INT64_MAX : ((int64_t)1 << (b->bits - 1)) - 1;
    lo = -hi - 1;
  } else {
    lo = 0;
    hi = b->bits == 64 ? INT64_MAX : ((int64_t)1 << b->bits) - 1;
  }
  if (v < lo || v > hi)
    xp_error(m->loc, "value %" PRId64 " of const '%s' does not fit in '%s'", v,
             m->name, b->idl_name);
}

/* ---- types of members --------------------------------------------------- */

static bool is_void(const idl_decl *t) {
  t = idl_underlying(t);
  return t && t->kind == IDL_D_BUILTIN && t->builtin->kind == IDL_B_VOID;
}

/* A by-value [nsid] native (nsIID): it can be read out, never passed in. */
static bool is_value_nsid(const idl_decl *t) {
  t = idl_underlying(t);
  return t && t->kind == IDL_D_NATIVE && t->special == IDL_SP_NSID &&
         t->modifier == IDL_NMOD_NONE;
}

/* Whether script can see a value of this type (Gecko's isScriptable for
 * natives; interfaces and built-ins always). */
static bool type_scriptable(const idl_decl *t, bool has_iid_is) {
  t = idl_underlying(t);
  if (!t || t->kind != IDL_D_NATIVE)
    return true;
  switch (t->special) {
  case IDL_SP_NONE:
    return has_iid_is; /* nsQIResult with iid_is: an interface pointer */
  case IDL_SP_NSID:
    return t->modifier != IDL_NMOD_NONE;
  default:
    return t->modifier == IDL_NMOD_REF;
  }
}

static bool is_ulong(const idl_decl *t) {
  t = idl_underlying(t);
  return t && t->kind == IDL_D_BUILTIN && t->builtin->kind == IDL_B_ULONG;
}

static bool is_string_builtin(const idl_decl *t) {
  t = idl_underlying(t);
  return t && t->kind == IDL_D_BUILTIN &&
         (t->builtin->kind == IDL_B_STRING || t->builtin->kind == IDL_B_WSTRING);
}

/* ---- methods and attributes ------------------------------------------------ */

static const attr_spec method_attrs[] = {
    {"noscript", false},   {"notxpcom", false},  {"nostdcall", false},
    {"binaryname", true},  {"implicit_jscontext", false},
    {"optional_argc", false}, {"must_use", false}, {"deprecated", false},
    {NULL, false}};

static const attr_spec attribute_attrs[] = {
    {"noscript", false},  {"notxpcom", false},  {"nostdcall", false},
    {"binaryname", true}, {"implicit_jscontext", false},
    {"must_use", false},  {"infallible", false}, {"deprecated", false},
    {NULL, false}};

static const attr_spec param_attrs[] = {
    {"retval", false},  {"shared", false},  {"optional", false},
    {"const", false},   {"array", false},   {"size_is", true},
    {"iid_is", true},   {"length_is", true}, {NULL, false}};

static void read_member_flags(idl_member *m) {
  static const struct {
    const char *attr;
    unsigned flag;
  } flags[] = {{"noscript", IDL_MF_NOSCRIPT},
               {"notxpcom", IDL_MF_NOTXPCOM},
               {"nostdcall", IDL_MF_NOSTDCALL},
               {"implicit_jscontext", IDL_MF_JSCONTEXT},
               {"optional_argc", IDL_MF_OPTARGC},
               {"must_use", IDL_MF_MUST_USE},
               {"infallible", IDL_MF_INFALLIBLE},
               {"deprecated", IDL_MF_DEPRECATED}};
  for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
    if (has_attr(&m->attrs, flags[i].attr))
      m->mflags |= flags[i].flag;
  m->binaryname = ident_attr(&m->attrs, "binaryname");
}

/* Scriptable interfaces must not expose native types to script. */
static bool must_be_scriptable(const idl_decl *iface, const idl_member *m) {
  return (iface->iflags & IDL_IF_SCRIPTABLE) &&
         !(m->mflags & (IDL_MF_NOSCRIPT | IDL_MF_NOTXPCOM));
}

static void check_attribute(idl_ctx *ctx, idl_file *file, idl_decl *iface,
                            idl_member *m) {
  check_attr_list(&m->attrs, attribute_attrs, "attribute");
  read_member_flags(m);
  if (!idl_resolve_type(ctx, file, &m->type))
    return;
  const idl_decl *t = idl_underlying(m->type.decl);
  if (is_void(t)) {
    xp_error(m->type.loc, "attribute '%s' cannot have type 'void'", m->name);
    return;
  }
  /* Gecko reads a by-value nsID out (nsILoadGroup.requestContextID) but
   * cannot pass one in. */
  if (is_value_nsid(t) && !m->readonly && !(m->mflags & IDL_MF_NOTXPCOM))
    xp_error(m->type.loc,
             "attribute '%s' of by-value type '%s' must be readonly (use "
             "nsIDRef or nsIDPtr)",
             m->name, m->type.name);
  if (m->mflags & IDL_MF_INFALLIBLE) {
    if (!(iface->iflags & IDL_IF_BUILTINCLASS))
      xp_error(m->loc,
               "[infallible] attributes are only allowed on [builtinclass] "
               "interfaces");
    if (t->kind != IDL_D_BUILTIN || t->builtin->is_ptr)
      xp_error(m->loc, "[infallible] only works on numbers, booleans and "
                       "characters");
  }
  if (must_be_scriptable(iface, m) && !type_scriptable(t, false))
    xp_error(m->type.loc,
             "attribute '%s' of scriptable interface '%s' has non-scriptable "
             "type '%s'; mark it [noscript]",
             m->name, iface->name, m->type.name);
}

static int param_index(const idl_member *m, const char *name) {
  for (size_t i = 0; i < m->params.len; i++)
    if (strcmp(((idl_param *)m->params.items[i])->name, name) == 0)
      return (int)i;
  return -1;
}

/* Resolves size_is / length_is / iid_is names to parameter indices. */
static int ref_param(const idl_member *m, const idl_param *p,
                     const char *attr, const char *name) {
  if (!name)
    return -1;
  int i = param_index(m, name);
  if (i < 0) {
    idl_attr *at = find_attr(&p->attrs, attr);
    xp_error(at ? at->loc : p->loc,
             "%s(%s) on parameter '%s' names no parameter of method '%s'",
             attr, name, p->name, m->name);
  }
  return i;
}

static void check_param(idl_ctx *ctx, idl_file *file, idl_decl *iface,
                        idl_member *m, idl_param *p, size_t idx) {
  check_attr_list(&p->attrs, param_attrs, "parameter");
  p->retval = has_attr(&p->attrs, "retval");
  p->shared = has_attr(&p->attrs, "shared");
  p->optional = has_attr(&p->attrs, "optional");
  p->is_const = has_attr(&p->attrs, "const");
  p->array = has_attr(&p->attrs, "array");
  p->size_is = ident_attr(&p->attrs, "size_is");
  p->iid_is = ident_attr(&p->attrs, "iid_is");
  p->length_is = ident_attr(&p->attrs, "length_is");
  p->size_is_idx = ref_param(m, p, "size_is", p->size_is);
  p->iid_is_idx = ref_param(m, p, "iid_is", p->iid_is);
  p->length_is_idx = ref_param(m, p, "length_is", p->length_is);

  for (size_t j = 0; j < idx; j++)
    if (strcmp(((idl_param *)m->params.items[j])->name, p->name) == 0)
      xp_error(p->loc, "duplicate parameter name '%s'", p->name);

  if (p->retval) {
    if (p->dir != IDL_OUT)
      xp_error(p->loc, "[retval] parameter '%s' must be 'out'", p->name);
    if (idx + 1 != m->params.len)
      xp_error(p->loc, "[retval] parameter '%s' must be the last parameter",
               p->name);
  }
  if (p->is_const && p->dir != IDL_IN)
    xp_error(p->loc, "[const] is only allowed on 'in' parameters ('%s')",
             p->name);
  if (p->shared && p->dir != IDL_OUT)
    xp_error(p->loc, "[shared] is only allowed on 'out' parameters ('%s')",
             p->name);
  if (p->length_is && !p->size_is)
    xp_error(p->loc, "[length_is] on '%s' requires [size_is]", p->name);

  if (!idl_resolve_type(ctx, file, &p->type))
    return;
  const idl_decl *t = idl_underlying(p->type.decl);
  if (is_void(t)) {
    xp_error(p->type.loc, "parameter '%s' cannot have type 'void'", p->name);
    return;
  }
  if (is_value_nsid(t) && p->dir != IDL_OUT && !(m->mflags & IDL_MF_NOTXPCOM))
    xp_error(p->type.loc,
             "by-value type '%s' can only be an 'out' parameter ('%s'); use "
             "nsIDRef or nsIDPtr",
             p->type.name, p->name);
  if (p->shared && !is_string_builtin(t) &&
      !(t->kind == IDL_D_NATIVE && t->modifier == IDL_NMOD_PTR))
    xp_error(p->loc, "[shared] parameter '%s' must be a string or a [ptr] "
                     "native",
             p->name);
  if (p->is_const && t->kind == IDL_D_BUILTIN && !t->builtin->is_ptr)
    xp_warning(p->loc, "[const] doesn't make sense on builtin type '%s'",
               p->type.name);
  if (p->array && !p->size_is)
    xp_error(p->loc, "[array] parameter '%s' requires [size_is(...)]",
             p->name);
  if (p->size_is && !p->array && !is_string_builtin(t))
    xp_error(p->loc,
             "[size_is] on '%s' requires [array] or a string/wstring type",
             p->name);
  if (p->iid_is && t->kind != IDL_D_INTERFACE && t->kind != IDL_D_FORWARD &&
      !(t->kind == IDL_D_NATIVE && t->special == IDL_SP_NONE))
    xp_error(p->loc,
             "[iid_is] on '%s' requires an interface or nsQIResult type",
             p->name);
  if (p->array && t->kind == IDL_D_NATIVE && t->special != IDL_SP_NONE &&
      t->special != IDL_SP_NSID)
    xp_error(p->loc, "[array] of string class '%s' is not supported",
             p->type.name);
  if (must_be_scriptable(iface, m) && !type_scriptable(t, p->iid_is != NULL))
    xp_error(p->type.loc,
             "method '%s' of scriptable interface '%s' uses non-scriptable "
             "type '%s' (parameter '%s'); mark it [noscript]",
             m->name, iface->name, p->type.name, p->name);
}

/* size_is / iid_is targets need every parameter resolved first. */
static void check_param_refs(const idl_member *m, const idl_param *p) {
  if (p->size_is_idx >= 0) {
    idl_param *s = m->params.items[p->size_is_idx];
    if (s->type.decl && !is_ulong(s->type.decl))
      xp_error(p->loc, "size_is parameter '%s' must be 'unsigned long'",
               s->name);
  }
  if (p->length_is_idx >= 0) {
    idl_param *s = m->params.items[p->length_is_idx];
    if (s->type.decl && !is_ulong(s->type.decl))
      xp_error(p->loc, "length_is parameter '%s' must be 'unsigned long'",
               s->name);
  }
  if (p->iid_is_idx >= 0) {
    idl_param *s = m->params.items[p->iid_is_idx];
    const idl_decl *t = s->type.decl ? idl_underlying(s->type.decl) : NULL;
    if (t && !(t->kind == IDL_D_NATIVE && t->special == IDL_SP_NSID))
      xp_error(p->loc, "iid_is parameter '%s' must be an nsIID type", s->name);
  }
}

static void check_method(idl_ctx *ctx, idl_file *file, idl_decl *iface,
                         idl_member *m) {
  check_attr_list(&m->attrs, method_attrs, "method");
  read_member_flags(m);
  bool rt_ok = idl_resolve_type(ctx, file, &m->type);
  bool optional_seen = false;
  for (size_t i = 0; i < m->params.len; i++) {
    idl_param *p = m->params.items[i];
    check_param(ctx, file, iface, m, p, i);
    if (p->optional)
      optional_seen = true;
    else if (optional_seen && !p->retval)
      xp_error(p->loc,
               "parameter '%s' follows an [optional] parameter and must be "
               "[optional] too",
               p->name);
  }
  for (size_t i = 0; i < m->params.len; i++)
    check_param_refs(m, m->params.items[i]);
  if (!rt_ok)
    return;
  const idl_decl *t = idl_underlying(m->type.decl);
  if (!is_void(t)) {
    if (m->params.len &&
        ((idl_param *)m->params.items[m->params.len - 1])->retval &&
        !(m->mflags & IDL_MF_NOTXPCOM))
      xp_error(m->loc,
               "method '%s' has both a return type and a [retval] parameter",
               m->name);
    if (must_be_scriptable(iface, m) && !type_scriptable(t, false))
      xp_error(m->type.loc,
               "method '%s' of scriptable interface '%s' returns "
               "non-scriptable type '%s'; mark it [noscript]",
               m->name, iface->name, m->type.name);
  }
}

/* ---- names -------------------------------------------------------------- */

static const char *member_kind_name(const idl_member *m) {
  return m->kind == IDL_M_CONST       ? "const"
         : m->kind == IDL_M_ATTRIBUTE ? "attribute"
                                      : "method";
}

/* IDL names must be unique in an interface (Gecko's NameMap); the C and
 * C++ names they become (GetFoo, SetFoo, binary names, constant macros)
 * must be unique across the whole flattened vtable too. */
static void check_names(idl_ctx *ctx, idl_decl *iface) {
  xp_arena *a = &ctx->arena;
  xp_map idl_names = {0};
  for (size_t i = 0; i < iface->members.len; i++) {
    idl_member *m = iface->members.items[i];
    if (m->kind == IDL_M_CDATA)
      continue;
    idl_member *old = xp_map_get(&idl_names, m->name);
    if (old) {
      xp_error(m->loc, "duplicate member name '%s' in interface '%s'",
               m->name, iface->name);
      xp_note(old->loc, "previous %s '%s'", member_kind_name(old), old->name);
    } else {
      xp_map_put(a, &idl_names, m->name, m);
    }
  }

  /* native names: ancestors first, then own slots, then own constants */
  xp_vec chain = {0};
  for (idl_decl *d = iface; d; d = d->base)
    xp_vec_push(a, &chain, d);
  xp_map natives = {0}; /* native name -> idl_member* */
  xp_map owners = {0};  /* native name -> idl_decl* */
  for (size_t c = chain.len; c-- > 0;) {
    idl_decl *d = chain.items[c];
    xp_vec slots = {0};
    idl_iface_own_slots(a, d, &slots);
    for (size_t i = 0; i < slots.len; i++) {
      idl_slot *s = slots.items[i];
      idl_member *old = xp_map_get(&natives, s->native_name);
      if (!old) {
        xp_map_put(a, &natives, s->native_name, s->member);
        xp_map_put(a, &owners, s->native_name, d);
        continue;
      }
      /* clashes among ancestors were reported when they were compiled */
      if (d != iface || old == s->member)
        continue;
      idl_decl *owner = xp_map_get(&owners, s->native_name);
      xp_error(s->member->loc,
               "duplicate member name '%s': %s '%s' and %s '%s'%s%s both "
               "become '%s' in C++",
               s->native_name, member_kind_name(s->member), s->member->name,
               member_kind_name(old), old->name,
               owner != iface ? " of " : "", owner != iface ? owner->name : "",
               s->native_name);
    }
  }
  /* constants become macros nsIFoo_NAME, next to nsIFoo_Method macros */
  for (size_t i = 0; i < iface->members.len; i++) {
    idl_member *m = iface->members.items[i];
    if (m->kind != IDL_M_CONST)
      continue;
    if (strcmp(m->name, "IID") == 0) {
      /* nsIFoo_IID is the interface's IID variable */
      xp_error(m->loc, "const name 'IID' is reserved (%s_IID is the "
                       "interface's IID)",
               iface->name);
      continue;
    }
    idl_member *old = xp_map_get(&natives, m->name);
    if (old)
      xp_error(m->loc,
               "duplicate member name '%s': const '%s' clashes with the C "
               "name of %s '%s'",
               m->name, m->name, member_kind_name(old), old->name);
  }
}

/* ---- interfaces ---------------------------------------------------------- */

/* Gecko's limit: xptcall has stubs for 250 slots (genstubs.pl). */
#define MAX_SLOTS 250

void idl_check_interface(idl_ctx *ctx, idl_file *file, idl_decl *iface) {
  check_iface_attrs(ctx, iface);
  check_base(file, iface);
  for (size_t i = 0; i < iface->members.len; i++) {
    idl_member *m = iface->members.items[i];
    switch (m->kind) {
    case IDL_M_CONST:
      check_const(ctx, file, iface, m, i);
      break;
    case IDL_M_ATTRIBUTE:
      check_attribute(ctx, file, iface, m);
      break;
    case IDL_M_METHOD:
      check_method(ctx, file, iface, m);
      break;
    case IDL_M_CDATA:
      break;
    }
  }
  check_names(ctx, iface);
  unsigned total = idl_iface_base_slots(iface) + idl_iface_own_slot_count(iface);
  if (total > MAX_SLOTS && !(iface->iflags & IDL_IF_BUILTINCLASS))
    xp_error(iface->loc,
             "interface '%s' has too many methods: %u vtable slots, the "
             "limit is %d for interfaces that are not [builtinclass]",
             iface->name, total, MAX_SLOTS);
  if ((iface->iflags & IDL_IF_FUNCTION) && idl_iface_own_slot_count(iface) != 1)
    xp_warning(iface->loc, "[function] interface '%s' should have exactly one "
                           "method",
               iface->name);
  iface->resolved = true;
}

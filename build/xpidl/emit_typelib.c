/*
 * emit_typelib.c — `xpidl -m typelib` and `-m index`: type information as
 * constant C data in the shape of src/xpcom/xpt.h. The encoding follows
 * Gecko's typelib.py (XPT 1.2 tags and flags), except where xpt.h says
 * otherwise (string-class out parameters carry OUT as well as DIPPER).
 */
#include <inttypes.h>
#include <string.h>

#include "emit.h"

typedef struct tl {
  xp_arena *a;
  xp_buf *out;
  const idl_decl *iface;
  const idl_decl *void_decl;
  xp_buf elems; /* static element descriptors for arrays */
  unsigned nelems;
} tl;

/* A C string literal for arbitrary text. */
static const char *quote(xp_arena *a, const char *s) {
  if (!s)
    return "NULL";
  xp_buf b = {0};
  xp_buf_puts(&b, "\"");
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      xp_buf_printf(&b, "\\%c", *s);
    else if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
      xp_buf_printf(&b, "\\%03o", (unsigned char)*s);
    else
      xp_buf_putn(&b, s, 1);
  }
  xp_buf_puts(&b, "\"");
  const char *r = xp_strdup(a, b.data);
  xp_buf_free(&b);
  return r;
}

static const char *td(tl *t, const char *tag, const char *flags, int argnum,
                      int argnum2, const char *iface, const char *element,
                      const char *native) {
  return xp_printf(t->a, "{%s, %s, %d, %d, %s, %s, %s}", tag, flags, argnum,
                   argnum2, quote(t->a, iface), element ? element : "NULL",
                   quote(t->a, native));
}

static bool is_dipper_tag(const char *tag) {
  return strcmp(tag, "XPT_TD_DOMSTRING") == 0 ||
         strcmp(tag, "XPT_TD_UTF8STRING") == 0 ||
         strcmp(tag, "XPT_TD_CSTRING") == 0 ||
         strcmp(tag, "XPT_TD_ASTRING") == 0;
}

static const char *special_tag(idl_special sp) {
  switch (sp) {
  case IDL_SP_NSID:
    return "XPT_TD_PNSIID";
  case IDL_SP_DOMSTRING:
    return "XPT_TD_DOMSTRING";
  case IDL_SP_UTF8STRING:
    return "XPT_TD_UTF8STRING";
  case IDL_SP_CSTRING:
    return "XPT_TD_CSTRING";
  case IDL_SP_ASTRING:
    return "XPT_TD_ASTRING";
  case IDL_SP_JSVAL:
    return "XPT_TD_JSVAL";
  default:
    return "XPT_TD_VOID";
  }
}

/* The descriptor of one value (no [array]). *tag_out receives the tag. */
static const char *simple_td(tl *t, const idl_decl *decl, const idl_param *p,
                             const char **tag_out) {
  const idl_decl *d = idl_underlying(decl);
  int iid_is = p ? p->iid_is_idx : -1;
  int size_is = p ? p->size_is_idx : -1;
  int length_is = p && p->length_is_idx >= 0 ? p->length_is_idx : size_is;
  const char *tag = "XPT_TD_VOID";
  const char *r;
  if (iid_is >= 0) {
    tag = "XPT_TD_INTERFACE_IS_TYPE";
    r = td(t, tag, "XPT_TDF_POINTER", iid_is, iid_is, NULL, NULL, NULL);
  } else if (d->kind == IDL_D_BUILTIN) {
    const idl_builtin *b = d->builtin;
    if (b->is_ptr && size_is >= 0) {
      tag = b->kind == IDL_B_STRING ? "XPT_TD_PSTRING_SIZE_IS"
                                    : "XPT_TD_PWSTRING_SIZE_IS";
      r = td(t, tag, "XPT_TDF_POINTER", size_is, length_is, NULL, NULL, NULL);
    } else {
      tag = b->xpt_tag;
      r = td(t, tag, b->is_ptr ? "XPT_TDF_POINTER" : "0", 0, 0, NULL, NULL,
             NULL);
    }
  } else if (d->kind == IDL_D_INTERFACE || d->kind == IDL_D_FORWARD) {
    tag = "XPT_TD_INTERFACE_TYPE";
    r = td(t, tag, "XPT_TDF_POINTER", 0, 0, d->name, NULL, NULL);
  } else {
    /* natives; Gecko marks jsval without pointer/reference flags */
    tag = special_tag(d->special);
    const char *flags = "0";
    if (d->special != IDL_SP_JSVAL) {
      if (d->modifier == IDL_NMOD_REF)
        flags = "XPT_TDF_POINTER | XPT_TDF_REFERENCE";
      else if (d->modifier == IDL_NMOD_PTR)
        flags = "XPT_TDF_POINTER";
    }
    bool keep_native = d->special == IDL_SP_NONE || d->special == IDL_SP_NSID;
    r = td(t, tag, flags, 0, 0, NULL, NULL, keep_native ? d->cpp_type : NULL);
  }
  if (tag_out)
    *tag_out = tag;
  return r;
}

static const char *param_td(tl *t, const idl_decl *decl, const idl_param *p,
                            const char **tag_out) {
  if (!p || !p->array)
    return simple_td(t, decl, p, tag_out);
  idl_param elem_p = *p;
  elem_p.array = false;
  elem_p.size_is_idx = elem_p.length_is_idx = -1;
  const char *elem = simple_td(t, decl, &elem_p, NULL);
  const char *name =
      xp_printf(t->a, "xpt_%s_elem%u", t->iface->name, t->nelems++);
  xp_buf_printf(&t->elems, "static const XPTTypeDescriptor %s = %s;\n", name,
                elem);
  *tag_out = "XPT_TD_ARRAY";
  int len = p->length_is_idx >= 0 ? p->length_is_idx : p->size_is_idx;
  return td(t, "XPT_TD_ARRAY", "XPT_TDF_POINTER", p->size_is_idx, len, NULL,
            xp_printf(t->a, "&%s", name), NULL);
}

static const char *pd_flags(xp_arena *a, unsigned in, unsigned out,
                            unsigned retval, unsigned shared, unsigned dipper,
                            unsigned optional, unsigned cnst) {
  xp_buf b = {0};
  const struct {
    unsigned on;
    const char *name;
  } f[] = {{in, "XPT_PD_IN"},         {out, "XPT_PD_OUT"},
           {retval, "XPT_PD_RETVAL"}, {shared, "XPT_PD_SHARED"},
           {dipper, "XPT_PD_DIPPER"}, {optional, "XPT_PD_OPTIONAL"},
           {cnst, "XPT_PD_CONST"}};
  for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
    if (f[i].on)
      xp_buf_printf(&b, "%s%s", b.len ? " | " : "", f[i].name);
  const char *r = xp_strdup(a, b.len ? b.data : "0");
  xp_buf_free(&b);
  return r;
}

static const char *param_entry(tl *t, const char *name, const char *flags,
                               const char *type) {
  return xp_printf(t->a, "  {%s, %s, %s},\n", quote(t->a, name), flags, type);
}

/* An out value the callee produces as the method's result. */
static const char *retval_entry(tl *t, const char *name, const idl_decl *type) {
  const char *tag;
  const char *desc = simple_td(t, type, NULL, &tag);
  bool dipper = is_dipper_tag(tag);
  return param_entry(t, name, pd_flags(t->a, 0, 1, 1, 0, dipper, 0, 0), desc);
}

static const char *nsresult_result(tl *t) {
  return xp_printf(t->a, "{NULL, 0, %s}",
                   td(t, "XPT_TD_UINT32", "0", 0, 0, NULL, NULL, NULL));
}

/* The real return type of a [notxpcom] slot. */
static const char *notxpcom_result(tl *t, const idl_decl *type) {
  const idl_decl *u = idl_underlying(type);
  if (u->kind == IDL_D_BUILTIN && u->builtin->kind == IDL_B_VOID)
    return xp_printf(t->a, "{NULL, 0, %s}",
                     td(t, "XPT_TD_VOID", "0", 0, 0, NULL, NULL, NULL));
  const char *tag;
  const char *desc = simple_td(t, type, NULL, &tag);
  return xp_printf(t->a, "{NULL, %s, %s}",
                   pd_flags(t->a, 0, 1, 1, 0, is_dipper_tag(tag), 0, 0), desc);
}

static const char *md_flags(xp_arena *a, const idl_slot *s) {
  unsigned f = s->member->mflags;
  xp_buf b = {0};
  const struct {
    bool on;
    const char *name;
  } fl[] = {{s->kind == IDL_SLOT_GETTER, "XPT_MD_GETTER"},
            {s->kind == IDL_SLOT_SETTER, "XPT_MD_SETTER"},
            {f & IDL_MF_NOTXPCOM, "XPT_MD_NOTXPCOM"},
            {f & IDL_MF_NOSCRIPT, "XPT_MD_HIDDEN"},
            {f & IDL_MF_OPTARGC, "XPT_MD_OPT_ARGC"},
            {f & IDL_MF_JSCONTEXT, "XPT_MD_CONTEXT"}};
  for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++)
    if (fl[i].on)
      xp_buf_printf(&b, "%s%s", b.len ? " | " : "", fl[i].name);
  const char *r = xp_strdup(a, b.len ? b.data : "0");
  xp_buf_free(&b);
  return r;
}

/* Emits the parameter array of one slot into `params`; returns the method
 * descriptor line. */
static const char *method_entry(tl *t, const idl_slot *s, unsigned index,
                                xp_buf *params) {
  const idl_member *m = s->member;
  bool notxpcom = m->mflags & IDL_MF_NOTXPCOM;
  const idl_decl *type = m->type.decl;
  xp_buf list = {0};
  unsigned nargs = 0;
  const char *result;

  if (s->kind == IDL_SLOT_METHOD) {
    for (size_t i = 0; i < m->params.len; i++) {
      const idl_param *p = m->params.items[i];
      const char *tag;
      const char *desc = param_td(t, p->type.decl, p, &tag);
      bool out = p->dir != IDL_IN;
      const char *flags = pd_flags(
          t->a, p->dir != IDL_OUT, out, p->retval, p->shared,
          out && !p->array && is_dipper_tag(tag), p->optional, p->is_const);
      xp_buf_puts(&list, param_entry(t, p->name, flags, desc));
      nargs++;
    }
    const idl_decl *u = idl_underlying(type);
    bool is_void = u->kind == IDL_D_BUILTIN && u->builtin->kind == IDL_B_VOID;
    if (!notxpcom && !is_void) {
      xp_buf_puts(&list, retval_entry(t, "_retval", type));
      nargs++;
    }
    result = notxpcom ? notxpcom_result(t, type) : nsresult_result(t);
  } else {
    const char *pname = xp_printf(t->a, "a%s", idl_first_cap(t->a, m->name));
    bool getter = s->kind == IDL_SLOT_GETTER;
    if (getter && notxpcom) {
      result = notxpcom_result(t, type);
    } else {
      if (getter) {
        xp_buf_puts(&list, retval_entry(t, pname, type));
      } else {
        const char *desc = simple_td(t, type, NULL, NULL);
        xp_buf_puts(&list, param_entry(t, pname, "XPT_PD_IN", desc));
      }
      nargs++;
      result = notxpcom ? notxpcom_result(t, t->void_decl) : nsresult_result(t);
    }
  }

  const char *pname = "NULL";
  if (nargs) {
    pname = xp_printf(t->a, "xpt_%s_params%u", t->iface->name, index);
    xp_buf_printf(params, "static const XPTParamDescriptor %s[] = {\n%s};\n",
                  pname, list.data);
  }
  xp_buf_free(&list);
  return xp_printf(t->a, "  {%s, %s, %u, %s, %s},\n", quote(t->a, m->name),
                   md_flags(t->a, s), nargs, pname, result);
}

static const char *id_flags(xp_arena *a, unsigned f) {
  xp_buf b = {0};
  const struct {
    unsigned bit;
    const char *name;
  } fl[] = {{IDL_IF_SCRIPTABLE, "XPT_ID_SCRIPTABLE"},
            {IDL_IF_FUNCTION, "XPT_ID_FUNCTION"},
            {IDL_IF_BUILTINCLASS, "XPT_ID_BUILTINCLASS"},
            {IDL_IF_MAIN_PROCESS_ONLY, "XPT_ID_MAIN_PROCESS_SCRIPTABLE_ONLY"}};
  for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++)
    if (f & fl[i].bit)
      xp_buf_printf(&b, "%s%s", b.len ? " | " : "", fl[i].name);
  const char *r = xp_strdup(a, b.len ? b.data : "0");
  xp_buf_free(&b);
  return r;
}

static void emit_iface(idl_ctx *ctx, const idl_decl *iface, xp_buf *out) {
  tl t = {&ctx->arena, out, iface, ctx->builtins[IDL_B_VOID], {0}, 0};
  xp_arena *a = t.a;
  const char *n = iface->name;
  xp_vec slots = {0};
  idl_iface_own_slots(a, iface, &slots);
  unsigned base = idl_iface_base_slots(iface);

  xp_buf params = {0}, methods = {0}, consts = {0};
  for (size_t i = 0; i < slots.len; i++) {
    const char *line =
        method_entry(&t, slots.items[i], base + (unsigned)i, &params);
    xp_buf_printf(&methods, "  /* %u */%s", base + (unsigned)i, line + 1);
  }
  unsigned nconsts = 0;
  for (size_t i = 0; i < iface->members.len; i++) {
    const idl_member *m = iface->members.items[i];
    if (m->kind != IDL_M_CONST)
      continue;
    const char *desc = simple_td(&t, m->type.decl, NULL, NULL);
    const char *v = m->value == INT64_MIN
                        ? "INT64_MIN"
                        : xp_printf(a, "%" PRId64, m->value);
    xp_buf_printf(&consts, "  {%s, %s, %s},\n", quote(a, m->name), desc, v);
    nconsts++;
  }

  xp_buf_printf(out, "\n/* %s */\n", n);
  if (t.elems.len)
    xp_buf_puts(out, t.elems.data);
  if (params.len)
    xp_buf_puts(out, params.data);
  if (slots.len)
    xp_buf_printf(out, "static const XPTMethodDescriptor xpt_%s_methods[] = {\n"
                       "%s};\n",
                  n, methods.data);
  if (nconsts)
    xp_buf_printf(out,
                  "static const XPTConstDescriptor xpt_%s_constants[] = {\n"
                  "%s};\n",
                  n, consts.data);
  xp_buf_printf(out, "extern const XPTInterfaceInfo xpt_%s;\n", n);
  xp_buf_printf(out, "const XPTInterfaceInfo xpt_%s = {\n", n);
  xp_buf_printf(out, "  %s,\n", quote(a, n));
  xp_buf_printf(out,
                "  {0x%08" PRIx32 ", 0x%04x, 0x%04x, {0x%02x, 0x%02x, 0x%02x, "
                "0x%02x, 0x%02x, 0x%02x, 0x%02x, 0x%02x}},\n",
                iface->m0, iface->m1, iface->m2, iface->m3[0], iface->m3[1],
                iface->m3[2], iface->m3[3], iface->m3[4], iface->m3[5],
                iface->m3[6], iface->m3[7]);
  xp_buf_printf(out, "  %s,\n", quote(a, iface->base ? iface->base->name : NULL));
  xp_buf_printf(out, "  %s,\n", id_flags(a, iface->iflags));
  xp_buf_printf(out, "  %u, /* method_base */\n", base);
  if (slots.len)
    xp_buf_printf(out, "  %zu, xpt_%s_methods,\n", slots.len, n);
  else
    xp_buf_puts(out, "  0, NULL,\n");
  if (nconsts)
    xp_buf_printf(out, "  %u, xpt_%s_constants\n", nconsts, n);
  else
    xp_buf_puts(out, "  0, NULL\n");
  xp_buf_puts(out, "};\n");

  xp_buf_free(&t.elems);
  xp_buf_free(&params);
  xp_buf_free(&methods);
  xp_buf_free(&consts);
}

void emit_typelib(idl_ctx *ctx, const idl_file *file, xp_buf *out) {
  xp_buf_printf(out, "/* DO NOT EDIT. Generated by xpidl from %s.idl. */\n",
                file->stem);
  xp_buf_puts(out, "#include \"xpt.h\"\n");
  for (size_t i = 0; i < file->prods.len; i++) {
    const idl_prod *pr = file->prods.items[i];
    if (pr->kind == IDL_P_INTERFACE)
      emit_iface(ctx, pr->decl, out);
  }
}

void emit_index(idl_ctx *ctx, idl_file *const *files, size_t nfiles,
                xp_buf *out) {
  xp_vec seen = {0};
  for (size_t f = 0; f < nfiles; f++) {
    const idl_file *file = files[f];
    for (size_t i = 0; i < file->prods.len; i++) {
      const idl_prod *pr = file->prods.items[i];
      if (pr->kind != IDL_P_INTERFACE)
        continue;
      bool dup = false;
      for (size_t j = 0; j < seen.len; j++)
        dup |= seen.items[j] == pr->decl;
      if (!dup)
        xp_vec_push(&ctx->arena, &seen, pr->decl);
    }
  }
  xp_buf_puts(out, "/* DO NOT EDIT. Generated by xpidl: every built-in "
                   "interface. */\n#include \"xpt.h\"\n\n");
  for (size_t i = 0; i < seen.len; i++)
    xp_buf_printf(out, "extern const XPTInterfaceInfo xpt_%s;\n",
                  ((idl_decl *)seen.items[i])->name);
  xp_buf_puts(out, "\nconst XPTInterfaceInfo *const xpt_builtin_interfaces[] "
                   "= {\n");
  for (size_t i = 0; i < seen.len; i++)
    xp_buf_printf(out, "  &xpt_%s,\n", ((idl_decl *)seen.items[i])->name);
  xp_buf_puts(out, "  NULL\n};\n");
}

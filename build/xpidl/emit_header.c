/*
 * emit_header.c — `xpidl -m header`: one header usable from C and C++
 * (docs/ARCHITECTURE.md "Generated headers"). The C++ half follows
 * Gecko's header.py so C++ hosts see the classes they expect; the C half
 * is a flattened vtable struct with the same slots in the same order.
 */
#include <inttypes.h>
#include <string.h>

#include "emit.h"

/* One vtable slot, spelled for both languages. */
typedef struct sig {
  const char *cxx_ret;    /* "NS_IMETHOD", "NS_IMETHOD_(nsrefcnt)" */
  const char *cxx_params; /* "const nsACString & aFoo, bool *_retval" */
  const char *c_ret;      /* "nsresult", "nsrefcnt" */
  xp_vec c_params;        /* const char*: "const nsACString *aFoo" */
  xp_vec c_names;         /* const char*: "aFoo" */
} sig;

typedef struct hdr {
  idl_ctx *ctx;
  xp_arena *a;
  const idl_file *file;
  xp_buf *out;
  xp_vec c_structs; /* const char*: C names needing a forward struct */
} hdr;

static void need_struct(hdr *h, const char *name) {
  if (!name)
    return;
  const idl_decl *d = xp_map_get(&h->file->scope, name);
  if (d && (d->kind == IDL_D_TYPEDEF || d->kind == IDL_D_INTERFACE ||
            d->kind == IDL_D_FORWARD))
    return; /* declared by this header or an included one */
  for (size_t i = 0; i < h->c_structs.len; i++)
    if (strcmp(h->c_structs.items[i], name) == 0)
      return;
  xp_vec_push(h->a, &h->c_structs, (void *)name);
}

/* Records the C names a type needs declared (natives' own types). */
static void note_type(hdr *h, const idl_decl *t) {
  if (t->kind != IDL_D_NATIVE)
    return;
  if (t->special == IDL_SP_JSVAL) {
    need_struct(h, "JS_Value");
  } else if (t->special == IDL_SP_NONE || t->special == IDL_SP_NSID) {
    const char *base = NULL;
    emit_c_native(h->a, t->cpp_type, &base);
    need_struct(h, base);
  }
}

/* A parameter name that is safe inside the C call macro, whose body
 * mentions `self`, `vtbl` and the slot name. */
static const char *c_name(hdr *h, const char *name, const char *slot) {
  if (strcmp(name, "self") == 0 || strcmp(name, "vtbl") == 0 ||
      strcmp(name, slot) == 0)
    return xp_printf(h->a, "%s_", name);
  return name;
}

static void add_param(hdr *h, sig *s, xp_buf *cxx, const char *cxx_decl,
                      const char *c_type, const char *name, const char *slot) {
  if (cxx->len)
    xp_buf_puts(cxx, ", ");
  xp_buf_puts(cxx, cxx_decl);
  const char *cn = c_name(h, name, slot);
  xp_vec_push(h->a, &s->c_params, (void *)emit_c_decl(h->a, c_type, cn));
  xp_vec_push(h->a, &s->c_names, (void *)cn);
}

static void add_typed_param(hdr *h, sig *s, xp_buf *cxx, const idl_decl *t,
                            emit_use use, const char *name, const char *slot) {
  note_type(h, t);
  add_param(h, s, cxx,
            xp_printf(h->a, "%s%s", emit_cxx_type(h->a, t, use), name),
            emit_c_type(h->a, t, use), name, slot);
}

static void add_jscontext(hdr *h, sig *s, xp_buf *cxx, const char *slot) {
  need_struct(h, "JSContext");
  add_param(h, s, cxx, "JSContext* cx", "JSContext *", "cx", slot);
}

static const char *strip(xp_arena *a, const char *s) {
  size_t n = strlen(s);
  while (n && s[n - 1] == ' ')
    n--;
  return xp_strndup(a, s, n);
}

/* Return types as header.py writes them. */
static void set_return(hdr *h, sig *s, const idl_member *m,
                       const idl_decl *type) {
  bool nostd = m->mflags & IDL_MF_NOSTDCALL;
  if (type) {
    emit_use in = {IDL_IN, false, false, false};
    const char *t = strip(h->a, emit_cxx_type(h->a, type, in));
    s->cxx_ret = nostd ? xp_printf(h->a, "virtual %s", t)
                       : xp_printf(h->a, "NS_IMETHOD_(%s)", t);
    s->c_ret = emit_c_type(h->a, type, in);
    note_type(h, type);
  } else {
    s->cxx_ret = nostd ? "virtual nsresult" : "NS_IMETHOD";
    s->c_ret = "nsresult";
  }
}

static sig *build_sig(hdr *h, const idl_slot *slot) {
  const idl_member *m = slot->member;
  sig *s = xp_alloc(h->a, sizeof(*s));
  xp_buf cxx = {0};
  const char *sn = slot->native_name;
  bool notxpcom = m->mflags & IDL_MF_NOTXPCOM;
  const idl_decl *t = m->type.decl;

  if (slot->kind == IDL_SLOT_METHOD) {
    bool is_void = idl_underlying(t)->kind == IDL_D_BUILTIN &&
                   idl_underlying(t)->builtin->kind == IDL_B_VOID;
    set_return(h, s, m, notxpcom ? t : NULL);
    for (size_t i = 0; i < m->params.len; i++) {
      const idl_param *p = m->params.items[i];
      emit_use use = {p->dir, p->is_const, p->shared, p->array};
      add_typed_param(h, s, &cxx, p->type.decl, use, p->name, sn);
    }
    if (m->mflags & IDL_MF_JSCONTEXT)
      add_jscontext(h, s, &cxx, sn);
    if (m->mflags & IDL_MF_OPTARGC)
      add_param(h, s, &cxx, "uint8_t _argc", "uint8_t", "_argc", sn);
    if (!notxpcom && !is_void) {
      emit_use out = {IDL_OUT, false, false, false};
      add_typed_param(h, s, &cxx, t, out, "_retval", sn);
    }
  } else {
    bool getter = slot->kind == IDL_SLOT_GETTER;
    const char *pname = xp_printf(h->a, "a%s", idl_first_cap(h->a, m->name));
    if (m->mflags & IDL_MF_JSCONTEXT)
      add_jscontext(h, s, &cxx, sn);
    if (notxpcom) {
      set_return(h, s, m, getter ? t : h->ctx->builtins[IDL_B_VOID]);
    } else {
      set_return(h, s, m, NULL);
    }
    if (!(notxpcom && getter)) {
      emit_use use = {getter ? IDL_OUT : IDL_IN, false, false, false};
      add_typed_param(h, s, &cxx, t, use, pname, sn);
    }
  }
  s->cxx_params = xp_strdup(h->a, cxx.len ? cxx.data : "void");
  xp_buf_free(&cxx);
  return s;
}

/* ---- pieces ---------------------------------------------------------- */

/* Declares an interface name in both languages; any number of headers
 * may do this for the same name. */
static void emit_forward(hdr *h, const char *name) {
  xp_buf_printf(h->out,
                "#ifndef XPCOM_FWD_%s\n"
                "#define XPCOM_FWD_%s\n"
                "#ifdef __cplusplus\n"
                "class %s;\n"
                "#else\n"
                "typedef struct %s %s;\n"
                "#endif\n"
                "#endif\n",
                name, name, name, name, name);
}

static void emit_c_struct_forward(hdr *h, const char *name) {
  xp_buf_printf(h->out,
                "#ifndef XPCOM_FWD_%s\n"
                "#define XPCOM_FWD_%s\n"
                "typedef struct %s %s;\n"
                "#endif\n",
                name, name, name, name);
}

static const char *const_value(xp_arena *a, const idl_member *c) {
  const idl_builtin *b = idl_underlying(c->type.decl)->builtin;
  if (c->value == INT64_MIN)
    return "(-9223372036854775807LL - 1)";
  if (c->value == INT32_MIN)
    return "(-2147483647 - 1)";
  if (c->value < 0)
    return xp_printf(a, "(%" PRId64 ")", c->value);
  return xp_printf(a, "%" PRId64 "%s", c->value, b->is_signed ? "" : "U");
}

static void emit_cdata(hdr *h, const char *text) {
  xp_buf_printf(h->out, "#ifdef __cplusplus\n%s\n#endif\n", text);
}

static void emit_cxx_class(hdr *h, const idl_decl *iface, xp_vec *slots,
                           xp_vec *sigs) {
  xp_buf *o = h->out;
  const char *macro = idl_iid_macro_prefix(h->a, iface->name);
  /* Gecko drops NS_NO_VTABLE when the class body has C++ code in it. */
  xp_buf_printf(o, "class %s%s", iface->has_cdata ? "" : "NS_NO_VTABLE ",
                iface->name);
  if (iface->base)
    xp_buf_printf(o, " : public %s", iface->base->name);
  xp_buf_printf(o, " {\n public:\n  NS_DECLARE_STATIC_IID_ACCESSOR(%s_IID)\n",
                macro);
  size_t si = 0;
  for (size_t i = 0; i < iface->members.len; i++) {
    const idl_member *m = iface->members.items[i];
    switch (m->kind) {
    case IDL_M_CONST:
      xp_buf_printf(o, "  enum { %s = %s };\n", m->name,
                    const_value(h->a, m));
      break;
    case IDL_M_CDATA:
      xp_buf_printf(o, "%s\n", m->text);
      break;
    default:
      while (si < slots->len &&
             ((idl_slot *)slots->items[si])->member == m) {
        const idl_slot *s = slots->items[si];
        const sig *g = sigs->items[si];
        xp_buf_printf(o, "  %s %s(%s) = 0;\n", g->cxx_ret, s->native_name,
                      g->cxx_params);
        si++;
      }
    }
  }
  xp_buf_puts(o, "};\n");

  /* Gecko's helper for implementations: NS_DECL_NSIFOO. */
  char *up = xp_strdup(h->a, iface->name);
  for (char *p = up; *p; p++)
    if (*p >= 'a' && *p <= 'z')
      *p = (char)(*p - 'a' + 'A');
  xp_buf_printf(o, "#define NS_DECL_%s", up);
  if (!slots->len)
    xp_buf_puts(o, " /* no methods */");
  for (size_t i = 0; i < slots->len; i++) {
    const idl_slot *s = slots->items[i];
    const sig *g = sigs->items[i];
    xp_buf_printf(o, " \\\n  %s %s(%s) override;", g->cxx_ret,
                  s->native_name, g->cxx_params);
  }
  xp_buf_puts(o, "\n");
}

static void emit_c_part(hdr *h, const idl_decl *iface, size_t mark) {
  xp_buf *o = h->out;
  const char *n = iface->name;
  xp_vec chain = {0};
  for (const idl_decl *d = iface; d; d = d->base)
    xp_vec_push(h->a, &chain, (void *)d);

  /* every slot, root interface first */
  xp_vec all_slots = {0}, all_sigs = {0};
  for (size_t c = chain.len; c-- > 0;) {
    xp_vec slots = {0};
    idl_iface_own_slots(h->a, chain.items[c], &slots);
    for (size_t i = 0; i < slots.len; i++) {
      xp_vec_push(h->a, &all_slots, slots.items[i]);
      xp_vec_push(h->a, &all_sigs, build_sig(h, slots.items[i]));
    }
  }
  /* C names first needed by this interface (the C++ pass over its own
   * slots started at `mark`) */
  for (size_t i = mark; i < h->c_structs.len; i++)
    emit_c_struct_forward(h, h->c_structs.items[i]);

  xp_buf_printf(o, "typedef struct %sVtbl {\n", n);
  for (size_t i = 0; i < all_slots.len; i++) {
    const idl_slot *s = all_slots.items[i];
    const sig *g = all_sigs.items[i];
    xp_buf_printf(o, "  %s (*%s)(%s *self", g->c_ret, s->native_name, n);
    for (size_t j = 0; j < g->c_params.len; j++)
      xp_buf_printf(o, ", %s", (char *)g->c_params.items[j]);
    xp_buf_puts(o, ");\n");
  }
  xp_buf_printf(o, "} %sVtbl;\n", n);
  xp_buf_printf(o, "struct %s {\n  const %sVtbl *vtbl;\n};\n", n, n);
  for (size_t i = 0; i < all_slots.len; i++) {
    const idl_slot *s = all_slots.items[i];
    const sig *g = all_sigs.items[i];
    xp_buf_printf(o, "#define %s_%s(self", n, s->native_name);
    for (size_t j = 0; j < g->c_names.len; j++)
      xp_buf_printf(o, ", %s", (char *)g->c_names.items[j]);
    xp_buf_printf(o, ") ((self)->vtbl->%s((self)", s->native_name);
    for (size_t j = 0; j < g->c_names.len; j++)
      xp_buf_printf(o, ", (%s)", (char *)g->c_names.items[j]);
    xp_buf_puts(o, "))\n");
  }
}

static void emit_interface(hdr *h, const idl_decl *iface) {
  xp_buf *o = h->out;
  const char *macro = idl_iid_macro_prefix(h->a, iface->name);
  xp_buf_printf(o, "\n/* starting interface: %s */\n", iface->name);
  xp_buf_printf(o, "#define %s_IID_STR \"%s\"\n", macro, iface->uuid);
  xp_buf_printf(o,
                "#define %s_IID {0x%08" PRIx32 ", 0x%04x, 0x%04x, {0x%02x, "
                "0x%02x, 0x%02x, 0x%02x, 0x%02x, 0x%02x, 0x%02x, 0x%02x}}\n",
                macro, iface->m0, iface->m1, iface->m2, iface->m3[0],
                iface->m3[1], iface->m3[2], iface->m3[3], iface->m3[4],
                iface->m3[5], iface->m3[6], iface->m3[7]);
  xp_buf_printf(o, "static const nsIID %s_IID XPCOM_UNUSED = %s_IID;\n",
                iface->name, macro);
  for (size_t i = 0; i < iface->members.len; i++) {
    const idl_member *m = iface->members.items[i];
    if (m->kind == IDL_M_CONST)
      xp_buf_printf(o, "#define %s_%s %s\n", iface->name, m->name,
                    const_value(h->a, m));
  }
  emit_forward(h, iface->name);

  xp_vec slots = {0}, sigs = {0};
  size_t mark = h->c_structs.len;
  idl_iface_own_slots(h->a, iface, &slots);
  for (size_t i = 0; i < slots.len; i++)
    xp_vec_push(h->a, &sigs, build_sig(h, slots.items[i]));

  xp_buf_puts(o, "#ifdef __cplusplus\n");
  emit_cxx_class(h, iface, &slots, &sigs);
  xp_buf_puts(o, "#else /* !__cplusplus */\n");
  emit_c_part(h, iface, mark);
  xp_buf_puts(o, "#endif /* __cplusplus */\n");
}

/* ---- file ------------------------------------------------------------- */

/* What C++ needs declared for jsval and [implicit_jscontext]. */
static void emit_js_forwards(hdr *h) {
  bool cx = false, val = false;
  for (size_t i = 0; i < h->file->prods.len; i++) {
    const idl_prod *pr = h->file->prods.items[i];
    if (pr->kind != IDL_P_INTERFACE)
      continue;
    xp_vec slots = {0};
    idl_iface_own_slots(h->a, pr->decl, &slots);
    for (size_t j = 0; j < slots.len; j++) {
      const idl_member *m = ((idl_slot *)slots.items[j])->member;
      if (m->mflags & IDL_MF_JSCONTEXT)
        cx = true;
      xp_vec types = {0};
      xp_vec_push(h->a, &types, m->type.decl);
      for (size_t k = 0; k < m->params.len; k++)
        xp_vec_push(h->a, &types, ((idl_param *)m->params.items[k])->type.decl);
      for (size_t k = 0; k < types.len; k++) {
        const idl_decl *t = idl_underlying(types.items[k]);
        if (t && t->kind == IDL_D_NATIVE && t->special == IDL_SP_JSVAL)
          val = true;
      }
    }
  }
  if (!cx && !val)
    return;
  xp_buf_puts(h->out, "#ifdef __cplusplus\n");
  if (cx)
    xp_buf_puts(h->out, "struct JSContext;\n");
  if (val)
    xp_buf_puts(h->out, "namespace JS { class Value; }\n");
  xp_buf_puts(h->out, "#endif\n");
}

void emit_header(idl_ctx *ctx, const idl_file *file, xp_buf *out) {
  hdr h = {ctx, &ctx->arena, file, out, {0}};
  xp_buf_printf(out, "/* DO NOT EDIT. Generated by xpidl from %s.idl. */\n",
                file->stem);
  xp_buf_printf(out, "#ifndef __gen_%s_h__\n#define __gen_%s_h__\n",
                file->stem, file->stem);
  xp_buf_puts(out, "#include \"nscore.h\"\n");
  xp_vec seen = {0};
  for (size_t i = 0; i < file->prods.len; i++) {
    const idl_prod *pr = file->prods.items[i];
    if (pr->kind != IDL_P_INCLUDE)
      continue;
    bool dup = false;
    for (size_t j = 0; j < seen.len; j++)
      dup |= seen.items[j] == pr->included;
    if (dup)
      continue;
    xp_vec_push(h.a, &seen, pr->included);
    xp_buf_printf(out, "#include \"%s.h\"\n", pr->included->stem);
  }
  emit_js_forwards(&h);

  for (size_t i = 0; i < file->prods.len; i++) {
    const idl_prod *pr = file->prods.items[i];
    switch (pr->kind) {
    case IDL_P_INCLUDE:
    case IDL_P_NATIVE:
      break;
    case IDL_P_CDATA:
      emit_cdata(&h, pr->text);
      break;
    case IDL_P_TYPEDEF:
      if (!emit_name_predeclared(pr->decl->name)) {
        emit_use in = {IDL_IN, false, false, false};
        xp_buf_printf(
            out, "typedef %s;\n",
            emit_c_decl(h.a, emit_c_type(h.a, pr->decl->target.decl, in),
                        pr->decl->name));
      }
      break;
    case IDL_P_FORWARD:
      emit_forward(&h, pr->decl->name);
      break;
    case IDL_P_INTERFACE:
      emit_interface(&h, pr->decl);
      break;
    }
  }
  xp_buf_printf(out, "\n#endif /* __gen_%s_h__ */\n", file->stem);
}

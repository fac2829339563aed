/* idl_ast.c — built-in types and helpers over the resolved tree. */
#include "idl_ast.h"

#include <ctype.h>
#include <string.h>

/* Native spellings follow Gecko's xpidl (xpcom-facts.md §3). */
const idl_builtin idl_builtins[IDL_B_COUNT] = {
    {IDL_B_VOID, "void", "void", "XPT_TD_VOID", false, false, 0, false},
    {IDL_B_BOOLEAN, "boolean", "bool", "XPT_TD_BOOL", false, false, 8, false},
    {IDL_B_OCTET, "octet", "uint8_t", "XPT_TD_UINT8", true, false, 8, false},
    {IDL_B_SHORT, "short", "int16_t", "XPT_TD_INT16", true, true, 16, false},
    {IDL_B_LONG, "long", "int32_t", "XPT_TD_INT32", true, true, 32, false},
    {IDL_B_LONGLONG, "long long", "int64_t", "XPT_TD_INT64", true, true, 64,
     false},
    {IDL_B_USHORT, "unsigned short", "uint16_t", "XPT_TD_UINT16", true, false,
     16, false},
    {IDL_B_ULONG, "unsigned long", "uint32_t", "XPT_TD_UINT32", true, false,
     32, false},
    {IDL_B_ULONGLONG, "unsigned long long", "uint64_t", "XPT_TD_UINT64", true,
     false, 64, false},
    {IDL_B_FLOAT, "float", "float", "XPT_TD_FLOAT", false, false, 0, false},
    {IDL_B_DOUBLE, "double", "double", "XPT_TD_DOUBLE", false, false, 0,
     false},
    {IDL_B_CHAR, "char", "char", "XPT_TD_CHAR", false, false, 8, false},
    {IDL_B_WCHAR, "wchar", "char16_t", "XPT_TD_WCHAR", false, false, 16,
     false},
    {IDL_B_STRING, "string", "char *", "XPT_TD_PSTRING", false, false, 0,
     true},
    {IDL_B_WSTRING, "wstring", "char16_t *", "XPT_TD_PWSTRING", false, false,
     0, true},
};

const idl_builtin *idl_builtin_lookup(const char *name) {
  for (size_t i = 0; i < IDL_B_COUNT; i++)
    if (strcmp(idl_builtins[i].idl_name, name) == 0)
      return &idl_builtins[i];
  return NULL;
}

const idl_decl *idl_underlying(const idl_decl *d) {
  /* The resolver rejects typedef cycles, so this terminates. */
  while (d && d->kind == IDL_D_TYPEDEF)
    d = d->target.decl;
  return d;
}

char *idl_first_cap(xp_arena *a, const char *s) {
  char *r = xp_strdup(a, s);
  r[0] = (char)toupper((unsigned char)r[0]);
  return r;
}

char *idl_iid_macro_prefix(xp_arena *a, const char *name) {
  /* Gecko's header.py: nsIFoo -> NS_IFOO; other prefixes just upper-case. */
  bool ns = strncmp(name, "ns", 2) == 0;
  char *r = ns ? xp_printf(a, "NS_%s", name + 2) : xp_strdup(a, name);
  for (char *p = r; *p; p++)
    *p = (char)toupper((unsigned char)*p);
  return r;
}

static void push_slot(xp_arena *a, xp_vec *out, idl_slot_kind kind,
                      idl_member *m, const char *native_name) {
  idl_slot *s = xp_alloc(a, sizeof(*s));
  s->kind = kind;
  s->member = m;
  s->native_name = native_name;
  xp_vec_push(a, out, s);
}

void idl_iface_own_slots(xp_arena *a, const idl_decl *iface, xp_vec *out) {
  for (size_t i = 0; i < iface->members.len; i++) {
    idl_member *m = iface->members.items[i];
    const char *bin = m->binaryname ? m->binaryname : NULL;
    if (m->kind == IDL_M_METHOD) {
      push_slot(a, out, IDL_SLOT_METHOD, m,
                bin ? bin : idl_first_cap(a, m->name));
    } else if (m->kind == IDL_M_ATTRIBUTE) {
      const char *base = bin ? bin : idl_first_cap(a, m->name);
      push_slot(a, out, IDL_SLOT_GETTER, m, xp_printf(a, "Get%s", base));
      if (!m->readonly)
        push_slot(a, out, IDL_SLOT_SETTER, m, xp_printf(a, "Set%s", base));
    }
  }
}

unsigned idl_iface_own_slot_count(const idl_decl *iface) {
  unsigned n = 0;
  for (size_t i = 0; i < iface->members.len; i++) {
    const idl_member *m = iface->members.items[i];
    if (m->kind == IDL_M_METHOD)
      n++;
    else if (m->kind == IDL_M_ATTRIBUTE)
      n += m->readonly ? 1 : 2;
  }
  return n;
}

unsigned idl_iface_base_slots(const idl_decl *iface) {
  unsigned n = 0;
  for (const idl_decl *b = iface->base; b; b = b->base)
    n += idl_iface_own_slot_count(b);
  return n;
}

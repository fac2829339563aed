/*
 * emit_types.c — how each IDL type is spelled in C++ (exactly as Gecko's
 * header.py does, so C++ code written against Gecko compiles unchanged)
 * and in C (the same ABI: a C++ reference is a pointer, a class template
 * passed by value is passed by pointer).
 */
#include <string.h>

#include "emit.h"

static const char *ptr_to(xp_arena *a, const char *t) {
  size_t n = strlen(t);
  return xp_printf(a, "%s%s", t, n && t[n - 1] == '*' ? "*" : " *");
}

const char *emit_c_decl(xp_arena *a, const char *type, const char *name) {
  size_t n = strlen(type);
  return xp_printf(a, "%s%s%s", type, n && type[n - 1] == '*' ? "" : " ",
                   name);
}

static const char *const predeclared[] = {
    /* nscore.h */
    "nsresult", "nsrefcnt", "PRInt8", "PRUint8", "PRInt16", "PRUint16",
    "PRInt32", "PRUint32", "PRInt64", "PRUint64", "PRUnichar", "nsID",
    "nsIID", "nsCID", "nsACString", "nsAString", "nsCStringContainer",
    "nsStringContainer", "nsAUTF8String", "REFNSIID", "REFNSCID",
    /* <stddef.h>, <stdint.h>, <stdbool.h>, <uchar.h> */
    "size_t", "ptrdiff_t", "int8_t", "uint8_t", "int16_t", "uint16_t",
    "int32_t", "uint32_t", "int64_t", "uint64_t", "intptr_t", "uintptr_t",
    "bool", "char16_t", "char32_t",
    /* NSPR's PRBool is an int: a `typedef bool PRBool` here would break
     * every file that also includes NSPR. IDL should say `boolean`. */
    "PRBool", NULL};

bool emit_name_predeclared(const char *name) {
  for (const char *const *p = predeclared; *p; p++)
    if (strcmp(*p, name) == 0)
      return true;
  return false;
}

static bool is_c_type_word(const char *w, size_t n) {
  static const char *const words[] = {"unsigned", "signed", "char",  "short",
                                      "int",      "long",   "float", "double",
                                      "void",     "bool",   "_Bool", NULL};
  for (const char *const *p = words; *p; p++)
    if (strlen(*p) == n && memcmp(*p, w, n) == 0)
      return true;
  return false;
}

static bool is_ident_char(char c) {
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

/* Copies s[0..n) trimmed of blanks. */
static const char *trim(xp_arena *a, const char *s, size_t n) {
  while (n && (*s == ' ' || *s == '\t')) {
    s++;
    n--;
  }
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
    n--;
  return xp_strndup(a, s, n);
}

static bool starts_word(const char *s, const char *w) {
  size_t n = strlen(w);
  return strncmp(s, w, n) == 0 && (s[n] == ' ' || s[n] == '\t');
}

const char *emit_c_native(xp_arena *a, const char *cpp, const char **base) {
  /* split "T<...> * const &" into the named type and its declarator */
  size_t n = strlen(cpp), split = n;
  int depth = 0;
  for (size_t i = 0; i < n; i++) {
    if (cpp[i] == '<' || cpp[i] == '(')
      depth++;
    else if (cpp[i] == '>' || cpp[i] == ')')
      depth--;
    else if (depth == 0 && (cpp[i] == '*' || cpp[i] == '&')) {
      split = i;
      break;
    }
  }
  const char *head = trim(a, cpp, split);
  bool lead_const = false;
  for (;;) {
    if (starts_word(head, "const")) {
      lead_const = true;
      head = trim(a, head + 5, strlen(head + 5));
    } else if (starts_word(head, "struct") || starts_word(head, "class")) {
      size_t k = head[0] == 's' ? 6 : 5;
      head = trim(a, head + k, strlen(head) - k);
    } else {
      break;
    }
  }

  /* Plain C type words ("unsigned long") stay; anything else becomes one
   * identifier: every run of non-identifier characters is one '_'. */
  bool c_words = *head != '\0';
  for (const char *p = head; *p && c_words;) {
    while (*p == ' ' || *p == '\t')
      p++;
    const char *w = p;
    while (is_ident_char(*p))
      p++;
    if (p == w && *p)
      c_words = false; /* punctuation */
    else if (p > w && !is_c_type_word(w, (size_t)(p - w)))
      c_words = false;
  }
  xp_buf b = {0};
  const char *name;
  if (c_words) {
    for (const char *p = head; *p;) {
      if (*p == ' ' || *p == '\t') {
        while (*p == ' ' || *p == '\t')
          p++;
        if (*p)
          xp_buf_puts(&b, " ");
      } else {
        xp_buf_putn(&b, p++, 1);
      }
    }
    name = xp_strdup(a, b.data ? b.data : "void");
    *base = NULL;
  } else {
    bool pending = false;
    for (const char *p = head; *p; p++) {
      if (is_ident_char(*p)) {
        if (pending && b.len)
          xp_buf_puts(&b, "_");
        pending = false;
        xp_buf_putn(&b, p, 1);
      } else {
        pending = true;
      }
    }
    name = xp_strdup(a, b.data ? b.data : "void");
    *base = emit_name_predeclared(name) ? NULL : name;
  }
  xp_buf_free(&b);

  const char *r = lead_const ? xp_printf(a, "const %s", name) : name;
  for (const char *p = cpp + split; *p; p++) {
    if (*p == '*' || *p == '&')
      r = ptr_to(a, r);
    else if (starts_word(p, "const") || strcmp(p, "const") == 0) {
      r = xp_printf(a, "%s const", r);
      p += 4;
    }
  }
  return r;
}

bool emit_native_byref_in_c(const idl_decl *n) {
  if (n->kind != IDL_D_NATIVE || n->special != IDL_SP_NONE ||
      n->modifier != IDL_NMOD_NONE)
    return false;
  size_t len = strlen(n->cpp_type);
  return strchr(n->cpp_type, '<') && n->cpp_type[len - 1] == '>';
}

static const char *native_cxx_name(const idl_decl *t) {
  switch (t->special) {
  case IDL_SP_DOMSTRING:
  case IDL_SP_ASTRING:
    return "nsAString";
  case IDL_SP_UTF8STRING:
  case IDL_SP_CSTRING:
    return "nsACString";
  case IDL_SP_JSVAL:
    return "JS::Value";
  default:
    return t->cpp_type;
  }
}

/* Gecko's Native.isRef / isPtr: an out jsval is a plain pointer. */
static bool native_is_ref(const idl_decl *t, idl_dir dir) {
  return t->modifier == IDL_NMOD_REF &&
         !(t->special == IDL_SP_JSVAL && dir == IDL_OUT);
}

static bool native_is_ptr(const idl_decl *t, idl_dir dir) {
  return t->modifier == IDL_NMOD_PTR ||
         (t->modifier == IDL_NMOD_REF && t->special == IDL_SP_JSVAL &&
          dir == IDL_OUT);
}

const char *emit_cxx_type(xp_arena *a, const idl_decl *t, emit_use use) {
  bool notin = use.dir != IDL_IN;
  if (use.array) {
    emit_use el = {use.dir, false, false, false};
    return xp_printf(a, "%s%s*", use.is_const ? "const " : "",
                     emit_cxx_type(a, t, el));
  }
  switch (t->kind) {
  case IDL_D_BUILTIN: {
    const idl_builtin *b = t->builtin;
    bool c = use.is_const || (!notin && b->is_ptr) || use.shared;
    return xp_printf(a, "%s%s %s", c ? "const " : "", b->native,
                     notin ? "*" : "");
  }
  case IDL_D_TYPEDEF:
    return xp_printf(a, "%s %s", t->name, notin ? "*" : "");
  case IDL_D_FORWARD:
  case IDL_D_INTERFACE:
    return xp_printf(a, "%s%s *%s", use.is_const ? "const " : "", t->name,
                     notin ? "*" : "");
  case IDL_D_NATIVE: {
    bool c = use.is_const || use.shared ||
             (t->special != IDL_SP_NONE && !notin);
    const char *m;
    if (native_is_ref(t, use.dir))
      m = "& ";
    else if (native_is_ptr(t, use.dir))
      m = t->modifier == IDL_NMOD_PTR && notin ? "**" : "*";
    else
      m = notin ? "*" : "";
    return xp_printf(a, "%s%s %s", c ? "const " : "", native_cxx_name(t), m);
  }
  }
  return "void ";
}

const char *emit_c_type(xp_arena *a, const idl_decl *t, emit_use use) {
  bool notin = use.dir != IDL_IN;
  if (use.array) {
    emit_use el = {use.dir, false, false, false};
    const char *r = ptr_to(a, emit_c_type(a, t, el));
    return use.is_const ? xp_printf(a, "const %s", r) : r;
  }
  const char *r = "void";
  bool c = false;
  switch (t->kind) {
  case IDL_D_BUILTIN: {
    const idl_builtin *b = t->builtin;
    c = use.is_const || (!notin && b->is_ptr) || use.shared;
    r = notin ? ptr_to(a, b->native) : b->native;
    break;
  }
  case IDL_D_TYPEDEF:
    r = notin ? ptr_to(a, t->name) : t->name;
    break;
  case IDL_D_FORWARD:
  case IDL_D_INTERFACE:
    c = use.is_const;
    r = ptr_to(a, t->name);
    if (notin)
      r = ptr_to(a, r);
    break;
  case IDL_D_NATIVE: {
    c = use.is_const || use.shared || (t->special != IDL_SP_NONE && !notin);
    const char *base = NULL;
    const char *name = t->special == IDL_SP_NONE || t->special == IDL_SP_NSID
                           ? emit_c_native(a, t->cpp_type, &base)
                       : t->special == IDL_SP_JSVAL ? "JS_Value"
                                                    : native_cxx_name(t);
    if (native_is_ref(t, use.dir))
      r = ptr_to(a, name);
    else if (native_is_ptr(t, use.dir))
      r = t->modifier == IDL_NMOD_PTR && notin ? ptr_to(a, ptr_to(a, name))
                                               : ptr_to(a, name);
    else
      r = notin || emit_native_byref_in_c(t) ? ptr_to(a, name) : name;
    break;
  }
  }
  return c ? xp_printf(a, "const %s", r) : r;
}

/*
 * idl_resolve.c — loading files, following includes, and the name scopes.
 *
 * Visibility follows Gecko's xpidl: a file sees the names it declares
 * (from the point of declaration on) and every name of the files it
 * includes, transitively. A file is parsed once however often it is
 * included; an include cycle is cut like an include guard would.
 */
#include "idl_resolve.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idl_parser.h"

void idl_ctx_init(idl_ctx *ctx) {
  memset(ctx, 0, sizeof(*ctx));
  for (size_t i = 0; i < IDL_B_COUNT; i++) {
    idl_decl *d = xp_alloc(&ctx->arena, sizeof(*d));
    d->kind = IDL_D_BUILTIN;
    d->name = idl_builtins[i].idl_name;
    d->builtin = &idl_builtins[i];
    ctx->builtins[i] = d;
  }
}

void idl_ctx_free(idl_ctx *ctx) { xp_arena_free(&ctx->arena); }

void idl_ctx_add_incdir(idl_ctx *ctx, const char *dir) {
  xp_vec_push(&ctx->arena, &ctx->incdirs, xp_strdup(&ctx->arena, dir));
}

/* ---- reading and parsing ------------------------------------------------ */

/* Reads a whole file into arena memory (NUL-terminated). NULL with errno
 * set on failure. */
static char *read_file(xp_arena *a, const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  xp_buf b = {0};
  char chunk[8192];
  size_t n;
  while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
    xp_buf_putn(&b, chunk, n);
  int err = ferror(f) ? errno : 0;
  fclose(f);
  if (err) {
    xp_buf_free(&b);
    errno = err;
    return NULL;
  }
  char *s = xp_strndup(a, b.data ? b.data : "", b.len);
  *len = b.len;
  xp_buf_free(&b);
  return s;
}

static const char *dir_of(xp_arena *a, const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash)
    return ".";
  if (slash == path)
    return "/";
  return xp_strndup(a, path, (size_t)(slash - path));
}

static const char *stem_of(xp_arena *a, const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t n = strlen(base);
  if (n > 4 && strcmp(base + n - 4, ".idl") == 0)
    n -= 4;
  return xp_strndup(a, base, n);
}

/*
 * Returns the file for `path` (already opened once, or parsed now), or
 * NULL after reporting an error at `from` (or without location for a
 * command-line file).
 */
static idl_file *open_file(idl_ctx *ctx, const char *path, xp_loc from) {
  char *rp = realpath(path, NULL);
  if (!rp) {
    xp_error(from, "cannot open '%s': %s", path, strerror(errno));
    return NULL;
  }
  const char *key = xp_strdup(&ctx->arena, rp);
  free(rp);
  idl_file *f = xp_map_get(&ctx->files, key);
  if (f)
    return f;

  size_t len = 0;
  char *src = read_file(&ctx->arena, path, &len);
  if (!src) {
    xp_error(from, "cannot read '%s': %s", path, strerror(errno));
    return NULL;
  }
  f = xp_alloc(&ctx->arena, sizeof(*f));
  f->path = xp_strdup(&ctx->arena, path);
  f->realpath = key;
  f->dir = dir_of(&ctx->arena, f->path);
  f->stem = stem_of(&ctx->arena, f->path);
  xp_map_put(&ctx->arena, &ctx->files, key, f);
  if (!idl_parse(&ctx->arena, f, src, len)) {
    f->state = IDL_FILE_DONE; /* never resolve a partial tree */
    return NULL;
  }
  return f;
}

static bool file_exists(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return false;
  fclose(f);
  return true;
}

/* Search order: the including file's directory, then each -I directory. */
static idl_file *open_include(idl_ctx *ctx, idl_file *from, idl_prod *pr) {
  const char *name = pr->text;
  if (name[0] == '/')
    return open_file(ctx, name, pr->loc);
  const char *cand = xp_printf(&ctx->arena, "%s/%s", from->dir, name);
  if (file_exists(cand))
    return open_file(ctx, cand, pr->loc);
  for (size_t i = 0; i < ctx->incdirs.len; i++) {
    cand = xp_printf(&ctx->arena, "%s/%s", (char *)ctx->incdirs.items[i], name);
    if (file_exists(cand))
      return open_file(ctx, cand, pr->loc);
  }
  xp_error(pr->loc, "cannot find include file '%s'", name);
  return NULL;
}

/* ---- scopes ----------------------------------------------------------- */

static const char *kind_name(idl_decl_kind k) {
  switch (k) {
  case IDL_D_BUILTIN:
    return "built-in type";
  case IDL_D_TYPEDEF:
    return "typedef";
  case IDL_D_NATIVE:
    return "native type";
  case IDL_D_FORWARD:
    return "forward declaration";
  case IDL_D_INTERFACE:
    return "interface";
  }
  return "declaration";
}

/* Makes `d` visible in `file`. A forward declaration and a definition of
 * the same interface may meet in any order; anything else named twice is
 * an error (reported at `where`). */
static void scope_add(idl_ctx *ctx, idl_file *file, idl_decl *d, xp_loc where) {
  idl_decl *old = xp_map_get(&file->scope, d->name);
  if (!old) {
    xp_map_put(&ctx->arena, &file->scope, d->name, d);
    return;
  }
  if (old == d || (d->kind == IDL_D_FORWARD && (old->kind == IDL_D_FORWARD ||
                                                old->kind == IDL_D_INTERFACE)))
    return;
  if (old->kind == IDL_D_FORWARD && d->kind == IDL_D_INTERFACE) {
    xp_map_put(&ctx->arena, &file->scope, d->name, d);
    return;
  }
  xp_error(where, "'%s' is already declared as a %s", d->name,
           kind_name(old->kind));
  xp_note(old->loc, "previous declaration of '%s'", d->name);
}

static void declare(idl_ctx *ctx, idl_file *file, idl_decl *d) {
  if (idl_builtin_lookup(d->name)) {
    xp_error(d->loc, "'%s' is a built-in type and cannot be redeclared",
             d->name);
    return;
  }
  scope_add(ctx, file, d, d->loc);
}

bool idl_resolve_type(idl_ctx *ctx, idl_file *file, idl_typeref *t) {
  const idl_builtin *b = idl_builtin_lookup(t->name);
  if (b) {
    t->decl = ctx->builtins[b->kind];
    return true;
  }
  t->decl = xp_map_get(&file->scope, t->name);
  if (!t->decl) {
    xp_error(t->loc, "unknown type '%s'", t->name);
    return false;
  }
  return true;
}

/* ---- resolution ------------------------------------------------------- */

static bool resolve_file(idl_ctx *ctx, idl_file *f);

static bool resolve_include(idl_ctx *ctx, idl_file *f, idl_prod *pr) {
  idl_file *inc = open_include(ctx, f, pr);
  if (!inc)
    return false;
  pr->included = inc;
  if (inc->state == IDL_FILE_RESOLVING)
    return true; /* cycle: the outer inclusion provides the names */
  if (inc->state == IDL_FILE_NEW && !resolve_file(ctx, inc))
    return false;
  const xp_map *s = &inc->scope;
  for (size_t i = 0; i < s->cap; i++)
    if (s->slots[i].key)
      scope_add(ctx, f, s->slots[i].value, pr->loc);
  return true;
}

/* Walks the productions in order. Returns false if an include could not be
 * loaded (the rest of the file would only produce follow-on errors). */
static bool resolve_file(idl_ctx *ctx, idl_file *f) {
  f->state = IDL_FILE_RESOLVING;
  bool ok = true;
  for (size_t i = 0; i < f->prods.len && ok; i++) {
    idl_prod *pr = f->prods.items[i];
    switch (pr->kind) {
    case IDL_P_INCLUDE:
      ok = resolve_include(ctx, f, pr);
      break;
    case IDL_P_CDATA:
      break;
    case IDL_P_TYPEDEF:
      idl_check_typedef(ctx, pr->decl);
      declare(ctx, f, pr->decl);
      break;
    case IDL_P_NATIVE:
      idl_check_native(ctx, pr->decl);
      declare(ctx, f, pr->decl);
      break;
    case IDL_P_FORWARD:
      declare(ctx, f, pr->decl);
      break;
    case IDL_P_INTERFACE:
      /* Visible to its own members (methods may take or return it). */
      declare(ctx, f, pr->decl);
      idl_check_interface(ctx, f, pr->decl);
      break;
    }
  }
  f->state = IDL_FILE_DONE;
  return ok;
}

idl_file *idl_load(idl_ctx *ctx, const char *path) {
  xp_loc none = {NULL, 0, 0};
  int errors_before = xp_error_count;
  idl_file *f = open_file(ctx, path, none);
  if (f && f->state == IDL_FILE_NEW)
    resolve_file(ctx, f);
  return xp_error_count == errors_before ? f : NULL;
}

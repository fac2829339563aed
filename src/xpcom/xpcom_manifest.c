/*
 * xpcom_manifest.c — component manifests in Gecko's chrome.manifest syntax,
 * binary component loading, and the default manifest locations.
 *
 * A manifest is read line by line: `#` at the start of a line makes a
 * comment; tokens are separated by spaces and tabs; the first token is the
 * directive, then its arguments, then optional flags that restrict the
 * line to some applications, platforms or processes. As in Gecko's
 * ManifestParser, `contract` lines are applied after the rest of their file
 * (so a contract may precede its CID), flags are lower-cased before they
 * are matched, and flags of one kind are OR-ed (`os=linux os=winnt`).
 * Anything wrong with a line is reported as `file:line: reason` on stderr
 * and in the "xpcom" log module, and the line is skipped.
 *
 * Our flag values: os=linux, abi=linux_<cpu>-gcc3 (Gecko's OS_TARGET +
 * "_" + XPCOM_ABI, e.g. linux_x86_64-gcc3), process=main,
 * platformversion=52.0; there is no application, so `application=` and
 * `appversion` never match (and their `!=` forms always do); osversion is
 * empty on Linux without GTK, so it never matches either.
 *
 * Main thread only (NS_InitXPCOM2 and XPCOM_RegisterManifest run there).
 */
#include "xpcom_services_int.h"

#include <ctype.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <prerror.h>
#include <prlink.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

XPCOM_LOG_MODULE(g_log, XPCOM_SERVICES_LOG_NAME);

#define PLATFORM_VERSION "52.0"
#define MAX_NESTING 16
#define MAX_MANIFEST_SIZE (16u << 20)

#if defined(__x86_64__)
#define XPCOM_ABI_CPU "x86_64"
#elif defined(__i386__)
#define XPCOM_ABI_CPU "x86"
#elif defined(__aarch64__)
#define XPCOM_ABI_CPU "aarch64"
#elif defined(__arm__)
#define XPCOM_ABI_CPU "arm"
#elif defined(__powerpc64__)
#define XPCOM_ABI_CPU "ppc64"
#elif defined(__s390x__)
#define XPCOM_ABI_CPU "s390x"
#else
#define XPCOM_ABI_CPU "unknown"
#endif
#define OUR_ABI "linux_" XPCOM_ABI_CPU "-gcc3"

/* ---- reporting ---------------------------------------------------------- */

static void line_error(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void line_error(const char *file, int line, const char *fmt, ...) {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  xpcom_report("%s:%d: %s", file, line, msg);
}

/* ---- loaded binary modules ------------------------------------------------ */

typedef struct loaded_module {
  struct loaded_module *next;
  char *path; /* canonical */
  PRLibrary *lib;
  const xpcom_module *mod;
} loaded_module;

static loaded_module *g_modules;

void xpcom_modules_shutdown(void) {
  loaded_module *m = g_modules;
  g_modules = NULL;
  while (m) {
    loaded_module *next = m->next;
    if (m->mod->unloadProc)
      m->mod->unloadProc();
    /* As Gecko 52: the library itself stays mapped. Objects it created may
     * outlive shutdown in a leaky host, and their vtables live there. */
    free(m->path);
    free(m);
    m = next;
  }
}

static bool selector_matches(xpcom_module_process_selector s) {
  return !(s & XPCOM_MODULE_CONTENT_PROCESS_ONLY);
}

static void load_binary_component(const char *path, const char *file,
                                  int line) {
  char *canon = realpath(path, NULL);
  if (!canon) {
    line_error(file, line, "cannot find binary component '%s': %s", path,
               strerror(errno));
    return;
  }
  for (loaded_module *m = g_modules; m; m = m->next) {
    if (!strcmp(m->path, canon)) {
      line_error(file, line, "binary component '%s' is already registered",
                 path);
      free(canon);
      return;
    }
  }
  PRLibSpec spec;
  spec.type = PR_LibSpec_Pathname;
  spec.value.pathname = canon;
  PRLibrary *lib = PR_LoadLibraryWithFlags(spec, PR_LD_NOW | PR_LD_LOCAL);
  if (!lib) {
    char err[512] = "";
    PRInt32 n = PR_GetErrorTextLength();
    if (n > 0 && (size_t)n < sizeof err)
      PR_GetErrorText(err);
    line_error(file, line, "cannot load binary component '%s'%s%s", path,
               err[0] ? ": " : "", err);
    free(canon);
    return;
  }
  void *sym = PR_FindSymbol(lib, "NSModule");
  const xpcom_module *mod = sym ? *(const xpcom_module *const *)sym : NULL;
  if (!mod) {
    line_error(file, line,
               "binary component '%s' does not export an NSModule", path);
    goto unload;
  }
  if (mod->mVersion != XPCOM_MODULE_VERSION) {
    line_error(file, line,
               "binary component '%s' has module version %u, expected %u",
               path, mod->mVersion, (unsigned)XPCOM_MODULE_VERSION);
    goto unload;
  }
  if (!selector_matches(mod->selector)) {
    XPCOM_LOG(g_log, XPCOM_LOG_DEBUG,
              ("%s:%d: %s is for content processes only", file, line, path));
    goto unload;
  }
  if (mod->loadProc) {
    nsresult rv = mod->loadProc();
    if (NS_FAILED(rv)) {
      char name[XPCOM_ERROR_FORMAT_MAX];
      XPCOM_FormatError(rv, name, sizeof name);
      line_error(file, line, "binary component '%s': loadProc failed: %s",
                 path, name);
      goto unload;
    }
  }

  loaded_module *m = calloc(1, sizeof *m);
  if (!m) {
    if (mod->unloadProc)
      mod->unloadProc();
    goto unload;
  }
  m->path = canon;
  m->lib = lib;
  m->mod = mod;
  m->next = g_modules;
  g_modules = m;

  xpcom_reg_origin origin = {file, line};
  for (const xpcom_module_cid_entry *e = mod->mCIDs; e && e->cid; e++) {
    if (!selector_matches(e->processSelector))
      continue;
    if (!e->constructorProc) {
      char id[NSID_LENGTH];
      nsID_ToString(e->cid, id);
      line_error(file, line,
                 "binary component '%s': CID %s has no constructorProc "
                 "(getFactoryProc is not supported); skipped",
                 path, id);
      continue;
    }
    (void)xpcom_components_add_class(e->cid, NULL, e->constructorProc,
                                     e->service, &origin);
  }
  for (const xpcom_module_contract_entry *c = mod->mContractIDs;
       c && c->contractid; c++) {
    if (!c->cid || !selector_matches(c->processSelector))
      continue;
    (void)xpcom_components_add_contract(c->contractid, c->cid, &origin);
  }
  for (const xpcom_module_category_entry *c = mod->mCategoryEntries;
       c && c->category; c++) {
    if (c->entry)
      (void)xpcom_category_add(c->category, c->entry, c->value);
  }
  XPCOM_LOG(g_log, XPCOM_LOG_DEBUG, ("loaded binary component %s", canon));
  return;

unload:
  PR_UnloadLibrary(lib);
  free(canon);
}

/* ---- flags ------------------------------------------------------------------ */

typedef enum tristate { UNSPECIFIED, BAD, OK } tristate;

/* "flag=value" / "flag!=value". Returns false if token is not this flag. */
static bool check_string_flag(const char *flag, const char *token,
                              const char *ours, tristate *st) {
  size_t n = strlen(flag);
  if (strncmp(token, flag, n) != 0)
    return false;
  bool equal;
  const char *value;
  if (token[n] == '=') {
    equal = true;
    value = token + n + 1;
  } else if (token[n] == '!' && token[n + 1] == '=') {
    equal = false;
    value = token + n + 2;
  } else {
    return false;
  }
  if (*st != OK) {
    bool same = ours[0] && !strcmp(value, ours);
    *st = (same == equal) ? OK : BAD;
  }
  return true;
}

/* Splits a version part into Gecko's A.B.C.D form: number, string,
 * number, rest. "*" is infinitely large; "1+" means "2pre". */
typedef struct vpart {
  long a, c;
  char b[32], d[32];
} vpart;

static const char *parse_vpart(const char *s, vpart *p) {
  memset(p, 0, sizeof *p);
  if (!*s)
    return s;
  const char *end = strchr(s, '.');
  size_t len = end ? (size_t)(end - s) : strlen(s);
  const char *next = end ? end + 1 : s + len;
  if (len == 1 && s[0] == '*') {
    p->a = 0x7fffffffL;
    return next;
  }
  const char *q = s, *lim = s + len;
  while (q < lim && isdigit((unsigned char)*q))
    p->a = p->a * 10 + (*q++ - '0') % 0x7fffffff;
  if (q < lim && *q == '+') {
    p->a++;
    strcpy(p->b, "pre");
    return next;
  }
  size_t i = 0;
  while (q < lim && !isdigit((unsigned char)*q) && i + 1 < sizeof p->b)
    p->b[i++] = *q++;
  while (q < lim && isdigit((unsigned char)*q))
    p->c = p->c * 10 + (*q++ - '0') % 0x7fffffff;
  i = 0;
  while (q < lim && i + 1 < sizeof p->d)
    p->d[i++] = *q++;
  return next;
}

/* An empty string part sorts after any non-empty one ("1.0" > "1.0pre"). */
static int cmp_vstr(const char *x, const char *y) {
  if (!*x || !*y)
    return (*x ? 0 : 1) - (*y ? 0 : 1);
  int c = strcmp(x, y);
  return (c > 0) - (c < 0);
}

static int compare_versions(const char *x, const char *y) {
  while (*x || *y) {
    vpart a, b;
    x = parse_vpart(x, &a);
    y = parse_vpart(y, &b);
    int c = (a.a > b.a) - (a.a < b.a);
    if (!c)
      c = cmp_vstr(a.b, b.b);
    if (!c)
      c = (a.c > b.c) - (a.c < b.c);
    if (!c)
      c = cmp_vstr(a.d, b.d);
    if (c)
      return c;
  }
  return 0;
}

/* "flag=v", "flag<v", "flag<=v", "flag>v", "flag>=v". */
static bool check_version_flag(const char *flag, const char *token,
                               const char *ours, tristate *st) {
  size_t n = strlen(flag);
  if (strncmp(token, flag, n) != 0 || strlen(token) < n + 2)
    return false;
  const char *op = token + n;
  bool eq = false, lt = false, gt = false;
  const char *value;
  if (op[0] == '=') {
    eq = true;
    value = op + 1;
  } else if (op[0] == '<' || op[0] == '>') {
    lt = op[0] == '<';
    gt = op[0] == '>';
    eq = op[1] == '=';
    value = op + (eq ? 2 : 1);
  } else {
    return false;
  }
  if (!*value)
    return false;
  if (*st != OK) {
    if (!ours[0]) {
      *st = BAD;
    } else {
      int c = compare_versions(ours, value);
      *st = ((c == 0 && eq) || (c < 0 && lt) || (c > 0 && gt)) ? OK : BAD;
    }
  }
  return true;
}

/* Content-directive booleans: "flag", "flag=yes|true|1|no|false|0". */
static bool check_bool_flag(const char *flag, const char *token) {
  size_t n = strlen(flag);
  if (strncmp(token, flag, n) != 0)
    return false;
  if (!token[n])
    return true;
  if (token[n] != '=')
    return false;
  return !token[n + 1] || strchr("1ty0fn", token[n + 1]) != NULL;
}

/* True if the line applies to us; false (after reporting bad flags) if it
 * must be skipped. */
static bool flags_match(char **flags, int nflags, const char *file,
                        int line) {
  tristate app = UNSPECIFIED, appver = UNSPECIFIED, platver = UNSPECIFIED,
           os = UNSPECIFIED, osver = UNSPECIFIED, abi = UNSPECIFIED,
           process = UNSPECIFIED;
  for (int i = 0; i < nflags; i++) {
    char *t = flags[i];
    for (char *p = t; *p; p++)
      *p = (char)tolower((unsigned char)*p);
    if (check_string_flag("application", t, "", &app) ||
        check_string_flag("os", t, "linux", &os) ||
        check_string_flag("abi", t, OUR_ABI, &abi) ||
        check_string_flag("process", t, "main", &process) ||
        check_version_flag("osversion", t, "", &osver) ||
        check_version_flag("appversion", t, "", &appver) ||
        check_version_flag("platformversion", t, PLATFORM_VERSION, &platver))
      continue;
    if (check_bool_flag("platform", t) ||
        check_bool_flag("contentaccessible", t) ||
        check_bool_flag("remoteenabled", t) ||
        check_bool_flag("remoterequired", t))
      continue;
    if (check_bool_flag("xpcnativewrappers", t)) {
      XPCOM_LOG(g_log, XPCOM_LOG_WARNING,
                ("%s:%d: ignoring obsolete modifier '%s'", file, line, t));
      continue;
    }
    line_error(file, line, "unrecognized modifier '%s'; line skipped", t);
    return false;
  }
  if (app == BAD || appver == BAD || platver == BAD || os == BAD ||
      osver == BAD || abi == BAD || process == BAD) {
    XPCOM_LOG(g_log, XPCOM_LOG_DEBUG,
              ("%s:%d: flags do not match this platform", file, line));
    return false;
  }
  return true;
}

/* ---- directives ----------------------------------------------------------------- */

typedef struct manifest_ctx {
  const char *file; /* as given, for messages */
  char *dir;        /* directory of the manifest, for relative paths */
  int depth;
} manifest_ctx;

/* path relative to the manifest's directory (absolute paths kept). */
static char *resolve(const manifest_ctx *cx, const char *path) {
  if (path[0] == '/' || !cx->dir[0])
    return xpcom_strdup(path);
  size_t n = strlen(cx->dir) + 1 + strlen(path) + 1;
  char *r = malloc(n);
  if (r)
    snprintf(r, n, "%s/%s", cx->dir, path);
  return r;
}

static nsresult read_manifest(const char *path, int depth);

static bool parse_cid(const char *text, nsCID *cid, const char *file,
                      int line) {
  /* Gecko requires the braced form in manifests. */
  if (text[0] != '{' || !nsID_Parse(cid, text)) {
    line_error(file, line, "malformed CID '%s'", text);
    return false;
  }
  return true;
}

static void do_manifest(manifest_ctx *cx, int line, char **argv) {
  char *sub = resolve(cx, argv[0]);
  if (!sub)
    return;
  if (cx->depth + 1 >= MAX_NESTING) {
    line_error(cx->file, line, "manifest '%s' nested too deeply; skipped",
               argv[0]);
  } else if (read_manifest(sub, cx->depth + 1) == NS_ERROR_FILE_NOT_FOUND) {
    line_error(cx->file, line, "cannot read manifest '%s'", argv[0]);
  }
  free(sub);
}

static void do_binary_component(manifest_ctx *cx, int line, char **argv) {
  char *lib = resolve(cx, argv[0]);
  if (lib)
    load_binary_component(lib, cx->file, line);
  free(lib);
}

static void do_interfaces(manifest_ctx *cx, int line, char **argv) {
  XPCOM_LOG(g_log, XPCOM_LOG_WARNING,
            ("%s:%d: 'interfaces %s' ignored: type information is compiled "
             "into libwschannel",
             cx->file, line, argv[0]));
}

static void do_component(manifest_ctx *cx, int line, char **argv) {
  nsCID cid;
  if (!parse_cid(argv[0], &cid, cx->file, line))
    return;
  char *script = resolve(cx, argv[1]);
  if (!script)
    return;
  xpcom_reg_origin origin = {cx->file, line};
  (void)xpcom_components_add_js(&cid, script, &origin);
  free(script);
}

static void do_contract(manifest_ctx *cx, int line, char **argv) {
  nsCID cid;
  if (!parse_cid(argv[1], &cid, cx->file, line))
    return;
  xpcom_reg_origin origin = {cx->file, line};
  (void)xpcom_components_add_contract(argv[0], &cid, &origin);
}

static void do_category(manifest_ctx *cx, int line, char **argv) {
  if (NS_FAILED(xpcom_category_add(argv[0], argv[1], argv[2])))
    line_error(cx->file, line, "cannot add category entry");
}

static void do_chrome(manifest_ctx *cx, int line, char **argv) {
  XPCOM_LOG(g_log, XPCOM_LOG_DEBUG,
            ("%s:%d: chrome registration ignored", cx->file, line));
}

static const struct directive {
  const char *name;
  int argc;
  void (*fn)(manifest_ctx *cx, int line, char **argv);
  bool deferred; /* applied after the rest of the file */
} kDirectives[] = {
    {"manifest", 1, do_manifest, false},
    {"binary-component", 1, do_binary_component, false},
    {"interfaces", 1, do_interfaces, false},
    {"component", 2, do_component, false},
    {"contract", 2, do_contract, true},
    {"category", 3, do_category, false},
    {"content", 2, do_chrome, false},
    {"locale", 3, do_chrome, false},
    {"skin", 3, do_chrome, false},
    {"overlay", 2, do_chrome, false},
    {"style", 2, do_chrome, false},
    {"override", 2, do_chrome, false},
    {"resource", 2, do_chrome, false},
};

#define MAX_TOKENS 64

typedef struct deferred_line {
  int line;
  const struct directive *d;
  char *argv[3];
} deferred_line;

static nsresult read_file(const char *path, char **out) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f)
    return NS_ERROR_FILE_NOT_FOUND;
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  while (buf) {
    if (len + 1 >= cap) {
      if (cap >= MAX_MANIFEST_SIZE) {
        free(buf);
        buf = NULL;
        break;
      }
      char *nb = realloc(buf, cap * 2);
      if (!nb) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
      cap *= 2;
    }
    size_t n = fread(buf + len, 1, cap - len - 1, f);
    len += n;
    if (n == 0)
      break;
  }
  bool err = ferror(f);
  fclose(f);
  if (!buf || err) {
    free(buf);
    return err ? NS_ERROR_FILE_NOT_FOUND : NS_ERROR_OUT_OF_MEMORY;
  }
  buf[len] = '\0';
  *out = buf;
  return NS_OK;
}

static nsresult read_manifest(const char *path, int depth) {
  char *buf;
  nsresult rv = read_file(path, &buf);
  if (NS_FAILED(rv))
    return rv;
  XPCOM_LOG(g_log, XPCOM_LOG_DEBUG, ("reading manifest %s", path));

  manifest_ctx cx = {path, xpcom_strdup(path), depth};
  if (!cx.dir) {
    free(buf);
    return NS_ERROR_OUT_OF_MEMORY;
  }
  char *slash = strrchr(cx.dir, '/');
  if (slash == cx.dir)
    slash[1] = '\0'; /* "/x.manifest" → "/" */
  else if (slash)
    *slash = '\0';
  else
    cx.dir[0] = '\0';

  deferred_line *deferred = NULL;
  size_t ndeferred = 0, capdeferred = 0;

  int line = 0;
  char *p = buf;
  while (*p) {
    /* One line: up to \n, \r\n or \r. */
    char *start = p;
    while (*p && *p != '\n' && *p != '\r')
      p++;
    if (*p == '\r' && p[1] == '\n')
      *p++ = '\0';
    if (*p)
      *p++ = '\0';
    line++;
    if (start[0] == '#')
      continue;

    char *tokens[MAX_TOKENS];
    int ntok = 0;
    bool too_many = false;
    for (char *save = NULL, *t = strtok_r(start, " \t", &save); t;
         t = strtok_r(NULL, " \t", &save)) {
      if (ntok == MAX_TOKENS) {
        too_many = true;
        break;
      }
      tokens[ntok++] = t;
    }
    if (ntok == 0)
      continue;
    if (tokens[0][0] == '#')
      continue;
    if (too_many) {
      line_error(path, line, "too many tokens; line skipped");
      continue;
    }

    const struct directive *d = NULL;
    for (size_t i = 0; i < sizeof kDirectives / sizeof kDirectives[0]; i++)
      if (!strcmp(kDirectives[i].name, tokens[0]))
        d = &kDirectives[i];
    if (!d) {
      line_error(path, line, "unrecognized directive '%s'; line skipped",
                 tokens[0]);
      continue;
    }
    if (ntok - 1 < d->argc) {
      line_error(path, line,
                 "not enough arguments for '%s': expected %d, got %d",
                 d->name, d->argc, ntok - 1);
      continue;
    }
    if (!flags_match(tokens + 1 + d->argc, ntok - 1 - d->argc, path, line))
      continue;
    if (d->deferred) {
      if (ndeferred == capdeferred) {
        size_t ncap = capdeferred ? capdeferred * 2 : 8;
        deferred_line *nd = realloc(deferred, ncap * sizeof *nd);
        if (!nd) {
          line_error(path, line, "out of memory; line skipped");
          continue;
        }
        deferred = nd;
        capdeferred = ncap;
      }
      deferred_line *dl = &deferred[ndeferred++];
      dl->line = line;
      dl->d = d;
      for (int i = 0; i < d->argc && i < 3; i++)
        dl->argv[i] = tokens[1 + i];
      continue;
    }
    d->fn(&cx, line, tokens + 1);
  }
  for (size_t i = 0; i < ndeferred; i++)
    deferred[i].d->fn(&cx, deferred[i].line, deferred[i].argv);

  free(deferred);
  free(cx.dir);
  free(buf);
  return NS_OK;
}

nsresult xpcom_manifest_read(const char *path) {
  return read_manifest(path, 0);
}

XPCOM_API(nsresult) XPCOM_RegisterManifest(const char *path) {
  if (!path || !*path)
    return NS_ERROR_INVALID_ARG;
  int st = xpcom_state();
  if (st == XPCOM_STATE_OFF)
    return NS_ERROR_NOT_INITIALIZED;
  if (st != XPCOM_STATE_RUNNING || !NS_IsMainThread())
    return NS_ERROR_UNEXPECTED;
  return read_manifest(path, 0);
}

/* ---- default locations ---------------------------------------------------------- */

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads every *.manifest in dir, in name order. Silent if dir is absent. */
static void read_manifest_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) {
    XPCOM_LOG(g_log, XPCOM_LOG_DEBUG, ("no components directory %s", dir));
    return;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  for (struct dirent *de; (de = readdir(d));) {
    size_t len = strlen(de->d_name);
    if (len <= 9 || strcmp(de->d_name + len - 9, ".manifest") != 0)
      continue;
    if (n == cap) {
      size_t ncap = cap ? cap * 2 : 8;
      char **nn = realloc(names, ncap * sizeof *nn);
      if (!nn)
        break;
      names = nn;
      cap = ncap;
    }
    if (!(names[n] = xpcom_strdup(de->d_name)))
      break;
    n++;
  }
  closedir(d);
  if (n)
    qsort(names, n, sizeof *names, cmp_names);
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(dir) + 1 + strlen(names[i]) + 1;
    char *path = malloc(len);
    if (path) {
      snprintf(path, len, "%s/%s", dir, names[i]);
      if (NS_FAILED(read_manifest(path, 0)))
        xpcom_report("%s: cannot read manifest", path);
      free(path);
    }
    free(names[i]);
  }
  free(names);
}

/* Any object of this library: dladdr finds the file that contains it. */
static const char g_anchor = 0;

void xpcom_manifest_register_defaults(void) {
  Dl_info info;
  char *dir = NULL;
  if (dladdr(&g_anchor, &info) && info.dli_fname) {
    char *lib = realpath(info.dli_fname, NULL);
    if (lib) {
      char *slash = strrchr(lib, '/');
      if (slash) {
        *slash = '\0';
        size_t len = strlen(lib) + sizeof "/wschannel/components";
        dir = malloc(len);
        if (dir)
          snprintf(dir, len, "%s/wschannel/components", lib);
      }
      free(lib);
    }
  }
#ifdef WSCHANNEL_COMPONENTS_DIR
  if (!dir)
    dir = xpcom_strdup(WSCHANNEL_COMPONENTS_DIR);
#endif
  if (dir) {
    read_manifest_dir(dir);
    free(dir);
  }

  const char *env = getenv("WSCHANNEL_MANIFEST");
  if (env && *env) {
    char *list = xpcom_strdup(env);
    for (char *save = NULL, *m = list ? strtok_r(list, ":", &save) : NULL; m;
         m = strtok_r(NULL, ":", &save)) {
      if (NS_FAILED(read_manifest(m, 0)))
        xpcom_report("WSCHANNEL_MANIFEST: cannot read manifest '%s'", m);
    }
    free(list);
  }
}

/*
 * xpcom_prefs.c — the preferences service: a locked table of preferences
 * (default and user values, Gecko's typing rules), nsIPrefService, and
 * nsIPrefBranch objects for the root, for a prefix (getBranch) and for the
 * default values (getDefaultBranch); plus the C helpers of xpcom_prefs.h.
 *
 * Gecko behaviours kept on purpose: reading a missing pref or one of
 * another type fails with NS_ERROR_UNEXPECTED; a pref with a default keeps
 * its type (setting another type fails with NS_ERROR_UNEXPECTED); setting
 * a user value equal to the default removes the user value; a locked pref
 * reads its default; observers get ("nsPref:changed", name relative to
 * their branch's root) on the main thread, and disappear with their branch
 * object. The table is small, so it is a plain array searched linearly.
 */
#include "xpcom_services_int.h"
#include "nsIPrefBranch.h"
#include "nsIPrefService.h"

#include <errno.h>
#include <prinit.h>
#include <stdlib.h>
#include <string.h>

XPCOM_LOG_MODULE(g_log, XPCOM_SERVICES_LOG_NAME);

typedef enum pref_type {
  PT_INVALID = nsIPrefBranch_PREF_INVALID,
  PT_STRING = nsIPrefBranch_PREF_STRING,
  PT_INT = nsIPrefBranch_PREF_INT,
  PT_BOOL = nsIPrefBranch_PREF_BOOL
} pref_type;

typedef struct pref_value {
  int32_t i;
  bool b;
  char *s; /* PT_STRING: owned */
} pref_value;

typedef struct pref {
  char *name;
  pref_type type;
  bool has_default, has_user, locked;
  pref_value def, user;
} pref;

typedef struct prefs_object prefs_object;

typedef struct pref_observer {
  struct pref_observer *next;
  char *domain;           /* full name prefix (root + domain) */
  nsIObserver *observer;  /* strong reference */
  prefs_object *branch;   /* not owned: the branch removes its observers */
} pref_observer;

static PRCallOnceType g_once;
static PRLock *g_lock; /* guards everything below */
static bool g_live;
static bool g_dirty;
static pref *g_prefs;
static size_t g_count, g_cap;
static pref_observer *g_observers;

static PRStatus prefs_once(void) {
  g_lock = PR_NewLock();
  return g_lock ? PR_SUCCESS : PR_FAILURE;
}

/* ---- the table (g_lock held) --------------------------------------------- */

static pref *find_pref(const char *name) {
  for (size_t i = 0; i < g_count; i++)
    if (!strcmp(g_prefs[i].name, name))
      return &g_prefs[i];
  return NULL;
}

static void value_clear(pref_value *v) {
  free(v->s);
  memset(v, 0, sizeof *v);
}

static void remove_pref(pref *p) {
  free(p->name);
  value_clear(&p->def);
  value_clear(&p->user);
  size_t i = (size_t)(p - g_prefs);
  memmove(&g_prefs[i], &g_prefs[i + 1], (g_count - i - 1) * sizeof *p);
  g_count--;
}

static pref *add_pref(const char *name) {
  if (g_count == g_cap) {
    size_t ncap = g_cap ? g_cap * 2 : 64;
    pref *np = realloc(g_prefs, ncap * sizeof *np);
    if (!np)
      return NULL;
    g_prefs = np;
    g_cap = ncap;
  }
  pref *p = &g_prefs[g_count];
  memset(p, 0, sizeof *p);
  if (!(p->name = xpcom_strdup(name)))
    return NULL;
  g_count++;
  return p;
}

static bool value_equal(pref_type t, const pref_value *a,
                        const pref_value *b) {
  switch (t) {
  case PT_INT:
    return a->i == b->i;
  case PT_BOOL:
    return a->b == b->b;
  case PT_STRING:
    return a->s && b->s && !strcmp(a->s, b->s);
  default:
    return false;
  }
}

/* The value reads see: user unless locked or reading defaults. */
static const pref_value *effective(const pref *p, bool defaults_only) {
  if (!defaults_only && p->has_user && !p->locked)
    return &p->user;
  return p->has_default ? &p->def : NULL;
}

/* Reads name as type t. Copies a string value into *out_s (malloc). */
static nsresult get_value(const char *name, pref_type t, bool defaults_only,
                          pref_value *out) {
  memset(out, 0, sizeof *out);
  if (!g_live)
    return NS_ERROR_NOT_INITIALIZED;
  pref *p = find_pref(name);
  if (!p || p->type != t)
    return NS_ERROR_UNEXPECTED;
  const pref_value *v = effective(p, defaults_only);
  if (!v)
    return NS_ERROR_UNEXPECTED;
  *out = *v;
  out->s = NULL;
  if (t == PT_STRING && !(out->s = xpcom_strdup(v->s)))
    return NS_ERROR_OUT_OF_MEMORY;
  return NS_OK;
}

/* Sets the default or user value (value->s is copied). *changed tells
 * whether readers see a different value. */
static nsresult set_value(const char *name, pref_type t,
                          const pref_value *value, bool as_default,
                          bool *changed) {
  *changed = false;
  if (!g_live)
    return NS_ERROR_NOT_INITIALIZED;
  pref_value copy = *value;
  copy.s = NULL;
  if (t == PT_STRING && !(copy.s = xpcom_strdup(value->s)))
    return NS_ERROR_OUT_OF_MEMORY;
  pref *p = find_pref(name);
  bool created = false;
  if (!p) {
    if (!(p = add_pref(name))) {
      value_clear(&copy);
      return NS_ERROR_OUT_OF_MEMORY;
    }
    p->type = t;
    created = true;
  } else if (p->type != t) {
    if (p->has_default) {
      value_clear(&copy);
      XPCOM_LOG(g_log, XPCOM_LOG_WARNING,
                ("pref %s: value of the wrong type refused", name));
      return NS_ERROR_UNEXPECTED;
    }
    /* Only a user value of the old type: the pref changes type. */
    value_clear(&p->user);
    p->has_user = false;
    p->type = t;
    *changed = true;
  }
  const pref_value *before = effective(p, false);
  pref_value old = before ? *before : (pref_value){0, false, NULL};
  bool had = before != NULL;
  if (had && t == PT_STRING && !(old.s = xpcom_strdup(before->s))) {
    value_clear(&copy);
    if (created)
      remove_pref(p);
    return NS_ERROR_OUT_OF_MEMORY;
  }

  if (as_default) {
    value_clear(&p->def);
    p->def = copy;
    p->has_default = true;
  } else if (p->has_default && value_equal(t, &p->def, &copy)) {
    /* Gecko: a user value equal to the default is no user value. */
    value_clear(&copy);
    value_clear(&p->user);
    p->has_user = false;
    g_dirty = true;
  } else {
    value_clear(&p->user);
    p->user = copy;
    p->has_user = true;
    g_dirty = true;
  }
  const pref_value *after = effective(p, false);
  if (!had || !after || !value_equal(t, &old, after))
    *changed = true;
  value_clear(&old);
  return NS_OK;
}

static void install_defaults(void) {
  static const struct {
    const char *name;
    pref_type type;
    int32_t i;
    bool b;
  } defaults[] = {
      /* gecko-websocket-facts.md, "network.websocket.* prefs" */
      {"network.websocket.max-message-size", PT_INT, 2147483647, false},
      {"network.websocket.auto-follow-http-redirects", PT_BOOL, 0, false},
      {"network.websocket.timeout.open", PT_INT, 20, false},
      {"network.websocket.timeout.close", PT_INT, 20, false},
      {"network.websocket.timeout.ping.request", PT_INT, 0, false},
      {"network.websocket.timeout.ping.response", PT_INT, 10, false},
      {"network.websocket.extensions.permessage-deflate", PT_BOOL, 0, true},
      {"network.websocket.extensions.stream-deflate", PT_BOOL, 0, false},
      {"network.websocket.max-connections", PT_INT, 200, false},
      {"network.websocket.delay-failed-reconnects", PT_BOOL, 0, true},
      {"network.websocket.allowInsecureFromHTTPS", PT_BOOL, 0, false},
  };
  for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
    pref_value v = {defaults[i].i, defaults[i].b, NULL};
    bool changed;
    (void)set_value(defaults[i].name, defaults[i].type, &v, true, &changed);
  }
}

static void clear_table(void) {
  for (size_t i = 0; i < g_count; i++) {
    free(g_prefs[i].name);
    value_clear(&g_prefs[i].def);
    value_clear(&g_prefs[i].user);
  }
  free(g_prefs);
  g_prefs = NULL;
  g_count = g_cap = 0;
}

/* ---- observers --------------------------------------------------------------- */

static void prefs_object_release(prefs_object *o);
static bool prefs_object_addref_if_alive(prefs_object *o);
static nsIPrefBranch *prefs_object_branch(prefs_object *o);
static size_t prefs_object_root_len(prefs_object *o);

typedef struct notify_item {
  nsIObserver *observer;
  prefs_object *branch;
} notify_item;

/* Main thread: tell every observer whose domain prefixes `name`. */
static void notify_now(const char *name) {
  notify_item *items = NULL;
  size_t n = 0, cap = 0;
  PR_Lock(g_lock);
  for (pref_observer *o = g_observers; o; o = o->next) {
    if (strncmp(name, o->domain, strlen(o->domain)) != 0)
      continue;
    if (n == cap) {
      size_t ncap = cap ? cap * 2 : 8;
      notify_item *ni = realloc(items, ncap * sizeof *ni);
      if (!ni)
        break;
      items = ni;
      cap = ncap;
    }
    if (!prefs_object_addref_if_alive(o->branch))
      continue; /* being destroyed: it is removing its observers */
    NS_ADDREF(o->observer);
    items[n].observer = o->observer;
    items[n].branch = o->branch;
    n++;
  }
  PR_Unlock(g_lock);
  for (size_t i = 0; i < n; i++) {
    const char *rel = name + prefs_object_root_len(items[i].branch);
    size_t len = strlen(rel);
    char16_t *wide = malloc((len + 1) * sizeof *wide);
    if (wide) {
      /* Gecko widens the name as ASCII, byte by byte. */
      for (size_t k = 0; k <= len; k++)
        wide[k] = (unsigned char)rel[k];
      (void)nsIObserver_Observe(
          items[i].observer,
          (nsISupports *)prefs_object_branch(items[i].branch),
          "nsPref:changed", wide);
      free(wide);
    }
    NS_RELEASE(items[i].observer);
    prefs_object_release(items[i].branch);
  }
  free(items);
}

static void notify_run(void *arg) {
  notify_now(arg);
  free(arg);
}

/* After a change (no lock held): notify now on the main thread, otherwise
 * post the notification there. */
static void notify_changed(const char *name) {
  PR_Lock(g_lock);
  bool any = g_observers != NULL;
  PR_Unlock(g_lock);
  if (!any)
    return;
  if (NS_IsMainThread()) {
    notify_now(name);
    return;
  }
  nsIThread *main = NULL;
  char *copy = xpcom_strdup(name);
  if (copy && NS_SUCCEEDED(NS_GetMainThread(&main)) &&
      NS_SUCCEEDED(xpcom_dispatch_fn((nsIEventTarget *)main, notify_run, copy,
                                     free)))
    copy = NULL;
  free(copy);
  NS_IF_RELEASE(main);
}

static void remove_observers_of(prefs_object *branch) {
  pref_observer *dead = NULL;
  PR_Lock(g_lock);
  for (pref_observer **pp = &g_observers; *pp;) {
    if ((*pp)->branch == branch) {
      pref_observer *o = *pp;
      *pp = o->next;
      o->next = dead;
      dead = o;
    } else {
      pp = &(*pp)->next;
    }
  }
  PR_Unlock(g_lock);
  while (dead) {
    pref_observer *next = dead->next;
    NS_RELEASE(dead->observer);
    free(dead->domain);
    free(dead);
    dead = next;
  }
}

/* ---- lifecycle ------------------------------------------------------------------ */

nsresult xpcom_prefs_init(void) {
  if (PR_CallOnce(&g_once, prefs_once) != PR_SUCCESS)
    return NS_ERROR_OUT_OF_MEMORY;
  PR_Lock(g_lock);
  g_live = true;
  g_dirty = false;
  install_defaults();
  PR_Unlock(g_lock);
  return NS_OK;
}

void xpcom_prefs_shutdown(void) {
  if (!g_lock)
    return;
  PR_Lock(g_lock);
  g_live = false;
  pref_observer *obs = g_observers;
  g_observers = NULL;
  clear_table();
  PR_Unlock(g_lock);
  while (obs) {
    pref_observer *next = obs->next;
    NS_RELEASE(obs->observer);
    free(obs->domain);
    free(obs);
    obs = next;
  }
}

/* ---- C helpers ------------------------------------------------------------------- */

XPCOM_API(int32_t) xpcom_prefs_get_int(const char *name, int32_t fallback) {
  if (!name || !g_lock)
    return fallback;
  pref_value v;
  PR_Lock(g_lock);
  nsresult rv = get_value(name, PT_INT, false, &v);
  PR_Unlock(g_lock);
  return NS_SUCCEEDED(rv) ? v.i : fallback;
}

XPCOM_API(bool) xpcom_prefs_get_bool(const char *name, bool fallback) {
  if (!name || !g_lock)
    return fallback;
  pref_value v;
  PR_Lock(g_lock);
  nsresult rv = get_value(name, PT_BOOL, false, &v);
  PR_Unlock(g_lock);
  return NS_SUCCEEDED(rv) ? v.b : fallback;
}

XPCOM_API(char *) xpcom_prefs_get_char(const char *name, const char *fallback) {
  pref_value v = {0, false, NULL};
  nsresult rv = NS_ERROR_NOT_INITIALIZED;
  if (name && g_lock) {
    PR_Lock(g_lock);
    rv = get_value(name, PT_STRING, false, &v);
    PR_Unlock(g_lock);
  }
  if (NS_SUCCEEDED(rv))
    return v.s;
  return xpcom_strdup(fallback);
}

static nsresult set_and_notify(const char *name, pref_type t,
                               const pref_value *v, bool as_default) {
  if (!name || !*name || (t == PT_STRING && !v->s))
    return NS_ERROR_INVALID_ARG;
  if (!g_lock)
    return NS_ERROR_NOT_INITIALIZED;
  bool changed;
  PR_Lock(g_lock);
  nsresult rv = set_value(name, t, v, as_default, &changed);
  PR_Unlock(g_lock);
  if (NS_SUCCEEDED(rv) && changed)
    notify_changed(name);
  return rv;
}

XPCOM_API(nsresult) xpcom_prefs_set_int(const char *name, int32_t value) {
  pref_value v = {value, false, NULL};
  return set_and_notify(name, PT_INT, &v, false);
}

XPCOM_API(nsresult) xpcom_prefs_set_bool(const char *name, bool value) {
  pref_value v = {0, value, NULL};
  return set_and_notify(name, PT_BOOL, &v, false);
}

XPCOM_API(nsresult) xpcom_prefs_set_char(const char *name, const char *value) {
  pref_value v = {0, false, (char *)value};
  return set_and_notify(name, PT_STRING, &v, false);
}

static nsresult clear_user(const char *name) {
  if (!name)
    return NS_ERROR_INVALID_ARG;
  if (!g_lock)
    return NS_ERROR_NOT_INITIALIZED;
  bool changed = false;
  nsresult rv = NS_OK;
  PR_Lock(g_lock);
  if (!g_live) {
    rv = NS_ERROR_NOT_INITIALIZED;
  } else {
    pref *p = find_pref(name);
    if (p && p->has_user) {
      changed = !p->locked &&
                !(p->has_default && value_equal(p->type, &p->def, &p->user));
      value_clear(&p->user);
      p->has_user = false;
      g_dirty = true;
      if (!p->has_default)
        remove_pref(p);
    }
  }
  PR_Unlock(g_lock);
  if (changed)
    notify_changed(name);
  return rv;
}

XPCOM_API(nsresult) xpcom_prefs_clear(const char *name) {
  return clear_user(name);
}

/* ---- branch objects --------------------------------------------------------------- */

struct prefs_object {
  nsIPrefService svc;   /* identity of the service */
  nsIPrefBranch branch; /* identity of a plain branch */
  uint32_t refcnt;
  bool is_service;
  bool is_default;
  char *root;
  size_t root_len;
};

static const xpcom_qi_entry service_qi[] = {
    XPCOM_QI_ENTRY(prefs_object, svc, nsIPrefService_IID),
    XPCOM_QI_ENTRY(prefs_object, branch, nsIPrefBranch_IID), XPCOM_QI_END};
static const xpcom_qi_entry branch_qi[] = {
    XPCOM_QI_ENTRY(prefs_object, branch, nsIPrefBranch_IID), XPCOM_QI_END};

static bool prefs_object_addref_if_alive(prefs_object *o) {
  uint32_t n = __atomic_load_n(&o->refcnt, __ATOMIC_RELAXED);
  while (n != 0)
    if (__atomic_compare_exchange_n(&o->refcnt, &n, n + 1, true,
                                    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
      return true;
  return false;
}

static void prefs_object_release(prefs_object *o) {
  if (xpcom_refcnt_dec(&o->refcnt) == 0) {
    remove_observers_of(o);
    free(o->root);
    if (o->is_service)
      xpcom_leak_dtor("nsPrefService", sizeof *o);
    else
      xpcom_leak_dtor("nsPrefBranch", sizeof *o);
    free(o);
  }
}

static nsIPrefBranch *prefs_object_branch(prefs_object *o) {
  return &o->branch;
}
static size_t prefs_object_root_len(prefs_object *o) { return o->root_len; }

#define FROM_BRANCH(self) XPCOM_CONTAINER_OF(self, prefs_object, branch)
#define FROM_SERVICE(self) XPCOM_CONTAINER_OF(self, prefs_object, svc)

static const nsIPrefBranchVtbl branch_vtbl;
static const nsIPrefServiceVtbl service_vtbl;

static prefs_object *prefs_object_new(const char *root, bool is_default,
                                      bool is_service) {
  prefs_object *o = calloc(1, sizeof *o);
  if (!o)
    return NULL;
  if (!(o->root = xpcom_strdup(root ? root : ""))) {
    free(o);
    return NULL;
  }
  o->svc.vtbl = &service_vtbl;
  o->branch.vtbl = &branch_vtbl;
  o->refcnt = 1;
  o->is_service = is_service;
  o->is_default = is_default;
  o->root_len = strlen(o->root);
  if (is_service)
    xpcom_leak_ctor("nsPrefService", sizeof *o);
  else
    xpcom_leak_ctor("nsPrefBranch", sizeof *o);
  return o;
}

/* root + name, malloc'd; NULL for a NULL name or out of memory. */
static char *full_name(prefs_object *o, const char *name) {
  if (!name)
    return NULL;
  size_t n = o->root_len + strlen(name) + 1;
  char *f = malloc(n);
  if (f) {
    memcpy(f, o->root, o->root_len);
    strcpy(f + o->root_len, name);
  }
  return f;
}

static nsresult br_QueryInterface(nsIPrefBranch *self, const nsIID *iid,
                                  void **result) {
  prefs_object *o = FROM_BRANCH(self);
  return xpcom_table_qi(o, o->is_service ? service_qi : branch_qi, iid,
                        result);
}
static nsrefcnt br_AddRef(nsIPrefBranch *self) {
  return xpcom_refcnt_inc(&FROM_BRANCH(self)->refcnt);
}
static nsrefcnt br_Release(nsIPrefBranch *self) {
  prefs_object *o = FROM_BRANCH(self);
  uint32_t before = __atomic_load_n(&o->refcnt, __ATOMIC_RELAXED);
  prefs_object_release(o);
  return before - 1;
}

static nsresult br_GetRoot(nsIPrefBranch *self, char **result) {
  if (!result)
    return NS_ERROR_NULL_POINTER;
  prefs_object *o = FROM_BRANCH(self);
  *result = NS_Alloc(o->root_len + 1);
  if (!*result)
    return NS_ERROR_OUT_OF_MEMORY;
  memcpy(*result, o->root, o->root_len + 1);
  return NS_OK;
}

static nsresult br_GetPrefType(nsIPrefBranch *self, const char *name,
                               int32_t *result) {
  if (!name || !result)
    return NS_ERROR_INVALID_ARG;
  char *full = full_name(FROM_BRANCH(self), name);
  if (!full)
    return NS_ERROR_OUT_OF_MEMORY;
  PR_Lock(g_lock);
  pref *p = g_live ? find_pref(full) : NULL;
  *result = p ? (int32_t)p->type : PT_INVALID;
  PR_Unlock(g_lock);
  free(full);
  return NS_OK;
}

static nsresult branch_get(nsIPrefBranch *self, const char *name,
                           pref_type t, pref_value *out) {
  if (!name)
    return NS_ERROR_INVALID_ARG;
  prefs_object *o = FROM_BRANCH(self);
  char *full = full_name(o, name);
  if (!full)
    return NS_ERROR_OUT_OF_MEMORY;
  PR_Lock(g_lock);
  nsresult rv = get_value(full, t, o->is_default, out);
  PR_Unlock(g_lock);
  free(full);
  return rv;
}

static nsresult branch_set(nsIPrefBranch *self, const char *name, pref_type t,
                           const pref_value *v) {
  if (!name)
    return NS_ERROR_INVALID_ARG;
  prefs_object *o = FROM_BRANCH(self);
  char *full = full_name(o, name);
  if (!full)
    return NS_ERROR_OUT_OF_MEMORY;
  nsresult rv = set_and_notify(full, t, v, o->is_default);
  free(full);
  return rv;
}

static nsresult br_GetBoolPref(nsIPrefBranch *self, const char *name,
                               bool *result) {
  if (!result)
    return NS_ERROR_NULL_POINTER;
  pref_value v;
  nsresult rv = branch_get(self, name, PT_BOOL, &v);
  if (NS_SUCCEEDED(rv))
    *result = v.b;
  return rv;
}

static nsresult br_GetBoolPrefWithDefault(nsIPrefBranch *self,
                                          const char *name, bool def,
                                          uint8_t argc, bool *result) {
  nsresult rv = br_GetBoolPref(self, name, result);
  if (NS_FAILED(rv) && argc >= 1 && result) {
    *result = def;
    return NS_OK;
  }
  return rv;
}

static nsresult br_SetBoolPref(nsIPrefBranch *self, const char *name,
                               bool value) {
  pref_value v = {0, value, NULL};
  return branch_set(self, name, PT_BOOL, &v);
}

static nsresult br_GetCharPref(nsIPrefBranch *self, const char *name,
                               char **result) {
  if (!result)
    return NS_ERROR_NULL_POINTER;
  *result = NULL;
  pref_value v;
  nsresult rv = branch_get(self, name, PT_STRING, &v);
  if (NS_FAILED(rv))
    return rv;
  /* Out strings are NS_Alloc'd (caller NS_Free's them). */
  size_t n = strlen(v.s) + 1;
  *result = NS_Alloc(n);
  if (*result)
    memcpy(*result, v.s, n);
  free(v.s);
  return *result ? NS_OK : NS_ERROR_OUT_OF_MEMORY;
}

static nsresult br_GetCharPrefWithDefault(nsIPrefBranch *self,
                                          const char *name, const char *def,
                                          uint8_t argc, char **result) {
  nsresult rv = br_GetCharPref(self, name, result);
  if (NS_FAILED(rv) && rv != NS_ERROR_OUT_OF_MEMORY && argc >= 1 && result) {
    if (!def)
      return NS_ERROR_INVALID_ARG;
    size_t n = strlen(def) + 1;
    *result = NS_Alloc(n);
    if (!*result)
      return NS_ERROR_OUT_OF_MEMORY;
    memcpy(*result, def, n);
    return NS_OK;
  }
  return rv;
}

static nsresult br_SetCharPref(nsIPrefBranch *self, const char *name,
                               const char *value) {
  if (!value)
    return NS_ERROR_INVALID_ARG;
  pref_value v = {0, false, (char *)value};
  return branch_set(self, name, PT_STRING, &v);
}

/* Gecko stores floats as string prefs and parses them on read. */
static nsresult br_GetFloatPref(nsIPrefBranch *self, const char *name,
                                float *result) {
  if (!result)
    return NS_ERROR_NULL_POINTER;
  pref_value v;
  nsresult rv = branch_get(self, name, PT_STRING, &v);
  if (NS_FAILED(rv))
    return rv;
  char *end;
  errno = 0;
  float f = strtof(v.s, &end);
  bool ok = end != v.s && *end == '\0' && errno == 0;
  free(v.s);
  if (!ok)
    return NS_ERROR_ILLEGAL_VALUE;
  *result = f;
  return NS_OK;
}

static nsresult br_GetFloatPrefWithDefault(nsIPrefBranch *self,
                                           const char *name, float def,
                                           uint8_t argc, float *result) {
  nsresult rv = br_GetFloatPref(self, name, result);
  if (NS_FAILED(rv) && argc >= 1 && result) {
    *result = def;
    return NS_OK;
  }
  return rv;
}

static nsresult br_GetIntPref(nsIPrefBranch *self, const char *name,
                              int32_t *result) {
  if (!result)
    return NS_ERROR_NULL_POINTER;
  pref_value v;
  nsresult rv = branch_get(self, name, PT_INT, &v);
  if (NS_SUCCEEDED(rv))
    *result = v.i;
  return rv;
}

static nsresult br_GetIntPrefWithDefault(nsIPrefBranch *self,
                                         const char *name, int32_t def,
                                         uint8_t argc, int32_t *result) {
  nsresult rv = br_GetIntPref(self, name, result);
  if (NS_FAILED(rv) && argc >= 1 && result) {
    *result = def;
    return NS_OK;
  }
  return rv;
}

static nsresult br_SetIntPref(nsIPrefBranch *self, const char *name,
                              int32_t value) {
  pref_value v = {value, false, NULL};
  return branch_set(self, name, PT_INT, &v);
}

/* nsISupportsString / nsIPrefLocalizedString / nsIFile do not exist here. */
static nsresult br_GetComplexValue(nsIPrefBranch *self, const char *name,
                                   const nsIID *type, void **result) {
  if (result)
    *result = NULL;
  return NS_ERROR_NOT_IMPLEMENTED;
}
static nsresult br_SetComplexValue(nsIPrefBranch *self, const char *name,
                                   const nsIID *type, nsISupports *value) {
  return NS_ERROR_NOT_IMPLEMENTED;
}

static nsresult br_ClearUserPref(nsIPrefBranch *self, const char *name) {
  if (!name)
    return NS_ERROR_INVALID_ARG;
  char *full = full_name(FROM_BRANCH(self), name);
  if (!full)
    return NS_ERROR_OUT_OF_MEMORY;
  nsresult rv = clear_user(full);
  free(full);
  return rv;
}

static nsresult set_locked(nsIPrefBranch *self, const char *name, bool lock) {
  if (!name)
    return NS_ERROR_INVALID_ARG;
  char *full = full_name(FROM_BRANCH(self), name);
  if (!full)
    return NS_ERROR_OUT_OF_MEMORY;
  nsresult rv = NS_OK;
  bool changed = false;
  PR_Lock(g_lock);
  pref *p = g_live ? find_pref(full) : NULL;
  if (!p) {
    rv = NS_ERROR_UNEXPECTED;
  } else if (p->locked != lock) {
    p->locked = lock;
    changed = p->has_user &&
              !(p->has_default && value_equal(p->type, &p->def, &p->user));
  }
  PR_Unlock(g_lock);
  if (changed)
    notify_changed(full);
  free(full);
  return rv;
}

static nsresult br_LockPref(nsIPrefBranch *self, const char *name) {
  return set_locked(self, name, true);
}
static nsresult br_UnlockPref(nsIPrefBranch *self, const char *name) {
  return set_locked(self, name, false);
}

static nsresult pref_flag(nsIPrefBranch *self, const char *name, bool *result,
                          bool want_locked) {
  if (!name || !result)
    return NS_ERROR_INVALID_ARG;
  char *full = full_name(FROM_BRANCH(self), name);
  if (!full)
    return NS_ERROR_OUT_OF_MEMORY;
  PR_Lock(g_lock);
  pref *p = g_live ? find_pref(full) : NULL;
  *result = p && (want_locked ? p->locked : p->has_user);
  PR_Unlock(g_lock);
  free(full);
  return NS_OK;
}

static nsresult br_PrefHasUserValue(nsIPrefBranch *self, const char *name,
                                    bool *result) {
  return pref_flag(self, name, result, false);
}
static nsresult br_PrefIsLocked(nsIPrefBranch *self, const char *name,
                                bool *result) {
  return pref_flag(self, name, result, true);
}

/* Gecko: deletes `branch` itself and everything under `branch.`. */
static nsresult br_DeleteBranch(nsIPrefBranch *self, const char *start) {
  if (!start)
    return NS_ERROR_INVALID_ARG;
  char *full = full_name(FROM_BRANCH(self), start);
  if (!full)
    return NS_ERROR_OUT_OF_MEMORY;
  size_t len = strlen(full);
  bool dotted = len > 0 && full[len - 1] == '.';
  size_t base = dotted ? len - 1 : len;
  PR_Lock(g_lock);
  for (size_t i = 0; g_live && i < g_count;) {
    const char *n = g_prefs[i].name;
    bool under = !strncmp(n, full, base) &&
                 (n[base] == '.' || (n[base] == '\0' && len > 0));
    if (under) {
      remove_pref(&g_prefs[i]);
      g_dirty = true;
    } else {
      i++;
    }
  }
  PR_Unlock(g_lock);
  free(full);
  return NS_OK;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static nsresult br_GetChildList(nsIPrefBranch *self, const char *start,
                                uint32_t *count, char ***result) {
  if (!start || !count || !result)
    return NS_ERROR_INVALID_ARG;
  *count = 0;
  *result = NULL;
  prefs_object *o = FROM_BRANCH(self);
  char *full = full_name(o, start);
  if (!full)
    return NS_ERROR_OUT_OF_MEMORY;
  size_t flen = strlen(full);
  nsresult rv = NS_OK;
  char **list = NULL;
  uint32_t n = 0;
  PR_Lock(g_lock);
  for (size_t i = 0; g_live && i < g_count; i++)
    if (!strncmp(g_prefs[i].name, full, flen))
      n++;
  if (n) {
    list = NS_Alloc(n * sizeof *list);
    uint32_t k = 0;
    for (size_t i = 0; list && i < g_count; i++) {
      if (strncmp(g_prefs[i].name, full, flen))
        continue;
      const char *rel = g_prefs[i].name + o->root_len;
      size_t rl = strlen(rel) + 1;
      if (!(list[k] = NS_Alloc(rl)))
        break;
      memcpy(list[k++], rel, rl);
    }
    if (!list || k != n) {
      for (uint32_t j = 0; list && j < k; j++)
        NS_Free(list[j]);
      NS_Free(list);
      list = NULL;
      n = 0;
      rv = NS_ERROR_OUT_OF_MEMORY;
    }
  }
  PR_Unlock(g_lock);
  free(full);
  if (n)
    qsort(list, n, sizeof *list, cmp_str);
  *count = n;
  *result = list;
  return rv;
}

static nsresult br_ResetBranch(nsIPrefBranch *self, const char *start) {
  return NS_ERROR_NOT_IMPLEMENTED; /* as in Gecko */
}

static nsresult br_AddObserver(nsIPrefBranch *self, const char *domain,
                               nsIObserver *observer, bool weak) {
  if (!domain || !observer)
    return NS_ERROR_INVALID_ARG;
  prefs_object *o = FROM_BRANCH(self);
  pref_observer *po = calloc(1, sizeof *po);
  if (!po || !(po->domain = full_name(o, domain))) {
    free(po);
    return NS_ERROR_OUT_OF_MEMORY;
  }
  if (weak) /* no weak references here: held strongly until removed */
    XPCOM_LOG(g_log, XPCOM_LOG_DEBUG,
              ("pref observer for %s held strongly (weak requested)",
               po->domain));
  NS_ADDREF(observer);
  po->observer = observer;
  po->branch = o;
  PR_Lock(g_lock);
  po->next = g_observers;
  g_observers = po;
  PR_Unlock(g_lock);
  return NS_OK;
}

static nsresult br_RemoveObserver(nsIPrefBranch *self, const char *domain,
                                  nsIObserver *observer) {
  if (!domain || !observer)
    return NS_ERROR_INVALID_ARG;
  prefs_object *o = FROM_BRANCH(self);
  char *full = full_name(o, domain);
  if (!full)
    return NS_ERROR_OUT_OF_MEMORY;
  pref_observer *found = NULL;
  PR_Lock(g_lock);
  for (pref_observer **pp = &g_observers; *pp; pp = &(*pp)->next) {
    pref_observer *po = *pp;
    if (po->branch == o && po->observer == observer &&
        !strcmp(po->domain, full)) {
      *pp = po->next;
      found = po;
      break;
    }
  }
  PR_Unlock(g_lock);
  free(full);
  if (found) {
    NS_RELEASE(found->observer);
    free(found->domain);
    free(found);
  }
  return NS_OK;
}

static const nsIPrefBranchVtbl branch_vtbl = {
    .QueryInterface = br_QueryInterface,
    .AddRef = br_AddRef,
    .Release = br_Release,
    .GetRoot = br_GetRoot,
    .GetPrefType = br_GetPrefType,
    .GetBoolPrefWithDefault = br_GetBoolPrefWithDefault,
    .GetBoolPref = br_GetBoolPref,
    .SetBoolPref = br_SetBoolPref,
    .GetFloatPrefWithDefault = br_GetFloatPrefWithDefault,
    .GetFloatPref = br_GetFloatPref,
    .GetCharPrefWithDefault = br_GetCharPrefWithDefault,
    .GetCharPref = br_GetCharPref,
    .SetCharPref = br_SetCharPref,
    .GetIntPrefWithDefault = br_GetIntPrefWithDefault,
    .GetIntPref = br_GetIntPref,
    .SetIntPref = br_SetIntPref,
    .GetComplexValue = br_GetComplexValue,
    .SetComplexValue = br_SetComplexValue,
    .ClearUserPref = br_ClearUserPref,
    .LockPref = br_LockPref,
    .PrefHasUserValue = br_PrefHasUserValue,
    .PrefIsLocked = br_PrefIsLocked,
    .UnlockPref = br_UnlockPref,
    .DeleteBranch = br_DeleteBranch,
    .GetChildList = br_GetChildList,
    .ResetBranch = br_ResetBranch,
    .AddObserver = br_AddObserver,
    .RemoveObserver = br_RemoveObserver,
};

/* ---- nsIPrefService -------------------------------------------------------------- */

static nsresult svc_QueryInterface(nsIPrefService *self, const nsIID *iid,
                                   void **result) {
  return xpcom_table_qi(FROM_SERVICE(self), service_qi, iid, result);
}
static nsrefcnt svc_AddRef(nsIPrefService *self) {
  return xpcom_refcnt_inc(&FROM_SERVICE(self)->refcnt);
}
static nsrefcnt svc_Release(nsIPrefService *self) {
  prefs_object *o = FROM_SERVICE(self);
  uint32_t before = __atomic_load_n(&o->refcnt, __ATOMIC_RELAXED);
  prefs_object_release(o);
  return before - 1;
}

static nsresult svc_ReadUserPrefs(nsIPrefService *self, nsIFile *file) {
  return NS_ERROR_NOT_IMPLEMENTED; /* no nsIFile, no profile */
}

static nsresult svc_ResetPrefs(nsIPrefService *self) {
  if (!g_lock)
    return NS_ERROR_NOT_INITIALIZED;
  PR_Lock(g_lock);
  if (g_live) {
    clear_table();
    install_defaults();
    g_dirty = false;
  }
  PR_Unlock(g_lock);
  return NS_OK;
}

static nsresult svc_ResetUserPrefs(nsIPrefService *self) {
  if (!g_lock)
    return NS_ERROR_NOT_INITIALIZED;
  char **names = NULL;
  size_t n = 0;
  PR_Lock(g_lock);
  if (g_live && g_count)
    names = calloc(g_count, sizeof *names);
  for (size_t i = 0; g_live && i < g_count;) {
    pref *p = &g_prefs[i];
    if (!p->has_user) {
      i++;
      continue;
    }
    if (names && !p->locked)
      names[n++] = xpcom_strdup(p->name);
    value_clear(&p->user);
    p->has_user = false;
    if (!p->has_default)
      remove_pref(p);
    else
      i++;
  }
  g_dirty = true;
  PR_Unlock(g_lock);
  for (size_t i = 0; i < n; i++) {
    if (names[i])
      notify_changed(names[i]);
    free(names[i]);
  }
  free(names);
  return NS_OK;
}

static nsresult svc_SavePrefFile(nsIPrefService *self, nsIFile *file) {
  return NS_ERROR_NOT_IMPLEMENTED; /* nowhere to save to */
}

static nsresult make_branch(const char *root, bool is_default,
                            nsIPrefBranch **result) {
  if (!result)
    return NS_ERROR_NULL_POINTER;
  prefs_object *o = prefs_object_new(root, is_default, false);
  *result = o ? &o->branch : NULL;
  return o ? NS_OK : NS_ERROR_OUT_OF_MEMORY;
}

static nsresult svc_GetBranch(nsIPrefService *self, const char *root,
                              nsIPrefBranch **result) {
  return make_branch(root, false, result);
}

static nsresult svc_GetDefaultBranch(nsIPrefService *self, const char *root,
                                     nsIPrefBranch **result) {
  return make_branch(root, true, result);
}

static nsresult svc_GetDirty(nsIPrefService *self, bool *result) {
  if (!result)
    return NS_ERROR_NULL_POINTER;
  if (!g_lock)
    return NS_ERROR_NOT_INITIALIZED;
  PR_Lock(g_lock);
  *result = g_dirty;
  PR_Unlock(g_lock);
  return NS_OK;
}

static const nsIPrefServiceVtbl service_vtbl = {
    .QueryInterface = svc_QueryInterface,
    .AddRef = svc_AddRef,
    .Release = svc_Release,
    .ReadUserPrefs = svc_ReadUserPrefs,
    .ResetPrefs = svc_ResetPrefs,
    .ResetUserPrefs = svc_ResetUserPrefs,
    .SavePrefFile = svc_SavePrefFile,
    .GetBranch = svc_GetBranch,
    .GetDefaultBranch = svc_GetDefaultBranch,
    .GetDirty = svc_GetDirty,
};

nsresult xpcom_prefs_construct(nsISupports *outer, const nsIID *iid,
                               void **result) {
  *result = NULL;
  if (outer)
    return NS_ERROR_NO_AGGREGATION;
  prefs_object *o = prefs_object_new("", false, true);
  if (!o)
    return NS_ERROR_OUT_OF_MEMORY;
  nsresult rv = xpcom_table_qi(o, service_qi, iid, result);
  prefs_object_release(o);
  return rv;
}

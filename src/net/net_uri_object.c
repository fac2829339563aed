/*
 * net_uri_object.c — nsIURI over net_uri. Each object holds one immutable
 * net_uri behind a lock; getters copy out of it, setters build a new value
 * with net_uri_with() and swap it in.
 */
#include "net/net_uri_object.h"

#include <prlock.h>
#include <stdlib.h>
#include <string.h>

#include "nsError.h"
#include "nsXPCOMStrings.h"
#include "xpcom_object.h"

typedef struct net_uri_object {
  nsIURI iface; /* identity */
  uint32_t refcnt;
  PRLock *lock;
  net_uri *uri; /* guarded by lock; never NULL */
} net_uri_object;

static const nsIURIVtbl k_uri_vtbl;

static const xpcom_qi_entry k_uri_qi[] = {
  XPCOM_QI_ENTRY(net_uri_object, iface, nsIURI_IID),
  XPCOM_QI_END,
};

#define SELF(p) XPCOM_CONTAINER_OF((p), net_uri_object, iface)

nsresult net_uri_error_to_nsresult(int err) {
  switch (err) {
  case NET_URI_OK: return NS_OK;
  case NET_URI_ERR_UNKNOWN_SCHEME: return NS_ERROR_UNKNOWN_PROTOCOL;
  case NET_URI_ERR_NOMEM: return NS_ERROR_OUT_OF_MEMORY;
  case NET_URI_ERR_INVALID: return NS_ERROR_UNEXPECTED;
  case NET_URI_ERR_STATE: return NS_ERROR_FAILURE;
  default: return NS_ERROR_MALFORMED_URI;
  }
}

bool net_uri_object_is_ours(nsIURI *uri) { return uri && uri->vtbl == &k_uri_vtbl; }

/* A private copy of the current value, so that work on it (and on another
 * object's lock) happens without holding ours: no lock-order problems. */
static nsresult snapshot(net_uri_object *o, net_uri **out) {
  PR_Lock(o->lock);
  int rc = net_uri_clone(o->uri, out);
  PR_Unlock(o->lock);
  return net_uri_error_to_nsresult(rc);
}

/* ---- nsISupports ------------------------------------------------------- */

static nsresult uri_QueryInterface(nsIURI *self, const nsIID *iid, void **result) {
  return xpcom_table_qi(SELF(self), k_uri_qi, iid, result);
}

static nsrefcnt uri_AddRef(nsIURI *self) { return xpcom_refcnt_inc(&SELF(self)->refcnt); }

static nsrefcnt uri_Release(nsIURI *self) {
  net_uri_object *o = SELF(self);
  nsrefcnt n = xpcom_refcnt_dec(&o->refcnt);
  if (n == 0) {
    net_uri_free(o->uri);
    PR_DestroyLock(o->lock);
    free(o);
    XPCOM_LEAK_DTOR(net_uri_object);
  }
  return n;
}

/* ---- getters ------------------------------------------------------------ */

typedef net_uri_str (*part_fn)(const net_uri *);

static nsresult get_part(nsIURI *self, part_fn fn, nsACString *out) {
  if (!out) return NS_ERROR_NULL_POINTER;
  net_uri_object *o = SELF(self);
  PR_Lock(o->lock);
  net_uri_str s = fn(o->uri);
  nsresult rv = xpcom_cstring_assign(out, s.data, s.len);
  PR_Unlock(o->lock);
  return rv;
}

static net_uri_str whole_spec(const net_uri *u) {
  return (net_uri_str){net_uri_spec(u), net_uri_spec_len(u)};
}

static nsresult uri_GetSpec(nsIURI *self, nsACString *a) { return get_part(self, whole_spec, a); }
static nsresult uri_GetPrePath(nsIURI *self, nsACString *a) { return get_part(self, net_uri_prepath, a); }
static nsresult uri_GetScheme(nsIURI *self, nsACString *a) { return get_part(self, net_uri_scheme, a); }
static nsresult uri_GetUserPass(nsIURI *self, nsACString *a) { return get_part(self, net_uri_userpass, a); }
static nsresult uri_GetUsername(nsIURI *self, nsACString *a) { return get_part(self, net_uri_username, a); }
static nsresult uri_GetPassword(nsIURI *self, nsACString *a) { return get_part(self, net_uri_password, a); }
static nsresult uri_GetHostPort(nsIURI *self, nsACString *a) { return get_part(self, net_uri_hostport, a); }
static nsresult uri_GetHost(nsIURI *self, nsACString *a) { return get_part(self, net_uri_host, a); }
static nsresult uri_GetPath(nsIURI *self, nsACString *a) { return get_part(self, net_uri_path, a); }
/* The normal form is ASCII throughout: the ascii* attributes are the same
 * strings. */
static nsresult uri_GetAsciiSpec(nsIURI *self, nsACString *a) { return get_part(self, whole_spec, a); }
static nsresult uri_GetAsciiHostPort(nsIURI *self, nsACString *a) { return get_part(self, net_uri_hostport, a); }
static nsresult uri_GetAsciiHost(nsIURI *self, nsACString *a) { return get_part(self, net_uri_host, a); }
static nsresult uri_GetRef(nsIURI *self, nsACString *a) { return get_part(self, net_uri_ref, a); }
static nsresult uri_GetSpecIgnoringRef(nsIURI *self, nsACString *a) {
  return get_part(self, net_uri_spec_ignoring_ref, a);
}
static nsresult uri_GetFilePath(nsIURI *self, nsACString *a) { return get_part(self, net_uri_filepath, a); }
static nsresult uri_GetQuery(nsIURI *self, nsACString *a) { return get_part(self, net_uri_query, a); }

static nsresult uri_GetOriginCharset(nsIURI *self, nsACString *a) {
  if (!a) return NS_ERROR_NULL_POINTER;
  return xpcom_cstring_assign(a, "UTF-8", 5);
}

static nsresult uri_GetPort(nsIURI *self, int32_t *port) {
  if (!port) return NS_ERROR_NULL_POINTER;
  net_uri_object *o = SELF(self);
  PR_Lock(o->lock);
  *port = net_uri_port(o->uri);
  PR_Unlock(o->lock);
  return NS_OK;
}

static nsresult uri_GetHasRef(nsIURI *self, bool *has) {
  if (!has) return NS_ERROR_NULL_POINTER;
  net_uri_object *o = SELF(self);
  PR_Lock(o->lock);
  *has = net_uri_has_ref(o->uri);
  PR_Unlock(o->lock);
  return NS_OK;
}

static nsresult uri_SchemeIs(nsIURI *self, const char *scheme, bool *result) {
  if (!result) return NS_ERROR_NULL_POINTER;
  net_uri_object *o = SELF(self);
  PR_Lock(o->lock);
  *result = net_uri_scheme_is(o->uri, scheme);
  PR_Unlock(o->lock);
  return NS_OK;
}

/* ---- setters -------------------------------------------------------------- */

/* Replaces the value with `part` set to `value`, all under the lock so that
 * concurrent setters do not lose each other's changes. */
static nsresult set_part(nsIURI *self, net_uri_part part, const nsACString *value) {
  if (!value) return NS_ERROR_NULL_POINTER;
  net_uri_object *o = SELF(self);
  const char *data;
  uint32_t len = xpcom_cstring_get(value, &data);
  net_uri *next = NULL;
  PR_Lock(o->lock);
  int rc = net_uri_with(o->uri, part, data, len, &next);
  if (rc == NET_URI_OK) {
    net_uri_free(o->uri);
    o->uri = next;
  }
  PR_Unlock(o->lock);
  return net_uri_error_to_nsresult(rc);
}

static nsresult uri_SetSpec(nsIURI *self, const nsACString *a) { return set_part(self, NET_URI_SPEC, a); }
static nsresult uri_SetScheme(nsIURI *self, const nsACString *a) { return set_part(self, NET_URI_SCHEME, a); }
static nsresult uri_SetUserPass(nsIURI *self, const nsACString *a) { return set_part(self, NET_URI_USERPASS, a); }
static nsresult uri_SetUsername(nsIURI *self, const nsACString *a) { return set_part(self, NET_URI_USERNAME, a); }
static nsresult uri_SetPassword(nsIURI *self, const nsACString *a) { return set_part(self, NET_URI_PASSWORD, a); }
static nsresult uri_SetHostPort(nsIURI *self, const nsACString *a) { return set_part(self, NET_URI_HOSTPORT, a); }
static nsresult uri_SetHostAndPort(nsIURI *self, const nsACString *a) {
  return set_part(self, NET_URI_HOSTANDPORT, a);
}
static nsresult uri_SetHost(nsIURI *self, const nsACString *a) { return set_part(self, NET_URI_HOST, a); }
static nsresult uri_SetPath(nsIURI *self, const nsACString *a) { return set_part(self, NET_URI_PATH, a); }
static nsresult uri_SetRef(nsIURI *self, const nsACString *a) { return set_part(self, NET_URI_REF, a); }
static nsresult uri_SetFilePath(nsIURI *self, const nsACString *a) { return set_part(self, NET_URI_FILEPATH, a); }
static nsresult uri_SetQuery(nsIURI *self, const nsACString *a) { return set_part(self, NET_URI_QUERY, a); }

static nsresult uri_SetPort(nsIURI *self, int32_t port) {
  net_uri_object *o = SELF(self);
  net_uri *next = NULL;
  PR_Lock(o->lock);
  int rc = net_uri_with_port(o->uri, port, &next);
  if (rc == NET_URI_OK) {
    net_uri_free(o->uri);
    o->uri = next;
  }
  PR_Unlock(o->lock);
  return net_uri_error_to_nsresult(rc);
}

/* ---- comparison, cloning, resolution ------------------------------------ */

static nsresult equals_common(nsIURI *self, nsIURI *other, bool except_ref, bool *result) {
  if (!other || !result) return NS_ERROR_NULL_POINTER;
  *result = false;
  if (!net_uri_object_is_ours(other)) return NS_OK; /* Gecko: other classes differ */
  if (other == self) {
    *result = true;
    return NS_OK;
  }
  net_uri *theirs;
  nsresult rv = snapshot(SELF(other), &theirs);
  if (NS_FAILED(rv)) return rv;
  net_uri_object *o = SELF(self);
  PR_Lock(o->lock);
  *result = except_ref ? net_uri_equals_except_ref(o->uri, theirs) : net_uri_equals(o->uri, theirs);
  PR_Unlock(o->lock);
  net_uri_free(theirs);
  return NS_OK;
}

static nsresult uri_Equals(nsIURI *self, nsIURI *other, bool *result) {
  return equals_common(self, other, false, result);
}

static nsresult uri_EqualsExceptRef(nsIURI *self, nsIURI *other, bool *result) {
  return equals_common(self, other, true, result);
}

/* Clone with the ref kept (ref NULL), removed ("") or replaced. */
static nsresult clone_common(nsIURI *self, const nsACString *ref, nsIURI **result) {
  if (!result) return NS_ERROR_NULL_POINTER;
  *result = NULL;
  net_uri_object *o = SELF(self);
  net_uri *copy = NULL;
  int rc;
  PR_Lock(o->lock);
  if (ref) {
    const char *data;
    uint32_t len = xpcom_cstring_get(ref, &data);
    rc = net_uri_with(o->uri, NET_URI_REF, data, len, &copy);
  } else {
    rc = net_uri_clone(o->uri, &copy);
  }
  PR_Unlock(o->lock);
  if (rc != NET_URI_OK) return net_uri_error_to_nsresult(rc);
  return net_uri_object_wrap(copy, result);
}

static nsresult uri_Clone(nsIURI *self, nsIURI **result) { return clone_common(self, NULL, result); }

static nsresult uri_CloneIgnoringRef(nsIURI *self, nsIURI **result) {
  static const nsACString empty = {(char *)"", 0, NS_STRING_F_TERMINATED};
  return clone_common(self, &empty, result);
}

static nsresult uri_CloneWithNewRef(nsIURI *self, const nsACString *ref, nsIURI **result) {
  if (!ref) return NS_ERROR_NULL_POINTER;
  return clone_common(self, ref, result);
}

static nsresult uri_Resolve(nsIURI *self, const nsACString *rel, nsACString *out) {
  if (!rel || !out) return NS_ERROR_NULL_POINTER;
  net_uri_object *o = SELF(self);
  const char *data;
  uint32_t len = xpcom_cstring_get(rel, &data);
  char *abs = NULL;
  size_t abs_len = 0;
  PR_Lock(o->lock);
  int rc = net_uri_resolve(o->uri, data, len, &abs, &abs_len);
  PR_Unlock(o->lock);
  if (rc != NET_URI_OK) return net_uri_error_to_nsresult(rc);
  nsresult rv = xpcom_cstring_assign(out, abs, abs_len);
  free(abs);
  return rv;
}

/* Designated initialisers: a slot renamed in the IDL breaks the build
 * instead of shifting the vtable. */
static const nsIURIVtbl k_uri_vtbl = {
  .QueryInterface = uri_QueryInterface,
  .AddRef = uri_AddRef,
  .Release = uri_Release,
  .GetSpec = uri_GetSpec,
  .SetSpec = uri_SetSpec,
  .GetPrePath = uri_GetPrePath,
  .GetScheme = uri_GetScheme,
  .SetScheme = uri_SetScheme,
  .GetUserPass = uri_GetUserPass,
  .SetUserPass = uri_SetUserPass,
  .GetUsername = uri_GetUsername,
  .SetUsername = uri_SetUsername,
  .GetPassword = uri_GetPassword,
  .SetPassword = uri_SetPassword,
  .GetHostPort = uri_GetHostPort,
  .SetHostPort = uri_SetHostPort,
  .SetHostAndPort = uri_SetHostAndPort,
  .GetHost = uri_GetHost,
  .SetHost = uri_SetHost,
  .GetPort = uri_GetPort,
  .SetPort = uri_SetPort,
  .GetPath = uri_GetPath,
  .SetPath = uri_SetPath,
  .Equals = uri_Equals,
  .SchemeIs = uri_SchemeIs,
  .Clone = uri_Clone,
  .Resolve = uri_Resolve,
  .GetAsciiSpec = uri_GetAsciiSpec,
  .GetAsciiHostPort = uri_GetAsciiHostPort,
  .GetAsciiHost = uri_GetAsciiHost,
  .GetOriginCharset = uri_GetOriginCharset,
  .GetRef = uri_GetRef,
  .SetRef = uri_SetRef,
  .EqualsExceptRef = uri_EqualsExceptRef,
  .CloneIgnoringRef = uri_CloneIgnoringRef,
  .CloneWithNewRef = uri_CloneWithNewRef,
  .GetSpecIgnoringRef = uri_GetSpecIgnoringRef,
  .GetHasRef = uri_GetHasRef,
  .GetFilePath = uri_GetFilePath,
  .SetFilePath = uri_SetFilePath,
  .GetQuery = uri_GetQuery,
  .SetQuery = uri_SetQuery,
};

/* ---- construction -------------------------------------------------------- */

nsresult net_uri_object_wrap(net_uri *uri, nsIURI **result) {
  if (!result) {
    net_uri_free(uri);
    return NS_ERROR_NULL_POINTER;
  }
  *result = NULL;
  if (!uri) return NS_ERROR_NULL_POINTER;
  net_uri_object *o = calloc(1, sizeof *o);
  PRLock *lock = o ? PR_NewLock() : NULL;
  if (!lock) {
    free(o);
    net_uri_free(uri);
    return NS_ERROR_OUT_OF_MEMORY;
  }
  o->iface.vtbl = &k_uri_vtbl;
  o->refcnt = 1;
  o->lock = lock;
  o->uri = uri;
  XPCOM_LEAK_CTOR(net_uri_object);
  *result = &o->iface;
  return NS_OK;
}

/* Reads an nsIURI's spec into a malloc'd NUL-terminated copy. */
static nsresult foreign_spec(nsIURI *uri, char **out, size_t *out_len) {
  nsCStringContainer s;
  nsresult rv = NS_CStringContainerInit(&s);
  if (NS_FAILED(rv)) return rv;
  rv = uri->vtbl->GetSpec(uri, &s);
  if (NS_SUCCEEDED(rv)) {
    const char *data;
    uint32_t len = xpcom_cstring_get(&s, &data);
    *out = malloc((size_t)len + 1);
    if (*out) {
      memcpy(*out, data, len);
      (*out)[len] = '\0';
      *out_len = len;
    } else {
      rv = NS_ERROR_OUT_OF_MEMORY;
    }
  }
  NS_CStringContainerFinish(&s);
  return rv;
}

nsresult net_uri_from_nsIURI(nsIURI *uri, net_uri **out) {
  if (!out) return NS_ERROR_NULL_POINTER;
  *out = NULL;
  if (!uri) return NS_ERROR_NULL_POINTER;
  if (net_uri_object_is_ours(uri)) return snapshot(SELF(uri), out);
  char *spec = NULL;
  size_t len = 0;
  nsresult rv = foreign_spec(uri, &spec, &len);
  if (NS_FAILED(rv)) return rv;
  int rc = net_uri_parse(spec, len, NULL, out);
  free(spec);
  return net_uri_error_to_nsresult(rc);
}

nsresult NS_NewURI(nsIURI **result, const nsACString *spec, const char *charset, nsIURI *base) {
  if (!result) return NS_ERROR_NULL_POINTER;
  *result = NULL;
  if (!spec) return NS_ERROR_NULL_POINTER;
  (void)charset; /* always UTF-8, see the header */
  const char *data;
  uint32_t len = xpcom_cstring_get(spec, &data);
  net_uri *b = NULL, *u = NULL;
  int rc;

  if (base) {
    nsresult rv = net_uri_from_nsIURI(base, &b);
    if (rv == NS_ERROR_OUT_OF_MEMORY) return rv;
    if (NS_FAILED(rv)) {
      /* A base we cannot parse (another scheme, another implementation):
       * let it resolve the spec itself, as nsStandardURL::Init does. */
      nsCStringContainer abs;
      if (NS_FAILED(rv = NS_CStringContainerInit(&abs))) return rv;
      rv = base->vtbl->Resolve(base, spec, &abs);
      if (NS_SUCCEEDED(rv)) {
        const char *ad;
        uint32_t alen = xpcom_cstring_get(&abs, &ad);
        rc = net_uri_parse(ad, alen, NULL, &u);
        rv = net_uri_error_to_nsresult(rc);
      }
      NS_CStringContainerFinish(&abs);
      if (NS_FAILED(rv)) return rv;
      return net_uri_object_wrap(u, result);
    }
  }
  rc = net_uri_parse(data, len, b, &u);
  net_uri_free(b);
  if (rc != NET_URI_OK) return net_uri_error_to_nsresult(rc);
  return net_uri_object_wrap(u, result);
}

/*
 * xpt.c — the registry of interface type information (see xpt.h).
 *
 * Interfaces are kept in registration order in one array, indexed by two
 * open-addressing hash tables (IID and name) that store array index + 1.
 * One lock guards it all; the descriptors themselves are static and never
 * copied. The built-in list is registered by the first call of any entry
 * point (PR_CallOnce).
 */
#include <stdlib.h>
#include <string.h>

#include <prinit.h>
#include <prlock.h>

#include "nsError.h"
#include "nsID.h"
#include "xpt.h"

/* A malformed parent chain must not loop forever. */
#define MAX_DEPTH 64

static PRCallOnceType g_once;
static PRLock *g_lock;
static const XPTInterfaceInfo **g_list;
static size_t g_count, g_cap;
static uint32_t *g_by_iid, *g_by_name; /* index + 1; 0 = empty slot */
static size_t g_hcap;                   /* power of two, >= 2 * g_count */

static uint32_t hash_iid(const nsIID *iid)
{
  uint32_t h = iid->m0 ^ ((uint32_t)iid->m1 << 16) ^ iid->m2;
  for (int i = 0; i < 8; i++)
    h = h * 31u + iid->m3[i];
  return h ^ (h >> 15);
}

static uint32_t hash_name(const char *s)
{
  uint32_t h = 2166136261u; /* FNV-1a */
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 16777619u;
  }
  return h;
}

/* Caller holds the lock. */
static const XPTInterfaceInfo *find_iid_locked(const nsIID *iid)
{
  if (!g_hcap)
    return NULL;
  for (size_t i = hash_iid(iid) & (g_hcap - 1);; i = (i + 1) & (g_hcap - 1)) {
    uint32_t slot = g_by_iid[i];
    if (!slot)
      return NULL;
    if (nsID_Equals(&g_list[slot - 1]->iid, iid))
      return g_list[slot - 1];
  }
}

static const XPTInterfaceInfo *find_name_locked(const char *name)
{
  if (!g_hcap)
    return NULL;
  for (size_t i = hash_name(name) & (g_hcap - 1);; i = (i + 1) & (g_hcap - 1)) {
    uint32_t slot = g_by_name[i];
    if (!slot)
      return NULL;
    if (strcmp(g_list[slot - 1]->name, name) == 0)
      return g_list[slot - 1];
  }
}

static void index_locked(size_t idx)
{
  const XPTInterfaceInfo *info = g_list[idx];
  size_t i = hash_iid(&info->iid) & (g_hcap - 1);
  while (g_by_iid[i])
    i = (i + 1) & (g_hcap - 1);
  g_by_iid[i] = (uint32_t)idx + 1;
  i = hash_name(info->name) & (g_hcap - 1);
  while (g_by_name[i])
    i = (i + 1) & (g_hcap - 1);
  g_by_name[i] = (uint32_t)idx + 1;
}

/* Makes room for `extra` more interfaces; on failure nothing changes. */
static bool reserve_locked(size_t extra)
{
  size_t need = g_count + extra;
  if (need > UINT32_MAX / 4)
    return false;
  if (need > g_cap) {
    size_t cap = g_cap ? g_cap : 32;
    while (cap < need)
      cap *= 2;
    const XPTInterfaceInfo **list = realloc(g_list, cap * sizeof *list);
    if (!list)
      return false;
    g_list = list;
    g_cap = cap;
  }
  if (need * 2 > g_hcap) {
    size_t hcap = g_hcap ? g_hcap : 64;
    while (hcap < need * 2)
      hcap *= 2;
    uint32_t *by_iid = calloc(hcap, sizeof *by_iid);
    uint32_t *by_name = calloc(hcap, sizeof *by_name);
    if (!by_iid || !by_name) {
      free(by_iid);
      free(by_name);
      return false;
    }
    free(g_by_iid);
    free(g_by_name);
    g_by_iid = by_iid;
    g_by_name = by_name;
    g_hcap = hcap;
    for (size_t i = 0; i < g_count; i++)
      index_locked(i);
  }
  return true;
}

/* True when list[i] repeats an earlier entry of the same list exactly. */
static bool earlier_duplicate(const XPTInterfaceInfo *const *list, size_t i)
{
  for (size_t j = 0; j < i; j++) {
    if (nsID_Equals(&list[j]->iid, &list[i]->iid) &&
        strcmp(list[j]->name, list[i]->name) == 0)
      return true;
  }
  return false;
}

static nsresult register_locked(const XPTInterfaceInfo *const *list)
{
  size_t n = 0, fresh = 0;
  /* Validate everything first, so that an error adds nothing. */
  for (; list[n]; n++) {
    const XPTInterfaceInfo *info = list[n];
    if (!info->name || (info->num_methods && !info->methods) ||
        (info->num_constants && !info->constants))
      return NS_ERROR_ILLEGAL_VALUE;
    const XPTInterfaceInfo *by_iid = find_iid_locked(&info->iid);
    const XPTInterfaceInfo *by_name = find_name_locked(info->name);
    if (by_iid && strcmp(by_iid->name, info->name) != 0)
      return NS_ERROR_ILLEGAL_VALUE; /* IID taken by another name */
    if (by_name && !nsID_Equals(&by_name->iid, &info->iid))
      return NS_ERROR_ILLEGAL_VALUE; /* name taken by another IID */
    for (size_t j = 0; j < n; j++) {
      bool same_iid = nsID_Equals(&list[j]->iid, &info->iid);
      bool same_name = strcmp(list[j]->name, info->name) == 0;
      if (same_iid != same_name)
        return NS_ERROR_ILLEGAL_VALUE;
    }
    if (!by_iid && !earlier_duplicate(list, n))
      fresh++;
  }
  if (!fresh)
    return NS_OK;
  if (!reserve_locked(fresh))
    return NS_ERROR_OUT_OF_MEMORY;
  for (size_t i = 0; i < n; i++) {
    if (find_iid_locked(&list[i]->iid))
      continue;
    g_list[g_count] = list[i];
    index_locked(g_count);
    g_count++;
  }
  return NS_OK;
}

static PRStatus init_registry(void)
{
  g_lock = PR_NewLock();
  if (!g_lock)
    return PR_FAILURE;
  /* The generated index is consistent by construction; should it not be,
   * its interfaces are simply unknown rather than the process failing. */
  PR_Lock(g_lock);
  (void)register_locked(xpt_builtin_interfaces);
  PR_Unlock(g_lock);
  return PR_SUCCESS;
}

static bool lock_registry(void)
{
  if (PR_CallOnce(&g_once, init_registry) != PR_SUCCESS || !g_lock)
    return false;
  PR_Lock(g_lock);
  return true;
}

XPCOM_API(const XPTInterfaceInfo *) XPT_GetInterfaceByIID(const nsIID *iid)
{
  if (!iid || !lock_registry())
    return NULL;
  const XPTInterfaceInfo *info = find_iid_locked(iid);
  PR_Unlock(g_lock);
  return info;
}

XPCOM_API(const XPTInterfaceInfo *) XPT_GetInterfaceByName(const char *name)
{
  if (!name || !lock_registry())
    return NULL;
  const XPTInterfaceInfo *info = find_name_locked(name);
  PR_Unlock(g_lock);
  return info;
}

XPCOM_API(const XPTInterfaceInfo *) XPT_GetParent(const XPTInterfaceInfo *info)
{
  if (!info || !info->parent)
    return NULL;
  return XPT_GetInterfaceByName(info->parent);
}

XPCOM_API(const XPTMethodDescriptor *)
XPT_FindMethod(const XPTInterfaceInfo *info, const char *name, bool want_setter,
               uint16_t *vtable_index)
{
  if (!name)
    return NULL;
  int depth = 0;
  for (const XPTInterfaceInfo *cur = info; cur && depth < MAX_DEPTH;
       cur = XPT_GetParent(cur), depth++) {
    for (uint16_t i = 0; i < cur->num_methods; i++) {
      const XPTMethodDescriptor *m = &cur->methods[i];
      if (!m->name || strcmp(m->name, name) != 0)
        continue;
      /* An attribute has a getter and maybe a setter under one name;
       * a plain method only answers the getter-side look-up. */
      bool is_setter = (m->flags & XPT_MD_SETTER) != 0;
      if (is_setter != want_setter)
        continue;
      if (vtable_index)
        *vtable_index = (uint16_t)(cur->method_base + i);
      return m;
    }
  }
  return NULL;
}

XPCOM_API(const XPTConstDescriptor *)
XPT_FindConstant(const XPTInterfaceInfo *info, const char *name)
{
  if (!name)
    return NULL;
  int depth = 0;
  for (const XPTInterfaceInfo *cur = info; cur && depth < MAX_DEPTH;
       cur = XPT_GetParent(cur), depth++) {
    for (uint16_t i = 0; i < cur->num_constants; i++) {
      if (cur->constants[i].name && strcmp(cur->constants[i].name, name) == 0)
        return &cur->constants[i];
    }
  }
  return NULL;
}

XPCOM_API(nsresult) XPT_RegisterInterfaces(const XPTInterfaceInfo *const *list)
{
  if (!list)
    return NS_ERROR_NULL_POINTER;
  if (!lock_registry())
    return NS_ERROR_OUT_OF_MEMORY;
  nsresult rv = register_locked(list);
  PR_Unlock(g_lock);
  return rv;
}

XPCOM_API(void) XPT_ForEachInterface(void (*fn)(const XPTInterfaceInfo *, void *),
                                     void *closure)
{
  if (!fn || !lock_registry())
    return;
  /* Call fn on a snapshot, without the lock, so that it may look
   * interfaces up (or register more) itself. */
  size_t n = g_count;
  const XPTInterfaceInfo **snap = malloc((n ? n : 1) * sizeof *snap);
  if (snap && n)
    memcpy(snap, g_list, n * sizeof *snap);
  PR_Unlock(g_lock);
  if (!snap) {
    /* Out of memory: walk the live list by index instead. Entries are only
     * ever appended, so indices stay valid. */
    for (size_t i = 0;; i++) {
      PR_Lock(g_lock);
      const XPTInterfaceInfo *info = i < g_count ? g_list[i] : NULL;
      PR_Unlock(g_lock);
      if (!info || i >= n)
        break;
      fn(info, closure);
    }
    return;
  }
  for (size_t i = 0; i < n; i++)
    fn(snap[i], closure);
  free(snap);
}

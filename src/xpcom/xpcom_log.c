/*
 * xpcom_log.c — lazily created NSPR log modules, one per name.
 *
 * NSPR creates a fresh module on every PR_NewLogModule call, even for a
 * name it has seen; a small registry here makes every declaration of a
 * name share one module.
 */
#include <stdlib.h>
#include <string.h>

#include <prinit.h>
#include <prlock.h>

#include "xpcom_log.h"

typedef struct log_entry {
  struct log_entry *next;
  PRLogModuleInfo *info; /* info->name is NSPR's copy of the name */
} log_entry;

static PRCallOnceType g_once;
static PRLock *g_lock;
static log_entry *g_entries;

static PRStatus init_lock(void)
{
  g_lock = PR_NewLock();
  return g_lock ? PR_SUCCESS : PR_FAILURE;
}

XPCOM_API(PRLogModuleInfo *) xpcom_log_get(xpcom_log_module *m)
{
  PRLogModuleInfo *info = __atomic_load_n(&m->module, __ATOMIC_ACQUIRE);
  if (info)
    return info;
  if (PR_CallOnce(&g_once, init_lock) != PR_SUCCESS || !g_lock)
    return NULL;

  PR_Lock(g_lock);
  info = m->module; /* another thread may have won meanwhile */
  if (!info) {
    for (log_entry *e = g_entries; e; e = e->next) {
      if (strcmp(e->info->name, m->name) == 0) {
        info = e->info;
        break;
      }
    }
  }
  if (!info) {
    log_entry *e = malloc(sizeof *e);
    if (e) {
      e->info = PR_NewLogModule(m->name);
      if (e->info) {
        e->next = g_entries;
        g_entries = e;
        info = e->info;
      } else {
        free(e);
      }
    }
  }
  if (info)
    __atomic_store_n(&m->module, info, __ATOMIC_RELEASE);
  PR_Unlock(g_lock);
  return info;
}

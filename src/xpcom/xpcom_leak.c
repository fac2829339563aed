/*
 * xpcom_leak.c — per-class object accounting and the shutdown leak report.
 *
 * A small chained hash table keyed by class name, behind one NSPR lock.
 * Class names are copied: a component library may be unloaded before the
 * report is printed.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <prinit.h>
#include <prlock.h>

#include "xpcom_object.h"

#define NBUCKETS 64

typedef struct leak_class {
  struct leak_class *next;     /* bucket chain */
  struct leak_class *all_next; /* every class, in creation order */
  char *name;
  uint64_t created;
  uint64_t destroyed;
  uint64_t bytes_created;
  uint64_t bytes_destroyed;
} leak_class;

static PRCallOnceType g_once;
static PRLock *g_lock;
static leak_class *g_buckets[NBUCKETS];
static leak_class *g_all;
static leak_class **g_all_tail = &g_all;

static PRStatus init_lock(void)
{
  g_lock = PR_NewLock();
  return g_lock ? PR_SUCCESS : PR_FAILURE;
}

static bool lock(void)
{
  if (PR_CallOnce(&g_once, init_lock) != PR_SUCCESS || !g_lock)
    return false;
  PR_Lock(g_lock);
  return true;
}

static unsigned hash_name(const char *s)
{
  /* FNV-1a */
  uint32_t h = 2166136261u;
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 16777619u;
  }
  return h % NBUCKETS;
}

/* Caller holds the lock. NULL if the entry could not be allocated. */
static leak_class *find_or_add(const char *name)
{
  unsigned b = hash_name(name);
  for (leak_class *c = g_buckets[b]; c; c = c->next) {
    if (strcmp(c->name, name) == 0)
      return c;
  }
  leak_class *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  c->name = strdup(name);
  if (!c->name) {
    free(c);
    return NULL;
  }
  c->next = g_buckets[b];
  g_buckets[b] = c;
  *g_all_tail = c;
  g_all_tail = &c->all_next;
  return c;
}

static void record(const char *class_name, size_t size, bool ctor)
{
  if (!class_name)
    class_name = "(unnamed)";
  if (!lock())
    return;
  leak_class *c = find_or_add(class_name);
  if (c) {
    if (ctor) {
      c->created++;
      c->bytes_created += size;
    } else {
      c->destroyed++;
      c->bytes_destroyed += size;
    }
  }
  PR_Unlock(g_lock);
}

XPCOM_API(void) xpcom_leak_ctor(const char *class_name, size_t size)
{
  record(class_name, size, true);
}

XPCOM_API(void) xpcom_leak_dtor(const char *class_name, size_t size)
{
  record(class_name, size, false);
}

/* Objects alive (created - destroyed), 0 when over-destroyed. */
static uint64_t live_of(const leak_class *c)
{
  return c->created > c->destroyed ? c->created - c->destroyed : 0;
}

XPCOM_API(uint64_t) XPCOM_LeakLiveCount(void)
{
  uint64_t total = 0;
  if (!lock())
    return 0;
  for (leak_class *c = g_all; c; c = c->all_next)
    total += live_of(c);
  PR_Unlock(g_lock);
  return total;
}

XPCOM_API(uint64_t) XPCOM_LeakReport(FILE *out)
{
  uint64_t leaked = 0, over = 0, created = 0, classes = 0;
  bool bad = false;
  if (!lock())
    return 0;
  for (leak_class *c = g_all; c; c = c->all_next) {
    classes++;
    created += c->created;
    leaked += live_of(c);
    if (c->destroyed > c->created)
      over += c->destroyed - c->created;
    if (c->created != c->destroyed)
      bad = true;
  }

  if (out && bad) {
    fprintf(out, "== XPCOM leak report: objects alive at shutdown ==\n");
    fprintf(out, "%-40s %10s %14s %12s\n", "class", "live", "live bytes",
            "created");
    for (leak_class *c = g_all; c; c = c->all_next) {
      if (c->created == c->destroyed)
        continue;
      if (c->destroyed > c->created) {
        fprintf(out, "%-40s %10s %14s %12llu  (destroyed %llu times: "
                "more than created)\n", c->name, "-", "-",
                (unsigned long long)c->created,
                (unsigned long long)c->destroyed);
        continue;
      }
      uint64_t bytes = c->bytes_created > c->bytes_destroyed
                           ? c->bytes_created - c->bytes_destroyed : 0;
      fprintf(out, "%-40s %10llu %14llu %12llu\n", c->name,
              (unsigned long long)live_of(c), (unsigned long long)bytes,
              (unsigned long long)c->created);
    }
  }
  if (out) {
    if (!bad) {
      fprintf(out, "TEST-PASS | leakcheck | no leaks (%llu objects of %llu "
              "classes created)\n", (unsigned long long)created,
              (unsigned long long)classes);
    } else {
      fprintf(out, "TEST-UNEXPECTED-FAIL | leakcheck | %llu objects leaked:",
              (unsigned long long)leaked);
      const char *sep = " ";
      for (leak_class *c = g_all; c; c = c->all_next) {
        if (c->created == c->destroyed)
          continue;
        fprintf(out, "%s%s%s", sep, c->name,
                c->destroyed > c->created ? " (over-released)" : "");
        sep = ", ";
      }
      fputc('\n', out);
    }
    fflush(out);
  }
  PR_Unlock(g_lock);
  return leaked + over;
}

XPCOM_API(int) XPCOM_LeakReportFromEnv(void)
{
  const char *where = getenv("XPCOM_MEM_LEAK_LOG");
  uint64_t leaked;
  if (!where || !*where) {
    leaked = XPCOM_LeakReport(NULL);
  } else if (strcmp(where, "1") == 0) {
    leaked = XPCOM_LeakReport(stdout);
  } else if (strcmp(where, "2") == 0) {
    leaked = XPCOM_LeakReport(stderr);
  } else {
    FILE *f = fopen(where, "a");
    if (f) {
      leaked = XPCOM_LeakReport(f);
      fclose(f);
    } else {
      fprintf(stderr, "XPCOM_MEM_LEAK_LOG: cannot open %s; reporting here\n",
              where);
      leaked = XPCOM_LeakReport(stderr);
    }
  }
  return leaked > (uint64_t)INT_MAX ? INT_MAX : (int)leaked;
}

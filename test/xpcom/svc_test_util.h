/*
 * svc_test_util.h — helpers shared by the runtime-services tests
 * (threads, timers, components, manifests, prefs, observers).
 *
 * Each test runs in its own process (Check's fork mode) and brackets its
 * work with svc_init() / svc_shutdown(); the latter asserts that no object
 * is left alive.
 */
#ifndef SVC_TEST_UTIL_H
#define SVC_TEST_UTIL_H

#include <check.h>
#include <fcntl.h>
#include <prthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nsXPCOM.h"
#include "xpcom_thread.h" /* before the generated headers (C natives) */
#include "nsError.h"
#include "nsID.h"
#include "nsMemory.h"
#include "xpcom_object.h"
#include "nsIComponentManager.h"
#include "nsIComponentRegistrar.h"
#include "nsIServiceManager.h"
#include "nsIEventTarget.h"
#include "nsIThread.h"
#include "nsIRunnable.h"

/* Boots XPCOM without the build tree's component manifests (they belong
 * to other tests) and checks that it worked. */
static inline void svc_init(void) {
  unsetenv("WSCHANNEL_MANIFEST");
  nsIServiceManager *sm = NULL;
  ck_assert_uint_eq(NS_InitXPCOM2(&sm, NULL, NULL), NS_OK);
  ck_assert_ptr_nonnull(sm);
  NS_RELEASE(sm);
}

/* Shuts XPCOM down and asserts that every object was destroyed. */
static inline void svc_shutdown(void) {
  ck_assert_uint_eq(NS_ShutdownXPCOM(NULL), NS_OK);
  if (XPCOM_LeakLiveCount() != 0)
    XPCOM_LeakReport(stderr);
  ck_assert_uint_eq(XPCOM_LeakLiveCount(), 0);
}

/* Runs the current thread's events until *flag is true (or ~10 s). */
static inline void svc_spin_until(atomic_bool *flag) {
  for (int i = 0; i < 100000 && !atomic_load(flag); i++) {
    if (!NS_ProcessNextEvent(NULL, false))
      PR_Sleep(PR_MillisecondsToInterval(1));
  }
  ck_assert(atomic_load(flag));
}

/* ---- stderr capture -------------------------------------------------- */

typedef struct svc_capture {
  int saved_fd;
  FILE *file;
} svc_capture;

static inline void svc_capture_begin(svc_capture *c) {
  fflush(stderr);
  c->file = tmpfile();
  ck_assert_ptr_nonnull(c->file);
  c->saved_fd = dup(2);
  ck_assert_int_ge(c->saved_fd, 0);
  ck_assert_int_ge(dup2(fileno(c->file), 2), 0);
}

/* Restores stderr and returns what was written (malloc'd; free it). The
 * text is also echoed to the real stderr for the test log. */
static inline char *svc_capture_end(svc_capture *c) {
  fflush(stderr);
  ck_assert_int_ge(dup2(c->saved_fd, 2), 0);
  close(c->saved_fd);
  long len = ftell(c->file);
  ck_assert_int_ge(len, 0);
  char *text = malloc((size_t)len + 1);
  ck_assert_ptr_nonnull(text);
  rewind(c->file);
  size_t got = fread(text, 1, (size_t)len, c->file);
  text[got] = '\0';
  fclose(c->file);
  fputs(text, stderr);
  return text;
}

/* ---- a runnable counting its runs ------------------------------------ */

typedef struct svc_counter {
  atomic_int runs;
  atomic_int drops;
} svc_counter;

static inline void svc_count_run(void *arg) {
  atomic_fetch_add(&((svc_counter *)arg)->runs, 1);
}
static inline void svc_count_drop(void *arg) {
  atomic_fetch_add(&((svc_counter *)arg)->drops, 1);
}

#endif /* SVC_TEST_UTIL_H */

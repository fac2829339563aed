/*
 * xpcom_harness.h — starting and stopping XPCOM in Check tests that boot
 * it per test case, with the leak check every such test ends with.
 * Header-only (static functions); include it after <check.h>.
 */
#ifndef WSCHANNEL_TEST_XPCOM_HARNESS_H
#define WSCHANNEL_TEST_XPCOM_HARNESS_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "nsXPCOM.h"
#include "nsIServiceManager.h"
#include "xpcom_object.h"

/* NS_InitXPCOM2 without the build tree's manifest (these tests drive the
 * runtime and the transport directly, not the channel component). */
static inline void xh_boot(void) {
  unsetenv("WSCHANNEL_MANIFEST");
  nsIServiceManager *sm = NULL;
  ck_assert_uint_eq(NS_InitXPCOM2(&sm, NULL, NULL), NS_OK);
  NS_RELEASE(sm);
}

/* NS_ShutdownXPCOM, then fails the test on any live leak-counted object
 * (listing them on stderr first). */
static inline void xh_shut(void) {
  ck_assert_uint_eq(NS_ShutdownXPCOM(NULL), NS_OK);
  if (XPCOM_LeakLiveCount() != 0)
    XPCOM_LeakReport(stderr);
  ck_assert_uint_eq(XPCOM_LeakLiveCount(), 0);
}

#endif

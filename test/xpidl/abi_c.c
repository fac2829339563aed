/*
 * abi_c.c — the C half of the ABI test: nsITestAbi implemented with a C
 * vtable (called from C++ in abi_cpp.cpp), and a C caller of the C++
 * implementation. Built from the generated golden/xptestAbi.idl header.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xptestAbi.h"

nsITestAbi *abi_c_create(void);
int abi_c_live(void);
int abi_c_calls(nsITestAbi *obj);

/* ---- the C implementation ----------------------------------------- */

typedef struct AbiObj {
  nsITestAbi iface; /* first member: the object's identity */
  nsrefcnt refcnt;
  bool flag;
  char *name;  /* malloc'd, NUL-terminated */
  char *upper; /* backing store of the last Upper() result */
} AbiObj;

static int live_objects;

static AbiObj *from_iface(nsITestAbi *self) { return (AbiObj *)self; }

static void set_cstring(nsACString *s, char *data) {
  s->mData = data;
  s->mLength = (uint32_t)strlen(data);
  s->mFlags = NS_STRING_F_TERMINATED;
}

static nsresult c_QueryInterface(nsITestAbi *self, const nsIID *iid,
                                 void **result) {
  if (memcmp(iid, &nsITestAbi_IID, sizeof(*iid)) == 0 ||
      memcmp(iid, &nsISupports_IID, sizeof(*iid)) == 0) {
    self->vtbl->AddRef(self);
    *result = self;
    return 0;
  }
  *result = NULL;
  return 0x80004002u; /* NS_NOINTERFACE */
}

static nsrefcnt c_AddRef(nsITestAbi *self) { return ++from_iface(self)->refcnt; }

static nsrefcnt c_Release(nsITestAbi *self) {
  AbiObj *o = from_iface(self);
  nsrefcnt n = --o->refcnt;
  if (n == 0) {
    free(o->name);
    free(o->upper);
    free(o);
    live_objects--;
  }
  return n;
}

static nsresult c_GetFlag(nsITestAbi *self, bool *aFlag) {
  *aFlag = from_iface(self)->flag;
  return 0;
}

static nsresult c_SetFlag(nsITestAbi *self, bool aFlag) {
  from_iface(self)->flag = aFlag;
  return 0;
}

static nsresult c_GetBig(nsITestAbi *self, int64_t *aBig) {
  *aBig = -0x123456789abcdefLL;
  return 0;
}

static nsresult c_GetName(nsITestAbi *self, nsACString *aName) {
  set_cstring(aName, from_iface(self)->name);
  return 0;
}

static nsresult c_SetName(nsITestAbi *self, const nsACString *aName) {
  AbiObj *o = from_iface(self);
  char *copy = malloc(aName->mLength + 1);
  if (!copy)
    return 0x8007000Eu;
  memcpy(copy, aName->mData, aName->mLength);
  copy[aName->mLength] = '\0';
  free(o->name);
  o->name = copy;
  return 0;
}

static nsresult c_Add64(nsITestAbi *self, int64_t a, uint64_t b,
                        uint64_t *_retval) {
  *_retval = (uint64_t)a + b;
  return 0;
}

static nsresult c_Mix(nsITestAbi *self, bool b, uint8_t o, int16_t s,
                      double d, float f, char16_t w, int32_t l, uint64_t u,
                      double *sum, bool *_retval) {
  *sum = (double)o + s + d + f + w + l + (double)u;
  *_retval = b && *sum > 0;
  return 0;
}

static nsresult c_Concat(nsITestAbi *self, const char *a, const char *b,
                         char **_retval) {
  size_t la = strlen(a), lb = strlen(b);
  char *r = malloc(la + lb + 1);
  if (!r)
    return 0x8007000Eu;
  memcpy(r, a, la);
  memcpy(r + la, b, lb + 1);
  *_retval = r;
  return 0;
}

static nsresult c_Upper(nsITestAbi *self, const nsACString *input,
                        nsACString *output) {
  AbiObj *o = from_iface(self);
  char *r = malloc(input->mLength + 1);
  if (!r)
    return 0x8007000Eu;
  for (uint32_t i = 0; i < input->mLength; i++) {
    char c = input->mData[i];
    r[i] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
  }
  r[input->mLength] = '\0';
  free(o->upper);
  o->upper = r;
  set_cstring(output, r);
  return 0;
}

static nsresult c_GetChild(nsITestAbi *self, nsITestAbi **child) {
  *child = abi_c_create();
  return *child ? 0 : 0x8007000Eu;
}

static nsresult c_Self(nsITestAbi *self, nsITestAbi **_retval) {
  nsITestAbi_AddRef(self);
  *_retval = self;
  return 0;
}

static nsresult c_Twice(nsITestAbi *self, int32_t *value) {
  *value *= 2;
  return 0;
}

static int32_t c_Notx(nsITestAbi *self, int32_t a, int32_t b) {
  return a * 100 + b;
}

static bool c_NotxFlag(nsITestAbi *self) { return from_iface(self)->flag; }

/* Itanium C++ vtables are preceded by offset-to-top and RTTI words, which
 * dynamic_cast/typeid (and UBSan's vptr check) read; a C vtable reserves
 * them as zeros. C++ code calling C objects must therefore be built with
 * -fno-sanitize=vptr: there is no C++ type information to check. */
static const struct {
  intptr_t offset_to_top;
  const void *rtti;
  nsITestAbiVtbl vtbl;
} c_vtbl = {0, NULL, {
    .QueryInterface = c_QueryInterface,
    .AddRef = c_AddRef,
    .Release = c_Release,
    .GetFlag = c_GetFlag,
    .SetFlag = c_SetFlag,
    .GetBig = c_GetBig,
    .GetName = c_GetName,
    .SetName = c_SetName,
    .Add64 = c_Add64,
    .Mix = c_Mix,
    .Concat = c_Concat,
    .Upper = c_Upper,
    .GetChild = c_GetChild,
    .Self = c_Self,
    .Twice = c_Twice,
    .Notx = c_Notx,
    .NotxFlag = c_NotxFlag,
}};

nsITestAbi *abi_c_create(void) {
  AbiObj *o = calloc(1, sizeof(*o));
  if (!o)
    return NULL;
  o->name = malloc(sizeof("c-object"));
  if (!o->name) {
    free(o);
    return NULL;
  }
  memcpy(o->name, "c-object", sizeof("c-object"));
  o->iface.vtbl = &c_vtbl.vtbl;
  o->refcnt = 1;
  live_objects++;
  return &o->iface;
}

int abi_c_live(void) { return live_objects; }

/* ---- the C caller --------------------------------------------------- */

static int failures;

#define CHECK(cond)                                                        \
  do {                                                                     \
    if (!(cond)) {                                                         \
      fprintf(stderr, "abi_c.c:%d: check failed: %s\n", __LINE__, #cond);  \
      failures++;                                                          \
    }                                                                      \
  } while (0)

int abi_c_calls(nsITestAbi *obj) {
  failures = 0;
  bool flag = true;
  CHECK(nsITestAbi_SetFlag(obj, true) == 0);
  CHECK(nsITestAbi_GetFlag(obj, &flag) == 0 && flag);
  CHECK(nsITestAbi_NotxFlag(obj) == true);
  CHECK(nsITestAbi_SetFlag(obj, false) == 0);
  CHECK(nsITestAbi_GetFlag(obj, &flag) == 0 && !flag);

  int64_t big = 0;
  CHECK(nsITestAbi_GetBig(obj, &big) == 0 && big == -0x123456789abcdefLL);

  uint64_t sum64 = 0;
  CHECK(nsITestAbi_Add64(obj, -5, 0x100000000ULL, &sum64) == 0 &&
        sum64 == 0xFFFFFFFBULL);

  double sum = 0;
  bool positive = false;
  CHECK(nsITestAbi_Mix(obj, true, 200, -3, 0.5, 0.25f, u'A', -7,
                       10000000000ULL, &sum, &positive) == 0);
  CHECK(sum == 200 - 3 + 0.5 + 0.25 + 65 - 7 + 10000000000.0 && positive);

  char *cat = NULL;
  CHECK(nsITestAbi_Concat(obj, "foo", "bar", &cat) == 0 && cat &&
        strcmp(cat, "foobar") == 0);
  free(cat);

  char in_data[] = "hello, World";
  nsACString in = {in_data, (uint32_t)strlen(in_data), NS_STRING_F_TERMINATED};
  nsACString out = {NULL, 0, 0};
  CHECK(nsITestAbi_Upper(obj, &in, &out) == 0 && out.mLength == 12 &&
        memcmp(out.mData, "HELLO, WORLD", 12) == 0);

  char name_data[] = "renamed";
  nsACString name = {name_data, 7, NS_STRING_F_TERMINATED};
  nsACString got = {NULL, 0, 0};
  CHECK(nsITestAbi_SetName(obj, &name) == 0);
  CHECK(nsITestAbi_GetName(obj, &got) == 0 && got.mLength == 7 &&
        memcmp(got.mData, "renamed", 7) == 0);

  nsITestAbi *child = NULL;
  CHECK(nsITestAbi_GetChild(obj, &child) == 0 && child && child != obj);
  if (child) {
    CHECK(nsITestAbi_Notx(child, 3, 4) == 304);
    CHECK(nsITestAbi_Release(child) == 0);
  }
  nsITestAbi *same = NULL;
  CHECK(nsITestAbi_Self(obj, &same) == 0 && same == obj);
  if (same)
    nsITestAbi_Release(same);

  nsISupports *sup = NULL;
  CHECK(nsITestAbi_QueryInterface(obj, &nsISupports_IID, (void **)&sup) ==
            0 &&
        (void *)sup == (void *)obj);
  if (sup)
    nsISupports_Release(sup);
  static const nsIID other = {1, 2, 3, {4, 5, 6, 7, 8, 9, 10, 11}};
  void *none = &failures;
  CHECK(nsITestAbi_QueryInterface(obj, &other, &none) == 0x80004002u &&
        none == NULL);

  int32_t v = 21;
  CHECK(nsITestAbi_Twice(obj, &v) == 0 && v == 42);
  CHECK(nsITestAbi_Notx(obj, 12, 34) == 1234);
  CHECK(nsITestAbi_MAGIC == 0x12340);
  return failures;
}

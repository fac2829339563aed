/*
 * abi_cpp.cpp — the C++ half of the ABI test: calls the C implementation
 * (abi_c.c) through the generated C++ class, and implements the class in
 * C++ for abi_c.c to call through the C vtable macros.
 */
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "xptestAbi.h"

extern "C" nsITestAbi *abi_c_create(void);
extern "C" int abi_c_live(void);
extern "C" int abi_c_calls(nsITestAbi *obj);

static int failures;
static int cpp_live;

#define CHECK(cond)                                                        \
  do {                                                                     \
    if (!(cond)) {                                                         \
      std::fprintf(stderr, "abi_cpp.cpp:%d: check failed: %s\n", __LINE__, \
                   #cond);                                                 \
      failures++;                                                          \
    }                                                                      \
  } while (0)

static bool same_iid(const nsIID &a, const nsIID &b) {
  return std::memcmp(&a, &b, sizeof(a)) == 0;
}

/* ---- the C++ implementation ---------------------------------------- */

class CppAbi final : public nsITestAbi {
 public:
  CppAbi() { cpp_live++; }
  NS_DECL_NSISUPPORTS
  NS_DECL_NSITESTABI

 private:
  ~CppAbi() {
    std::free(mName);
    std::free(mUpper);
    cpp_live--;
  }
  static void Assign(nsACString &s, char *data) {
    s.mData = data;
    s.mLength = static_cast<uint32_t>(std::strlen(data));
    s.mFlags = NS_STRING_F_TERMINATED;
  }
  nsrefcnt mRefCnt = 1;
  bool mFlag = false;
  char *mName = strdup("cpp-object");
  char *mUpper = nullptr;
};

NS_IMETHODIMP CppAbi::QueryInterface(const nsIID &uuid, void **result) {
  if (same_iid(uuid, NS_GET_IID(nsITestAbi)) ||
      same_iid(uuid, NS_GET_IID(nsISupports))) {
    AddRef();
    *result = static_cast<nsITestAbi *>(this);
    return 0;
  }
  *result = nullptr;
  return 0x80004002u;
}
NS_IMETHODIMP_(nsrefcnt) CppAbi::AddRef(void) { return ++mRefCnt; }
NS_IMETHODIMP_(nsrefcnt) CppAbi::Release(void) {
  nsrefcnt n = --mRefCnt;
  if (n == 0)
    delete this;
  return n;
}
NS_IMETHODIMP CppAbi::GetFlag(bool *aFlag) {
  *aFlag = mFlag;
  return 0;
}
NS_IMETHODIMP CppAbi::SetFlag(bool aFlag) {
  mFlag = aFlag;
  return 0;
}
NS_IMETHODIMP CppAbi::GetBig(int64_t *aBig) {
  *aBig = -0x123456789abcdefLL;
  return 0;
}
NS_IMETHODIMP CppAbi::GetName(nsACString &aName) {
  Assign(aName, mName);
  return 0;
}
NS_IMETHODIMP CppAbi::SetName(const nsACString &aName) {
  char *copy = static_cast<char *>(std::malloc(aName.mLength + 1));
  if (!copy)
    return 0x8007000Eu;
  std::memcpy(copy, aName.mData, aName.mLength);
  copy[aName.mLength] = '\0';
  std::free(mName);
  mName = copy;
  return 0;
}
NS_IMETHODIMP CppAbi::Add64(int64_t a, uint64_t b, uint64_t *_retval) {
  *_retval = static_cast<uint64_t>(a) + b;
  return 0;
}
NS_IMETHODIMP CppAbi::Mix(bool b, uint8_t o, int16_t s, double d, float f,
                          char16_t w, int32_t l, uint64_t u, double *sum,
                          bool *_retval) {
  *sum = double(o) + s + d + f + w + l + double(u);
  *_retval = b && *sum > 0;
  return 0;
}
NS_IMETHODIMP CppAbi::Concat(const char *a, const char *b, char **_retval) {
  size_t la = std::strlen(a), lb = std::strlen(b);
  char *r = static_cast<char *>(std::malloc(la + lb + 1));
  if (!r)
    return 0x8007000Eu;
  std::memcpy(r, a, la);
  std::memcpy(r + la, b, lb + 1);
  *_retval = r;
  return 0;
}
NS_IMETHODIMP CppAbi::Upper(const nsACString &input, nsACString &output) {
  char *r = static_cast<char *>(std::malloc(input.mLength + 1));
  if (!r)
    return 0x8007000Eu;
  for (uint32_t i = 0; i < input.mLength; i++) {
    char c = input.mData[i];
    r[i] = c >= 'a' && c <= 'z' ? char(c - 'a' + 'A') : c;
  }
  r[input.mLength] = '\0';
  std::free(mUpper);
  mUpper = r;
  Assign(output, r);
  return 0;
}
NS_IMETHODIMP CppAbi::GetChild(nsITestAbi **child) {
  *child = new CppAbi();
  return 0;
}
NS_IMETHODIMP CppAbi::Self(nsITestAbi **_retval) {
  AddRef();
  *_retval = this;
  return 0;
}
NS_IMETHODIMP CppAbi::Twice(int32_t *value) {
  *value *= 2;
  return 0;
}
NS_IMETHODIMP_(int32_t) CppAbi::Notx(int32_t a, int32_t b) {
  return a * 100 + b;
}
NS_IMETHODIMP_(bool) CppAbi::NotxFlag(void) { return mFlag; }

/* ---- the C++ caller ------------------------------------------------- */

static void call_from_cpp(nsITestAbi *obj) {
  bool flag = false;
  CHECK(obj->SetFlag(true) == 0);
  CHECK(obj->GetFlag(&flag) == 0 && flag);
  CHECK(obj->NotxFlag());
  CHECK(obj->SetFlag(false) == 0);
  CHECK(obj->GetFlag(&flag) == 0 && !flag);

  int64_t big = 0;
  CHECK(obj->GetBig(&big) == 0 && big == -0x123456789abcdefLL);

  uint64_t sum64 = 0;
  CHECK(obj->Add64(-5, 0x100000000ULL, &sum64) == 0 && sum64 == 0xFFFFFFFBULL);

  double sum = 0;
  bool positive = false;
  CHECK(obj->Mix(true, 200, -3, 0.5, 0.25f, u'A', -7, 10000000000ULL, &sum,
                 &positive) == 0);
  CHECK(sum == 200 - 3 + 0.5 + 0.25 + 65 - 7 + 10000000000.0 && positive);

  char *cat = nullptr;
  CHECK(obj->Concat("foo", "bar", &cat) == 0 && cat &&
        std::strcmp(cat, "foobar") == 0);
  std::free(cat);

  char in_data[] = "hello, World";
  nsACString in = {in_data, 12, NS_STRING_F_TERMINATED};
  nsACString out = {nullptr, 0, 0};
  CHECK(obj->Upper(in, out) == 0 && out.mLength == 12 &&
        std::memcmp(out.mData, "HELLO, WORLD", 12) == 0);

  char name_data[] = "renamed";
  nsACString name = {name_data, 7, NS_STRING_F_TERMINATED};
  nsACString got = {nullptr, 0, 0};
  CHECK(obj->SetName(name) == 0);
  CHECK(obj->GetName(got) == 0 && got.mLength == 7 &&
        std::memcmp(got.mData, "renamed", 7) == 0);

  nsITestAbi *child = nullptr;
  CHECK(obj->GetChild(&child) == 0 && child && child != obj);
  if (child) {
    CHECK(child->Notx(3, 4) == 304);
    CHECK(child->Release() == 0);
  }
  nsITestAbi *same = nullptr;
  CHECK(obj->Self(&same) == 0 && same == obj);
  if (same)
    same->Release();

  nsISupports *sup = nullptr;
  CHECK(obj->QueryInterface(NS_GET_IID(nsISupports),
                            reinterpret_cast<void **>(&sup)) == 0 &&
        sup == static_cast<nsISupports *>(obj));
  if (sup)
    sup->Release();
  static const nsIID other = {1, 2, 3, {4, 5, 6, 7, 8, 9, 10, 11}};
  void *none = &failures;
  CHECK(obj->QueryInterface(other, &none) == 0x80004002u && none == nullptr);

  int32_t v = 21;
  CHECK(obj->Twice(&v) == 0 && v == 42);
  CHECK(obj->Notx(12, 34) == 1234);
  CHECK(nsITestAbi::MAGIC == 0x12340 && nsITestAbi_MAGIC == 0x12340);
}

int main() {
  int status = 0;

  nsITestAbi *c_obj = abi_c_create();
  call_from_cpp(c_obj);
  CHECK(c_obj->Release() == 0);
  CHECK(abi_c_live() == 0);
  std::printf("%s: C implementation called from C++\n",
              failures ? "FAIL" : "PASS");
  status |= failures != 0;

  failures = 0;
  nsITestAbi *cpp_obj = new CppAbi();
  int c_failures = abi_c_calls(cpp_obj);
  CHECK(cpp_obj->Release() == 0);
  CHECK(cpp_live == 0);
  std::printf("%s: C++ implementation called from C\n",
              failures || c_failures ? "FAIL" : "PASS");
  status |= failures != 0 || c_failures != 0;
  return status;
}

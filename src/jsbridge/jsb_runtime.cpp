/*
 * jsb_runtime.cpp — the engine: context, the one global, the shell's
 * functions (print, dump, quit, load, gc), running scripts and promise
 * jobs, reporting errors, garbage collection hooks and teardown.
 */
#include "jsbridge.h"
#include "jsb_private.h"

#include <js/SavedFrameAPI.h>
#include <js/Warnings.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "nsIObserver.h"
#include "nsIObserverService.h"
#include "nsIServiceManager.h"
#include "nsIThread.h"
#include "xpcom_thread.h"

struct jsbridge {
  int unused;
};

namespace jsb {

Runtime *gRt = nullptr;

static jsbridge gBridge;
static bool gEngineStarted = false; /* JS_Init done (JS_ShutDown pending) */

static const JSClass kGlobalClass = {"global", JSCLASS_GLOBAL_FLAGS,
                                     &JS::DefaultGlobalClassOps};

const char *PreludeFileName() { return "resource://xpcshell/prelude.js"; }

/* ---- deferred releases ------------------------------------------------- */

static void DeferredReleaseEvent(void *)
{
  if (gRt) {
    gRt->releasePosted = false;
    DrainDeferredReleases();
  }
}

void DeferRelease(nsISupports *p)
{
  if (!p)
    return;
  gRt->deferred.push_back(p);
  if (!gRt->releasePosted && gRt->mainThread && !gRt->tornDown) {
    if (NS_SUCCEEDED(xpcom_dispatch_fn(
            static_cast<nsIEventTarget *>(static_cast<nsIThread *>(gRt->mainThread)),
            DeferredReleaseEvent, nullptr, nullptr)))
      gRt->releasePosted = true;
  }
}

void DrainDeferredReleases()
{
  /* Releasing may release wrapped JS objects, which may finalize nothing
   * (no GC here) but may queue more releases: loop until empty. */
  while (gRt && !gRt->inGC && !gRt->deferred.empty()) {
    std::vector<nsISupports *> batch;
    batch.swap(gRt->deferred);
    for (nsISupports *p : batch)
      p->Release();
  }
}

/* ---- promise jobs --------------------------------------------------------- */

/*
 * The promise job queue: a FIFO of job functions. Unlike the engine's
 * internal queue it may be drained from inside a job (a job that spins the
 * event loop still sees later jobs run, as in Gecko), it can tell whether
 * jobs wait (so the event loop can run them before blocking), and quit()
 * stops it for good.
 */
class JobQueue final : public JS::JobQueue {
 public:
  explicit JobQueue(JSContext *cx) : mJobs(cx) {}

  JSObject *getIncumbentGlobal(JSContext *cx) override { return JS::CurrentGlobalOrNull(cx); }

  bool enqueuePromiseJob(JSContext *cx, JS::HandleObject, JS::HandleObject job,
                         JS::HandleObject, JS::HandleObject) override
  {
    if (!mJobs.append(job)) {
      JS_ReportOutOfMemory(cx);
      return false;
    }
    return true;
  }

  void runJobs(JSContext *cx) override
  {
    JS::RootedObject job(cx);
    JS::RootedValue fval(cx), rval(cx);
    while (!mStopped && mHead < mJobs.length()) {
      job = mJobs[mHead];
      mJobs[mHead++].set(nullptr);
      JSAutoRealm ar(cx, job);
      fval.setObject(*job);
      if (!JS::Call(cx, JS::UndefinedHandleValue, fval, JS::HandleValueArray::empty(), &rval) &&
          JS_IsExceptionPending(cx))
        ReportPendingException(cx, "uncaught exception");
    }
    if (mHead == mJobs.length()) {
      mJobs.clear();
      mHead = 0;
    }
  }

  bool empty() const override { return mHead >= mJobs.length(); }

  void stop() { mStopped = true; }
  void reset() { mJobs.reset(); }

 private:
  /* What the debugger's AutoDebuggerJobQueueInterruption sets aside. */
  class Saved final : public SavedJobQueue {
   public:
    Saved(JSContext *cx, JobQueue *q) : mQueue(q), mJobs(cx)
    {
      std::swap(mJobs.get(), q->mJobs.get());
      std::swap(mHead, q->mHead);
    }
    ~Saved() override
    {
      std::swap(mJobs.get(), mQueue->mJobs.get());
      std::swap(mHead, mQueue->mHead);
    }

   private:
    JobQueue *mQueue;
    JS::PersistentRooted<JS::GCVector<JSObject *, 0, js::SystemAllocPolicy>> mJobs;
    size_t mHead = 0;
  };

  js::UniquePtr<SavedJobQueue> saveJobQueue(JSContext *cx) override
  {
    auto saved = js::MakeUnique<Saved>(cx, this);
    if (!saved)
      JS_ReportOutOfMemory(cx);
    return saved;
  }

  JS::PersistentRooted<JS::GCVector<JSObject *, 0, js::SystemAllocPolicy>> mJobs;
  size_t mHead = 0;
  bool mStopped = false;
};

static JobQueue *gJobQueue = nullptr;

bool JobsPending() { return gJobQueue && !gJobQueue->empty(); }

void RunJobs(JSContext *cx)
{
  if (!gRt || gRt->quitRequested || !gJobQueue)
    return;
  gRt->jsDepth++;
  gJobQueue->runJobs(cx);
  /* FinalizationRegistry callbacks run as jobs of their own. */
  while (!gRt->cleanups.empty() && !gRt->quitRequested) {
    JS::RootedObject fn(cx, gRt->cleanups[0]);
    gRt->cleanups.erase(gRt->cleanups.begin());
    JS::RootedValue fval(cx, JS::ObjectValue(*fn)), rval(cx);
    if (!JS::Call(cx, JS::UndefinedHandleValue, fval, JS::HandleValueArray::empty(), &rval) &&
        JS_IsExceptionPending(cx))
      ReportPendingException(cx, "uncaught exception");
    gJobQueue->runJobs(cx);
  }
  gRt->jsDepth--;
  if (gRt->jsDepth == 0)
    JS::ClearKeptObjects(cx); /* end of a job: WeakRef targets may go */
}

/* ---- error reports --------------------------------------------------------- */

static std::string ValueToStdString(JSContext *cx, JS::HandleValue v)
{
  JS::RootedString s(cx, JS::ToString(cx, v));
  if (!s) {
    JS_ClearPendingException(cx);
    return "<unprintable value>";
  }
  JS::UniqueChars u = JS_EncodeStringToUTF8(cx, s);
  return u ? std::string(u.get()) : std::string("<unprintable value>");
}

static bool GetStringProp(JSContext *cx, JS::HandleObject obj, const char *name,
                          std::string *out)
{
  JS::RootedValue v(cx);
  if (!JS_GetProperty(cx, obj, name, &v)) {
    JS_ClearPendingException(cx);
    return false;
  }
  if (v.isUndefined() || v.isNull())
    return false;
  *out = ValueToStdString(cx, v);
  return true;
}

static bool GetUintProp(JSContext *cx, JS::HandleObject obj, const char *name,
                        uint32_t *out)
{
  JS::RootedValue v(cx);
  if (!JS_GetProperty(cx, obj, name, &v)) {
    JS_ClearPendingException(cx);
    return false;
  }
  if (!v.isNumber())
    return false;
  *out = (uint32_t)v.toNumber();
  return true;
}

void ReportPendingException(JSContext *cx, const char *prefix)
{
  JS::ExceptionStack es(cx);
  if (!JS::StealPendingExceptionStack(cx, &es)) {
    JS_ClearPendingException(cx);
    fprintf(stderr, "%s: (exception could not be retrieved)\n", prefix);
    return;
  }
  JS::RootedValue exn(cx, es.exception());
  std::string file, stack;
  uint32_t line = 0, column = 0;
  bool haveLoc = false;

  if (exn.isObject()) {
    JS::RootedObject obj(cx, &exn.toObject());
    if (JSErrorReport *rep = JS_ErrorFromException(cx, obj)) {
      if (rep->filename)
        file = rep->filename;
      line = rep->lineno;
      column = rep->column;
      haveLoc = true;
    } else if ((GetStringProp(cx, obj, "filename", &file) ||
                GetStringProp(cx, obj, "fileName", &file)) &&
               GetUintProp(cx, obj, "lineNumber", &line)) {
      GetUintProp(cx, obj, "columnNumber", &column);
      haveLoc = true;
    }
    GetStringProp(cx, obj, "stack", &stack);
  }
  JS::RootedObject frame(cx, es.stack());
  if (frame) {
    JSPrincipals *principals = nullptr;
    if (!haveLoc) {
      JS::RootedString src(cx);
      if (JS::GetSavedFrameSource(cx, principals, frame, &src) ==
              JS::SavedFrameResult::Ok && src) {
        JS::UniqueChars u = JS_EncodeStringToUTF8(cx, src);
        if (u)
          file = u.get();
        JS::GetSavedFrameLine(cx, principals, frame, &line);
        JS::GetSavedFrameColumn(cx, principals, frame, &column);
        haveLoc = true;
      }
    }
    if (stack.empty()) {
      JS::RootedString s(cx);
      if (JS::BuildStackString(cx, principals, frame, &s) && s) {
        JS::UniqueChars u = JS_EncodeStringToUTF8(cx, s);
        if (u)
          stack = u.get();
      } else {
        JS_ClearPendingException(cx);
      }
    }
  }
  std::string text = ValueToStdString(cx, exn);
  if (haveLoc)
    fprintf(stderr, "%s:%u:%u: %s: %s\n", file.c_str(), line, column, prefix,
            text.c_str());
  else
    fprintf(stderr, "%s: %s\n", prefix, text.c_str());
  if (!stack.empty()) {
    fprintf(stderr, "Stack:\n");
    size_t pos = 0;
    while (pos < stack.size()) {
      size_t nl = stack.find('\n', pos);
      if (nl == std::string::npos)
        nl = stack.size();
      if (nl > pos)
        fprintf(stderr, "  %.*s\n", (int)(nl - pos), stack.data() + pos);
      pos = nl + 1;
    }
  }
  fflush(stderr);
}

static void WarningReporter(JSContext *cx, JSErrorReport *report)
{
  fprintf(stderr, "%s:%u:%u: warning: %s\n",
          report->filename ? report->filename : "(unknown)", report->lineno,
          report->column, report->message().c_str() ? report->message().c_str() : "");
}

/* ---- shell functions ----------------------------------------------------------- */

static bool WriteArgs(JSContext *cx, const JS::CallArgs &args, bool newline)
{
  std::string out;
  for (unsigned i = 0; i < args.length(); i++) {
    JS::RootedString s(cx, JS::ToString(cx, args[i]));
    if (!s)
      return false;
    JS::UniqueChars u = JS_EncodeStringToUTF8(cx, s);
    if (!u)
      return false;
    if (i)
      out += ' ';
    out += u.get();
  }
  if (newline)
    out += '\n';
  fwrite(out.data(), 1, out.size(), stdout);
  fflush(stdout);
  return true;
}

static bool Print(JSContext *cx, unsigned argc, JS::Value *vp)
{
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  if (!WriteArgs(cx, args, true))
    return false;
  args.rval().setUndefined();
  return true;
}

static bool Dump(JSContext *cx, unsigned argc, JS::Value *vp)
{
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  if (!WriteArgs(cx, args, false))
    return false;
  args.rval().setUndefined();
  return true;
}

static bool Quit(JSContext *cx, unsigned argc, JS::Value *vp)
{
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  int32_t code = 0;
  if (args.length() > 0 && !JS::ToInt32(cx, args[0], &code))
    return false;
  gRt->quitRequested = true;
  gRt->exitCode = code;
  if (gJobQueue)
    gJobQueue->stop();
  /* An uncatchable exception: unwinds every script frame. */
  JS_ClearPendingException(cx);
  return false;
}

static bool ReadFile(const char *path, std::string *out)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return false;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0)
    out->append(buf, n);
  bool ok = !ferror(f);
  fclose(f);
  return ok;
}

static bool EvaluateUTF8(JSContext *cx, const char *code, size_t len,
                         const char *filename, unsigned line,
                         JS::MutableHandleValue rval)
{
  JS::CompileOptions opts(cx);
  opts.setFileAndLine(filename, line);
  JS::SourceText<mozilla::Utf8Unit> src;
  if (!src.init(cx, code, len, JS::SourceOwnership::Borrowed))
    return false;
  return JS::Evaluate(cx, opts, src, rval);
}

static bool Load(JSContext *cx, unsigned argc, JS::Value *vp)
{
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  for (unsigned i = 0; i < args.length(); i++) {
    JS::RootedString s(cx, JS::ToString(cx, args[i]));
    if (!s)
      return false;
    JS::UniqueChars path = JS_EncodeStringToUTF8(cx, s);
    if (!path)
      return false;
    std::string code;
    if (!ReadFile(path.get(), &code)) {
      std::string msg = std::string("cannot open file '") + path.get() +
                        "' for reading: " + strerror(errno);
      return ThrowResult(cx, NS_ERROR_FILE_NOT_FOUND, msg.c_str());
    }
    JS::RootedValue ignored(cx);
    if (!EvaluateUTF8(cx, code.data(), code.size(), path.get(), 1, &ignored))
      return false;
  }
  args.rval().setUndefined();
  return true;
}

static void FullGC(JSContext *cx)
{
  /* WeakRef targets read during this job may go too (a GC on request is
   * a job boundary for our purposes). */
  JS::ClearKeptObjects(cx);
  /* Twice with releases in between: a wrapper's death can free natives
   * that held the last reference to other JS objects. */
  for (int i = 0; i < 3; i++) {
    JS_GC(cx);
    size_t before = gRt->deferred.size();
    DrainDeferredReleases();
    if (before == 0)
      break;
  }
}

static bool GC(JSContext *cx, unsigned argc, JS::Value *vp)
{
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  FullGC(cx);
  args.rval().setUndefined();
  return true;
}

static const JSFunctionSpec kShellFunctions[] = {
    JS_FN("print", Print, 0, 0),  JS_FN("dump", Dump, 1, 0),
    JS_FN("quit", Quit, 0, 0),    JS_FN("load", Load, 1, 0),
    JS_FN("gc", GC, 0, 0),        JS_FS_END};

/* ---- GC hooks -------------------------------------------------------------- */

static void GCCallback(JSContext *, JSGCStatus status, JS::GCReason, void *)
{
  if (!gRt)
    return;
  gRt->inGC = status == JSGC_BEGIN;
}

static void WeakPointerCallback(JSTracer *trc, void *) { SweepNatives(trc); }

static void TrackRejection(JSContext *, bool, JS::HandleObject promise,
                           JS::PromiseRejectionHandlingState state, void *)
{
  if (!gRt || gRt->tornDown)
    return;
  auto &v = gRt->rejections;
  if (state == JS::PromiseRejectionHandlingState::Unhandled) {
    if (!v.append(promise))
      fprintf(stderr, "xpcshell: out of memory tracking a promise rejection\n");
    return;
  }
  for (size_t i = 0; i < v.length(); i++)
    if (v[i] == promise) {
      v.erase(v.begin() + i);
      break;
    }
}

/* Reports the rejections nothing handled (like uncaught exceptions, with
 * the rejection's location and stack) and forgets them; returns how many. */
static size_t ReportUnhandledRejections(JSContext *cx)
{
  size_t n = 0;
  while (!gRt->rejections.empty()) {
    JS::RootedObject promise(cx, gRt->rejections[0]);
    gRt->rejections.erase(gRt->rejections.begin());
    JS::RootedValue reason(cx, JS::GetPromiseResult(promise));
    JS::RootedObject site(cx, JS::GetPromiseResolutionSite(promise));
    JS::ExceptionStack es(cx, reason, site);
    JS::SetPendingExceptionStack(cx, es);
    ReportPendingException(cx, "unhandled promise rejection");
    n++;
  }
  return n;
}

/* Must not GC: only remembers the function (no GC allocation). */
static void CleanupFinalizationRegistry(JSFunction *doCleanup, JSObject *, void *)
{
  if (gRt && !gRt->tornDown && !gRt->cleanups.append(JS_GetFunctionObject(doCleanup)))
    fprintf(stderr, "xpcshell: out of memory queueing a FinalizationRegistry cleanup\n");
}

/* ---- shutdown ------------------------------------------------------------------ */

static void Teardown()
{
  if (!gRt || gRt->tornDown)
    return;
  JSContext *cx = gRt->cx;
  if (gRt->global) { /* absent when start-up failed half-way */
    JSAutoRealm ar(cx, gRt->global);
    FullGC(cx);
  }
  /* From here JS objects held by native code are forgotten; the engine,
   * going away, finalizes every wrapper of a native object. */
  gRt->tornDown = true;
  OrphanAllWrappedJS();
  JS_RemoveExtraGCRootsTracer(cx, TraceWrappedJS, nullptr);
  JS_RemoveWeakPointerZonesCallback(cx, WeakPointerCallback);
  gRt->wjsMap.reset();
  gRt->idProto.reset();
  gRt->iidProto.reset();
  gRt->cidProto.reset();
  gRt->interfaces.reset();
  gRt->classes.reset();
  gRt->results.reset();
  gRt->makeException.reset();
  gRt->cleanups.reset();
  gRt->rejections.reset();
  gRt->global.reset();
  gJobQueue->reset();
  JS_DestroyContext(cx);
  delete gJobQueue;
  gJobQueue = nullptr;
  gRt->cx = nullptr;
  gRt->inGC = false;
  DrainDeferredReleases();
  /* Wrappers of natives finalized by the engine's last GC are gone. */
  gRt->natives.clear();
  if (gRt->mainThread) {
    gRt->mainThread->Release();
    gRt->mainThread = nullptr;
  }
}

static void TeardownEvent(void *) { Teardown(); }

/* Observes "xpcom-shutdown-threads": tears the engine down from the main
 * queue once every observer of that topic has run. */
class ShutdownObserver final : public nsIObserver {
 public:
  ShutdownObserver() { XPCOM_LEAK_CTOR(ShutdownObserver); }
  NS_IMETHOD QueryInterface(const nsIID &iid, void **result) override
  {
    if (nsID_Equals(&iid, &nsISupports_IID) || nsID_Equals(&iid, &nsIObserver_IID)) {
      AddRef();
      *result = static_cast<nsIObserver *>(this);
      return NS_OK;
    }
    *result = nullptr;
    return NS_NOINTERFACE;
  }
  NS_IMETHOD_(nsrefcnt) AddRef() override { return ++mRefCnt; }
  NS_IMETHOD_(nsrefcnt) Release() override
  {
    nsrefcnt n = --mRefCnt;
    if (n == 0) {
      XPCOM_LEAK_DTOR(ShutdownObserver);
      delete this;
    }
    return n;
  }
  NS_IMETHOD Observe(nsISupports *, const char *topic, const char16_t *) override
  {
    if (strcmp(topic, "xpcom-shutdown-threads") == 0 && gRt && !gRt->tornDown) {
      nsIThread *main = nullptr;
      if (NS_SUCCEEDED(NS_GetMainThread(&main))) {
        if (NS_FAILED(xpcom_dispatch_fn(main, TeardownEvent, nullptr, nullptr)))
          Teardown();
        main->Release();
      } else {
        Teardown();
      }
    }
    return NS_OK;
  }

 private:
  ~ShutdownObserver() = default;
  std::atomic<nsrefcnt> mRefCnt{0};
};

static nsresult ObserveShutdown()
{
  nsIServiceManager *sm = nullptr;
  nsresult rv = NS_GetServiceManager(&sm);
  if (NS_FAILED(rv))
    return rv;
  nsIObserverService *obs = nullptr;
  rv = sm->GetServiceByContractID("@mozilla.org/observer-service;1",
                                  nsIObserverService::GetIID(), (void **)&obs);
  sm->Release();
  if (NS_FAILED(rv))
    return rv;
  ShutdownObserver *o = new ShutdownObserver();
  o->AddRef();
  rv = obs->AddObserver(o, "xpcom-shutdown-threads", false);
  o->Release();
  obs->Release();
  return rv;
}

/* ---- start -------------------------------------------------------------------- */

static bool CaptureStackNative(JSContext *cx, unsigned argc, JS::Value *vp)
{
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  JS::RootedObject stack(cx);
  if (!JS::CaptureCurrentStack(cx, &stack))
    return false;
  args.rval().setObjectOrNull(stack);
  return true;
}

static bool ErrorNameNative(JSContext *cx, unsigned argc, JS::Value *vp)
{
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  uint32_t rv = 0;
  if (!JS::ToUint32(cx, args.get(0), &rv))
    return false;
  const char *name = XPCOM_ErrorName(rv);
  if (!name) {
    args.rval().setNull();
    return true;
  }
  JSString *s = JS_NewStringCopyZ(cx, name);
  if (!s)
    return false;
  args.rval().setString(s);
  return true;
}

static bool ForceGCNative(JSContext *cx, unsigned argc, JS::Value *vp)
{
  return GC(cx, argc, vp);
}

static bool PrintErrNative(JSContext *cx, unsigned argc, JS::Value *vp)
{
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  for (unsigned i = 0; i < args.length(); i++) {
    JS::RootedString s(cx, JS::ToString(cx, args[i]));
    if (!s)
      return false;
    JS::UniqueChars u = JS_EncodeStringToUTF8(cx, s);
    if (!u)
      return false;
    fputs(u.get(), stderr);
  }
  fflush(stderr);
  args.rval().setUndefined();
  return true;
}

static bool RunPrelude(JSContext *cx, JS::HandleObject global)
{
  JS::RootedValue fn(cx);
  if (!EvaluateUTF8(cx, kPreludeSource, strlen(kPreludeSource), PreludeFileName(),
                    1, &fn))
    return false;
  JS::RootedObject natives(cx, JS_NewPlainObject(cx));
  if (!natives)
    return false;
  if (!JS_DefineFunction(cx, natives, "captureStack", CaptureStackNative, 0, 0) ||
      !JS_DefineFunction(cx, natives, "errorName", ErrorNameNative, 1, 0) ||
      !JS_DefineFunction(cx, natives, "forceGC", ForceGCNative, 0, 0) ||
      !JS_DefineFunction(cx, natives, "printErr", PrintErrNative, 1, 0))
    return false;
  JS::RootedString version(cx, JS_NewStringCopyZ(cx, jsbridge_engine_version()));
  if (!version || !JS_DefineProperty(cx, natives, "engineVersion", version, 0))
    return false;
  JS::RootedString file(cx, JS_NewStringCopyZ(cx, PreludeFileName()));
  if (!file || !JS_DefineProperty(cx, natives, "preludeFile", file, 0))
    return false;
  JS::RootedValueArray<2> argv(cx);
  argv[0].setObject(*natives);
  argv[1].setObject(*global);
  JS::RootedValue result(cx);
  if (!JS::Call(cx, JS::UndefinedHandleValue, fn, argv, &result))
    return false;
  if (!result.isObject())
    return false;
  JS::RootedObject r(cx, &result.toObject());
  JS::RootedValue v(cx);
  if (!JS_GetProperty(cx, r, "makeException", &v) || !v.isObject())
    return false;
  gRt->makeException.init(cx, &v.toObject());
  return true;
}

static nsresult Start()
{
  if (!gEngineStarted) {
    if (!JS_Init())
      return NS_ERROR_FAILURE;
    gEngineStarted = true;
  }
  JSContext *cx = JS_NewContext(JS::DefaultHeapMaxBytes);
  if (!cx)
    return NS_ERROR_OUT_OF_MEMORY;
  gRt = new Runtime();
  gRt->cx = cx;
  gJobQueue = new JobQueue(cx);
  JS::SetJobQueue(cx, gJobQueue);
  if (!JS::InitSelfHostedCode(cx))
    return NS_ERROR_FAILURE;
  JS::SetWarningReporter(cx, WarningReporter);
  /* Leave room below the native stack limit (8 MiB default) for the
   * native frames between script frames. */
  JS_SetNativeStackQuota(cx, 4 * 1024 * 1024);
  JS_SetGCCallback(cx, GCCallback, nullptr);
  if (!JS_AddWeakPointerZonesCallback(cx, WeakPointerCallback, nullptr) ||
      !JS_AddExtraGCRootsTracer(cx, TraceWrappedJS, nullptr))
    return NS_ERROR_OUT_OF_MEMORY;

  gRt->cleanups.init(cx);
  gRt->rejections.init(cx);
  JS::SetPromiseRejectionTrackerCallback(cx, TrackRejection, nullptr);
  JS::SetHostCleanupFinalizationRegistryCallback(cx, CleanupFinalizationRegistry, nullptr);
  JS::RealmOptions options;
  options.creationOptions().setWeakRefsEnabled(JS::WeakRefSpecifier::EnabledWithoutCleanupSome);
  JS::RootedObject global(cx, JS_NewGlobalObject(cx, &kGlobalClass, nullptr,
                                                 JS::FireOnNewGlobalHook, options));
  if (!global)
    return NS_ERROR_FAILURE;
  gRt->global.init(cx, global);
  JSAutoRealm ar(cx, global);
  if (!JS::InitRealmStandardClasses(cx) ||
      !JS_DefineFunctions(cx, global, kShellFunctions) || !InitWrappedJS(cx) ||
      !InitComponents(cx, global)) {
    if (JS_IsExceptionPending(cx))
      ReportPendingException(cx, "bridge initialisation failed");
    return NS_ERROR_FAILURE;
  }
  JS::RootedObject args(cx, JS::NewArrayObject(cx, 0));
  if (!args || !JS_DefineProperty(cx, global, "arguments", args, JSPROP_ENUMERATE))
    return NS_ERROR_OUT_OF_MEMORY;
  if (!RunPrelude(cx, global)) {
    if (JS_IsExceptionPending(cx))
      ReportPendingException(cx, "prelude failed");
    return NS_ERROR_FAILURE;
  }
  nsIThread *main = nullptr;
  if (NS_SUCCEEDED(NS_GetMainThread(&main)))
    gRt->mainThread = main; /* keeps the reference */
  nsresult rv = ObserveShutdown();
  if (NS_FAILED(rv))
    return rv;
  return NS_OK;
}

static jsbridge_status Finish(JSContext *cx, bool ok)
{
  if (!ok) {
    if (JS_IsExceptionPending(cx)) {
      ReportPendingException(cx, "uncaught exception");
      return gRt->quitRequested ? JSBRIDGE_QUIT : JSBRIDGE_ERROR;
    }
    if (gRt->quitRequested)
      return JSBRIDGE_QUIT;
    fprintf(stderr, "error: script terminated (uncatchable error)\n");
    return JSBRIDGE_ERROR;
  }
  if (gRt->quitRequested)
    return JSBRIDGE_QUIT;
  RunJobs(cx);
  if (gRt->quitRequested)
    return JSBRIDGE_QUIT;
  return ReportUnhandledRejections(cx) ? JSBRIDGE_ERROR : JSBRIDGE_OK;
}

} /* namespace jsb */

using namespace jsb;

XPCOM_API(nsresult) jsbridge_create(jsbridge **out)
{
  if (gRt)
    return NS_ERROR_ALREADY_INITIALIZED;
  if (!NS_IsMainThread())
    return NS_ERROR_NOT_INITIALIZED;
  nsresult rv = Start();
  if (NS_FAILED(rv)) {
    jsbridge_destroy(&gBridge);
    return rv;
  }
  *out = &gBridge;
  return NS_OK;
}

XPCOM_API(void) jsbridge_set_arguments(jsbridge *, int argc, char *const *argv)
{
  if (!gRt || gRt->tornDown)
    return;
  JSContext *cx = gRt->cx;
  JSAutoRealm ar(cx, gRt->global);
  JS::RootedObject arr(cx, JS::NewArrayObject(cx, 0));
  if (!arr)
    return;
  for (int i = 0; i < argc; i++) {
    JS::RootedString s(cx, NewStringFromUTF8(cx, argv[i], strlen(argv[i])));
    if (!s || !JS_DefineElement(cx, arr, (uint32_t)i, s, JSPROP_ENUMERATE))
      return;
  }
  JS_DefineProperty(cx, gRt->global, "arguments", arr, JSPROP_ENUMERATE);
}

XPCOM_API(jsbridge_status) jsbridge_run_file(jsbridge *, const char *path)
{
  if (!gRt || gRt->tornDown)
    return JSBRIDGE_ERROR;
  std::string code;
  if (!ReadFile(path, &code)) {
    fprintf(stderr, "xpcshell: cannot open file '%s' for reading: %s\n", path,
            strerror(errno));
    return JSBRIDGE_NOT_FOUND;
  }
  JSContext *cx = gRt->cx;
  JSAutoRealm ar(cx, gRt->global);
  JS::RootedValue rval(cx);
  gRt->jsDepth++;
  bool ok = EvaluateUTF8(cx, code.data(), code.size(), path, 1, &rval);
  gRt->jsDepth--;
  return Finish(cx, ok);
}

XPCOM_API(jsbridge_status)
jsbridge_run_string(jsbridge *, const char *code, size_t len, const char *filename,
                    unsigned line, bool print_result)
{
  if (!gRt || gRt->tornDown)
    return JSBRIDGE_ERROR;
  JSContext *cx = gRt->cx;
  JSAutoRealm ar(cx, gRt->global);
  JS::RootedValue rval(cx);
  gRt->jsDepth++;
  bool ok = EvaluateUTF8(cx, code, len, filename, line, &rval);
  gRt->jsDepth--;
  if (ok && print_result && !rval.isUndefined()) {
    JS::RootedString s(cx, JS::ToString(cx, rval));
    JS::UniqueChars u;
    if (s)
      u = JS_EncodeStringToUTF8(cx, s);
    if (u) {
      printf("%s\n", u.get());
      fflush(stdout);
    } else {
      ok = false;
    }
  }
  return Finish(cx, ok);
}

XPCOM_API(bool) jsbridge_is_compilable_unit(jsbridge *, const char *code, size_t len)
{
  if (!gRt || gRt->tornDown)
    return true;
  JSContext *cx = gRt->cx;
  JSAutoRealm ar(cx, gRt->global);
  return JS_Utf8BufferIsCompilableUnit(cx, gRt->global, code, len);
}

XPCOM_API(bool) jsbridge_quit_requested(jsbridge *, int *exit_code)
{
  if (!gRt || !gRt->quitRequested)
    return false;
  if (exit_code)
    *exit_code = gRt->exitCode;
  return true;
}

XPCOM_API(void) jsbridge_run_jobs(jsbridge *)
{
  if (!gRt || gRt->tornDown)
    return;
  JSAutoRealm ar(gRt->cx, gRt->global);
  RunJobs(gRt->cx);
}

XPCOM_API(size_t) jsbridge_report_unhandled_rejections(jsbridge *)
{
  if (!gRt || gRt->tornDown)
    return 0;
  JSAutoRealm ar(gRt->cx, gRt->global);
  return ReportUnhandledRejections(gRt->cx);
}

XPCOM_API(void) jsbridge_gc(jsbridge *)
{
  if (!gRt || gRt->tornDown)
    return;
  JSAutoRealm ar(gRt->cx, gRt->global);
  FullGC(gRt->cx);
}

XPCOM_API(const char *) jsbridge_engine_version(void)
{
#define JSB_STR2(x) #x
#define JSB_STR(x) JSB_STR2(x)
  return "SpiderMonkey " JSB_STR(MOZJS_MAJOR_VERSION) "." JSB_STR(MOZJS_MINOR_VERSION);
}

XPCOM_API(void) jsbridge_destroy(jsbridge *)
{
  if (!gRt)
    return;
  if (gRt->cx && !gRt->tornDown) {
    Teardown();
  }
  if (gRt->mainThread) {
    gRt->mainThread->Release();
    gRt->mainThread = nullptr;
  }
  DrainDeferredReleases();
  delete gRt;
  gRt = nullptr;
  if (gEngineStarted) {
    JS_ShutDown();
    gEngineStarted = false;
  }
}

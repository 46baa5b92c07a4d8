/*
 * lionctr_malloc.node: glibc malloc's thresholds set from inside a running process (mallopt(3)),
 * so that a trainer on the native backend gets the effect of GLIBC_TUNABLES
 * glibc.malloc.mmap_threshold / trim_threshold without being started with it
 * (src/model/malloc-tunables.ts; README "Read-backs and page faults"). Built by
 * `lionctr native build` (src/cli/native/malloc-addon.ts) with node-gyp against Node-API only.
 *
 *   tune(mmapThresholdBytes, trimThresholdBytes) -> true when glibc took both values
 *
 * Without glibc (musl, other platforms) tune() does nothing and returns false.
 */
#include <node_api.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

static napi_value Tune(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int64_t mmap_threshold = -1, trim_threshold = -1;
  int ok = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc == 2 && napi_get_value_int64(env, argv[0], &mmap_threshold) == napi_ok &&
      napi_get_value_int64(env, argv[1], &trim_threshold) == napi_ok && mmap_threshold > 0 &&
      mmap_threshold <= 0x7fffffff && trim_threshold > 0 && trim_threshold <= 0x7fffffff) {
#if defined(__GLIBC__)
    /* an explicit M_MMAP_THRESHOLD also ends glibc's dynamic threshold; mallopt returns 1 on success */
    ok = mallopt(M_MMAP_THRESHOLD, (int)mmap_threshold) == 1 && mallopt(M_TRIM_THRESHOLD, (int)trim_threshold) == 1;
#endif
  }
  napi_value result;
  napi_get_boolean(env, ok, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "tune", NAPI_AUTO_LENGTH, Tune, NULL, &fn);
  napi_set_named_property(env, exports, "tune", fn);
  return exports;
}

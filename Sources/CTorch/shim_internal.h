// Shared by the shim's translation units: handle types, conversions and the GUARD macro.
#pragma once
#include "ctorch.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <c10/core/GradMode.h>
#include <torch/version.h>

#include <atomic>
#include <cstring>
#include <sstream>
#include <string>

struct ct_tensor_s {
  at::Tensor t;
};
struct ct_generator_s {
  at::Generator g;
  bool owned;
};

namespace ctorch {
int fail(const char *what);
ct_tensor wrap(at::Tensor t);
char *copy_string(const std::string &s);
// softmax(q·kᵀ·scale)·v for (B, L, d) float32 tensors on AVX2+FMA CPUs, d and dv multiples of 8 up to 256;
// false (and `out` untouched) where it does not apply (shim_attention_fused.cpp).
bool attention_fused(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v, double scale, at::Tensor &out);
// conv2d in bands of output rows when no gradient is recorded and the input exceeds the band
// threshold; false (and `out` untouched) otherwise (shim_conv_banded.cpp).
bool conv2d_banded(const at::Tensor &x, const at::Tensor &w, const c10::optional<at::Tensor> &bias,
                   at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation, int64_t groups,
                   at::Tensor &out);
// Rows top..bottom-1 of an NCHW (or channels-last) x; zero rows stand in for those outside it (a
// convolution band's input with its halo and padding).
inline at::Tensor rows_zero_padded(const at::Tensor &x, int64_t top, int64_t bottom) {
  const int64_t from = std::max<int64_t>(0, top), to = std::min(x.size(2), bottom);
  at::Tensor rows = x.narrow(2, from, to - from);
  if (from > top || to < bottom) rows = at::constant_pad_nd(rows, {0, 0, from - top, bottom - to});
  return rows;
}
// A 3x3 stride-1 conv2d by oneDNN's Winograd kernel when no gradient is recorded and the output is
// large enough; false (and `out` untouched) otherwise (shim_conv_winograd.cpp).
bool conv2d_winograd(const at::Tensor &x, const at::Tensor &w, const c10::optional<at::Tensor> &bias,
                     at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation, int64_t groups,
                     at::Tensor &out);

inline at::IntArrayRef dims(const int64_t *p, int n) { return at::IntArrayRef(p, static_cast<size_t>(n)); }

inline at::ScalarType scalar_type(int dtype) { return static_cast<at::ScalarType>(dtype); }

inline at::Device device_of(int device, int index = -1) {
  switch (device) {
    case 0: return at::Device(at::kCPU);
    case 1: return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index));
    case 2: return at::Device(at::kMeta);
    default: throw std::invalid_argument("unknown device code " + std::to_string(device));
  }
}

inline at::TensorOptions options(int dtype, int device) {
  return at::TensorOptions().dtype(scalar_type(dtype)).device(device_of(device));
}

inline c10::optional<at::Tensor> optional_tensor(ct_tensor t) {
  if (t == nullptr) return c10::nullopt;
  return t->t;
}

inline c10::optional<at::Generator> generator(ct_generator g) {
  if (g == nullptr) return c10::nullopt;
  return g->g;
}

inline c10::optional<at::Scalar> optional_scalar(const double *p) {
  if (p == nullptr) return c10::nullopt;
  return at::Scalar(*p);
}
}  // namespace ctorch

using namespace ctorch;

// Every exported function body runs inside GUARD: c10::Error reports its message without the C++
// backtrace; any other std::exception reports what(); anything else is still caught.
#define GUARD(...)                                   \
  try {                                              \
    __VA_ARGS__;                                          \
    return 0;                                        \
  } catch (const c10::Error &e) {                    \
    return fail(e.what_without_backtrace());         \
  } catch (const std::exception &e) {                \
    return fail(e.what());                           \
  } catch (...) {                                    \
    return fail("unknown C++ exception in libtorch"); \
  }


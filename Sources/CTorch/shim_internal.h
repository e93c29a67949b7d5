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
#include <functional>
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
// A convolution's input produced band by band, so that it need never exist whole: rows(top, bottom)
// gives rows top..bottom-1 of a (batch, channels, height, width) tensor, zero rows standing in for
// those outside 0..height-1 (a band's halo and padding). `like` gives the dtype, device and layout.
struct BandSource {
  at::Tensor like;
  int64_t batch, channels, height, width;
  std::function<at::Tensor(int64_t top, int64_t bottom)> rows;
};
// Rows top..bottom-1 of a tensor of `height` rows, made by rows(from, to) for the part inside it and
// zero-padded above and below.
template <typename Rows>
at::Tensor rows_zero_padded(int64_t height, int64_t top, int64_t bottom, Rows &&rows) {
  const int64_t from = std::max<int64_t>(0, top), to = std::min(height, bottom);
  at::Tensor inside = rows(from, to);
  if (from > top || to < bottom) inside = at::constant_pad_nd(inside, {0, 0, from - top, bottom - to});
  return inside;
}
// The rows of an NCHW (or channels-last) tensor that exists.
BandSource whole_tensor(const at::Tensor &x);
// ct_conv's 2-D convolution: Winograd, else bands, else libtorch's, as the cases below allow.
at::Tensor conv2d(const at::Tensor &x, const at::Tensor &w, const c10::optional<at::Tensor> &bias,
                  at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation, int64_t groups);
// conv2d of a band source in bands of about band_bytes of input each (shim_conv_banded.cpp). With
// `sum` defined (a tensor of the output's shape) each band is added to it instead, and `sum` returned.
at::Tensor conv2d_in_bands(const BandSource &x, const at::Tensor &w, const c10::optional<at::Tensor> &bias,
                           at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation, int64_t groups,
                           int64_t band_bytes, const at::Tensor &sum = {});
// The input size above which convolutions run in bands in inference (ct_set_conv_band_threshold).
int64_t conv_band_threshold();
// Whether a 3x3 stride-1 convolution of this input geometry takes oneDNN's Winograd kernel
// (inference, float32, channels multiples of 16, a large enough output; shim_conv_winograd.cpp).
bool winograd_applies(const at::Tensor &like, int64_t channels, int64_t height, int64_t width, const at::Tensor &w,
                      const c10::optional<at::Tensor> &bias, at::IntArrayRef stride, at::IntArrayRef padding,
                      at::IntArrayRef dilation, int64_t groups);
// That convolution of a band source; false (and `out` and `sum` untouched) if oneDNN refuses it. With
// `sum` defined, each band is added to it and `out` is `sum`, as in conv2d_in_bands.
bool conv2d_winograd(const BandSource &x, const at::Tensor &w, const c10::optional<at::Tensor> &bias,
                     at::IntArrayRef padding, at::Tensor &out, const at::Tensor &sum = {});

inline at::IntArrayRef dims(const int64_t *p, int n) { return at::IntArrayRef(p, static_cast<size_t>(n)); }

inline at::ScalarType scalar_type(int dtype) { return static_cast<at::ScalarType>(dtype); }

// Shape-only kernels for the operators libtorch has none for on `meta` (shim_meta.cpp); once.
void ensure_meta_kernels();

inline at::Device device_of(int device, int index = -1) {
  switch (device) {
    case 0: return at::Device(at::kCPU);
    case 1: return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index));
    case 2: ensure_meta_kernels(); return at::Device(at::kMeta);
    case 3: return at::Device(at::kMPS);
    default: throw std::invalid_argument("unknown device code " + std::to_string(device));
  }
}

inline at::TensorOptions options(int dtype, int device) {
  return at::TensorOptions().dtype(scalar_type(dtype)).device(device_of(device));
}

// The operands of a matrix product, a convolution, a linear layer or a norm must share a device:
// libtorch checks that on CUDA, but its meta kernels do not, and the device tests run on meta.
inline void require_same_device(const at::Tensor &a, std::initializer_list<const at::Tensor *> others) {
  for (const at::Tensor *b : others)
    TORCH_CHECK(b == nullptr || !b->defined() || a.device() == b->device(),
                "Expected all tensors to be on the same device, but found at least two devices, ", a.device(), " and ",
                b->device(), "!");
}
inline const at::Tensor *maybe(ct_tensor t) { return t ? &t->t : nullptr; }

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


// Neural-network functionals, autograd and runtime settings.
#include <malloc.h>
#include <climits>
#include "shim_internal.h"

#include <ATen/autocast_mode.h>

extern "C" {
// ---- neural-network functionals ----

int ct_conv(ct_tensor x, ct_tensor w, ct_tensor bias, int nspatial, const int64_t *stride,
            const int64_t *padding, const int64_t *dilation, int64_t groups, ct_tensor *out) {
  GUARD({
    require_same_device(x->t, {&w->t, maybe(bias)});
    auto b = optional_tensor(bias);
    if (nspatial == 1)
      *out = wrap(at::conv1d(x->t, w->t, b, dims(stride, 1), dims(padding, 1), dims(dilation, 1), groups));
    else if (nspatial == 2)
      *out = wrap(ctorch::conv2d(x->t, w->t, b, dims(stride, 2), dims(padding, 2), dims(dilation, 2), groups));
    else
      throw std::invalid_argument("conv supports 1 or 2 spatial dimensions");
  })
}

int ct_conv_transpose2d(ct_tensor x, ct_tensor w, ct_tensor bias, const int64_t *stride,
                        const int64_t *padding, const int64_t *output_padding, int64_t groups,
                        const int64_t *dilation, ct_tensor *out) {
  GUARD(require_same_device(x->t, {&w->t, maybe(bias)}); *out = wrap(at::conv_transpose2d(x->t, w->t, optional_tensor(bias), dims(stride, 2),
                                         dims(padding, 2), dims(output_padding, 2), groups,
                                         dims(dilation, 2))))
}

int ct_linear(ct_tensor x, ct_tensor w, ct_tensor bias, ct_tensor *out) {
  GUARD(require_same_device(x->t, {&w->t, maybe(bias)}); *out = wrap(at::linear(x->t, w->t, optional_tensor(bias))))
}

int ct_group_norm(ct_tensor x, int64_t groups, ct_tensor w, ct_tensor b, double eps,
                  ct_tensor *out) {
  GUARD(require_same_device(x->t, {maybe(w), maybe(b)}); *out = wrap(at::group_norm(x->t, groups, optional_tensor(w), optional_tensor(b), eps)))
}

int ct_layer_norm(ct_tensor x, const int64_t *normalized_shape, int n, ct_tensor w, ct_tensor b,
                  double eps, ct_tensor *out) {
  GUARD(require_same_device(x->t, {maybe(w), maybe(b)}); *out = wrap(at::layer_norm(x->t, dims(normalized_shape, n), optional_tensor(w),
                                   optional_tensor(b), eps)))
}

int ct_softmax(ct_tensor x, int64_t dim, bool log, ct_tensor *out) {
  GUARD(*out = wrap(log ? at::log_softmax(x->t, dim) : at::softmax(x->t, dim)))
}

int ct_interpolate(ct_tensor x, int mode, const int64_t *size, const double *scales,
                   bool align_corners, bool antialias, ct_tensor *out) {
  GUARD({
    const at::Tensor &in = x->t;
    if (in.dim() != 4) throw std::invalid_argument("interpolate expects a 4-D (N, C, H, W) tensor");
    at::IntArrayRef sz = dims(size, 2);
    c10::optional<double> sh = scales ? c10::optional<double>(scales[0]) : c10::nullopt;
    c10::optional<double> sw = scales ? c10::optional<double>(scales[1]) : c10::nullopt;
    at::Tensor r;
    switch (mode) {
      case 0: r = at::upsample_nearest2d(in, sz, sh, sw); break;
      case 1:
        r = antialias ? at::_upsample_bilinear2d_aa(in, sz, align_corners, sh, sw)
                      : at::upsample_bilinear2d(in, sz, align_corners, sh, sw);
        break;
      case 2:
        r = antialias ? at::_upsample_bicubic2d_aa(in, sz, align_corners, sh, sw)
                      : at::upsample_bicubic2d(in, sz, align_corners, sh, sw);
        break;
      case 3: r = at::adaptive_avg_pool2d(in, sz); break;
      default: throw std::invalid_argument("unknown interpolation mode");
    }
    *out = wrap(std::move(r));
  })
}

int ct_avg_pool2d(ct_tensor x, const int64_t *kernel, const int64_t *stride,
                  const int64_t *padding, bool count_include_pad, ct_tensor *out) {
  GUARD(*out = wrap(at::avg_pool2d(x->t, dims(kernel, 2), dims(stride, 2), dims(padding, 2),
                                   /*ceil_mode=*/false, count_include_pad)))
}

int ct_max_pool2d(ct_tensor x, const int64_t *kernel, const int64_t *stride,
                  const int64_t *padding, ct_tensor *out) {
  GUARD(*out = wrap(at::max_pool2d(x->t, dims(kernel, 2), dims(stride, 2), dims(padding, 2))))
}

int ct_linalg_eigh(ct_tensor x, ct_tensor *values, ct_tensor *vectors) {
  GUARD({
    auto result = at::linalg_eigh(x->t);
    *values = wrap(std::get<0>(result));
    *vectors = wrap(std::get<1>(result));
  })
}

int ct_mse_loss(ct_tensor a, ct_tensor b, ct_tensor *out) {
  GUARD(*out = wrap(at::mse_loss(a->t, b->t)))
}

// ---- autograd ----

int ct_set_requires_grad(ct_tensor t, bool on) { GUARD(t->t.set_requires_grad(on)) }
bool ct_requires_grad(ct_tensor t) { return t->t.requires_grad(); }

int ct_backward(ct_tensor t, ct_tensor grad) {
  GUARD({
    if (grad) t->t.backward(grad->t);
    else t->t.backward();
  })
}

int ct_grad(ct_tensor t, ct_tensor *out) {
  GUARD({
    const at::Tensor &g = t->t.grad();
    *out = g.defined() ? wrap(g) : nullptr;
  })
}

int ct_set_grad_undefined(ct_tensor t) { GUARD(t->t.mutable_grad() = at::Tensor()) }
int ct_detach(ct_tensor t, ct_tensor *out) { GUARD(*out = wrap(t->t.detach())) }
bool ct_grad_enabled(void) { return c10::GradMode::is_enabled(); }
void ct_set_grad_enabled(bool on) { c10::GradMode::set_enabled(on); }

// Autocast per device type (CPU or CUDA); libtorch 2.4 made the device a parameter.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
static bool autocast_enabled(at::DeviceType d) { return at::autocast::is_autocast_enabled(d); }
static at::ScalarType autocast_dtype(at::DeviceType d) { return at::autocast::get_autocast_dtype(d); }
static void set_autocast_dtype(at::DeviceType d, at::ScalarType t) { at::autocast::set_autocast_dtype(d, t); }
static void set_autocast_enabled(at::DeviceType d, bool on) { at::autocast::set_autocast_enabled(d, on); }
#else
static bool autocast_enabled(at::DeviceType d) { return d == at::kCPU ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled(); }
static at::ScalarType autocast_dtype(at::DeviceType d) {
  return d == at::kCPU ? at::autocast::get_autocast_cpu_dtype() : at::autocast::get_autocast_gpu_dtype();
}
static void set_autocast_dtype(at::DeviceType d, at::ScalarType t) {
  if (d == at::kCPU) at::autocast::set_autocast_cpu_dtype(t);
  else at::autocast::set_autocast_gpu_dtype(t);
}
static void set_autocast_enabled(at::DeviceType d, bool on) {
  if (d == at::kCPU) at::autocast::set_cpu_enabled(on);
  else at::autocast::set_enabled(on);
}
#endif

bool ct_autocast_enabled(int device) { return autocast_enabled(device_of(device).type()); }
bool ct_autocast_supports(int device, int dtype) {
  const at::DeviceType d = device_of(device).type();
  const at::ScalarType previous = autocast_dtype(d);
  try {
    set_autocast_dtype(d, scalar_type(dtype));
  } catch (const std::exception &) {
    return false;
  }
  set_autocast_dtype(d, previous);
  return true;
}

void ct_set_autocast(int device, bool on, int dtype) {
  const at::DeviceType d = device_of(device).type();
  if (on) set_autocast_dtype(d, scalar_type(dtype));
  set_autocast_enabled(d, on);
  if (!on) at::autocast::clear_cache();
}

// ---- runtime ----

void ct_set_num_threads(int n) { at::set_num_threads(n); }

// glibc serves blocks above its mmap threshold (128 KB, adapting up to 32 MB) with fresh mappings
// and unmaps them on free, so every large activation costs page faults; and it trims the heap top
// back to the system. Keeping freed memory in the heap for reuse removes both.
void ct_keep_freed_memory(void) {
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, INT_MAX);
  mallopt(M_TOP_PAD, 64 << 20);
}
void ct_release_freed_memory(void) { malloc_trim(0); }

// Measured: 1 run in 30 of a test that stops a server aborted after its last line with "double free
// or corruption", a worker thread ending while exit ran libtorch 1.13's static destructors. What the
// process writes is flushed or closed by then; the destructors only free memory.
static void end_without_teardown(int status, void *) {
  fflush(nullptr);
  _exit(status);
}
void ct_skip_teardown_at_exit(void) { on_exit(end_without_teardown, nullptr); }
int ct_get_num_threads(void) { return at::get_num_threads(); }

void ct_set_num_interop_threads(int n) {
  try {
    at::set_num_interop_threads(n);
  } catch (...) {
    // Only settable once, before any inter-op work; later calls are ignored by design.
  }
}

int ct_runtime_info(char **version, char **config, char **parallel, char **capability) {
  GUARD({
    std::string v = std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) +
                    "." + std::to_string(TORCH_VERSION_PATCH);
    *version = copy_string(v);
    *config = copy_string(at::show_config());
    *parallel = copy_string(at::get_parallel_info());
    // get_cpu_capability() is not exported by every build; show_config() states it.
    std::string config_text = at::show_config(), cap = "unknown";
    const std::string key = "CPU capability usage: ";
    auto at_key = config_text.find(key);
    if (at_key != std::string::npos) {
      auto end = config_text.find('\n', at_key);
      cap = config_text.substr(at_key + key.size(), end == std::string::npos ? std::string::npos : end - at_key - key.size());
    }
    *capability = copy_string(cap);
  })
}

}  // extern "C"

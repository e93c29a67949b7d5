// 3x3 convolutions in inference by Winograd's minimal filtering, F(4x4, 3x3), through oneDNN.
//
// libtorch asks oneDNN for direct convolutions only. oneDNN also has a Winograd kernel for AVX-512
// (jit_wino_4x3), which computes a 3x3 convolution's 6x6 tiles with 2.25x fewer multiplications.
// Measured on the AVX-512 EPYC VM, 2 threads, 128-1280 channels at 16^2-1024^2 pixels: 2.4-3.2x
// faster than the direct kernel libtorch runs (200-240 GFLOP/s against 520-700 equivalent), each
// output within 1-2e-5 of the direct one at magnitudes of 5 (a few units of float32's rounding).
//
// The weights are transformed on every call (nothing here can tell when a tensor's values change),
// which costs about as much as the convolution saves at 64x64 pixels: so only outputs of at least
// `min_pixels` (default 128x128 per image) take this path, where the transform is under a quarter
// of the saving. Blocked copies live in libtorch's allocator (the project's caching allocator), not
// oneDNN's own. Where oneDNN has no such kernel (no AVX-512) libtorch's convolution runs.
#include <atomic>

#include "shim_internal.h"

#if FMBOOST_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace {
std::atomic<int64_t> min_pixels{int64_t(128) * 128};
std::atomic<bool> refused{false};
std::atomic<int64_t> calls{0};
// What one band's buffers may take together: its input rows, oneDNN's blocked input and output, the
// scratchpad (the transformed tiles), the blocked weights and a band-sized output buffer. oneDNN
// picks its implementation by CPU (F(4x4, 3x3) or F(2x2, 3x3) on AVX-512, with scratchpads of
// different sizes), so the band's rows follow the sizes the chosen plan reports, not a fixed input
// size. Measured on the SD decoder to 512 px (F(4x4, 3x3)): bands of 4-8 MiB of input 6.3-6.5 s and
// 1.57 GiB peak, 32 MiB 6.4 s and 2.0 GiB, one band 6.7 s and 3.3 GiB (direct: 11.8 s, 1.7 GiB).
std::atomic<int64_t> workspace_budget{int64_t(32) << 20};
std::atomic<int64_t> last_workspace{0};

#if FMBOOST_ONEDNN
dnnl::engine &cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// An fp32 tensor of these dims in whatever layout oneDNN's kernel prefers.
dnnl::memory::desc any(const dnnl::memory::dims &dims) {
  return dnnl::memory::desc(dims, dnnl::memory::data_type::f32, dnnl::memory::format_tag::any);
}

// Whether this oneDNN has a Winograd kernel for this CPU: asked once, on a small problem.
bool supported() {
  static const bool answer = [] {
    try {
      dnnl::convolution_forward::primitive_desc(
          dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_winograd,
                                          any({1, 16, 8, 8}), any({16, 16, 3, 3}), any({1, 16, 8, 8}), {1, 1},
                                          {1, 1}, {1, 1}),
          cpu_engine());
      return true;
    } catch (const dnnl::error &) {
      return false;
    }
  }();
  return answer;
}

dnnl::memory::desc strided_desc(const at::Tensor &t) {
  return dnnl::memory::desc(dnnl::memory::dims(t.sizes().begin(), t.sizes().end()), dnnl::memory::data_type::f32,
                            dnnl::memory::dims(t.strides().begin(), t.strides().end()));
}

// A oneDNN memory over a fresh libtorch buffer of the layout oneDNN chose; `keep` holds the buffer.
dnnl::memory blocked(const dnnl::memory::desc &desc, std::vector<at::Tensor> &keep) {
  keep.push_back(at::empty({int64_t(desc.get_size())}, at::kByte));
  return dnnl::memory(desc, cpu_engine(), keep.back().data_ptr());
}
#endif
}  // namespace

namespace ctorch {

bool winograd_applies(const at::Tensor &like, int64_t channels, int64_t height, int64_t width, const at::Tensor &w,
                      const c10::optional<at::Tensor> &bias, at::IntArrayRef stride, at::IntArrayRef padding,
                      at::IntArrayRef dilation, int64_t groups) {
#if FMBOOST_ONEDNN
  const int64_t threshold = min_pixels.load();
  if (threshold <= 0 || refused.load() || c10::GradMode::is_enabled() || w.dim() != 4 || !like.device().is_cpu() ||
      like.scalar_type() != at::kFloat || w.scalar_type() != at::kFloat || groups != 1 || w.size(2) != 3 ||
      w.size(3) != 3 || stride[0] != 1 || stride[1] != 1 || dilation[0] != 1 || dilation[1] != 1 || padding[0] > 1 ||
      padding[1] > 1)
    return false;
  const int64_t features = w.size(0), rows = height + 2 * padding[0] - 2, columns = width + 2 * padding[1] - 2;
  if (w.size(1) != channels || channels % 16 != 0 || features % 16 != 0 || rows < 1 || columns < 1 ||
      rows * columns < threshold)
    return false;
  if (bias && (bias->scalar_type() != at::kFloat || bias->numel() != features)) return false;
  return supported();
#else
  (void)like, (void)channels, (void)height, (void)width, (void)w, (void)bias, (void)stride, (void)padding,
      (void)dilation, (void)groups;
  return false;
#endif
}

bool conv2d_winograd(const BandSource &x, const at::Tensor &w, const c10::optional<at::Tensor> &bias,
                     at::IntArrayRef padding, at::Tensor &out, const at::Tensor &sum) {
#if FMBOOST_ONEDNN
  const int64_t batch = x.batch, channels = x.channels, features = w.size(0);
  const int64_t rows = x.height + 2 * padding[0] - 2, columns = x.width + 2 * padding[1] - 2;
  using dnnl::memory;
  bool added = false;  // a band is in `sum`: from then on an error cannot be undone by a fallback
  try {
    const int64_t row_bytes = batch * channels * x.width * int64_t(sizeof(float));
    const at::Tensor weights = w.contiguous();
    const c10::optional<at::Tensor> b = bias ? c10::optional<at::Tensor>(bias->contiguous()) : c10::nullopt;
    at::Tensor y = sum.defined() ? sum
                                 : at::empty({batch, features, rows, columns},
                                             x.like.options().memory_format(x.like.suggest_memory_format()));
    const c10::optional<memory> bias_user =
        b ? c10::optional<memory>(memory(strided_desc(*b), cpu_engine(), b->data_ptr())) : c10::nullopt;
    dnnl::primitive_attr attributes;
    attributes.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    // Bands of output rows (a multiple of the 4-row tile), all of one shape so that one plan and one
    // transform of the weights serve them all.
    const auto plan_for = [&](int64_t band) {
      const memory::dims src_dims{batch, channels, band + 2, x.width}, weight_dims{features, channels, 3, 3},
          dst_dims{batch, features, band, columns}, unit{1, 1}, pad{0, padding[1]};
      const auto op = b ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference,
                                                          dnnl::algorithm::convolution_winograd, any(src_dims),
                                                          any(weight_dims), bias_user->get_desc(), any(dst_dims), unit, pad, pad)
                        : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference,
                                                          dnnl::algorithm::convolution_winograd, any(src_dims),
                                                          any(weight_dims), any(dst_dims), unit, pad, pad);
      return dnnl::convolution_forward::primitive_desc(op, attributes, cpu_engine());
    };
    const auto workspace = [&](const dnnl::convolution_forward::primitive_desc &plan, int64_t band) {
      const int64_t output_band = batch * features * band * columns * int64_t(sizeof(float));
      return row_bytes * (band + 2) + output_band + int64_t(plan.src_desc().get_size() + plan.dst_desc().get_size() +
                                                            plan.scratchpad_desc().get_size() + plan.weights_desc().get_size());
    };
    // The buffers grow about linearly with the band's rows: scale the band to the budget, a few times
    // since the fixed part (weights, per-thread scratch) does not scale.
    const int64_t budget = workspace_budget.load();
    int64_t band = std::min(rows, std::max<int64_t>(4, budget / 4 / std::max<int64_t>(1, row_bytes) / 4 * 4));
    auto plan = plan_for(band);
    int64_t bytes = workspace(plan, band);
    for (int attempt = 0; attempt < 6 && bytes > budget && band > 4; attempt++) {
      band = std::max<int64_t>(4, std::min(band - 4, band * budget / bytes / 4 * 4));
      plan = plan_for(band);
      bytes = workspace(plan, band);
    }
    last_workspace = bytes;
    const dnnl::convolution_forward convolution(plan);

    dnnl::stream stream(cpu_engine());
    std::vector<at::Tensor> keep;
    memory weight_user(strided_desc(weights), cpu_engine(), weights.data_ptr());
    memory kernel = blocked(plan.weights_desc(), keep), src = blocked(plan.src_desc(), keep),
           dst = blocked(plan.dst_desc(), keep), scratch = blocked(plan.scratchpad_desc(), keep);
    dnnl::reorder(weight_user, kernel).execute(stream, weight_user, kernel);
    std::unordered_map<int, memory> arguments{
        {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, kernel}, {DNNL_ARG_DST, dst}, {DNNL_ARG_SCRATCHPAD, scratch}};
    if (bias_user) arguments.emplace(DNNL_ARG_BIAS, *bias_user);
    at::Tensor whole;
    for (int64_t first = 0; first < rows; first += band) {
      // Input rows first - padding ... first + band + 1 - padding.
      const at::Tensor rows_in = x.rows(first - padding[0], first - padding[0] + band + 2);
      memory input_user(strided_desc(rows_in), cpu_engine(), rows_in.data_ptr());
      dnnl::reorder(input_user, src).execute(stream, input_user, src);
      convolution.execute(stream, arguments);
      const int64_t count = std::min(band, rows - first);
      at::Tensor target = y.narrow(2, first, count);
      // Through a band-sized buffer when only the first rows of the last band are kept, or a band is
      // added to `sum`; otherwise reordered straight into the output.
      if (count < band || sum.defined()) {
        if (!whole.defined()) whole = at::empty({batch, features, band, columns}, y.options());
        memory whole_user(strided_desc(whole), cpu_engine(), whole.data_ptr());
        dnnl::reorder(dst, whole_user).execute(stream, dst, whole_user);
        stream.wait();
        if (sum.defined()) {
          added = true;
          target.add_(whole.narrow(2, 0, count));
        } else {
          target.copy_(whole.narrow(2, 0, count));
        }
      } else {
        memory target_user(strided_desc(target), cpu_engine(), target.data_ptr());
        dnnl::reorder(dst, target_user).execute(stream, dst, target_user);
      }
    }
    stream.wait();
    out = std::move(y);
    calls.fetch_add(1);
    return true;
  } catch (const dnnl::error &error) {
    if (added) throw;
    // Nothing outside the fresh output was written: libtorch's convolution computes it instead.
    if (error.status == dnnl_unimplemented) refused = true;  // no kernel for such problems: never ask again
    return false;
  }
#else
  (void)x, (void)w, (void)bias, (void)padding, (void)out, (void)sum;
  return false;
#endif
}

}  // namespace ctorch

extern "C" {

void ct_set_winograd_workspace_budget(int64_t bytes) { workspace_budget = bytes; }
int64_t ct_winograd_workspace_budget(void) { return workspace_budget.load(); }
int64_t ct_winograd_last_workspace(void) { return last_workspace.load(); }
void ct_set_winograd_min_pixels(int64_t pixels) { min_pixels = pixels; }
int64_t ct_winograd_min_pixels(void) { return min_pixels.load(); }
int ct_winograd_available(void) {
#if FMBOOST_ONEDNN
  return supported() && !refused.load() ? 1 : 0;
#else
  return 0;
#endif
}
int64_t ct_winograd_calls(void) { return calls.load(); }

}  // extern "C"

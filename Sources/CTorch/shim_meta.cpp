// Shape-only (meta device) kernels for the operators libtorch's C++ library has none for (1.13
// and 2.x alike: PyTorch registers them from Python), so that a whole pipeline can run on `meta`
// (the device tests: any tensor made on the CPU by mistake then fails). Registered the first time a
// meta device is asked for, only where an operator has no meta kernel of its own.
#include "shim_internal.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <mutex>
#include <torch/library.h>

namespace {

// libtorch 2 passes sizes in these schemas as symbolic integers.
#if TORCH_VERSION_MAJOR >= 2
using Ints = c10::SymIntArrayRef;
using Int = c10::SymInt;
std::vector<int64_t> concrete(Ints v) {
  std::vector<int64_t> out;
  for (const auto &i : v) out.push_back(i.expect_int());
  return out;
}
int64_t concrete(const Int &i) { return i.expect_int(); }
#else
using Ints = at::IntArrayRef;
using Int = int64_t;
std::vector<int64_t> concrete(Ints v) { return v.vec(); }
int64_t concrete(Int i) { return i; }
#endif

std::vector<int64_t> conv_output_shape(const at::Tensor &input, const at::Tensor &weight, at::IntArrayRef stride,
                                       at::IntArrayRef padding, at::IntArrayRef dilation, bool transposed,
                                       at::IntArrayRef output_padding, int64_t groups) {
  const int64_t spatial = input.dim() - 2;
  auto at_or_last = [](at::IntArrayRef v, int64_t i) { return v.empty() ? 0 : v[std::min<int64_t>(i, v.size() - 1)]; };
  std::vector<int64_t> shape{input.size(0), transposed ? weight.size(1) * groups : weight.size(0)};
  for (int64_t i = 0; i < spatial; i++) {
    const int64_t size = input.size(i + 2), kernel = weight.size(i + 2);
    const int64_t s = std::max<int64_t>(1, at_or_last(stride, i)), p = at_or_last(padding, i);
    const int64_t d = std::max<int64_t>(1, at_or_last(dilation, i));
    shape.push_back(transposed ? (size - 1) * s - 2 * p + d * (kernel - 1) + at_or_last(output_padding, i) + 1
                               : (size + 2 * p - d * (kernel - 1) - 1) / s + 1);
  }
  return shape;
}

at::Tensor convolution(const at::Tensor &input, const at::Tensor &weight, const c10::optional<at::Tensor> &, Ints stride,
                       Ints padding, Ints dilation, bool transposed, Ints output_padding, Int groups) {
  ctorch::require_same_device(input, {&weight});
  return at::empty(conv_output_shape(input, weight, concrete(stride), concrete(padding), concrete(dilation), transposed,
                                     concrete(output_padding), concrete(groups)),
                   input.options());
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> convolution_backward(
    const at::Tensor &, const at::Tensor &input, const at::Tensor &weight, Ints, Ints, Ints, bool transposed, Ints,
    Int groups, std::array<bool, 3> mask) {
  const int64_t bias = transposed ? weight.size(1) * concrete(groups) : weight.size(0);
  return {mask[0] ? at::empty_like(input) : at::Tensor(), mask[1] ? at::empty_like(weight) : at::Tensor(),
          mask[2] ? at::empty({bias}, weight.options()) : at::Tensor()};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> batch_norm(
    const at::Tensor &input, const c10::optional<at::Tensor> &, const c10::optional<at::Tensor> &,
    const c10::optional<at::Tensor> &, const c10::optional<at::Tensor> &, bool, double, double) {
  const int64_t channels = input.size(1);
  auto statistics = input.options().dtype((input.scalar_type() == at::kHalf || input.scalar_type() == at::kBFloat16) ? at::kFloat : input.scalar_type());
  return {at::empty_like(input), at::empty({channels}, statistics), at::empty({channels}, statistics)};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> batch_norm_backward(
    const at::Tensor &, const at::Tensor &input, const c10::optional<at::Tensor> &weight,
    const c10::optional<at::Tensor> &, const c10::optional<at::Tensor> &, const c10::optional<at::Tensor> &,
    const c10::optional<at::Tensor> &, bool, double, std::array<bool, 3> mask) {
  auto per_channel = [&] {
    return weight.has_value() && weight->defined() ? at::empty_like(*weight) : at::empty({input.size(1)}, input.options());
  };
  return {mask[0] ? at::empty_like(input) : at::Tensor(), mask[1] ? per_channel() : at::Tensor(),
          mask[2] ? per_channel() : at::Tensor()};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> group_norm_backward(
    const at::Tensor &, const at::Tensor &input, const at::Tensor &, const at::Tensor &, const c10::optional<at::Tensor> &,
    c10::SymInt, c10::SymInt channels, c10::SymInt, int64_t, std::array<bool, 3> mask) {
  auto per_channel = [&] { return at::empty({channels.expect_int()}, input.options()); };
  return {mask[0] ? at::empty_like(input) : at::Tensor(), mask[1] ? per_channel() : at::Tensor(),
          mask[2] ? per_channel() : at::Tensor()};
}

at::Tensor relu(const at::Tensor &self) { return at::empty_like(self); }

at::Tensor where(const at::Tensor &condition, const at::Tensor &self, const at::Tensor &other) {
  auto shape = at::infer_size(at::infer_size(condition.sizes(), self.sizes()), other.sizes());
  return at::empty(shape, self.options().dtype(at::result_type(self, other)));
}

at::Tensor index_select(const at::Tensor &self, int64_t dim, const at::Tensor &index) {
  auto shape = self.sizes().vec();
  if (!shape.empty()) shape[c10::maybe_wrap_dim(dim, self.dim())] = index.numel();
  return at::empty(shape, self.options());
}

at::Tensor pad2d(const at::Tensor &self, Ints sizes) {
  const auto padding = concrete(sizes);
  TORCH_CHECK(padding.size() == 4, "2-d padding takes 4 values");
  auto shape = self.sizes().vec();
  shape[shape.size() - 1] += padding[0] + padding[1];
  shape[shape.size() - 2] += padding[2] + padding[3];
  return at::empty(shape, self.options());
}

}  // namespace

namespace ctorch {

void ensure_meta_kernels() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Never destroyed: deregistering at exit would race with libtorch's own teardown.
    static torch::Library &library = *new torch::Library(torch::Library::IMPL, "aten", c10::DispatchKey::Meta, __FILE__, __LINE__);
    // Only where the operator has no meta kernel of its own (replacing one would print a warning).
    auto add = [](const char *name, const char *overload, auto kernel) {
      auto op = c10::Dispatcher::singleton().findSchema({std::string("aten::") + name, overload});
      if (op && !op->hasKernelForDispatchKey(c10::DispatchKey::Meta)) {
        const std::string qualified = name + std::string(*overload ? "." : "") + overload;
        library.impl(qualified.c_str(), kernel);
      }
    };
    add("convolution_overrideable", "", TORCH_FN(convolution));
    add("convolution_backward_overrideable", "", TORCH_FN(convolution_backward));
    add("native_batch_norm", "", TORCH_FN(batch_norm));
    add("native_batch_norm_backward", "", TORCH_FN(batch_norm_backward));
    add("native_group_norm_backward", "", TORCH_FN(group_norm_backward));
    add("relu", "", TORCH_FN(relu));
    add("where", "self", TORCH_FN(where));
    add("index_select", "", TORCH_FN(index_select));
    add("reflection_pad2d", "", TORCH_FN(pad2d));
  });
}

}  // namespace ctorch

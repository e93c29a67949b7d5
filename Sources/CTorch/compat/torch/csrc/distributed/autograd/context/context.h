// Debian's libtorch-dev ships c10d/reducer.hpp but not the distributed-autograd header it includes,
// from which it needs two type names (a static_assert, and a shared_ptr member whose layout does not
// depend on the class). These are those names, as in PyTorch 1.13's
// torch/csrc/distributed/autograd/context/context.h; nothing else of the class is used.
#pragma once
#if __has_include_next(<torch/csrc/distributed/autograd/context/context.h>)
// A libtorch that ships the real header (LIBTORCH=...) gets it.
#include_next <torch/csrc/distributed/autograd/context/context.h>
#else
#include <ATen/core/Tensor.h>
#include <functional>
#include <memory>

namespace torch {
namespace distributed {
namespace autograd {
class DistAutogradContext {
 public:
  using GradCallback = std::function<bool(at::Tensor &)>;
};
using ContextPtr = std::shared_ptr<DistAutogradContext>;
}  // namespace autograd
}  // namespace distributed
}  // namespace torch
#endif

// c10d process groups (TCPStore rendezvous, Gloo collectives) and the DDP gradient reducer.
// Debian builds libtorch with Gloo; its headers declare ProcessGroupGloo only under this macro.
#define USE_C10D_GLOO 1
#include "shim_internal.h"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/comm.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>

#include <cstdlib>

struct ct_process_group_s {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroup> group;
};
struct ct_reducer_s {
  std::shared_ptr<c10d::Reducer> reducer;
};

namespace {
std::shared_ptr<::gloo::transport::Device> gloo_device(const std::string &master) {
  if (const char *interface = std::getenv("GLOO_SOCKET_IFNAME")) {
    return c10d::ProcessGroupGloo::createDeviceForInterface(interface);
  }
  if (master == "127.0.0.1" || master == "localhost") return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

std::vector<at::Tensor> tensors(const ct_tensor *handles, int n) {
  std::vector<at::Tensor> result;
  result.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) result.push_back(handles[i]->t);
  return result;
}
}  // namespace

extern "C" {

int ct_dist_init(const char *master, int port, int rank, int world_size, int64_t timeout_ms, ct_process_group *out) {
  GUARD({
    std::chrono::milliseconds timeout(timeout_ms);
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<std::uint16_t>(port);
    store_options.isServer = rank == 0;
    store_options.numWorkers = static_cast<size_t>(world_size);
    store_options.waitWorkers = true;
    store_options.timeout = timeout;
    auto store = c10::make_intrusive<c10d::TCPStore>(std::string(master), store_options);
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    options->devices.push_back(gloo_device(master));
    auto gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world_size, options);
#if TORCH_VERSION_MAJOR >= 2
    // PyTorch 2 separates the process group from its backends.
    auto group = c10::make_intrusive<c10d::ProcessGroup>(store, rank, world_size);
    group->setDefaultBackend(c10d::ProcessGroup::BackendType::GLOO);
    group->setBackend(c10::DeviceType::CPU, c10d::ProcessGroup::BackendType::GLOO, gloo);
#else
    c10::intrusive_ptr<c10d::ProcessGroup> group = gloo;
#endif
    *out = new ct_process_group_s{store, group};
  })
}

void ct_dist_free(ct_process_group group) { delete group; }

int ct_dist_broadcast(ct_process_group group, const ct_tensor *handles, int n, int root) {
  GUARD({
    c10::AutoGradMode no_grad(false);  // parameters are overwritten in place
    auto list = tensors(handles, n);
    c10d::broadcast_coalesced(group->group, list, 1 << 24, root);
  })
}

int ct_dist_all_reduce_sum(ct_process_group group, ct_tensor tensor) {
  GUARD({
    std::vector<at::Tensor> list{tensor->t};
    group->group->allreduce(list)->wait();
  })
}

int ct_reducer_new(ct_process_group group, const ct_tensor *parameters, int n, int64_t bucket_bytes, ct_reducer *out) {
  GUARD({
    auto params = tensors(parameters, n);
    // As DistributedDataParallel: a small first bucket (gradients of the last layers arrive first
    // and start communicating early), then buckets of `bucket_bytes`, in reverse parameter order.
    const int64_t first_bucket = std::min<int64_t>(bucket_bytes, 1024 * 1024);
    std::vector<bool> sparse(params.size(), false);
    auto assignment = c10d::compute_bucket_assignment_by_size(
        params, {static_cast<size_t>(first_bucket), static_cast<size_t>(bucket_bytes)}, sparse);
    auto buckets = std::get<0>(assignment);
    auto limits = std::get<1>(assignment);
    std::reverse(buckets.begin(), buckets.end());
    std::reverse(limits.begin(), limits.end());
#if TORCH_VERSION_MAJOR >= 2
    std::vector<int64_t> caps(limits.begin(), limits.end());
    auto reducer = std::make_shared<c10d::Reducer>(
        params, buckets, group->group, sparse, bucket_bytes, /*find_unused_parameters=*/false,
        /*gradient_as_bucket_view=*/false, std::unordered_map<size_t, std::string>(), first_bucket,
        /*skip_all_reduce_unused_params=*/false, /*use_python_reducer=*/false, caps);
#else
    auto reducer = std::make_shared<c10d::Reducer>(
        params, buckets, limits, group->group, sparse, bucket_bytes, /*find_unused_parameters=*/false,
        /*gradient_as_bucket_view=*/false, std::unordered_map<size_t, std::string>(), first_bucket);
#endif
    *out = new ct_reducer_s{reducer};
  })
}

void ct_reducer_free(ct_reducer reducer) { delete reducer; }

int ct_reducer_prepare_for_backward(ct_reducer reducer) {
  GUARD({
    reducer->reducer->prepare_for_forward();
    reducer->reducer->prepare_for_backward({});
  })
}

}  // extern "C"

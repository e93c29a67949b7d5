// Tasks spread over libtorch's intra-op threads from code compiled here.
//
// at::parallel_for cannot do it in this target: its OpenMP body is an inline template whose
// `#pragma omp parallel` is compiled by the includer, and this package is compiled without
// -fopenmp (clang would emit calls to LLVM's libomp; libtorch runs on GCC's libgomp), so the pragma
// is dropped and the loop runs on one thread. libgomp's own entry point, called directly, starts the
// region on the same thread pool libtorch uses; ATen ops called inside it see
// at::in_parallel_region() and stay on their thread. It is looked up among the libraries already
// loaded (whichever libgomp this libtorch brought, renamed in PyTorch's wheels), not linked: linking
// the system's would load a second OpenMP runtime beside a wheel's. Without one, tasks run in order.
#pragma once
#include <ATen/Parallel.h>

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>

namespace ctorch {

using GompParallel = void (*)(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);

inline GompParallel gomp_parallel() {
  static const GompParallel entry = reinterpret_cast<GompParallel>(dlsym(RTLD_DEFAULT, "GOMP_parallel"));
  return entry;
}

// Calls task(i) for every i in [0, count), each exactly once, tasks handed out one at a time.
// The first exception thrown by a task is rethrown here after the region ends.
template <class Task>
void parallel_tasks(int64_t count, const Task &task) {
  const int64_t threads = std::min<int64_t>(count, at::get_num_threads());
  const GompParallel start = gomp_parallel();
  if (threads <= 1 || start == nullptr || at::in_parallel_region()) {
    for (int64_t i = 0; i < count; ++i) task(i);
    return;
  }
  struct Region {
    const Task &task;
    int64_t count;
    std::atomic<int64_t> next{0};
    std::mutex mutex;
    std::exception_ptr error;
  } region{task, count};
  start(
      [](void *data) {
        auto &r = *static_cast<Region *>(data);
        for (int64_t i = r.next++; i < r.count; i = r.next++) {
          try {
            r.task(i);
          } catch (...) {
            std::lock_guard<std::mutex> lock(r.mutex);
            if (!r.error) r.error = std::current_exception();
            r.next = r.count;
          }
        }
      },
      &region, static_cast<unsigned>(threads), 0);
  if (region.error) std::rethrow_exception(region.error);
}

}  // namespace ctorch

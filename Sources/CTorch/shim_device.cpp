// Which devices this build and machine offer.
#include "shim_internal.h"

#include <ATen/detail/CUDAHooksInterface.h>

extern "C" {

// The CUDA hooks register themselves when libtorch_cuda is loaded; without it the default
// interface answers, which knows no devices.
bool ct_cuda_built(void) { return at::CUDAHooksRegistry()->Has("CUDAHooks"); }

int ct_cuda_device_count(void) {
  try {
    return ct_cuda_built() ? static_cast<int>(at::detail::getCUDAHooks().getNumGPUs()) : 0;
  } catch (...) {
    return 0;  // a driver that fails to initialise offers no device
  }
}

bool ct_mps_available(void) { return at::hasMPS(); }

// TF32 in cuDNN's convolutions (libtorch's default: on) and cuBLAS's matrix products (default: off).
void ct_set_allow_tf32(bool on) {
  at::globalContext().setAllowTF32CuDNN(on);
  at::globalContext().setAllowTF32CuBLAS(on);
}

}  // extern "C"

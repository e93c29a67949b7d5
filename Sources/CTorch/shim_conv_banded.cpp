// Large 2-D convolutions in inference, computed in horizontal bands of output rows.
//
// oneDNN (libtorch's CPU convolution) copies an NCHW input into its blocked layout and computes
// into a blocked output before copying that back: for the SD decoder's first 1024 px convolution
// (256 channels) that is two more 1 GB buffers beside the input and the output, and the process's
// peak, whose pages are what the kernel spends its system time on here. Band by band, the blocked
// copies are a band's size; each band reads its rows plus the kernel's halo, zero rows stand in for
// the padding above the first and below the last, and its result is copied into its rows of the
// output. Same kernels and the same products per output pixel (summed in oneDNN's order for the
// band's shape, so equal to about 1e-6).
#include <atomic>

#include "shim_internal.h"

namespace {
std::atomic<int64_t> band_threshold_bytes{int64_t(256) << 20};
}

namespace ctorch {

bool conv2d_banded(const at::Tensor &x, const at::Tensor &w, const c10::optional<at::Tensor> &bias,
                   at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation, int64_t groups,
                   at::Tensor &out) {
  const int64_t threshold = band_threshold_bytes.load();
  if (threshold <= 0 || c10::GradMode::is_enabled() || x.dim() != 4 || !x.device().is_cpu() ||
      int64_t(x.nbytes()) <= threshold || w.dim() != 4)
    return false;
  const int64_t height = x.size(2), kernel = w.size(2);
  const int64_t reach = dilation[0] * (kernel - 1) + 1;  // input rows one output row reads
  const int64_t rows_out = (height + 2 * padding[0] - reach) / stride[0] + 1;
  if (rows_out < 2) return false;
  const int64_t bytes_per_row = int64_t(x.nbytes()) / height;
  const int64_t band_rows = std::max<int64_t>(1, (threshold / 8) / std::max<int64_t>(1, bytes_per_row * stride[0]));
  if (band_rows >= rows_out) return false;
  at::Tensor result;
  for (int64_t first = 0; first < rows_out; first += band_rows) {
    const int64_t count = std::min(band_rows, rows_out - first);
    const int64_t top = first * stride[0] - padding[0], bottom = top + (count - 1) * stride[0] + reach;
    at::Tensor y = at::conv2d(rows_zero_padded(x, top, bottom), w, bias, stride, {0, padding[1]}, dilation, groups);
    if (!result.defined()) result = at::empty({x.size(0), y.size(1), rows_out, y.size(3)}, y.options());
    result.narrow(2, first, count).copy_(y);
  }
  out = std::move(result);
  return true;
}

}  // namespace ctorch

extern "C" {

void ct_set_conv_band_threshold(int64_t bytes) { band_threshold_bytes = bytes; }
int64_t ct_conv_band_threshold(void) { return band_threshold_bytes.load(); }

}  // extern "C"

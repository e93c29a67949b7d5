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

int64_t conv_band_threshold() { return band_threshold_bytes.load(); }

BandSource whole_tensor(const at::Tensor &x) {
  return {x, x.size(0), x.size(1), x.size(2), x.size(3), [x](int64_t top, int64_t bottom) {
            return rows_zero_padded(x.size(2), top, bottom, [&](int64_t from, int64_t to) { return x.narrow(2, from, to - from); });
          }};
}

at::Tensor conv2d_in_bands(const BandSource &x, const at::Tensor &w, const c10::optional<at::Tensor> &bias,
                           at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation, int64_t groups,
                           int64_t band_bytes, const at::Tensor &sum) {
  const int64_t reach = dilation[0] * (w.size(2) - 1) + 1;  // input rows one output row reads
  const int64_t rows_out = (x.height + 2 * padding[0] - reach) / stride[0] + 1;
  const int64_t bytes_per_row = x.batch * x.channels * x.width * int64_t(x.like.element_size());
  const int64_t band_rows = std::max<int64_t>(1, band_bytes / std::max<int64_t>(1, bytes_per_row * stride[0]));
  at::Tensor result = sum;
  for (int64_t first = 0; first < rows_out; first += band_rows) {
    const int64_t count = std::min(band_rows, rows_out - first);
    const int64_t top = first * stride[0] - padding[0], bottom = top + (count - 1) * stride[0] + reach;
    const int64_t row_padding[] = {0, padding[1]};
    at::Tensor y = at::conv2d(x.rows(top, bottom), w, bias, stride, at::IntArrayRef(row_padding), dilation, groups);
    if (!result.defined()) result = at::empty({x.batch, y.size(1), rows_out, y.size(3)}, y.options());
    if (sum.defined())
      result.narrow(2, first, count).add_(y);
    else
      result.narrow(2, first, count).copy_(y);
  }
  return result;
}

namespace {
bool conv2d_banded(const at::Tensor &x, const at::Tensor &w, const c10::optional<at::Tensor> &bias,
                   at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation, int64_t groups,
                   at::Tensor &out) {
  const int64_t threshold = band_threshold_bytes.load();
  if (threshold <= 0 || c10::GradMode::is_enabled() || x.dim() != 4 || !x.device().is_cpu() ||
      int64_t(x.nbytes()) <= threshold || w.dim() != 4)
    return false;
  const int64_t reach = dilation[0] * (w.size(2) - 1) + 1;
  const int64_t rows_out = (x.size(2) + 2 * padding[0] - reach) / stride[0] + 1;
  const int64_t bytes_per_row = int64_t(x.nbytes()) / x.size(2);
  if (rows_out < 2 || (threshold / 8) / std::max<int64_t>(1, bytes_per_row * stride[0]) >= rows_out) return false;
  out = conv2d_in_bands(whole_tensor(x), w, bias, stride, padding, dilation, groups, threshold / 8);
  return true;
}
}  // namespace

at::Tensor conv2d(const at::Tensor &x, const at::Tensor &w, const c10::optional<at::Tensor> &bias,
                  at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation, int64_t groups) {
  at::Tensor out;
  if (x.dim() == 4 && winograd_applies(x, x.size(1), x.size(2), x.size(3), w, bias, stride, padding, dilation, groups)) {
    // oneDNN reads any layout by strides, but not broadcast (zero) strides: such inputs are copied.
    const at::Tensor input = x.is_contiguous() || x.is_contiguous(at::MemoryFormat::ChannelsLast) ? x : x.contiguous();
    if (conv2d_winograd(whole_tensor(input), w, bias, padding, out)) return out;
  }
  if (conv2d_banded(x, w, bias, stride, padding, dilation, groups, out)) return out;
  return at::conv2d(x, w, bias, stride, padding, dilation, groups);
}

}  // namespace ctorch

extern "C" {

void ct_set_conv_band_threshold(int64_t bytes) { band_threshold_bytes = bytes; }
int64_t ct_conv_band_threshold(void) { return band_threshold_bytes.load(); }

}  // extern "C"

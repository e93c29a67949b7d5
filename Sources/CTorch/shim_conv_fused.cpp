// conv2d(silu(group_norm(x))) and conv2d(upsample_nearest(x, x2)) in inference without the tensor
// between them: the convolution reads its input band by band (shim_conv_banded.cpp,
// shim_conv_winograd.cpp), and each band is normalised or upsampled as it is read.
//
// The SD decoder at 1024 px holds 256-channel activations of 1 GiB; the normalised copy of one and
// the upsampled input of its last convolution were two more, and the first touch of those pages is
// what the process spends its system time on (README, "Memory"). Group statistics come first, from
// per-channel moments of the whole input (a mean, then squared deviations from it band by band):
// var_g is the mean of the channels' variances plus the variance of their means, a form that loses
// nothing to cancellation.
// Then a band's rows become x * scale + shift with scale = rstd_g * gamma and shift = beta - mean_g *
// scale, which is how libtorch's GroupNorm kernel applies them too.
#include "shim_internal.h"

namespace {

// Whether a banded computation applies: inference, float32, a stride-1 convolution of odd square
// kernel padded to keep the size, large enough to be worth it (Winograd's threshold, or the band
// threshold of the direct kernel).
bool worth_banding(const at::Tensor &x, int64_t channels, int64_t height, int64_t width, const at::Tensor &w,
                   const c10::optional<at::Tensor> &bias, int64_t padding) {
  if (c10::GradMode::is_enabled() || x.dim() != 4 || !x.device().is_cpu() || x.scalar_type() != at::kFloat ||
      w.dim() != 4 || w.scalar_type() != at::kFloat || w.size(1) != channels || w.size(2) != w.size(3) ||
      w.size(2) % 2 == 0 || padding != w.size(2) / 2)
    return false;
  const int64_t one[] = {1, 1}, pad[] = {padding, padding};
  if (winograd_applies(x, channels, height, width, w, bias, one, pad, one, 1)) return true;
  const int64_t threshold = conv_band_threshold();
  return threshold > 0 && x.size(0) * channels * height * width * int64_t(sizeof(float)) > threshold;
}

at::Tensor convolve(const ctorch::BandSource &source, const at::Tensor &w, const c10::optional<at::Tensor> &bias,
                    int64_t padding) {
  const int64_t one[] = {1, 1}, pad[] = {padding, padding};
  at::Tensor out;
  if (ctorch::winograd_applies(source.like, source.channels, source.height, source.width, w, bias, one, pad, one, 1) &&
      ctorch::conv2d_winograd(source, w, bias, pad, out))
    return out;
  return ctorch::conv2d_in_bands(source, w, bias, one, pad, one, 1, std::max<int64_t>(1, ctorch::conv_band_threshold() / 8));
}

// silu(group_norm(x)) row by row.
ctorch::BandSource group_norm_silu(const at::Tensor &x, int64_t groups, const at::Tensor &gamma, const at::Tensor &beta,
                                   double eps) {
  const int64_t n = x.size(0), c = x.size(1), height = x.size(2), width = x.size(3);
  // Per-channel moments in two passes, the second over 16 MiB bands of rows (6x faster than
  // at::var_mean's Welford pass here).
  const at::Tensor means = x.mean({2, 3}, /*keepdim=*/true);
  at::Tensor squares = at::zeros_like(means);
  const int64_t band = std::max<int64_t>(1, (int64_t(16) << 20) / std::max<int64_t>(1, n * c * width * int64_t(sizeof(float))));
  for (int64_t first = 0; first < height; first += band)
    squares += (x.narrow(2, first, std::min(band, height - first)) - means).square_().sum({2, 3}, /*keepdim=*/true);
  const at::Tensor channel_var = (squares / double(height * width)).view({n, groups, c / groups});
  const at::Tensor channel_mean = means.view({n, groups, c / groups});
  const at::Tensor mean = channel_mean.mean(2, /*keepdim=*/true);
  const at::Tensor var = (channel_var + (channel_mean - mean).square()).mean(2, /*keepdim=*/true);
  const at::Tensor scale = ((var + eps).rsqrt().expand({n, groups, c / groups}).reshape({n, c}) * gamma).view({n, c, 1, 1});
  const at::Tensor shift = beta.view({1, c, 1, 1}) - mean.expand({n, groups, c / groups}).reshape({n, c, 1, 1}) * scale;
  return {x, n, c, x.size(2), x.size(3), [x, scale, shift](int64_t top, int64_t bottom) {
            return ctorch::rows_zero_padded(x.size(2), top, bottom, [&](int64_t from, int64_t to) {
              at::Tensor normed = at::addcmul(shift, x.narrow(2, from, to - from), scale);
              return at::silu_(normed);
            });
          }};
}

// upsample_nearest(x, x2) row by row: output row r is input row r / 2, as libtorch's kernel reads it
// for a factor of 2.
ctorch::BandSource nearest_twice(const at::Tensor &x) {
  const int64_t height = 2 * x.size(2), width = 2 * x.size(3);
  return {x, x.size(0), x.size(1), height, width, [x, height, width](int64_t top, int64_t bottom) {
            return ctorch::rows_zero_padded(height, top, bottom, [&](int64_t from, int64_t to) {
              const int64_t first = from / 2, last = (to - 1) / 2;
              at::Tensor doubled = at::upsample_nearest2d(x.narrow(2, first, last - first + 1),
                                                          {2 * (last - first + 1), width}, 2.0, 2.0);
              return doubled.narrow(2, from - 2 * first, to - from);
            });
          }};
}

}  // namespace

extern "C" {

int ct_group_norm_silu_conv2d(ct_tensor x, int64_t groups, ct_tensor gamma, ct_tensor beta, double eps, ct_tensor w,
                              ct_tensor bias, int64_t padding, ct_tensor *out) {
  GUARD({
    const at::Tensor &in = x->t;
    const auto b = ctorch::optional_tensor(bias);
    const bool banded = in.dim() == 4 && groups > 0 && in.size(1) % groups == 0 && gamma->t.scalar_type() == at::kFloat &&
                        beta->t.scalar_type() == at::kFloat &&
                        worth_banding(in, in.size(1), in.size(2), in.size(3), w->t, b, padding);
    if (banded) {
      *out = ctorch::wrap(convolve(group_norm_silu(in, groups, gamma->t, beta->t, eps), w->t, b, padding));
    } else {
      const int64_t one[] = {1, 1}, pad[] = {padding, padding};
      at::Tensor normed = at::group_norm(in, groups, gamma->t, beta->t, eps);
      at::silu_(normed);
      *out = ctorch::wrap(ctorch::conv2d(normed, w->t, b, one, pad, one, 1));
    }
  })
}

int ct_nearest_twice_conv2d(ct_tensor x, ct_tensor w, ct_tensor bias, int64_t padding, ct_tensor *out) {
  GUARD({
    const at::Tensor &in = x->t;
    const auto b = ctorch::optional_tensor(bias);
    if (in.dim() == 4 && worth_banding(in, in.size(1), 2 * in.size(2), 2 * in.size(3), w->t, b, padding)) {
      *out = ctorch::wrap(convolve(nearest_twice(in), w->t, b, padding));
    } else {
      const int64_t one[] = {1, 1}, pad[] = {padding, padding};
      at::Tensor doubled = at::upsample_nearest2d(in, {2 * in.size(2), 2 * in.size(3)}, 2.0, 2.0);
      *out = ctorch::wrap(ctorch::conv2d(doubled, w->t, b, one, pad, one, 1));
    }
  })
}

}  // extern "C"

// conv2d(silu(group_norm(x))) and conv2d(upsample_nearest(x, x2)) in inference without the tensor
// between them: the convolution reads its input band by band (shim_conv_banded.cpp,
// shim_conv_winograd.cpp), and each band is normalised or upsampled as it is read. The first can
// also add its bands to a residual in place, and a 1x1 convolution can write over its own input:
// together they let a resnet block end without a tensor of its output's size beside its input's.
//
// The SD decoder at 1024 px holds 256-channel activations of 1 GiB; the normalised copy of one and
// the upsampled input of its last convolution were two more, and the first touch of those pages is
// what the process spends its system time on (docs/performance.md, "Memory"). Group statistics come first, from
// per-channel moments of the whole input (a mean, then squared deviations from it band by band):
// var_g is the mean of the channels' variances plus the variance of their means, a form that loses
// nothing to cancellation.
// Then a band's rows become x * scale + shift with scale = rstd_g * gamma and shift = beta - mean_g *
// scale, which is how libtorch's GroupNorm kernel applies them too.
#include "shim_internal.h"

namespace {

// conv2d(f(x)) with stride 1 and `padding` on every side, where f keeps a 4-D x's channels and
// multiplies its height and width by `scale`: band by band from source() where f allows it
// (`can_band`) and the convolution runs in bands anyway (inference, float32, odd square kernel keeping
// the size, by Winograd or above the band threshold); else on whole() by ct_conv's convolution.
// With `sum` defined (of the output's shape and dtype) the result is added to it and `sum` returned.
template <typename Source, typename Whole>
at::Tensor conv2d_after(const at::Tensor &x, bool can_band, int64_t scale, const at::Tensor &w,
                        const c10::optional<at::Tensor> &bias, int64_t padding, Source &&source, Whole &&whole,
                        const at::Tensor &sum = {}) {
  const int64_t one[] = {1, 1}, pad[] = {padding, padding};
  const auto plain = [&] {
    at::Tensor y = ctorch::conv2d(whole(), w, bias, one, pad, one, 1);
    return sum.defined() ? sum.add_(y) : y;
  };
  if (!can_band || x.dim() != 4) return plain();
  const int64_t channels = x.size(1), height = scale * x.size(2), width = scale * x.size(3);
  const bool fits = !c10::GradMode::is_enabled() && x.device().is_cpu() &&
                    x.scalar_type() == at::kFloat && w.dim() == 4 && w.scalar_type() == at::kFloat &&
                    w.size(1) == channels && w.size(2) == w.size(3) && w.size(2) % 2 == 1 && padding == w.size(2) / 2;
  const bool winograd = fits && ctorch::winograd_applies(x, channels, height, width, w, bias, one, pad, one, 1);
  const int64_t threshold = ctorch::conv_band_threshold();
  const bool banded = threshold > 0 && x.size(0) * channels * height * width * int64_t(sizeof(float)) > threshold;
  if (!winograd && !(fits && banded)) return plain();
  const ctorch::BandSource bands = source();
  at::Tensor out;
  if (winograd && ctorch::conv2d_winograd(bands, w, bias, pad, out, sum)) return out;
  return ctorch::conv2d_in_bands(bands, w, bias, one, pad, one, 1, std::max<int64_t>(1, threshold / 8), sum);
}

// Rows of `row_bytes` each in a band of about 16 MiB (at least one).
int64_t rows_per_16_mib(int64_t row_bytes) { return std::max<int64_t>(1, (int64_t(16) << 20) / std::max<int64_t>(1, row_bytes)); }

// Whether t may be overwritten: no gradient is recorded and no other tensor holds it or its memory.
bool sole_holder(const at::Tensor &t) {
  return !c10::GradMode::is_enabled() && !t.requires_grad() && t.use_count() == 1 && t.storage().use_count() == 1 &&
         t.is_non_overlapping_and_dense();
}

// conv2d(x, w, bias) with a 1x1 kernel and no more output than input channels, written over x's own
// memory in bands of rows, as the contiguous (NCHW or channels-last) tensor that starts where x starts.
// Safe because every output element lands at or before the place of an input element of the same or
// an earlier band, and a band's input is read whole before its output is copied.
at::Tensor conv1x1_over_input(const at::Tensor &x, const at::Tensor &w, const c10::optional<at::Tensor> &bias) {
  const int64_t n = x.size(0), c = x.size(1), height = x.size(2), width = x.size(3), f = w.size(0);
  const bool nchw = x.is_contiguous();
  // set_ rather than a view: a view would keep x alive as its base, and with it x's claim on the memory.
  at::Tensor out = at::empty({0}, x.options());
  out.set_(x.storage(), x.storage_offset(), {n, f, height, width},
           nchw ? at::IntArrayRef({f * height * width, height * width, width, 1})
                : at::IntArrayRef({f * height * width, 1, width * f, f}));
  const int64_t band = rows_per_16_mib(c * width * int64_t(x.element_size()));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t top = 0; top < height; top += band) {
      const int64_t rows = std::min(band, height - top);
      const at::Tensor y = at::conv2d(x.narrow(0, i, 1).narrow(2, top, rows), w, bias);
      out.narrow(0, i, 1).narrow(2, top, rows).copy_(y);
    }
  return out;
}

// silu(group_norm(x)) row by row.
ctorch::BandSource group_norm_silu(const at::Tensor &x, int64_t groups, const at::Tensor &gamma, const at::Tensor &beta,
                                   double eps) {
  const int64_t n = x.size(0), c = x.size(1), height = x.size(2), width = x.size(3);
  // Per-channel moments in two passes, the second over 16 MiB bands of rows (6x faster than
  // at::var_mean's Welford pass here).
  const at::Tensor means = x.mean({2, 3}, /*keepdim=*/true);
  at::Tensor squares = at::zeros_like(means);
  const int64_t band = rows_per_16_mib(n * c * width * int64_t(sizeof(float)));
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
                              ct_tensor bias, int64_t padding, ct_tensor sum, int overwrite_sum, ct_tensor *out) {
  GUARD({
    const at::Tensor &in = x->t, &g = gamma->t, &b = beta->t, &weight = w->t;
    ctorch::require_same_device(in, {&g, &b, &weight, ctorch::maybe(bias), ctorch::maybe(sum)});
    // Bands are normalised with float32 affine parameters over whole groups only.
    const bool can_band = in.dim() == 4 && groups > 0 && in.size(1) % groups == 0 && g.scalar_type() == at::kFloat &&
                          b.scalar_type() == at::kFloat;
    const bool into_sum =
        sum && overwrite_sum && in.dim() == 4 && weight.dim() == 4 && sole_holder(sum->t) &&
        !sum->t.storage().is_alias_of(in.storage()) && sum->t.scalar_type() == in.scalar_type() &&
        sum->t.sizes() == at::IntArrayRef({in.size(0), weight.size(0), in.size(2) + 2 * padding - weight.size(2) + 1,
                                           in.size(3) + 2 * padding - weight.size(3) + 1});
    at::Tensor result = conv2d_after(
        in, can_band, 1, weight, ctorch::optional_tensor(bias), padding,
        [&] { return group_norm_silu(in, groups, g, b, eps); },
        [&] {
          at::Tensor normed = at::group_norm(in, groups, g, b, eps);
          return at::silu_(normed);
        },
        into_sum ? sum->t : at::Tensor());
    if (sum && !into_sum) result = result + sum->t;
    *out = ctorch::wrap(std::move(result));
  })
}

int ct_conv1x1_over_input(ct_tensor x, int overwrite, ct_tensor w, ct_tensor bias, ct_tensor *out) {
  GUARD({
    const at::Tensor &in = x->t, &weight = w->t;
    ctorch::require_same_device(in, {&weight, ctorch::maybe(bias)});
    const bool over = overwrite && in.dim() == 4 && weight.dim() == 4 && weight.size(2) == 1 && weight.size(3) == 1 &&
                      weight.size(1) == in.size(1) && weight.size(0) <= in.size(1) && in.device().is_cpu() &&
                      weight.scalar_type() == in.scalar_type() && sole_holder(in) &&
                      (in.is_contiguous() || in.is_contiguous(at::MemoryFormat::ChannelsLast));
    const int64_t one[] = {1, 1}, zero[] = {0, 0};
    *out = ctorch::wrap(over ? conv1x1_over_input(in, weight, ctorch::optional_tensor(bias))
                             : ctorch::conv2d(in, weight, ctorch::optional_tensor(bias), one, zero, one, 1));
  })
}

int ct_nearest_twice_conv2d(ct_tensor x, ct_tensor w, ct_tensor bias, int64_t padding, ct_tensor *out) {
  GUARD({
    const at::Tensor &in = x->t;
    ctorch::require_same_device(in, {&w->t, ctorch::maybe(bias)});
    *out = ctorch::wrap(conv2d_after(
        in, true, 2, w->t, ctorch::optional_tensor(bias), padding,
        [&] { return nearest_twice(in); },
        [&] { return at::upsample_nearest2d(in, {2 * in.size(-2), 2 * in.size(-1)}, 2.0, 2.0); }));
  })
}

}  // extern "C"

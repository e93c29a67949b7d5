// Fused attention for float32 on AVX2+FMA CPUs: softmax(q·kᵀ)·v computed block by block with the
// online softmax (running row maximum and sum, as FlashAttention), so no score matrix larger than
// one block (72 queries x 192 keys, 54 KB) ever exists and every block is used while it is in L1/L2.
//
// Why not BLAS: with a head dimension of 40 to 160, each sgemm call spends as much time packing its
// operands and clearing its output (OpenBLAS's beta pass) as multiplying, and the separate softmax
// passes move the scores through the cache three more times. Here keys are packed once per batch
// entry, the scores of a block are exponentiated in place, and the product with v accumulates into
// a small output tile.
#include "shim_internal.h"
#include "shim_parallel.h"

#include <immintrin.h>

#include <cmath>
#include <cstdlib>
#include <vector>

namespace {

// A register tile is 6 rows x 16 columns: 12 accumulators, 2 loaded vectors and a broadcast fit in
// AVX2's 16 registers (a 4 x 24 tile needs all 16, and the compiler spilled one in the inner loop).
constexpr int64_t kPanel = 16;         // keys per packed panel: two vectors of 8 floats
constexpr int64_t kTileRows = 6;       // query rows per register tile
constexpr int64_t kBlockRows = 72;     // query rows per task
constexpr int64_t kBlockKeys = 12 * kPanel;  // keys per online-softmax step
// Above this, OpenBLAS's large-K products are faster (one 4096-token head: d 256 alike, 0.50-0.57 s;
// d 512, the SD autoencoder's: 0.33-0.41 s here, 0.25-0.27 s there).
constexpr int64_t kMaxHeadSize = 256;

#define CT_AVX2 __attribute__((target("avx2,fma")))
#define CT_AVX2i __attribute__((target("avx2,fma"))) inline

// exp for x ≤ 88 (Cephes' expf: x = n·ln2 + r, |r| ≤ ln2/2, a degree-5 polynomial for e^r,
// relative error about 2e-7); inputs below ln(FLT_MIN) give FLT_MIN·e^r, not 0, which no sum sees.
CT_AVX2i __m256 exp8(__m256 x) {
  x = _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(88.0f)), _mm256_set1_ps(-87.3f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 y = _mm256_set1_ps(1.9875691500e-4f);
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.3981999507e-3f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(8.3334519073e-3f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(4.1665795894e-2f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.6666665459e-1f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(5.0000001201e-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(bits));
}

CT_AVX2i float horizontal_max(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

CT_AVX2i float horizontal_sum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// s[r][0, 16) = q[r] · panel for 6 query rows (q: rows of d floats; panel: d x 16, key-minor).
CT_AVX2 void score_tile(const float *q, int64_t d, const float *panel, float *s, int64_t lds) {
  __m256 acc[kTileRows][2];
  for (auto &row : acc)
    for (auto &a : row) a = _mm256_setzero_ps();
  for (int64_t i = 0; i < d; ++i) {
    const __m256 k0 = _mm256_loadu_ps(panel + i * kPanel), k1 = _mm256_loadu_ps(panel + i * kPanel + 8);
    for (int r = 0; r < kTileRows; ++r) {
      const __m256 b = _mm256_broadcast_ss(q + r * d + i);
      acc[r][0] = _mm256_fmadd_ps(b, k0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(b, k1, acc[r][1]);
    }
  }
  for (int r = 0; r < kTileRows; ++r)
    for (int c = 0; c < 2; ++c) _mm256_storeu_ps(s + r * lds + 8 * c, acc[r][c]);
}

// o[r][0, 8·V) += Σ_j p[r][j] · v[j][0, 8·V) for 6 rows and j < keys.
template <int V>
CT_AVX2 void value_tile(const float *p, int64_t ldp, int64_t keys, const float *v, int64_t ldv, float *o, int64_t ldo) {
  __m256 acc[kTileRows][V];
  for (int r = 0; r < kTileRows; ++r)
    for (int c = 0; c < V; ++c) acc[r][c] = _mm256_loadu_ps(o + r * ldo + 8 * c);
  for (int64_t j = 0; j < keys; ++j) {
    __m256 vv[V];
    for (int c = 0; c < V; ++c) vv[c] = _mm256_loadu_ps(v + j * ldv + 8 * c);
    for (int r = 0; r < kTileRows; ++r) {
      const __m256 b = _mm256_broadcast_ss(p + r * ldp + j);
      for (int c = 0; c < V; ++c) acc[r][c] = _mm256_fmadd_ps(b, vv[c], acc[r][c]);
    }
  }
  for (int r = 0; r < kTileRows; ++r)
    for (int c = 0; c < V; ++c) _mm256_storeu_ps(o + r * ldo + 8 * c, acc[r][c]);
}

// One online-softmax step for one row: s holds the row's scores for `keys` keys; they become
// e^(s - max), and the row's running maximum, sum and output are rescaled to the new maximum.
CT_AVX2 void softmax_step(float *s, int64_t keys, float &row_max, float &row_sum, float *o, int64_t dv) {
  __m256 m8 = _mm256_set1_ps(-INFINITY);
  int64_t j = 0;
  for (; j + 8 <= keys; j += 8) m8 = _mm256_max_ps(m8, _mm256_loadu_ps(s + j));
  float block_max = horizontal_max(m8);
  for (; j < keys; ++j) block_max = std::max(block_max, s[j]);
  const float new_max = std::max(row_max, block_max);
  const __m256 shift = _mm256_set1_ps(new_max);
  __m256 sum8 = _mm256_setzero_ps();
  for (j = 0; j + 8 <= keys; j += 8) {
    const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(s + j), shift));
    _mm256_storeu_ps(s + j, e);
    sum8 = _mm256_add_ps(sum8, e);
  }
  float sum = horizontal_sum(sum8);
  for (; j < keys; ++j) sum += (s[j] = std::exp(s[j] - new_max));
  if (new_max != row_max) {
    const float alpha = std::exp(row_max - new_max);  // 0 on the first step (row_max = -inf)
    const __m256 a8 = _mm256_set1_ps(alpha);
    for (int64_t c = 0; c < dv; c += 8) _mm256_storeu_ps(o + c, _mm256_mul_ps(a8, _mm256_loadu_ps(o + c)));
    row_sum *= alpha;
    row_max = new_max;
  }
  row_sum += sum;
}

// Keys of one batch entry in panels of 24 (d x 16 each, zero past the last key).
void pack_keys(const float *k, int64_t lk, int64_t d, float *packed) {
  const int64_t panels = (lk + kPanel - 1) / kPanel;
  for (int64_t p = 0; p < panels; ++p)
    for (int64_t i = 0; i < d; ++i)
      for (int64_t c = 0; c < kPanel; ++c) {
        const int64_t key = p * kPanel + c;
        packed[(p * d + i) * kPanel + c] = key < lk ? k[key * d + i] : 0.0f;
      }
}

struct Shapes {
  int64_t lq, lk, d, dv, panels;
};

// One task: queries [first, first + rows) of one batch entry, all keys.
CT_AVX2 void attend_block(const float *q, const float *packed, const float *v, float *out, float scale,
                          const Shapes &n, int64_t first, int64_t rows, std::vector<float> &work) {
  const int64_t tile_rows = (rows + kTileRows - 1) / kTileRows * kTileRows;
  work.assign(tile_rows * (n.d + n.dv + kBlockKeys + 2), 0.0f);
  float *qs = work.data(), *o = qs + tile_rows * n.d, *s = o + tile_rows * n.dv;
  float *row_max = s + tile_rows * kBlockKeys, *row_sum = row_max + tile_rows;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < n.d; ++i) qs[r * n.d + i] = q[(first + r) * n.d + i] * scale;
  for (int64_t r = 0; r < tile_rows; ++r) row_max[r] = -INFINITY;

  for (int64_t j0 = 0; j0 < n.lk; j0 += kBlockKeys) {
    const int64_t keys = std::min(kBlockKeys, n.lk - j0), panels = (keys + kPanel - 1) / kPanel;
    for (int64_t p = 0; p < panels; ++p) {
      const float *panel = packed + (j0 / kPanel + p) * n.d * kPanel;
      for (int64_t r = 0; r < tile_rows; r += kTileRows)
        score_tile(qs + r * n.d, n.d, panel, s + r * kBlockKeys + p * kPanel, kBlockKeys);
    }
    for (int64_t r = 0; r < tile_rows; ++r)
      softmax_step(s + r * kBlockKeys, keys, row_max[r], row_sum[r], o + r * n.dv, n.dv);
    const float *vb = v + j0 * n.dv;
    for (int64_t r = 0; r < tile_rows; r += kTileRows) {
      const float *pr = s + r * kBlockKeys;
      float *orow = o + r * n.dv;
      int64_t c = 0;
      for (; c + 16 <= n.dv; c += 16) value_tile<2>(pr, kBlockKeys, keys, vb + c, n.dv, orow + c, n.dv);
      if (c < n.dv) value_tile<1>(pr, kBlockKeys, keys, vb + c, n.dv, orow + c, n.dv);
    }
  }
  for (int64_t r = 0; r < rows; ++r) {
    const __m256 inv = _mm256_set1_ps(1.0f / row_sum[r]);
    for (int64_t c = 0; c < n.dv; c += 8)
      _mm256_storeu_ps(out + (first + r) * n.dv + c, _mm256_mul_ps(inv, _mm256_loadu_ps(o + r * n.dv + c)));
  }
}

bool fused_kernel_enabled() {
  static const bool enabled = [] {
    const char *choice = std::getenv("FMBOOST_ATTENTION");
    return !(choice != nullptr && std::string(choice) == "blas") && __builtin_cpu_supports("avx2") &&
           __builtin_cpu_supports("fma");
  }();
  return enabled;
}

}  // namespace

namespace ctorch {

bool attention_fused(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v, double scale, at::Tensor &out) {
  if (!fused_kernel_enabled() || q.scalar_type() != at::kFloat || k.scalar_type() != at::kFloat ||
      v.scalar_type() != at::kFloat || q.size(2) % 8 != 0 || v.size(2) % 8 != 0 || q.size(2) > kMaxHeadSize ||
      v.size(2) > kMaxHeadSize || k.size(1) == 0)
    return false;
  const at::Tensor queries = q.contiguous(), keys = k.contiguous(), values = v.contiguous();
  const int64_t batch = queries.size(0);
  const Shapes n{queries.size(1), keys.size(1), queries.size(2), values.size(2), (keys.size(1) + kPanel - 1) / kPanel};
  at::Tensor packed = at::empty({batch, n.panels * n.d * kPanel}, queries.options());
  out = at::empty({batch, n.lq, n.dv}, queries.options());
  const float *qp = queries.data_ptr<float>(), *kp = keys.data_ptr<float>(), *vp = values.data_ptr<float>();
  float *pp = packed.data_ptr<float>(), *op = out.data_ptr<float>();
  parallel_tasks(batch, [&](int64_t b) { pack_keys(kp + b * n.lk * n.d, n.lk, n.d, pp + b * n.panels * n.d * kPanel); });
  const int64_t blocks = (n.lq + kBlockRows - 1) / kBlockRows;
  parallel_tasks(batch * blocks, [&](int64_t task) {
    std::vector<float> work;
    const int64_t b = task / blocks, first = (task % blocks) * kBlockRows;
    attend_block(qp + b * n.lq * n.d, pp + b * n.panels * n.d * kPanel, vp + b * n.lk * n.dv, op + b * n.lq * n.dv,
                 static_cast<float>(scale), n, first, std::min(kBlockRows, n.lq - first), work);
  });
  return true;
}

}  // namespace ctorch

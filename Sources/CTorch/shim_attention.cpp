// Attention for inference, one block of queries per task: scores, softmax and the product with v
// run while the block's scores are still in the core's cache.
//
// float32 with head sizes that are multiples of 8 on AVX2 CPUs goes to shim_attention_fused.cpp's
// kernel (FMBOOST_ATTENTION=blas keeps this path, for comparison). Here each task takes up to 256
// queries of one batch entry (fewer where that would make more than 2^22 scores, 16 MB), so its
// score block stays in the last-level cache through the three steps; the tasks are spread over the
// intra-op threads (shim_parallel.h), the matrix products inside a task on that thread alone.
// Measured with one head of 512 (the SD autoencoder's): 16,384 tokens 4.9 s in blocks of 2^20
// scores, 4.0-4.3 s of 2^22; 4,096 tokens 0.25 s in 256-row blocks, 0.27-0.32 s in 1024-row ones.
#include "shim_internal.h"
#include "shim_parallel.h"

extern "C" {

int ct_attention_blocked(ct_tensor q, ct_tensor k, ct_tensor v, double scale, ct_tensor *out) {
  GUARD({
    TORCH_CHECK(q->t.dim() == 3 && k->t.dim() == 3 && v->t.dim() == 3, "attention: q, k, v must be (B, L, d)");
    require_same_device(q->t, {&k->t, &v->t});
    TORCH_CHECK(k->t.size(0) == q->t.size(0) && v->t.size(0) == q->t.size(0) && v->t.size(1) == k->t.size(1) &&
                    k->t.size(2) == q->t.size(2),
                "attention: shapes do not match: q ", q->t.sizes(), ", k ", k->t.sizes(), ", v ", v->t.sizes());
    at::Tensor result;
    if (ctorch::attention_fused(q->t, k->t, v->t, scale, result)) {
      *out = wrap(std::move(result));
      return 0;
    }
    const at::Tensor queries = (q->t * scale).contiguous(), keys = k->t.contiguous(), values = v->t.contiguous();
    const int64_t batch = queries.size(0), lq = queries.size(1), lk = keys.size(1), dv = values.size(2);
    result = at::empty({batch, lq, dv}, queries.options());
    const int64_t rows = std::min<int64_t>(lq, std::clamp<int64_t>((int64_t(1) << 22) / std::max<int64_t>(1, lk), 16, 256));
    const int64_t blocks = (lq + rows - 1) / rows;
    parallel_tasks(batch * blocks, [&](int64_t task) {
      const int64_t b = task / blocks, first = (task % blocks) * rows, m = std::min(rows, lq - first);
      at::Tensor s = at::empty({m, lk}, queries.options());
      at::mm_out(s, queries[b].narrow(0, first, m), keys[b].t());
      at::_softmax_out(s, s, 1, false);
      at::Tensor o = result[b].narrow(0, first, m);
      at::mm_out(o, s, values[b]);
    });
    *out = wrap(std::move(result));
  })
}

}  // extern "C"

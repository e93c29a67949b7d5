// Attention for inference, one block of queries per task: scores, softmax and the product with v
// run while the block's scores are still in the core's cache.
//
// Each task takes `rows` queries of one batch entry, so its score block (rows x Lk floats, at most
// 4 MB: a core's share of the last-level cache) stays cached through the three steps (1 and 8 MB
// blocks measured alike); the tasks are spread over the intra-op threads, and
// the matrix products inside a task run on that thread alone (OpenBLAS and ATen do not nest
// threads inside a parallel region). Whole-matrix products, each on all threads, send every score
// block out to memory and back twice.
#include "shim_internal.h"

extern "C" {

int ct_attention_blocked(ct_tensor q, ct_tensor k, ct_tensor v, double scale, ct_tensor *out) {
  GUARD({
    TORCH_CHECK(q->t.dim() == 3 && k->t.dim() == 3 && v->t.dim() == 3, "attention: q, k, v must be (B, L, d)");
    const at::Tensor queries = (q->t * scale).contiguous(), keys = k->t.contiguous(), values = v->t.contiguous();
    const int64_t batch = queries.size(0), lq = queries.size(1), lk = keys.size(1), dv = values.size(2);
    TORCH_CHECK(keys.size(0) == batch && values.size(0) == batch && values.size(1) == lk && keys.size(2) == queries.size(2),
                "attention: shapes do not match: q ", queries.sizes(), ", k ", keys.sizes(), ", v ", values.sizes());
    at::Tensor result = at::empty({batch, lq, dv}, queries.options());
    const int64_t rows = std::max<int64_t>(16, std::min<int64_t>(lq, (int64_t(1) << 20) / std::max<int64_t>(1, lk)));
    const int64_t blocks = (lq + rows - 1) / rows;
    at::parallel_for(0, batch * blocks, 1, [&](int64_t begin, int64_t end) {
      at::Tensor scores = at::empty({rows, lk}, queries.options());
      for (int64_t task = begin; task < end; ++task) {
        const int64_t b = task / blocks, first = (task % blocks) * rows, m = std::min(rows, lq - first);
        at::Tensor s = scores.narrow(0, 0, m);
        at::mm_out(s, queries[b].narrow(0, first, m), keys[b].t());
        at::_softmax_out(s, s, 1, false);
        at::Tensor o = result[b].narrow(0, first, m);
        at::mm_out(o, s, values[b]);
      }
    });
    *out = wrap(std::move(result));
  })
}

}  // extern "C"

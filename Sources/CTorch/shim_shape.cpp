// Shape, layout, dtype and device operations.
#include "shim_internal.h"

extern "C" {
// ---- shape ----

int ct_reshape(ct_tensor a, const int64_t *shape, int ndim, ct_tensor *out) {
  GUARD(*out = wrap(a->t.reshape(dims(shape, ndim))))
}

int ct_view(ct_tensor a, const int64_t *shape, int ndim, ct_tensor *out) {
  GUARD(*out = wrap(a->t.view(dims(shape, ndim))))
}

int ct_permute(ct_tensor a, const int64_t *d, int ndim, ct_tensor *out) {
  GUARD(*out = wrap(a->t.permute(dims(d, ndim))))
}

int ct_transpose(ct_tensor a, int64_t d0, int64_t d1, ct_tensor *out) {
  GUARD(*out = wrap(a->t.transpose(d0, d1)))
}

int ct_expand(ct_tensor a, const int64_t *shape, int ndim, ct_tensor *out) {
  GUARD(*out = wrap(a->t.expand(dims(shape, ndim))))
}

int ct_as_strided(ct_tensor a, const int64_t *shape, const int64_t *strides, int ndim,
                  int64_t storage_offset, ct_tensor *out) {
  GUARD(*out = wrap(a->t.as_strided(dims(shape, ndim), dims(strides, ndim), storage_offset)))
}

int ct_contiguous(ct_tensor a, int memory_format, ct_tensor *out) {
  GUARD(*out = wrap(a->t.contiguous(memory_format == 1 ? at::MemoryFormat::ChannelsLast
                                                       : at::MemoryFormat::Contiguous)))
}

int ct_clone(ct_tensor a, ct_tensor *out) { GUARD(*out = wrap(a->t.clone())) }

static std::vector<at::Tensor> tensor_list(const ct_tensor *ts, int n) {
  std::vector<at::Tensor> v;
  v.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; i++) v.push_back(ts[i]->t);
  return v;
}

int ct_cat(const ct_tensor *ts, int n, int64_t dim, ct_tensor *out) {
  GUARD(*out = wrap(at::cat(tensor_list(ts, n), dim)))
}

int ct_stack(const ct_tensor *ts, int n, int64_t dim, ct_tensor *out) {
  GUARD(*out = wrap(at::stack(tensor_list(ts, n), dim)))
}

int ct_narrow(ct_tensor a, int64_t dim, int64_t start, int64_t length, ct_tensor *out) {
  GUARD(*out = wrap(a->t.narrow(dim, start, length)))
}

int ct_slice(ct_tensor a, int64_t dim, int64_t start, int64_t end, int64_t step, ct_tensor *out) {
  GUARD(*out = wrap(a->t.slice(dim, start, end, step)))
}

int ct_select(ct_tensor a, int64_t dim, int64_t index, ct_tensor *out) {
  GUARD(*out = wrap(a->t.select(dim, index)))
}

int ct_index_select(ct_tensor a, int64_t dim, ct_tensor index, ct_tensor *out) {
  GUARD(*out = wrap(a->t.index_select(dim, index->t)))
}

int ct_masked_select(ct_tensor a, ct_tensor mask, ct_tensor *out) {
  GUARD(*out = wrap(a->t.masked_select(mask->t)))
}

int ct_flip(ct_tensor a, const int64_t *d, int ndims, ct_tensor *out) {
  GUARD(*out = wrap(a->t.flip(dims(d, ndims))))
}

int ct_squeeze(ct_tensor a, int64_t dim, ct_tensor *out) { GUARD(*out = wrap(a->t.squeeze(dim))) }
int ct_unsqueeze(ct_tensor a, int64_t dim, ct_tensor *out) { GUARD(*out = wrap(a->t.unsqueeze(dim))) }

int ct_pad(ct_tensor a, const int64_t *pads, int npads, int mode, double value, ct_tensor *out) {
  GUARD({
    static const char *modes[] = {"constant", "reflect", "replicate", "circular"};
    if (mode < 0 || mode > 3) throw std::invalid_argument("unknown pad mode");
    c10::optional<double> v = mode == 0 ? c10::optional<double>(value) : c10::nullopt;
    *out = wrap(at::pad(a->t, dims(pads, npads), modes[mode], v));
  })
}

int ct_to_dtype(ct_tensor a, int dtype, ct_tensor *out) {
  GUARD(*out = wrap(a->t.to(scalar_type(dtype))))
}

int ct_to_device(ct_tensor a, int device, int index, ct_tensor *out) {
  GUARD(*out = wrap(a->t.to(device_of(device, index))))
}

}  // extern "C"

// The only C++ in the project: each function catches every exception and reports it through
// ct_last_error(), so no libtorch error can unwind into Swift.
#include "ctorch.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <c10/core/GradMode.h>
#include <torch/version.h>

#include <atomic>
#include <cstring>
#include <sstream>
#include <string>

struct ct_tensor_s {
  at::Tensor t;
};
struct ct_generator_s {
  at::Generator g;
  bool owned;
};

namespace {
thread_local std::string last_error;
std::atomic<int64_t> live_tensors{0};

int fail(const char *what) {
  last_error = what;
  return 1;
}

ct_tensor wrap(at::Tensor t) {
  live_tensors.fetch_add(1, std::memory_order_relaxed);
  return new ct_tensor_s{std::move(t)};
}

char *copy_string(const std::string &s) {
  char *p = static_cast<char *>(std::malloc(s.size() + 1));
  if (p) std::memcpy(p, s.c_str(), s.size() + 1);
  return p;
}

at::IntArrayRef dims(const int64_t *p, int n) { return at::IntArrayRef(p, static_cast<size_t>(n)); }

at::ScalarType scalar_type(int dtype) { return static_cast<at::ScalarType>(dtype); }

at::Device device_of(int device, int index = -1) {
  switch (device) {
    case 0: return at::Device(at::kCPU);
    case 1: return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index));
    case 2: return at::Device(at::kMeta);
    default: throw std::invalid_argument("unknown device code " + std::to_string(device));
  }
}

at::TensorOptions options(int dtype, int device) {
  return at::TensorOptions().dtype(scalar_type(dtype)).device(device_of(device));
}

c10::optional<at::Tensor> optional_tensor(ct_tensor t) {
  if (t == nullptr) return c10::nullopt;
  return t->t;
}

c10::optional<at::Generator> generator(ct_generator g) {
  if (g == nullptr) return c10::nullopt;
  return g->g;
}

c10::optional<at::Scalar> optional_scalar(const double *p) {
  if (p == nullptr) return c10::nullopt;
  return at::Scalar(*p);
}
}  // namespace

// Every exported function body runs inside GUARD: c10::Error reports its message without the C++
// backtrace; any other std::exception reports what(); anything else is still caught.
#define GUARD(...)                                   \
  try {                                              \
    __VA_ARGS__;                                          \
    return 0;                                        \
  } catch (const c10::Error &e) {                    \
    return fail(e.what_without_backtrace());         \
  } catch (const std::exception &e) {                \
    return fail(e.what());                           \
  } catch (...) {                                    \
    return fail("unknown C++ exception in libtorch"); \
  }

extern "C" {

const char *ct_last_error(void) { return last_error.c_str(); }

void ct_free(ct_tensor t) {
  if (t == nullptr) return;
  live_tensors.fetch_sub(1, std::memory_order_relaxed);
  delete t;
}

int64_t ct_live_tensors(void) { return live_tensors.load(); }
int ct_ndim(ct_tensor t) { return static_cast<int>(t->t.dim()); }

void ct_sizes(ct_tensor t, int64_t *sizes, int capacity) {
  auto s = t->t.sizes();
  for (int i = 0; i < capacity && i < static_cast<int>(s.size()); i++) sizes[i] = s[i];
}

void ct_strides(ct_tensor t, int64_t *strides, int capacity) {
  auto s = t->t.strides();
  for (int i = 0; i < capacity && i < static_cast<int>(s.size()); i++) strides[i] = s[i];
}

int64_t ct_numel(ct_tensor t) { return t->t.numel(); }
int ct_dtype(ct_tensor t) { return static_cast<int>(t->t.scalar_type()); }

int ct_device_type(ct_tensor t) {
  if (t->t.is_cuda()) return 1;
  if (t->t.is_meta()) return 2;
  return 0;
}

bool ct_is_contiguous(ct_tensor t) { return t->t.is_contiguous(); }

int ct_describe(ct_tensor t, char **out) {
  GUARD({
    std::ostringstream s;
    s << t->t;
    *out = copy_string(s.str());
  })
}

void ct_free_string(char *s) { std::free(s); }

// ---- creation ----

int ct_empty(const int64_t *shape, int ndim, int dtype, int device, ct_tensor *out) {
  GUARD(*out = wrap(at::empty(dims(shape, ndim), options(dtype, device))))
}

int ct_full(const int64_t *shape, int ndim, double value, int dtype, int device, ct_tensor *out) {
  GUARD(*out = wrap(at::full(dims(shape, ndim), value, options(dtype, device))))
}

int ct_arange(double start, double end, double step, int dtype, ct_tensor *out) {
  GUARD(*out = wrap(at::arange(start, end, step, options(dtype, 0))))
}

int ct_linspace(double start, double end, int64_t steps, int dtype, ct_tensor *out) {
  GUARD(*out = wrap(at::linspace(start, end, steps, options(dtype, 0))))
}

int ct_from_data(const void *data, int64_t nbytes, const int64_t *shape, int ndim, int dtype,
                 ct_tensor *out) {
  GUARD({
    at::Tensor t = at::empty(dims(shape, ndim), options(dtype, 0));
    if (static_cast<int64_t>(t.nbytes()) != nbytes)
      throw std::invalid_argument("byte count " + std::to_string(nbytes) + " does not match shape (" +
                                  std::to_string(t.nbytes()) + " bytes expected)");
    if (nbytes > 0) std::memcpy(t.data_ptr(), data, static_cast<size_t>(nbytes));
    *out = wrap(std::move(t));
  })
}

int ct_copy_to(ct_tensor t, void *dst, int64_t nbytes) {
  GUARD({
    at::Tensor c = t->t.to(at::kCPU).contiguous();
    if (static_cast<int64_t>(c.nbytes()) != nbytes)
      throw std::invalid_argument("destination holds " + std::to_string(nbytes) + " bytes, tensor has " +
                                  std::to_string(c.nbytes()));
    if (nbytes > 0) std::memcpy(dst, c.data_ptr(), static_cast<size_t>(nbytes));
  })
}

int ct_random(int kind, const int64_t *shape, int ndim, int dtype, ct_generator gen,
              ct_tensor *out) {
  GUARD({
    auto o = options(dtype, 0);
    switch (kind) {
      case 0: *out = wrap(at::rand(dims(shape, ndim), generator(gen), o)); break;
      case 1: *out = wrap(at::randn(dims(shape, ndim), generator(gen), o)); break;
      default: throw std::invalid_argument("unknown random kind");
    }
  })
}

int ct_randint(int64_t low, int64_t high, const int64_t *shape, int ndim, ct_generator gen,
               ct_tensor *out) {
  GUARD(*out = wrap(at::randint(low, high, dims(shape, ndim), generator(gen), at::kLong)))
}

int ct_randperm(int64_t n, ct_generator gen, ct_tensor *out) {
  GUARD(*out = wrap(at::randperm(n, generator(gen), at::kLong)))
}

int ct_random_(ct_tensor t, int kind, double a, double b, ct_generator gen) {
  GUARD({
    switch (kind) {
      case 0: t->t.uniform_(a, b, generator(gen)); break;
      case 1: t->t.normal_(a, b, generator(gen)); break;
      case 2: t->t.bernoulli_(a, generator(gen)); break;
      default: throw std::invalid_argument("unknown random kind");
    }
  })
}

// ---- generators ----

int ct_generator_new(uint64_t seed, ct_generator *out) {
  GUARD(*out = new ct_generator_s{at::make_generator<at::CPUGeneratorImpl>(seed), true})
}

void ct_generator_free(ct_generator g) {
  if (g != nullptr && g->owned) delete g;
}

ct_generator ct_generator_default(void) {
  static ct_generator_s def{at::detail::getDefaultCPUGenerator(), false};
  return &def;
}

int ct_generator_set_seed(ct_generator g, uint64_t seed) {
  GUARD({
    std::lock_guard<std::mutex> lock(g->g.mutex());
    g->g.set_current_seed(seed);
  })
}

int ct_generator_get_state(ct_generator g, ct_tensor *out) {
  GUARD({
    std::lock_guard<std::mutex> lock(g->g.mutex());
    *out = wrap(g->g.get_state());
  })
}

int ct_generator_set_state(ct_generator g, ct_tensor state) {
  GUARD({
    std::lock_guard<std::mutex> lock(g->g.mutex());
    g->g.set_state(state->t);
  })
}

// ---- element-wise ----

int ct_unary(int op, ct_tensor a, ct_tensor *out) {
  GUARD({
    const at::Tensor &x = a->t;
    at::Tensor r;
    switch (op) {
      case CT_NEG: r = x.neg(); break;
      case CT_EXP: r = x.exp(); break;
      case CT_LOG: r = x.log(); break;
      case CT_SQRT: r = x.sqrt(); break;
      case CT_RSQRT: r = x.rsqrt(); break;
      case CT_SIN: r = x.sin(); break;
      case CT_COS: r = x.cos(); break;
      case CT_TANH: r = x.tanh(); break;
      case CT_ABS: r = x.abs(); break;
      case CT_SIGMOID: r = x.sigmoid(); break;
      case CT_RELU: r = x.relu(); break;
      case CT_SILU: r = at::silu(x); break;
      case CT_GELU: r = at::gelu(x); break;
      case CT_GELU_TANH: r = at::gelu(x, "tanh"); break;
      case CT_SQUARE: r = x.square(); break;
      case CT_FLOOR: r = x.floor(); break;
      case CT_CEIL: r = x.ceil(); break;
      case CT_ROUND: r = x.round(); break;
      case CT_ISNAN: r = x.isnan(); break;
      case CT_ISFINITE: r = x.isfinite(); break;
      case CT_LOGICAL_NOT: r = x.logical_not(); break;
      case CT_SIGN: r = x.sign(); break;
      case CT_RECIPROCAL: r = x.reciprocal(); break;
      case CT_LOG10: r = x.log10(); break;
      case CT_ERF: r = x.erf(); break;
      default: throw std::invalid_argument("unknown unary op " + std::to_string(op));
    }
    *out = wrap(std::move(r));
  })
}

static at::Tensor binary(int op, const at::Tensor &x, const at::Tensor &y) {
  switch (op) {
    case CT_ADD: return x + y;
    case CT_SUB: return x - y;
    case CT_MUL: return x * y;
    case CT_DIV: return x / y;
    case CT_POW: return x.pow(y);
    case CT_MAXIMUM: return at::maximum(x, y);
    case CT_MINIMUM: return at::minimum(x, y);
    case CT_EQ: return x.eq(y);
    case CT_NE: return x.ne(y);
    case CT_LT: return x.lt(y);
    case CT_LE: return x.le(y);
    case CT_GT: return x.gt(y);
    case CT_GE: return x.ge(y);
    case CT_MATMUL: return at::matmul(x, y);
    case CT_BMM: return at::bmm(x, y);
    case CT_LOGICAL_AND: return x.logical_and(y);
    case CT_LOGICAL_OR: return x.logical_or(y);
    case CT_REMAINDER: return x.remainder(y);
    case CT_ATAN2: return x.atan2(y);
    default: throw std::invalid_argument("unknown binary op " + std::to_string(op));
  }
}

int ct_binary(int op, ct_tensor a, ct_tensor b, ct_tensor *out) {
  GUARD(*out = wrap(binary(op, a->t, b->t)))
}

int ct_binary_scalar(int op, ct_tensor a, double s, bool reversed, ct_tensor *out) {
  GUARD({
    const at::Tensor &x = a->t;
    at::Scalar v(s);
    at::Tensor r;
    if (reversed) {
      switch (op) {
        case CT_SUB: r = at::rsub(x, v); break;
        case CT_DIV: r = x.reciprocal() * v; break;
        case CT_POW: r = at::pow(v, x); break;
        default: throw std::invalid_argument("op has no reversed scalar form");
      }
    } else {
      switch (op) {
        case CT_ADD: r = x + v; break;
        case CT_SUB: r = x - v; break;
        case CT_MUL: r = x * v; break;
        case CT_DIV: r = x / v; break;
        case CT_POW: r = x.pow(v); break;
        case CT_MAXIMUM: r = x.clamp_min(v); break;
        case CT_MINIMUM: r = x.clamp_max(v); break;
        case CT_EQ: r = x.eq(v); break;
        case CT_NE: r = x.ne(v); break;
        case CT_LT: r = x.lt(v); break;
        case CT_LE: r = x.le(v); break;
        case CT_GT: r = x.gt(v); break;
        case CT_GE: r = x.ge(v); break;
        case CT_REMAINDER: r = x.remainder(v); break;
        default: throw std::invalid_argument("op has no scalar form");
      }
    }
    *out = wrap(std::move(r));
  })
}

int ct_clamp(ct_tensor a, const double *min, const double *max, ct_tensor *out) {
  GUARD(*out = wrap(at::clamp(a->t, optional_scalar(min), optional_scalar(max))))
}

int ct_where(ct_tensor cond, ct_tensor a, ct_tensor b, ct_tensor *out) {
  GUARD(*out = wrap(at::where(cond->t, a->t, b->t)))
}

int ct_lerp(ct_tensor a, ct_tensor b, double weight, ct_tensor *out) {
  GUARD(*out = wrap(at::lerp(a->t, b->t, weight)))
}

// ---- in place ----

int ct_inplace_binary(int op, ct_tensor self, ct_tensor other, double alpha) {
  GUARD({
    at::Tensor &x = self->t;
    switch (op) {
      case CT_ADD: x.add_(other->t, alpha); break;
      case CT_SUB: x.sub_(other->t, alpha); break;
      case CT_MUL: x.mul_(other->t); break;
      case CT_DIV: x.div_(other->t); break;
      case CT_MAXIMUM: at::maximum_out(x, x, other->t); break;
      default: throw std::invalid_argument("op has no in-place form");
    }
  })
}

int ct_inplace_scalar(int op, ct_tensor self, double s) {
  GUARD({
    at::Tensor &x = self->t;
    switch (op) {
      case CT_ADD: x.add_(s); break;
      case CT_SUB: x.sub_(s); break;
      case CT_MUL: x.mul_(s); break;
      case CT_DIV: x.div_(s); break;
      case CT_POW: x.pow_(s); break;
      default: throw std::invalid_argument("op has no in-place scalar form");
    }
  })
}

int ct_copy_(ct_tensor dst, ct_tensor src) { GUARD(dst->t.copy_(src->t)) }
int ct_fill_(ct_tensor t, double value) { GUARD(t->t.fill_(value)) }

int ct_addc_(ct_tensor self, int kind, ct_tensor t1, ct_tensor t2, double value) {
  GUARD({
    if (kind == 0) self->t.addcmul_(t1->t, t2->t, value);
    else self->t.addcdiv_(t1->t, t2->t, value);
  })
}

int ct_lerp_(ct_tensor self, ct_tensor end, double weight) { GUARD(self->t.lerp_(end->t, weight)) }
int ct_sqrt_(ct_tensor self) { GUARD(self->t.sqrt_()) }

int ct_clamp_(ct_tensor self, const double *min, const double *max) {
  GUARD(self->t.clamp_(optional_scalar(min), optional_scalar(max)))
}

// ---- reductions ----

int ct_reduce(int op, ct_tensor a, const int64_t *dp, int ndims, bool keepdim, int64_t correction,
              ct_tensor *out) {
  GUARD({
    const at::Tensor &x = a->t;
    at::OptionalIntArrayRef d = ndims > 0 ? at::OptionalIntArrayRef(dims(dp, ndims)) : c10::nullopt;
    at::IntArrayRef dl = ndims > 0 ? dims(dp, ndims) : at::IntArrayRef();
    c10::optional<int64_t> one = ndims == 1 ? c10::optional<int64_t>(dp[0]) : c10::nullopt;
    if (ndims > 1 && (op == CT_ARGMAX || op == CT_ARGMIN || op == CT_LOGSUMEXP || op == CT_PROD))
      throw std::invalid_argument("this reduction takes at most one dimension");
    at::Tensor r;
    switch (op) {
      case CT_SUM: r = at::sum(x, d, keepdim); break;
      case CT_MEAN: r = at::mean(x, d, keepdim); break;
      case CT_AMAX: r = at::amax(x, dl, keepdim); break;
      case CT_AMIN: r = at::amin(x, dl, keepdim); break;
      case CT_VAR: r = at::var(x, d, correction, keepdim); break;
      case CT_STD: r = at::std(x, d, correction, keepdim); break;
      case CT_PROD: r = one ? at::prod(x, *one, keepdim) : at::prod(x); break;
      case CT_ARGMAX: r = at::argmax(x, one, keepdim); break;
      case CT_ARGMIN: r = at::argmin(x, one, keepdim); break;
      case CT_ALL: r = one ? at::all(x, *one, keepdim) : at::all(x); break;
      case CT_ANY: r = one ? at::any(x, *one, keepdim) : at::any(x); break;
      case CT_LOGSUMEXP:
        if (!one) throw std::invalid_argument("logsumexp needs a dimension");
        r = at::logsumexp(x, {*one}, keepdim);
        break;
      default: throw std::invalid_argument("unknown reduction " + std::to_string(op));
    }
    *out = wrap(std::move(r));
  })
}

int ct_norm(ct_tensor a, double p, ct_tensor *out) {
  GUARD(*out = wrap(at::linalg_vector_norm(a->t, p)))
}

int ct_item_double(ct_tensor a, double *out) { GUARD(*out = a->t.item<double>()) }
int ct_item_int64(ct_tensor a, int64_t *out) { GUARD(*out = a->t.item<int64_t>()) }
int ct_equal(ct_tensor a, ct_tensor b, bool *out) { GUARD(*out = at::equal(a->t, b->t)) }

int ct_allclose(ct_tensor a, ct_tensor b, double rtol, double atol, bool *out) {
  GUARD(*out = at::allclose(a->t, b->t, rtol, atol))
}

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

// ---- neural-network functionals ----

int ct_conv(ct_tensor x, ct_tensor w, ct_tensor bias, int nspatial, const int64_t *stride,
            const int64_t *padding, const int64_t *dilation, int64_t groups, ct_tensor *out) {
  GUARD({
    auto b = optional_tensor(bias);
    if (nspatial == 1)
      *out = wrap(at::conv1d(x->t, w->t, b, dims(stride, 1), dims(padding, 1), dims(dilation, 1), groups));
    else if (nspatial == 2)
      *out = wrap(at::conv2d(x->t, w->t, b, dims(stride, 2), dims(padding, 2), dims(dilation, 2), groups));
    else
      throw std::invalid_argument("conv supports 1 or 2 spatial dimensions");
  })
}

int ct_conv_transpose2d(ct_tensor x, ct_tensor w, ct_tensor bias, const int64_t *stride,
                        const int64_t *padding, const int64_t *output_padding, int64_t groups,
                        const int64_t *dilation, ct_tensor *out) {
  GUARD(*out = wrap(at::conv_transpose2d(x->t, w->t, optional_tensor(bias), dims(stride, 2),
                                         dims(padding, 2), dims(output_padding, 2), groups,
                                         dims(dilation, 2))))
}

int ct_linear(ct_tensor x, ct_tensor w, ct_tensor bias, ct_tensor *out) {
  GUARD(*out = wrap(at::linear(x->t, w->t, optional_tensor(bias))))
}

int ct_group_norm(ct_tensor x, int64_t groups, ct_tensor w, ct_tensor b, double eps,
                  ct_tensor *out) {
  GUARD(*out = wrap(at::group_norm(x->t, groups, optional_tensor(w), optional_tensor(b), eps)))
}

int ct_layer_norm(ct_tensor x, const int64_t *normalized_shape, int n, ct_tensor w, ct_tensor b,
                  double eps, ct_tensor *out) {
  GUARD(*out = wrap(at::layer_norm(x->t, dims(normalized_shape, n), optional_tensor(w),
                                   optional_tensor(b), eps)))
}

int ct_softmax(ct_tensor x, int64_t dim, bool log, ct_tensor *out) {
  GUARD(*out = wrap(log ? at::log_softmax(x->t, dim) : at::softmax(x->t, dim)))
}

int ct_interpolate(ct_tensor x, int mode, const int64_t *size, const double *scales,
                   bool align_corners, bool antialias, ct_tensor *out) {
  GUARD({
    const at::Tensor &in = x->t;
    if (in.dim() != 4) throw std::invalid_argument("interpolate expects a 4-D (N, C, H, W) tensor");
    at::IntArrayRef sz = dims(size, 2);
    c10::optional<double> sh = scales ? c10::optional<double>(scales[0]) : c10::nullopt;
    c10::optional<double> sw = scales ? c10::optional<double>(scales[1]) : c10::nullopt;
    at::Tensor r;
    switch (mode) {
      case 0: r = at::upsample_nearest2d(in, sz, sh, sw); break;
      case 1:
        r = antialias ? at::_upsample_bilinear2d_aa(in, sz, align_corners, sh, sw)
                      : at::upsample_bilinear2d(in, sz, align_corners, sh, sw);
        break;
      case 2:
        r = antialias ? at::_upsample_bicubic2d_aa(in, sz, align_corners, sh, sw)
                      : at::upsample_bicubic2d(in, sz, align_corners, sh, sw);
        break;
      case 3: r = at::adaptive_avg_pool2d(in, sz); break;
      default: throw std::invalid_argument("unknown interpolation mode");
    }
    *out = wrap(std::move(r));
  })
}

int ct_avg_pool2d(ct_tensor x, const int64_t *kernel, const int64_t *stride,
                  const int64_t *padding, ct_tensor *out) {
  GUARD(*out = wrap(at::avg_pool2d(x->t, dims(kernel, 2), dims(stride, 2), dims(padding, 2))))
}

int ct_mse_loss(ct_tensor a, ct_tensor b, ct_tensor *out) {
  GUARD(*out = wrap(at::mse_loss(a->t, b->t)))
}

// ---- autograd ----

int ct_set_requires_grad(ct_tensor t, bool on) { GUARD(t->t.set_requires_grad(on)) }
bool ct_requires_grad(ct_tensor t) { return t->t.requires_grad(); }

int ct_backward(ct_tensor t, ct_tensor grad) {
  GUARD({
    if (grad) t->t.backward(grad->t);
    else t->t.backward();
  })
}

int ct_grad(ct_tensor t, ct_tensor *out) {
  GUARD({
    const at::Tensor &g = t->t.grad();
    *out = g.defined() ? wrap(g) : nullptr;
  })
}

int ct_set_grad_undefined(ct_tensor t) { GUARD(t->t.mutable_grad() = at::Tensor()) }
int ct_detach(ct_tensor t, ct_tensor *out) { GUARD(*out = wrap(t->t.detach())) }
bool ct_grad_enabled(void) { return c10::GradMode::is_enabled(); }
void ct_set_grad_enabled(bool on) { c10::GradMode::set_enabled(on); }

// ---- runtime ----

void ct_set_num_threads(int n) { at::set_num_threads(n); }
int ct_get_num_threads(void) { return at::get_num_threads(); }

void ct_set_num_interop_threads(int n) {
  try {
    at::set_num_interop_threads(n);
  } catch (...) {
    // Only settable once, before any inter-op work; later calls are ignored by design.
  }
}

int ct_runtime_info(char **version, char **config, char **parallel, char **capability) {
  GUARD({
    std::string v = std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) +
                    "." + std::to_string(TORCH_VERSION_PATCH);
    *version = copy_string(v);
    *config = copy_string(at::show_config());
    *parallel = copy_string(at::get_parallel_info());
    // get_cpu_capability() is not exported by every build; show_config() states it.
    std::string config_text = at::show_config(), cap = "unknown";
    const std::string key = "CPU capability usage: ";
    auto at_key = config_text.find(key);
    if (at_key != std::string::npos) {
      auto end = config_text.find('\n', at_key);
      cap = config_text.substr(at_key + key.size(), end == std::string::npos ? std::string::npos : end - at_key - key.size());
    }
    *capability = copy_string(cap);
  })
}

}  // extern "C"

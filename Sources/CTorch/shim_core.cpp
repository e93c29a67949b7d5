// Errors, lifetime, metadata, creation and generators. Every exported function catches every
// exception (GUARD) and reports it through ct_last_error(), so no libtorch error reaches Swift.
#include "shim_internal.h"

namespace {
thread_local std::string last_error;
std::atomic<int64_t> live_tensors{0};
}  // namespace

namespace ctorch {
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
}  // namespace ctorch

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
  if (t->t.is_mps()) return 3;
  return 0;
}
int ct_device_index(ct_tensor t) { return t->t.device().has_index() ? t->t.device().index() : -1; }

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

}  // extern "C"

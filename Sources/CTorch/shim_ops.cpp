// Element-wise, in-place and reduction operations.
#include "shim_internal.h"

extern "C" {
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
    case CT_MATMUL: return require_same_device(x, {&y}), at::matmul(x, y);
    case CT_BMM: return require_same_device(x, {&y}), at::bmm(x, y);
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
int ct_unary_(int op, ct_tensor self) {
  GUARD({
    at::Tensor &x = self->t;
    switch (op) {
      case CT_SQRT: x.sqrt_(); break;
      case CT_SILU: at::silu_(x); break;
      case CT_RELU: x.relu_(); break;
      case CT_GELU: at::gelu_(x); break;
      default: throw std::invalid_argument("no in-place form of unary op " + std::to_string(op));
    }
  })
}

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

}  // extern "C"

// ctorch.h — the flat C API over libtorch (ATen + autograd).
//
// Rules: opaque handles only; every function that can fail returns 0 on success and non-zero on
// failure, with the message available from ct_last_error() on the same thread. No C++ type or
// exception crosses this boundary. Handles returned through `out` are owned by the caller and are
// released with ct_free / ct_generator_free.
#ifndef CTORCH_H
#define CTORCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ct_tensor_s *ct_tensor;
typedef struct ct_generator_s *ct_generator;

/// The message of the last failed call on this thread (empty if none). Valid until the next call.
const char *ct_last_error(void);

// ---- lifetime and metadata -------------------------------------------------------------------
void ct_free(ct_tensor t);
int64_t ct_live_tensors(void);
int ct_ndim(ct_tensor t);
/// Writes min(ndim, capacity) sizes into `sizes`.
void ct_sizes(ct_tensor t, int64_t *sizes, int capacity);
void ct_strides(ct_tensor t, int64_t *strides, int capacity);
int64_t ct_numel(ct_tensor t);
int ct_dtype(ct_tensor t);  // c10::ScalarType value
int ct_device_type(ct_tensor t);  // 0 cpu, 1 cuda, 2 meta, 3 mps
int ct_device_index(ct_tensor t);  // -1 when the device has none (cpu, meta)
bool ct_is_contiguous(ct_tensor t);
/// A printable description; the caller releases it with ct_free_string.
int ct_describe(ct_tensor t, char **out);
void ct_free_string(char *s);

// ---- creation ---------------------------------------------------------------------------------
int ct_empty(const int64_t *shape, int ndim, int dtype, int device, ct_tensor *out);
int ct_full(const int64_t *shape, int ndim, double value, int dtype, int device, ct_tensor *out);
int ct_arange(double start, double end, double step, int dtype, ct_tensor *out);
int ct_linspace(double start, double end, int64_t steps, int dtype, ct_tensor *out);
/// Copies `nbytes` from `data` into a new contiguous CPU tensor.
int ct_from_data(const void *data, int64_t nbytes, const int64_t *shape, int ndim, int dtype,
                 ct_tensor *out);
/// Copies the tensor's elements (row-major, its own dtype) into `dst` of exactly `nbytes`.
int ct_copy_to(ct_tensor t, void *dst, int64_t nbytes);
/// Kinds: 0 uniform [0,1), 1 standard normal.
int ct_random(int kind, const int64_t *shape, int ndim, int dtype, ct_generator gen,
              ct_tensor *out);
int ct_randint(int64_t low, int64_t high, const int64_t *shape, int ndim, ct_generator gen,
               ct_tensor *out);
int ct_randperm(int64_t n, ct_generator gen, ct_tensor *out);
/// In place: kind 0 uniform_(a, b), 1 normal_(a = mean, b = std), 2 bernoulli_(p = a).
int ct_random_(ct_tensor t, int kind, double a, double b, ct_generator gen);

// ---- generators ------------------------------------------------------------------------------
int ct_generator_new(uint64_t seed, ct_generator *out);
void ct_generator_free(ct_generator g);
/// The process-wide default CPU generator (not owned; never freed).
ct_generator ct_generator_default(void);
int ct_generator_set_seed(ct_generator g, uint64_t seed);
int ct_generator_get_state(ct_generator g, ct_tensor *out);
int ct_generator_set_state(ct_generator g, ct_tensor state);

// ---- element-wise --------------------------------------------------------------------------
enum {
  CT_NEG, CT_EXP, CT_LOG, CT_SQRT, CT_RSQRT, CT_SIN, CT_COS, CT_TANH, CT_ABS, CT_SIGMOID,
  CT_RELU, CT_SILU, CT_GELU, CT_GELU_TANH, CT_SQUARE, CT_FLOOR, CT_CEIL, CT_ROUND, CT_ISNAN,
  CT_ISFINITE, CT_LOGICAL_NOT, CT_SIGN, CT_RECIPROCAL, CT_LOG10, CT_ERF
};
int ct_unary(int op, ct_tensor a, ct_tensor *out);

enum {
  CT_ADD, CT_SUB, CT_MUL, CT_DIV, CT_POW, CT_MAXIMUM, CT_MINIMUM, CT_EQ, CT_NE, CT_LT, CT_LE,
  CT_GT, CT_GE, CT_MATMUL, CT_BMM, CT_LOGICAL_AND, CT_LOGICAL_OR, CT_REMAINDER, CT_ATAN2
};
int ct_binary(int op, ct_tensor a, ct_tensor b, ct_tensor *out);
/// a op s (for CT_SUB/CT_DIV/CT_POW with `reversed`, s op a).
int ct_binary_scalar(int op, ct_tensor a, double s, bool reversed, ct_tensor *out);
int ct_clamp(ct_tensor a, const double *min, const double *max, ct_tensor *out);
int ct_where(ct_tensor cond, ct_tensor a, ct_tensor b, ct_tensor *out);
int ct_lerp(ct_tensor a, ct_tensor b, double weight, ct_tensor *out);

// ---- in place (optimisers, EMA, loading); no autograd history is recorded by the caller ------
/// self op= other (CT_ADD with alpha: self += alpha * other).
int ct_inplace_binary(int op, ct_tensor self, ct_tensor other, double alpha);
int ct_inplace_scalar(int op, ct_tensor self, double s);
int ct_copy_(ct_tensor dst, ct_tensor src);
int ct_fill_(ct_tensor t, double value);
/// self += value * t1 * t2 (kind 0) or self += value * t1 / t2 (kind 1).
int ct_addc_(ct_tensor self, int kind, ct_tensor t1, ct_tensor t2, double value);
int ct_lerp_(ct_tensor self, ct_tensor end, double weight);
/// self = op(self), for CT_SQRT, CT_SILU, CT_RELU and CT_GELU.
int ct_unary_(int op, ct_tensor self);
int ct_clamp_(ct_tensor self, const double *min, const double *max);

/// softmax(q·kᵀ·scale)·v for q (B, Lq, d), k (B, Lk, d), v (B, Lk, dv), in cache-sized blocks of
/// queries spread over the threads; no autograd history (shim_attention.cpp).
int ct_attention_blocked(ct_tensor q, ct_tensor k, ct_tensor v, double scale, ct_tensor *out);

// ---- reductions --------------------------------------------------------------------------
enum { CT_SUM, CT_MEAN, CT_AMAX, CT_AMIN, CT_VAR, CT_STD, CT_PROD, CT_ARGMAX, CT_ARGMIN,
       CT_ALL, CT_ANY, CT_LOGSUMEXP };
/// ndims == 0 reduces over all dimensions. `correction` is used by CT_VAR/CT_STD (1 = unbiased).
/// CT_ARGMAX/CT_ARGMIN/CT_LOGSUMEXP take exactly one dim (or none for argmax over the flat tensor).
int ct_reduce(int op, ct_tensor a, const int64_t *dims, int ndims, bool keepdim,
              int64_t correction, ct_tensor *out);
/// p-norm over all elements (p = 2 is the Euclidean norm).
int ct_norm(ct_tensor a, double p, ct_tensor *out);
int ct_item_double(ct_tensor a, double *out);
int ct_item_int64(ct_tensor a, int64_t *out);
int ct_equal(ct_tensor a, ct_tensor b, bool *out);
int ct_allclose(ct_tensor a, ct_tensor b, double rtol, double atol, bool *out);

// ---- shape -------------------------------------------------------------------------------
int ct_reshape(ct_tensor a, const int64_t *shape, int ndim, ct_tensor *out);
int ct_view(ct_tensor a, const int64_t *shape, int ndim, ct_tensor *out);
int ct_permute(ct_tensor a, const int64_t *dims, int ndim, ct_tensor *out);
int ct_transpose(ct_tensor a, int64_t d0, int64_t d1, ct_tensor *out);
int ct_expand(ct_tensor a, const int64_t *shape, int ndim, ct_tensor *out);
/// A view of `a`'s storage with explicit sizes, strides and storage offset (elements).
int ct_as_strided(ct_tensor a, const int64_t *shape, const int64_t *strides, int ndim,
                  int64_t storage_offset, ct_tensor *out);
int ct_contiguous(ct_tensor a, int memory_format, ct_tensor *out);  // 0 default, 1 channels-last
int ct_clone(ct_tensor a, ct_tensor *out);
int ct_cat(const ct_tensor *ts, int n, int64_t dim, ct_tensor *out);
int ct_stack(const ct_tensor *ts, int n, int64_t dim, ct_tensor *out);
int ct_narrow(ct_tensor a, int64_t dim, int64_t start, int64_t length, ct_tensor *out);
int ct_slice(ct_tensor a, int64_t dim, int64_t start, int64_t end, int64_t step, ct_tensor *out);
int ct_select(ct_tensor a, int64_t dim, int64_t index, ct_tensor *out);
int ct_index_select(ct_tensor a, int64_t dim, ct_tensor index, ct_tensor *out);
int ct_masked_select(ct_tensor a, ct_tensor mask, ct_tensor *out);
int ct_flip(ct_tensor a, const int64_t *dims, int ndims, ct_tensor *out);
int ct_squeeze(ct_tensor a, int64_t dim, ct_tensor *out);
int ct_unsqueeze(ct_tensor a, int64_t dim, ct_tensor *out);
/// Pads the last dimensions: pads = [left, right, top, bottom, ...] as F.pad.
/// mode 0 constant, 1 reflect, 2 replicate, 3 circular.
int ct_pad(ct_tensor a, const int64_t *pads, int npads, int mode, double value, ct_tensor *out);
int ct_to_dtype(ct_tensor a, int dtype, ct_tensor *out);
int ct_to_device(ct_tensor a, int device, int index, ct_tensor *out);

// ---- neural-network functionals --------------------------------------------------------------
/// `bias` may be NULL. stride/padding/dilation have `nspatial` entries (1 or 2).
int ct_conv(ct_tensor x, ct_tensor w, ct_tensor bias, int nspatial, const int64_t *stride,
            const int64_t *padding, const int64_t *dilation, int64_t groups, ct_tensor *out);
/// conv2d inputs larger than this many bytes are convolved, when no gradient is recorded, in bands
/// of output rows that each read about an eighth of that many bytes; 0 turns banding off. Default 256 MiB.
void ct_set_conv_band_threshold(int64_t bytes);
int64_t ct_conv_band_threshold(void);
/// Inference 3x3 stride-1 conv2d outputs of at least this many pixels per image run by oneDNN's
/// Winograd kernel where this CPU has one; 0 turns it off. Default 128 x 128.
void ct_set_winograd_min_pixels(int64_t pixels);
int64_t ct_winograd_min_pixels(void);
/// 1 when this build and CPU have oneDNN's Winograd kernel.
int ct_winograd_available(void);
/// How many convolutions have run by Winograd in this process.
int64_t ct_winograd_calls(void);
/// The bytes one Winograd band's buffers may take (input rows, oneDNN's blocked copies, scratchpad,
/// weights, output band), as oneDNN reports them for the plan it chose; default 32 MiB.
void ct_set_winograd_workspace_budget(int64_t bytes);
int64_t ct_winograd_workspace_budget(void);
/// The bytes the last Winograd convolution's band buffers took.
int64_t ct_winograd_last_workspace(void);
/// conv2d(silu(group_norm(x, groups, gamma, beta, eps)), w, bias), stride 1, `padding` on every side;
/// in inference on float32, where the convolution is large enough to run in bands (Winograd or the
/// band threshold), each band is normalised as it is read and the normalised tensor never exists.
/// With `sum` (may be NULL) the result is that plus `sum`; written over `sum` when `overwrite_sum` and
/// nothing else holds it (the same shape and dtype, no gradient recorded).
int ct_group_norm_silu_conv2d(ct_tensor x, int64_t groups, ct_tensor gamma, ct_tensor beta, double eps, ct_tensor w,
                              ct_tensor bias, int64_t padding, ct_tensor sum, int overwrite_sum, ct_tensor *out);
/// conv2d(x, w, bias) with a 1x1 kernel, stride 1, no padding; written over x's own memory when
/// `overwrite`, nothing else holds x, no gradient is recorded, x is contiguous (NCHW or channels-last)
/// and the output has no more channels than x.
int ct_conv1x1_over_input(ct_tensor x, int overwrite, ct_tensor w, ct_tensor bias, ct_tensor *out);
/// conv2d(upsample_nearest(x, scale 2), w, bias), stride 1, `padding` on every side; banded as above,
/// without the upsampled tensor.
int ct_nearest_twice_conv2d(ct_tensor x, ct_tensor w, ct_tensor bias, int64_t padding, ct_tensor *out);
int ct_conv_transpose2d(ct_tensor x, ct_tensor w, ct_tensor bias, const int64_t *stride,
                        const int64_t *padding, const int64_t *output_padding, int64_t groups,
                        const int64_t *dilation, ct_tensor *out);
int ct_linear(ct_tensor x, ct_tensor w, ct_tensor bias, ct_tensor *out);
int ct_group_norm(ct_tensor x, int64_t groups, ct_tensor w, ct_tensor b, double eps,
                  ct_tensor *out);
int ct_layer_norm(ct_tensor x, const int64_t *normalized_shape, int n, ct_tensor w, ct_tensor b,
                  double eps, ct_tensor *out);
int ct_softmax(ct_tensor x, int64_t dim, bool log, ct_tensor *out);
/// mode: 0 nearest, 1 bilinear, 2 bicubic, 3 area. `scales` (2 entries) may be NULL.
int ct_interpolate(ct_tensor x, int mode, const int64_t *size, const double *scales,
                   bool align_corners, bool antialias, ct_tensor *out);
int ct_avg_pool2d(ct_tensor x, const int64_t *kernel, const int64_t *stride,
                  const int64_t *padding, bool count_include_pad, ct_tensor *out);
int ct_max_pool2d(ct_tensor x, const int64_t *kernel, const int64_t *stride,
                  const int64_t *padding, ct_tensor *out);
/// Eigenvalues (ascending) and eigenvectors (columns) of a symmetric matrix.
int ct_linalg_eigh(ct_tensor x, ct_tensor *values, ct_tensor *vectors);
int ct_mse_loss(ct_tensor a, ct_tensor b, ct_tensor *out);

// ---- autograd ----------------------------------------------------------------------------
int ct_set_requires_grad(ct_tensor t, bool on);
bool ct_requires_grad(ct_tensor t);
/// `grad` may be NULL for a scalar output.
int ct_backward(ct_tensor t, ct_tensor grad);
/// *out is NULL when the tensor has no gradient.
int ct_grad(ct_tensor t, ct_tensor *out);
int ct_set_grad_undefined(ct_tensor t);
int ct_detach(ct_tensor t, ct_tensor *out);
bool ct_grad_enabled(void);
void ct_set_grad_enabled(bool on);
/// Autocast (mixed precision) on this thread for a device type (0 cpu, 1 cuda), with the given
/// lower-precision dtype.
bool ct_autocast_enabled(int device);
void ct_set_autocast(int device, bool on, int dtype);
/// Whether this libtorch's autocast on `device` accepts `dtype` (1.13's CPU autocast: bfloat16 only).
bool ct_autocast_supports(int device, int dtype);
/// What this build and machine offer: CUDA compiled in (libtorch_cuda loaded), CUDA devices
/// visible, MPS available.
bool ct_cuda_built(void);
int ct_cuda_device_count(void);
bool ct_mps_available(void);
/// TF32 in cuDNN convolutions and cuBLAS matrix products (off: float32 parity on Ampere and later).
void ct_set_allow_tf32(bool on);

// ---- runtime -----------------------------------------------------------------------------
void ct_set_num_threads(int n);
/// Makes glibc keep freed memory for reuse (no per-block mmap/munmap, no heap trimming).
void ct_keep_freed_memory(void);
// Returns the heap's free memory to the system (glibc malloc_trim).
void ct_release_freed_memory(void);
/// From now on `exit` flushes the C streams and ends the process without running the libraries'
/// static destructors (libtorch's teardown raced with threads still ending: a corrupted heap at exit).
void ct_skip_teardown_at_exit(void);
/// Installs the caching CPU allocator (shim_alloc.cpp) as libtorch's CPU allocator.
void ct_use_caching_allocator(void);
/// Unmaps the caching allocator's free blocks and resets its high-water mark.
void ct_release_cached_blocks(void);
typedef struct {
  int64_t hits;          // large requests served from the cache
  int64_t maps;          // large requests that mapped new memory
  int64_t live_bytes;    // large blocks in use
  int64_t cached_bytes;  // large blocks free for reuse
  int64_t high_water_bytes;   // the largest live_bytes since the last release
  int64_t mapped_total_bytes; // every byte ever mapped: what first-touch page faults cost
} ct_allocator_stats;
ct_allocator_stats ct_get_allocator_stats(void);
int ct_get_num_threads(void);
void ct_set_num_interop_threads(int n);
/// libtorch version, build configuration and parallel info (caller frees with ct_free_string).
int ct_runtime_info(char **version, char **config, char **parallel, char **capability);

// ---- distributed (c10d: TCPStore rendezvous, Gloo, the DDP reducer) -----------------------------
typedef struct ct_process_group_s *ct_process_group;
typedef struct ct_reducer_s *ct_reducer;
/// Rendezvous at master:port (rank 0 serves the store) and connect a Gloo process group; every
/// collective fails instead of waiting longer than timeout_ms.
int ct_dist_init(const char *master, int port, int rank, int world_size, int64_t timeout_ms, ct_process_group *out);
void ct_dist_free(ct_process_group group);
/// Every tensor set to root's values (coalesced into buffers).
int ct_dist_broadcast(ct_process_group group, const ct_tensor *tensors, int n, int root);
int ct_dist_all_reduce_sum(ct_process_group group, ct_tensor tensor);
/// A DDP reducer over these parameters: from the next backward after prepare_for_backward, their
/// gradients are averaged across ranks in buckets of bucket_bytes, each bucket's all-reduce
/// starting as soon as its gradients are ready (overlapping the rest of the backward pass).
int ct_reducer_new(ct_process_group group, const ct_tensor *parameters, int n, int64_t bucket_bytes, ct_reducer *out);
void ct_reducer_free(ct_reducer reducer);
int ct_reducer_prepare_for_backward(ct_reducer reducer);

#ifdef __cplusplus
}
#endif

#endif

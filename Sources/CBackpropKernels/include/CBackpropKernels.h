#ifndef CBACKPROP_KERNELS_H
#define CBACKPROP_KERNELS_H

// Hot CPU kernels. Every entry point checks the CPU once and runs an AVX2+FMA version when it can,
// else a portable C version. Sizes and strides are `long` (Swift `Int` on 64-bit platforms).

/// Returns 1 when the CPU supports AVX2 and FMA (x86-64), else 0.
int bp_cpu_has_avx2_fma(void);

/// Returns 1 when the CPU supports AVX-512 F, VL, DQ and BW besides AVX2 and FMA (x86-64), else 0.
int bp_cpu_has_avx512(void);

/// Returns 1 when the CPU has AVX-512 but runs each 512-bit operation as two 256-bit halves, so that its
/// 512-bit FMAs do no more arithmetic per cycle than AVX2's (AMD Zen 4: family 19h with AVX-512), else 0.
/// The double GEMM and the fused kernels' interpreter take their AVX2 versions there, which measured faster.
int bp_cpu_splits_512bit_vectors(void);

/// Returns 1 when vector kernels are compiled in for this CPU: AVX2+FMA on x86-64 (checked at run time),
/// NEON on arm64 (always there); else 0.
int bp_cpu_has_vector_kernels(void);

#include <stdatomic.h>

/// How many `withoutRecording` scopes are open on any thread. While it is zero, no thread has switched
/// recording off, and operations can skip reading their thread's state.
extern _Atomic long bp_recording_disabled_scopes;

/// Reads the count of open `withoutRecording` scopes (relaxed: a plain load).
static inline long bp_recording_disabled_scope_count(void) {
    return atomic_load_explicit(&bp_recording_disabled_scopes, memory_order_relaxed);
}

/// Adds `delta` to the count of open `withoutRecording` scopes.
static inline void bp_recording_disabled_scopes_add(long delta) {
    atomic_fetch_add_explicit(&bp_recording_disabled_scopes, delta, memory_order_relaxed);
}

/// Returns 1 when the kernels take their vector path (AVX2+FMA on x86-64; NEON for GEMM on arm64), else 0:
/// the CPU has it and bp_kernels_limit_path allows it (decided once, cached).
int bp_kernels_use_avx2(void);

/// Returns 1 when the kernels that have an AVX-512 version (GEMM) take it: the vector path is on, the CPU
/// has AVX-512, and bp_kernels_limit_path allows it; else 0.
int bp_kernels_use_avx512(void);

/// Allows at most path `limit` for every thread without an override: 2 (AVX-512), 1 (AVX2+FMA or NEON),
/// 0 (portable). The kernels read no environment variable: the Swift library passes its settings
/// (BACKPROP_DISABLE_AVX2, BACKPROP_DISABLE_AVX512) here when it reads them. Until then every path the CPU
/// has is allowed.
void bp_kernels_limit_path(int limit);

/// Chooses the path for later calls on the calling thread only: AVX-512 when `enabled` is 2 or more and the
/// CPU has it, else AVX2+FMA when `enabled` is positive and the CPU has it, portable when 0, the automatic
/// choice again when negative. For tests that exercise both
/// paths on one machine without changing what other threads compute (both paths are correct, but round
/// differently). GEMM carries the caller's choice to the threads it splits a product over.
void bp_kernels_set_use_avx2(int enabled);

/// The calling thread's override: -1 when it has none, else 0 (portable), 1 (AVX2+FMA) or 2 (AVX-512).
int bp_kernels_avx2_override(void);

// MARK: - Parallel loops

/// One part of a parallel job: called with the caller's context and the part's index.
typedef void (*bp_parallel_body)(void *context, long part);

/// Calls `body(context, part)` for every part in 0..<parts, on up to `threads` threads (the calling thread and
/// the library's worker threads, started on first use), and returns when all parts are done. Workers spin
/// for a short while after each job, so back-to-back jobs start without a wake-up delay. A call made while
/// another job runs (from inside a part, or from another thread) runs its parts on the calling thread.
void bp_parallel_run(long parts, int threads, bp_parallel_body body, void *context);

/// The number of processors this process may run on: its CPU affinity on Linux (fewer than are online when
/// it is bound to some cores), the online processors elsewhere; at least 1.
int bp_usable_processors(void);

// MARK: - Memory

/// Asks the C allocator to keep up to `bytes` of freed memory for reuse instead of returning it to the
/// operating system, and to serve blocks up to 32 MB from that pool rather than from fresh mmap pages
/// (glibc's M_TRIM_THRESHOLD and M_MMAP_THRESHOLD; process-wide). `bytes` <= 0 sets glibc's usual 128 kB
/// thresholds back. Returns 1 when retention is on afterwards, 0 otherwise (also when the C library has no
/// such settings). Nothing calls it when the library is loaded: programs ask for it (the Swift library's
/// `TensorMemory.retainFreedMemory(upTo:)`, which the command-line tools call at start).
int bp_retain_freed_memory(long bytes);

/// The bound in force (0 when freed memory is returned as usual).
long bp_retained_memory_limit(void);

/// Returns free memory the allocator holds to the operating system now (glibc's malloc_trim); returns 1
/// when some was returned.
int bp_release_free_memory(void);

// MARK: - Matrix multiplication

/// Single-precision GEMM, row-major, BLAS semantics: C (M×N) = alpha·op(A)·op(B) + beta·C, where op(A) is
/// M×K (A is stored M×K with row stride lda when transA == 0, K×M when transA != 0) and op(B) is K×N
/// (B is stored K×N with row stride ldb when transB == 0, N×K when transB != 0). When beta == 0 the old
/// contents of C are not read (NaNs there do not propagate); when alpha == 0 or K == 0, A and B are not read.
/// Runs on the calling thread only; callers split C into blocks to use several cores.
void bp_sgemm(int transA, int transB, long M, long N, long K, float alpha, const float *A, long lda,
              const float *B, long ldb, float beta, float *C, long ldc);

/// Double-precision GEMM with the same semantics as `bp_sgemm`.
void bp_dgemm(int transA, int transB, long M, long N, long K, double alpha, const double *A, long lda,
              const double *B, long ldb, double beta, double *C, long ldc);

// MARK: - Elementwise kernels (contiguous arrays; z may alias x or y)

/// z[i] = x[i] + y[i] for i in 0..<n.
void bp_sadd(const float *x, const float *y, float *z, long n);
/// z[i] = x[i] + y[i] for i in 0..<n.
void bp_dadd(const double *x, const double *y, double *z, long n);
/// z[i] = x[i] - y[i] for i in 0..<n.
void bp_ssub(const float *x, const float *y, float *z, long n);
/// z[i] = x[i] - y[i] for i in 0..<n.
void bp_dsub(const double *x, const double *y, double *z, long n);
/// z[i] = x[i] * y[i] for i in 0..<n.
void bp_smul(const float *x, const float *y, float *z, long n);
/// z[i] = x[i] * y[i] for i in 0..<n.
void bp_dmul(const double *x, const double *y, double *z, long n);

/// z[i] = x[i] + b for i in 0..<n.
void bp_sadd_scalar(const float *x, float b, float *z, long n);
/// z[i] = x[i] + b for i in 0..<n.
void bp_dadd_scalar(const double *x, double b, double *z, long n);
/// z[i] = a * x[i] for i in 0..<n.
void bp_smul_scalar(const float *x, float a, float *z, long n);
/// z[i] = a * x[i] for i in 0..<n.
void bp_dmul_scalar(const double *x, double a, double *z, long n);
/// z[i] = a * x[i] + b for i in 0..<n (a product then a sum, each rounded; not fused).
void bp_saffine(const float *x, float a, float b, float *z, long n);
/// z[i] = a * x[i] + b for i in 0..<n (a product then a sum, each rounded; not fused).
void bp_daffine(const double *x, double a, double b, double *z, long n);


// MARK: - Elementary functions over arrays (vecmath.c)
//
// y[i] = f(x[i]) for i in 0..<n (n >= 0; y may be x itself), computed a vector at a time with AVX2+FMA or
// AVX-512 when the kernel path allows, by the C library otherwise. Special values follow the C library:
// NaN propagates, ±inf and ±0 map as C99 Annex F says, overflow gives ±inf, underflow 0 or the correctly
// scaled subnormal. Lanes outside a kernel's fast range (sin/cos/tan of |x| > 2^19, exp results in the
// subnormal band, pow's edge cases such as a zero, infinite or subnormal base) are computed by the C library.
// Accuracy, measured on the vector paths against a higher-precision reference (VectorMathTests):
// double: within 0.52 ulp for exp, 0.6 ulp for tanh, 1 ulp for expm1, log and log1p, 2 ulp for the rest
// (typically about 0.5 ulp);
// float: computed in double and rounded once, so within 1 ulp everywhere.

/// y[i] = e^x[i].
void bp_dexp(const double *x, double *y, long n);
/// y[i] = e^x[i].
void bp_sexp(const float *x, float *y, long n);
/// y[i] = e^x[i] − 1, accurate near 0.
void bp_dexpm1(const double *x, double *y, long n);
/// y[i] = e^x[i] − 1, accurate near 0.
void bp_sexpm1(const float *x, float *y, long n);
/// y[i] = ln x[i] (−inf at ±0, NaN below 0).
void bp_dlog(const double *x, double *y, long n);
/// y[i] = ln x[i] (−inf at ±0, NaN below 0).
void bp_slog(const float *x, float *y, long n);
/// y[i] = ln(1 + x[i]), accurate near 0.
void bp_dlog1p(const double *x, double *y, long n);
/// y[i] = ln(1 + x[i]), accurate near 0.
void bp_slog1p(const float *x, float *y, long n);
/// y[i] = sin x[i].
void bp_dsin(const double *x, double *y, long n);
/// y[i] = sin x[i].
void bp_ssin(const float *x, float *y, long n);
/// y[i] = cos x[i].
void bp_dcos(const double *x, double *y, long n);
/// y[i] = cos x[i].
void bp_scos(const float *x, float *y, long n);
/// y[i] = tan x[i].
void bp_dtan(const double *x, double *y, long n);
/// y[i] = tan x[i].
void bp_stan(const float *x, float *y, long n);
/// y[i] = tanh x[i] (±1 for large |x|, −0 kept).
void bp_dtanh(const double *x, double *y, long n);
/// y[i] = tanh x[i] (±1 for large |x|, −0 kept).
void bp_stanh(const float *x, float *y, long n);
/// y[i] = 1 / (1 + e^−x[i]), without overflow for any x (1 at +inf, 0 at −inf).
void bp_dsigmoid(const double *x, double *y, long n);
/// y[i] = 1 / (1 + e^−x[i]), without overflow for any x (1 at +inf, 0 at −inf).
void bp_ssigmoid(const float *x, float *y, long n);
/// y[i] = erf x[i].
void bp_derf(const double *x, double *y, long n);
/// y[i] = erf x[i].
void bp_serf(const float *x, float *y, long n);
/// z[i] = x[i]^y[i] with the C library's `pow` semantics (z may be x or y).
void bp_dpow(const double *x, const double *y, double *z, long n);
/// z[i] = x[i]^y[i] with the C library's `powf` semantics (z may be x or y).
void bp_spow(const float *x, const float *y, float *z, long n);

/// z[i] = max(x[i], 0); NaN stays NaN, -0 becomes +0.
void bp_srelu(const float *x, float *z, long n);
/// z[i] = max(x[i], 0); NaN stays NaN, -0 becomes +0.
void bp_drelu(const double *x, double *z, long n);
/// z[i] = x[i] > 0 ? g[i] : 0 (the ReLU derivative applied to the incoming gradient g).
void bp_srelu_backward(const float *g, const float *x, float *z, long n);
/// z[i] = x[i] > 0 ? g[i] : 0 (the ReLU derivative applied to the incoming gradient g).
void bp_drelu_backward(const double *g, const double *x, double *z, long n);

/// The sum of x[0..<n] (several partial sums, added at the end; 0 when n <= 0).
float bp_ssum(const float *x, long n);
/// The sum of x[0..<n] (several partial sums, added at the end; 0 when n <= 0).
double bp_dsum(const double *x, long n);

/// z[i, j] = x[i, j] + b[j] for an M×N row-major matrix x (z is M×N, contiguous).
void bp_sadd_bias_rows(const float *x, const float *b, float *z, long M, long N);
/// z[i, j] = x[i, j] + b[j] for an M×N row-major matrix x (z is M×N, contiguous).
void bp_dadd_bias_rows(const double *x, const double *b, double *z, long M, long N);

/// Adam's update of n parameters in place: g' = g + couple·p; m = b1·m + (1−b1)·g'; v = b2·v + (1−b2)·g'²;
/// p = keep·p − stepSize·m / (√v·inverseRoot2 + eps). `couple` is the L2 weight decay (0 for AdamW),
/// `keep` AdamW's decoupled shrink factor (1 for Adam). The four arrays must not overlap.
void bp_sadam_update(float *p, const float *g, float *m, float *v, long n, float b1, float b2, float stepSize,
                     float inverseRoot2, float eps, float keep, float couple);
/// Double-precision `bp_sadam_update`.
void bp_dadam_update(double *p, const double *g, double *m, double *v, long n, double b1, double b2,
                     double stepSize, double inverseRoot2, double eps, double keep, double couple);

/// One C×H×W image's patch matrix (im2col): patches[((ch·kh + i)·kw + j)·oh·ow + y·ow + x] = the input at
/// row y·sh − ph + i·dh, column x·sw − pw + j·dw of channel ch. Taps in the padding are not written (the
/// caller zeroes the buffer once).
void bp_sunfold_image(const float *image, float *patches, long c, long h, long w, long kh, long kw, long sh,
                      long sw, long ph, long pw, long dh, long dw, long oh, long ow);
/// Double-precision `bp_sunfold_image`.
void bp_dunfold_image(const double *image, double *patches, long c, long h, long w, long kh, long kw, long sh,
                      long sw, long ph, long pw, long dh, long dw, long oh, long ow);
/// The adjoint of `bp_sunfold_image` (col2im): adds every patch entry into the image position it came from.
void bp_sfold_image(const float *patches, float *image, long c, long h, long w, long kh, long kw, long sh,
                    long sw, long ph, long pw, long dh, long dw, long oh, long ow);
/// Double-precision `bp_sfold_image`.
void bp_dfold_image(const double *patches, double *image, long c, long h, long w, long kh, long kw, long sh,
                    long sw, long ph, long pw, long dh, long dw, long oh, long ow);

/// Transposes the rows×cols matrix `in` (row stride `ldin`) into `out` (cols×rows, row stride `ldout`):
/// out[c·ldout + r] = in[r·ldin + c]. The two must not overlap.
void bp_stranspose(long rows, long cols, const float *in, long ldin, float *out, long ldout);
/// Double-precision `bp_stranspose`.
void bp_dtranspose(long rows, long cols, const double *in, long ldin, double *out, long ldout);

/// out[j] = sum over i of x[i, j] for an M×N row-major matrix x (out has N values; zeros when M == 0).
void bp_scolumn_sums(const float *x, float *out, long M, long N);
/// out[j] = sum over i of x[i, j] for an M×N row-major matrix x (out has N values; zeros when M == 0).
void bp_dcolumn_sums(const double *x, double *out, long M, long N);

/// Fused softmax and cross-entropy for an M×N matrix of logits (rows are samples) and M class labels in
/// 0..<N: writes the row-wise softmax probabilities into probs (M×N, contiguous, may alias logits) and
/// returns the mean over rows of -log softmax(logits)[i, labels[i]], computed as log(sum) - (z - max) so
/// it stays finite for confident predictions. A label outside 0..<N makes the result NaN. Returns 0 when M == 0.
float bp_ssoftmax_cross_entropy(const float *logits, const long *labels, float *probs, long M, long N);
/// Double-precision version of `bp_ssoftmax_cross_entropy`.
double bp_dsoftmax_cross_entropy(const double *logits, const long *labels, double *probs, long M, long N);

/// Max pooling's search over the channel planes `first` ..< `first + planes` of h×w planes stored one after
/// another from `x`: writes, for each of the oh×ow windows of each plane (kernel kh×kw, stride sh×sw, padding
/// ph×pw, dilation dh×dw), the flat position in `x` of its largest value (the first on a tie, a NaN winning)
/// to `positions` (oh·ow entries per plane, plane-major, from plane 0: plane p's at `positions + p·oh·ow`).
void bp_smax_pool_positions(const float *x, long *positions, long first, long planes, long h, long w, long oh, long ow,
                            long kh, long kw, long sh, long sw, long ph, long pw, long dh, long dw);
/// Double-precision version of `bp_smax_pool_positions`.
void bp_dmax_pool_positions(const double *x, long *positions, long first, long planes, long h, long w, long oh, long ow,
                            long kh, long kw, long sh, long sw, long ph, long pw, long dh, long dw);

// MARK: - Fused elementwise kernels (the compiled transform's tile interpreter, fused.c)

/// Values per register tile of the fused-kernel interpreter.
#define BP_FUSED_TILE 256
/// Most registers a fused kernel may use.
#define BP_FUSED_MAX_REGISTERS 256
/// Most inputs, and most outputs, of a fused kernel.
#define BP_FUSED_MAX_OPERANDS 64
/// Largest rank of a fused kernel's iteration space.
#define BP_FUSED_MAX_RANK 8

/// The operations of fused-kernel instructions. Functions of one argument read register `a`; of two, `a` and
/// `b`; `immediate` is a constant operand where one is used.
enum {
    BP_FUSED_NEG = 0, BP_FUSED_SQRT = 1, BP_FUSED_EXP = 2, BP_FUSED_LOG = 3, BP_FUSED_SIN = 4, BP_FUSED_COS = 5,
    BP_FUSED_TAN = 6, BP_FUSED_TANH = 7, BP_FUSED_SIGMOID = 8, BP_FUSED_RELU = 9, BP_FUSED_ABS = 10, BP_FUSED_ERF = 11,
    BP_FUSED_ADD = 32, BP_FUSED_SUB = 33, BP_FUSED_MUL = 34, BP_FUSED_DIV = 35, BP_FUSED_POW = 36,
    BP_FUSED_MAX = 37, BP_FUSED_MIN = 38,
    BP_FUSED_LT = 48, BP_FUSED_LE = 49, BP_FUSED_GT = 50, BP_FUSED_GE = 51, BP_FUSED_EQ = 52, BP_FUSED_NE = 53,
    /// a where b > 0, else 0 (ReLU's pullback).
    BP_FUSED_RELU_BACKWARD = 54,
    /// The immediate, as a scalar register.
    BP_FUSED_CONSTANT = 64,
    /// a · immediate + b.
    BP_FUSED_MUL_ADD = 65,
    /// a · immediate.
    BP_FUSED_SCALE = 66,
    /// a + immediate.
    BP_FUSED_ADD_CONSTANT = 67,
};

/// Whether the interpreter implements `op` (an elementwise primitive without it runs outside fused kernels).
int bp_fused_implements(int op);

/// How a fused kernel writes an output: stores each value, or adds it to (or keeps the maximum with) what
/// the output holds, so that positions where the output's stride is 0 reduce.
enum { BP_FUSED_STORE = 0, BP_FUSED_ACCUMULATE_SUM = 1, BP_FUSED_ACCUMULATE_MAX = 2 };

/// One instruction: destination = op(a, b); an operand of -1 is unused.
typedef struct {
    int op;
    int destination;
    int a;
    int b;
    double immediate;
} bp_fused_instruction;

/// A fused kernel. The iteration space has `rank` axes of sizes `shape`; its last axis is a row, processed a
/// tile at a time. Input j's value at position p is inputs[j][input_offsets[j] + Σ p[axis]·input_strides[j·rank
/// + axis]], and it is register j; output j is written from register output_registers[j] at
/// outputs[j][output_offsets[j] + Σ p[axis]·output_strides[j·rank + axis]], as output_modes[j] says.
typedef struct {
    long rank;
    const long *shape;
    long input_count;
    const long *input_offsets;
    const long *input_strides;
    long output_count;
    const long *output_offsets;
    const long *output_strides;
    const int *output_registers;
    const int *output_modes;
    long instruction_count;
    const bp_fused_instruction *instructions;
    long register_count;
    /// For the runners that take a table of base pointers: each input's and output's entry in the table.
    const int *input_buffers;
    const int *output_buffers;
    /// Ranges set to one value before the kernel runs: table entry, offset, count and value of each.
    long fill_count;
    const int *fill_buffers;
    const long *fill_offsets;
    const long *fill_counts;
    const double *fill_values;
} bp_fused_kernel;

/// Runs rows begin..<end, columns column_begin..<column_end, of a double-precision fused kernel (a row is one
/// position of the axes before the last; columns index the last axis). `scratch` holds register_count ·
/// BP_FUSED_TILE values. Accumulated outputs must hold their starting values (0 for sums, -inf for maxima)
/// before the first call.
void bp_fused_run_d(const bp_fused_kernel *k, const double *const *inputs, double *const *outputs, long begin,
                    long end, long column_begin, long column_end, double *scratch);
/// Sets a double-precision kernel's fills and reads its operands' base pointers from `table` (entries
/// input_buffers / output_buffers), for a caller that then runs it in parts with `bp_fused_run_d`.
void bp_fused_prepare_d(const bp_fused_kernel *k, double *const *table, const double **inputs, double **outputs);
/// Single-precision `bp_fused_prepare_d`.
void bp_fused_prepare_s(const bp_fused_kernel *k, float *const *table, const float **inputs, float **outputs);
/// Runs `count` double-precision kernels in order on the calling thread, each whole: fills, operands from
/// `table`, then every row. `scratch` holds the largest register_count · BP_FUSED_TILE of them.
void bp_fused_sequence_d(const bp_fused_kernel *const *kernels, long count, double *const *table, double *scratch);
/// Single-precision `bp_fused_sequence_d`.
void bp_fused_sequence_s(const bp_fused_kernel *const *kernels, long count, float *const *table, float *scratch);
/// Single-precision `bp_fused_run_d`.
void bp_fused_run_s(const bp_fused_kernel *k, const float *const *inputs, float *const *outputs, long begin,
                    long end, long column_begin, long column_end, float *scratch);

#endif

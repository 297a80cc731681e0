// The tile interpreter that runs the compiler's fused kernels (issue #20): a fused kernel is a small program
// of elementwise instructions over an iteration space; its inputs are read through per-axis strides (a stride
// of 0 broadcasts), and its outputs are stored or accumulated (a sum or a maximum over the axes where their
// stride is 0: a reduction). Registers are tiles of BP_FUSED_TILE values, so a chain of operations touches
// memory once. The instruction loops are compiled three times (portable, AVX2+FMA, AVX-512) and chosen at run
// time as the other kernels are (the AVX-512 one only where 512-bit arithmetic is full width, see internal.h;
// whole tiles of transcendental functions go to the vector math's AVX-512 kernels either way).
#include "CBackpropKernels.h"
#include "internal.h"
#include <math.h>

#define FU_ATTR
#define FU_ISA portable
#include "fused_instances.h"
#undef FU_ATTR
#undef FU_ISA

#if defined(BP_HAVE_AVX2)
#define FU_ATTR BP_AVX2_FMA
#define FU_ISA avx2
#include "fused_instances.h"
#undef FU_ATTR
#undef FU_ISA

#define FU_ATTR BP_AVX512
#define FU_ISA avx512
#include "fused_instances.h"
#undef FU_ATTR
#undef FU_ISA
#endif

void bp_fused_run_d(const bp_fused_kernel *k, const double *const *inputs, double *const *outputs, long begin,
                    long end, long column_begin, long column_end, double *scratch) {
#if defined(BP_HAVE_AVX2)
    if (bp_kernels_use_wide_avx512_arithmetic()) { fused_d_avx512_run(k, inputs, outputs, begin, end, column_begin, column_end, scratch); return; }
    if (bp_kernels_use_avx2()) { fused_d_avx2_run(k, inputs, outputs, begin, end, column_begin, column_end, scratch); return; }
#endif
    fused_d_portable_run(k, inputs, outputs, begin, end, column_begin, column_end, scratch);
}

void bp_fused_run_s(const bp_fused_kernel *k, const float *const *inputs, float *const *outputs, long begin,
                    long end, long column_begin, long column_end, float *scratch) {
#if defined(BP_HAVE_AVX2)
    if (bp_kernels_use_wide_avx512_arithmetic()) { fused_s_avx512_run(k, inputs, outputs, begin, end, column_begin, column_end, scratch); return; }
    if (bp_kernels_use_avx2()) { fused_s_avx2_run(k, inputs, outputs, begin, end, column_begin, column_end, scratch); return; }
#endif
    fused_s_portable_run(k, inputs, outputs, begin, end, column_begin, column_end, scratch);
}

void bp_fused_prepare_d(const bp_fused_kernel *k, double *const *table, const double **inputs, double **outputs) {
    fused_d_portable_prepare(k, table, inputs, outputs);
}

void bp_fused_prepare_s(const bp_fused_kernel *k, float *const *table, const float **inputs, float **outputs) {
    fused_s_portable_prepare(k, table, inputs, outputs);
}

void bp_fused_sequence_d(const bp_fused_kernel *const *kernels, long count, double *const *table, double *scratch) {
#if defined(BP_HAVE_AVX2)
    if (bp_kernels_use_wide_avx512_arithmetic()) { fused_d_avx512_sequence(kernels, count, table, scratch); return; }
    if (bp_kernels_use_avx2()) { fused_d_avx2_sequence(kernels, count, table, scratch); return; }
#endif
    fused_d_portable_sequence(kernels, count, table, scratch);
}

void bp_fused_sequence_s(const bp_fused_kernel *const *kernels, long count, float *const *table, float *scratch) {
#if defined(BP_HAVE_AVX2)
    if (bp_kernels_use_wide_avx512_arithmetic()) { fused_s_avx512_sequence(kernels, count, table, scratch); return; }
    if (bp_kernels_use_avx2()) { fused_s_avx2_sequence(kernels, count, table, scratch); return; }
#endif
    fused_s_portable_sequence(kernels, count, table, scratch);
}

int bp_fused_implements(int op) {
    switch (op) {
    case BP_FUSED_NEG: case BP_FUSED_SQRT: case BP_FUSED_EXP: case BP_FUSED_LOG: case BP_FUSED_SIN:
    case BP_FUSED_COS: case BP_FUSED_TAN: case BP_FUSED_TANH: case BP_FUSED_SIGMOID: case BP_FUSED_RELU:
    case BP_FUSED_ABS: case BP_FUSED_ERF: case BP_FUSED_ADD: case BP_FUSED_SUB: case BP_FUSED_MUL:
    case BP_FUSED_DIV: case BP_FUSED_POW: case BP_FUSED_MAX: case BP_FUSED_MIN: case BP_FUSED_LT:
    case BP_FUSED_LE: case BP_FUSED_GT: case BP_FUSED_GE: case BP_FUSED_EQ: case BP_FUSED_NE:
    case BP_FUSED_RELU_BACKWARD: case BP_FUSED_CONSTANT: case BP_FUSED_MUL_ADD: case BP_FUSED_SCALE:
    case BP_FUSED_ADD_CONSTANT:
        return 1;
    default:
        return 0;
    }
}

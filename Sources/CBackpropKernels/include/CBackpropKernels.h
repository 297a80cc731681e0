#ifndef CBACKPROP_KERNELS_H
#define CBACKPROP_KERNELS_H
/// Returns 1 when the CPU supports AVX2 and FMA (x86-64), else 0.
int bp_cpu_has_avx2_fma(void);
#endif

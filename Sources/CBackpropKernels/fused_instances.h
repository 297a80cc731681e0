// The tile interpreter (fused_template.h) for double and for float, compiled for one instruction set. Define
// before including: FU_ATTR (the target attribute, may be empty) and FU_ISA (the name's instruction-set part:
// portable, avx2, avx512); the functions are named fused_d_<FU_ISA>_<name> and fused_s_<FU_ISA>_<name>.
#define FU_PASTE(prefix, isa, name) prefix##isa##_##name
#define FU_NAME(prefix, isa, name) FU_PASTE(prefix, isa, name)

#define FU_T double
#define FU_FN(name) FU_NAME(fused_d_, FU_ISA, name)
#define FU_EXP exp
#define FU_LOG log
#define FU_SIN sin
#define FU_COS cos
#define FU_TAN tan
#define FU_TANH tanh
#define FU_SQRT sqrt
#define FU_POW pow
#define FU_FABS fabs
#define FU_ERF erf
#define FU_VEC(name) bp_d##name
#include "fused_template.h"

#define FU_T float
#define FU_FN(name) FU_NAME(fused_s_, FU_ISA, name)
#define FU_EXP expf
#define FU_LOG logf
#define FU_SIN sinf
#define FU_COS cosf
#define FU_TAN tanf
#define FU_TANH tanhf
#define FU_SQRT sqrtf
#define FU_POW powf
#define FU_FABS fabsf
#define FU_ERF erff
#define FU_VEC(name) bp_s##name
#include "fused_template.h"
#undef FU_NAME
#undef FU_PASTE

// The tile interpreter of fused elementwise programs (see fused.c), written once and instantiated per scalar
// type and instruction set. Define before including:
//   FU_T            the scalar type            FU_FN(name)   the name of a generated function
//   FU_ATTR         the target attribute (may be empty)
//   FU_EXP, FU_LOG, FU_SIN, FU_COS, FU_TAN, FU_TANH, FU_SQRT, FU_POW, FU_FABS, FU_ERF   the C library's functions
//   FU_VEC(name)    the vectorised array function of vecmath.c for `name` (bp_dexp, ...), for whole tiles
// The template undefines them at its end (FU_ATTR excepted), so the next instance defines them afresh.

/// One instruction over a tile of n values: dst = op(a, b). `as`/`bs` say whether an operand is one value
/// broadcast over the tile (a scalar register) instead of n values; `imm` is an immediate constant.
FU_ATTR static void FU_FN(apply)(int op, FU_T *restrict d, const FU_T *a, int as, const FU_T *b, int bs, double imm, long n) {
    const FU_T c = (FU_T)imm;
#define FU_UNARY(expr) do { if (as) { FU_T x = a[0]; d[0] = (expr); } else { for (long i = 0; i < n; i++) { FU_T x = a[i]; d[i] = (expr); } } } while (0)
#define FU_BINARY(expr) do { \
        if (as && bs) { FU_T x = a[0], y = b[0]; d[0] = (expr); } \
        else if (bs) { FU_T y = b[0]; for (long i = 0; i < n; i++) { FU_T x = a[i]; d[i] = (expr); } } \
        else if (as) { FU_T x = a[0]; for (long i = 0; i < n; i++) { FU_T y = b[i]; d[i] = (expr); } } \
        else { for (long i = 0; i < n; i++) { FU_T x = a[i], y = b[i]; d[i] = (expr); } } } while (0)
    // Transcendental functions of a whole tile go to the vectorised kernels (vecmath.c).
    if (!as) {
        switch (op) {
        case BP_FUSED_EXP: FU_VEC(exp)(a, d, n); return;
        case BP_FUSED_LOG: FU_VEC(log)(a, d, n); return;
        case BP_FUSED_SIN: FU_VEC(sin)(a, d, n); return;
        case BP_FUSED_COS: FU_VEC(cos)(a, d, n); return;
        case BP_FUSED_TAN: FU_VEC(tan)(a, d, n); return;
        case BP_FUSED_TANH: FU_VEC(tanh)(a, d, n); return;
        case BP_FUSED_SIGMOID: FU_VEC(sigmoid)(a, d, n); return;
        case BP_FUSED_ERF: FU_VEC(erf)(a, d, n); return;
        case BP_FUSED_POW: if (!bs) { FU_VEC(pow)(a, b, d, n); return; } break;
        default: break;
        }
    }
    switch (op) {
    case BP_FUSED_NEG: FU_UNARY(-x); break;
    case BP_FUSED_SQRT: FU_UNARY(FU_SQRT(x)); break;
    case BP_FUSED_EXP: FU_UNARY(FU_EXP(x)); break;
    case BP_FUSED_LOG: FU_UNARY(FU_LOG(x)); break;
    case BP_FUSED_SIN: FU_UNARY(FU_SIN(x)); break;
    case BP_FUSED_COS: FU_UNARY(FU_COS(x)); break;
    case BP_FUSED_TAN: FU_UNARY(FU_TAN(x)); break;
    case BP_FUSED_TANH: FU_UNARY(FU_TANH(x)); break;
    case BP_FUSED_SIGMOID: FU_UNARY(x >= 0 ? (FU_T)1 / ((FU_T)1 + FU_EXP(-x)) : FU_EXP(x) / ((FU_T)1 + FU_EXP(x))); break;
    case BP_FUSED_RELU: FU_UNARY(!(x <= 0) ? x : (FU_T)0); break;
    case BP_FUSED_ABS: FU_UNARY(FU_FABS(x)); break;
    case BP_FUSED_ERF: FU_UNARY(FU_ERF(x)); break;
    case BP_FUSED_ADD: FU_BINARY(x + y); break;
    case BP_FUSED_SUB: FU_BINARY(x - y); break;
    case BP_FUSED_MUL: FU_BINARY(x * y); break;
    case BP_FUSED_DIV: FU_BINARY(x / y); break;
    case BP_FUSED_POW: FU_BINARY(FU_POW(x, y)); break;
    case BP_FUSED_MAX: FU_BINARY(x >= y ? x : y); break;
    case BP_FUSED_MIN: FU_BINARY(x <= y ? x : y); break;
    case BP_FUSED_LT: FU_BINARY(x < y ? (FU_T)1 : (FU_T)0); break;
    case BP_FUSED_LE: FU_BINARY(x <= y ? (FU_T)1 : (FU_T)0); break;
    case BP_FUSED_GT: FU_BINARY(x > y ? (FU_T)1 : (FU_T)0); break;
    case BP_FUSED_GE: FU_BINARY(x >= y ? (FU_T)1 : (FU_T)0); break;
    case BP_FUSED_EQ: FU_BINARY(x == y ? (FU_T)1 : (FU_T)0); break;
    case BP_FUSED_NE: FU_BINARY(x != y ? (FU_T)1 : (FU_T)0); break;
    case BP_FUSED_RELU_BACKWARD: FU_BINARY(y > 0 ? x : (FU_T)0); break;
    case BP_FUSED_CONSTANT: d[0] = c; break;
    case BP_FUSED_MUL_ADD: FU_BINARY(x * c + y); break;
    case BP_FUSED_SCALE: FU_UNARY(x * c); break;
    case BP_FUSED_ADD_CONSTANT: FU_UNARY(x + c); break;
    default: break;
    }
#undef FU_UNARY
#undef FU_BINARY
}

/// Runs the kernel's instructions over tiles of n values. Each result goes to its register's scratch tile, or
/// straight into the output that stores it (`direct[register]`, at `outputs[j] + at[j] + shift`), which is then
/// marked stored; `reg` and `scalar` say where each register's values are and whether they are one value.
FU_ATTR static inline __attribute__((always_inline)) void FU_FN(instructions)(const bp_fused_kernel *k, const FU_T **reg, int *scalar, const signed char *direct,
                                        FU_T *const *outputs, const long *at, long shift, int *stored, FU_T *scratch,
                                        long n) {
    for (long q = 0; q < k->instruction_count; q++) {
        const bp_fused_instruction *ins = &k->instructions[q];
        FU_T *d = scratch + ins->destination * BP_FUSED_TILE;
        const int as = ins->a >= 0 ? scalar[ins->a] : 1;
        const int bs = ins->b >= 0 ? scalar[ins->b] : 1;
        const int j = direct[ins->destination];
        if (j >= 0 && !(as && bs)) {
            d = outputs[j] + at[j] + shift;
            stored[j] = 1;
        }
        const FU_T *a = ins->a >= 0 ? reg[ins->a] : d, *b = ins->b >= 0 ? reg[ins->b] : d;
        // The commonest instructions (arithmetic on two tiles) run here without a call: in short kernels the
        // call and `apply`'s dispatch cost as much as the arithmetic.
        if (!as && !bs && ins->op >= BP_FUSED_ADD && ins->op <= BP_FUSED_MUL) {
            FU_T *restrict o = d;
            if (ins->op == BP_FUSED_ADD) { for (long i = 0; i < n; i++) o[i] = a[i] + b[i]; }
            else if (ins->op == BP_FUSED_SUB) { for (long i = 0; i < n; i++) o[i] = a[i] - b[i]; }
            else { for (long i = 0; i < n; i++) o[i] = a[i] * b[i]; }
        } else {
            FU_FN(apply)(ins->op, d, a, as, b, bs, ins->immediate, n);
        }
        reg[ins->destination] = d;
        scalar[ins->destination] = as && bs;
    }
}

/// Whether `output` is also an input's buffer (a compiled update writing a state tensor's new value into its
/// old memory): such an output is stored after each tile's instructions, so every read of the tile comes first.
FU_ATTR static inline int FU_FN(aliases_input)(const bp_fused_kernel *k, const FU_T *const *inputs, const FU_T *output) {
    for (long i = 0; i < k->input_count; i++)
        if (inputs[i] == output) return 1;
    return 0;
}

/// The sum of n values, in 16 independent lanes (which the compiler turns into vector additions) added up
/// pairwise at the end.
FU_ATTR static FU_T FU_FN(sum)(const FU_T *v, long n) {
    FU_T lanes[16] = {0};
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        for (int l = 0; l < 16; l++) lanes[l] += v[i + l];
    }
    for (int l = 0; i < n; i++, l++) lanes[l] += v[i];
    for (int width = 8; width > 0; width /= 2) {
        for (int l = 0; l < width; l++) lanes[l] += lanes[l + width];
    }
    return lanes[0];
}

/// The offsets of `rows` consecutive rows from the row at `index` (mixed radix over the outer axes) for one
/// operand with `strides` and base `offset`; returns 1 when they are one contiguous run of whole rows.
FU_ATTR static int FU_FN(row_offsets)(const bp_fused_kernel *k, const long *strides, long offset, const long *index,
                                      long rows, long *out) {
    const long rank = k->rank, length = k->shape[rank - 1];
    long walk[BP_FUSED_MAX_RANK];
    for (long axis = 0; axis + 1 < rank; axis++) walk[axis] = index[axis];
    int contiguous = strides[rank - 1] == 1;
    for (long r = 0; r < rows; r++) {
        long o = offset;
        for (long axis = 0; axis + 1 < rank; axis++) o += walk[axis] * strides[axis];
        out[r] = o;
        if (o != out[0] + r * length) contiguous = 0;
        for (long axis = rank - 2; axis >= 0; axis--) {
            if (++walk[axis] < k->shape[axis]) break;
            walk[axis] = 0;
        }
    }
    return contiguous;
}

/// `run` for short rows (at most half a tile): a tile holds several whole rows, so each instruction is
/// dispatched once per block of rows instead of once per row. Operands that are not one contiguous run over
/// the block are gathered into their register's scratch tile; outputs are stored or accumulated row by row in
/// the order `run` uses, so the results are the same.
FU_ATTR static void FU_FN(run_short)(const bp_fused_kernel *k, const FU_T *const *inputs, FU_T *const *outputs,
                                     long begin, long end, FU_T *scratch) {
    const long rank = k->rank, length = k->shape[rank - 1];
    const long per = BP_FUSED_TILE / length;
    const long ni = k->input_count, no = k->output_count, nr = k->register_count;
    const FU_T *reg[BP_FUSED_MAX_REGISTERS];
    int scalar[BP_FUSED_MAX_REGISTERS];
    signed char direct[BP_FUSED_MAX_REGISTERS];
    long index[BP_FUSED_MAX_RANK];
    long offsets[BP_FUSED_TILE / 2];
    long out_first[BP_FUSED_MAX_OPERANDS];
    int out_contiguous[BP_FUSED_MAX_OPERANDS], stored[BP_FUSED_MAX_OPERANDS];
    for (long r = 0; r < nr && r < BP_FUSED_MAX_REGISTERS; r++) direct[r] = -1;
    int aliased[BP_FUSED_MAX_OPERANDS];
    for (long j = 0; j < no; j++) aliased[j] = FU_FN(aliases_input)(k, inputs, outputs[j]);
    long rest = begin;
    for (long axis = rank - 2; axis >= 0; axis--) {
        index[axis] = rest % k->shape[axis];
        rest /= k->shape[axis];
    }
    for (long r0 = begin; r0 < end; r0 += per) {
        const long rows = end - r0 < per ? end - r0 : per, n = rows * length;
        for (long j = 0; j < ni; j++) {
            const long *strides = k->input_strides + j * rank;
            const long sc = strides[rank - 1];
            const int contiguous = FU_FN(row_offsets)(k, strides, k->input_offsets[j], index, rows, offsets);
            int constant = sc == 0;
            for (long r = 1; r < rows && constant; r++) constant = offsets[r] == offsets[0];
            if (constant) {
                reg[j] = inputs[j] + offsets[0];
                scalar[j] = 1;
            } else if (contiguous) {
                reg[j] = inputs[j] + offsets[0];
                scalar[j] = 0;
            } else {
                FU_T *tile = scratch + j * BP_FUSED_TILE;
                for (long r = 0; r < rows; r++) {
                    const FU_T *p = inputs[j] + offsets[r];
                    for (long c = 0; c < length; c++) tile[r * length + c] = p[c * sc];
                }
                reg[j] = tile;
                scalar[j] = 0;
            }
        }
        for (long j = no - 1; j >= 0; j--) {
            out_contiguous[j] = FU_FN(row_offsets)(k, k->output_strides + j * rank, k->output_offsets[j], index, rows, offsets);
            out_first[j] = offsets[0];
            stored[j] = 0;
            const int r = k->output_registers[j];
            if (k->output_modes[j] == BP_FUSED_STORE && out_contiguous[j] && r >= ni && r < nr && !aliased[j]) {
                direct[r] = (signed char)j;
            }
        }
        FU_FN(instructions)(k, reg, scalar, direct, outputs, out_first, 0, stored, scratch, n);
        for (long j = 0; j < no; j++) {
            const int r = k->output_registers[j];
            if (r < nr) direct[r] = -1;
            const long stride = k->output_strides[j * rank + rank - 1];
            const FU_T *v = reg[r];
            const int vs = scalar[r];
            FU_T *out = outputs[j];
            const long *rowsAt = offsets;
            if (!(k->output_modes[j] == BP_FUSED_STORE && (stored[j] || out_contiguous[j]))) {
                FU_FN(row_offsets)(k, k->output_strides + j * rank, k->output_offsets[j], index, rows, offsets);
            }
            switch (k->output_modes[j]) {
            case BP_FUSED_STORE:
                if (stored[j]) break;
                if (out_contiguous[j]) {
                    FU_T *o = out + out_first[j];
                    if (vs) { for (long i = 0; i < n; i++) o[i] = v[0]; }
                    else { for (long i = 0; i < n; i++) o[i] = v[i]; }
                } else {
                    for (long row = 0; row < rows; row++) {
                        FU_T *o = out + rowsAt[row];
                        const FU_T *w = vs ? v : v + row * length;
                        for (long i = 0; i < length; i++) o[i * stride] = vs ? w[0] : w[i];
                    }
                }
                break;
            case BP_FUSED_ACCUMULATE_SUM:
                for (long row = 0; row < rows; row++) {
                    FU_T *o = out + rowsAt[row];
                    const FU_T *w = vs ? v : v + row * length;
                    if (stride == 0) {
                        o[0] += vs ? w[0] * (FU_T)length : FU_FN(sum)(w, length);
                    } else if (stride == 1) {
                        if (vs) { for (long i = 0; i < length; i++) o[i] += w[0]; }
                        else { for (long i = 0; i < length; i++) o[i] += w[i]; }
                    } else {
                        for (long i = 0; i < length; i++) o[i * stride] += vs ? w[0] : w[i];
                    }
                }
                break;
            case BP_FUSED_ACCUMULATE_MAX:
                for (long row = 0; row < rows; row++) {
                    FU_T *o = out + rowsAt[row];
                    for (long i = 0; i < length; i++) {
                        FU_T x = vs ? v[0] : v[row * length + i];
                        FU_T *p = o + i * stride;
                        if (x > *p || (x != x && *p == *p)) *p = x;
                    }
                }
                break;
            default: break;
            }
        }
        for (long row = 0; row < rows; row++) {
            for (long axis = rank - 2; axis >= 0; axis--) {
                if (++index[axis] < k->shape[axis]) break;
                index[axis] = 0;
            }
        }
    }
}

/// Runs the kernel over rows `begin..<end` and columns `column_begin..<column_end` of its iteration space (the
/// space's last axis is the row); `inputs` and `outputs` are the operands' base pointers.
FU_ATTR static void FU_FN(run)(const bp_fused_kernel *k, const FU_T *const *inputs, FU_T *const *outputs,
                               long begin, long end, long column_begin, long column_end, FU_T *scratch) {
    const long rank = k->rank;
    const long length = rank > 0 ? k->shape[rank - 1] : 1;
    if (rank > 1 && length * 2 <= BP_FUSED_TILE && column_begin == 0 && column_end >= length && end - begin > 1) {
        FU_FN(run_short)(k, inputs, outputs, begin, end, scratch);
        return;
    }
    const long ni = k->input_count, no = k->output_count, nr = k->register_count;
    // Per register: where its values are (a pointer into an input, or a scratch tile) and whether it is one
    // value broadcast over the tile.
    const FU_T *reg[BP_FUSED_MAX_REGISTERS];
    int scalar[BP_FUSED_MAX_REGISTERS];
    long in_offset[BP_FUSED_MAX_OPERANDS], out_offset[BP_FUSED_MAX_OPERANDS];
    long index[BP_FUSED_MAX_RANK];
    // A register stored contiguously by an output is computed straight into that output (the first one
    // storing it), which saves copying the tile there: the output's index, or -1.
    signed char direct[BP_FUSED_MAX_REGISTERS];
    int stored[BP_FUSED_MAX_OPERANDS];
    for (long r = 0; r < nr && r < BP_FUSED_MAX_REGISTERS; r++) direct[r] = -1;
    for (long j = no - 1; j >= 0; j--) {
        const long stride = rank > 0 ? k->output_strides[j * rank + rank - 1] : 0;
        const int r = k->output_registers[j];
        if (k->output_modes[j] == BP_FUSED_STORE && stride == 1 && r >= ni && r < nr && !FU_FN(aliases_input)(k, inputs, outputs[j])) {
            direct[r] = (signed char)j;
        }
    }
    // The position of row `begin` in the outer axes (mixed radix).
    long rest = begin;
    for (long axis = rank - 2; axis >= 0; axis--) {
        index[axis] = rest % k->shape[axis];
        rest /= k->shape[axis];
    }
    for (long row = begin; row < end; row++) {
        for (long j = 0; j < ni; j++) {
            long o = k->input_offsets[j];
            for (long axis = 0; axis < rank - 1; axis++) o += index[axis] * k->input_strides[j * rank + axis];
            in_offset[j] = o;
        }
        for (long j = 0; j < no; j++) {
            long o = k->output_offsets[j];
            for (long axis = 0; axis < rank - 1; axis++) o += index[axis] * k->output_strides[j * rank + axis];
            out_offset[j] = o;
        }
        const long last = column_end < length ? column_end : length;
        for (long t0 = column_begin; t0 < last; t0 += BP_FUSED_TILE) {
            const long n = last - t0 < BP_FUSED_TILE ? last - t0 : BP_FUSED_TILE;
            for (long j = 0; j < ni; j++) {
                const long stride = rank > 0 ? k->input_strides[j * rank + rank - 1] : 0;
                const FU_T *base = inputs[j] + in_offset[j];
                if (stride == 0) {
                    reg[j] = base;
                    scalar[j] = 1;
                } else if (stride == 1) {
                    reg[j] = base + t0;
                    scalar[j] = 0;
                } else {
                    FU_T *tile = scratch + j * BP_FUSED_TILE;
                    const FU_T *p = base + t0 * stride;
                    for (long i = 0; i < n; i++) tile[i] = p[i * stride];
                    reg[j] = tile;
                    scalar[j] = 0;
                }
            }
            for (long j = 0; j < no; j++) stored[j] = 0;
            FU_FN(instructions)(k, reg, scalar, direct, outputs, out_offset, t0, stored, scratch, n);
            (void)nr;
            for (long j = 0; j < no; j++) {
                const long stride = rank > 0 ? k->output_strides[j * rank + rank - 1] : 0;
                const FU_T *v = reg[k->output_registers[j]];
                const int vs = scalar[k->output_registers[j]];
                FU_T *out = outputs[j] + out_offset[j];
                switch (k->output_modes[j]) {
                case BP_FUSED_STORE:
                    if (stored[j]) break;
                    if (stride == 1) {
                        if (vs) { for (long i = 0; i < n; i++) out[t0 + i] = v[0]; }
                        else { for (long i = 0; i < n; i++) out[t0 + i] = v[i]; }
                    } else {
                        for (long i = 0; i < n; i++) out[(t0 + i) * stride] = vs ? v[0] : v[i];
                    }
                    break;
                case BP_FUSED_ACCUMULATE_SUM:
                    if (stride == 0) {
                        out[0] += vs ? v[0] * (FU_T)n : FU_FN(sum)(v, n);
                    } else if (stride == 1) {
                        if (vs) { for (long i = 0; i < n; i++) out[t0 + i] += v[0]; }
                        else { for (long i = 0; i < n; i++) out[t0 + i] += v[i]; }
                    } else {
                        for (long i = 0; i < n; i++) out[(t0 + i) * stride] += vs ? v[0] : v[i];
                    }
                    break;
                case BP_FUSED_ACCUMULATE_MAX:
                    for (long i = 0; i < n; i++) {
                        FU_T x = vs ? v[0] : v[i];
                        FU_T *o = out + (t0 + i) * stride;
                        if (x > *o || (x != x && *o == *o)) *o = x;
                    }
                    break;
                default: break;
                }
            }
        }
        // Next row: advance the mixed-radix index over the outer axes.
        for (long axis = rank - 2; axis >= 0; axis--) {
            if (++index[axis] < k->shape[axis]) break;
            index[axis] = 0;
        }
    }
}

/// Sets the fills of a kernel and resolves its operands' base pointers from the call's table.
FU_ATTR static void FU_FN(prepare)(const bp_fused_kernel *k, FU_T *const *table, const FU_T **inputs, FU_T **outputs) {
    for (long f = 0; f < k->fill_count; f++) {
        FU_T *p = table[k->fill_buffers[f]] + k->fill_offsets[f];
        const FU_T v = (FU_T)k->fill_values[f];
        for (long i = 0; i < k->fill_counts[f]; i++) p[i] = v;
    }
    for (long j = 0; j < k->input_count; j++) inputs[j] = table[k->input_buffers[j]];
    for (long j = 0; j < k->output_count; j++) outputs[j] = table[k->output_buffers[j]];
}

/// Runs kernels one after another on the calling thread, each over its whole iteration space.
FU_ATTR static void FU_FN(sequence)(const bp_fused_kernel *const *kernels, long count, FU_T *const *table, FU_T *scratch) {
    const FU_T *inputs[BP_FUSED_MAX_OPERANDS];
    FU_T *outputs[BP_FUSED_MAX_OPERANDS];
    for (long q = 0; q < count; q++) {
        const bp_fused_kernel *k = kernels[q];
        FU_FN(prepare)(k, table, inputs, outputs);
        const long length = k->rank > 0 ? k->shape[k->rank - 1] : 1;
        long rows = 1;
        for (long axis = 0; axis + 1 < k->rank; axis++) rows *= k->shape[axis];
        FU_FN(run)(k, inputs, outputs, 0, rows, 0, length, scratch);
    }
}

#undef FU_T
#undef FU_FN
#undef FU_EXP
#undef FU_LOG
#undef FU_SIN
#undef FU_COS
#undef FU_TAN
#undef FU_TANH
#undef FU_SQRT
#undef FU_POW
#undef FU_FABS
#undef FU_ERF
#undef FU_VEC

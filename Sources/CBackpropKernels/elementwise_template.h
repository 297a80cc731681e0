// Elementwise kernels written once over a "vector" abstraction and instantiated per scalar type and
// instruction set (a 1-wide vector being the plain scalar for the portable build). Not a header to include
// elsewhere: each inclusion defines static functions. Before including, define:
//   EW_T                 the scalar type;  EW_VT the vector type;  EW_W the lanes per vector
//   EW_ATTR              attributes for the generated functions (e.g. the target attribute), may be empty
//   EW_FN(name)          the name of a generated function
//   EW_LOAD(p)/EW_STORE(p, v)  unaligned load / store of EW_W scalars;  EW_SET1(s)  all lanes s
//   EW_ADD/EW_SUB/EW_MUL/EW_MAX(a, b)  lane-wise arithmetic (EW_MAX need not order NaNs)
//   EW_RELU(v)           lane-wise `!(v <= 0) ? v : 0`;  EW_RELU_BACKWARD(g, x)  lane-wise `x > 0 ? g : 0`
//   EW_HSUM(v)/EW_HMAX(v)  horizontal sum / maximum to a scalar
//   EW_EXP_SHIFTED(row, shift, out, n)  optional: a function computing out[j] = exp(row[j] - shift) and
//                        returning the sum; when undefined, a scalar loop calling EW_EXP is generated
//   EW_EXP(x)/EW_LOG(x)  the scalar exponential and logarithm

/// z = x + y, elementwise over n values.
EW_ATTR static void EW_FN(add)(const EW_T *x, const EW_T *y, EW_T *z, long n) {
    long i = 0;
    for (; i + EW_W <= n; i += EW_W) EW_STORE(z + i, EW_ADD(EW_LOAD(x + i), EW_LOAD(y + i)));
    for (; i < n; i++) z[i] = x[i] + y[i];
}

/// z = x - y, elementwise over n values.
EW_ATTR static void EW_FN(sub)(const EW_T *x, const EW_T *y, EW_T *z, long n) {
    long i = 0;
    for (; i + EW_W <= n; i += EW_W) EW_STORE(z + i, EW_SUB(EW_LOAD(x + i), EW_LOAD(y + i)));
    for (; i < n; i++) z[i] = x[i] - y[i];
}

/// z = x * y, elementwise over n values.
EW_ATTR static void EW_FN(mul)(const EW_T *x, const EW_T *y, EW_T *z, long n) {
    long i = 0;
    for (; i + EW_W <= n; i += EW_W) EW_STORE(z + i, EW_MUL(EW_LOAD(x + i), EW_LOAD(y + i)));
    for (; i < n; i++) z[i] = x[i] * y[i];
}

/// z = x + b over n values.
EW_ATTR static void EW_FN(add_scalar)(const EW_T *x, EW_T b, EW_T *z, long n) {
    EW_VT vb = EW_SET1(b);
    long i = 0;
    for (; i + EW_W <= n; i += EW_W) EW_STORE(z + i, EW_ADD(EW_LOAD(x + i), vb));
    for (; i < n; i++) z[i] = x[i] + b;
}

/// z = a * x over n values.
EW_ATTR static void EW_FN(mul_scalar)(const EW_T *x, EW_T a, EW_T *z, long n) {
    EW_VT va = EW_SET1(a);
    long i = 0;
    for (; i + EW_W <= n; i += EW_W) EW_STORE(z + i, EW_MUL(va, EW_LOAD(x + i)));
    for (; i < n; i++) z[i] = a * x[i];
}

/// z = a * x + b over n values (rounded product, then rounded sum, the same on every path).
EW_ATTR static void EW_FN(affine)(const EW_T *x, EW_T a, EW_T b, EW_T *z, long n) {
    EW_VT va = EW_SET1(a), vb = EW_SET1(b);
    long i = 0;
    for (; i + EW_W <= n; i += EW_W) EW_STORE(z + i, EW_ADD(EW_MUL(va, EW_LOAD(x + i)), vb));
    for (; i < n; i++) {
        EW_T product = a * x[i];
        z[i] = product + b;
    }
}

/// z = relu(x) over n values: NaN stays NaN, -0 becomes +0.
EW_ATTR static void EW_FN(relu)(const EW_T *x, EW_T *z, long n) {
    long i = 0;
    for (; i + EW_W <= n; i += EW_W) EW_STORE(z + i, EW_RELU(EW_LOAD(x + i)));
    for (; i < n; i++) z[i] = !(x[i] <= 0) ? x[i] : (EW_T)0;
}

/// z = x > 0 ? g : 0 over n values.
EW_ATTR static void EW_FN(relu_backward)(const EW_T *g, const EW_T *x, EW_T *z, long n) {
    long i = 0;
    for (; i + EW_W <= n; i += EW_W) EW_STORE(z + i, EW_RELU_BACKWARD(EW_LOAD(g + i), EW_LOAD(x + i)));
    for (; i < n; i++) z[i] = x[i] > 0 ? g[i] : (EW_T)0;
}

/// The sum of n values, with four independent vector accumulators to hide the add latency.
EW_ATTR static EW_T EW_FN(sum)(const EW_T *x, long n) {
    EW_VT s0 = EW_SET1(0), s1 = EW_SET1(0), s2 = EW_SET1(0), s3 = EW_SET1(0);
    long i = 0;
    for (; i + 4 * EW_W <= n; i += 4 * EW_W) {
        s0 = EW_ADD(s0, EW_LOAD(x + i));
        s1 = EW_ADD(s1, EW_LOAD(x + i + EW_W));
        s2 = EW_ADD(s2, EW_LOAD(x + i + 2 * EW_W));
        s3 = EW_ADD(s3, EW_LOAD(x + i + 3 * EW_W));
    }
    for (; i + EW_W <= n; i += EW_W) s0 = EW_ADD(s0, EW_LOAD(x + i));
    EW_T total = EW_HSUM(EW_ADD(EW_ADD(s0, s1), EW_ADD(s2, s3)));
    for (; i < n; i++) total += x[i];
    return total;
}

/// The largest of n >= 1 values (NaNs are not ordered; callers see them through later arithmetic).
EW_ATTR static EW_T EW_FN(max)(const EW_T *x, long n) {
    EW_T best = x[0];
    long i = 0;
    if (n >= EW_W) {
        EW_VT m = EW_LOAD(x);
        for (i = EW_W; i + EW_W <= n; i += EW_W) m = EW_MAX(m, EW_LOAD(x + i));
        best = EW_HMAX(m);
    }
    for (; i < n; i++) best = x[i] > best ? x[i] : best;
    return best;
}

/// z[i, j] = x[i, j] + b[j] for an M×N row-major x.
EW_ATTR static void EW_FN(add_bias_rows)(const EW_T *x, const EW_T *b, EW_T *z, long M, long N) {
    for (long i = 0; i < M; i++) EW_FN(add)(x + i * N, b, z + i * N, N);
}

/// out[j] = sum over i of x[i, j] for an M×N row-major x (rows added in order, vectorised across columns).
EW_ATTR static void EW_FN(column_sums)(const EW_T *x, EW_T *out, long M, long N) {
    for (long j = 0; j < N; j++) out[j] = 0;
    for (long i = 0; i < M; i++) EW_FN(add)(out, x + i * N, out, N);
}

#if !defined(EW_EXP_SHIFTED)
/// out[j] = exp(row[j] - shift) for j in 0..<n; returns the sum of the results.
EW_ATTR static EW_T EW_FN(exp_shifted)(const EW_T *row, EW_T shift, EW_T *out, long n) {
    EW_T sum = 0;
    for (long j = 0; j < n; j++) {
        EW_T e = EW_EXP(row[j] - shift);
        out[j] = e;
        sum += e;
    }
    return sum;
}
#define EW_EXP_SHIFTED EW_FN(exp_shifted)
#define EW_EXP_SHIFTED_GENERATED 1
#endif

/// Softmax of each row of an M×N logits matrix into probs, returning the mean negative log-likelihood of
/// the labelled classes (NaN if a label is outside 0..<N, 0 when M == 0). probs may alias logits.
EW_ATTR static EW_T EW_FN(softmax_cross_entropy)(const EW_T *logits, const long *labels, EW_T *probs, long M,
                                                 long N) {
    if (M <= 0) return 0;
    double total = 0;
    for (long i = 0; i < M; i++) {
        const EW_T *row = logits + i * N;
        EW_T *out = probs + i * N;
        long label = labels[i];
        if (N <= 0 || label < 0 || label >= N) {
            total += (double)NAN;
            continue;
        }
        EW_T shift = EW_FN(max)(row, N);
        // Read before `out` (which may alias `row`) is overwritten.
        EW_T labelled = row[label] - shift;
        EW_T sum = EW_EXP_SHIFTED(row, shift, out, N);
        EW_FN(mul_scalar)(out, (EW_T)1 / sum, out, N);
        total += (double)(EW_LOG(sum) - labelled);
    }
    return (EW_T)(total / (double)M);
}

#if defined(EW_EXP_SHIFTED_GENERATED)
#undef EW_EXP_SHIFTED
#undef EW_EXP_SHIFTED_GENERATED
#endif

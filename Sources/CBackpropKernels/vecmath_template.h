// Vectorised elementary functions, written once over the compiler's generic vectors and instantiated by
// vecmath.c per instruction set (4 doubles a vector for AVX2+FMA, 8 for AVX-512). Not a header to include
// elsewhere: each inclusion defines static functions. Before including, define:
//   VM_W          doubles per vector;   VM_ATTR  the target attribute of every generated function
//   VM_FN(name)   the name of a generated function or type
//   VM_MASKED_TAIL  optional: define for the AVX-512 instance, whose array tails are read and written with
//                 masked loads and stores (else through a buffer on the stack)
//
// Every double function works in double-double where it matters, so each result is the exact value rounded
// once more than a correctly rounded one would be (see the bounds in CBackpropKernels.h). Float functions
// convert to double, compute there (with shorter polynomials where float allows) and round once to float.
// Lanes whose argument leaves a kernel's fast range (huge sin arguments, exp results in the subnormal band,
// pow's edge cases...) are recomputed by the C library, one lane at a time; the common special values
// (NaN, ±inf, ±0, overflow, total underflow) are settled in the vector code.

#define VD VM_FN(vd)
#define VI VM_FN(vi)
#define VU VM_FN(vu)
#define VF VM_FN(vf)
typedef double VD __attribute__((vector_size(VM_W * 8)));
typedef long long VI __attribute__((vector_size(VM_W * 8)));
typedef unsigned long long VU __attribute__((vector_size(VM_W * 8)));
typedef float VF __attribute__((vector_size(VM_W * 4)));

#define VM_INLINE VM_ATTR static inline __attribute__((always_inline))

/// All lanes `c`.
#define SPLAT(c) ((VD){} + (double)(c))

VM_INLINE VD VM_FN(load)(const double *p) {
    VD v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}
VM_INLINE void VM_FN(store)(double *p, VD v) { __builtin_memcpy(p, &v, sizeof v); }
VM_INLINE VD VM_FN(loadf)(const float *p) {
    VF v;
    __builtin_memcpy(&v, p, sizeof v);
    return __builtin_convertvector(v, VD);
}
VM_INLINE void VM_FN(storef)(float *p, VD v) {
    VF f = __builtin_convertvector(v, VF);
    __builtin_memcpy(p, &f, sizeof f);
}

/// a·b + c with one rounding.
VM_INLINE VD VM_FN(fma)(VD a, VD b, VD c) { return __builtin_elementwise_fma(a, b, c); }
/// Lane-wise `m ? a : b` for a comparison mask m (all ones or all zeros per lane).
VM_INLINE VD VM_FN(sel)(VI m, VD a, VD b) { return (VD)(((VI)a & m) | ((VI)b & ~m)); }
/// Whether any lane of the mask is set.
VM_INLINE int VM_FN(any)(VI m) { return __builtin_reduce_or(m) != 0; }
VM_INLINE VD VM_FN(abs)(VD x) { return (VD)((VI)x & 0x7fffffffffffffffLL); }
/// x with the sign bit of s (x must be non-negative).
VM_INLINE VD VM_FN(with_sign)(VD x, VD s) { return (VD)((VI)x | ((VI)s & (long long)0x8000000000000000ULL)); }

#define FMA VM_FN(fma)
#define SEL VM_FN(sel)
#define ANY VM_FN(any)
#define ABS VM_FN(abs)

/// Recomputes the lanes of `y` selected by `m` as f(x) with the C library.
VM_INLINE VD VM_FN(libm1)(VD y, VD x, VI m, double (*f)(double)) {
    if (!ANY(m)) return y;
    double xs[VM_W], ys[VM_W];
    long long ms[VM_W];
    VM_FN(store)(xs, x);
    VM_FN(store)(ys, y);
    __builtin_memcpy(ms, &m, sizeof ms);
    vm_libm_lanes1(ys, xs, ms, VM_W, f);
    return VM_FN(load)(ys);
}

/// Recomputes the lanes of `z` selected by `m` as f(x, y) with the C library.
VM_INLINE VD VM_FN(libm2)(VD z, VD x, VD y, VI m, double (*f)(double, double)) {
    if (!ANY(m)) return z;
    double xs[VM_W], ys[VM_W], zs[VM_W];
    long long ms[VM_W];
    VM_FN(store)(xs, x);
    VM_FN(store)(ys, y);
    VM_FN(store)(zs, z);
    __builtin_memcpy(ms, &m, sizeof ms);
    vm_libm_lanes2(zs, xs, ys, ms, VM_W, f);
    return VM_FN(load)(zs);
}

// MARK: Exponential core

/// Splits y + ylo (|y| ≤ 708, |ylo| ≤ 2^-40) as k·ln2 + r and returns e^r − 1 as the unevaluated sum
/// *s_hi + *s_lo (relative error about 2^-56), k as a double in *k and 2^k in *scale.
VM_INLINE void VM_FN(exp_core)(VD y, VD ylo, VD *k, VD *scale, VD *s_hi, VD *s_lo) {
    VD z = FMA(y, SPLAT(VM_LOG2E), SPLAT(VM_SHIFTER));
    VD kk = z - VM_SHIFTER;
    VD t = FMA(-kk, SPLAT(VM_LN2_HI), y); // exact: k·LN2_HI has at most 53 bits and lands near y
    VD lo = kk * VM_LN2_LO;
    // r = t − lo exactly as r_hi + r_lo (two-sum), then ylo joins the tail.
    VD r_hi = t - lo;
    VD bb = r_hi - t;
    VD r_lo = ((t - (r_hi - bb)) + (-lo - bb)) + ylo;
    // e^r − 1 = r + r²·(1/2! + r/3! + … + r^11/13!) (Taylor; the remainder is below 2^-56·|r|).
    VD q = SPLAT(1.0 / 6227020800.0);
    q = FMA(q, r_hi, SPLAT(1.0 / 479001600.0));
    q = FMA(q, r_hi, SPLAT(1.0 / 39916800.0));
    q = FMA(q, r_hi, SPLAT(1.0 / 3628800.0));
    q = FMA(q, r_hi, SPLAT(1.0 / 362880.0));
    q = FMA(q, r_hi, SPLAT(1.0 / 40320.0));
    q = FMA(q, r_hi, SPLAT(1.0 / 5040.0));
    q = FMA(q, r_hi, SPLAT(1.0 / 720.0));
    q = FMA(q, r_hi, SPLAT(1.0 / 120.0));
    q = FMA(q, r_hi, SPLAT(1.0 / 24.0));
    q = FMA(q, r_hi, SPLAT(1.0 / 6.0));
    q = FMA(q, r_hi, SPLAT(0.5));
    VD p = (r_hi * r_hi) * q;
    VD sh = r_hi + p;
    // e^(r_hi + r_lo) − 1 ≈ (e^r_hi − 1) + r_lo·e^r_hi.
    VD sl = ((r_hi - sh) + p) + (r_lo + r_lo * sh);
    *k = kk;
    *scale = (VD)(((VI)z << 52) + 0x3ff0000000000000LL);
    *s_hi = sh;
    *s_lo = sl;
}

/// Tang's table method for e^x, |x| ≤ 708: x = (128k + j)·ln2/128 + r with 0 ≤ j < 128 and |r| ≤ ln2/256, so
/// e^x = 2^k · 2^(j/128) · e^r = *scale · (*th + *s), with 2^(j/128) a double-double from `vm_exp_table` and
/// e^r − 1 a degree-5 Taylor polynomial (remainder below 2^-60): *th + *s is within about 2^-60 of the
/// exact value relative, with |*s| < 2^-7·*th. Half the arithmetic of `exp_core`'s degree-13 polynomial.
VM_INLINE void VM_FN(exp_table)(VD x, VD *th, VD *s, VD *scale) {
    VD z = FMA(x, SPLAT(VM_128_OVER_LN2), SPLAT(VM_SHIFTER));
    VD kn = z - VM_SHIFTER;
    // x − kn·ln2/128: the first step is exact (kn·LN2_HI/128 has at most 50 bits and is close to x).
    VD r = FMA(-kn, SPLAT(VM_LN2_HI / 128.0), x);
    r = FMA(-kn, SPLAT(VM_LN2_LO / 128.0), r);
    // kn as an integer (the shifter's low mantissa bits); j = kn mod 128 indexes the table in every lane, so
    // lanes outside the range (settled by the callers) read the table harmlessly.
    VI n = (VI)z - 0x4338000000000000LL;
    VI j = n & 127;
    VD hi, lo;
    for (int l = 0; l < VM_W; l++) {
        hi[l] = vm_exp_table[2 * j[l]];
        lo[l] = vm_exp_table[2 * j[l] + 1];
    }
    VD q = FMA(r, SPLAT(1.0 / 120.0), SPLAT(1.0 / 24.0));
    q = FMA(q, r, SPLAT(1.0 / 6.0));
    q = FMA(q, r, SPLAT(0.5));
    VD p = FMA(r * r, q, r);
    *th = hi;
    *s = FMA(hi, p, lo);
    // 2^k as a double: (kn − j)·2^45 = k·2^52 lands in the exponent field.
    *scale = (VD)(((n - j) << 45) + 0x3ff0000000000000LL);
}

/// e^y as hi + lo for |y| ≤ 708 (relative error about 2^-60).
VM_INLINE void VM_FN(exp_dd)(VD y, VD *hi, VD *lo) {
    VD th, s, scale;
    VM_FN(exp_table)(y, &th, &s, &scale);
    VD h = th + s;
    *hi = h * scale;
    *lo = ((th - h) + s) * scale;
}

/// e^y − 1 as hi + lo for |y| ≤ 708 (relative error about 2^-56).
VM_INLINE void VM_FN(expm1_dd)(VD y, VD *hi, VD *lo) {
    VD k, scale, sh, sl;
    VM_FN(exp_core)(y, SPLAT(0), &k, &scale, &sh, &sl);
    // 2^k·(1 + s) − 1 = (2^k − 1) + 2^k·s, with 2^k − 1 as a double-double (it is inexact for |k| > 53).
    VD a = scale - 1.0;
    VD ab = a - scale;
    VD al = (scale - (a - ab)) + (-1.0 - ab);
    VD b = scale * sh;
    VD h = a + b;
    VD bb = h - a;
    VD l = (a - (h - bb)) + (b - bb);
    *hi = h;
    *lo = l + (al + scale * sl);
}

/// hi + lo divided by dh + dl, rounded once: the quotient of the heads and one correction step.
VM_INLINE VD VM_FN(div_dd)(VD nh, VD nl, VD dh, VD dl) {
    VD inv = 1.0 / dh;
    VD q = nh * inv;
    VD r = (FMA(-q, dh, nh) + nl - q * dl) * inv;
    return q + r;
}

/// e^x within about 0.51 ulp by the table method (`exp_table`); beyond ±708 the special values, and the C
/// library for results in the subnormal band.
VM_INLINE VD VM_FN(exp)(VD x) {
    VD th, s, scale;
    VM_FN(exp_table)(x, &th, &s, &scale);
    VD y = (th + s) * scale;
    VI slow = ~(ABS(x) <= 708.0);
    if (ANY(slow)) {
        y = SEL(x > 710.0, SPLAT(__builtin_inf()), y);
        y = SEL(x < -746.0, SPLAT(0), y);
        y = SEL(x != x, x + x, y);
        y = VM_FN(libm1)(y, x, slow & (x <= 710.0) & (x >= -746.0), exp);
    }
    return y;
}

VM_INLINE VD VM_FN(expm1)(VD x) {
    VD h, l;
    VM_FN(expm1_dd)(x, &h, &l);
    VD y = h + l;
    y = SEL(x == 0, x, y); // keeps −0
    VI slow = ~(ABS(x) <= 708.0);
    if (ANY(slow)) {
        y = SEL(x > 710.0, SPLAT(__builtin_inf()), y);
        y = SEL(x < -708.0, SPLAT(-1.0), y);
        y = SEL(x != x, x + x, y);
        y = VM_FN(libm1)(y, x, slow & (x <= 710.0) & (x > 708.0), expm1);
    }
    return y;
}

/// 1 / (1 + e^-x): the quotient of double-doubles N / (1 + E) with E = e^-|x| and N = 1 (x ≥ 0) or E.
VM_INLINE VD VM_FN(sigmoid)(VD x) {
    VD eh, el;
    VM_FN(exp_dd)(-ABS(x), &eh, &el);
    VD dh = 1.0 + eh;
    VD dl = ((1.0 - dh) + eh) + el;
    VI positive = x >= 0;
    VD y = VM_FN(div_dd)(SEL(positive, SPLAT(1), eh), SEL(positive, SPLAT(0), el), dh, dl);
    VI slow = ~(ABS(x) <= 708.0);
    if (ANY(slow)) {
        y = SEL(x > 708.0, SPLAT(1), y);
        y = SEL(x < -746.0, SPLAT(0), y);
        y = SEL(x != x, x + x, y);
        // e^x < 2^-1021 here, so 1 + e^x rounds to 1 and the quotient is e^x.
        y = VM_FN(libm1)(y, x, (x < -708.0) & (x >= -746.0), exp);
    }
    return y;
}

/// tanh|x| in double-double quotients, the sign of x going on last: (1 − E) / (1 + E) with E = e^{−2|x|} from
/// the table method for |x| ≥ 1/32 (then 1 − E ≥ 0.06, so E's error of 2^-60 stays below 2^-56 of the
/// numerator), else Taylor's series a + a³·P(a²) to a¹¹ (the next term is below 2^-63 of a, and a³·P below
/// 2^-11 of a, so the sum is rounded once more than exactly). Each lane takes the formula its own |x| calls
/// for (a vector with both kinds computes both, the series costing five FMAs), so a value's result does not
/// depend on its neighbours: not on the vector width, the tail, or how threads split an array.
VM_INLINE VD VM_FN(tanh)(VD x) {
    VD a = ABS(x);
    VD ac = SEL(a > 22.0, SPLAT(22.0), a); // tanh(22) rounds to 1; NaN stays
    VI small = ~(ac >= 0x1p-5);            // NaN too; it is settled below
    VD y = SPLAT(0);
    if (ANY(small)) {
        VD z = ac * ac;
        VD p = FMA(z, SPLAT(-1382.0 / 155925.0), SPLAT(62.0 / 2835.0));
        p = FMA(p, z, SPLAT(-17.0 / 315.0));
        p = FMA(p, z, SPLAT(2.0 / 15.0));
        p = FMA(p, z, SPLAT(-1.0 / 3.0));
        y = FMA(ac * z, p, ac);
    }
    if (ANY(~small)) {
        VD eh, el;
        VM_FN(exp_dd)(-2.0 * ac, &eh, &el);
        // 1 − E and 1 + E as double-doubles (E < 1, so both two-sums are exact in the fast form).
        VD nh = 1.0 - eh;
        VD nl = ((1.0 - nh) - eh) - el;
        VD dh = 1.0 + eh;
        VD dl = ((1.0 - dh) + eh) + el;
        y = SEL(small, y, VM_FN(div_dd)(nh, nl, dh, dl));
    }
    y = SEL(a != a, x + x, y);
    return VM_FN(with_sign)(y, x);
}

// MARK: Logarithm core

/// log x as hi + lo for positive, normal, finite x (relative error about 2^-64 for use by pow).
VM_INLINE void VM_FN(log_dd)(VD x, VD *hi, VD *lo) {
    // x = 2^k·m with m in [√½, √2).
    VI tmp = (VI)x - 0x3fe6a09e667f3bcdLL;
    VD m = (VD)((VI)x - (tmp & (long long)0xfff0000000000000ULL));
    VU kb = ((VU)tmp >> 52) ^ 0x800; // k + 2048
    VD kd = (VD)(kb | 0x4330000000000000ULL) - (0x1p52 + 2048.0);
    // log m = 2·atanh(s) = 2s + (2/3)s³ + s⁵·P(s²), s = f/(2 + f), f = m − 1 (exact), |s| ≤ 0.1716.
    VD f = m - 1.0;
    VD uh = 2.0 + f;
    VD ul = (2.0 - uh) + f;
    VD inv = 1.0 / uh;
    VD sh = f * inv;
    VD sl = (FMA(-sh, uh, f) - sh * ul) * inv;
    VD zh = sh * sh;
    VD zl = FMA(sh, sh, -zh) + 2.0 * sh * sl;
    VD ch = sh * zh; // s³
    VD cl = FMA(sh, zh, -ch) + sh * zl + sl * zh;
    VD dh = VM_TWO_THIRDS_HI * ch; // (2/3)·s³
    VD dl = FMA(SPLAT(VM_TWO_THIRDS_HI), ch, -dh) + VM_TWO_THIRDS_HI * cl + VM_TWO_THIRDS_LO * ch;
    // P(z) = Σ_{j=2}^{12} 2/(2j+1)·z^(j−2): the series' remainder is below 2^-66 of log m.
    VD p = SPLAT(2.0 / 25);
    p = FMA(p, zh, SPLAT(2.0 / 23));
    p = FMA(p, zh, SPLAT(2.0 / 21));
    p = FMA(p, zh, SPLAT(2.0 / 19));
    p = FMA(p, zh, SPLAT(2.0 / 17));
    p = FMA(p, zh, SPLAT(2.0 / 15));
    p = FMA(p, zh, SPLAT(2.0 / 13));
    p = FMA(p, zh, SPLAT(2.0 / 11));
    p = FMA(p, zh, SPLAT(2.0 / 9));
    p = FMA(p, zh, SPLAT(2.0 / 7));
    p = FMA(p, zh, SPLAT(2.0 / 5));
    VD w = ch * zh * p;
    VD a = 2.0 * sh;
    VD h = a + dh; // |a| ≥ |dh|: fast two-sum
    VD l = ((a - h) + dh) + (2.0 * sl + dl + w);
    VD kh = kd * VM_LN2_HI; // exact
    VD kl = kd * VM_LN2_LO;
    VD H = kh + h; // k = 0 or |kh| ≥ ln2/2 ≥ |h|: fast two-sum
    VD L = ((kh - H) + h) + (l + kl);
    // Renormalise: l carries s⁵·P (up to 2^-14 of the result), too much for a tail pow can use linearly.
    *hi = H + L;
    *lo = (H - *hi) + L;
}

VM_INLINE VD VM_FN(log)(VD x) {
    VD h, l;
    VM_FN(log_dd)(x, &h, &l);
    VD y = h + l;
    VI slow = ~((x >= 0x1p-1022) & (x < __builtin_inf()));
    if (ANY(slow)) {
        y = SEL(x == __builtin_inf(), x, y);
        y = SEL(x == 0, SPLAT(-__builtin_inf()), y);
        y = SEL(x < 0, SPLAT(__builtin_nan("")), y);
        y = SEL(x != x, x + x, y);
        y = VM_FN(libm1)(y, x, (x > 0) & (x < 0x1p-1022), log);
    }
    return y;
}

VM_INLINE VD VM_FN(log1p)(VD x) {
    // u = 1 + x rounded; log(1 + x) = log u + log(1 + c/u)... ≈ log u + c/u with c = x − (u − 1).
    VD u = 1.0 + x;
    VD c = (x - (u - 1.0)) / u;
    VD h, l;
    VM_FN(log_dd)(u, &h, &l);
    VD y = h + (l + c);
    y = SEL(x == 0, x, y); // keeps −0
    VI slow = ~((x > -1.0) & (u < __builtin_inf()));
    if (ANY(slow)) {
        y = SEL(x == __builtin_inf(), x, y);
        y = SEL(x == -1.0, SPLAT(-__builtin_inf()), y);
        y = SEL(x < -1.0, SPLAT(__builtin_nan("")), y);
        y = SEL(x != x, x + x, y);
        y = VM_FN(libm1)(y, x, (x > -1.0) & (x < __builtin_inf()) & (u == __builtin_inf()), log1p);
    }
    return y;
}

// MARK: Power

/// |y| below this is an integer's or a half-integer's magnitude the shifter can round.
#define VM_POW_INTEGER_LIMIT 0x1p51

VM_INLINE VD VM_FN(pow)(VD x, VD y) {
    VD ax = ABS(x);
    VD lh, ll;
    VM_FN(log_dd)(ax, &lh, &ll);
    VD yh = y * lh;
    VD yl = FMA(y, lh, -yh) + y * ll;
    VD ych = SEL(ABS(yh) <= 708.0, yh, SPLAT(0)); // keeps exp_core in range; such lanes go to libm
    VD k, scale, sh, sl;
    VM_FN(exp_core)(ych, yl, &k, &scale, &sh, &sl);
    VD eh = 1.0 + sh;
    VD el = ((1.0 - eh) + sh) + sl;
    VD z = (eh + el) * scale;
    // A negative base needs an integer exponent; an odd one makes the result negative.
    VD shifted = y + VM_SHIFTER;
    VI integral = (shifted - VM_SHIFTER) == y;
    VI odd = ((VI)shifted & 1) != 0;
    VI negative = x < 0;
    z = SEL(negative & odd, -z, z);
    VI fast = (ax >= 0x1p-1022) & (ax < __builtin_inf()) & (ABS(y) < VM_POW_INTEGER_LIMIT) &
              (ABS(yh) <= 708.0) & (~negative | integral);
    return VM_FN(libm2)(z, x, y, ~fast, pow);
}

// MARK: Trigonometric functions

/// x − n·π/2 as r_hi + r_lo with n = round(x·2/π) (|x| ≤ 2^19), and n mod 4 in *quadrant.
VM_INLINE void VM_FN(reduce_pio2)(VD x, VD *r_hi, VD *r_lo, VI *quadrant) {
    VD z = FMA(x, SPLAT(VM_TWO_OVER_PI), SPLAT(VM_SHIFTER));
    VD n = z - VM_SHIFTER;
    VD t = FMA(-n, SPLAT(VM_PIO2_1), x); // exact: PIO2_1 has 33 bits and n < 2^20
    VD wh = n * VM_PIO2_2;
    VD wl = FMA(n, SPLAT(VM_PIO2_2), -wh);
    VD v = n * VM_PIO2_3;
    VD h = t - wh;
    VD bb = h - t;
    VD l = ((t - (h - bb)) + (-wh - bb)) - wl - v;
    // Renormalise (two-sum: after cancellation the tail may be the larger).
    VD h2 = h + l;
    VD b2 = h2 - h;
    *r_lo = (h - (h2 - b2)) + (l - b2);
    *r_hi = h2;
    *quadrant = (VI)z & 3;
}

/// sin(rh + rl) for |rh| ≤ π/4 + ε as the unevaluated sum rh + *tail.
VM_INLINE VD VM_FN(sin_tail)(VD rh, VD rl, VD z) {
    // sin r = r + r·z·S(z), S = Σ_{j=1}^{8} (−1)^j z^(j−1)/(2j+1)! (Taylor; remainder below 2^-63·|r|).
    VD s = SPLAT(1.0 / 355687428096000.0);
    s = FMA(s, z, SPLAT(-1.0 / 1307674368000.0));
    s = FMA(s, z, SPLAT(1.0 / 6227020800.0));
    s = FMA(s, z, SPLAT(-1.0 / 39916800.0));
    s = FMA(s, z, SPLAT(1.0 / 362880.0));
    s = FMA(s, z, SPLAT(-1.0 / 5040.0));
    s = FMA(s, z, SPLAT(1.0 / 120.0));
    s = FMA(s, z, SPLAT(-1.0 / 6.0));
    // sin(rh + rl) ≈ sin rh + rl·cos rh ≈ sin rh + rl·(1 − z/2).
    return FMA(rh * z, s, FMA(rl, -0.5 * z, rl));
}

/// cos(rh + rl) for |rh| ≤ π/4 + ε as the unevaluated sum *head + *tail.
VM_INLINE void VM_FN(cos_dd)(VD rh, VD rl, VD z, VD *head, VD *tail) {
    // cos r = 1 − z/2 + z²·C(z), C = Σ_{j=2}^{8} (−1)^j z^(j−2)/(2j)! (remainder below 2^-58).
    VD c = SPLAT(1.0 / 20922789888000.0);
    c = FMA(c, z, SPLAT(-1.0 / 87178291200.0));
    c = FMA(c, z, SPLAT(1.0 / 479001600.0));
    c = FMA(c, z, SPLAT(-1.0 / 3628800.0));
    c = FMA(c, z, SPLAT(1.0 / 40320.0));
    c = FMA(c, z, SPLAT(-1.0 / 720.0));
    c = FMA(c, z, SPLAT(1.0 / 24.0));
    VD hz = 0.5 * z;
    VD w = 1.0 - hz;
    // cos(rh + rl) ≈ cos rh − rl·rh; ((1 − w) − hz) is the rounding error of w.
    *head = w;
    *tail = ((1.0 - w) - hz) + (z * z * c - rh * rl);
}

/// Lanes outside the reduction's range (and NaN, ±inf) go to the C library.
#define VM_TRIG_LIMIT 0x1p19

VM_INLINE VD VM_FN(sin)(VD x) {
    VD rh, rl;
    VI q;
    VM_FN(reduce_pio2)(x, &rh, &rl, &q);
    VD z = rh * rh;
    VD s = rh + VM_FN(sin_tail)(rh, rl, z);
    VD ch, ct;
    VM_FN(cos_dd)(rh, rl, z, &ch, &ct);
    VD c = ch + ct;
    VD y = SEL((q & 1) != 0, c, s);
    y = SEL((q & 2) != 0, -y, y);
    y = SEL(x == 0, x, y);
    return VM_FN(libm1)(y, x, ~(ABS(x) <= VM_TRIG_LIMIT), sin);
}

VM_INLINE VD VM_FN(cos)(VD x) {
    VD rh, rl;
    VI q;
    VM_FN(reduce_pio2)(x, &rh, &rl, &q);
    VD z = rh * rh;
    VD s = rh + VM_FN(sin_tail)(rh, rl, z);
    VD ch, ct;
    VM_FN(cos_dd)(rh, rl, z, &ch, &ct);
    VD c = ch + ct;
    // cos x = c, −s, −c, s for quadrants 0..3.
    VD y = SEL((q & 1) != 0, s, c);
    y = SEL(((q + 1) & 2) != 0, -y, y);
    return VM_FN(libm1)(y, x, ~(ABS(x) <= VM_TRIG_LIMIT), cos);
}

VM_INLINE VD VM_FN(tan)(VD x) {
    VD rh, rl;
    VI q;
    VM_FN(reduce_pio2)(x, &rh, &rl, &q);
    VD z = rh * rh;
    VD st = VM_FN(sin_tail)(rh, rl, z);
    VD sh = rh + st;
    VD sl = (rh - sh) + st;
    VD ch, ct;
    VM_FN(cos_dd)(rh, rl, z, &ch, &ct);
    VD c_h = ch + ct;
    VD c_l = (ch - c_h) + ct;
    // tan x = sin r / cos r in even quadrants, −cos r / sin r in odd ones.
    VI odd = (q & 1) != 0;
    VD y = VM_FN(div_dd)(SEL(odd, -c_h, sh), SEL(odd, -c_l, sl), SEL(odd, sh, c_h), SEL(odd, sl, c_l));
    y = SEL(x == 0, x, y);
    return VM_FN(libm1)(y, x, ~(ABS(x) <= VM_TRIG_LIMIT), tan);
}

// MARK: Error function

/// erf x: x + x·R(x²) for |x| < 1; 1 − e^{−x² + U(|x|)} for 1 ≤ |x| < 6, U ≈ log erfc + x² from one of three
/// polynomials in |x| − c (scripts/vecmath_erf_coefficients.py derives all of them); ±1 beyond.
VM_INLINE VD VM_FN(erf)(VD x) {
    VD a = ABS(x);
    VI small = a < 1.0;
    VD y = SPLAT(0);
    if (ANY(small)) {
        VD z = x * x;
        VD r = SPLAT(vm_erf_small[12]);
        for (int j = 11; j >= 0; j--) r = FMA(r, z, SPLAT(vm_erf_small[j]));
        y = FMA(x, r, x);
    }
    VI large = ~small & (a < 6.0);
    if (ANY(large)) {
        VI second = a >= 2.0, third = a >= 3.5;
        VD t = a - SEL(third, SPLAT(4.75), SEL(second, SPLAT(2.75), SPLAT(1.5)));
        VD u = SEL(third, SPLAT(vm_erf_large[2][15]), SEL(second, SPLAT(vm_erf_large[1][15]), SPLAT(vm_erf_large[0][15])));
        for (int j = 14; j >= 0; j--) {
            VD c = SEL(third, SPLAT(vm_erf_large[2][j]), SEL(second, SPLAT(vm_erf_large[1][j]), SPLAT(vm_erf_large[0][j])));
            u = FMA(u, t, c);
        }
        // −x² + U as a double-double (x² exactly via FMA), then e^that = erfc|x|.
        VD x2h = a * a;
        VD x2l = FMA(a, a, -x2h);
        VD vh = u - x2h;
        VD vb = vh - u;
        VD vl = ((u - (vh - vb)) + (-x2h - vb)) - x2l;
        VD k, scale, sh, sl;
        VM_FN(exp_core)(SEL(large, vh, SPLAT(-1)), SEL(large, vl, SPLAT(0)), &k, &scale, &sh, &sl);
        VD eh = (1.0 + sh) * scale;
        VD el = (((1.0 - (1.0 + sh)) + sh) + sl) * scale;
        VD h = 1.0 - eh;
        VD l = ((1.0 - h) - eh) - el;
        y = SEL(large, VM_FN(with_sign)(h + l, x), y);
    }
    y = SEL(a >= 6.0, VM_FN(with_sign)(SPLAT(1), x), y);
    return SEL(a != a, x + x, y);
}

// MARK: Shorter kernels for float results

/// e^x to about 2^-27 relative (enough for a float result) for any x: 0 below −708, +inf above 708.
VM_INLINE VD VM_FN(exp_f)(VD x) {
    VD z = FMA(x, SPLAT(VM_LOG2E), SPLAT(VM_SHIFTER));
    VD k = z - VM_SHIFTER;
    VD r = FMA(-k, SPLAT(VM_LN2_HI), x);
    r = FMA(-k, SPLAT(VM_LN2_LO), r);
    VD p = SPLAT(1.0 / 5040.0);
    p = FMA(p, r, SPLAT(1.0 / 720.0));
    p = FMA(p, r, SPLAT(1.0 / 120.0));
    p = FMA(p, r, SPLAT(1.0 / 24.0));
    p = FMA(p, r, SPLAT(1.0 / 6.0));
    p = FMA(p, r, SPLAT(0.5));
    p = FMA(p, r * r, r) + 1.0;
    VD y = p * (VD)(((VI)z << 52) + 0x3ff0000000000000LL);
    VI slow = ~(ABS(x) <= 708.0);
    if (ANY(slow)) {
        y = SEL(x > 708.0, SPLAT(__builtin_inf()), y);
        y = SEL(x < -708.0, SPLAT(0), y);
        y = SEL(x != x, x + x, y);
    }
    return y;
}

/// e^y − 1 to about 2^-27 relative for |y| ≤ 708.
VM_INLINE VD VM_FN(expm1_f)(VD y) {
    VD z = FMA(y, SPLAT(VM_LOG2E), SPLAT(VM_SHIFTER));
    VD k = z - VM_SHIFTER;
    VD r = FMA(-k, SPLAT(VM_LN2_HI), y);
    r = FMA(-k, SPLAT(VM_LN2_LO), r);
    VD p = SPLAT(1.0 / 5040.0);
    p = FMA(p, r, SPLAT(1.0 / 720.0));
    p = FMA(p, r, SPLAT(1.0 / 120.0));
    p = FMA(p, r, SPLAT(1.0 / 24.0));
    p = FMA(p, r, SPLAT(1.0 / 6.0));
    p = FMA(p, r, SPLAT(0.5));
    VD s = FMA(p, r * r, r);
    VD scale = (VD)(((VI)z << 52) + 0x3ff0000000000000LL);
    return FMA(scale, s, scale - 1.0);
}

/// log x to about 2^-50 relative (for float results) for positive, normal, finite x: the series of log_dd
/// in plain double, cut at s^17.
VM_INLINE VD VM_FN(log_f)(VD x) {
    VI tmp = (VI)x - 0x3fe6a09e667f3bcdLL;
    VD m = (VD)((VI)x - (tmp & (long long)0xfff0000000000000ULL));
    VU kb = ((VU)tmp >> 52) ^ 0x800;
    VD kd = (VD)(kb | 0x4330000000000000ULL) - (0x1p52 + 2048.0);
    VD f = m - 1.0;
    VD s = f / (2.0 + f);
    VD z = s * s;
    VD p = SPLAT(2.0 / 17);
    p = FMA(p, z, SPLAT(2.0 / 15));
    p = FMA(p, z, SPLAT(2.0 / 13));
    p = FMA(p, z, SPLAT(2.0 / 11));
    p = FMA(p, z, SPLAT(2.0 / 9));
    p = FMA(p, z, SPLAT(2.0 / 7));
    p = FMA(p, z, SPLAT(2.0 / 5));
    p = FMA(p, z, SPLAT(2.0 / 3));
    return FMA(kd, SPLAT(VM_LN2_HI), FMA(s * z, p, 2.0 * s) + kd * VM_LN2_LO);
}

/// ln x for float results, with log's special values.
VM_INLINE VD VM_FN(logf)(VD x) {
    VD y = VM_FN(log_f)(x);
    VI slow = ~((x >= 0x1p-1022) & (x < __builtin_inf()));
    if (ANY(slow)) {
        y = SEL(x == __builtin_inf(), x, y);
        y = SEL(x == 0, SPLAT(-__builtin_inf()), y);
        y = SEL(x < 0, SPLAT(__builtin_nan("")), y);
        y = SEL(x != x, x + x, y);
    }
    return y;
}

/// x^y for float results (x, y exact floats): e^{y·log|x|} from the short kernels, pow's rules for signs;
/// lanes the vector code does not settle go to the C library's double pow.
VM_INLINE VD VM_FN(powf)(VD x, VD y) {
    VD ax = ABS(x);
    VD t = y * VM_FN(log_f)(ax);
    VD z = VM_FN(exp_f)(SEL(ABS(t) <= 708.0, t, SPLAT(0)));
    VD shifted = y + VM_SHIFTER;
    VI integral = (shifted - VM_SHIFTER) == y;
    VI odd = ((VI)shifted & 1) != 0;
    VI negative = x < 0;
    z = SEL(negative & odd, -z, z);
    VI fast = (ax >= 0x1p-1022) & (ax < __builtin_inf()) & (ABS(y) < VM_POW_INTEGER_LIMIT) & (ABS(t) <= 708.0) &
              (~negative | integral);
    return VM_FN(libm2)(z, x, y, ~fast, pow);
}

VM_INLINE VD VM_FN(sigmoid_f)(VD x) {
    VD e = VM_FN(exp_f)(-ABS(x));
    VD y = SEL(x >= 0, SPLAT(1), e) / (1.0 + e);
    return SEL(x != x, x + x, y);
}

VM_INLINE VD VM_FN(tanh_f)(VD x) {
    VD a = ABS(x);
    VD ac = SEL(a > 22.0, SPLAT(22.0), a);
    VD m = VM_FN(expm1_f)(-2.0 * ac);
    VD y = ABS(-m / (m + 2.0));
    y = SEL(a != a, x + x, y);
    return VM_FN(with_sign)(y, x);
}

// MARK: Array loops

/// The value the tail's unused lanes hold: inside every kernel's fast range.
#define VM_PAD 0.5

// The last n < VM_W values of an array as a vector, the rest of its lanes VM_PAD, and a vector's first n lanes
// stored back. AVX-512 masks them: a buffer written a value at a time and then read as one vector cannot be
// forwarded from the store buffer, and that stall cost more than the kernel's arithmetic on short rows (an
// LSTM's rows of 14 values; see docs/performance.md, "AVX-512 on a Zen 4").
#if defined(VM_MASKED_TAIL)
VM_INLINE VD VM_FN(load_tail)(const double *p, long n) {
    return (VD)_mm512_mask_loadu_pd(_mm512_set1_pd(VM_PAD), (__mmask8)((1u << n) - 1), p);
}
VM_INLINE void VM_FN(store_tail)(double *p, VD v, long n) {
    _mm512_mask_storeu_pd(p, (__mmask8)((1u << n) - 1), (__m512d)v);
}
VM_INLINE VD VM_FN(loadf_tail)(const float *p, long n) {
    __m256 f = _mm256_mask_loadu_ps(_mm256_set1_ps((float)VM_PAD), (__mmask8)((1u << n) - 1), p);
    return (VD)_mm512_cvtps_pd(f);
}
VM_INLINE void VM_FN(storef_tail)(float *p, VD v, long n) {
    _mm256_mask_storeu_ps(p, (__mmask8)((1u << n) - 1), _mm512_cvtpd_ps((__m512d)v));
}
#else
VM_INLINE VD VM_FN(load_tail)(const double *p, long n) {
    double buf[VM_W];
    for (long j = 0; j < VM_W; j++) buf[j] = j < n ? p[j] : VM_PAD;
    return VM_FN(load)(buf);
}
VM_INLINE void VM_FN(store_tail)(double *p, VD v, long n) {
    double buf[VM_W];
    VM_FN(store)(buf, v);
    for (long j = 0; j < n; j++) p[j] = buf[j];
}
VM_INLINE VD VM_FN(loadf_tail)(const float *p, long n) {
    float buf[VM_W];
    for (long j = 0; j < VM_W; j++) buf[j] = j < n ? p[j] : (float)VM_PAD;
    return VM_FN(loadf)(buf);
}
VM_INLINE void VM_FN(storef_tail)(float *p, VD v, long n) {
    float buf[VM_W];
    VM_FN(storef)(buf, v);
    for (long j = 0; j < n; j++) p[j] = buf[j];
}
#endif

/// Defines VM_FN(d<name>) over double arrays and VM_FN(s<name>) over float arrays, the latter computing
/// with `fkernel` in double.
#define VM_UNARY(name, dkernel, fkernel)                                                                      \
    VM_ATTR static void VM_FN(d##name)(const double *x, double *y, long n) {                                  \
        long i = 0;                                                                                           \
        for (; i + VM_W <= n; i += VM_W) VM_FN(store)(y + i, dkernel(VM_FN(load)(x + i)));                    \
        if (i < n) VM_FN(store_tail)(y + i, dkernel(VM_FN(load_tail)(x + i, n - i)), n - i);                  \
    }                                                                                                         \
    VM_ATTR static void VM_FN(s##name)(const float *x, float *y, long n) {                                    \
        long i = 0;                                                                                           \
        for (; i + VM_W <= n; i += VM_W) VM_FN(storef)(y + i, fkernel(VM_FN(loadf)(x + i)));                  \
        if (i < n) VM_FN(storef_tail)(y + i, fkernel(VM_FN(loadf_tail)(x + i, n - i)), n - i);                \
    }

VM_UNARY(exp, VM_FN(exp), VM_FN(exp_f))
VM_UNARY(expm1, VM_FN(expm1), VM_FN(expm1))
VM_UNARY(log, VM_FN(log), VM_FN(logf))
VM_UNARY(log1p, VM_FN(log1p), VM_FN(log1p))
VM_UNARY(sin, VM_FN(sin), VM_FN(sin))
VM_UNARY(cos, VM_FN(cos), VM_FN(cos))
VM_UNARY(tan, VM_FN(tan), VM_FN(tan))
VM_UNARY(tanh, VM_FN(tanh), VM_FN(tanh_f))
VM_UNARY(sigmoid, VM_FN(sigmoid), VM_FN(sigmoid_f))
VM_UNARY(erf, VM_FN(erf), VM_FN(erf))

VM_ATTR static void VM_FN(dpow)(const double *x, const double *y, double *z, long n) {
    long i = 0;
    for (; i + VM_W <= n; i += VM_W) VM_FN(store)(z + i, VM_FN(pow)(VM_FN(load)(x + i), VM_FN(load)(y + i)));
    if (i < n) VM_FN(store_tail)(z + i, VM_FN(pow)(VM_FN(load_tail)(x + i, n - i), VM_FN(load_tail)(y + i, n - i)), n - i);
}

VM_ATTR static void VM_FN(spow)(const float *x, const float *y, float *z, long n) {
    long i = 0;
    for (; i + VM_W <= n; i += VM_W) VM_FN(storef)(z + i, VM_FN(powf)(VM_FN(loadf)(x + i), VM_FN(loadf)(y + i)));
    if (i < n) VM_FN(storef_tail)(z + i, VM_FN(powf)(VM_FN(loadf_tail)(x + i, n - i), VM_FN(loadf_tail)(y + i, n - i)), n - i);
}

#undef VM_UNARY
#undef VM_INLINE
#undef SPLAT
#undef FMA
#undef SEL
#undef ANY
#undef ABS
#undef VD
#undef VI
#undef VU
#undef VF

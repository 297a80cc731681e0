// Max pooling's search: for every window of every channel plane, the flat input position of its largest
// value (the first of equal values; a NaN wins, as in PyTorch). Selects instead of branches (which tap wins
// is data). Without padding every tap is inside the image, and the common window sizes get loops of constant
// length: with a run-time kernel size the two-iteration inner loop measured 8× slower (3.6 ms against
// 0.45 ms for 1024 planes of 28×28 with 2×2 windows). Float 2×2 windows of stride 2 take a vector path, 16
// windows at a time with AVX-512 and 8 with AVX2, where the CPU has it; double ones 4 at a time with AVX2.
#include "CBackpropKernels.h"
#include "internal.h"

#define BP_TAKES(value, best) (((value) > (best)) | (((value) != (value)) & ((best) == (best))))

#define BP_MAX_POOL_UNPADDED(NAME, T)                                                                          \
    static inline __attribute__((always_inline)) void NAME(const T *x, long *out, long base, long w, long oh,  \
                                                          long ow, long kh, long kw, long sh, long sw, long dh, \
                                                          long dw) {                                           \
        for (long y = 0; y < oh; y++) {                                                                        \
            for (long xo = 0; xo < ow; xo++) {                                                                 \
                const long start = base + y * sh * w + xo * sw;                                                \
                T best = x[start];                                                                             \
                long at = start;                                                                               \
                for (long i = 0; i < kh; i++) {                                                                \
                    const long row = start + i * dh * w;                                                       \
                    for (long j = 0; j < kw; j++) {                                                            \
                        const long index = row + j * dw;                                                       \
                        const T value = x[index];                                                              \
                        const int take = BP_TAKES(value, best);                                                \
                        best = take ? value : best;                                                            \
                        at = take ? index : at;                                                                \
                    }                                                                                          \
                }                                                                                              \
                *out++ = at;                                                                                   \
            }                                                                                                  \
        }                                                                                                      \
    }

#if defined(BP_HAVE_AVX2)
#include <immintrin.h>

/// 2×2 windows with stride 2 and no padding over one float plane, 16 windows of an output row at a time
/// with AVX-512: the two input rows' 32 values are split into even and odd columns, the four taps compared
/// in the scalar loop's order (a later tap wins only if larger, or NaN over a number), and the winning tap
/// turned into a flat position.
BP_AVX512 static void smax_pool_2x2_avx512(const float *x, long *out, long base, long w, long oh, long ow) {
    const __m512i evens = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odds = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (long y = 0; y < oh; y++) {
        const float *row0 = x + base + 2 * y * w, *row1 = row0 + w;
        for (long xo = 0; xo < ow; xo += 16) {
            long count = ow - xo < 16 ? ow - xo : 16;
            // 2·count input columns: the first 16 in one load, the rest in a second, masked.
            long inputs = 2 * count;
            __mmask16 low = inputs >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << inputs) - 1u);
            __mmask16 high = inputs > 16 ? (__mmask16)((1u << (inputs - 16)) - 1u) : 0;
            if (inputs >= 32) high = (__mmask16)0xFFFF;
            __m512 a0 = _mm512_maskz_loadu_ps(low, row0 + 2 * xo), a1 = _mm512_maskz_loadu_ps(high, row0 + 2 * xo + 16);
            __m512 b0 = _mm512_maskz_loadu_ps(low, row1 + 2 * xo), b1 = _mm512_maskz_loadu_ps(high, row1 + 2 * xo + 16);
            __m512 taps[4] = {_mm512_permutex2var_ps(a0, evens, a1), _mm512_permutex2var_ps(a0, odds, a1),
                              _mm512_permutex2var_ps(b0, evens, b1), _mm512_permutex2var_ps(b0, odds, b1)};
            __m512 best = taps[0];
            __m512i tap = _mm512_setzero_si512();
            for (int t = 1; t < 4; t++) {
                __mmask16 larger = _mm512_cmp_ps_mask(taps[t], best, _CMP_GT_OQ);
                __mmask16 nanOverNumber = _mm512_cmp_ps_mask(taps[t], taps[t], _CMP_UNORD_Q) &
                                          _mm512_cmp_ps_mask(best, best, _CMP_ORD_Q);
                __mmask16 take = larger | nanOverNumber;
                best = _mm512_mask_blend_ps(take, best, taps[t]);
                tap = _mm512_mask_blend_epi32(take, tap, _mm512_set1_epi32(t));
            }
            // position = base + (2y + tap / 2)·w + 2(xo + lane) + tap % 2
            __m512i column = _mm512_add_epi32(_mm512_slli_epi32(_mm512_add_epi32(lane, _mm512_set1_epi32((int)xo)), 1),
                                              _mm512_and_si512(tap, _mm512_set1_epi32(1)));
            __m512i rowOffset = _mm512_srli_epi32(tap, 1);
            long origin = base + 2 * y * w;
            __m512i lo = _mm512_add_epi64(_mm512_cvtepi32_epi64(_mm512_castsi512_si256(column)),
                                          _mm512_mul_epi32(_mm512_cvtepi32_epi64(_mm512_castsi512_si256(rowOffset)),
                                                           _mm512_set1_epi64(w)));
            __m512i hi = _mm512_add_epi64(_mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(column, 1)),
                                          _mm512_mul_epi32(_mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(rowOffset, 1)),
                                                           _mm512_set1_epi64(w)));
            lo = _mm512_add_epi64(lo, _mm512_set1_epi64(origin));
            hi = _mm512_add_epi64(hi, _mm512_set1_epi64(origin));
            __mmask8 first = count >= 8 ? (__mmask8)0xFF : (__mmask8)((1u << count) - 1u);
            __mmask8 second = count > 8 ? (__mmask8)((1u << (count - 8)) - 1u) : 0;
            _mm512_mask_storeu_epi64(out + y * ow + xo, first, lo);
            if (second) _mm512_mask_storeu_epi64(out + y * ow + xo + 8, second, hi);
        }
    }
}
/// The same search with AVX2, 8 windows of an output row at a time: the two input rows' 16 values are split
/// into even and odd columns (a shuffle within 128-bit halves, then a 64-bit permute to restore the order), a
/// partial group of windows loaded and stored under masks.
BP_AVX2_FMA static void smax_pool_2x2_avx2(const float *x, long *out, long base, long w, long oh, long ow) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i lane64 = _mm256_setr_epi64x(0, 1, 2, 3);
    const __m256i width = _mm256_set1_epi64x(w);
    for (long y = 0; y < oh; y++) {
        const long origin = base + 2 * y * w;
        const float *row0 = x + origin, *row1 = row0 + w;
        const __m256i originVector = _mm256_set1_epi64x(origin);
        for (long xo = 0; xo < ow; xo += 8) {
            const long count = ow - xo < 8 ? ow - xo : 8;
            __m256 a0, a1, b0, b1;
            if (count == 8) {
                a0 = _mm256_loadu_ps(row0 + 2 * xo), a1 = _mm256_loadu_ps(row0 + 2 * xo + 8);
                b0 = _mm256_loadu_ps(row1 + 2 * xo), b1 = _mm256_loadu_ps(row1 + 2 * xo + 8);
            } else {
                // 2·count input columns: lanes below 2·count of the first load, below 2·count − 8 of the second.
                const __m256i low = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(2 * count)), lane);
                const __m256i high = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(2 * count - 8)), lane);
                a0 = _mm256_maskload_ps(row0 + 2 * xo, low), a1 = _mm256_maskload_ps(row0 + 2 * xo + 8, high);
                b0 = _mm256_maskload_ps(row1 + 2 * xo, low), b1 = _mm256_maskload_ps(row1 + 2 * xo + 8, high);
            }
#define BP_EVENS(p, q) _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(p, q, 0x88)), 0xD8))
#define BP_ODDS(p, q) _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(p, q, 0xDD)), 0xD8))
            const __m256 taps[4] = {BP_EVENS(a0, a1), BP_ODDS(a0, a1), BP_EVENS(b0, b1), BP_ODDS(b0, b1)};
#undef BP_EVENS
#undef BP_ODDS
            __m256 best = taps[0];
            __m256 tap = _mm256_setzero_ps();  // the winning tap's number, as integer bits
            for (int t = 1; t < 4; t++) {
                const __m256 larger = _mm256_cmp_ps(taps[t], best, _CMP_GT_OQ);
                const __m256 nanOverNumber = _mm256_and_ps(_mm256_cmp_ps(taps[t], taps[t], _CMP_UNORD_Q),
                                                           _mm256_cmp_ps(best, best, _CMP_ORD_Q));
                const __m256 take = _mm256_or_ps(larger, nanOverNumber);
                best = _mm256_blendv_ps(best, taps[t], take);
                tap = _mm256_blendv_ps(tap, _mm256_castsi256_ps(_mm256_set1_epi32(t)), take);
            }
            // position = origin + (tap / 2)·w + 2(xo + lane) + tap % 2
            const __m256i tapIndex = _mm256_castps_si256(tap);
            const __m256i firstColumn = _mm256_slli_epi32(_mm256_add_epi32(lane, _mm256_set1_epi32((int)xo)), 1);
            const __m256i column = _mm256_add_epi32(firstColumn, _mm256_and_si256(tapIndex, _mm256_set1_epi32(1)));
            const __m256i rowOffset = _mm256_srli_epi32(tapIndex, 1);
            const __m256i rowLow = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(rowOffset));
            const __m256i rowHigh = _mm256_cvtepi32_epi64(_mm256_extracti128_si256(rowOffset, 1));
            __m256i lo = _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(column)),
                                          _mm256_mul_epi32(rowLow, width));
            __m256i hi = _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_extracti128_si256(column, 1)),
                                          _mm256_mul_epi32(rowHigh, width));
            lo = _mm256_add_epi64(lo, originVector);
            hi = _mm256_add_epi64(hi, originVector);
            long long *target = (long long *)(out + y * ow + xo);
            if (count == 8) {
                _mm256_storeu_si256((__m256i *)target, lo);
                _mm256_storeu_si256((__m256i *)(target + 4), hi);
            } else {
                _mm256_maskstore_epi64(target, _mm256_cmpgt_epi64(_mm256_set1_epi64x(count), lane64), lo);
                _mm256_maskstore_epi64(target + 4, _mm256_cmpgt_epi64(_mm256_set1_epi64x(count - 4), lane64), hi);
            }
        }
    }
}

/// Doubles with AVX2, 4 windows a step: each input row's 8 values split into even and odd columns (an unpack
/// within 128-bit halves, then a permute), a partial group loaded and stored under masks.
BP_AVX2_FMA static void dmax_pool_2x2_avx2(const double *x, long *out, long base, long w, long oh, long ow) {
    const __m256i lane = _mm256_setr_epi64x(0, 1, 2, 3);
    const __m256i width = _mm256_set1_epi64x(w);
    for (long y = 0; y < oh; y++) {
        const long origin = base + 2 * y * w;
        const double *row0 = x + origin, *row1 = row0 + w;
        const __m256i originVector = _mm256_set1_epi64x(origin);
        for (long xo = 0; xo < ow; xo += 4) {
            const long count = ow - xo < 4 ? ow - xo : 4;
            __m256d a0, a1, b0, b1;
            if (count == 4) {
                a0 = _mm256_loadu_pd(row0 + 2 * xo), a1 = _mm256_loadu_pd(row0 + 2 * xo + 4);
                b0 = _mm256_loadu_pd(row1 + 2 * xo), b1 = _mm256_loadu_pd(row1 + 2 * xo + 4);
            } else {
                // 2·count input columns: lanes below 2·count of the first load, below 2·count − 4 of the second.
                const __m256i low = _mm256_cmpgt_epi64(_mm256_set1_epi64x(2 * count), lane);
                const __m256i high = _mm256_cmpgt_epi64(_mm256_set1_epi64x(2 * count - 4), lane);
                a0 = _mm256_maskload_pd(row0 + 2 * xo, low), a1 = _mm256_maskload_pd(row0 + 2 * xo + 4, high);
                b0 = _mm256_maskload_pd(row1 + 2 * xo, low), b1 = _mm256_maskload_pd(row1 + 2 * xo + 4, high);
            }
#define BP_EVENS(p, q) _mm256_permute4x64_pd(_mm256_unpacklo_pd(p, q), 0xD8)
#define BP_ODDS(p, q) _mm256_permute4x64_pd(_mm256_unpackhi_pd(p, q), 0xD8)
            const __m256d taps[4] = {BP_EVENS(a0, a1), BP_ODDS(a0, a1), BP_EVENS(b0, b1), BP_ODDS(b0, b1)};
#undef BP_EVENS
#undef BP_ODDS
            __m256d best = taps[0];
            __m256d tap = _mm256_setzero_pd();  // the winning tap's number, as 64-bit integer bits
            for (int t = 1; t < 4; t++) {
                const __m256d larger = _mm256_cmp_pd(taps[t], best, _CMP_GT_OQ);
                const __m256d nanOverNumber = _mm256_and_pd(_mm256_cmp_pd(taps[t], taps[t], _CMP_UNORD_Q),
                                                            _mm256_cmp_pd(best, best, _CMP_ORD_Q));
                const __m256d take = _mm256_or_pd(larger, nanOverNumber);
                best = _mm256_blendv_pd(best, taps[t], take);
                tap = _mm256_blendv_pd(tap, _mm256_castsi256_pd(_mm256_set1_epi64x(t)), take);
            }
            // position = origin + (tap / 2)·w + 2(xo + lane) + tap % 2
            const __m256i tapIndex = _mm256_castpd_si256(tap);
            const __m256i firstColumn = _mm256_slli_epi64(_mm256_add_epi64(lane, _mm256_set1_epi64x(xo)), 1);
            const __m256i column = _mm256_add_epi64(firstColumn, _mm256_and_si256(tapIndex, _mm256_set1_epi64x(1)));
            const __m256i rowOffset = _mm256_mul_epu32(_mm256_srli_epi64(tapIndex, 1), width);
            const __m256i position = _mm256_add_epi64(_mm256_add_epi64(column, rowOffset), originVector);
            long long *target = (long long *)(out + y * ow + xo);
            if (count == 4) _mm256_storeu_si256((__m256i *)target, position);
            else _mm256_maskstore_epi64(target, _mm256_cmpgt_epi64(_mm256_set1_epi64x(count), lane), position);
        }
    }
}
#endif

#define BP_MAX_POOL_POSITIONS(NAME, UNPADDED, T, FAST_2X2)                                                    \
    BP_MAX_POOL_UNPADDED(UNPADDED, T)                                                                         \
    void NAME(const T *x, long *positions, long first, long planes, long h, long w, long oh, long ow, long kh, \
              long kw, long sh, long sw, long ph, long pw, long dh, long dw) {                                \
        for (long plane = first; plane < first + planes; plane++) {                                           \
            const long base = plane * h * w;                                                                  \
            long *out = positions + plane * oh * ow;                                                          \
            if (ph == 0 && pw == 0) {                                                                         \
                if (kh == 2 && kw == 2 && sh == 2 && sw == 2 && dh == 1 && dw == 1) {                         \
                    if (FAST_2X2(x, out, base, w, oh, ow)) continue;                                          \
                    UNPADDED(x, out, base, w, oh, ow, 2, 2, 2, 2, 1, 1);                                      \
                } else if (kh == 2 && kw == 2 && dh == 1 && dw == 1) {                                        \
                    UNPADDED(x, out, base, w, oh, ow, 2, 2, sh, sw, 1, 1);                                    \
                } else if (kh == 3 && kw == 3 && dh == 1 && dw == 1) {                                        \
                    UNPADDED(x, out, base, w, oh, ow, 3, 3, sh, sw, 1, 1);                                    \
                } else {                                                                                      \
                    UNPADDED(x, out, base, w, oh, ow, kh, kw, sh, sw, dh, dw);                                \
                }                                                                                             \
                continue;                                                                                     \
            }                                                                                                 \
            for (long y = 0; y < oh; y++) {                                                                   \
                for (long xo = 0; xo < ow; xo++) {                                                            \
                    long at = -1;                                                                             \
                    T best = 0;                                                                               \
                    for (long i = 0; i < kh; i++) {                                                           \
                        const long r = y * sh - ph + i * dh;                                                  \
                        if (r < 0 || r >= h) continue;                                                        \
                        for (long j = 0; j < kw; j++) {                                                       \
                            const long s = xo * sw - pw + j * dw;                                             \
                            if (s < 0 || s >= w) continue;                                                    \
                            const long index = base + r * w + s;                                              \
                            const T value = x[index];                                                         \
                            const int take = (at < 0) | BP_TAKES(value, best);                                \
                            best = take ? value : best;                                                       \
                            at = take ? index : at;                                                           \
                        }                                                                                     \
                    }                                                                                         \
                    *out++ = at;                                                                              \
                }                                                                                             \
            }                                                                                                 \
        }                                                                                                     \
    }

/// The AVX-512 2×2 search for floats when the kernels may use it; returns whether it ran.
static inline int smax_pool_2x2_fast(const float *x, long *out, long base, long w, long oh, long ow) {
#if defined(BP_HAVE_AVX2)
    if (bp_kernels_use_avx512()) {
        smax_pool_2x2_avx512(x, out, base, w, oh, ow);
        return 1;
    }
    if (bp_kernels_use_avx2()) {
        smax_pool_2x2_avx2(x, out, base, w, oh, ow);
        return 1;
    }
#endif
    return 0;
}

/// The AVX2 2×2 search for doubles when the kernels may use it (on AVX-512 machines too); returns whether it ran.
static inline int dmax_pool_2x2_fast(const double *x, long *out, long base, long w, long oh, long ow) {
#if defined(BP_HAVE_AVX2)
    if (bp_kernels_use_avx2()) {
        dmax_pool_2x2_avx2(x, out, base, w, oh, ow);
        return 1;
    }
#endif
    (void)x, (void)out, (void)base, (void)w, (void)oh, (void)ow;
    return 0;
}

BP_MAX_POOL_POSITIONS(bp_smax_pool_positions, bp_smax_pool_unpadded, float, smax_pool_2x2_fast)
BP_MAX_POOL_POSITIONS(bp_dmax_pool_positions, bp_dmax_pool_unpadded, double, dmax_pool_2x2_fast)

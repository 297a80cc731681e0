// The blocked GEMM driver (BLIS-style loops around a register-blocked micro-kernel), written once and
// instantiated per scalar type and instruction set. Not a header to include elsewhere: each inclusion
// defines static functions. Before including, define:
//   GEMM_T          the scalar type
//   GEMM_MR/NR      the micro-tile (rows × columns of C held in registers)
//   GEMM_MC/KC/NC   cache blocks: A block MC×KC (L2), B panel KC×NC (L3), micro-panel KC×NR (L1)
//   GEMM_KERNEL     a function `void (long kc, const T *a, const T *b, T *c, long ldc, T alpha, T beta)`
//                   computing the full MR×NR tile c = alpha·(a·b) + beta·c from packed panels, not reading
//                   c when beta == 0
//   GEMM_ATTR       attributes for the generated functions (e.g. the target attribute), may be empty
//   GEMM_PACK_A_ROWS  optional: a function `void (long kc, const T *src, long lda, T *packed)` packing one
//                   full MR-row micro-panel of a non-transposed A (packed[p·MR + i] = src[i·lda + p])
//   GEMM_KERNEL_FEW, GEMM_FEW_ROWS  optional: a kernel with GEMM_KERNEL's parameters that computes only the
//                   first GEMM_FEW_ROWS rows of the tile (reading the same MR-wide A panels), for bottom edges
//                   of at most that many rows
//   GEMM_PACK_B_COLS  optional: a function `void (long kc, const T *src, long ldb, T *packed)` packing one
//                   full NR-column micro-panel of a transposed B (packed[p·NR + j] = src[j·ldb + p])
//   GEMM_FN(name)   the name of a generated function
// The generated entry point is GEMM_FN(gemm) with the `bp_sgemm` parameter list. The template #undefs its
// parameters at the end, so the next instance in the same file defines fresh ones.

/// Smaller of two sizes.
GEMM_ATTR static inline long GEMM_FN(min)(long a, long b) { return a < b ? a : b; }

/// Splits `total` into equal-ish blocks of at most `limit`, rounded up to a multiple of `unit`, so the
/// last block is not a thin remainder.
GEMM_ATTR static inline long GEMM_FN(balanced_block)(long total, long limit, long unit) {
    long blocks = (total + limit - 1) / limit;
    long size = (total + blocks - 1) / blocks;
    size = (size + unit - 1) / unit * unit;
    return size < limit ? size : limit;
}

/// Packs the mc×kc block of op(A) starting at `a` (which points at op(A)[ic][pc]) into micro-panels of
/// MR rows: panel r holds op(A)[r·MR + i][p] at index p·MR + i, zero-padded to MR rows.
GEMM_ATTR static void GEMM_FN(pack_a)(int transA, long mc, long kc, const GEMM_T *a, long lda, GEMM_T *packed) {
    for (long i0 = 0; i0 < mc; i0 += GEMM_MR) {
        long mr = GEMM_FN(min)(GEMM_MR, mc - i0);
        if (!transA) {
            // op(A)[i][p] = a[i·lda + p]: read each row contiguously, write with stride MR.
            const GEMM_T *src = a + i0 * lda;
#ifdef GEMM_PACK_A_ROWS
            if (mr == GEMM_MR) {
                GEMM_PACK_A_ROWS(kc, src, lda, packed);
                packed += GEMM_MR * kc;
                continue;
            }
#endif
            for (long i = 0; i < mr; i++) {
                const GEMM_T *row = src + i * lda;
                for (long p = 0; p < kc; p++) packed[p * GEMM_MR + i] = row[p];
            }
        } else {
            // op(A)[i][p] = a[p·lda + i]: each p gives MR contiguous values.
            const GEMM_T *src = a + i0;
            if (mr == GEMM_MR) {
                for (long p = 0; p < kc; p++)
                    __builtin_memcpy(packed + p * GEMM_MR, src + p * lda, GEMM_MR * sizeof(GEMM_T));
            } else {
                for (long p = 0; p < kc; p++)
                    for (long i = 0; i < mr; i++) packed[p * GEMM_MR + i] = src[p * lda + i];
            }
        }
        if (mr < GEMM_MR)
            for (long p = 0; p < kc; p++)
                for (long i = mr; i < GEMM_MR; i++) packed[p * GEMM_MR + i] = 0;
        packed += GEMM_MR * kc;
    }
}

/// Packs the kc×nc block of op(B) starting at `b` (which points at op(B)[pc][jc]) into micro-panels of
/// NR columns: panel r holds op(B)[p][r·NR + j] at index p·NR + j, zero-padded to NR columns.
GEMM_ATTR static void GEMM_FN(pack_b)(int transB, long kc, long nc, const GEMM_T *b, long ldb, GEMM_T *packed) {
    for (long j0 = 0; j0 < nc; j0 += GEMM_NR) {
        long nr = GEMM_FN(min)(GEMM_NR, nc - j0);
        if (!transB) {
            // op(B)[p][j] = b[p·ldb + j]: each p gives NR contiguous values.
            const GEMM_T *src = b + j0;
            if (nr == GEMM_NR) {
                // A fixed-size copy the compiler turns into vector moves (a plain loop stays scalar, since
                // it cannot rule out that `packed` overlaps `src`).
                for (long p = 0; p < kc; p++)
                    __builtin_memcpy(packed + p * GEMM_NR, src + p * ldb, GEMM_NR * sizeof(GEMM_T));
            } else {
                for (long p = 0; p < kc; p++)
                    for (long j = 0; j < nr; j++) packed[p * GEMM_NR + j] = src[p * ldb + j];
            }
        } else {
            // op(B)[p][j] = b[j·ldb + p]: read each stored row contiguously, write with stride NR.
            const GEMM_T *src = b + j0 * ldb;
#ifdef GEMM_PACK_B_COLS
            if (nr == GEMM_NR) {
                GEMM_PACK_B_COLS(kc, src, ldb, packed);
                packed += GEMM_NR * kc;
                continue;
            }
#endif
            for (long j = 0; j < nr; j++) {
                const GEMM_T *row = src + j * ldb;
                for (long p = 0; p < kc; p++) packed[p * GEMM_NR + j] = row[p];
            }
        }
        if (nr < GEMM_NR)
            for (long p = 0; p < kc; p++)
                for (long j = nr; j < GEMM_NR; j++) packed[p * GEMM_NR + j] = 0;
        packed += GEMM_NR * kc;
    }
}

/// Multiplies a packed mc×kc block of A by a packed kc×nc panel of B into C (mc×nc at `c`), tile by tile.
/// Partial tiles at the right and bottom edges go through a local tile so the kernel never writes outside C.
GEMM_ATTR static void GEMM_FN(macro_kernel)(long mc, long nc, long kc, GEMM_T alpha, GEMM_T beta,
                                            const GEMM_T *packedA, const GEMM_T *packedB, GEMM_T *c, long ldc) {
    _Alignas(64) GEMM_T tile[GEMM_MR * GEMM_NR];
    for (long jr = 0; jr < nc; jr += GEMM_NR) {
        long nr = GEMM_FN(min)(GEMM_NR, nc - jr);
        const GEMM_T *panelB = packedB + jr * kc;
        for (long ir = 0; ir < mc; ir += GEMM_MR) {
            long mr = GEMM_FN(min)(GEMM_MR, mc - ir);
            const GEMM_T *panelA = packedA + ir * kc;
            GEMM_T *cTile = c + ir * ldc + jr;
            if (mr == GEMM_MR && nr == GEMM_NR) {
                GEMM_KERNEL(kc, panelA, panelB, cTile, ldc, alpha, beta);
                continue;
            }
#ifdef GEMM_KERNEL_FEW
            // A bottom edge of few rows: a kernel for GEMM_FEW_ROWS rows instead of the full tile.
            if (mr == GEMM_FEW_ROWS && nr == GEMM_NR) {
                GEMM_KERNEL_FEW(kc, panelA, panelB, cTile, ldc, alpha, beta);
                continue;
            }
            if (mr <= GEMM_FEW_ROWS) GEMM_KERNEL_FEW(kc, panelA, panelB, tile, GEMM_NR, alpha, (GEMM_T)0);
            else GEMM_KERNEL(kc, panelA, panelB, tile, GEMM_NR, alpha, (GEMM_T)0);
#else
            GEMM_KERNEL(kc, panelA, panelB, tile, GEMM_NR, alpha, (GEMM_T)0);
#endif
            for (long i = 0; i < mr; i++)
                for (long j = 0; j < nr; j++) {
                    GEMM_T value = tile[i * GEMM_NR + j];
                    cTile[i * ldc + j] = beta == 0 ? value : value + beta * cTile[i * ldc + j];
                }
        }
    }
}

/// Scales C by beta (sets it to zero when beta == 0, without reading it): the whole product when
/// alpha == 0 or K == 0.
GEMM_ATTR static void GEMM_FN(scale_c)(long M, long N, GEMM_T beta, GEMM_T *C, long ldc) {
    for (long i = 0; i < M; i++) {
        GEMM_T *row = C + i * ldc;
        if (beta == 0) {
            for (long j = 0; j < N; j++) row[j] = 0;
        } else if (beta != 1) {
            for (long j = 0; j < N; j++) row[j] *= beta;
        }
    }
}

/// Unblocked product for when no workspace could be allocated: slow but correct.
GEMM_ATTR static void GEMM_FN(gemm_unpacked)(int transA, int transB, long M, long N, long K, GEMM_T alpha,
                                             const GEMM_T *A, long lda, const GEMM_T *B, long ldb, GEMM_T beta,
                                             GEMM_T *C, long ldc) {
    for (long i = 0; i < M; i++)
        for (long j = 0; j < N; j++) {
            GEMM_T sum = 0;
            for (long p = 0; p < K; p++) {
                GEMM_T x = transA ? A[p * lda + i] : A[i * lda + p];
                GEMM_T y = transB ? B[j * ldb + p] : B[p * ldb + j];
                sum += x * y;
            }
            C[i * ldc + j] = beta == 0 ? alpha * sum : alpha * sum + beta * C[i * ldc + j];
        }
}

/// C = alpha·op(A)·op(B) + beta·C with the `bp_sgemm` conventions, on the calling thread.
GEMM_ATTR static void GEMM_FN(gemm)(int transA, int transB, long M, long N, long K, GEMM_T alpha,
                                    const GEMM_T *A, long lda, const GEMM_T *B, long ldb, GEMM_T beta,
                                    GEMM_T *C, long ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0 || alpha == 0) {
        GEMM_FN(scale_c)(M, N, beta, C, ldc);
        return;
    }
    long kcBlock = GEMM_FN(balanced_block)(K, GEMM_KC, 1);
    long mcBlock = GEMM_FN(balanced_block)(M, GEMM_MC, GEMM_MR);
    long ncBlock = GEMM_FN(balanced_block)(N, GEMM_NC, GEMM_NR);
    size_t packedAElements = (size_t)mcBlock * (size_t)kcBlock;
    size_t packedBElements = (size_t)ncBlock * (size_t)kcBlock;
    // Round the A part up to a cache line so the B part stays 64-byte aligned.
    size_t packedABytes = (packedAElements * sizeof(GEMM_T) + 63) & ~(size_t)63;
    char *workspace = bp_thread_workspace(packedABytes + packedBElements * sizeof(GEMM_T));
    if (workspace == NULL) {
        GEMM_FN(gemm_unpacked)(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    GEMM_T *packedA = (GEMM_T *)workspace;
    GEMM_T *packedB = (GEMM_T *)(workspace + packedABytes);

    for (long jc = 0; jc < N; jc += ncBlock) {
        long nc = GEMM_FN(min)(ncBlock, N - jc);
        for (long pc = 0; pc < K; pc += kcBlock) {
            long kc = GEMM_FN(min)(kcBlock, K - pc);
            const GEMM_T *b = transB ? B + jc * ldb + pc : B + pc * ldb + jc;
            GEMM_FN(pack_b)(transB, kc, nc, b, ldb, packedB);
            // The first K block applies the caller's beta; later ones accumulate onto it.
            GEMM_T betaHere = pc == 0 ? beta : (GEMM_T)1;
            for (long ic = 0; ic < M; ic += mcBlock) {
                long mc = GEMM_FN(min)(mcBlock, M - ic);
                const GEMM_T *a = transA ? A + pc * lda + ic : A + ic * lda + pc;
                GEMM_FN(pack_a)(transA, mc, kc, a, lda, packedA);
                GEMM_FN(macro_kernel)(mc, nc, kc, alpha, betaHere, packedA, packedB, C + ic * ldc + jc, ldc);
            }
        }
    }
}

// The parameters are per instance: clear them so the next instance defines its own.
#undef GEMM_T
#undef GEMM_MR
#undef GEMM_NR
#undef GEMM_MC
#undef GEMM_KC
#undef GEMM_NC
#undef GEMM_KERNEL
#undef GEMM_ATTR
#undef GEMM_FN
#undef GEMM_PACK_A_ROWS
#undef GEMM_PACK_B_COLS
#undef GEMM_KERNEL_FEW
#undef GEMM_FEW_ROWS

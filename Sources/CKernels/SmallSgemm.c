// Small Float32 matrix products C = A · B + beta · C with AVX2 + FMA, selected at run time (the
// package is built for baseline x86-64, so only these functions carry the target attribute):
// C[i, :] = Σ_p A[i, p] · B[p, :], broadcasting A[i, p] against 16 columns of B, four rows of C
// at a time. Each sum runs over p in order with fused multiply-adds, so a given product is
// deterministic.
//
// Only A · B (no transposes) is here: it is the input gradient `g · W` of an attack's backward
// pass. A kernel for the forward pass's A · Bᵀ was faster too (1.45× at 2–4 rows) but would
// change PPO's rollout arithmetic, so retraining would no longer reproduce the shipped PPO
// policies bit for bit; training products with more than 8 rows stay with OpenBLAS as well.
#include "CKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

bool gauntlet_small_sgemm_available(void) {
    static int available = -1;
    if (available < 0) {
        __builtin_cpu_init();
        available = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return available == 1;
}

__attribute__((target("avx2,fma")))
static inline void store(float *out, float value, float beta) { *out = (beta == 0 ? 0 : beta * *out) + value; }

__attribute__((target("avx2,fma")))
static inline __m256 prior(const float *out, __m256 beta, bool zero) {
    return zero ? _mm256_setzero_ps() : _mm256_mul_ps(beta, _mm256_loadu_ps(out));
}

__attribute__((target("avx2,fma")))
void gauntlet_small_sgemm(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    const __m256 vbeta = _mm256_set1_ps(beta);
    const bool zero = beta == 0;
    int i = 0;
    for (; i + 4 <= m; i += 4) {
        const float *a0 = a + (size_t)i * lda, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
        int j = 0;
        for (; j + 16 <= n; j += 16) {
            __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
            __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(), c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
            for (int p = 0; p < k; p++) {
                const float *row = b + (size_t)p * ldb + j;
                __m256 b0 = _mm256_loadu_ps(row), b1 = _mm256_loadu_ps(row + 8);
                __m256 x = _mm256_set1_ps(a0[p]);
                c00 = _mm256_fmadd_ps(x, b0, c00); c01 = _mm256_fmadd_ps(x, b1, c01);
                x = _mm256_set1_ps(a1[p]);
                c10 = _mm256_fmadd_ps(x, b0, c10); c11 = _mm256_fmadd_ps(x, b1, c11);
                x = _mm256_set1_ps(a2[p]);
                c20 = _mm256_fmadd_ps(x, b0, c20); c21 = _mm256_fmadd_ps(x, b1, c21);
                x = _mm256_set1_ps(a3[p]);
                c30 = _mm256_fmadd_ps(x, b0, c30); c31 = _mm256_fmadd_ps(x, b1, c31);
            }
            float *o0 = c + (size_t)i * ldc + j, *o1 = o0 + ldc, *o2 = o1 + ldc, *o3 = o2 + ldc;
            _mm256_storeu_ps(o0, _mm256_add_ps(prior(o0, vbeta, zero), c00)); _mm256_storeu_ps(o0 + 8, _mm256_add_ps(prior(o0 + 8, vbeta, zero), c01));
            _mm256_storeu_ps(o1, _mm256_add_ps(prior(o1, vbeta, zero), c10)); _mm256_storeu_ps(o1 + 8, _mm256_add_ps(prior(o1 + 8, vbeta, zero), c11));
            _mm256_storeu_ps(o2, _mm256_add_ps(prior(o2, vbeta, zero), c20)); _mm256_storeu_ps(o2 + 8, _mm256_add_ps(prior(o2 + 8, vbeta, zero), c21));
            _mm256_storeu_ps(o3, _mm256_add_ps(prior(o3, vbeta, zero), c30)); _mm256_storeu_ps(o3 + 8, _mm256_add_ps(prior(o3 + 8, vbeta, zero), c31));
        }
        for (; j < n; j++) {
            float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            for (int p = 0; p < k; p++) {
                float y = b[(size_t)p * ldb + j];
                s0 = __builtin_fmaf(a0[p], y, s0); s1 = __builtin_fmaf(a1[p], y, s1);
                s2 = __builtin_fmaf(a2[p], y, s2); s3 = __builtin_fmaf(a3[p], y, s3);
            }
            store(c + (size_t)i * ldc + j, s0, beta); store(c + (size_t)(i + 1) * ldc + j, s1, beta);
            store(c + (size_t)(i + 2) * ldc + j, s2, beta); store(c + (size_t)(i + 3) * ldc + j, s3, beta);
        }
    }
    for (; i < m; i++) {
        const float *ai = a + (size_t)i * lda;
        int j = 0;
        // Four independent accumulators: one alone would wait on each FMA's latency.
        for (; j + 32 <= n; j += 32) {
            __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
            for (int p = 0; p < k; p++) {
                const float *row = b + (size_t)p * ldb + j;
                __m256 x = _mm256_set1_ps(ai[p]);
                s0 = _mm256_fmadd_ps(x, _mm256_loadu_ps(row), s0);
                s1 = _mm256_fmadd_ps(x, _mm256_loadu_ps(row + 8), s1);
                s2 = _mm256_fmadd_ps(x, _mm256_loadu_ps(row + 16), s2);
                s3 = _mm256_fmadd_ps(x, _mm256_loadu_ps(row + 24), s3);
            }
            float *out = c + (size_t)i * ldc + j;
            _mm256_storeu_ps(out, _mm256_add_ps(prior(out, vbeta, zero), s0));
            _mm256_storeu_ps(out + 8, _mm256_add_ps(prior(out + 8, vbeta, zero), s1));
            _mm256_storeu_ps(out + 16, _mm256_add_ps(prior(out + 16, vbeta, zero), s2));
            _mm256_storeu_ps(out + 24, _mm256_add_ps(prior(out + 24, vbeta, zero), s3));
        }
        for (; j + 8 <= n; j += 8) {
            __m256 acc = _mm256_setzero_ps();
            for (int p = 0; p < k; p++) acc = _mm256_fmadd_ps(_mm256_set1_ps(ai[p]), _mm256_loadu_ps(b + (size_t)p * ldb + j), acc);
            float *out = c + (size_t)i * ldc + j;
            _mm256_storeu_ps(out, _mm256_add_ps(prior(out, vbeta, zero), acc));
        }
        for (; j < n; j++) {
            float sum = 0;
            for (int p = 0; p < k; p++) sum = __builtin_fmaf(ai[p], b[(size_t)p * ldb + j], sum);
            store(c + (size_t)i * ldc + j, sum, beta);
        }
    }
}

#else

bool gauntlet_small_sgemm_available(void) { return false; }

void gauntlet_small_sgemm(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                          float beta, float *c, int ldc) {}

#endif

// Small Float32 matrix products C = A · B + beta · C with AVX2 + FMA, selected at run time (the
// package is built for baseline x86-64, so only these functions carry the target attribute):
// C[i, :] = Σ_p A[i, p] · B[p, :], broadcasting A[i, p] against 16 columns of B, four rows of C
// at a time. Each sum runs over p in order with fused multiply-adds, so a given product is
// deterministic — but rounded differently from OpenBLAS, whose kernels split the sum.
//
// Callers: an input gradient `g · W` of at most 8 rows (any caller), and an attack's forward
// and backward passes of at most 16 rows through a workspace that asks for these kernels (the
// forward pass's `X · Wᵀ` as `X · (Wᵀ)` over a transposed copy of the weights). Training keeps
// OpenBLAS, so retraining reproduces the shipped policies bit for bit.
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

// All eight lanes when `count` ≥ 8, else the first `count`.
__attribute__((target("avx2,fma")))
static inline __m256i lanes(int count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

__attribute__((target("avx2,fma")))
static inline __m256 masked_prior(const float *out, __m256i mask, __m256 beta, bool zero) {
    return zero ? _mm256_setzero_ps() : _mm256_mul_ps(beta, _mm256_maskload_ps(out, mask));
}

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
        // The last n mod 16 columns: eight at a time, then the rest under a lane mask (the
        // same fused multiply-adds in the same order as full lanes; masked lanes are neither
        // read nor written).
        for (; j < n; j += 8) {
            const __m256i mask = lanes(n - j);
            __m256 c0 = _mm256_setzero_ps(), c1 = _mm256_setzero_ps(), c2 = _mm256_setzero_ps(), c3 = _mm256_setzero_ps();
            for (int p = 0; p < k; p++) {
                __m256 y = _mm256_maskload_ps(b + (size_t)p * ldb + j, mask);
                c0 = _mm256_fmadd_ps(_mm256_set1_ps(a0[p]), y, c0); c1 = _mm256_fmadd_ps(_mm256_set1_ps(a1[p]), y, c1);
                c2 = _mm256_fmadd_ps(_mm256_set1_ps(a2[p]), y, c2); c3 = _mm256_fmadd_ps(_mm256_set1_ps(a3[p]), y, c3);
            }
            float *o0 = c + (size_t)i * ldc + j, *o1 = o0 + ldc, *o2 = o1 + ldc, *o3 = o2 + ldc;
            _mm256_maskstore_ps(o0, mask, _mm256_add_ps(masked_prior(o0, mask, vbeta, zero), c0));
            _mm256_maskstore_ps(o1, mask, _mm256_add_ps(masked_prior(o1, mask, vbeta, zero), c1));
            _mm256_maskstore_ps(o2, mask, _mm256_add_ps(masked_prior(o2, mask, vbeta, zero), c2));
            _mm256_maskstore_ps(o3, mask, _mm256_add_ps(masked_prior(o3, mask, vbeta, zero), c3));
        }
    }
    for (; i < m; i++) {
        const float *ai = a + (size_t)i * lda;
        int j = 0;
        // Eight (then four) independent accumulators: one alone would wait on each FMA's
        // latency, and a single row has no other rows to interleave.
        for (; j + 64 <= n; j += 64) {
            __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
            __m256 s4 = _mm256_setzero_ps(), s5 = _mm256_setzero_ps(), s6 = _mm256_setzero_ps(), s7 = _mm256_setzero_ps();
            for (int p = 0; p < k; p++) {
                const float *row = b + (size_t)p * ldb + j;
                __m256 x = _mm256_set1_ps(ai[p]);
                s0 = _mm256_fmadd_ps(x, _mm256_loadu_ps(row), s0); s1 = _mm256_fmadd_ps(x, _mm256_loadu_ps(row + 8), s1);
                s2 = _mm256_fmadd_ps(x, _mm256_loadu_ps(row + 16), s2); s3 = _mm256_fmadd_ps(x, _mm256_loadu_ps(row + 24), s3);
                s4 = _mm256_fmadd_ps(x, _mm256_loadu_ps(row + 32), s4); s5 = _mm256_fmadd_ps(x, _mm256_loadu_ps(row + 40), s5);
                s6 = _mm256_fmadd_ps(x, _mm256_loadu_ps(row + 48), s6); s7 = _mm256_fmadd_ps(x, _mm256_loadu_ps(row + 56), s7);
            }
            float *out = c + (size_t)i * ldc + j;
            _mm256_storeu_ps(out, _mm256_add_ps(prior(out, vbeta, zero), s0));
            _mm256_storeu_ps(out + 8, _mm256_add_ps(prior(out + 8, vbeta, zero), s1));
            _mm256_storeu_ps(out + 16, _mm256_add_ps(prior(out + 16, vbeta, zero), s2));
            _mm256_storeu_ps(out + 24, _mm256_add_ps(prior(out + 24, vbeta, zero), s3));
            _mm256_storeu_ps(out + 32, _mm256_add_ps(prior(out + 32, vbeta, zero), s4));
            _mm256_storeu_ps(out + 40, _mm256_add_ps(prior(out + 40, vbeta, zero), s5));
            _mm256_storeu_ps(out + 48, _mm256_add_ps(prior(out + 48, vbeta, zero), s6));
            _mm256_storeu_ps(out + 56, _mm256_add_ps(prior(out + 56, vbeta, zero), s7));
        }
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
        for (; j < n; j += 8) {
            const __m256i mask = lanes(n - j);
            __m256 acc = _mm256_setzero_ps();
            for (int p = 0; p < k; p++) acc = _mm256_fmadd_ps(_mm256_set1_ps(ai[p]), _mm256_maskload_ps(b + (size_t)p * ldb + j, mask), acc);
            float *out = c + (size_t)i * ldc + j;
            _mm256_maskstore_ps(out, mask, _mm256_add_ps(masked_prior(out, mask, vbeta, zero), acc));
        }
    }
}

#else

bool gauntlet_small_sgemm_available(void) { return false; }

void gauntlet_small_sgemm(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                          float beta, float *c, int ldc) {}

#endif

// Float32 tanh eight lanes per AVX instruction: the same rational approximation, the same
// operations in the same order as `fastTanh` in NeuralNet/FastTanh.swift (which the package's
// baseline x86-64 build runs as pairs of SSE instructions), so the results are bit-identical —
// separate multiplies and adds (no FMA: the function is compiled for "avx" only, so nothing
// can be fused), an IEEE division, and compare-and-blend clamps that keep NaN.
#include "CKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

bool gauntlet_avx_available(void) {
    static int available = -1;
    if (available < 0) {
        __builtin_cpu_init();
        available = __builtin_cpu_supports("avx");
    }
    return available == 1;
}

__attribute__((target("avx")))
static inline __m256 horner(__m256 acc, __m256 x, float c) { return _mm256_add_ps(_mm256_mul_ps(acc, x), _mm256_set1_ps(c)); }

__attribute__((target("avx")))
int gauntlet_tanh_avx(const float *x, float *y, int count) {
    const __m256 clamp = _mm256_set1_ps(7.90531110763549805f), negativeClamp = _mm256_set1_ps(-7.90531110763549805f);
    const __m256 tinyHigh = _mm256_set1_ps(0.0004f), tinyLow = _mm256_set1_ps(-0.0004f);
    int i = 0;
    for (; i + 8 <= count; i += 8) {
        __m256 input = _mm256_loadu_ps(x + i);
        __m256 v = _mm256_blendv_ps(input, clamp, _mm256_cmp_ps(input, clamp, _CMP_GT_OQ));
        v = _mm256_blendv_ps(v, negativeClamp, _mm256_cmp_ps(v, negativeClamp, _CMP_LT_OQ));
        __m256 v2 = _mm256_mul_ps(v, v);
        __m256 p = _mm256_add_ps(_mm256_mul_ps(v2, _mm256_set1_ps(-2.76076847742355e-16f)), _mm256_set1_ps(2.00018790482477e-13f));
        p = horner(p, v2, -8.60467152213735e-11f);
        p = horner(p, v2, 5.12229709037114e-08f);
        p = horner(p, v2, 1.48572235717979e-05f);
        p = horner(p, v2, 6.37261928875436e-04f);
        p = horner(p, v2, 4.89352455891786e-03f);
        p = _mm256_mul_ps(p, v);
        __m256 q = _mm256_add_ps(_mm256_mul_ps(v2, _mm256_set1_ps(1.19825839466702e-06f)), _mm256_set1_ps(1.18534705686654e-04f));
        q = horner(q, v2, 2.26843463243900e-03f);
        q = horner(q, v2, 4.89352518554385e-03f);
        __m256 result = _mm256_div_ps(p, q);
        __m256 tiny = _mm256_and_ps(_mm256_cmp_ps(input, tinyHigh, _CMP_LT_OQ), _mm256_cmp_ps(input, tinyLow, _CMP_GT_OQ));
        _mm256_storeu_ps(y + i, _mm256_blendv_ps(result, input, tiny));
    }
    return i;
}

#else

bool gauntlet_avx_available(void) { return false; }
int gauntlet_tanh_avx(const float *x, float *y, int count) { return 0; }

#endif

// One Adam step over Float32 parameters with AVX, eight lanes at a time, selected at run time
// (the package is built for baseline x86-64, where the loop runs four lanes at a time on SSE and
// its two divisions and square root per parameter dominate a DQN update on MinAtar). Every lane
// does the same IEEE operations in the same order as NeuralNet's `Adam.update` — no fused
// multiply-adds (the target has no FMA), divisions and square roots correctly rounded — so the
// result is bit-identical to the Swift loop, on any CPU.
#include "CKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx")))
long gauntlet_adam_step_avx(float *theta, const float *gradient, float *m, float *v, long count, float beta1,
                            float beta2, float epsilon, float decay, float step_size, float bias_correction2_root) {
    const __m256 one_minus_b1 = _mm256_set1_ps(1.0f - beta1), one_minus_b2 = _mm256_set1_ps(1.0f - beta2);
    const __m256 b2 = _mm256_set1_ps(beta2), eps = _mm256_set1_ps(epsilon), wd = _mm256_set1_ps(decay);
    const __m256 lr = _mm256_set1_ps(step_size), bc2 = _mm256_set1_ps(bias_correction2_root);
    long i = 0;
    for (; i + 8 <= count; i += 8) {
        const __m256 t = _mm256_loadu_ps(theta + i);
        __m256 g = _mm256_loadu_ps(gradient + i);
        if (decay != 0) g = _mm256_add_ps(g, _mm256_mul_ps(wd, t));
        __m256 mi = _mm256_loadu_ps(m + i);
        mi = _mm256_add_ps(mi, _mm256_mul_ps(one_minus_b1, _mm256_sub_ps(g, mi)));
        const __m256 vi = _mm256_add_ps(_mm256_mul_ps(b2, _mm256_loadu_ps(v + i)), _mm256_mul_ps(_mm256_mul_ps(one_minus_b2, g), g));
        const __m256 denominator = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vi), bc2), eps);
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        _mm256_storeu_ps(theta + i, _mm256_sub_ps(t, _mm256_div_ps(_mm256_mul_ps(lr, mi), denominator)));
    }
    return i;
}
#else
long gauntlet_adam_step_avx(float *theta, const float *gradient, float *m, float *v, long count, float beta1,
                            float beta2, float epsilon, float decay, float step_size, float bias_correction2_root) {
    return 0;
}
#endif

// One RMSProp step over Float32 parameters with AVX, eight lanes at a time, selected at run time
// (the package is built for baseline x86-64, where NeuralNet's loop runs four lanes at a time on
// SSE, and its square root and division per parameter were a sixth of a MinAtar DQN step). Every
// lane does the same IEEE operations in the same order as NeuralNet's `RMSProp.update` — no fused
// multiply-adds, divisions and square roots correctly rounded — so the result is bit-identical
// to the Swift loop, on any CPU.
#include "CKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx")))
long gauntlet_rmsprop_step_avx(float *theta, const float *gradient, float *square_average, float *gradient_average,
                               float *momentum_buffer, long count, float alpha, float one_minus_alpha,
                               float lerp_complement, int lerp_from_start, float epsilon, float decay, float momentum,
                               float negative_rate) {
    const __m256 a = _mm256_set1_ps(alpha), w = _mm256_set1_ps(one_minus_alpha), c = _mm256_set1_ps(lerp_complement);
    const __m256 eps = _mm256_set1_ps(epsilon), wd = _mm256_set1_ps(decay), mu = _mm256_set1_ps(momentum);
    const __m256 rate = _mm256_set1_ps(negative_rate), minus_one = _mm256_set1_ps(-1.0f);
    long i = 0;
    for (; i + 8 <= count; i += 8) {
        const __m256 t = _mm256_loadu_ps(theta + i);
        __m256 g = _mm256_loadu_ps(gradient + i);
        if (decay != 0) g = _mm256_add_ps(g, _mm256_mul_ps(wd, t));
        const __m256 s = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(square_average + i), a),
                                       _mm256_mul_ps(_mm256_mul_ps(w, g), g));
        _mm256_storeu_ps(square_average + i, s);
        __m256 variance = s;
        if (gradient_average) {
            __m256 m = _mm256_loadu_ps(gradient_average + i);
            m = lerp_from_start ? _mm256_add_ps(m, _mm256_mul_ps(w, _mm256_sub_ps(g, m)))
                                : _mm256_sub_ps(g, _mm256_mul_ps(_mm256_sub_ps(g, m), c));
            _mm256_storeu_ps(gradient_average + i, m);
            variance = _mm256_add_ps(s, _mm256_mul_ps(_mm256_mul_ps(minus_one, m), m));
        }
        const __m256 denominator = _mm256_add_ps(_mm256_sqrt_ps(variance), eps);
        if (momentum_buffer) {
            const __m256 b = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(momentum_buffer + i), mu),
                                           _mm256_div_ps(g, denominator));
            _mm256_storeu_ps(momentum_buffer + i, b);
            _mm256_storeu_ps(theta + i, _mm256_add_ps(t, _mm256_mul_ps(rate, b)));
        } else {
            _mm256_storeu_ps(theta + i, _mm256_add_ps(t, _mm256_div_ps(_mm256_mul_ps(rate, g), denominator)));
        }
    }
    return i;
}
#else
long gauntlet_rmsprop_step_avx(float *theta, const float *gradient, float *square_average, float *gradient_average,
                               float *momentum_buffer, long count, float alpha, float one_minus_alpha,
                               float lerp_complement, int lerp_from_start, float epsilon, float decay, float momentum,
                               float negative_rate) {
    return 0;
}
#endif

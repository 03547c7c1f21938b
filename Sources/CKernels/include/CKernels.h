#ifndef GAUNTLET_CKERNELS_H
#define GAUNTLET_CKERNELS_H

#include <stdbool.h>

/// Whether this CPU runs the AVX2 + FMA small-matrix kernels (checked once).
bool gauntlet_small_sgemm_available(void);

/// C = A · B + beta · C for row-major Float32 matrices: A is m × k (row stride lda), B is k × n
/// (ldb), C is m × n (ldc). For the small products of policy networks (a few rows), where
/// OpenBLAS spends as long packing operands as multiplying them. Only call it when
/// `gauntlet_small_sgemm_available()`.
void gauntlet_small_sgemm(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                          float beta, float *c, int ldc);

/// Whether this CPU has AVX (checked once).
bool gauntlet_avx_available(void);

/// y[i] = tanh(x[i]) for the leading multiple of eight entries, bit-identical to NeuralNet's
/// `fastTanh`; returns how many it wrote. Only call it when `gauntlet_avx_available()`.
int gauntlet_tanh_avx(const float *x, float *y, int count);

/// One Adam step on the leading multiple of eight Float32 parameters (AVX), bit-identical to
/// NeuralNet's `Adam.update`; returns how many it updated. Only call it when
/// `gauntlet_avx_available()`.
long gauntlet_adam_step_avx(float *theta, const float *gradient, float *m, float *v, long count, float beta1,
                            float beta2, float epsilon, float decay, float step_size, float bias_correction2_root);

/// One RMSProp step on the leading multiple of eight Float32 parameters (AVX), bit-identical to
/// NeuralNet's `RMSProp.update`; `gradient_average` is NULL unless centred, `momentum_buffer`
/// NULL without momentum. Returns how many it updated. Only call it when
/// `gauntlet_avx_available()`.
long gauntlet_rmsprop_step_avx(float *theta, const float *gradient, float *square_average, float *gradient_average,
                               float *momentum_buffer, long count, float alpha, float one_minus_alpha,
                               float lerp_complement, int lerp_from_start, float epsilon, float decay, float momentum,
                               float negative_rate);

/// Serves heap blocks up to 32 MB from glibc's heap and keeps up to 1 GB of freed heap in the
/// process (`HeapRetention` in Linalg says why); false where the C library is not glibc.
bool gauntlet_retain_freed_heap(void);

#endif

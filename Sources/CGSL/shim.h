#ifndef GAUNTLET_CGSL_SHIM_H
#define GAUNTLET_CGSL_SHIM_H

#include <gsl/gsl_cblas.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <gsl/gsl_vector.h>

/* GSL's generator types are mutable C globals, which Swift 6 strict concurrency refuses to read
   directly; these accessors return them. */
static inline const gsl_rng_type *gauntlet_rng_mt19937(void) { return gsl_rng_mt19937; }

/* OpenBLAS threading control (declared here so no second cblas.h clashes with GSL's). */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_config(void);
char *openblas_get_corename(void);

/* GSL aborts the process on an error by default; Gauntlet checks return codes instead. */
static inline void gauntlet_disable_gsl_abort(void) { gsl_set_error_handler_off(); }

#endif

// HiGHS 1.15.1's C interface (installed into .deps/ by scripts/install-wheel-libraries.sh; `highs`
// here is a link to its headers): the linear and mixed-integer programming solver of complete
// verification.
#ifndef GAUNTLET_CHIGHS_H
#define GAUNTLET_CHIGHS_H

#include "highs/interfaces/highs_c_api.h"

#endif

#ifndef GAUNTLET_CGLPK_SHIM_H
#define GAUNTLET_CGLPK_SHIM_H

/* GLPK 5.0 (Debian's libglpk-dev): the mixed-integer solver of complete verification. */
#include <glpk.h>

#endif

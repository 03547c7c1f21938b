// SwiftPM needs a source file in a C target; the library itself is HiGHS's.
#include "CHiGHS.h"

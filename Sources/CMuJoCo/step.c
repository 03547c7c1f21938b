#include "CMuJoCo.h"

void gauntlet_mj_step_frames(const mjModel *model, mjData *data, int frames) {
    for (int i = 0; i < frames; i++) mj_step(model, data);
    mj_rnePostConstraint(model, data);
}

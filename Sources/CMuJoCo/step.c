#include "CMuJoCo.h"

#include <string.h>

void gauntlet_mj_step_frames(const mjModel *model, mjData *data, const mjtNum *ctrl, int frames) {
    memcpy(data->ctrl, ctrl, sizeof(mjtNum) * (size_t)model->nu);
    for (int i = 0; i < frames; i++) mj_step(model, data);
    mj_rnePostConstraint(model, data);
}

// The MuJoCo C library (3.3.7, installed into .deps/ by scripts/install-wheel-libraries.sh; `mujoco` here
// is a link to its headers) and Gauntlet's helper for stepping it.
#ifndef GAUNTLET_CMUJOCO_H
#define GAUNTLET_CMUJOCO_H

#include <mujoco/mujoco.h>

/// Advances `frames` physics steps with the controls in `data->ctrl` and computes the constraint
/// forces of the result (`mj_rnePostConstraint`: `cfrc_ext`, which Ant's observation reads), as
/// Gymnasium's MujocoEnv.do_simulation does. One call from Swift per environment step.
void gauntlet_mj_step_frames(const mjModel *model, mjData *data, int frames);

#endif

#!/usr/bin/env bash
# MuJoCo environment throughput, one thread, in one run: Gauntlet's environment, the bare
# mj_step loop it wraps (same controls and resets; `gauntlet bench env` measures both) and
# Gymnasium's Python environment (bench/gymnasium_envs.py), random actions, resets at the
# end of every episode. Writes bench/results/mujoco_envs.md.
#   bench/mujoco_envs.sh [STEPS]        (REPEATS=N: best of N runs each, default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/python.sh
gauntlet=.build/release/gauntlet
[ -x "$gauntlet" ] || swift build -c release --product gauntlet
steps=${1:-20000}
repeats=${REPEATS:-3}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
envs=(Hopper-v5 Walker2d-v5 HalfCheetah-v5 Ant-v5 InvertedPendulum-v5 InvertedDoublePendulum-v5 Swimmer-v5 Reacher-v5)
out=bench/results/mujoco_envs.md
{
    echo "| environment | Gauntlet steps/s | bare mj_step loop steps/s | wrapper overhead | Gymnasium steps/s | Gauntlet / Gymnasium |"
    echo "|---|---|---|---|---|---|"
    for env in "${envs[@]}"; do
        g=$("$gauntlet" bench env --env "$env" --envs 1 --steps "$steps" --repeats "$repeats" --json)
        p=$("$python" bench/gymnasium_envs.py --env "$env" --steps "$steps" --repeats "$repeats")
        python3 - "$g" "$p" <<'PY'
import json, sys
g, p = json.loads(sys.argv[1]), json.loads(sys.argv[2])
m = g["mujoco"][0]
print(f"| {m['environment']} | {m['environment_steps_per_second']:.0f} | {m['physics_steps_per_second']:.0f} | "
      f"{100 * m['overhead']:.1f}% | {p['steps_per_second']:.0f} | {m['environment_steps_per_second'] / p['steps_per_second']:.1f}× |")
PY
    done
} | tee "$out"

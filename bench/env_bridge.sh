#!/usr/bin/env bash
# The cost of the environment bridge (python/PROTOCOL.md), one thread, in one run: the same
# Gymnasium environment stepped directly in Python (bench/gymnasium_envs.py) and through
# `gym:ID` by `gauntlet bench env`, random actions, resets at episode ends; the overhead per
# step is the difference of the two per-step times (goal ≤ 20 µs). The bridge is measured twice:
# Gauntlet and its server free to run on any core (each request then wakes the other process on
# another core, which on a virtual machine can cost far more than the work) and both pinned to
# one core with taskset (the kernel switches between them directly). Gauntlet's native version
# of each environment is listed beside. Python is BENCH_PYTHON, else .venv-env-server (the bridge's
# own; mujoco 3.3.7 is added to it for the MuJoCo row). Writes bench/results/env_bridge.md.
#   bench/env_bridge.sh [STEPS]
set -euo pipefail
cd "$(dirname "$0")/.."
gauntlet=.build/release/gauntlet
[ -x "$gauntlet" ] || swift build -c release --product gauntlet
scripts/install-env-server.sh
python=${BENCH_PYTHON:-.venv-env-server/bin/python3}
"$python" -c "import mujoco" 2>/dev/null || "$python" -m pip install --quiet "gymnasium[mujoco]==1.2.2" mujoco==3.3.7
export GAUNTLET_PYTHON=$python OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
steps=${1:-20000}
out=bench/results/env_bridge.md
{
    echo "| environment | Python steps/s | through gym:, one core | overhead per step | through gym:, any core | overhead per step | Gauntlet native steps/s |"
    echo "|---|---|---|---|---|---|---|"
    for env in CartPole-v1 Pendulum-v1 Hopper-v5; do
        p=$("$python" bench/gymnasium_envs.py --env "$env" --steps "$steps" --repeats 3)
        pinned=$(taskset -c 0 "$gauntlet" bench env --env "gym:$env" --envs 1 --steps "$steps" --repeats 3 --json)
        b=$("$gauntlet" bench env --env "gym:$env" --envs 1 --steps "$steps" --repeats 3 --json)
        n=$("$gauntlet" bench env --env "$env" --envs 1 --steps "$steps" --repeats 3 --json)
        python3 - "$p" "$pinned" "$b" "$n" <<'PY'
import json, sys
p, pinned, b, n = (json.loads(a) for a in sys.argv[1:])
def rate(result):  # gauntlet bench env --json: the one-copy row's best rate
    return result["results"][0]["steps_per_second_best"]
python, one, bridged, native = p["steps_per_second"], rate(pinned), rate(b), rate(n)
print(f"| {p['environment']} | {python:.0f} | {one:.0f} | {1e6 / one - 1e6 / python:.1f} µs | {bridged:.0f} | "
      f"{1e6 / bridged - 1e6 / python:.1f} µs | {native:.0f} |")
PY
    done
} | tee "$out"

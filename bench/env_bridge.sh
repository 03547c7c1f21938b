#!/usr/bin/env bash
# The cost of the environment bridge (python/PROTOCOL.md), one thread, in one run: the same
# Gymnasium environment stepped directly in Python (bench/gymnasium_envs.py) and through
# `gym:ID` by `gauntlet bench env`, random actions, resets at episode ends; the overhead per
# step is the difference of the two per-step times (goal ≤ 20 µs). The bridge runs over pipes
# pinned to one core with taskset (the kernel switches between the two processes directly; on
# one CPU Gauntlet never takes shared memory) and free on any core, over pipes (each request
# wakes the other process on another core, which on a virtual machine can cost more than the
# work) and over shared memory (a side expecting a reply soon spins for it). The configurations
# alternate for ROUNDS rounds and each keeps its fastest, since this machine's speed drifts by
# ±10% between runs — more than the overhead of a MuJoCo step. Gauntlet's native version
# of each environment is listed beside. Python is BENCH_PYTHON, else .venv-env-server (the bridge's
# own; mujoco 3.3.7 is added to it for the MuJoCo row). Writes bench/results/env_bridge.md.
#   bench/env_bridge.sh [STEPS [ROUNDS]]
set -euo pipefail
cd "$(dirname "$0")/.."
gauntlet=.build/release/gauntlet
[ -x "$gauntlet" ] || swift build -c release --product gauntlet
scripts/install-env-server.sh
python=${BENCH_PYTHON:-.venv-env-server/bin/python3}
"$python" -c "import mujoco" 2>/dev/null || "$python" -m pip install --quiet "gymnasium[mujoco]==1.2.2" mujoco==3.3.7
export GAUNTLET_PYTHON=$python OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
steps=${1:-20000}
rounds=${2:-5}
out=bench/results/env_bridge.md
runs=$(mktemp -d)
trap 'rm -rf "$runs"' EXIT
bridge() {  # bridge NAME ENV [taskset -c 0]: one run of gauntlet bench env, appended to NAME.jsonl
    local name=$1 env=$2
    shift 2
    "$@" "$gauntlet" bench env --env "$env" --envs 1 --steps "$steps" --repeats 1 --json >> "$runs/$name.jsonl"
}
for env in CartPole-v1 Pendulum-v1 Hopper-v5; do
    for round in $(seq "$rounds"); do
        "$python" bench/gymnasium_envs.py --env "$env" --steps "$steps" --repeats 1 >> "$runs/$env.python.jsonl"
        GAUNTLET_ENV_TRANSPORT=pipes bridge "$env.pipes-one" "gym:$env" taskset -c 0
        GAUNTLET_ENV_TRANSPORT=pipes bridge "$env.pipes" "gym:$env"
        GAUNTLET_ENV_TRANSPORT=shared-memory bridge "$env.shared" "gym:$env"
        bridge "$env.native" "$env"
    done
done
python3 - "$runs" "$rounds" <<'PY' | tee "$out"
import json, pathlib, sys
runs, rounds = pathlib.Path(sys.argv[1]), sys.argv[2]
def best(name, key):
    return max(key(json.loads(line)) for line in (runs / f"{name}.jsonl").read_text().splitlines())
bridged = lambda result: result["results"][0]["steps_per_second_best"]  # gauntlet bench env --json
print(f"Fastest of {rounds} alternating rounds each; overhead = bridged − direct Python time per step.\n")
print("| environment | Python steps/s | pipes, one core | pipes, any core | shared memory, any core | Gauntlet native steps/s |")
print("|---|---|---|---|---|---|")
for env in ["CartPole-v1", "Pendulum-v1", "Hopper-v5"]:
    python = best(f"{env}.python", lambda result: result["steps_per_second"])
    cells = []
    for name in ["pipes-one", "pipes", "shared"]:
        rate = best(f"{env}.{name}", bridged)
        cells.append(f"{rate:.0f} ({1e6 / rate - 1e6 / python:+.1f} µs)")
    print(f"| {env} | {python:.0f} | {' | '.join(cells)} | {best(f'{env}.native', bridged):.0f} |")
PY

#!/usr/bin/env bash
# PPO on Hopper-v5 with rl-zoo's Hopper hyperparameters (bench/hopper-ppo-zoo.yaml), Gauntlet vs
# Stable-Baselines3 on one thread each, the same work: wall time, the share of Gauntlet's wall time
# that the physics alone takes (the bare mj_step loop of `gauntlet bench env`, timed for the same
# number of steps), and the deterministic return over 100 evaluation episodes.
#   bench/ppo_hopper_vs_sb3.sh [SEEDS...]      (default: 0; STEPS=N overrides the 1M steps)
# Run it on an otherwise idle machine: both sides are timed by wall clock.
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=("${@:-0}")
seeds=(${seeds[@]})
steps=${STEPS:-1000000}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
swift build -c release --product gauntlet >&2
gauntlet=.build/release/gauntlet
source bench/python.sh
results=$(mktemp)
work=$(mktemp -d)
config="$work/hopper-ppo-zoo.yaml"
sed "s/^n_timesteps: .*/n_timesteps: $steps/" bench/hopper-ppo-zoo.yaml > "$config"
physics=$("$gauntlet" bench env --env Hopper-v5 --envs 1 --steps 100000 --repeats 3 --json \
    | "$python" -c 'import json,sys; print(json.load(sys.stdin)["mujoco"][0]["physics_steps_per_second"])')
for seed in "${seeds[@]}"; do
    read -r wall score < <(train_and_evaluate "$config" "$seed" "$work/gauntlet-$seed")
    echo "{\"library\": \"gauntlet\", \"seed\": $seed, \"steps\": $steps, \"wall_seconds\": $wall, \"eval_mean_return\": $score, \"physics_steps_per_second\": $physics}" | tee -a "$results"
done
"$python" bench/sb3_hopper_ppo.py --seeds "${seeds[@]}" --steps "$steps" | tee -a "$results"
"$python" - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
mine = [r for r in rows if r["library"] == "gauntlet"]
theirs = [r for r in rows if r["library"] == "sb3"]
steps = mine[0]["steps"]
physics = steps / mine[0]["physics_steps_per_second"]
print("\n| library | wall s (min / median) | physics share | deterministic return (per seed) |")
print("|---|---|---|---|")
for name, runs in [("gauntlet", mine), ("sb3", theirs)]:
    walls = [r["wall_seconds"] for r in runs]
    returns = ", ".join(f'{r["eval_mean_return"]:.0f}' for r in runs)
    print(f"| {name} | {min(walls):.1f} / {statistics.median(walls):.1f} | {100 * physics / statistics.median(walls):.0f}% | {returns} |")
ratio = statistics.median(r["wall_seconds"] for r in theirs) / statistics.median(r["wall_seconds"] for r in mine)
print(f"\n{steps} steps; bare physics alone {physics:.1f} s; SB3 / Gauntlet wall time {ratio:.1f}×")
PY
rm -rf "$work" "$results"

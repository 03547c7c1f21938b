#!/usr/bin/env bash
# Training speed, Gauntlet vs Stable-Baselines3, on the same work and one thread:
# PPO CartPole-v1 (rl-zoo hyperparameters, 100k steps) and DQN CartPole-v1 (rl-zoo, 50k steps),
# for several seeds. Prints one JSON object per run, then a Markdown table with the min and
# median wall time of each library, their ratio, and the greedy return over 100 evaluation
# episodes.
#   bench/train_vs_sb3.sh [SEEDS...]        (default: 0 1 2)
# The Python side is installed into bench/.venv from PyPI on first use (or set BENCH_PYTHON to
# an interpreter that has stable-baselines3).
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=("${@:-0 1 2}")
seeds=(${seeds[@]})
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
swift build -c release --product gauntlet >&2
gauntlet=.build/release/gauntlet
source bench/python.sh
results=$(mktemp)
work=$(mktemp -d)
for algorithm in ppo dqn; do
    for seed in "${seeds[@]}"; do
        read -r wall score < <(train_and_evaluate "policies/cartpole-$algorithm.yaml" "$seed" "$work/$algorithm-$seed")
        echo "{\"library\": \"gauntlet\", \"algorithm\": \"$algorithm\", \"seed\": $seed, \"wall_seconds\": $wall, \"eval_mean_return\": $score}" | tee -a "$results"
    done
    "$python" bench/sb3_cartpole.py --algorithm "$algorithm" --seeds "${seeds[@]}" | tee -a "$results"
done
"$python" - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
print("\n| algorithm | library | wall s (min / median) | greedy return (per seed) | SB3 / Gauntlet (median) |")
print("|---|---|---|---|---|")
for algorithm in ["ppo", "dqn"]:
    medians = {}
    for library in ["gauntlet", "sb3"]:
        runs = [r for r in rows if r["algorithm"] == algorithm and r["library"] == library]
        walls = [r["wall_seconds"] for r in runs]
        medians[library] = statistics.median(walls)
        returns = ", ".join(f'{r["eval_mean_return"]:.1f}' for r in runs)
        ratio = f'{medians["sb3"] / medians["gauntlet"]:.1f}×' if library == "sb3" else ""
        print(f"| {algorithm} | {library} | {min(walls):.2f} / {medians[library]:.2f} | {returns} | {ratio} |")
PY
rm -rf "$work" "$results"

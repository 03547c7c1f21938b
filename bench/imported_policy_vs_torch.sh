#!/usr/bin/env bash
# Reward under attack of an imported policy, Gauntlet vs plain PyTorch + Gymnasium: trains a
# Stable-Baselines3 PPO and DQN on CartPole-v1 (rl-zoo settings, bench/sb3_cartpole.py), imports
# each zip with `gauntlet policy import` (no Python involved), and measures the same 100 episodes
# (seeds 0…99) clean and under PGD-10 (L∞, random start, step ε/4) at several ε on both sides.
# The two sides draw different random starts, so attacked means agree only up to the
# episode-to-episode noise: the table prints both means, the difference and its 95% bound
# 1.96·√(s₁²/n + s₂²/n) (Welch). Clean episodes are played by the same float32 network on
# bit-identical environments, so they match episode for episode — except where two actions'
# outputs are within rounding of each other (the table counts identical episodes).
#   bench/imported_policy_vs_torch.sh [EPS…]     (default 0.05 0.1 0.2)
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
eps=${*:-0.05 0.1 0.2}
swift build -c release --product gauntlet >&2
source bench/python.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Training seeds: rl-zoo's DQN settings fail to learn CartPole on seed 0 (return ≈ 20), so DQN uses seed 1.
for run in ppo:0 dqn:1; do
    algorithm=${run%%:*} training_seed=${run##*:}
    "$python" bench/sb3_cartpole.py --algorithm "$algorithm" --seeds "$training_seed" --eval-episodes 10 --save "$work/sb3" >&2
    mv "$work/sb3-$algorithm-$training_seed.zip" "$work/sb3-$algorithm.zip"
    .build/release/gauntlet policy import "$work/sb3-$algorithm.zip" --env CartPole-v1 --output "$work/$algorithm.safetensors" >&2
    "$python" bench/sb3_attacked_returns.py "$work/sb3-$algorithm.zip" --eps 0 $eps --episodes 100 --seed 0 > "$work/$algorithm-torch.jsonl"
    for e in $eps; do
        .build/release/gauntlet attack --policy "$work/$algorithm.safetensors" --attack "pgd:steps=10,alpha_ratio=0.25" \
            --eps "$e" --episodes 100 --seed 0 --json > "$work/$algorithm-gauntlet-$e.json"
    done
done
"$python" - "$work" $eps <<'PY'
import json, math, sys
work, eps = sys.argv[1], sys.argv[2:]
print("| policy | ε | PyTorch mean ± std | Gauntlet mean ± std | difference | 95% noise bound | within | identical episodes |")
print("|---|---|---|---|---|---|---|---|")
for algorithm in ("ppo", "dqn"):
    torch = {round(r["eps"], 6): r for r in map(json.loads, open(f"{work}/{algorithm}-torch.jsonl"))}
    for e in ["0"] + eps:
        if e == "0":
            report = json.load(open(f"{work}/{algorithm}-gauntlet-{eps[0]}.json"))["clean"]
        else:
            report = json.load(open(f"{work}/{algorithm}-gauntlet-{e}.json"))["attacked"]
        g_returns = report["returns"]
        t = torch[round(float(e), 6)]
        n = len(g_returns)
        g_mean = sum(g_returns) / n
        g_std = math.sqrt(sum((x - g_mean) ** 2 for x in g_returns) / (n - 1))
        difference = g_mean - t["mean"]
        bound = 1.96 * math.sqrt(g_std ** 2 / n + t["std"] ** 2 / len(t["returns"]))
        within = abs(difference) <= bound
        identical = sum(a == b for a, b in zip(g_returns, t["returns"]))
        print(f"| SB3 {algorithm.upper()} | {e} | {t['mean']:.1f} ± {t['std']:.1f} | {g_mean:.1f} ± {g_std:.1f} | {difference:+.1f} | "
              f"{bound:.1f} | {'yes' if within else 'NO'} | {identical}/{n} |")
PY

#!/usr/bin/env bash
# Evaluates every shipped policy over 100 episodes (seeds 0..99, greedy/mode actions) and prints
# the Markdown table of the README, with each environment's "solved" threshold (gridworlds:
# within 1% of the optimal return that value iteration computes; MuJoCo: the returns issue 18
# asks of PPO and SAC; MinAtar's natural DQNs: the MinAtar paper's DQN after 5M frames, read off its
# learning curves, which plot the ε-greedy training return, so the policy's own training return over
# its last 100 episodes is what is compared; the robust fine-tunes have no threshold of their own).
# That return explores over the minimal action set; the paper's over all six — bench/minatar_epsilon_greedy.py
# measures a policy both ways (the README's MinAtar paragraph gives Breakout's numbers).
set -euo pipefail
cd "$(dirname "$0")/.."
gauntlet=.build/release/gauntlet
[ -x "$gauntlet" ] || swift build -c release --product gauntlet
echo "| policy | environment | algorithm | mean return ± std (100 episodes) | 95% CI | threshold | met |"
echo "|---|---|---|---|---|---|---|"
for file in policies/*.safetensors; do
    name=$(basename "$file" .safetensors)
    json=$("$gauntlet" evaluate --policy "$file" --episodes 100 --seed 0 --json)
    env=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["environment"])' "$json")
    optimal=$("$gauntlet" env info "$env" --json | python3 -c 'import json,sys; print(json.load(sys.stdin).get("optimal_return", ""))')
    info=$("$gauntlet" policy info "$file" --json)
    python3 - "$name" "$json" "$optimal" "$(sed -n 's/^algorithm: *//p' "policies/$name.yaml")" "$info" <<'PY'
import json, sys
name, result, optimal, algorithm = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
provenance = json.loads(sys.argv[5])["description"].get("provenance", {})
env = result["environment"]
clean = result["clean"]
thresholds = {"CartPole-v1": 475, "Acrobot-v1": -100, "MountainCar-v0": -110, "MountainCarContinuous-v0": 90, "Pendulum-v1": -200,
              # MuJoCo: the returns the issue asks of the shipped policies (SAC on HalfCheetah: 9000).
              "Hopper-v5": 3000, "Walker2d-v5": 4000, "HalfCheetah-v5": 9000 if algorithm == "sac" else 5000, "Ant-v5": 3000,
              "InvertedPendulum-v5": 1000}
# MinAtar (Young & Tian 2019, learning curves of DQN at 5M frames, mean of 30 runs).
minatar = {"MinAtar/Breakout-v1": 10, "MinAtar/Freeway-v1": 50, "MinAtar/SpaceInvaders-v1": 43}
if env in minatar:
    if name.endswith(("-sa-dqn", "-sa-dqn-pgd", "-radial-dqn")):
        label, met = "— (robust fine-tune)", "—"
    else:
        training = float(provenance["training_mean_return_last_100"])
        label = f"≥ {minatar[env]} training return (paper)"
        met = f"{'yes' if training >= minatar[env] else 'no'} ({training:g})"
else:
    if optimal:
        threshold = float(optimal) - 0.01 * abs(float(optimal))
        label = f"≥ {threshold:.4f} (optimal {float(optimal):.4f})"
    else:
        threshold = thresholds[env]
        label = f"≥ {threshold}"
    met = "yes" if clean["mean_return"] >= threshold else "no"
print(f'| {name} | {env} | {algorithm} | {clean["mean_return"]:.2f} ± {clean["std_return"]:.2f} | [{clean["ci95"][0]:.2f}, {clean["ci95"][1]:.2f}] | {label} | {met} |')
PY
done

#!/usr/bin/env bash
# Evaluates every shipped policy over 100 episodes (seeds 0..99, greedy/mode actions) and prints
# the Markdown table of the README, with each environment's "solved" threshold (gridworlds:
# within 1% of the optimal return that value iteration computes; MuJoCo: the returns issue 18
# asks of PPO and SAC; MinAtar's natural DQNs: the MinAtar paper's DQN after 5M frames at our step
# size 2⁻¹², read off its step-size sensitivity figure, which reports the ε-greedy return (ε 0.1,
# random actions from all six) — so those rows compare `evaluate --explore 0.1` over 1,000 episodes;
# the robust fine-tunes have no threshold of their own).
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
    explored='{}'
    case "$env" in MinAtar/*) explored=$("$gauntlet" evaluate --policy "$file" --episodes 1000 --seed 0 --explore 0.1 --json) ;; esac
    python3 - "$name" "$json" "$optimal" "$(sed -n 's/^algorithm: *//p' "policies/$name.yaml")" "$explored" <<'PY'
import json, sys
name, result, optimal, algorithm = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
env = result["environment"]
clean = result["clean"]
thresholds = {"CartPole-v1": 475, "Acrobot-v1": -100, "MountainCar-v0": -110, "MountainCarContinuous-v0": 90, "Pendulum-v1": -200,
              # MuJoCo: the returns the issue asks of the shipped policies (SAC on HalfCheetah: 9000).
              "Hopper-v5": 3000, "Walker2d-v5": 4000, "HalfCheetah-v5": 9000 if algorithm == "sac" else 5000, "Ant-v5": 3000,
              "InvertedPendulum-v5": 1000}
# MinAtar (Young & Tian 2019: DQN's return over the final 100 episodes at 5M frames, mean of 30
# runs, at step size 2⁻¹² in its sensitivity figure).
minatar = {"MinAtar/Breakout-v1": 8.9, "MinAtar/Freeway-v1": 49, "MinAtar/SpaceInvaders-v1": 45}
if env in minatar:
    if name.endswith(("-sa-dqn", "-sa-dqn-pgd", "-radial-dqn")):
        label, met = "— (robust fine-tune)", "—"
    else:
        explored = json.loads(sys.argv[5])["clean"]
        label = f"≥ {minatar[env]:g} ε-greedy (paper)"
        # Below the paper's figure but with it inside the 95% interval is said as such, not as met.
        mean, (low, high) = explored["mean_return"], explored["ci95"]
        verdict = "yes" if mean >= minatar[env] else "no, within the 95% interval" if high >= minatar[env] else "no"
        met = f"{verdict} ({mean:.2f} [{low:.2f}, {high:.2f}])"
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

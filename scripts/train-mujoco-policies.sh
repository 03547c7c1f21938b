#!/usr/bin/env bash
# Trains the shipped MuJoCo policies from policies/NAME.yaml, one after another, each resuming its
# run directory (runs/NAME-seedS) when an earlier invocation was interrupted, and evaluates the
# finished policy on 100 deterministic episodes (seeds 0–99; runs/NAME-seedS.evaluation.json).
# Wall times go to runs/wall-times.txt. Copy a policy that meets its threshold to
# policies/NAME.safetensors, then run scripts/record-shipped-training-configs.py.
#   scripts/train-mujoco-policies.sh [NAME[:SEED] ...]   (default: every MuJoCo config, seed 0)
set -euo pipefail
cd "$(dirname "$0")/.."
gauntlet=.build/release/gauntlet
[ -x "$gauntlet" ] || swift build -c release --product gauntlet
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(invertedpendulum-ppo hopper-ppo walker2d-ppo halfcheetah-ppo ant-ppo hopper-sac halfcheetah-sac)
for entry in "${names[@]}"; do
    name=${entry%%:*}
    seed=0
    [ "$entry" = "$name" ] || seed=${entry##*:}
    run=runs/$name-seed$seed
    start=$(date +%s)
    if [ -f "$run/summary.json" ]; then
        echo "$name seed $seed: already trained"
    elif [ -f "$run/checkpoint.safetensors" ]; then
        "$gauntlet" train --resume "$run"
    else
        "$gauntlet" train --config "policies/$name.yaml" --seed "$seed" --output "$run"
    fi
    echo "$name seed $seed: $(($(date +%s) - start)) s ($(date -u +%FT%TZ), $(nproc) cores)" >> runs/wall-times.txt
    "$gauntlet" evaluate --policy "$run/policy.safetensors" --episodes 100 --json > "$run.evaluation.json"
    python3 -c 'import json, sys; c = json.load(open(sys.argv[1]))["clean"]; print(sys.argv[2], "over 100 episodes: %.2f ± %.2f" % (c["mean_return"], c["std_return"]))' \
        "$run.evaluation.json" "$name seed $seed"
done

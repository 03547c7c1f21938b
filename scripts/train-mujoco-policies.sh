#!/usr/bin/env bash
# Trains the shipped MuJoCo policies from policies/NAME.yaml, one after another, each resuming its
# run directory (runs/NAME-seedS) when an earlier invocation was interrupted; a finished run's
# policy is copied to policies/NAME.safetensors and evaluated on 100 deterministic episodes
# (seeds 0–99). Wall times go to runs/wall-times.txt, evaluations to runs/NAME-seedS.evaluation.json.
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
    python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(sys.argv[2], 'mean return over 100 episodes:', r.get('mean_return', r))" \
        "$run.evaluation.json" "$name seed $seed"
done

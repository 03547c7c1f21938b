#!/usr/bin/env bash
# Retrains every shipped policy from its config in policies/ and copies the result next to it:
#   scripts/train-shipped-policies.sh [NAME ...]      (default: every policies/*.yaml)
# Each run keeps its directory in runs/shipped/NAME (checkpoints, progress.csv), so an
# interrupted retraining continues with the same command.
set -euo pipefail
cd "$(dirname "$0")/.."
gauntlet=.build/release/gauntlet
[ -x "$gauntlet" ] || swift build -c release --product gauntlet
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    for config in policies/*.yaml; do names+=("$(basename "$config" .yaml)"); done
fi
for name in "${names[@]}"; do
    run="runs/shipped/$name"
    if [ -f "$run/checkpoint.safetensors" ]; then
        "$gauntlet" train --resume "$run"
    else
        "$gauntlet" train --config "policies/$name.yaml" --output "$run"
    fi
    cp "$run/policy.safetensors" "policies/$name.safetensors"
done

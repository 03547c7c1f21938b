#!/usr/bin/env bash
# Trains a learned adversary (SA-RL or PA-AD) into RUN unless RUN holds a finished one: an
# interrupted run resumes from its checkpoint, a missing one starts with
# `gauntlet adversary train ARGS --output RUN`. The attack scripts share it.
#   studies/mujoco-robustness/train-adversary.sh RUN ARGS...
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 RUN ARGS..." >&2; exit 2; }
run=$1
shift
gauntlet=${GAUNTLET:-.build/release/gauntlet}
if [ -f "$run/summary.json" ]; then
    exit 0
elif [ -f "$run/checkpoint.safetensors" ]; then
    "$gauntlet" train --resume "$run"
else
    "$gauntlet" adversary train "$@" --output "$run"
fi

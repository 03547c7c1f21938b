#!/usr/bin/env bash
# What DQN training and its robust variants cost on MinAtar Breakout (one thread per process): the
# shipped configs policies/minatar-breakout-{dqn,sa-dqn,sa-dqn-pgd,radial-dqn}.yaml cut to STEPS
# frames (default 15,000: 5,000 before learning starts, then one update a frame; the fine-tunes
# start from policies/minatar-breakout-dqn.safetensors), REPEATS times (default 3), in CPU
# seconds min / median, and each method's median over natural DQN's.
#   bench/minatar_training_costs.sh [BINARY…]
# With several gauntlet binaries (e.g. two builds to compare), each repeat runs them in turn, so
# a slow spell on a shared machine hits all of them alike; the last column is then each
# binary's median over the first's. Without, the fresh release build is timed.
# Times are CPU seconds (user + system) of each process: on one thread, its wall time on an
# idle core, and far less disturbed than wall time by other jobs; an idle machine is still best.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${STEPS:-15000}
repeats=${REPEATS:-3}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
binaries=("$@")
if [ ${#binaries[@]} = 0 ]; then
    swift build -c release --product gauntlet >&2
    binaries=("$PWD/.build/release/gauntlet")
fi
. bench/cpu_seconds.sh

echo "## MinAtar Breakout training, $steps frames, $repeats repeats"
echo
echo "| config | binary | CPU s (min / median) | × natural DQN | × first binary |"
echo "|---|---|---|---|---|"
declare -A natural
for name in dqn sa-dqn sa-dqn-pgd radial-dqn; do
    cut="$work/minatar-breakout-$name.yaml"
    sed "s/^n_timesteps: .*/n_timesteps: $steps/" "policies/minatar-breakout-$name.yaml" > "$cut"
    declare -A times=()
    for r in $(seq "$repeats"); do
        for b in "${!binaries[@]}"; do
            times[$b]+=" $(seconds "${binaries[$b]}" train --config "$cut" --output "$work/run")"
            rm -rf "$work/run"
        done
    done
    first=
    for b in "${!binaries[@]}"; do
        # shellcheck disable=SC2086
        read -r low median < <(summary ${times[$b]})
        [ "$name" = dqn ] && natural[$b]=$median
        [ -n "$first" ] || first=$median
        printf '| %s | %s | %s / %s | %.2f× | %.2f× |\n' "minatar-breakout-$name.yaml" "$(basename "${binaries[$b]}")" \
            "$low" "$median" "$(echo "$median / ${natural[$b]}" | bc -l)" "$(echo "$median / $first" | bc -l)"
    done
    unset times
done

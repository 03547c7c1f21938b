#!/usr/bin/env bash
# What the MuJoCo robustness study costs on this machine (one thread per process), for Hopper-v5:
#  1. training: each method's study config (vanilla PPO's policies/hopper-ppo.yaml and
#     studies/mujoco-robustness/hopper-*-ppo.yaml) cut to STEPS environment steps (default
#     51,200 = 25 PPO iterations; each method's ε ramp scales with it, so its robust work runs
#     from the first iteration), REPEATS times: CPU seconds min / median, and the ratio of
#     medians to vanilla PPO;
#  2. attacks: the study's suite against the shipped policies/hopper-ppo.safetensors at ε 0.075
#     (normalised units) over EPISODES episodes: the seconds an attack adds over the clean
#     episodes (`gauntlet evaluate`, same seeds), per attacked episode and per 1,000 attacked
#     steps; Robust Sarsa with an empty cache (its 3×3 grid of value functions learned first)
#     and again from the cache; the SA-RL and PA-AD adversaries' training per 100,000 victim steps
#     (the study trains each for 1M).
#   bench/robust_costs.sh            (STEPS, REPEATS, EPISODES override the defaults)
# Times are CPU seconds of each process (one thread each), so other jobs on the machine disturb
# them far less than wall time; an idle machine is still best.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${STEPS:-51200}
repeats=${REPEATS:-3}
episodes=${EPISODES:-5}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
swift build -c release --product gauntlet >&2
gauntlet=$PWD/.build/release/gauntlet
. bench/cpu_seconds.sh

echo "## Training, Hopper-v5, $steps steps, $repeats repeats"
echo
echo "| method | config | CPU s (min / median) | × vanilla PPO |"
echo "|---|---|---|---|"
vanilla=
for config in policies/hopper-ppo.yaml studies/mujoco-robustness/hopper-*-ppo.yaml; do
    cut="$work/$(basename "$config")"
    sed "s/^n_timesteps: .*/n_timesteps: $steps/" "$config" > "$cut"
    times=()
    for r in $(seq "$repeats"); do
        times+=("$(seconds "$gauntlet" train --config "$cut" --output "$work/run-$r")")
        rm -rf "$work/run-$r"
    done
    read -r low median < <(summary "${times[@]}")
    [ -n "$vanilla" ] || vanilla=$median
    method=$(awk '/^robust_method:/ { print $2; exit }' "$config")
    printf '| %s | %s | %s / %s | %.1f× |\n' "${method:-vanilla}" "$(basename "$config")" "$low" "$median" \
        "$(echo "$median / $vanilla" | bc -l)"
done

echo
echo "## Attacks on policies/hopper-ppo.safetensors, ε 0.075 normalised, $episodes episodes"
echo
policy=policies/hopper-ppo.safetensors
common=(--policy "$policy" --eps 0.075 --eps-units normalized --episodes "$episodes")
clean=$(seconds "$gauntlet" evaluate --policy "$policy" --episodes "$episodes")
for kind in learned paad; do
    "$gauntlet" adversary train --kind $kind --victim "$policy" --eps 0.075 --eps-units normalized --steps 20000 \
        --output "$work/$kind" > /dev/null 2>&1
done
echo "| attack | CPU s added per attacked episode | CPU s per 1,000 attacked steps | preparation (CPU s) |"
echo "|---|---|---|---|"
export GAUNTLET_CACHE="$work/cache"
for attack in uniform critic mad rs rs rs+mad "learned:adversary=$work/learned/policy.safetensors" \
    "paad:adversary=$work/paad/policy.safetensors"; do
    note="—"
    if [ "${attack%%:*}" = rs ] || [ "${attack%%:*}" = rs+mad ]; then
        note="value functions from the cache"
        [ -d "$GAUNTLET_CACHE" ] || note="3×3 grid of value functions learned first (included)"
    fi
    /usr/bin/time -f '%U %S' -o "$work/time" "$gauntlet" attack "${common[@]}" --attack "$attack" --json \
        > "$work/attack.json" 2> /dev/null
    added=$(awk -v clean="$clean" '{ print $1 + $2 - clean }' "$work/time")
    attacked=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["attacked_steps"])' "$work/attack.json")
    case $attack in
        learned:* | paad:*)
            kind=${attack%%:*}
            training=$(seconds "$gauntlet" adversary train --kind "$kind" --victim "$policy" --eps 0.075 \
                --eps-units normalized --steps 100000 --output "$work/$kind-100k")
            note=$(printf 'adversary training: %.1f s per 100,000 victim steps' "$training") ;;
    esac
    # /usr/bin/time counts in 0.01 s: a difference within two ticks of the clean run is no cost we can see.
    if [ "$(echo "$added <= 0.02" | bc -l)" = 1 ]; then
        printf '| %s | ≈ 0 (≤ 0.02 s in all) | ≈ 0 | %s |\n' "${attack%%:*}" "$note"
    else
        printf '| %s | %.2f | %.2f | %s |\n' "${attack%%:*}" "$(echo "$added / $episodes" | bc -l)" \
            "$(echo "1000 * $added / $attacked" | bc -l)" "$note"
    fi
done

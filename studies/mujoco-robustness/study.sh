#!/usr/bin/env bash
# Robust RL on MuJoCo, the published protocol from one command:
#   studies/mujoco-robustness/study.sh [--no-train] [ENV ...]      (default: hopper walker2d halfcheetah)
# For each environment and each method — vanilla PPO (policies/ENV-ppo.yaml) and every
# studies/mujoco-robustness/ENV-METHOD-ppo.yaml — it trains seeds 0, 1, 2 into runs/NAME-seedS
# (resumed when interrupted; vanilla seed 0 is the shipped policies/ENV-ppo.safetensors, which its
# config retrains bit for bit on the OpenBLAS kernel it recorded), runs the full attack suite on each agent (attack-suite.sh, 50
# episodes, runs/attacks/NAME.json) and keeps the result in the repository as
# studies/mujoco-robustness/agents/NAME.json (an agent with a record is done: it is not trained or
# attacked again) — except what the report needs and a record cannot give: a median agent whose
# record is `recovered` (summary numbers only) is trained and attacked again, and a vanilla median
# policy that is not on the machine is trained again (same config and seed; bit for bit the lost
# run only on the OpenBLAS kernel it ran on). A robust agent shipped in policies/ (the `shipped`
# table below: the same tensors as its seed's run) is attacked from there and never retrained.
# From every record it picks each method's median agent by its worst case and writes
#   studies/mujoco-robustness/results.md — every agent's row, the median agents beside the
#       published numbers (that summary table also into README.md), and training time relative
#       to vanilla PPO;
#   studies/mujoco-robustness/report/   — `gauntlet report` over the median agents (Markdown and
#       HTML with figures), from runs/mujoco-study.sqlite, when every median agent's suite and
#       vanilla policy are on this machine (otherwise report/ is left as it is, and it says why).
# --no-train tabulates the agents already recorded, and trains or attacks nothing.
# ε in each policy's normalised units, L∞: Hopper 0.075, Walker2d 0.05, HalfCheetah 0.15, Ant 0.15.
set -euo pipefail
cd "$(dirname "$0")/../.."
study=studies/mujoco-robustness
train=1
if [ "${1:-}" = --no-train ]; then train=0; shift; fi
envs=("$@")
[ ${#envs[@]} -gt 0 ] || envs=(hopper walker2d halfcheetah)
gauntlet=${GAUNTLET:-.build/release/gauntlet}
[ -x "$gauntlet" ] || swift build -c release --product gauntlet
export GAUNTLET=$gauntlet
declare -A epsilon=([hopper]=0.075 [walker2d]=0.05 [halfcheetah]=0.15 [ant]=0.15)
declare -A shipped=(
    [hopper-sa-sigma-kappa0.1-ppo-seed1]=policies/hopper-sa-ppo.safetensors
    [walker2d-sa-sigma-ppo-seed1]=policies/walker2d-sa-ppo.safetensors
    [halfcheetah-sa-sigma-kappa0.1-reference-ppo-seed0]=policies/halfcheetah-sa-ppo.safetensors)
# What the report lacks at the start: recovered median agents (by name), vanilla median policies (by path).
redo=" "
if [ $train = 1 ] && ls "$study"/agents/*.json > /dev/null 2>&1; then
    medians=$(mktemp -d)
    redo+=$(python3 "$study/tabulate.py" tables /dev/null "$medians" | awk '$1 == "recovered" || $1 == "baseline" { printf "%s ", $2 }')
    rm -rf "$medians"
fi

for env in "${envs[@]}"; do
    eps=${epsilon[$env]:?"unknown environment '$env' (hopper, walker2d, halfcheetah, ant)"}
    [ $train = 1 ] || continue
    configs=(policies/$env-ppo.yaml)
    for config in "$study/$env"-*-ppo.yaml; do [ -f "$config" ] && configs+=("$config"); done
    for config in "${configs[@]}"; do
        method=$(basename "$config" .yaml)
        for seed in 0 1 2; do
            run=runs/$method-seed$seed
            policy=$run/policy.safetensors
            name=$method-seed$seed
            if [ "$config" = "policies/$env-ppo.yaml" ] && [ $seed = 0 ]; then
                policy=policies/$env-ppo.safetensors
                name=$method
            fi
            [ -z "${shipped[$name]:-}" ] || policy=${shipped[$name]}
            attack=1
            [ -f "$study/agents/$name.json" ] && [[ "$redo" != *" $name "* ]] && attack=0
            if [ $attack = 0 ] && { [[ "$redo" != *" $policy "* ]] || [ -f "$policy" ]; }; then continue; fi
            if [ "$policy" = "$run/policy.safetensors" ] && [ ! -f "$run/summary.json" ]; then
                echo "training $method seed $seed" >&2
                if [ -f "$run/checkpoint.safetensors" ]; then
                    "$gauntlet" train --resume "$run" > /dev/null
                else
                    "$gauntlet" train --config "$config" --seed $seed --output "$run" > /dev/null
                fi
            fi
            [ $attack = 1 ] || continue
            if [ ! -s "runs/attacks/$name.json" ]; then
                echo "attacking $name" >&2
                "$study/attack-suite.sh" "$policy" "$eps" 50 "$name" > /dev/null
            fi
            python3 "$study/tabulate.py" record "$env" "$method" $seed "$policy" "$name"
        done
    done
done
ls "$study"/agents/*.json > /dev/null 2>&1 || { echo "no agent has been trained and attacked yet" >&2; exit 1; }

# Tables from every record; the median agents' suites and vanilla baselines go to the report.
rm -rf runs/mujoco-study && mkdir -p runs/mujoco-study
python3 "$study/tabulate.py" tables "$study/results.md" runs/mujoco-study README.md > runs/mujoco-study-median.txt
missing=$(awk '$1 == "recovered" { print $2 }' runs/mujoco-study-median.txt)
baselines=()
while read -r policy; do
    [ -f "$policy" ] || missing+=" $policy"
    baselines+=(--baseline "$policy")
done < <(awk '$1 == "baseline" { print $2 }' runs/mujoco-study-median.txt)
if [ -n "$missing" ]; then
    echo "wrote $study/results.md; left $study/report/ as it is: not on this machine:" $missing >&2
    exit 0
fi
rm -f runs/mujoco-study.sqlite
awk '$1 == "run" { print $2 }' runs/mujoco-study-median.txt | xargs "$gauntlet" results import --db runs/mujoco-study.sqlite > /dev/null
rm -rf "$study/report"
"$gauntlet" report --db runs/mujoco-study.sqlite --out "$study/report" "${baselines[@]}" > /dev/null
echo "wrote $study/results.md and $study/report/"

#!/usr/bin/env bash
# The full attack suite against one MuJoCo PPO policy at ε in its normalised units (L∞), over
# EPISODES deterministic episodes (default 50, seeds 0…): random (uniform), critic, MAD, PGD on
# the action mean (`pgd`), Robust Sarsa (default 3×3 grid), RS+MAD, SA-RL adversaries (`learned`)
# at three learning rates — 3e-4, 1e-3, 3e-3, the optimal-attack papers' small grid, the strongest
# counts — and a PA-AD director, each trained for 1M victim steps unless runs/attacks/NAME-KIND
# (NAME-learned-lrRATE for the grid's other rates) holds one (resumed when interrupted).
# Writes runs/attacks/NAME.json ({"attacks": [...]}, gauntlet attack's report) and prints one
# Markdown row: natural, each attack, and the worst case (the lowest mean) with 95% intervals.
# NAME is the policy file's name, or its run directory's for RUN/policy.safetensors, unless given.
#   studies/mujoco-robustness/attack-suite.sh POLICY EPS [EPISODES [NAME]]
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 2 ] || { echo "usage: $0 POLICY EPS [EPISODES [NAME]]" >&2; exit 2; }
policy=$1
eps=$2
episodes=${3:-50}
gauntlet=${GAUNTLET:-.build/release/gauntlet}
[ -x "$gauntlet" ] || swift build -c release --product gauntlet
name=${4:-$(basename "$policy" .safetensors)}
[ "$name" != policy ] || name=$(basename "$(dirname "$policy")")
mkdir -p runs/attacks
learned_rates=(1e-3 3e-3)   # beside the default 3e-4 of runs/attacks/NAME-learned
for adversary in learned paad "${learned_rates[@]/#/learned-lr}"; do
    run=runs/attacks/$name-$adversary
    rate=()
    case $adversary in learned-lr*) rate=(--learning-rate "${adversary#learned-lr}") ;; esac
    studies/mujoco-robustness/train-adversary.sh "$run" --kind "${adversary%%-*}" --victim "$policy" --eps "$eps" \
        --eps-units normalized --steps 1000000 "${rate[@]}" > /dev/null
done
grid=()
for rate in "${learned_rates[@]}"; do grid+=(--attack "learned:adversary=runs/attacks/$name-learned-lr$rate/policy.safetensors"); done
"$gauntlet" attack --policy "$policy" --eps "$eps" --eps-units normalized --episodes "$episodes" --json \
    --attack uniform --attack critic --attack mad --attack pgd --attack rs --attack rs+mad \
    --attack "learned:adversary=runs/attacks/$name-learned/policy.safetensors" "${grid[@]}" \
    --attack "paad:adversary=runs/attacks/$name-paad/policy.safetensors" > "runs/attacks/$name.json.partial"
# Complete or absent: study.sh takes an existing file as a finished suite.
mv "runs/attacks/$name.json.partial" "runs/attacks/$name.json"
python3 - "runs/attacks/$name.json" "$name" "$eps" <<'EOF'
import json, sys
sys.path.insert(0, "studies/mujoco-robustness")
from tabulate import cell, strongest_by_family
reports = json.load(open(sys.argv[1]))["attacks"]
worst = min(reports, key=lambda r: r["attacked"]["mean_return"])
row = [sys.argv[2], sys.argv[3], cell(reports[0]["clean"])] + [cell(a) for a in strongest_by_family(reports).values()]
row.append("**%s** (%s)" % (cell(worst["attacked"]), worst["attack"].split(":")[0]))
print("| " + " | ".join(row) + " |")
EOF

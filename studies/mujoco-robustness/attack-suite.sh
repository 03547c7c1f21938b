#!/usr/bin/env bash
# The full attack suite against one MuJoCo PPO policy at ε in its normalised units (L∞), over
# EPISODES deterministic episodes (default 50, seeds 0…): random (uniform), critic, MAD, PGD on
# the action mean (`pgd`), Robust Sarsa (default 3×3 grid), RS+MAD, an SA-RL adversary (`learned`)
# and a PA-AD director, each trained for 1M victim steps unless runs/attacks/NAME-KIND holds one
# (resumed when interrupted).
# Writes runs/attacks/NAME.json ({"attacks": [...]}, gauntlet attack's report) and prints one
# Markdown row: natural, each attack, and the worst case (the lowest mean) with 95% intervals.
#   studies/mujoco-robustness/attack-suite.sh POLICY EPS [EPISODES]
set -euo pipefail
cd "$(dirname "$0")/../.."
policy=$1
eps=$2
episodes=${3:-50}
gauntlet=${GAUNTLET:-.build/release/gauntlet}
[ -x "$gauntlet" ] || swift build -c release --product gauntlet
name=$(basename "$policy" .safetensors)
# A run's policy (RUN/policy.safetensors) is named by its run directory.
[ "$name" != policy ] || name=$(basename "$(dirname "$policy")")
mkdir -p runs/attacks
for kind in learned paad; do
    run=runs/attacks/$name-$kind
    if [ -f "$run/summary.json" ]; then
        :
    elif [ -f "$run/checkpoint.safetensors" ]; then
        "$gauntlet" train --resume "$run" > /dev/null
    else
        "$gauntlet" adversary train --kind "$kind" --victim "$policy" --eps "$eps" --eps-units normalized \
            --steps 1000000 --output "$run" > /dev/null
    fi
done
"$gauntlet" attack --policy "$policy" --eps "$eps" --eps-units normalized --episodes "$episodes" --json \
    --attack uniform --attack critic --attack mad --attack pgd --attack rs --attack rs+mad \
    --attack "learned:adversary=runs/attacks/$name-learned/policy.safetensors" \
    --attack "paad:adversary=runs/attacks/$name-paad/policy.safetensors" > "runs/attacks/$name.json.partial"
# Complete or absent: study.sh takes an existing file as a finished suite.
mv "runs/attacks/$name.json.partial" "runs/attacks/$name.json"
python3 - "runs/attacks/$name.json" "$name" "$eps" <<'EOF'
import json, sys
reports = json.load(open(sys.argv[1]))["attacks"]
def cell(summary):
    return "%.0f [%.0f, %.0f]" % (summary["mean_return"], summary["ci95"][0], summary["ci95"][1])
worst = min(reports, key=lambda r: r["attacked"]["mean_return"])
row = [sys.argv[2], sys.argv[3], cell(reports[0]["clean"])] + [cell(r["attacked"]) for r in reports]
row.append("**%s** (%s)" % (cell(worst["attacked"]), worst["attack"].split(":")[0]))
print("| " + " | ".join(row) + " |")
EOF

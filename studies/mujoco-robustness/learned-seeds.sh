#!/usr/bin/env bash
# How much a learned attack depends on its own training seed: against one recorded agent, trains
# an SA-RL adversary (learning rate 3e-4) and a PA-AD director for 1M victim steps with each
# adversary seed given (default 1 2; attack-suite.sh's are seed 0) into
# runs/attacks/NAME-learned-seedS and NAME-paad-seedS (resumed when interrupted), attacks the
# agent with them over 50 deterministic episodes (runs/attacks/NAME-seeds-1-2.json for seeds 1 2)
# and prints one Markdown row: the record's SA-RL and PA-AD (seed 0, strongest of its runs), each
# reseeded run, the record's worst case and the worst case counting the reseeded runs too.
#   studies/mujoco-robustness/learned-seeds.sh NAME POLICY EPS [SEED ...]
# NAME is the agent's record (agents/NAME.json); POLICY its policy file.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 3 ] || { echo "usage: $0 NAME POLICY EPS [SEED ...]" >&2; exit 2; }
name=$1
policy=$2
eps=$3
shift 3
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(1 2)
gauntlet=${GAUNTLET:-.build/release/gauntlet}
[ -x "$gauntlet" ] || swift build -c release --product gauntlet
[ -f "studies/mujoco-robustness/agents/$name.json" ] || { echo "no record agents/$name.json" >&2; exit 2; }
attacks=()
for seed in "${seeds[@]}"; do
    for kind in learned paad; do
        run=runs/attacks/$name-$kind-seed$seed
        studies/mujoco-robustness/train-adversary.sh "$run" --kind $kind --victim "$policy" --eps "$eps" \
            --eps-units normalized --steps 1000000 --seed "$seed" > /dev/null
        attacks+=(--attack "$kind:adversary=$run/policy.safetensors")
    done
done
out=runs/attacks/$name-seeds$(printf -- "-%s" "${seeds[@]}").json
if [ ! -s "$out" ]; then
    "$gauntlet" attack --policy "$policy" --eps "$eps" --eps-units normalized --episodes 50 --json \
        "${attacks[@]}" > "$out.partial"
    mv "$out.partial" "$out"
fi
python3 - "$name" "$out" <<'PY'
import json, sys
sys.path.insert(0, "studies/mujoco-robustness")
from tabulate import AGENTS, cell, load
agent = load("%s/%s.json" % (AGENTS, sys.argv[1]))
reseeded = json.load(open(sys.argv[2]))["attacks"]
row = [sys.argv[1], cell(agent["natural"])]
for kind in ("learned", "paad"):
    runs = [r["attacked"] for r in reseeded if r["attack"].startswith(kind + ":")]
    row.append(" · ".join([cell(agent["attacked"][kind])] + [cell(r) for r in runs]))
worst = min([agent["worst"]] + [r["attacked"] for r in reseeded], key=lambda s: s["mean_return"])
row += ["%s (%s)" % (cell(agent["worst"]), agent["worst_attack"]), cell(worst)]
print("| " + " | ".join(row) + " |")
PY

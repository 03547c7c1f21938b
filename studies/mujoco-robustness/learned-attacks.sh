#!/usr/bin/env bash
# The learned attacks against the shipped vanilla MuJoCo PPO policies, at the published ε in their
# normalised units: for each policy an SA-RL adversary (`learned`, observation perturbations) and a
# PA-AD director (`paad`, action directions), STEPS victim steps each (default 1M), trained unless
# runs/NAME-KIND holds one (resumed from its checkpoint when interrupted); then MAD, learned and
# PA-AD over EPISODES deterministic episodes (default 50, seeds 0…), written as a Markdown table to
# studies/mujoco-robustness/learned-attacks.md with 95% intervals and each adversary's training time.
#   studies/mujoco-robustness/learned-attacks.sh [STEPS] [EPISODES]
set -euo pipefail
cd "$(dirname "$0")/../.."
steps=${1:-1000000}
episodes=${2:-50}
gauntlet=${GAUNTLET:-.build/release/gauntlet}
[ -x "$gauntlet" ] || swift build -c release --product gauntlet
out=studies/mujoco-robustness/learned-attacks.md
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
for entry in hopper:0.075 walker2d:0.05 halfcheetah:0.15 ant:0.15; do
    name=${entry%%:*}
    eps=${entry##*:}
    victim=policies/$name-ppo.safetensors
    for kind in learned paad; do
        studies/mujoco-robustness/train-adversary.sh "runs/$name-$kind" --kind "$kind" --victim "$victim" \
            --eps "$eps" --eps-units normalized --steps "$steps"
    done
    for attack in mad "learned:adversary=runs/$name-learned/policy.safetensors" "paad:adversary=runs/$name-paad/policy.safetensors"; do
        "$gauntlet" attack --policy "$victim" --attack "$attack" --eps "$eps" --eps-units normalized \
            --episodes "$episodes" --json > "$results/$name-${attack%%:*}.json"
    done
done
python3 - "$results" "$episodes" > "$out" <<'EOF'
import json, sys
results, episodes = sys.argv[1], sys.argv[2]
published = {"hopper": "3167 → 636", "walker2d": "4472 → 1086", "halfcheetah": "7117 → −660", "ant": "5687 → −872"}
eps = {"hopper": 0.075, "walker2d": 0.05, "halfcheetah": 0.15, "ant": 0.15}
def cell(report):
    a = report["attacked"]
    return "%.1f [%.1f, %.1f]" % (a["mean_return"], a["ci95"][0], a["ci95"][1])
def trained(name, kind):
    s = json.load(open("runs/%s-%s/summary.json" % (name, kind)))
    return "%d steps, %.0f s" % (s["steps"], s["wall_seconds"])
print("| policy | ε | clean | MAD | learned (SA-RL) | PA-AD | published vanilla PPO, clean → worst (v2) |")
print("|---|---|---|---|---|---|---|")
for name in eps:
    r = {k: json.load(open("%s/%s-%s.json" % (results, name, k))) for k in ("mad", "learned", "paad")}
    clean = r["mad"]["clean"]
    print("| %s-ppo | %g | %.1f [%.1f, %.1f] | %s | %s<br>(%s) | %s<br>(%s) | %s |" % (
        name, eps[name], clean["mean_return"], clean["ci95"][0], clean["ci95"][1], cell(r["mad"]),
        cell(r["learned"]), trained(name, "learned"), cell(r["paad"]), trained(name, "paad"), published[name]))
print()
print("Mean return over %s deterministic episodes (seeds 0…%d) with 95%% intervals; ε in the victim's" % (episodes, int(episodes) - 1))
print("normalised units (L∞). Training: the adversary's own steps and wall time on one thread.")
EOF
cat "$out"

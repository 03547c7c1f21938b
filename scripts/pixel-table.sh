#!/usr/bin/env bash
# The README's pixel table: every trained MinAtar policy (policies/minatar-GAME-VARIANT.safetensors
# for VARIANT dqn, sa-dqn, radial-dqn; missing ones are skipped) on EPISODES episodes from seed 0
# (default 50): the natural return, the return under PGD-10 at ε = 1/255, 3/255 and 5/255 (L∞ on
# the [0, 1] frames) with 95% intervals, and the share of visited states whose greedy action IBP
# certifies at each ε.
#   scripts/pixel-table.sh [EPISODES]        (POLICIES: another folder of policy files)
set -euo pipefail
cd "$(dirname "$0")/.."
gauntlet=.build/release/gauntlet
[ -x "$gauntlet" ] || swift build -c release --product gauntlet
episodes=${1:-50}
policies=${POLICIES:-policies}
render=$(mktemp)
trap 'rm -f "$render"' EXIT
cat > "$render" <<'PY'
import json, sys
name, attacks, certificates = sys.argv[1], [json.loads(l) for l in open(sys.argv[2])], [json.loads(l) for l in open(sys.argv[3])]
clean = attacks[0]["clean"]
cells = [f"{clean['mean_return']:.2f} [{clean['ci95'][0]:.2f}, {clean['ci95'][1]:.2f}]"]
for a in attacks:
    r = a["attacked"]
    cells.append(f"{r['mean_return']:.2f} [{r['ci95'][0]:.2f}, {r['ci95'][1]:.2f}]")
cells.append(" / ".join(f"{100 * c['ibp']['rate']:.1f}%" for c in certificates))
print(f"| {name} | " + " | ".join(cells) + " |")
PY
echo "| policy | natural | PGD-10 ε 1/255 | PGD-10 ε 3/255 | PGD-10 ε 5/255 | IBP-certified states (1, 3, 5 /255) |"
echo "|---|---|---|---|---|---|"
for game in breakout freeway spaceinvaders; do
    for variant in dqn sa-dqn radial-dqn; do
        file="$policies/minatar-$game-$variant.safetensors"
        [ -f "$file" ] || continue
        attacks=$(mktemp) certificates=$(mktemp)
        for eps in 1/255 3/255 5/255; do
            "$gauntlet" attack --policy "$file" --attack pgd --eps "$eps" --episodes "$episodes" --json 2>/dev/null \
                | python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)))' >> "$attacks"
            "$gauntlet" certify --policy "$file" --method ibp --eps "$eps" --episodes "$episodes" --json 2>/dev/null \
                | python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)))' >> "$certificates"
        done
        python3 "$render" "minatar-$game-$variant" "$attacks" "$certificates"
        rm -f "$attacks" "$certificates"
    done
done

#!/usr/bin/env bash
# The README's pixel table: every trained MinAtar policy (policies/minatar-GAME-VARIANT.safetensors
# for VARIANT dqn, sa-dqn, sa-dqn-pgd, radial-dqn; missing ones are skipped) on EPISODES episodes
# from seed 0 (default 50): the natural return, the return under PGD-10 at ε = 1/255, 3/255 and
# 5/255 (L∞ on the [0, 1] frames) with 95% intervals, and the share of visited states whose greedy
# action IBP certifies at each ε. Then the issue's target per game: ε½, the smallest ε of
# {0.25, 0.5, 1, 2, 3, 4, 5}/255 at which PGD-10 takes the natural DQN to half its natural return
# or less, and whether each robust policy keeps ≥ 80% of its own natural return under PGD-10 at ε½,
# with the strongest of PGD-10, PGD-10 with the CW loss and MAD there beside it.
#   scripts/pixel-table.sh [EPISODES]        (POLICIES: another folder of policy files)
set -euo pipefail
cd "$(dirname "$0")/.."
gauntlet=${GAUNTLET:-.build/release/gauntlet}
[ -x "$gauntlet" ] || swift build -c release --product gauntlet
episodes=${1:-50}
policies=${POLICIES:-policies}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
grid=(0.25/255 0.5/255 1/255 2/255 3/255 4/255 5/255)
robust=(sa-dqn sa-dqn-pgd radial-dqn)

# One JSON line per (policy, ε) under PGD-10, cached in $work so no pair is attacked twice.
attack() {
    local file=$1 eps=$2 out="$work/$(basename "$1" .safetensors)-${2//\//_}.json"
    [ -s "$out" ] || "$gauntlet" attack --policy "$file" --attack pgd --eps "$eps" --episodes "$episodes" --json \
        2>/dev/null | python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)))' > "$out"
    cat "$out"
}

cat > "$work/row.py" <<'PY'
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
verdicts=()
for game in breakout freeway spaceinvaders; do
    for variant in dqn "${robust[@]}"; do
        file="$policies/minatar-$game-$variant.safetensors"
        [ -f "$file" ] || continue
        attacks="$work/attacks" certificates="$work/certificates"
        : > "$attacks"; : > "$certificates"
        for eps in 1/255 3/255 5/255; do
            attack "$file" "$eps" >> "$attacks"
            "$gauntlet" certify --policy "$file" --method ibp --eps "$eps" --episodes "$episodes" --json 2>/dev/null \
                | python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)))' >> "$certificates"
        done
        python3 "$work/row.py" "minatar-$game-$variant" "$attacks" "$certificates"
    done
    # The target: ε½ from the natural DQN, then each robust policy at ε½.
    vanilla="$policies/minatar-$game-dqn.safetensors"
    [ -f "$vanilla" ] || continue
    half=""
    for eps in "${grid[@]}"; do
        if attack "$vanilla" "$eps" | python3 -c '
import json, sys
r = json.load(sys.stdin)
sys.exit(0 if r["attacked"]["mean_return"] <= 0.5 * r["clean"]["mean_return"] else 1)'; then half=$eps; break; fi
    done
    if [ -z "$half" ]; then
        verdicts+=("- $game: PGD-10 leaves the natural DQN more than half its return up to ε 5/255 — no ε½ on the grid")
        continue
    fi
    verdicts+=("- $game: PGD-10 takes the natural DQN to half its return or less at ε½ = $half")
    for variant in "${robust[@]}"; do
        file="$policies/minatar-$game-$variant.safetensors"
        [ -f "$file" ] || continue
        # PGD-10 decides the target; PGD-10 with the CW margin loss and MAD (which moves every
        # Q-value, not the greedy margin SA-DQN's hinge guards) say whether a stronger attack hides.
        verdicts+=("$("$gauntlet" attack --policy "$file" --attack pgd --attack pgd:loss=cw --attack mad --eps "$half" \
            --episodes "$episodes" --json 2>/dev/null | python3 -c '
import json, sys
attacks, variant = json.load(sys.stdin)["attacks"], sys.argv[1]
clean, pgd = attacks[0]["clean"]["mean_return"], attacks[0]["attacked"]["mean_return"]
share = lambda value: f"{100 * value / clean:.0f}%" if clean > 0 else "—"
verdict = "met" if clean > 0 and pgd >= 0.8 * clean else "missed"
names = ["PGD-10", "PGD-10 (CW loss)", "MAD"]
listed = ", ".join(names)
worst = min(range(len(attacks)), key=lambda i: attacks[i]["attacked"]["mean_return"])
low = attacks[worst]["attacked"]["mean_return"]
print(f"  - {variant} at ε½ keeps {pgd:.2f} of its natural {clean:.2f} ({share(pgd)}) under PGD-10 — {verdict};"
      f" the strongest of {listed} is {names[worst]}: {low:.2f} ({share(low)})")
' "$variant")")
    done
done
if [ ${#verdicts[@]} -gt 0 ]; then
    echo
    echo "Target (robust policy ≥ 80% of its natural return under PGD-10 at the ε where the natural DQN loses half):"
    printf '%s\n' "${verdicts[@]}"
fi

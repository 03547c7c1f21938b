#!/usr/bin/env bash
# The README's optimality-gap table: DP bounds on the optimal observation attack against the
# shipped gridworld policies, and each heuristic attack's return and gap to the lower bound.
set -euo pipefail
cd "$(dirname "$0")/.."
gauntlet=.build/release/gauntlet
[ -x "$gauntlet" ] || swift build -c release --product gauntlet
render=$(mktemp)
cat > "$render" <<'PY'
import json, sys
r = json.load(sys.stdin)
b = r["bounds"]
for h in r["heuristics"]:
    print(f"| {r['policy'].split('/')[-1].replace('.safetensors', '')} | {r['epsilon']} | {b['clean_return']:.2f} | "
          f"[{b['lower_bound']:.2f}, {b['upper_bound']:.2f}] | `{h['attack'].split(':')[0]}` | {h['mean_return']:.2f} | {h['gap_to_lower_bound']:.2f} |")
PY
echo "| policy | ε | clean | optimal attack's return | heuristic | heuristic's return | gap ≤ |"
echo "|---|---|---|---|---|---|---|"
for policy in four-rooms-dqn lava-corridor-dqn; do
    for eps in 0.02 0.1; do
        "$gauntlet" optimal-attack --policy "policies/$policy.safetensors" --eps "$eps" --json 2>/dev/null | python3 "$render"
    done
done
rm -f "$render"

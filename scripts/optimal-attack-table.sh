#!/usr/bin/env bash
# The README's optimality-gap table: the optimal observation attack's return against the shipped
# gridworld policies (dynamic programming over the actions complete verification decides, each
# question limited to TIME_LIMIT seconds), and each heuristic attack's return and gap.
set -euo pipefail
cd "$(dirname "$0")/.."
gauntlet=.build/release/gauntlet
[ -x "$gauntlet" ] || swift build -c release --product gauntlet
render=$(mktemp)
cat > "$render" <<'PY'
import json, sys
r = json.load(sys.stdin)
b = r["bounds"]
value = f"{b['upper_bound']:.2f}" if b["lower_bound"] == b["upper_bound"] else f"[{b['lower_bound']:.2f}, {b['upper_bound']:.2f}]"
for h in r["heuristics"]:
    print(f"| {r['policy'].split('/')[-1].replace('.safetensors', '')} | {r['epsilon']} | {b['clean_return']:.2f} | {value} | "
          f"{b['undecided_states']} | `{h['attack'].split(':')[0]}` | {h['mean_return']:.2f} | {h['gap_to_lower_bound']:.2f} |")
PY
echo "| policy | ε | clean | optimal attack's return | undecided states | heuristic | heuristic's return | gap ≤ |"
echo "|---|---|---|---|---|---|---|---|"
for policy in four-rooms-dqn lava-corridor-dqn; do
    for eps in 0.02 0.1; do
        "$gauntlet" optimal-attack --policy "policies/$policy.safetensors" --eps "$eps" --time-limit "${TIME_LIMIT:-10}" --json \
            2>/dev/null | python3 "$render"
    done
done
rm -f "$render"

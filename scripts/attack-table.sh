#!/usr/bin/env bash
# The README's attack table: every attack on the shipped CartPole policies at two ε (L∞, raw
# units), EPISODES episodes on seeds 0.. (default 20): attacked return and paired reward drop
# with 95% intervals, action-flip rate, policy queries per attacked step.
#   scripts/attack-table.sh [EPISODES]
set -euo pipefail
cd "$(dirname "$0")/.."
gauntlet=.build/release/gauntlet
[ -x "$gauntlet" ] || swift build -c release --product gauntlet
episodes=${1:-20}
render=$(mktemp)
cat > "$render" <<'PY'
import json, sys
out, policy, eps = json.load(sys.stdin), sys.argv[1], sys.argv[2]
print(f"| {policy} | {eps} | (clean) | {out['attacks'][0]['clean']['mean_return']:.1f} | — | — | — |")
for r in out["attacks"]:
    a, d, f = r["attacked"], r["reward_drop"], r["action_flip_rate"]
    per_step = r["queries"] / max(r["attacked_steps"], 1)
    print(f"| {policy} | {eps} | `{r['attack']}` | {a['mean_return']:.1f} [{a['ci95'][0]:.1f}, {a['ci95'][1]:.1f}] | "
          f"{d['mean']:.1f} [{d['ci95'][0]:.1f}, {d['ci95'][1]:.1f}] | {100 * f['value']:.1f}% | {per_step:.0f} |")
PY
echo "| policy | ε | attack | attacked return [95% CI] | reward drop [95% CI] | action flips | queries / attacked step |"
echo "|---|---|---|---|---|---|---|"
for policy in cartpole-dqn cartpole-ppo; do
    surrogate=$([ "$policy" = cartpole-dqn ] && echo cartpole-ppo || echo cartpole-dqn)
    for eps in 0.05 0.2; do
        args=()
        for attack in uniform gaussian sign fgsm pgd "pgd:steps=20,restarts=4" "pgd:loss=cw" mifgsm mad targeted nes spsa \
                      "transfer:surrogate=policies/$surrogate.safetensors" ensemble; do
            args+=(--attack "$attack")
        done
        "$gauntlet" attack --policy "policies/$policy.safetensors" "${args[@]}" --eps "$eps" --episodes "$episodes" --json 2>/dev/null \
            | python3 "$render" "$policy" "$eps"
    done
done
rm -f "$render"

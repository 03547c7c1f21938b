#!/usr/bin/env bash
# The README's defense table: sweeps every spec in studies/defenses/ into one database and writes
# the report, with each environment's vanilla policy as its baseline, into
# studies/defenses/report/ (report.md holds one ε* table per environment).
#   scripts/defense-table.sh
set -euo pipefail
cd "$(dirname "$0")/.."
gauntlet=.build/release/gauntlet
[ -x "$gauntlet" ] || swift build -c release --product gauntlet
db=$(mktemp -d)/defenses.sqlite
for spec in studies/defenses/*.yaml; do
  "$gauntlet" sweep "$spec" --db "$db" --jobs "$(nproc)"
done
baselines=(cartpole-dqn acrobot-dqn mountaincar-dqn pendulum-td3 four-rooms-dqn)
"$gauntlet" report --db "$db" --out studies/defenses/report $(for b in "${baselines[@]}"; do echo --baseline "policies/$b.safetensors"; done)
sed -n '/^## Defenses at ε\*/,/^## Return vs/p' studies/defenses/report/report.md | sed '$d'

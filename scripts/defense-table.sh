#!/usr/bin/env bash
# The README's defense table: sweeps studies/cartpole-defenses.yaml and writes its report with
# the vanilla policy as the baseline into studies/cartpole-defenses/ (report.md holds the table).
#   scripts/defense-table.sh
set -euo pipefail
cd "$(dirname "$0")/.."
gauntlet=.build/release/gauntlet
[ -x "$gauntlet" ] || swift build -c release --product gauntlet
db=$(mktemp -d)/defenses.sqlite
"$gauntlet" sweep studies/cartpole-defenses.yaml --db "$db" --jobs "$(nproc)"
"$gauntlet" report --db "$db" --out studies/cartpole-defenses --baseline policies/cartpole-dqn.safetensors
sed -n '/^## Defenses at ε\*/,/^## Return vs/p' studies/cartpole-defenses/report.md | sed '$d'

#!/usr/bin/env bash
# The full-sweep benchmark: bench/sweep-cartpole.yaml (5 attacks × 6 ε × 100 episodes on the
# shipped CartPole DQN) timed with `gauntlet sweep --jobs 2`, next to the time PyTorch + Gymnasium
# would take for the same environment steps, extrapolated from the per-step rates that
# bench/torch_attacked_eval.py measures at 16 copies with the policy's 4-256-256-2 shape (PGD-10's rate for every 10-step gradient
# attack, the no-attack rate for uniform noise and the clean episodes).
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
swift build -c release --product gauntlet >&2
source bench/python.sh
db=$(mktemp -u).sqlite
start=$(date +%s.%N)
.build/release/gauntlet sweep bench/sweep-cartpole.yaml --db "$db" --jobs 2 >&2
end=$(date +%s.%N)
rates=$("$python" bench/torch_attacked_eval.py --envs 16 --steps 8000 --repeats 3 --hidden 256 256)
"$python" - "$db" "$start" "$end" "$rates" <<'PY'
import json, sqlite3, sys
db, start, end, rates = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
rate = {json.loads(line)["attack"]: json.loads(line)["steps_per_second_median"] for line in rates.splitlines() if line.strip()}
c = sqlite3.connect(db)
rows = c.execute("""SELECT c.attack, SUM(e.attacked_return), MAX(c.clean_mean) * MAX(c.episodes)
                    FROM cells c JOIN episodes e ON e.cell_key = c.key GROUP BY c.attack""").fetchall()
def per_step(attack):
    family = attack.split(":")[0]
    return {"uniform": rate["none"], "fgsm": rate["fgsm"]}.get(family, rate["pgd"])
attacked = sum(steps / per_step(a) for a, steps, _ in rows)
clean = max(r[2] for r in rows) / rate["none"]  # CartPole's reward is 1 per step: returns count steps
gauntlet = end - start
print(json.dumps({"benchmark": "sweep", "cells": c.execute("SELECT COUNT(*) FROM cells").fetchone()[0],
                  "gauntlet_seconds": gauntlet, "torch_seconds_extrapolated": attacked + clean,
                  "ratio": (attacked + clean) / gauntlet}))
PY
rm -f "$db"

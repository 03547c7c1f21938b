#!/usr/bin/env bash
# Attacked-evaluation throughput, Gauntlet vs PyTorch + Gymnasium (one thread each): CartPole-v1,
# MLP 4-64-64-2 ReLU, 1 and 16 vectorised copies, attacks none / FGSM / PGD-10 (L∞ ε = 0.1,
# step ε/4, random start). Prints both sides' JSON lines and a Markdown table of the ratios.
#   bench/attack_vs_torch.sh            (BENCH_PYTHON: an interpreter with torch and gymnasium)
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
swift build -c release --product gauntlet >&2
source bench/python.sh
results=$(mktemp)
.build/release/gauntlet bench attack --envs 1 --envs 16 --attack none --attack fgsm --attack "pgd:steps=10,alpha_ratio=0.25" \
    --eps 0.1 --steps 20000 --repeats 3 --json | tee -a "$results"
echo >> "$results"
"$python" bench/torch_attacked_eval.py --envs 1 16 --steps 8000 --repeats 3 | tee -a "$results"
"$python" - "$results" <<'PY'
import json, sys
gauntlet, torch = {}, {}
for line in open(sys.argv[1]):
    line = line.strip()
    if not line:
        continue
    obj = json.loads(line)
    if "results" in obj:
        for r in obj["results"]:
            gauntlet[(r["attack"].split(":")[0], r["copies"])] = r
    else:
        torch[(obj["attack"], obj["copies"])] = obj
print("\n| attack | envs | Gauntlet steps/s (best / median) | PyTorch steps/s (best / median) | ratio (median) |")
print("|---|---|---|---|---|")
for key in sorted(torch):
    g, t = gauntlet[key], torch[key]
    print(f"| {key[0]} | {key[1]} | {g['steps_per_second_best']:,.0f} / {g['steps_per_second_median']:,.0f} | "
          f"{t['steps_per_second_best']:,.0f} / {t['steps_per_second_median']:,.0f} | {g['steps_per_second_median'] / t['steps_per_second_median']:.1f}× |")
PY
rm -f "$results"

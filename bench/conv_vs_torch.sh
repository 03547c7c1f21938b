#!/usr/bin/env bash
# Convolutional networks, Gauntlet vs PyTorch, one thread each, float32, in one run: forward and
# forward+backward (to the parameters and the input) of MinAtar's DQN network (10×10×4) and the
# Nature DQN network (84×84×4) at batch 32, with Gauntlet's GFLOP/s next to the sgemm peak it
# measured in the same run. Writes bench/results/conv_vs_torch.md.
#   bench/conv_vs_torch.sh [BATCH]      (BENCH_PYTHON: an interpreter with torch)
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
swift build -c release --product gauntlet >&2
source bench/python.sh
batch=${1:-32}
runs=$(mktemp)
trap 'rm -f "$runs"' EXIT
for network in minatar nature-dqn; do
    .build/release/gauntlet bench nn --network "$network" --batch "$batch" --repeats 5 --json >> "$runs"
done
"$python" bench/torch_conv.py --batch "$batch" --repeats 5 >> "$runs"
"$python" - "$runs" <<'PY' | tee bench/results/conv_vs_torch.md
import json, statistics, sys
gauntlet, torch = {}, {}
def summary(times):  # gauntlet bench nn --json keeps every sample; bench/torch_conv.py its min and median
    return {"minimum": min(times["samples"]), "median": statistics.median(times["samples"])} if "samples" in times else times
for line in open(sys.argv[1]):
    row = json.loads(line)
    (torch if row.get("library") == "torch" else gauntlet)[row["network"]] = row
version = next(iter(torch.values()))["version"]
print(f"One thread, float32, batch {next(iter(torch.values()))['batch']}; min (median) of 5 repeats; PyTorch {version}.\n")
print("| network | pass | Gauntlet | PyTorch | PyTorch / Gauntlet | Gauntlet GFLOP/s | sgemm peak GFLOP/s |")
print("|---|---|---|---|---|---|---|")
for name in ["minatar", "nature-dqn"]:
    g, t = gauntlet[name], torch[name]
    for key, label in [("forward_seconds", "forward"), ("forward_backward_seconds", "forward+backward")]:
        gs, ts = summary(g[key]), t[key]
        extra = f"{g['forward_backward_gflops']:.1f} | {g['gemm_peak_gflops']:.1f}" if key == "forward_backward_seconds" else " | "
        print(f"| {name} | {label} | {gs['minimum'] * 1e3:.3f} ms ({gs['median'] * 1e3:.3f}) | {ts['minimum'] * 1e3:.3f} ms ({ts['median'] * 1e3:.3f}) "
              f"| {ts['minimum'] / gs['minimum']:.2f}× | {extra} |")
PY

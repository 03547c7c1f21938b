#!/usr/bin/env bash
# Every benchmark in one run, one thread per process, printing each section's table:
# MLP throughput vs the sgemm peak, raw environment throughput, attacked evaluation vs PyTorch,
# the full sweep vs a PyTorch extrapolation, training vs Stable-Baselines3, scaling figures.
# The Python peers come from bench/.venv (created from PyPI on first use) or BENCH_PYTHON.
# Takes about 10 minutes on a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
swift build -c release --product gauntlet >&2
g=.build/release/gauntlet
echo "## MLP forward+backward vs sgemm peak"
$g bench nn --batch 256 --hidden 256
$g bench nn --batch 1 --hidden 64 --input 4 --output 2
echo; echo "## Environment steps per second"
$g bench env --envs 1 --envs 16
echo; echo "## Attacked evaluation vs PyTorch"
bench/attack_vs_torch.sh 2>/dev/null | sed -n '/^| attack/,$p'
echo; echo "## Full sweep vs PyTorch (extrapolated)"
bench/sweep_vs_torch.sh 2>/dev/null | tail -1
echo; echo "## Training vs Stable-Baselines3"
bench/train_vs_sb3.sh 0 1 2 2>/dev/null | sed -n '/^| algorithm/,$p'
echo; echo "## Scaling (figures in bench/results/)"
bench/scaling.sh 2>/dev/null | tail -1

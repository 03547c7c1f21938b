#!/usr/bin/env bash
# Installs what Gauntlet needs from Debian (GSL, OpenBLAS) and MuJoCo when missing, then builds
# the release binary at .build/release/gauntlet.
set -euo pipefail
cd "$(dirname "$0")"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
missing=()
for package in libgsl-dev libopenblas-dev libsqlite3-dev zlib1g-dev; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    $sudo apt-get update
    $sudo apt-get install -y "${missing[@]}"
fi
# MuJoCo 3.3.7 from its PyPI wheel into .deps/ (Debian's is too old), when missing.
scripts/install-mujoco.sh
swift build -c release --product gauntlet
echo "built $(pwd)/.build/release/gauntlet"

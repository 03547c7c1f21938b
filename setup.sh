#!/usr/bin/env bash
# Installs what Gauntlet needs from Debian (GSL, OpenBLAS) and PyPI (MuJoCo, HiGHS) when missing, builds the
# release binary at .build/release/gauntlet and puts `gauntlet` on PATH: a symlink in
# $GAUNTLET_BIN_DIR, else /usr/local/bin when writable, else ~/.local/bin (said when that
# directory is not on PATH yet).
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
# MuJoCo 3.3.7 and HiGHS 1.15.1 from their PyPI wheels into .deps/ (Debian has them too old or not at all), when missing.
scripts/install-wheel-libraries.sh
# Python with gymnasium and numpy for gym: environments (python/gauntlet_env_server.py), when missing.
scripts/install-env-server.sh
swift build -c release --product gauntlet
binary="$(pwd)/.build/release/gauntlet"
echo "built $binary"
bin_dir=${GAUNTLET_BIN_DIR:-}
if [ -z "$bin_dir" ]; then
    if [ -w /usr/local/bin ]; then bin_dir=/usr/local/bin; else bin_dir="$HOME/.local/bin"; fi
fi
mkdir -p "$bin_dir"
ln -sfn "$binary" "$bin_dir/gauntlet"
case ":$PATH:" in
*":$bin_dir:"*) echo "gauntlet is on PATH: $bin_dir/gauntlet → $binary" ;;
*)
    echo "linked $bin_dir/gauntlet → $binary; $bin_dir is not on PATH yet:"
    echo "    echo 'export PATH=\"$bin_dir:\$PATH\"' >> ~/.bashrc && export PATH=\"$bin_dir:\$PATH\""
    ;;
esac

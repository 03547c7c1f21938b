#!/usr/bin/env bash
# Makes .venv-env-server (git-ignored): a Python virtual environment with what Gauntlet's
# Gymnasium server (python/gauntlet_env_server.py) needs — gymnasium and numpy from PyPI — when
# it is missing. `gym:` environments run the server with this Python (or $GAUNTLET_PYTHON). Add
# your own environments' packages to it: .venv-env-server/bin/pip install PACKAGE. Used by
# setup.sh and .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-env-server
requirements=(gymnasium==1.2.2 numpy==2.4.6)
if [ -x "$venv/bin/python3" ] && "$venv/bin/python3" -c "import gymnasium, numpy" 2>/dev/null; then
    exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
rm -rf "$venv"
if ! python3 -m venv "$venv" >/dev/null 2>&1; then
    # Debian splits venv support (ensurepip) into its own package.
    rm -rf "$venv"
    $sudo apt-get update
    $sudo apt-get install -y python3-venv
    python3 -m venv "$venv"
fi
"$venv/bin/python3" -m pip install --quiet "${requirements[@]}"
echo "made $venv with ${requirements[*]}"

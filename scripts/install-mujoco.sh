#!/usr/bin/env bash
# Installs the MuJoCo C library 3.3.7 into .deps/mujoco-3.3.7 (git-ignored) when it is missing:
# the shared library and its headers, taken from the PyPI wheel `mujoco==3.3.7` (Debian's
# libmujoco-dev is 2.2.2, older than Gymnasium's v5 environments allow). Package.swift links it
# with an rpath to that folder, so the binaries run without environment variables and without
# Python. Used by setup.sh and .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
version=3.3.7
target=.deps/mujoco-$version
if [ -f "$target/lib/libmujoco.so.$version" ] && [ -f "$target/include/mujoco/mujoco.h" ]; then
    exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if ! python3 -m pip --version >/dev/null 2>&1; then
    $sudo apt-get update
    $sudo apt-get install -y python3-pip
fi
download=$(mktemp -d)
trap 'rm -rf "$download"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: "mujoco==$version" -d "$download"
wheel=$(ls "$download"/mujoco-$version-*.whl)
rm -rf "$target.partial"
mkdir -p "$target.partial/lib" "$target.partial/include"
python3 - "$wheel" "$target.partial" "$version" <<'PY'
import sys, zipfile, os, shutil
wheel, target, version = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name == f"mujoco/libmujoco.so.{version}":
            destination = os.path.join(target, "lib", os.path.basename(name))
        elif name.startswith("mujoco/include/mujoco/") and name.endswith(".h"):
            destination = os.path.join(target, "include", "mujoco", os.path.basename(name))
        else:
            continue
        os.makedirs(os.path.dirname(destination), exist_ok=True)
        with z.open(name) as source, open(destination, "wb") as out:
            shutil.copyfileobj(source, out)
PY
ln -sf "libmujoco.so.$version" "$target.partial/lib/libmujoco.so"
rm -rf "$target"
mv "$target.partial" "$target"
echo "installed MuJoCo $version into $(pwd)/$target"

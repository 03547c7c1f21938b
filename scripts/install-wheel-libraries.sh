#!/usr/bin/env bash
# Installs the C libraries Gauntlet takes from PyPI wheels into .deps/ (git-ignored) when missing:
# the shared library and its headers, unpacked from the wheel — no Python at run time.
#   MuJoCo 3.3.7 (wheel `mujoco`; Debian's libmujoco-dev is 2.2.2, older than Gymnasium's v5
#     environments allow) into .deps/mujoco-3.3.7;
#   HiGHS 1.15.1 (wheel `highsbox`, HiGHS's own binary distribution; Debian has no HiGHS) into
#     .deps/highs-1.15.1 — the mixed-integer solver of complete verification.
# Package.swift links both with an rpath to their folders, so the binaries run without
# environment variables. Used by setup.sh and .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

# install_wheel_library NAME VERSION WHEEL LIBRARY INCLUDE: unpacks the file LIBRARY of the wheel WHEEL==VERSION
# into .deps/NAME-VERSION/lib (with a lib<NAME>.so link) and every header under the wheel's folder
# INCLUDE into .deps/NAME-VERSION/include, keeping their paths below it.
install_wheel_library() {
    local name=$1 version=$2 wheel=$3 library=$4 include=$5
    local target=.deps/$name-$version
    if [ -f "$target/lib/lib$name.so" ] && [ -d "$target/include" ]; then return; fi
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    if ! python3 -m pip --version >/dev/null 2>&1; then
        $sudo apt-get update
        $sudo apt-get install -y python3-pip
    fi
    local download
    download=$(mktemp -d)
    python3 -m pip download --quiet --no-deps --only-binary=:all: "$wheel==$version" -d "$download"
    rm -rf "$target.partial"
    mkdir -p "$target.partial/lib" "$target.partial/include"
    python3 - "$(ls "$download"/*.whl)" "$target.partial" "$library" "$include" <<'PY'
import os, shutil, sys, zipfile
wheel, target, library, include = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    names = z.namelist()
    if library not in names:
        sys.exit(f"{wheel} has no {library}")
    for name in names:
        if name == library:
            destination = os.path.join(target, "lib", os.path.basename(name))
        elif name.startswith(include) and name.endswith((".h", ".hpp")):
            destination = os.path.join(target, "include", name[len(include):])
        else:
            continue
        os.makedirs(os.path.dirname(destination), exist_ok=True)
        with z.open(name) as source, open(destination, "wb") as out:
            shutil.copyfileobj(source, out)
PY
    rm -rf "$download"
    local file
    file=$(basename "$library")
    [ "$file" = "lib$name.so" ] || ln -sf "$file" "$target.partial/lib/lib$name.so"
    rm -rf "$target"
    mv "$target.partial" "$target"
    echo "installed $name $version into $(pwd)/$target"
}

install_wheel_library mujoco 3.3.7 mujoco mujoco/libmujoco.so.3.3.7 mujoco/include/
install_wheel_library highs 1.15.1 highsbox highsbox-1.15.1.data/purelib/highsbox/highs_dist/lib/libhighs.so \
    highsbox-1.15.1.data/purelib/highsbox/highs_dist/include/

# Sourced by the bench scripts: sets $python to an interpreter with the Python peers
# (BENCH_PYTHON if given, else bench/.venv, created from PyPI on first use).
python=${BENCH_PYTHON:-}
if [ -z "$python" ]; then
    if [ ! -x bench/.venv/bin/python ]; then
        python3 -m venv bench/.venv >&2
        bench/.venv/bin/pip install --quiet stable-baselines3 "gymnasium[mujoco]" mujoco==3.3.7 >&2
    fi
    python=bench/.venv/bin/python
    # MuJoCo came later than the first venvs: add it where it is missing.
    "$python" -c "import mujoco" 2>/dev/null || bench/.venv/bin/pip install --quiet "gymnasium[mujoco]" mujoco==3.3.7 >&2
fi

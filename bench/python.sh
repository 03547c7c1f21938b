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

# Trains CONFIG with SEED into RUN and evaluates it greedily on 100 episodes from seed 10000 + SEED:
# prints "WALL_SECONDS MEAN_RETURN".
train_and_evaluate() {
    local config=$1 seed=$2 run=$3 wall score
    wall=$("$gauntlet" train --config "$config" --seed "$seed" --output "$run" --json 2>/dev/null \
        | "$python" -c 'import json,sys; print(json.load(sys.stdin)["wall_seconds"])')
    score=$("$gauntlet" evaluate --policy "$run/policy.safetensors" --episodes 100 --seed $((10000 + seed)) --json \
        | "$python" -c 'import json,sys; print(json.load(sys.stdin)["clean"]["mean_return"])')
    echo "$wall $score"
}

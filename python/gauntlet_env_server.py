#!/usr/bin/env python3
"""Serves one Gymnasium environment to Gauntlet over standard input/output.

The protocol (version 1) is specified in python/PROTOCOL.md. Frames go over the process's
original standard output; anything the environment prints goes to standard error instead, so it
cannot corrupt a frame.

    gauntlet_env_server.py --id CartPole-v1 [--kwargs '{"render_mode": null}']
    gauntlet_env_server.py --entry-point my_package.envs:make_env [--kwargs '{"size": 8}']

Standard library, gymnasium and numpy only.
"""
import argparse
import importlib
import json
import os
import struct
import sys

PROTOCOL = 1


def write_frame(stream, kind, payload=b""):
    stream.write(struct.pack("<I", len(payload) + 1) + kind + payload)
    stream.flush()


def bounds(values):
    """A list of numbers with None for infinite bounds (JSON has no infinity)."""
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(values, dtype=np.float64).ravel()]


def describe(env, name):
    observation_space, action_space = env.observation_space, env.action_space
    if not isinstance(observation_space, gym.spaces.Box):
        raise TypeError(f"observation space {observation_space} is not a Box (Gauntlet reads real vectors and images)")
    if isinstance(action_space, gym.spaces.Discrete):
        if int(action_space.start) != 0:
            raise TypeError(f"action space {action_space} does not start at 0")
        action = {"discrete": int(action_space.n)}
    elif isinstance(action_space, gym.spaces.Box) and len(action_space.shape) == 1:
        action = {"box": {"shape": list(action_space.shape), "low": bounds(action_space.low), "high": bounds(action_space.high)}}
    else:
        raise TypeError(f"action space {action_space} is neither Discrete nor a one-dimensional Box")
    spec = env.spec
    return {
        "protocol": PROTOCOL,
        "id": name,
        "observation": {
            "shape": list(observation_space.shape),
            "low": bounds(observation_space.low),
            "high": bounds(observation_space.high),
        },
        "action": action,
        "max_episode_steps": spec.max_episode_steps if spec is not None else None,
        "state": state_labels(env),
    }


def state_labels(env):
    """Labels of the state Gauntlet may read and set, or None: MuJoCo's qpos and qvel, or a
    classic-control environment's `state` vector."""
    unwrapped = env.unwrapped
    if hasattr(unwrapped, "data") and hasattr(unwrapped, "set_state"):
        return [f"qpos[{i}]" for i in range(unwrapped.model.nq)] + [f"qvel[{i}]" for i in range(unwrapped.model.nv)]
    if getattr(unwrapped, "state", None) is None:  # classic control has a state only after a reset
        env.reset(seed=0)
    state = getattr(unwrapped, "state", None)
    if state is None or not np.issubdtype(np.asarray(state).dtype, np.number):
        return None
    return [f"state[{i}]" for i in range(np.asarray(state).size)]


def get_state(env):
    unwrapped = env.unwrapped
    if hasattr(unwrapped, "data") and hasattr(unwrapped, "set_state"):
        return np.concatenate([unwrapped.data.qpos, unwrapped.data.qvel]).astype(np.float64)
    return np.asarray(unwrapped.state, dtype=np.float64).ravel()


def set_state(env, values):
    unwrapped = env.unwrapped
    if hasattr(unwrapped, "data") and hasattr(unwrapped, "set_state"):
        nq = unwrapped.model.nq
        unwrapped.set_state(values[:nq], values[nq:])
    else:
        current = np.asarray(unwrapped.state)
        unwrapped.state = np.asarray(values, dtype=current.dtype).reshape(current.shape)
    for name in ("_get_obs", "_get_ob"):
        if hasattr(unwrapped, name):
            return getattr(unwrapped, name)()
    return np.asarray(unwrapped.state)


F32_HEADER = struct.Struct("<BI")
TRANSITION = struct.Struct("<IcdBB")  # length, 'T', reward, terminated, truncated; an observation follows
DISCRETE_ACTION = struct.Struct("<q")
RESET = struct.Struct("<BQ")
COUNT = struct.Struct("<I")


def encode_observation(observation):
    array = np.asarray(observation)
    if array.dtype == np.float64:
        return F32_HEADER.pack(8, array.size) + array.astype("<f8", copy=False).tobytes()
    return F32_HEADER.pack(4, array.size) + array.astype("<f4", copy=False).tobytes()


def decode_doubles(body):
    (count,) = COUNT.unpack_from(body, 1)
    return np.frombuffer(body, dtype="<f8", count=count, offset=5)


def serve(env, name, frames_in, frames_out):
    """Answers requests until 'Q' or the end of the input. The step path is the hot one: one read
    of the header, one of the body, one write of the reply."""
    write_frame(frames_out, b"S", json.dumps(describe(env, name)).encode())
    discrete = isinstance(env.action_space, gym.spaces.Discrete)
    action_dtype = env.action_space.dtype
    read, write, flush = frames_in.read, frames_out.write, frames_out.flush
    while True:
        header = read(4)
        if len(header) < 4:
            return
        length = int.from_bytes(header, "little")
        body = read(length)
        if length == 0 or len(body) < length:
            return
        kind = body[0]
        try:
            if kind == 0x41:  # 'A': step
                if discrete:
                    action = DISCRETE_ACTION.unpack_from(body, 1)[0]
                else:
                    (count,) = COUNT.unpack_from(body, 1)
                    action = np.frombuffer(body, dtype="<f4", count=count, offset=5).astype(action_dtype)
                observation, reward, terminated, truncated, _ = env.step(action)
                encoded = encode_observation(observation)
                write(TRANSITION.pack(11 + len(encoded), b"T", float(reward), bool(terminated), bool(truncated)) + encoded)
                flush()
            elif kind == 0x52:  # 'R': reset
                has_seed, seed = RESET.unpack_from(body, 1)
                observation, _ = env.reset(seed=int(seed) if has_seed else None)
                write_frame(frames_out, b"O", encode_observation(observation))
            elif kind == 0x47:  # 'G': read the state
                values = get_state(env)
                write_frame(frames_out, b"V", COUNT.pack(values.size) + values.astype("<f8").tobytes())
            elif kind == 0x50:  # 'P': set the state
                write_frame(frames_out, b"O", encode_observation(set_state(env, decode_doubles(body))))
            elif kind == 0x51:  # 'Q': quit
                return
            else:
                write_frame(frames_out, b"E", f"unknown request {bytes([kind])!r}".encode())
        except Exception as error:  # reported to Gauntlet, which names the env and the step
            write_frame(frames_out, b"E", f"{type(error).__name__}: {error}".encode())


def main():
    parser = argparse.ArgumentParser(description="Serve a Gymnasium environment to Gauntlet (python/PROTOCOL.md).")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", help="a registered Gymnasium id, made with gymnasium.make(ID, **kwargs)")
    which.add_argument("--entry-point", help="module:function returning an environment, called with **kwargs")
    parser.add_argument("--kwargs", default="{}", help="keyword arguments as a JSON object")
    arguments = parser.parse_args()
    # Frames use the original standard output; the environment's prints go to standard error.
    frames_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    frames_in = sys.stdin.buffer
    try:
        kwargs = json.loads(arguments.kwargs)
        if arguments.id is not None:
            name = arguments.id
            env = gym.make(arguments.id, **kwargs)
        else:
            module, _, function = arguments.entry_point.partition(":")
            name = arguments.entry_point
            env = getattr(importlib.import_module(module), function)(**kwargs)
    except Exception as error:
        write_frame(frames_out, b"E", f"cannot make the environment: {type(error).__name__}: {error}".encode())
        return 2
    try:
        serve(env, name, frames_in, frames_out)
    except Exception as error:
        write_frame(frames_out, b"E", f"{type(error).__name__}: {error}".encode())
        return 1
    finally:
        env.close()
    return 0


if __name__ == "__main__":
    try:
        import gymnasium as gym
        import numpy as np
    except ImportError as error:
        frames = os.fdopen(os.dup(1), "wb")
        write_frame(frames, b"E", f"the environment server needs gymnasium and numpy: {error} (./setup.sh installs them into .venv-env-server)".encode())
        sys.exit(2)
    sys.exit(main())

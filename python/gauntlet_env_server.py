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


def read_exactly(stream, count):
    data = b""
    while len(data) < count:
        chunk = stream.read(count - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def read_frame(stream):
    header = read_exactly(stream, 4)
    if header is None:
        return None, None
    (length,) = struct.unpack("<I", header)
    body = read_exactly(stream, length)
    if body is None or length == 0:
        return None, None
    return body[:1], body[1:]


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


def encode_observation(observation):
    array = np.asarray(observation)
    if array.dtype == np.float64:
        return struct.pack("<BI", 8, array.size) + array.astype("<f8").tobytes()
    return struct.pack("<BI", 4, array.size) + array.astype("<f4").tobytes()


def decode_doubles(payload):
    (count,) = struct.unpack_from("<I", payload)
    return np.frombuffer(payload, dtype="<f8", count=count, offset=4)


def serve(env, name, frames_in, frames_out):
    write_frame(frames_out, b"S", json.dumps(describe(env, name)).encode())
    discrete = isinstance(env.action_space, gym.spaces.Discrete)
    while True:
        kind, payload = read_frame(frames_in)
        if kind is None or kind == b"Q":
            return
        try:
            if kind == b"R":
                has_seed, seed = struct.unpack("<BQ", payload)
                observation, _ = env.reset(seed=int(seed) if has_seed else None)
                write_frame(frames_out, b"O", encode_observation(observation))
            elif kind == b"A":
                if discrete:
                    (index,) = struct.unpack("<q", payload)
                    action = int(index)
                else:
                    (count,) = struct.unpack_from("<I", payload)
                    action = np.frombuffer(payload, dtype="<f4", count=count, offset=4).astype(env.action_space.dtype)
                observation, reward, terminated, truncated, _ = env.step(action)
                write_frame(
                    frames_out, b"T",
                    struct.pack("<dBB", float(reward), bool(terminated), bool(truncated)) + encode_observation(observation))
            elif kind == b"G":
                values = get_state(env)
                write_frame(frames_out, b"V", struct.pack("<I", values.size) + values.astype("<f8").tobytes())
            elif kind == b"P":
                write_frame(frames_out, b"O", encode_observation(set_state(env, decode_doubles(payload))))
            else:
                write_frame(frames_out, b"E", f"unknown request {kind!r}".encode())
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

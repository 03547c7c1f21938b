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
import platform
import struct
import sys
import time

PROTOCOL = 1


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
        "shared_memory": shared_memory_offered(),
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


class PipeFrames:
    """Frames over the process's standard input and output."""

    def __init__(self, frames_in, frames_out):
        self.read, self.write, self.flush = frames_in.read, frames_out.write, frames_out.flush

    def receive(self):
        """The next request's kind byte and payload as one bytes object, or None at the end."""
        header = self.read(4)
        if len(header) < 4:
            return None
        length = int.from_bytes(header, "little")
        body = self.read(length)
        return body if length > 0 and len(body) == length else None

    def send(self, frame):
        self.write(frame)
        self.flush()


class SharedMemoryFrames:
    """Frames through a memory file shared with Gauntlet (PROTOCOL.md, "Shared memory"): a
    request counter at byte 0 and a reply counter at byte 64, each raised after its frame is
    written (x86-64 keeps stores in order, which is why only x86-64 Linux offers this), waiters
    spinning while the frame is expected soon, then sleeping on the counter with a Linux futex."""

    REQUESTS, SERVER_SLEEPING, REPLIES, GAUNTLET_SLEEPING, AREAS = 0, 4, 64, 68, 128
    LONGEST_SPIN = 0.001
    SLEEP = 0.1  # seconds between checks that Gauntlet still holds the other end of the input

    def __init__(self, path, capacity, frames_in):
        import ctypes
        import mmap
        import select

        descriptor = os.open(path, os.O_RDWR)
        try:
            self.map = mmap.mmap(descriptor, self.AREAS + 2 * capacity)
        finally:
            os.close(descriptor)
        self.capacity = capacity
        self.requests = ctypes.c_uint32.from_buffer(self.map, self.REQUESTS)
        self.replies = ctypes.c_uint32.from_buffer(self.map, self.REPLIES)
        self.sleeping = ctypes.c_uint32.from_buffer(self.map, self.SERVER_SLEEPING)
        self.gauntlet_sleeping = ctypes.c_uint32.from_buffer(self.map, self.GAUNTLET_SLEEPING)
        self.seen = self.requests.value
        self.typical_gap = 50e-6
        self.longest_spin = self.LONGEST_SPIN if len(os.sched_getaffinity(0)) > 1 else 0
        syscall = ctypes.CDLL(None, use_errno=True).syscall
        syscall.restype = ctypes.c_long
        futex, wait, wake = 202, 0, 1  # x86-64 Linux: SYS_futex, FUTEX_WAIT, FUTEX_WAKE (shared)
        requests_address = ctypes.c_void_p(ctypes.addressof(self.requests))
        replies_address = ctypes.c_void_p(ctypes.addressof(self.replies))
        timeout = ctypes.c_long * 2
        sleep = timeout(0, int(self.SLEEP * 1e9))
        self.futex_wait = lambda expected: syscall(futex, requests_address, wait, ctypes.c_uint32(expected), ctypes.byref(sleep), None, 0)
        self.futex_wake = lambda: syscall(futex, replies_address, wake, 0x7FFFFFFF, None, None, 0)
        self.input_closed = lambda: bool(select.select([frames_in], [], [], 0)[0])

    def receive(self):
        """Waits for the next request: spinning while it is expected soon (twice the typical gap
        between a reply and the next request, if at most LONGEST_SPIN; never on one CPU), then
        sleeping on the request counter."""
        seen, requests, clock = self.seen, self.requests, time.perf_counter
        start = clock()
        if requests.value == seen:
            spin_until = start + (2 * self.typical_gap if 2 * self.typical_gap <= self.longest_spin else 0)
            while requests.value == seen and clock() < spin_until:
                pass
            # The kernel reads the counter only after this store is visible (it locks first), so
            # Gauntlet either sees this side asleep and wakes it or its new count stops the sleep.
            self.sleeping.value = 1
            while requests.value == seen:
                self.futex_wait(seen)
                if requests.value == seen and self.input_closed():
                    return None  # Gauntlet closed the input (or wrote to it): the end, as on the pipe
            self.sleeping.value = 0
        self.typical_gap += (clock() - start - self.typical_gap) / 8
        self.seen = requests.value
        (length,) = COUNT.unpack_from(self.map, self.AREAS)
        if not 0 < length <= self.capacity - 4:
            return None
        return self.map[self.AREAS + 4 : self.AREAS + 4 + length]

    def send(self, frame):
        if len(frame) > self.capacity:  # only an error message can be longer: cut it to fit
            frame = COUNT.pack(self.capacity - 4) + frame[4 : self.capacity]
        start = self.AREAS + self.capacity
        self.map[start : start + len(frame)] = frame
        self.replies.value = (self.replies.value + 1) & 0xFFFFFFFF
        if self.gauntlet_sleeping.value:  # without a fence, rarely missed: Gauntlet sleeps in slices
            self.futex_wake()


def shared_memory_offered():
    """Whether this server can use the shared-memory transport: x86-64 Linux (see SharedMemoryFrames)."""
    return sys.platform == "linux" and platform.machine() in ("x86_64", "AMD64")


def frame(kind, payload=b""):
    return struct.pack("<I", len(payload) + 1) + kind + payload


def serve(env, name, frames):
    """Answers requests until 'Q' or the end of the input. The step path is the hot one: one
    request in, one reply out."""
    frames.send(frame(b"S", json.dumps(describe(env, name)).encode()))
    discrete = isinstance(env.action_space, gym.spaces.Discrete)
    action_dtype = env.action_space.dtype
    while True:
        body = frames.receive()
        if body is None:
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
                frames.send(TRANSITION.pack(11 + len(encoded), b"T", float(reward), bool(terminated), bool(truncated)) + encoded)
            elif kind == 0x52:  # 'R': reset
                has_seed, seed = RESET.unpack_from(body, 1)
                observation, _ = env.reset(seed=int(seed) if has_seed else None)
                frames.send(frame(b"O", encode_observation(observation)))
            elif kind == 0x47:  # 'G': read the state
                values = get_state(env)
                frames.send(frame(b"V", COUNT.pack(values.size) + values.astype("<f8").tobytes()))
            elif kind == 0x50:  # 'P': set the state
                frames.send(frame(b"O", encode_observation(set_state(env, decode_doubles(body)))))
            elif kind == 0x4D and isinstance(frames, PipeFrames) and shared_memory_offered():  # 'M': shared memory
                (capacity,) = COUNT.unpack_from(body, 1)
                shared = SharedMemoryFrames(bytes(body[5:]).decode(), capacity, sys.stdin.buffer)
                frames.send(frame(b"K"))
                frames = shared
            elif kind == 0x51:  # 'Q': quit
                return
            else:
                frames.send(frame(b"E", f"unknown request {bytes([kind])!r}".encode()))
        except Exception as error:  # reported to Gauntlet, which names the env and the step
            frames.send(frame(b"E", f"{type(error).__name__}: {error}".encode()))


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
    frames = PipeFrames(sys.stdin.buffer, frames_out)
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
        frames.send(frame(b"E", f"cannot make the environment: {type(error).__name__}: {error}".encode()))
        return 2
    try:
        serve(env, name, frames)
    except Exception as error:  # on the pipe, where Gauntlet also looks while frames go through shared memory
        frames.send(frame(b"E", f"{type(error).__name__}: {error}".encode()))
        return 1
    finally:
        env.close()
    return 0


if __name__ == "__main__":
    try:
        import gymnasium as gym
        import numpy as np
    except ImportError as error:
        PipeFrames(sys.stdin.buffer, sys.stdout.buffer).send(frame(b"E", f"the environment server needs gymnasium and numpy: {error} (./setup.sh installs them into .venv-env-server)".encode()))
        sys.exit(2)
    sys.exit(main())

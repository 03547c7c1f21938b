#!/usr/bin/env python3
"""A protocol-speaking environment server (python/PROTOCOL.md) with faults on demand, for
Gauntlet's tests of the bridge's error handling. Standard library only; its frames travel as
the shipped server's do (its PipeFrames and SharedMemoryFrames).

    fake_env_server.py MODE [STEP [TRANSPORT]]

A one-dimensional walk: observation [position], actions 0 (left) and 1 (right), reward 1 per
step, terminated at |position| >= 5, no state access. MODE: `ok`; `crash` (exit 3 at step STEP);
`malformed` (garbage instead of the reply to step STEP); `hang` (no reply to step STEP);
`wrong-size` (a two-value observation at step STEP); `error` (an error frame at step STEP);
`no-description` (exit before describing itself); `bad-protocol` (claims version 99).
TRANSPORT: `pipes` (the default) or `shared-memory` (offered in the description, taken on `M`).
"""
import json
import os
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from gauntlet_env_server import COUNT, PipeFrames, SharedMemoryFrames, frame  # noqa: E402

mode = sys.argv[1]
fault_step = int(sys.argv[2]) if len(sys.argv) > 2 else 3
offers_shared_memory = len(sys.argv) > 3 and sys.argv[3] == "shared-memory"
frames = PipeFrames(sys.stdin.buffer, sys.stdout.buffer)


def observation(values):
    return struct.pack("<BI", 4, len(values)) + struct.pack(f"<{len(values)}f", *values)


if mode == "no-description":
    sys.exit(4)
description = {
    "protocol": 99 if mode == "bad-protocol" else 1,
    "id": "walk",
    "observation": {"shape": [1], "low": [-5.0], "high": [5.0]},
    "action": {"discrete": 2},
    "max_episode_steps": 20,
    "state": None,
    "shared_memory": offers_shared_memory,
}
frames.send(frame(b"S", json.dumps(description).encode()))
position, steps = 0.0, 0
while True:
    body = frames.receive()
    if body is None:
        break
    kind, payload = body[:1], body[1:]
    if kind == b"Q":
        break
    if kind == b"M":
        (capacity,) = COUNT.unpack_from(payload, 0)
        shared = SharedMemoryFrames(bytes(payload[4:]).decode(), capacity, sys.stdin.buffer)
        frames.send(frame(b"K"))
        frames = shared
    elif kind == b"R":
        position, steps = 0.0, 0
        frames.send(frame(b"O", observation([position])))
    elif kind == b"A":
        steps += 1
        if steps == fault_step and mode == "crash":
            sys.exit(3)
        if steps == fault_step and mode == "malformed":
            frames.send(b"this is not a frame")
            continue
        if steps == fault_step and mode == "hang":
            time.sleep(3600)
        if steps == fault_step and mode == "error":
            frames.send(frame(b"E", b"ValueError: the walk broke"))
            continue
        (action,) = struct.unpack("<q", payload)
        position += 1.0 if action == 1 else -1.0
        values = [position, 0.0] if steps == fault_step and mode == "wrong-size" else [position]
        frames.send(frame(b"T", struct.pack("<dBB", 1.0, abs(position) >= 5, False) + observation(values)))

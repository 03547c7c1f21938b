#!/usr/bin/env python3
"""A protocol-speaking environment server (python/PROTOCOL.md) with faults on demand, for
Gauntlet's tests of the bridge's error handling. Standard library only.

    fake_env_server.py MODE [STEP]

A one-dimensional walk: observation [position], actions 0 (left) and 1 (right), reward 1 per
step, terminated at |position| >= 5, no state access. MODE: `ok`; `crash` (exit 3 at step STEP);
`malformed` (garbage instead of the reply to step STEP); `hang` (no reply to step STEP);
`wrong-size` (a two-value observation at step STEP); `error` (an error frame at step STEP);
`no-description` (exit before describing itself); `bad-protocol` (claims version 99).
"""
import json
import struct
import sys
import time

mode = sys.argv[1]
fault_step = int(sys.argv[2]) if len(sys.argv) > 2 else 3
out = sys.stdout.buffer
inp = sys.stdin.buffer


def frame(kind, payload=b""):
    out.write(struct.pack("<I", len(payload) + 1) + kind + payload)
    out.flush()


def observation(values):
    return struct.pack("<BI", 4, len(values)) + struct.pack(f"<{len(values)}f", *values)


def read(count):
    data = inp.read(count)
    return data if len(data) == count else None


if mode == "no-description":
    sys.exit(4)
description = {
    "protocol": 99 if mode == "bad-protocol" else 1,
    "id": "walk",
    "observation": {"shape": [1], "low": [-5.0], "high": [5.0]},
    "action": {"discrete": 2},
    "max_episode_steps": 20,
    "state": None,
}
frame(b"S", json.dumps(description).encode())
position, steps = 0.0, 0
while True:
    header = read(4)
    if header is None:
        break
    body = read(struct.unpack("<I", header)[0])
    kind, payload = body[:1], body[1:]
    if kind == b"Q":
        break
    if kind == b"R":
        position, steps = 0.0, 0
        frame(b"O", observation([position]))
    elif kind == b"A":
        steps += 1
        if steps == fault_step and mode == "crash":
            sys.exit(3)
        if steps == fault_step and mode == "malformed":
            out.write(b"this is not a frame")
            out.flush()
            continue
        if steps == fault_step and mode == "hang":
            time.sleep(3600)
        if steps == fault_step and mode == "error":
            frame(b"E", b"ValueError: the walk broke")
            continue
        (action,) = struct.unpack("<q", payload)
        position += 1.0 if action == 1 else -1.0
        values = [position, 0.0] if steps == fault_step and mode == "wrong-size" else [position]
        frame(b"T", struct.pack("<dBB", 1.0, abs(position) >= 5, False) + observation(values))

#!/usr/bin/env python3
"""Gymnasium environments stepped directly in Python under random actions (drawn in advance,
reset when an episode ends), one thread: the Python side of bench/mujoco_envs.sh and
bench/env_bridge.sh. Prints one JSON object per environment: {"library": "gymnasium",
"environment", "steps", "seconds": [...], "steps_per_second"} (from the fastest repeat).

    python3 bench/gymnasium_envs.py --env Hopper-v5 --steps 20000 --repeats 3
"""
import argparse
import json
import time

import gymnasium as gym
import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--env", action="append", required=True)
parser.add_argument("--steps", type=int, default=20000)
parser.add_argument("--repeats", type=int, default=3)
args = parser.parse_args()

for env_id in args.env:
    env = gym.make(env_id)
    rng = np.random.default_rng(0)
    if isinstance(env.action_space, gym.spaces.Discrete):
        actions = [int(a) for a in rng.integers(0, env.action_space.n, size=args.steps)]
    else:
        actions = rng.uniform(env.action_space.low, env.action_space.high,
                              size=(args.steps,) + env.action_space.shape).astype(np.float32)
    seconds = []
    for _ in range(args.repeats):
        env.reset(seed=0)
        start = time.perf_counter()
        for action in actions:
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()
        seconds.append(time.perf_counter() - start)
    print(json.dumps({"library": "gymnasium", "environment": env_id, "steps": args.steps, "seconds": seconds,
                      "steps_per_second": args.steps / min(seconds)}))

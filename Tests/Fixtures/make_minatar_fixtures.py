#!/usr/bin/env python3
"""Records MinAtar trajectories (the `minatar` package from PyPI, through its Gymnasium
registration) for Gauntlet's parity tests of its native MinAtar games.

    pip install minatar==1.0.15 gymnasium numpy
    python3 Tests/Fixtures/make_minatar_fixtures.py

For each game and each trajectory: a freshly made environment (`MinAtar/<Game>-v1`, minimal
actions, or `-v0`, all six), reset with a seed, then a fixed sequence of actions (uniform over
the action space, from NumPy's generator seeded 1000 + seed); when an episode ends the
environment is reset without a seed and play continues, as Gymnasium's auto-reset does, so the
random stream (sticky actions and the game's own draws share it) runs on across episodes.
In Freeway 80% of the actions are 'up' (random play never crosses the road).

Writes minatar_trajectories.json next to this script: {game: [trajectory]}, a trajectory being
{"id", "seed", "steps", "actions" (one digit each), "rewards" (the non-zero ones by step),
"terminated" (the steps that ended an episode), "observations"} — the observation
after the reset and after every step, each the 10×10×n grid in NumPy's C order (row, column,
channel) packed into bits (numpy.packbits) and written in base64 — or, for the long
trajectories (`"checksums"` instead of `"observations"`), the CRC-32 of each packed grid.
"""
import base64
import json
import os
import zlib

import gymnasium as gym
import numpy as np
from minatar.gym import register_envs

HERE = os.path.dirname(os.path.abspath(__file__))
register_envs()

GAMES = ["Asterix", "Breakout", "Freeway", "Seaquest", "SpaceInvaders"]


def packed(observation):
    return np.packbits(np.asarray(observation, dtype=bool).reshape(-1))


def record(game, version, seed, steps, full, up=None):
    env = gym.make(f"MinAtar/{game}-{version}").unwrapped  # no wrappers: the package's own semantics
    random = np.random.default_rng(1000 + seed)
    actions = random.integers(0, env.action_space.n, size=steps)
    if up is not None:  # Freeway: mostly up, or the chicken never crosses and scores
        up_action = env.action_set.index(2)  # MinAtar's action 2 is 'u'
        actions = np.where(random.random(steps) < up, up_action, actions)
    actions = actions.tolist()
    observation, _ = env.reset(seed=seed)
    grids, rewards, terminated = [packed(observation)], [], []
    for action in actions:
        observation, reward, done, _, _ = env.step(action)
        rewards.append(float(reward))
        terminated.append(bool(done))
        grids.append(packed(observation))
        if done:
            observation, _ = env.reset()
            grids.append(packed(observation))
    trajectory = {"id": f"MinAtar/{game}-{version}", "seed": seed, "steps": steps, "actions": "".join(map(str, actions)),
                  "rewards": {str(k): r for k, r in enumerate(rewards) if r != 0},
                  "terminated": [k for k, done in enumerate(terminated) if done]}
    if full:
        trajectory["observations"] = [base64.b64encode(g.tobytes()).decode() for g in grids]
    else:
        trajectory["checksums"] = [zlib.crc32(g.tobytes()) for g in grids]
    return trajectory


fixtures = {}
for game in GAMES:
    up = 0.8 if game == "Freeway" else None
    fixtures[game] = [
        record(game, "v1", 0, 200, full=True, up=up),
        record(game, "v1", 7, 200, full=True, up=up),
        record(game, "v0", 123456789, 200, full=True, up=up),
        record(game, "v1", 2026, 5000, full=False, up=up),  # long enough for the difficulty to ramp
    ]

with open(os.path.join(HERE, "minatar_trajectories.json"), "w") as f:
    json.dump(fixtures, f, separators=(",", ":"))
    f.write("\n")

#!/usr/bin/env python3
"""Records MuJoCo v5 trajectories with Gymnasium for Gauntlet's parity tests.

    python3 -m venv /tmp/mjvenv && /tmp/mjvenv/bin/pip install "gymnasium[mujoco]==1.4.0" mujoco==3.3.7
    /tmp/mjvenv/bin/python Tests/Fixtures/make_mujoco_fixtures.py

For every environment, with its default arguments: episodes from the state reset(seed) draws and
from a wider state set with set_state, played with random actions (a tenth beyond the bounds, so
MuJoCo's control clamping and the control cost of the unclamped action are exercised) and with
smooth sinusoidal actions, and with zero actions, into termination or into truncation (a short TimeLimit, given in the
fixture). Each episode records the state (qpos, qvel) it starts from, the initial observation and
every step's action, observation, reward and flags. Gauntlet's test sets the same state (its own
reset draws from the same distribution with its own random numbers) and must reproduce every
observation and reward within 1e-6 and every flag exactly.
"""
import json
import os

import gymnasium as gym
import mujoco
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261202)

ENVIRONMENTS = [
    "Hopper-v5",
    "Walker2d-v5",
    "HalfCheetah-v5",
    "Ant-v5",
    "InvertedPendulum-v5",
    "InvertedDoublePendulum-v5",
    "Swimmer-v5",
    "Reacher-v5",
]


def random_actions(space):
    return lambda t: rng.uniform(space.low * 1.1, space.high * 1.1).astype(np.float32)


def smooth_actions(space):
    phases = rng.uniform(0, 2 * np.pi, size=space.shape)
    return lambda t: (space.high * np.sin(0.3 * t + phases)).astype(np.float32)


def zero_actions(space):
    return lambda t: np.zeros(space.shape, dtype=np.float32)


def record(env_id, policy_name, seed, limit, widen):
    env = gym.make(env_id, max_episode_steps=limit)
    obs, _ = env.reset(seed=seed)
    base = env.unwrapped
    if widen > 0:
        qpos = base.data.qpos + rng.uniform(-widen, widen, size=base.model.nq)
        qvel = base.data.qvel + rng.uniform(-widen, widen, size=base.model.nv)
        base.set_state(qpos, qvel)
        obs = base._get_obs()
    state = {"qpos": [float(v) for v in base.data.qpos], "qvel": [float(v) for v in base.data.qvel]}
    initial_observation = [float(v) for v in obs]
    policy = {"random": random_actions, "smooth": smooth_actions, "zero": zero_actions}[policy_name](env.action_space)
    steps = []
    t = 0
    while True:
        action = policy(t)
        obs, reward, terminated, truncated, _ = env.step(action)
        steps.append(
            {
                "action": [float(a) for a in action],
                "observation": [float(v) for v in obs],
                "reward": float(reward),
                "terminated": bool(terminated),
                "truncated": bool(truncated),
            }
        )
        t += 1
        if terminated or truncated:
            break
    env.close()
    return {
        "policy": policy_name,
        "max_episode_steps": limit,
        "state": state,
        "initial_observation": initial_observation,
        "steps": steps,
    }


fixtures = {
    "gymnasium_version": gym.__version__,
    "mujoco_version": mujoco.__version__,
    "numpy_version": np.__version__,
    "environments": {},
}
for env_id in ENVIRONMENTS:
    episodes = []
    for seed, policy, limit, widen in [
        (0, "random", 150, 0.0),
        (1, "smooth", 150, 0.0),
        (2, "random", 150, 0.1),
        (3, "smooth", 150, 0.1),
        (4, "zero", 3, 0.0),
    ]:
        episodes.append(record(env_id, policy, seed, limit, widen))
    fixtures["environments"][env_id] = episodes
    outcomes = [("T" if e["steps"][-1]["terminated"] else "") + ("t" if e["steps"][-1]["truncated"] else "") for e in episodes]
    print(env_id, [len(e["steps"]) for e in episodes], outcomes)

with open(os.path.join(HERE, "gymnasium_mujoco.json"), "w") as f:
    json.dump(fixtures, f, separators=(",", ":"))
    f.write("\n")

#!/usr/bin/env python3
"""Records classic-control trajectories with Gymnasium for Gauntlet's parity tests.

    pip install gymnasium numpy
    python3 Tests/Fixtures/make_gymnasium_fixtures.py

For every environment: several episodes, with random actions and with a simple controller,
running into termination and into truncation (the TimeLimit of gymnasium.make). Each episode
records the internal state right after reset (env.unwrapped.state), the initial observation,
and for every step the action, observation, reward and flags. Gauntlet's test sets the same
internal state after its own reset (its reset draws from the same distribution with its own
random numbers) and must reproduce every observation within 1e-5 and every reward within 1e-6.
"""
import json
import math
import os

import gymnasium as gym
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261125)


def cartpole_controller(obs):
    return int(obs[2] + 0.5 * obs[3] + 0.01 * obs[1] > 0)


def mountain_car_controller(obs):
    return 2 if obs[1] >= 0 else 0


def mountain_car_continuous_controller(obs):
    # Pushes along the velocity, with magnitudes beyond the action bounds to exercise clipping.
    return np.array([1.3 if obs[1] >= 0 else -1.2], dtype=np.float32)


def acrobot_controller(obs):
    # Torque along the second joint's velocity pumps energy in: the tip swings up in ~100 steps.
    return 2 if obs[5] >= 0 else 0


def pendulum_controller(obs):
    cos_th, sin_th, thdot = obs
    th = math.atan2(sin_th, cos_th)
    energy = 0.5 * thdot**2 + 10.0 * (cos_th - 1) * 1.5
    if cos_th > 0.9:
        u = -8.0 * th - 1.5 * thdot
    else:
        u = 2.5 * np.sign(thdot * energy if energy < 0 else -thdot)
    return np.array([u], dtype=np.float32)


def random_action(env):
    space = env.action_space
    if isinstance(space, gym.spaces.Discrete):
        return int(rng.integers(space.n))
    low, high = space.low * 1.25, space.high * 1.25  # a quarter beyond the bounds: clipping
    return rng.uniform(low, high).astype(np.float32)


def as_json_action(action):
    return action if isinstance(action, int) else [float(a) for a in action]


def record(env_id, policy, seed, reset_options=None):
    env = gym.make(env_id)
    obs, _ = env.reset(seed=seed, options=reset_options)
    state = [float(v) for v in np.asarray(env.unwrapped.state, dtype=np.float64)]
    steps = []
    while True:
        action = policy(env, obs)
        obs, reward, terminated, truncated, _ = env.step(action)
        steps.append(
            {
                "action": as_json_action(action),
                "observation": [float(v) for v in obs],
                "reward": float(reward),
                "terminated": bool(terminated),
                "truncated": bool(truncated),
            }
        )
        if terminated or truncated:
            break
    env.close()
    return {"seed": seed, "initial_state": state, "steps": steps}


CONTROLLERS = {
    "CartPole-v1": cartpole_controller,
    "MountainCar-v0": mountain_car_controller,
    "MountainCarContinuous-v0": mountain_car_continuous_controller,
    "Acrobot-v1": acrobot_controller,
    "Pendulum-v1": pendulum_controller,
}

fixtures = {"gymnasium_version": gym.__version__, "numpy_version": np.__version__, "environments": {}}
for env_id, controller in CONTROLLERS.items():
    episodes = []
    for seed in range(3):
        episodes.append({"policy": "random", **record(env_id, lambda env, obs: random_action(env), seed)})
    for seed in range(3, 5):
        episodes.append({"policy": "controller", **record(env_id, lambda env, obs: controller(obs), seed)})
    # Initial observations: reset(seed) again and keep what it returned.
    for episode in episodes:
        env = gym.make(env_id)
        obs, _ = env.reset(seed=episode["seed"])
        episode["initial_observation"] = [float(v) for v in obs]
        env.close()
    fixtures["environments"][env_id] = episodes
    outcomes = [("T" if e["steps"][-1]["terminated"] else "") + ("t" if e["steps"][-1]["truncated"] else "") for e in episodes]
    print(env_id, [len(e["steps"]) for e in episodes], outcomes)

with open(os.path.join(HERE, "gymnasium_classic_control.json"), "w") as f:
    json.dump(fixtures, f, separators=(",", ":"))
    f.write("\n")

#!/usr/bin/env python3
"""Generates the fixtures of Gauntlet's import of Stable-Baselines3 MuJoCo models: model zips
written by SB3's own `model.save`, the `VecNormalize` statistics written by SB3's own
`VecNormalize.save`, and the actions SB3's `predict(deterministic=True)` takes on the normalised
observations, independently of Gauntlet's code.

    pip install "gymnasium[mujoco]==1.4.0" mujoco==3.3.7 stable-baselines3 torch
    python3 Tests/Fixtures/make_sb3_mujoco_fixtures.py

Writes, next to this script:
  sb3_<algo>_<env>.zip              models trained briefly with VecNormalize (the weights need not
                                    be good, only real)
  sb3_<algo>_<env>_vecnormalize.pkl their observation statistics, as VecNormalize.save writes them
  sb3_mujoco_models.json            per model: raw observations, their normalisation by SB3, and
                                    SB3's deterministic actions on the normalised observations
"""
import json
import os

import numpy as np
import torch
from stable_baselines3 import PPO, SAC, TD3
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecNormalize

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(11)

MODELS = [
    ("ppo", "Hopper-v5", lambda env: PPO("MlpPolicy", env, policy_kwargs=dict(net_arch=dict(pi=[32, 32], vf=[32]),
                                         log_std_init=-1.0), n_steps=256, batch_size=64, n_epochs=2, seed=1), 512),
    ("sac", "HalfCheetah-v5", lambda env: SAC("MlpPolicy", env, policy_kwargs=dict(net_arch=[32, 32]),
                                              learning_starts=100, seed=1), 300),
    ("td3", "Walker2d-v5", lambda env: TD3("MlpPolicy", env, policy_kwargs=dict(net_arch=[32, 32]),
                                           learning_starts=100, seed=1), 300),
]

fixtures = {}
for algo, env_id, make, steps in MODELS:
    env = VecNormalize(make_vec_env(env_id, n_envs=1, seed=2), norm_obs=True, norm_reward=True, clip_obs=10.0)
    model = make(env)
    model.learn(steps)
    name = f"sb3_{algo}_{env_id.split('-')[0].lower()}"
    model.save(os.path.join(HERE, name + ".zip"))
    env.save(os.path.join(HERE, name + "_vecnormalize.pkl"))

    loaded = type(model).load(os.path.join(HERE, name + ".zip"), device="cpu")
    statistics = VecNormalize.load(os.path.join(HERE, name + "_vecnormalize.pkl"), make_vec_env(env_id, n_envs=1))
    statistics.training = False
    rollout = make_vec_env(env_id, n_envs=1, seed=5)
    raw = [rollout.reset()[0]]
    for _ in range(7):
        obs, _, _, _ = rollout.step(np.array([rollout.action_space.sample()]))
        raw.append(obs[0])
    raw = np.array(raw, dtype=np.float64)
    raw[-1] *= 40.0  # far outside the statistics: exercises the clipping at ±clip_obs
    normalised = statistics.normalize_obs(raw).astype(np.float32)
    actions, _ = loaded.predict(normalised, deterministic=True)
    fixtures[name] = {
        "environment": env_id,
        "observations": raw.tolist(),
        "normalized_observations": normalised.tolist(),
        "actions": np.asarray(actions).tolist(),
    }

with open(os.path.join(HERE, "sb3_mujoco_models.json"), "w") as f:
    json.dump(fixtures, f, indent=1)
    f.write("\n")

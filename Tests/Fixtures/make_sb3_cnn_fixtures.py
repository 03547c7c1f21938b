#!/usr/bin/env python3
"""Generates the fixtures of Gauntlet's import of Stable-Baselines3 `CnnPolicy` models: DQN and
PPO with SB3's NatureCNN, trained briefly by SB3 itself on `bridge_entry_point.Frames` (36×36
grayscale frames, four stacked by VecFrameStack and moved channels first by the
VecTransposeImage SB3 adds), saved with `model.save`, and the outputs SB3's own torch modules
compute for observations from that pipeline — independently of Gauntlet's code.

    pip install stable-baselines3 gymnasium torch
    python3 Tests/Fixtures/make_sb3_cnn_fixtures.py

Writes, next to this script: sb3_dqn_frames.zip, sb3_ppo_frames.zip, and sb3_cnn_models.json
(per model: uint8 observations `[4, 36, 36]` flattened, SB3's deterministic actions, Q-values or
logits, and PPO's values). It also checks that Gymnasium's FrameStackObservation over the
channel-less frames (bridge_entry_point.make_frames, the environment Gauntlet's tests use)
gives exactly the observations SB3's wrappers gave.
"""
import json
import os
import sys

import numpy as np
import torch
from stable_baselines3 import DQN, PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecFrameStack, VecTransposeImage

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bridge_entry_point import Frames, make_frames  # noqa: E402

torch.manual_seed(7)
KWARGS = dict(features_extractor_kwargs=dict(features_dim=32))


def sb3_env(seed):
    env = VecFrameStack(make_vec_env(Frames, n_envs=1, seed=seed), n_stack=4)
    return VecTransposeImage(env)


def sb3_observations(seed, count=8):
    """Observations of SB3's pipeline under a fixed action sequence, and the same through
    Gymnasium's FrameStackObservation (which must agree)."""
    env = sb3_env(seed)
    stacked = make_frames()
    obs = env.reset()
    mirror, _ = stacked.reset(seed=seed)
    result = []
    for t in range(count):
        assert obs.shape == (1, 4, 36, 36) and np.array_equal(obs[0], mirror), f"frame stacks differ at step {t}"
        result.append(obs[0].copy())
        action = t % 3
        obs, _, _, _ = env.step(np.array([action]))
        mirror, _, _, _, _ = stacked.step(action)
    return np.array(result)


MODELS = [
    ("dqn", lambda env: DQN("CnnPolicy", env, policy_kwargs=KWARGS, buffer_size=1000, learning_starts=50,
                            train_freq=4, seed=1), 300),
    ("ppo", lambda env: PPO("CnnPolicy", env, policy_kwargs=KWARGS, n_steps=64, batch_size=32, n_epochs=2,
                            seed=1), 128),
]

fixtures = {}
for algo, make, steps in MODELS:
    model = make(sb3_env(seed=1))
    model.learn(steps)
    name = f"sb3_{algo}_frames"
    model.save(os.path.join(HERE, name + ".zip"))
    obs = sb3_observations(seed=11)
    policy = model.policy
    x = torch.as_tensor(obs)
    with torch.no_grad():
        if algo == "dqn":
            outputs, values = policy.q_net(x).numpy(), None
        else:
            features = policy.extract_features(x)  # divides by 255 inside
            latent_pi, latent_vf = policy.mlp_extractor(features)
            outputs, values = policy.action_net(latent_pi).numpy(), policy.value_net(latent_vf).numpy()[:, 0]
    actions, _ = model.predict(obs, deterministic=True)
    fixtures[name] = {
        "environment": "frames",
        "observations": obs.reshape(len(obs), -1).astype(int).tolist(),
        "outputs": outputs.astype(float).tolist(),
        "values": None if values is None else values.astype(float).tolist(),
        "actions": [int(a) for a in actions],
    }

with open(os.path.join(HERE, "sb3_cnn_models.json"), "w") as f:
    json.dump(fixtures, f)

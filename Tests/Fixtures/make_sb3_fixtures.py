#!/usr/bin/env python3
"""Generates the Stable-Baselines3 and torch.save fixtures of Gauntlet's import tests: real model
zips written by SB3's own `model.save`, and the outputs SB3's policies compute for fixed
observations, independently of Gauntlet's code.

    pip install stable-baselines3 gymnasium torch
    python3 Tests/Fixtures/make_sb3_fixtures.py

Writes, next to this script:
  sb3_<algo>_<env>.zip   models trained briefly (the weights need not be good, only real)
  sb3_models.json        per model: observations, SB3's deterministic actions, and the raw
                         network outputs (Q-values, logits, Gaussian means or squashed
                         actions) and values computed with the model's own torch modules
  torch_state_dict.pth   an nn.Sequential state dict written by torch.save (zip format),
                         with a transposed (non-contiguous) tensor and a float64 one
  torch_state_dict_pth.json  its tensors as lists
"""
import json
import os

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import DQN, PPO, SAC, TD3

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(7)


def observations(env_id, count=6, seed=3):
    env = gym.make(env_id)
    env.action_space.seed(seed)
    obs, _ = env.reset(seed=seed)
    result = []
    for _ in range(count):
        result.append(obs)
        obs, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            obs, _ = env.reset()
    return np.array(result, dtype=np.float32)


def outputs(model, obs):
    policy = model.policy
    x = torch.as_tensor(obs)
    with torch.no_grad():
        if isinstance(model, DQN):
            return policy.q_net(x).numpy(), None
        if isinstance(model, PPO):
            latent_pi, latent_vf = policy.mlp_extractor(policy.extract_features(x))
            return policy.action_net(latent_pi).numpy(), policy.value_net(latent_vf).numpy()[:, 0]
        if isinstance(model, TD3):
            actions = policy.actor(x)
            return actions.numpy(), policy.critic.q1_forward(x, actions).numpy()[:, 0]
        if isinstance(model, SAC):
            mean_actions, _, _ = policy.actor.get_action_dist_params(x)
            actions = torch.tanh(mean_actions)
            return actions.numpy(), policy.critic.q1_forward(x, actions).numpy()[:, 0]
    raise TypeError(model)


MODELS = [
    ("dqn", "CartPole-v1", lambda env: DQN("MlpPolicy", env, policy_kwargs=dict(net_arch=[16, 16]), learning_starts=100,
                                           train_freq=4, seed=1), 600),
    ("ppo", "CartPole-v1", lambda env: PPO("MlpPolicy", env, policy_kwargs=dict(net_arch=[16, 16]), n_steps=128,
                                           batch_size=64, n_epochs=2, seed=1), 256),
    ("ppo", "Pendulum-v1", lambda env: PPO("MlpPolicy", env, policy_kwargs=dict(net_arch=dict(pi=[16], vf=[8, 8]),
                                           activation_fn=torch.nn.ReLU, log_std_init=-0.5), n_steps=128, batch_size=64,
                                           n_epochs=2, seed=1), 256),
    ("td3", "Pendulum-v1", lambda env: TD3("MlpPolicy", env, policy_kwargs=dict(net_arch=[16, 16]), learning_starts=100,
                                           seed=1), 300),
    ("sac", "MountainCarContinuous-v0", lambda env: SAC("MlpPolicy", env, policy_kwargs=dict(net_arch=[16, 16]),
                                                        learning_starts=100, seed=1), 300),
]

fixtures = {}
for algo, env_id, make, steps in MODELS:
    env = gym.make(env_id)
    model = make(env)
    model.learn(steps)
    name = f"sb3_{algo}_{env_id.split('-')[0].lower()}"
    model.save(os.path.join(HERE, name + ".zip"))
    loaded = type(model).load(os.path.join(HERE, name + ".zip"))
    obs = observations(env_id)
    raw, values = outputs(loaded, obs)
    actions, _ = loaded.predict(obs, deterministic=True)
    fixtures[name] = {
        "environment": env_id,
        "observations": obs.tolist(),
        "outputs": raw.tolist(),
        "values": None if values is None else values.tolist(),
        "actions": np.asarray(actions).tolist(),
    }

with open(os.path.join(HERE, "sb3_models.json"), "w") as f:
    json.dump(fixtures, f, indent=1)
    f.write("\n")

net = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))
state = net.state_dict()
state["0.weight"] = torch.randn(4, 5).t()  # a transposed view: strides (1, 5)
state["2.bias"] = state["2.bias"].double()
torch.save(state, os.path.join(HERE, "torch_state_dict.pth"))
with open(os.path.join(HERE, "torch_state_dict_pth.json"), "w") as f:
    json.dump({k: {"shape": list(v.shape), "values": v.flatten().tolist()} for k, v in state.items()}, f, indent=1)
    f.write("\n")

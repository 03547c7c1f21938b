#!/usr/bin/env python3
"""Stable-Baselines3 PPO on Hopper-v5 with rl-zoo's tuned Hopper hyperparameters (the same work
as bench/hopper-ppo-zoo.yaml), inside VecNormalize, on one thread, for bench/ppo_hopper_vs_sb3.sh.
Prints one JSON object per run:
{"library": "sb3", "seed", "steps", "wall_seconds", "eval_mean_return", "eval_episodes"}.

    python3 bench/sb3_hopper_ppo.py --seeds 0 [--steps 1000000]
"""
import argparse
import json
import time

import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecNormalize

torch.set_num_threads(1)

parser = argparse.ArgumentParser()
parser.add_argument("--seeds", type=int, nargs="+", default=[0])
parser.add_argument("--steps", type=int, default=1_000_000)
parser.add_argument("--episodes", type=int, default=100)
args = parser.parse_args()

for seed in args.seeds:
    env = VecNormalize(make_vec_env("Hopper-v5", n_envs=1, seed=seed), norm_obs=True, norm_reward=True, clip_obs=10.0)
    model = PPO(
        "MlpPolicy", env, n_steps=512, batch_size=32, n_epochs=5, gamma=0.999, gae_lambda=0.99,
        learning_rate=9.80828e-05, clip_range=0.2, ent_coef=0.00229519, vf_coef=0.835671, max_grad_norm=0.7,
        policy_kwargs=dict(log_std_init=-2, ortho_init=False, activation_fn=torch.nn.ReLU,
                           net_arch=dict(pi=[256, 256], vf=[256, 256])),
        seed=seed, device="cpu", verbose=0,
    )
    start = time.perf_counter()
    model.learn(args.steps)
    wall = time.perf_counter() - start
    env.training = False
    env.norm_reward = False
    returns = []
    evaluation = make_vec_env("Hopper-v5", n_envs=1)
    for episode in range(args.episodes):
        evaluation.seed(10_000 + seed + episode)
        obs = evaluation.reset()
        done, total = False, 0.0
        while not done:
            action, _ = model.predict(env.normalize_obs(obs), deterministic=True)
            obs, reward, dones, _ = evaluation.step(action)
            total += float(reward[0])
            done = bool(dones[0])
        returns.append(total)
    print(json.dumps({"library": "sb3", "seed": seed, "steps": args.steps, "wall_seconds": wall,
                      "eval_mean_return": float(np.mean(returns)), "eval_episodes": args.episodes}), flush=True)

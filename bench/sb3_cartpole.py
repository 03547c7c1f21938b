#!/usr/bin/env python3
"""Stable-Baselines3 on CartPole-v1 with rl-zoo's hyperparameters (the same as
configs/cartpole-ppo.yaml and configs/cartpole-dqn.yaml), on one thread, for the side-by-side
training benchmark (bench/train_vs_sb3.sh). Prints one JSON object per run:
{"library": "sb3", "algorithm", "seed", "steps", "wall_seconds", "eval_mean_return", "eval_episodes"}.

    python3 bench/sb3_cartpole.py --algorithm ppo --seeds 0 1 2
"""
import argparse
import json
import time

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import DQN, PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy

torch.set_num_threads(1)


def make(algorithm, seed):
    if algorithm == "ppo":
        env = make_vec_env("CartPole-v1", n_envs=8, seed=seed)
        schedule = lambda start: (lambda progress_remaining: progress_remaining * start)
        model = PPO(
            "MlpPolicy", env, n_steps=32, batch_size=256, gae_lambda=0.8, gamma=0.98, n_epochs=20, ent_coef=0.0,
            learning_rate=schedule(1e-3), clip_range=schedule(0.2), seed=seed, device="cpu", verbose=0,
        )
        return model, 100_000
    env = make_vec_env("CartPole-v1", n_envs=1, seed=seed)
    model = DQN(
        "MlpPolicy", env, learning_rate=2.3e-3, batch_size=64, buffer_size=100_000, learning_starts=1000, gamma=0.99,
        target_update_interval=10, train_freq=256, gradient_steps=128, exploration_fraction=0.16, exploration_final_eps=0.04,
        policy_kwargs=dict(net_arch=[256, 256]), seed=seed, device="cpu", verbose=0,
    )
    return model, 50_000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--algorithm", choices=["ppo", "dqn"], required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--eval-episodes", type=int, default=100)
    parser.add_argument("--save", help="save each model as SAVE-<algorithm>-<seed>.zip (model.save)")
    args = parser.parse_args()
    for seed in args.seeds:
        model, steps = make(args.algorithm, seed)
        start = time.perf_counter()
        model.learn(total_timesteps=steps)
        wall = time.perf_counter() - start
        if args.save:
            model.save(f"{args.save}-{args.algorithm}-{seed}.zip")
        eval_env = gym.make("CartPole-v1")
        eval_env.reset(seed=10_000 + seed)
        mean, _ = evaluate_policy(model, eval_env, n_eval_episodes=args.eval_episodes, deterministic=True)
        print(json.dumps({"library": "sb3", "algorithm": args.algorithm, "seed": seed, "steps": steps, "wall_seconds": wall,
                          "eval_mean_return": float(mean), "eval_episodes": args.eval_episodes}), flush=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Trains a Stable-Baselines3 PPO policy on a Gymnasium environment and saves the model zip —
the first step of README's example of attacking a policy on an environment Gauntlet does not
implement (then `gauntlet policy import` and `gauntlet attack --env gym:ID`). PPO with rl-zoo's
LunarLander hyperparameters (16 environments, n_steps 1024, batch 64, 4 epochs, γ 0.999,
λ 0.98, entropy 0.01); an MLP policy, so Gauntlet can import it.

    python3 python/examples/train_sb3.py --env LunarLander-v3 --steps 300000 --output lunar.zip
"""
import argparse

from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--env", default="LunarLander-v3")
parser.add_argument("--steps", type=int, default=300_000)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--output", required=True)
args = parser.parse_args()

env = make_vec_env(args.env, n_envs=16, seed=args.seed)
model = PPO("MlpPolicy", env, n_steps=1024, batch_size=64, n_epochs=4, gamma=0.999, gae_lambda=0.98, ent_coef=0.01,
            seed=args.seed, device="cpu", verbose=0)
model.learn(total_timesteps=args.steps)
model.save(args.output)
print(f"saved {args.output} ({args.steps} steps of PPO on {args.env})")

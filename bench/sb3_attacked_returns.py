#!/usr/bin/env python3
"""Returns of a Stable-Baselines3 model on CartPole-v1 under a PGD observation attack, measured
with plain PyTorch + Gymnasium — the reference `bench/imported_policy_vs_torch.sh` compares
Gauntlet's numbers for the imported model with. Episode i starts from reset(seed=SEED+i), as
Gauntlet's evaluation does; actions are the model's deterministic ones (argmax of Q-values or
logits). PGD: L-inf ball of radius eps around the true observation, clipped to the observation
bounds, random start, STEPS signed-gradient steps of size eps*ALPHA_RATIO on the cross-entropy
of the clean action. Prints one JSON object per eps: {"eps", "returns": [...], "mean", "std"}.

    python3 bench/sb3_attacked_returns.py model.zip --eps 0 0.1 --episodes 100 --seed 0
"""
import argparse
import json

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import DQN, PPO

torch.set_num_threads(1)


def logits_function(model):
    policy = model.policy
    if isinstance(model, DQN):
        return lambda x: policy.q_net(x)
    return lambda x: policy.action_net(policy.mlp_extractor.forward_actor(policy.extract_features(x)))


def pgd(logits, obs, eps, low, high, steps, alpha_ratio, generator):
    if eps == 0:
        return obs
    with torch.no_grad():
        clean = logits(obs).argmax(dim=1)
    x = obs + (torch.rand(obs.shape, generator=generator) * 2 - 1) * eps
    x = torch.max(torch.min(x, high), low)
    for _ in range(steps):
        x = x.detach().requires_grad_(True)
        torch.nn.functional.cross_entropy(logits(x), clean).backward()
        x = x + eps * alpha_ratio * x.grad.sign()
        x = torch.max(torch.min(torch.max(torch.min(x, obs + eps), obs - eps), high), low)
    return x.detach()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--eps", type=float, nargs="+", default=[0.1])
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--alpha-ratio", type=float, default=0.25)
    args = parser.parse_args()
    model = (DQN if "dqn" in args.model.lower() else PPO).load(args.model, device="cpu")
    logits = logits_function(model)
    env = gym.make("CartPole-v1")
    low = torch.tensor(env.observation_space.low)
    high = torch.tensor(env.observation_space.high)
    generator = torch.Generator().manual_seed(args.seed)
    for eps in args.eps:
        returns = []
        for episode in range(args.episodes):
            obs, _ = env.reset(seed=args.seed + episode)
            total, done = 0.0, False
            while not done:
                x = pgd(logits, torch.as_tensor(obs).unsqueeze(0), eps, low, high, args.steps, args.alpha_ratio, generator)
                with torch.no_grad():
                    action = int(logits(x).argmax(dim=1)[0])
                obs, reward, terminated, truncated, _ = env.step(action)
                total += reward
                done = terminated or truncated
            returns.append(total)
        print(json.dumps({"eps": eps, "returns": returns, "mean": float(np.mean(returns)), "std": float(np.std(returns, ddof=1))}), flush=True)


if __name__ == "__main__":
    main()

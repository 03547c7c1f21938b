#!/usr/bin/env python3
"""The PyTorch + Gymnasium peer of `gauntlet bench attack`: a 4-64-64-2 ReLU MLP (--hidden) acting on
CartPole-v1 (SyncVectorEnv, auto-reset) with an observation attack at every step written in
plain PyTorch autograd (FGSM, PGD-10 with random start and step eps/4, L-inf, clipped to the
observation bounds). One thread. Prints one JSON object per (attack, copies):
{"library": "torch", "attack", "copies", "steps_per_second_best", "steps_per_second_median"}.

    python3 bench/torch_attacked_eval.py --envs 1 16 --steps 20000
"""
import argparse
import json
import statistics
import time

import gymnasium as gym
import numpy as np
import torch

torch.set_num_threads(1)


def make_policy(hidden):
    torch.manual_seed(0)
    layers, width = [], 4
    for h in hidden:
        layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
        width = h
    return torch.nn.Sequential(*layers, torch.nn.Linear(width, 2))


def attack(policy, obs, kind, eps, low, high, steps=10):
    if kind == "none":
        return obs
    with torch.no_grad():
        clean_actions = policy(obs).argmax(dim=1)
    loss_fn = torch.nn.CrossEntropyLoss()
    if kind == "fgsm":
        x = obs.clone().requires_grad_(True)
        loss_fn(policy(x), clean_actions).backward()
        return torch.max(torch.min(obs + eps * x.grad.sign(), high), low).detach()
    alpha = eps / 4
    x = obs + torch.empty_like(obs).uniform_(-eps, eps)
    x = torch.max(torch.min(x, high), low)
    for _ in range(steps):
        x = x.detach().requires_grad_(True)
        loss_fn(policy(x), clean_actions).backward()
        x = x + alpha * x.grad.sign()
        x = torch.max(torch.min(torch.max(torch.min(x, obs + eps), obs - eps), high), low)
    return x.detach()


def run(kind, copies, total_steps, repeats, eps, hidden):
    env = gym.vector.SyncVectorEnv([lambda: gym.make("CartPole-v1") for _ in range(copies)])
    policy = make_policy(hidden)
    low = torch.tensor(env.single_observation_space.low, dtype=torch.float32)
    high = torch.tensor(env.single_observation_space.high, dtype=torch.float32)
    obs, _ = env.reset(seed=0)
    samples = []
    vector_steps = max(1, total_steps // copies)
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(vector_steps):
            x = attack(policy, torch.as_tensor(obs, dtype=torch.float32), kind, eps, low, high)
            with torch.no_grad():
                actions = policy(x).argmax(dim=1).numpy()
            obs, _, _, _, _ = env.step(actions)
        samples.append(time.perf_counter() - start)
    steps = vector_steps * copies
    return {"library": "torch", "attack": kind, "copies": copies, "steps_per_second_best": steps / min(samples),
            "steps_per_second_median": steps / statistics.median(samples)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--envs", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--attacks", nargs="+", default=["none", "fgsm", "pgd"])
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--eps", type=float, default=0.1)
    parser.add_argument("--hidden", type=int, nargs="+", default=[64, 64])
    args = parser.parse_args()
    for kind in args.attacks:
        for copies in args.envs:
            print(json.dumps(run(kind, copies, args.steps if kind != "pgd" else args.steps // 4, args.repeats, args.eps, args.hidden)), flush=True)

"""The return of a shipped MinAtar DQN policy acting ε-greedily in Python MinAtar, with the random
action drawn from the game's minimal action set (Gymnasium's MinAtar/<Game>-v1, Gauntlet's
training) or from the full set of six (MinAtar's own examples/dqn.py and its paper's curves, where
four of Breakout's six actions are no-ops).

The MinAtar paper's DQN curves plot the ε-greedy training return (ε = 0.1); this measures how much
of the difference between such returns comes from the action set alone, with one fixed greedy
policy and the same episode seeds for both. Usage (from the repository root, Python with torch,
safetensors and minatar 1.0.15):

    python bench/minatar_epsilon_greedy.py policies/minatar-breakout-dqn.safetensors breakout [EPISODES]
"""

import json
import math
import random
import struct
import sys

import numpy as np
import torch
from minatar import Environment
from safetensors.torch import load_file


def load_policy(path):
    """nn.Sequential from the file's architecture (conv2d / relu / flatten / linear) and weights."""
    with open(path, "rb") as f:
        header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
    modules = []
    for m in json.loads(header["__metadata__"]["gauntlet"])["architecture"]["modules"]:
        if m["type"] == "conv2d":
            modules.append(torch.nn.Conv2d(m["in_channels"], m["out_channels"], m["kernel_size"], m["stride"], m["padding"]))
        elif m["type"] == "relu":
            modules.append(torch.nn.ReLU())
        elif m["type"] == "flatten":
            modules.append(torch.nn.Flatten())
        elif m["type"] == "linear":
            modules.append(torch.nn.Linear(m["inputs"], m["outputs"]))
        else:
            raise SystemExit(f"{path}: module type {m['type']} is not handled here")
    network = torch.nn.Sequential(*modules)
    network.load_state_dict(load_file(path))
    return network.eval()


def episode(network, game, seed, epsilon, random_from_full_set):
    env = Environment(game)  # sticky actions 0.1 and difficulty ramping: MinAtar's defaults
    env.seed(seed)
    minimal = env.minimal_action_set()
    explore = random.Random(seed + 1_000_003)
    env.reset()
    total, done = 0.0, False
    while not done:
        if explore.random() < epsilon:
            action = explore.randrange(env.num_actions()) if random_from_full_set else explore.choice(minimal)
        else:
            state = torch.from_numpy(np.ascontiguousarray(env.state().transpose(2, 0, 1), dtype=np.float32))
            with torch.no_grad():
                action = minimal[int(network(state.unsqueeze(0)).argmax())]  # Gauntlet's observations are CHW
        reward, done = env.act(action)
        total += reward
    return total


def summary(returns):
    mean = sum(returns) / len(returns)
    sd = math.sqrt(sum((r - mean) ** 2 for r in returns) / (len(returns) - 1))
    return mean, 1.96 * sd / math.sqrt(len(returns))


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    path, game = sys.argv[1], sys.argv[2]
    episodes = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    torch.set_num_threads(1)
    network = load_policy(path)
    rows = [("greedy", 0.0, False), ("ε 0.1, minimal set", 0.1, False), ("ε 0.1, full set", 0.1, True)]
    means = {}
    print(f"{path} on MinAtar {game}, {episodes} episodes (seeds 0…{episodes - 1}, the same for each row)")
    for label, epsilon, full in rows:
        returns = [episode(network, game, seed, epsilon, full) for seed in range(episodes)]
        mean, half = summary(returns)
        means[label] = mean
        print(f"  {label:20s} {mean:7.2f} ± {half:.2f}")
    ratio = means["ε 0.1, full set"] / means["ε 0.1, minimal set"]
    print(f"  full-set / minimal-set ε-greedy return: {ratio:.2f}")


if __name__ == "__main__":
    main()

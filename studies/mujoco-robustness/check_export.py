"""A Gauntlet MuJoCo policy, exported with `gauntlet policy export`, run by PyTorch in Gymnasium.

    gauntlet policy export policies/walker2d-sa-ppo.safetensors --output /tmp/walker.safetensors
    python3 studies/mujoco-robustness/check_export.py /tmp/walker.safetensors [EPISODES] [EPS]

Builds `torch.nn.Sequential` from the export's metadata (`gauntlet`: architecture, kind, action
space, observation normalisation), loads the tensors with `load_state_dict` as they are, and plays
EPISODES deterministic episodes (the mean action, clipped to the action space) of the policy's
Gymnasium environment: clean, and with EPS > 0 under a 10-step PGD in the normalised observation
space written here in plain autograd (maximising the squared change of the mean action, as
Gauntlet's `pgd` does for continuous policies). Prints the mean returns, to compare with
`gauntlet evaluate` / `gauntlet attack --attack pgd --eps EPS --eps-units normalized` (Gymnasium's
reset noise is its own, so the episodes differ: compare means, not episodes).
Needs torch, safetensors, gymnasium[mujoco] and mujoco 3.3.7 from PyPI.
"""
import json
import pathlib
import sys

import gymnasium
import numpy
import torch
from safetensors import safe_open
from safetensors.torch import load_file

# The one builder of torch.nn.Sequential from a Gauntlet policy file's description.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "Tests" / "Fixtures"))
from check_gauntlet_policy import sequential  # noqa: E402


def load(path):
    with safe_open(path, "pt") as f:
        metadata = f.metadata()
    description = json.loads(metadata["gauntlet"])
    network = sequential(description, path).double()
    network.load_state_dict({k: v.double() for k, v in load_file(path).items()})
    normalization = description["normalization"]
    mean = torch.tensor(normalization["mean"], dtype=torch.float64)
    std = torch.tensor(normalization["std"], dtype=torch.float64)
    clip = normalization.get("clip") or float("inf")
    space = description["action_space"]
    low, high = numpy.array(space["low"]), numpy.array(space["high"])
    return description["environment"], network, mean, std, clip, low, high


def main(path, episodes=10, eps=0.0):
    environment, network, mean, std, clip, low, high = load(path)
    env = gymnasium.make(environment)

    def act(z):
        with torch.no_grad():
            return numpy.clip(network(z).numpy(), low, high)

    def perturb(z):
        # 10 steps of PGD with a random start in the L∞ ball of radius eps around z.
        clean = network(z).detach()
        x = (z + eps * (2 * torch.rand_like(z) - 1)).detach()
        for _ in range(10):
            x.requires_grad_(True)
            loss = ((network(x) - clean) ** 2).sum()
            (gradient,) = torch.autograd.grad(loss, x)
            x = torch.min(torch.max(x.detach() + 0.25 * eps * gradient.sign(), z - eps), z + eps)
        return x.detach()

    torch.manual_seed(0)
    returns = []
    for episode in range(episodes):
        observation, _ = env.reset(seed=episode)
        total, done = 0.0, False
        while not done:
            z = torch.clamp((torch.tensor(observation, dtype=torch.float64) - mean) / std, -clip, clip)
            if eps > 0:
                z = perturb(z)
            observation, reward, terminated, truncated, _ = env.step(act(z))
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    print(json.dumps({"policy": path, "environment": environment, "episodes": episodes, "eps": eps,
                      "mean_return": float(numpy.mean(returns)), "std_return": float(numpy.std(returns))}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 10, float(sys.argv[3]) if len(sys.argv) > 3 else 0.0)

#!/usr/bin/env python3
"""Generates the numeric fixtures of Gauntlet's Linalg and NeuralNet tests with PyTorch, NumPy
and SciPy, independently of Gauntlet's code.

    pip install torch safetensors numpy scipy
    python3 Tests/Fixtures/make_fixtures.py

Writes, next to this script:
  torch_policy.safetensors  an nn.Sequential saved by safetensors.torch.save_file, with a
                            Gauntlet description in __metadata__
  torch_policy.json         inputs and the outputs PyTorch computes for them (float32)
  optimizers.json           parameter trajectories of torch.optim.Adam / SGD / RMSprop and
                            clip_grad_norm_ on fixed gradients (float64)
  statistics.json           NumPy quantiles, SciPy Clopper-Pearson bounds, Wilson intervals
"""
import json
import os

import numpy as np
import scipy.stats
import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(1234)
rng = np.random.default_rng(1234)


def write_json(name, value):
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(value, f, indent=1)
        f.write("\n")


# --- A policy written by PyTorch ------------------------------------------------------------
net = torch.nn.Sequential(
    torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3)
)
description = {
    "format": 1,
    "architecture": {
        "modules": [
            {"type": "linear", "inputs": 4, "outputs": 16},
            {"type": "tanh"},
            {"type": "linear", "inputs": 16, "outputs": 16},
            {"type": "relu"},
            {"type": "linear", "inputs": 16, "outputs": 3},
        ]
    },
    "environment": "CartPole-v1",
    "algorithm": "external",
    "kind": "greedy-q",
    "provenance": {"writer": "torch " + torch.__version__},
}
save_file(
    {k: v.contiguous() for k, v in net.state_dict().items()},
    os.path.join(HERE, "torch_policy.safetensors"),
    metadata={"gauntlet": json.dumps(description)},
)
inputs = torch.randn(8, 4)
with torch.no_grad():
    outputs = net(inputs)
write_json("torch_policy.json", {"inputs": inputs.tolist(), "outputs": outputs.tolist()})

# A plain state dict as a PyTorch user saves it (no metadata): what `gauntlet policy import` reads.
plain = torch.nn.Sequential(torch.nn.Linear(4, 32), torch.nn.ReLU(), torch.nn.Linear(32, 32), torch.nn.ReLU(), torch.nn.Linear(32, 2))
save_file({k: v.contiguous() for k, v in plain.state_dict().items()}, os.path.join(HERE, "torch_state_dict.safetensors"))
with torch.no_grad():
    plain_outputs = plain(inputs)
write_json("torch_state_dict.json", {"inputs": inputs.tolist(), "outputs": plain_outputs.tolist()})


# --- Optimisers -----------------------------------------------------------------------------
# The RMSprop trajectories draw from their own stream (added later: the others stay as they were).
rmsprop_rng = np.random.default_rng(4321)


def trajectory(make_optimizer, steps=6, clip=None, rng=rng):
    theta0 = torch.tensor(rng.normal(size=7), dtype=torch.float64)
    grads = [torch.tensor(rng.normal(size=7) * 3, dtype=torch.float64) for _ in range(steps)]
    p = torch.nn.Parameter(theta0.clone())
    opt = make_optimizer([p])
    params, norms = [], []
    for g in grads:
        opt.zero_grad()
        p.grad = g.clone()
        if clip is not None:
            norms.append(float(torch.nn.utils.clip_grad_norm_([p], clip)))
        opt.step()
        params.append(p.detach().clone().tolist())
    return {
        "initial": theta0.tolist(),
        "gradients": [g.tolist() for g in grads],
        "parameters": params,
        "norms_before_clipping": norms,
    }


write_json(
    "optimizers.json",
    {
        "adam": trajectory(lambda ps: torch.optim.Adam(ps, lr=0.01)),
        "adam_weight_decay": trajectory(
            lambda ps: torch.optim.Adam(ps, lr=0.003, betas=(0.8, 0.95), eps=1e-5, weight_decay=0.1)
        ),
        "sgd_momentum": trajectory(lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, dampening=0.1)),
        "sgd_nesterov": trajectory(lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True)),
        "sgd_clipped": trajectory(lambda ps: torch.optim.SGD(ps, lr=0.1), clip=1.5),
        "rmsprop": trajectory(lambda ps: torch.optim.RMSprop(ps, lr=0.01), rng=rmsprop_rng),
        "rmsprop_centered": trajectory(
            lambda ps: torch.optim.RMSprop(ps, lr=0.00025, alpha=0.95, eps=0.01, centered=True), steps=8, rng=rmsprop_rng
        ),
        "rmsprop_centered_slow_average": trajectory(
            lambda ps: torch.optim.RMSprop(ps, lr=0.003, alpha=0.3, eps=1e-6, centered=True, weight_decay=0.05),
            rng=rmsprop_rng,
        ),
        "rmsprop_centered_momentum": trajectory(
            lambda ps: torch.optim.RMSprop(ps, lr=0.00025, alpha=0.95, eps=0.01, centered=True, momentum=0.95),
            rng=rmsprop_rng,
        ),
    },
)


# --- Statistics -----------------------------------------------------------------------------
def wilson(k, n, confidence):
    z = scipy.stats.norm.ppf(1 - (1 - confidence) / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return [max(0.0, centre - half), min(1.0, centre + half)]


def clopper_pearson(k, n, confidence):
    alpha = 1 - confidence
    lo = 0.0 if k == 0 else scipy.stats.beta.ppf(alpha / 2, k, n - k + 1)
    hi = 1.0 if k == n else scipy.stats.beta.ppf(1 - alpha / 2, k + 1, n - k)
    return [float(lo), float(hi)]


sample = rng.normal(size=37).tolist()
rates = [(0, 10), (3, 10), (10, 10), (17, 100), (512, 1000)]
write_json(
    "statistics.json",
    {
        "sample": sample,
        "mean": float(np.mean(sample)),
        "sd": float(np.std(sample, ddof=1)),
        "quantiles": {str(q): float(np.quantile(sample, q)) for q in [0.0, 0.1, 0.25, 0.5, 0.9, 1.0]},
        "rates": [
            {
                "successes": k,
                "trials": n,
                "confidence": c,
                "wilson": wilson(k, n, c),
                "clopper_pearson": clopper_pearson(k, n, c),
            }
            for (k, n) in rates
            for c in [0.95, 0.99]
        ],
    },
)
print("fixtures written to", HERE)

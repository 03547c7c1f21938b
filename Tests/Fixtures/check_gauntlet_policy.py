#!/usr/bin/env python3
"""Checks that a policy file written by Gauntlet loads into torch.nn.Sequential with
load_state_dict and gives Gauntlet's outputs to 1e-6.

    GAUNTLET_UPDATE_FIXTURES=1 swift test --filter writerOutputLoadsInPyTorch   # (re)writes the files
    python3 Tests/Fixtures/check_gauntlet_policy.py
"""
import json
import os
import sys

import torch
from safetensors.torch import load_file
from safetensors import safe_open

HERE = os.path.dirname(os.path.abspath(__file__))


def sequential(description, where):
    """torch.nn.Sequential of a Gauntlet policy file's `architecture` (Linear, ReLU, Tanh)."""
    layers = []
    for module in description["architecture"]["modules"]:
        kind = module["type"]
        if kind == "linear":
            layers.append(torch.nn.Linear(module["inputs"], module["outputs"]))
        elif kind == "relu":
            layers.append(torch.nn.ReLU())
        elif kind == "tanh":
            layers.append(torch.nn.Tanh())
        else:
            sys.exit(f"{where}: module {kind} is not handled here")
    return torch.nn.Sequential(*layers)


def main():
    path = os.path.join(HERE, "gauntlet_policy.safetensors")
    with safe_open(path, "pt") as f:
        description = json.loads(f.metadata()["gauntlet"])
    net = sequential(description, path)
    net.load_state_dict(load_file(path))
    with open(os.path.join(HERE, "gauntlet_policy.json")) as f:
        samples = json.load(f)
    with torch.no_grad():
        outputs = net(torch.tensor(samples["inputs"]))
    difference = (outputs - torch.tensor(samples["outputs"])).abs().max().item()
    print(f"max |torch - gauntlet| = {difference:.3g}; metadata env={description.get('environment')}")
    sys.exit(0 if difference < 1e-6 else 1)


if __name__ == "__main__":
    main()

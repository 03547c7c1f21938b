#!/usr/bin/env python3
"""Fallback for Stable-Baselines3 models that `gauntlet policy import model.zip` does not read
(sb3-contrib algorithms such as TRPO, TQC or CrossQ, legacy pickles, renamed modules): loads the
model with SB3 itself, flattens its actor into one `nn.Sequential` of Linear layers and
activations, writes that state dict with safetensors, and prints the Gauntlet import command.

    pip install stable-baselines3 sb3-contrib safetensors
    python3 scripts/export_sb3.py ALGO model.zip out.safetensors --env CartPole-v1

ALGO is a class name from stable_baselines3 or sb3_contrib (PPO, DQN, TD3, SAC, TRPO, TQC, …).
Only MLP policies whose actor is a chain of Linear layers and one kind of activation can be
exported; anything else is refused with the module that does not fit. The Gaussian log-std of
an actor-critic policy is written as `log_std.txt` beside the output (Gauntlet's state-dict import
starts it at 0; the zip import keeps it).
"""
import argparse
import importlib

import torch
from safetensors.torch import save_file

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("algo")
parser.add_argument("model")
parser.add_argument("output")
parser.add_argument("--env", required=True, help="Gauntlet environment id, for the printed command")
args = parser.parse_args()

cls = None
for package in ("stable_baselines3", "sb3_contrib"):
    try:
        cls = getattr(importlib.import_module(package), args.algo)
        break
    except (ImportError, AttributeError):
        continue
if cls is None:
    raise SystemExit(f"no class {args.algo} in stable_baselines3 or sb3_contrib")
model = cls.load(args.model, device="cpu")
policy = model.policy


def chain(*modules):
    """The Linear layers and activations of modules, flattened (Flatten and Identity dropped)."""
    layers = []
    for module in modules:
        children = list(module.children()) if isinstance(module, torch.nn.Sequential) else [module]
        for child in children:
            if isinstance(child, (torch.nn.Flatten, torch.nn.Identity)):
                continue
            if isinstance(child, torch.nn.Sequential):
                layers += chain(child)
            elif isinstance(child, (torch.nn.Linear, torch.nn.ReLU, torch.nn.Tanh, torch.nn.LeakyReLU)):
                layers.append(child)
            else:
                raise SystemExit(f"cannot export {type(child).__name__}: only Linear, ReLU, Tanh and LeakyReLU layers")
    return layers


if hasattr(policy, "q_net"):
    layers, kind = chain(policy.q_net.q_net), "greedy-q"
elif hasattr(policy, "mlp_extractor"):
    layers = chain(policy.mlp_extractor.policy_net, policy.action_net)
    kind = "gaussian" if hasattr(policy, "log_std") else "categorical"
    if kind == "gaussian":
        with open(args.output + ".log_std.txt", "w") as f:
            f.write(",".join(str(v) for v in policy.log_std.detach().flatten().tolist()) + "\n")
elif hasattr(policy, "actor") and hasattr(policy.actor, "latent_pi"):
    layers, kind = chain(policy.actor.latent_pi, policy.actor.mu) + [torch.nn.Tanh()], "deterministic"  # SAC's mode
elif hasattr(policy, "actor") and hasattr(policy.actor, "mu"):
    layers, kind = chain(policy.actor.mu), "deterministic"
else:
    raise SystemExit(f"{type(policy).__name__}: no q_net, mlp_extractor or actor.mu to export")

# A deterministic actor ends in Tanh, which Gauntlet's import appends for that kind.
activations = {type(layer).__name__ for layer in (layers[:-1] if kind == "deterministic" else layers) if not isinstance(layer, torch.nn.Linear)}
if len(activations) > 1:
    raise SystemExit(f"more than one activation between layers: {sorted(activations)}")
sequential = torch.nn.Sequential(*layers)
save_file({k: v.detach().contiguous().float() for k, v in sequential.state_dict().items()}, args.output)
activation = {"ReLU": "relu", "Tanh": "tanh", "LeakyReLU": "leaky_relu"}.get(next(iter(activations), "ReLU"))
print(f"wrote {args.output}: {sequential}")
print(f"gauntlet policy import {args.output} --env {args.env} --kind {kind} --activation {activation} --output policy.safetensors")

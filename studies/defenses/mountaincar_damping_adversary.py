"""Why no memoryless MountainCar-v0 policy keeps its return at ε* = 0.01 (README, Defenses).

A white-box adversary inside the defense table's threat model (L∞, ε = 0.01 on the raw
observation (position, velocity)) that simply makes the policy push against the car's motion
whenever some observation in the box makes it do so. From MountainCar's start at rest the speed
then never exceeds ε, so a policy that reads the velocity's sign is steered by the adversary for
good; policies that fall back on the position while the observed speed is small cannot leave
the valley even without an attack (a force that depends on position alone adds no energy).
Run: python3 studies/defenses/mountaincar_damping_adversary.py  (NumPy only; Gymnasium's
dynamics written out below).
"""
import math

import numpy as np


def step(x, v, action):
    """Gymnasium's MountainCar-v0 transition (force 0.001, gravity 0.0025)."""
    v += (action - 1) * 0.001 + math.cos(3 * x) * (-0.0025)
    v = min(max(v, -0.07), 0.07)
    x = min(max(x + v, -1.2), 0.6)
    if x == -1.2 and v < 0:
        v = 0.0
    return x, v, x >= 0.5 and v >= 0


def mean_return(policy, eps, episodes=100):
    returns = []
    for seed in range(episodes):
        x, v = np.random.default_rng(seed).uniform(-0.6, -0.4), 0.0
        total = 0
        for _ in range(200):
            if eps > 0:
                seen = [policy(x + dx, v + dv) for dx in (-eps, 0, eps) for dv in np.linspace(-eps, eps, 9)]
                against = 0 if v >= 0 else 2
                action = against if against in seen else (1 if 1 in seen else seen[0])
            else:
                action = policy(x, v)
            x, v, done = step(x, v, action)
            total -= 1
            if done:
                break
        returns.append(total)
    return float(np.mean(returns))


policies = {"push along the observed velocity": lambda x, v: 2 if v > 0 else 0}
for k in (0.02, 0.05):
    policies[f"push along v + {k}·(x + 0.5)"] = (lambda k: lambda x, v: 2 if v + k * (x + 0.5) > 0 else 0)(k)
for band in (0.02, 0.03):
    policies[f"position rule while |v| < {band}"] = (
        lambda band: lambda x, v: (2 if x < -0.52 else 0) if abs(v) < band else (2 if v > 0 else 0))(band)

for name, policy in policies.items():
    print(f"{name:36s} clean {mean_return(policy, 0):7.1f}   against the damping adversary at ε 0.01 {mean_return(policy, 0.01):7.1f}")

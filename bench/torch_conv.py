#!/usr/bin/env python3
"""PyTorch's side of bench/conv_vs_torch.sh: forward and forward+backward (to the parameters
and the input) of the pixel networks `gauntlet bench nn --network` measures, float32, one
thread, at a given batch. Prints one JSON object per network: {"library": "torch", "network",
"batch", "forward_seconds": {"minimum", "median"}, "forward_backward_seconds": {…}}.

    python3 bench/torch_conv.py --batch 32 --repeats 5
"""
import argparse
import json
import statistics
import time

import torch

torch.set_num_threads(1)
parser = argparse.ArgumentParser()
parser.add_argument("--batch", type=int, default=32)
parser.add_argument("--repeats", type=int, default=5)
parser.add_argument("--seconds", type=float, default=0.2, help="minimum seconds of repetitions per repeat")
args = parser.parse_args()

nn = torch.nn
networks = {
    # MinAtar's DQN network (Young & Tian 2019) over 10×10×4, 6 actions.
    "minatar": (nn.Sequential(nn.Conv2d(4, 16, 3), nn.ReLU(), nn.Flatten(), nn.Linear(1024, 128), nn.ReLU(), nn.Linear(128, 6)), (4, 10, 10)),
    # Nature DQN (Mnih et al. 2015) over 84×84×4, 18 actions.
    "nature-dqn": (
        nn.Sequential(
            nn.Conv2d(4, 32, 8, stride=4), nn.ReLU(), nn.Conv2d(32, 64, 4, stride=2), nn.ReLU(), nn.Conv2d(64, 64, 3), nn.ReLU(),
            nn.Flatten(), nn.Linear(3136, 512), nn.ReLU(), nn.Linear(512, 18),
        ),
        (4, 84, 84),
    ),
}


def measure(step):
    """Minimum and median over repeats of the mean time of `step` in a loop of at least --seconds."""
    step()
    times = []
    for _ in range(args.repeats):
        count, start = 0, time.perf_counter()
        while True:
            step()
            count += 1
            elapsed = time.perf_counter() - start
            if elapsed >= args.seconds:
                break
        times.append(elapsed / count)
    return {"minimum": min(times), "median": statistics.median(times)}


for name, (net, shape) in networks.items():
    x = torch.randn(args.batch, *shape, requires_grad=True)
    g = torch.randn(args.batch, net[-1].out_features)

    def forward():
        with torch.no_grad():
            net(x)

    def forward_backward():
        net.zero_grad(set_to_none=False)
        x.grad = None
        net(x).backward(g)

    print(json.dumps({"library": "torch", "version": torch.__version__, "network": name, "batch": args.batch,
                      "forward_seconds": measure(forward), "forward_backward_seconds": measure(forward_backward)}))

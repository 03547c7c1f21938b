#!/usr/bin/env python3
"""Generates the convolution fixtures of Gauntlet's NeuralNet tests with PyTorch, independently
of Gauntlet's code: two convolutional nn.Sequential networks, inputs, and what PyTorch computes
for them — outputs, and for a fixed output gradient the gradients of the input and of every
parameter — in float64 (and the outputs in float32 too).

    pip install torch safetensors numpy
    python3 Tests/Fixtures/make_conv_fixtures.py

Writes, next to this script:
  torch_conv.safetensors  the networks' state dicts, prefixed `minatar.` and `strided.` (float64)
  torch_conv.json         for each network: its modules as Gauntlet's policy description lists
                          them, the input batch (NCHW, flattened per image), the output gradient,
                          the outputs (float64 and float32), the input gradient and each
                          parameter's gradient by state-dict name (flattened in C order)
"""
import json
import os

import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(20261202)

networks = {
    # MinAtar's DQN convolution (Young & Tian 2019: one 3×3 convolution with 16 channels), a smaller FC.
    "minatar": (
        torch.nn.Sequential(
            torch.nn.Conv2d(4, 16, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(16 * 8 * 8, 16), torch.nn.ReLU(),
            torch.nn.Linear(16, 6),
        ),
        (4, 10, 10),
        [
            {"type": "conv2d", "in_channels": 4, "out_channels": 16, "kernel_size": 3, "stride": 1, "padding": 0, "height": 10, "width": 10},
            {"type": "relu"},
            {"type": "flatten"},
            {"type": "linear", "inputs": 1024, "outputs": 16},
            {"type": "relu"},
            {"type": "linear", "inputs": 16, "outputs": 6},
        ],
    ),
    # Stride, padding, a second convolution, max pooling over a non-square image.
    "strided": (
        torch.nn.Sequential(
            torch.nn.Conv2d(3, 8, 3, stride=2, padding=1), torch.nn.Tanh(), torch.nn.Conv2d(8, 5, 2, stride=1, padding=1),
            torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(5 * 3 * 2, 4),
        ),
        (3, 11, 7),
        [
            {"type": "conv2d", "in_channels": 3, "out_channels": 8, "kernel_size": 3, "stride": 2, "padding": 1, "height": 11, "width": 7},
            {"type": "tanh"},
            {"type": "conv2d", "in_channels": 8, "out_channels": 5, "kernel_size": 2, "stride": 1, "padding": 1, "height": 6, "width": 4},
            {"type": "relu"},
            {"type": "max_pool2d", "in_channels": 5, "kernel_size": 2, "stride": 2, "height": 7, "width": 5},
            {"type": "flatten"},
            {"type": "linear", "inputs": 30, "outputs": 4},
        ],
    ),
}

tensors, fixtures = {}, {}
for name, (net, shape, modules) in networks.items():
    net = net.double()
    batch = 5
    inputs = torch.rand(batch, *shape, dtype=torch.float64)
    inputs.requires_grad_(True)
    outputs = net(inputs)
    output_gradient = torch.randn_like(outputs)
    outputs.backward(output_gradient)
    gradients = {key: p.grad.reshape(-1).tolist() for key, p in net.named_parameters()}
    for key, value in net.state_dict().items():
        tensors[f"{name}.{key}"] = value.contiguous()
    with torch.no_grad():  # (converting the module rounds its gradients too: they are kept above)
        outputs32 = net.float()(inputs.float())
    fixtures[name] = {
        "modules": modules,
        "input": inputs.detach().reshape(batch, -1).tolist(),
        "output_gradient": output_gradient.tolist(),
        "output": outputs.detach().tolist(),
        "output_float32": outputs32.tolist(),
        "input_gradient": inputs.grad.reshape(batch, -1).tolist(),
        "parameter_gradients": gradients,
    }

save_file(tensors, os.path.join(HERE, "torch_conv.safetensors"), metadata={"writer": "torch " + torch.__version__})
with open(os.path.join(HERE, "torch_conv.json"), "w") as f:
    json.dump(fixtures, f)
    f.write("\n")

"""AG-Net's surrogate: an MLP on the generator's continuous output vector (spec §3.2)."""
from __future__ import annotations

import torch
from torch import nn


class MLPPredictor(nn.Module):
    """``hidden_layers`` x [Linear(D, D), ReLU] followed by Linear(D, outputs).

    The input is the raw generator output (node logits and edge logits); the predictor
    is never pretrained and is created fresh for every search trial.
    """

    def __init__(self, input_dim: int, hidden_layers: int = 4, outputs: int = 1):
        super().__init__()
        layers: list[nn.Module] = []
        for _ in range(hidden_layers):
            layers += [nn.Linear(input_dim, input_dim), nn.ReLU()]
        layers.append(nn.Linear(input_dim, outputs))
        self.net = nn.Sequential(*layers)
        self.outputs = outputs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, D] -> [B]`` for one output, ``[B, outputs]`` otherwise."""
        out = self.net(x)
        return out.squeeze(-1) if self.outputs == 1 else out


class ConditionedMLPPredictor(nn.Module):
    """The hardware-aware surrogate (spec §3.2, §7): an MLP on ``[g ; c]`` where the condition
    ``c`` (the target device's one-hot) is appended to the input and again after every hidden ReLU.

    With D = len(g), C = len(c) and W = D + C: Linear(W, W), ReLU, then (``hidden_layers`` - 1) x
    [Linear(W + C, W), ReLU], then Linear(W + C, outputs). For NB201 (D = 84, C = 6, four hidden
    layers, two outputs) that is the authors' 34,574 parameters. ``forward`` returns ``[B, outputs]``.
    """

    def __init__(self, input_dim: int, condition: torch.Tensor, hidden_layers: int = 4, outputs: int = 2):
        super().__init__()
        condition = torch.as_tensor(condition, dtype=torch.float32).flatten()
        self.register_buffer("condition", condition)
        c = condition.numel()
        width = input_dim + c
        self.hidden = nn.ModuleList(nn.Linear(width if i == 0 else width + c, width) for i in range(hidden_layers))
        self.head = nn.Linear(width + c if hidden_layers else width, outputs)
        self.outputs = outputs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        cond = self.condition.to(x.dtype).expand(x.shape[0], -1)
        x = torch.cat([x, cond], 1)
        for layer in self.hidden:
            x = torch.cat([torch.relu(layer(x)), cond], 1)
        return self.head(x)

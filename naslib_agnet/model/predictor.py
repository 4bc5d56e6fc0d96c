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

"""Unsupervised pretraining of the generator (spec §4): random targets, z ~ N(0, I), no accuracies."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from .generator import Generator
from .train_step import train_step


@dataclass
class PretrainSettings:
    samples: int = 2_500_000  #: training samples seen in total (the authors' script: 500 ticks x 5,000)
    batch_size: int = 32
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999


def _mean(out: torch.Tensor, recon: torch.Tensor) -> torch.Tensor:
    return recon.mean()


def pretrain(generator: Generator, target_nodes: np.ndarray, target_edges: np.ndarray,
             settings: PretrainSettings, seed: int = 0,
             callback: Callable[[int, float], None] | None = None, callback_every: int = 5_000) -> dict:
    """Reconstruct randomly drawn targets from fresh z ~ N(0, I); shuffled passes over the data.

    ``callback(samples_seen, mean_recent_loss)`` runs every ``callback_every`` samples.
    Returns ``{"samples": ..., "steps": ..., "seconds": ..., "final_loss": ...}``.
    """
    rng = np.random.default_rng(seed)
    torch_rng = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(generator.parameters(), lr=settings.lr, betas=(settings.beta1, settings.beta2),
                           fused=True)
    n = len(target_nodes)
    generator.train()
    seen = steps = 0
    recent: list[float] = []
    last_mean = float("nan")
    next_report = callback_every
    start = time.perf_counter()
    order = rng.permutation(n)
    pos = 0
    while seen < settings.samples:
        if pos >= n:
            order, pos = rng.permutation(n), 0
        idx = order[pos:pos + settings.batch_size]
        pos += len(idx)
        z = torch.randn(len(idx), generator.latent_dim, generator=torch_rng)
        opt.zero_grad()
        loss = train_step(generator, z, target_nodes[idx], target_edges[idx], _mean)
        opt.step()
        recent.append(loss)
        seen += len(idx)
        steps += 1
        if seen >= next_report:
            last_mean = float(np.mean(recent))
            if callback is not None:
                callback(seen, last_mean)
            recent = []
            next_report += callback_every
    return {"samples": seen, "steps": steps, "seconds": time.perf_counter() - start,
            "final_loss": float(np.mean(recent)) if recent else last_mean}

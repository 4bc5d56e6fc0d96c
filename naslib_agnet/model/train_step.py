"""One training step of the generator against a loss on its output: the reference (torch autograd)
and the accelerated path behind the same call.

``objective(out, recon) -> scalar`` is the step's loss as a function of the generator's output
``out [B, D]`` and the per-graph reconstruction loss ``recon [B]`` (a scorer builds it, see
:mod:`naslib_agnet.search.scorers.base`). :func:`train_step` sets the ``.grad`` of every
generator parameter (and accumulates that of the modules the objective uses) as
``zero_grad(); objective(generator(z), reconstruction_loss(...)).backward()`` does.

``engine="reference"`` runs exactly that. ``engine="fast"`` computes the generator's forward and
backward with the hand-derived NumPy code of :mod:`.fast_backprop` (several times faster on a
CPU for the small batches of a search) and the objective with autograd; it covers every
:class:`~.generator.Generator` configuration, and ``tests/test_train_step.py`` checks it
against the reference. ``"auto"`` (the default) takes the fast path on the CPU.
"""
from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import torch

from .generator import Generator
from .losses import reconstruction_loss

ENGINES = ("auto", "fast", "reference")
#: set NASLIB_AGNET_TRAIN_STEP=reference to run every step through autograd (a check, a debugger)
ENV = "NASLIB_AGNET_TRAIN_STEP"


def default_engine() -> str:
    engine = os.environ.get(ENV, "auto")
    if engine not in ENGINES:
        raise ValueError(f"{ENV}={engine!r}: expected one of {', '.join(ENGINES)}")
    return engine


def train_step(generator: Generator, z: torch.Tensor, nodes: np.ndarray, edges: np.ndarray,
               objective: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], engine: str | None = None) -> float:
    """Gradients of ``objective(generator(z), reconstruction_loss(generator(z), nodes, edges))``;
    returns the loss value. The caller zeroes the objective's modules' gradients and steps the optimizer."""
    engine = engine or default_engine()
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    fast = engine == "fast" or (engine == "auto" and next(generator.parameters()).device.type == "cpu")
    if fast:
        from .fast_backprop import objective_loss_and_grad

        threads = torch.get_num_threads()
        if threads != 1:  # the objective's ops are tiny: torch's thread pool only adds overhead (1.5x here)
            torch.set_num_threads(1)
        try:
            return objective_loss_and_grad(generator, z.numpy(), nodes, edges, objective)
        finally:
            if threads != 1:
                torch.set_num_threads(threads)
    for param in generator.parameters():
        param.grad = None
    out = generator(z)
    recon = reconstruction_loss(out, torch.from_numpy(np.asarray(nodes)), torch.from_numpy(np.asarray(edges)),
                                generator.config)
    loss = objective(out, recon)
    loss.backward()
    return float(loss.detach())

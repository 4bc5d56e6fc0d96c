"""One training step of the generator against a loss on its output: the reference (torch autograd)
and the accelerated path behind the same call.

``objective(out, recon) -> scalar`` is the step's loss as a function of the generator's output
``out [B, D]`` and the per-graph reconstruction loss ``recon [B]`` (a scorer builds it, see
:mod:`naslib_agnet.search.scorers.base`; pretraining uses ``recon.mean()``). :func:`train_step`
sets the ``.grad`` of every generator parameter (and accumulates that of the modules the objective
uses) as ``zero_grad(); objective(generator(z), reconstruction_loss(...)).backward()`` does.

Engines (``NASLIB_AGNET_TRAIN_STEP``, not a search setting):

* ``reference``: exactly that, torch autograd. Every generator runs on it.
* ``fast``: the generator's forward and backward in the hand-derived NumPy code of
  :mod:`.fast_backprop`, the objective with autograd, for the generators that code covers
  (:func:`.fast_backprop.covers`: the :class:`Generator` class of every shipped space); any
  other generator (a subclass with other first steps, e.g.) falls back to the reference.
* ``auto`` (the default): ``fast`` on a CPU, the reference elsewhere.

``tests/test_train_step.py`` checks the fast path against the reference for every scorer's
objective; ``scripts/train_step_options.py`` measures the options (``docs/decisions.md``).
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


def resolve_engine(generator: Generator, engine: str | None = None) -> str:
    """The engine a step of this generator runs on: ``fast`` or ``reference``."""
    engine = engine or default_engine()
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if engine == "auto":
        engine = "fast" if next(generator.parameters()).device.type == "cpu" else "reference"
    if engine == "fast":
        from .fast_backprop import covers

        if not covers(generator):
            engine = "reference"
    return engine


def train_step(generator: Generator, z: torch.Tensor, nodes: np.ndarray, edges: np.ndarray,
               objective: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], engine: str | None = None,
               node_weight: float = 1.0) -> float:
    """Gradients of ``objective(generator(z), reconstruction_loss(generator(z), nodes, edges, node_weight))``;
    returns the loss value. The caller zeroes the objective's modules' gradients and steps the optimizer."""
    engine = resolve_engine(generator, engine)
    if engine == "fast":
        from .fast_backprop import objective_loss_and_grad

        threads = torch.get_num_threads()
        if threads != 1:  # the objective's ops are tiny: torch's thread pool only adds overhead (1.5x here)
            torch.set_num_threads(1)
        try:
            return objective_loss_and_grad(generator, z.numpy(), nodes, edges, objective, node_weight)
        finally:
            if threads != 1:
                torch.set_num_threads(threads)
    for param in generator.parameters():
        param.grad = None
    out = generator(z)
    recon = reconstruction_loss(out, torch.as_tensor(np.asarray(nodes), device=out.device),
                                torch.as_tensor(np.asarray(edges), device=out.device), generator.config, node_weight)
    loss = objective(out, recon)
    loss.backward()
    return float(loss.detach())

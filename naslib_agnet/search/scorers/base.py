"""The candidate-scorer seam: what ranks AG-Net's candidates and what the generator is trained against.

A scorer is one object per search, built by the loop with a :class:`ScorerContext`. The loop
calls, per iteration:

1. :meth:`Scorer.targets` once, then for every training step :meth:`Scorer.objective`, which
   returns the step's loss as a function of the generator's output and the per-sample
   reconstruction loss (the loop's training step, :mod:`naslib_agnet.model.train_step`, runs
   it with autograd or its accelerated path). A scorer whose model is trained jointly with the
   generator lists its parameters in :meth:`Scorer.parameters`; the loop's Adam updates them.
2. :meth:`Scorer.fit` after the retraining, for models fitted apart (the ensemble ranker, XGB).
3. :meth:`Scorer.score` on the valid new candidates: one value per candidate (higher is
   better, in the caller's units, e.g. % accuracy); the loop evaluates the ``top_k`` best.

Each scorer lives in its own module with its settings dataclass (``Settings``; the defaults
live there and nowhere else) and registers itself in :data:`naslib_agnet.search.scorers.SCORERS`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch

from ...spaces import ArchKey, Codec
from ..settings import Settings

#: ``objective(out [B, D], recon [B]) -> scalar``: one training step's loss
Objective = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class ScorerContext:
    """What a scorer may know about its search."""

    codec: Codec
    output_dim: int  #: length of the generator's continuous output vector
    seed: int
    alpha: float  #: the loop's weight of the scorer's loss against the reconstruction loss

    def fit_seed(self, observations: int, bits: int = 63) -> int:
        """The seed of a fit (and of its draws) on ``observations`` observations: fixed by the search
        seed and the number of observations, so a resumed run repeats it; below ``2**bits``."""
        return (self.seed * 1_000_003 + observations) % (1 << bits)


@dataclass
class Observations:
    """The evaluated architectures, their scores (e.g. val accuracy in %) and their discrete encodings."""

    archs: list[ArchKey]
    scores: np.ndarray  #: [n]
    nodes: np.ndarray  #: [n, N] node types
    edges: np.ndarray  #: [n, E] edge bits
    #: the constrained search's metric targets [n, m] (oriented, in the target units; NaN: not measured)
    metrics: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.archs)


@dataclass
class Candidates:
    """Valid new candidates: their keys, discrete encodings and (for scorers that read it) the
    generator's continuous output for the latent point each was decoded from."""

    archs: list[ArchKey]
    nodes: np.ndarray
    edges: np.ndarray
    outputs: torch.Tensor | None  #: [M, D], or None when the scorer does not read it

    def __len__(self) -> int:
        return len(self.archs)


def zscored(scores) -> tuple[np.ndarray, tuple[float, float]]:
    """Scores as z-scores, with the (mean, spread) to map predictions back (spread at least 1e-12)."""
    scores = np.asarray(scores, dtype=np.float64)
    scale = (float(scores.mean()), max(float(scores.std()), 1e-12))
    return (scores - scale[0]) / scale[1], scale


def discrete_encoding(codec: Codec, nodes: np.ndarray, edges: np.ndarray) -> torch.Tensor:
    """Discrete architectures as a model input: [flatten(one-hot node types) ; edge bits], ``[B, D]``."""
    onehot = np.eye(codec.num_classes, dtype=np.float32)[np.asarray(nodes)]
    return torch.from_numpy(np.concatenate([onehot.reshape(len(onehot), -1), np.asarray(edges, dtype=np.float32)], 1))


def architecture_encoding(codec: Codec, archs, nodes: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Whole architectures as a model input, ``[B, cells x D]``: :func:`discrete_encoding` of every cell, the
    cells concatenated. In a one-cell space that is the encoding of ``nodes`` and ``edges`` (the cell's);
    in a space of several cells (DARTS) a model fitted apart from the generator sees every cell, not only
    the one the generator is generating now."""
    if len(codec.cells) == 1:
        return discrete_encoding(codec, nodes, edges).numpy()
    parts = []
    for i in range(len(codec.cells)):
        cell_nodes, cell_edges = codec.encode([codec.split(a)[i] for a in archs])
        parts.append(discrete_encoding(codec, cell_nodes, cell_edges).numpy())
    return np.concatenate(parts, 1)


class Scorer:
    """Base class: a scorer that trains nothing jointly and scores nothing (subclasses do)."""

    name: ClassVar[str] = ""
    Settings: ClassVar[type[Settings]] = Settings
    #: loop settings the spec gives this scorer (e.g. XGB: one retraining epoch per iteration)
    LOOP: ClassVar[dict[str, Any]] = {}
    #: :meth:`score` reads ``Candidates.outputs`` (the generator's continuous output)
    reads_outputs: ClassVar[bool] = False
    #: one-line description for reports and docs
    summary: ClassVar[str] = ""

    def __init__(self, settings: Settings, context: ScorerContext):
        self.settings = settings
        self.context = context

    def parameters(self) -> list[torch.nn.Parameter]:
        """Parameters trained jointly with the generator (by the loop's optimizer)."""
        return []

    def modules(self) -> dict[str, torch.nn.Module]:
        """Modules worth checkpointing, by name."""
        return {}

    def targets(self, obs: Observations) -> np.ndarray:
        """Per-observation regression targets (float32, first axis = observations)."""
        return np.asarray(obs.scores, dtype=np.float32)

    def objective(self, nodes: np.ndarray, edges: np.ndarray, targets: np.ndarray,
                  weights: np.ndarray) -> Objective:
        """The loss of one training step on a batch of evaluated architectures (their encodings,
        targets and rank weights). Default: the weighted reconstruction loss alone,
        mean_i w_i (1 - alpha) L_G,i (spec §6, the XGB variant's generator)."""
        w = torch.from_numpy(np.asarray(weights, dtype=np.float32))
        keep = 1.0 - self.context.alpha

        def objective(out: torch.Tensor, recon: torch.Tensor) -> torch.Tensor:
            return (w * keep * recon).mean()

        return objective

    def fit(self, obs: Observations) -> None:
        """Fit what is fitted apart from the generator, after the retraining (default: nothing)."""

    def score(self, cands: Candidates) -> list[Any]:
        """One value per candidate, higher is better."""
        raise NotImplementedError

"""The encoding scorer (the paper's "w/o backprop" ablation, spec §9, without its train/test
mismatch): an MLP on the architectures' discrete encodings, trained in the same steps as the
generator but on the evaluated architectures' own encodings, so the generator learns from the
weighted reconstruction loss alone. It scores each candidate on the candidate's own discrete
encoding: the authors' code applies it to the generator's continuous logits at sampling time,
an input it never saw in training (spec §9)."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ...model import MLPPredictor
from .base import Candidates, Objective, Scorer, ScorerContext, discrete_encoding
from .spec import SpecSettings


class EncodingSettings(SpecSettings):
    SECTION = "encoding"


class EncodingScorer(Scorer):
    """Batch loss mean_i w_i [(1 - alpha) L_G,i + alpha (P(y_i) - acc_i)^2], P reading the target's
    encoding y_i: the two terms touch disjoint parameters."""

    name = "encoding"
    Settings = EncodingSettings
    summary = "MLP on discrete encodings; the generator learns from reconstruction alone (w/o backprop, spec §9)"

    def __init__(self, settings: EncodingSettings, context: ScorerContext):
        super().__init__(settings, context)
        cfg_dim = context.codec.num_classes * context.codec.max_nodes + context.codec.num_edges
        self.predictor = MLPPredictor(cfg_dim, hidden_layers=settings.predictor_layers)

    def parameters(self) -> list[torch.nn.Parameter]:
        return list(self.predictor.parameters())

    def modules(self) -> dict[str, torch.nn.Module]:
        return {"predictor": self.predictor}

    def targets(self, obs) -> np.ndarray:
        return np.asarray(obs.scores, dtype=np.float32) * self.settings.score_scale

    def objective(self, nodes, edges, targets, weights) -> Objective:
        w = torch.from_numpy(np.asarray(weights, dtype=np.float32))
        t = torch.from_numpy(np.asarray(targets, dtype=np.float32))
        x = discrete_encoding(self.context.codec, nodes, edges)
        alpha = self.context.alpha
        predictor = self.predictor

        def objective(out: torch.Tensor, recon: torch.Tensor) -> torch.Tensor:
            return (w * ((1.0 - alpha) * recon + alpha * (predictor(x) - t) ** 2)).mean()

        return objective

    def score(self, cands: Candidates) -> list[Any]:
        with torch.no_grad():
            values = self.predictor(discrete_encoding(self.context.codec, cands.nodes, cands.edges)).numpy().tolist()
        return [v / self.settings.score_scale for v in values]

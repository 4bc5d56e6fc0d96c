"""The spec's scorer (the default): an MLP predictor on the generator's continuous output, trained
jointly with the generator (spec §3.2-§3.4); a candidate's score is the prediction for the output
of the latent point it was decoded from."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ...model import MLPPredictor
from ..settings import Settings, _positive
from .base import Candidates, Objective, Observations, Scorer, ScorerContext


@dataclass
class SpecSettings(Settings):
    SECTION = "spec"

    predictor_layers: int = 4  #: hidden Linear(D, D) + ReLU layers (spec §3.2)
    score_scale: float = 0.01  #: scores are multiplied by this before regression (% -> fraction)

    def validate(self) -> None:
        _positive(self, "predictor_layers", "score_scale")


class SpecScorer(Scorer):
    """Joint predictor: batch loss mean_i w_i [(1 - alpha) L_G,i + alpha (P(g(z_i)) - acc_i)^2]."""

    name = "spec"
    Settings = SpecSettings
    reads_outputs = True
    summary = "MLP on the generator output, trained jointly with the generator (spec §3)"

    def __init__(self, settings: SpecSettings, context: ScorerContext):
        super().__init__(settings, context)
        self.predictor = MLPPredictor(context.output_dim, hidden_layers=settings.predictor_layers)

    def parameters(self) -> list[torch.nn.Parameter]:
        return list(self.predictor.parameters())

    def modules(self) -> dict[str, torch.nn.Module]:
        return {"predictor": self.predictor}

    def targets(self, obs: Observations) -> np.ndarray:
        return np.asarray(obs.scores, dtype=np.float32) * self.settings.score_scale

    def objective(self, nodes, edges, targets, weights) -> Objective:
        w = torch.from_numpy(np.asarray(weights, dtype=np.float32))
        t = torch.from_numpy(np.asarray(targets, dtype=np.float32))
        alpha = self.context.alpha
        predictor = self.predictor

        def objective(out: torch.Tensor, recon: torch.Tensor) -> torch.Tensor:
            return (w * ((1.0 - alpha) * recon + alpha * (predictor(out) - t) ** 2)).mean()

        return objective

    def score(self, cands: Candidates) -> list[Any]:
        with torch.no_grad():
            values = self.predictor(cands.outputs).numpy().tolist()
        return [v / self.settings.score_scale for v in values]

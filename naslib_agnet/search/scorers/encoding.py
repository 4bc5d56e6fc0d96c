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

from .base import Candidates, Objective, discrete_encoding
from .spec import SpecScorer, SpecSettings


class EncodingSettings(SpecSettings):
    SECTION = "encoding"


class EncodingScorer(SpecScorer):
    """Batch loss mean_i w_i [(1 - alpha) L_G,i + alpha (P(y_i) - acc_i)^2], P reading the target's
    encoding y_i: the two terms touch disjoint parameters. (The predictor is the spec scorer's MLP;
    an encoding has the length of the generator's output.)"""

    name = "encoding"
    Settings = EncodingSettings
    reads_outputs = False
    summary = "MLP on discrete encodings; the generator learns from reconstruction alone (w/o backprop, spec §9)"

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

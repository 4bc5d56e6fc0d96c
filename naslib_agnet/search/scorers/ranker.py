"""The ensemble ranker: the generator and its predictor train as in the spec; after each
retraining an ensemble of small MLPs is fitted from scratch to the evaluated architectures'
encodings (every cell of an architecture: :func:`~.base.architecture_encoding`) (z-scored scores, squared error, full batch) and scores the candidates' encodings
through an acquisition function shared with BANANAS (:func:`naslib_agnet.model.ensemble.acquisition_values`):
one Thompson draw per candidate ("its"), the mean plus ``explore`` spreads ("ucb") or the mean."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ...model import MLPEnsemble
from ...model.ensemble import acquisition_values
from ...model.fast_backprop import single_thread_blas
from ..settings import _choice, _positive
from .base import Candidates, Observations, ScorerContext, architecture_encoding, zscored
from .spec import SpecScorer, SpecSettings

ACQUISITIONS = ("mean", "ucb", "its")
FULL_BATCH = 1 << 30  #: the ranker trains on all observations in one batch


@dataclass
class RankerSettings(SpecSettings):
    """The spec scorer's (its jointly trained predictor), then the ensemble's."""

    SECTION = "ranker"

    members: int = 5
    layers: int = 2
    width: int = 64
    epochs: int = 200
    lr: float = 0.01
    acquisition: str = "its"
    explore: float = 0.5  #: "ucb": spreads added to the mean

    def validate(self) -> None:
        super().validate()
        _positive(self, "members", "layers", "width", "epochs", "lr")
        _positive(self, "explore", strict=False)
        _choice(self, "acquisition", ACQUISITIONS)


class RankerScorer(SpecScorer):
    """The spec's joint training; candidates scored by an MLP ensemble on their encodings."""

    name = "ranker"
    Settings = RankerSettings
    reads_outputs = False
    summary = "spec training; an MLP ensemble on encodings scores the candidates (acquisition: its/ucb/mean)"

    def __init__(self, settings: RankerSettings, context: ScorerContext):
        super().__init__(settings, context)
        s = settings
        self.ranker = MLPEnsemble(s.members, num_layers=s.layers, layer_width=s.width, lr=s.lr, epochs=s.epochs,
                                  loss="mse", regularization=0.0, batch_size=FULL_BATCH)
        self._scale = (0.0, 1.0)  # mean and std of the scores the ranker was fitted to
        self._fitted_on = -1

    def _seed(self) -> int:
        """The seed of the fit and the draws: fixed by the search seed and the number of
        observations, so a resumed run repeats them."""
        return self.context.fit_seed(self._fitted_on)

    def fit(self, obs: Observations) -> None:
        self._fitted_on = len(obs)
        targets, self._scale = zscored(obs.scores)
        with torch.random.fork_rng(devices=[]), single_thread_blas():
            torch.manual_seed(self._seed())
            self.ranker.fit(architecture_encoding(self.context.codec, obs.archs, obs.nodes, obs.edges), targets)

    def members(self, cands: Candidates) -> np.ndarray:
        """The members' predictions ``(members, M)`` in the z-scored units they were fitted to."""
        return self.ranker.predict(architecture_encoding(self.context.codec, cands.archs, cands.nodes, cands.edges))

    def score(self, cands: Candidates) -> list[Any]:
        s = self.settings
        kind = "exploit_only" if s.acquisition == "mean" else s.acquisition
        values = acquisition_values(self.members(cands), None, kind, explore=s.explore,
                                    rng=np.random.default_rng(self._seed()))
        mean, std = self._scale
        return (mean + std * values).tolist()

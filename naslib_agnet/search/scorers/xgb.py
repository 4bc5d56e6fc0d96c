"""XGBoost scorers (spec §6): the paper's "XGB" and "XGB + ranking" variants.

**XGB.** The generator retrains on the weighted reconstruction loss alone; after the
retraining an XGBoost regressor is fitted from scratch to the evaluated architectures'
discrete encodings (one-hot node types and edge bits) and z-scored scores, with the spec's
parameters, and predicts on the candidates' discrete encodings.

**XGB + ranking.** As XGB, and the rank of the fitted model's scores reaches the generator: in
every training step each generated output is scored by the model's *expected* prediction for the
architectures it decodes to (``samples`` draws from its node-type softmax and edge sigmoid, as
the generator's own sampling), the ranks of those scores are compared with the ranks of the
batch's true scores, and the rank loss alpha * mean_i (rank_i - true_rank_i)^2 / B^2 is added to
(1 - alpha) L_G. The ranks are differentiated by blackbox differentiation (Vlastelica et al.
2020, with the step relative to the scores' spread), the expectation by its score-function
estimator (:func:`naslib_agnet.model.blackbox.expected_score`). In the authors' code the
model's output enters as a fresh leaf tensor, so the generator's gradient is the
reconstruction gradient alone (QUIRK-8); their model is also warm-started with 500 more rounds
per batch. Here the model is the one fitted on all observations at the end of the previous
iteration (none in the first retraining, which is then reconstruction only).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..settings import Settings, _positive
from .base import Candidates, Objective, Observations, Scorer, ScorerContext, discrete_encoding, zscored


def _xgboost():
    try:
        import xgboost
    except ImportError:
        raise ImportError("the XGB scorers need the xgboost package: pip install 'naslib-agnet[xgb]' (or "
                          "pip install xgboost; on a machine without a GPU, xgboost-cpu is the smaller wheel)") from None
    return xgboost


@dataclass
class XGBSettings(Settings):
    """spec §6: reg:squarederror, gbtree, max_depth 6, min_child_weight 1, colsample 1, eta 0.3, 500 rounds."""

    SECTION = "xgb"

    max_depth: int = 6
    min_child_weight: float = 1.0
    colsample_bytree: float = 1.0
    colsample_bylevel: float = 1.0
    learning_rate: float = 0.3
    rounds: int = 500
    threads: int = 1  #: XGBoost's nthread (one: grids run one search per core)

    def validate(self) -> None:
        _positive(self, "max_depth", "learning_rate", "rounds", "threads", "colsample_bytree", "colsample_bylevel")
        _positive(self, "min_child_weight", strict=False)


@dataclass
class XGBRankingSettings(XGBSettings):
    SECTION = "xgb_ranking"

    #: the blackbox ranker's interpolation step, in standard deviations of the scores (spec §6: lambda 2,
    #: there in absolute units of a loss summed over the batch)
    rank_lambda: float = 2.0
    samples: int = 4  #: architectures sampled per generated output to estimate its expected score and gradient

    def validate(self) -> None:
        super().validate()
        _positive(self, "rank_lambda", "samples")


class XGBScorer(Scorer):
    name = "xgb"
    Settings = XGBSettings
    LOOP = {"retrain_epochs": 1}  # spec §6: the XGB scripts retrain the generator one epoch per iteration
    summary = "XGBoost on discrete encodings; the generator learns from reconstruction alone (spec §6)"

    def __init__(self, settings: XGBSettings, context: ScorerContext):
        super().__init__(settings, context)
        _xgboost()
        self.booster = None
        self._scale = (0.0, 1.0)

    def _params(self, seed: int) -> dict[str, Any]:
        s = self.settings
        return {"objective": "reg:squarederror", "eval_metric": "rmse", "booster": "gbtree", "max_depth": s.max_depth,
                "min_child_weight": s.min_child_weight, "colsample_bytree": s.colsample_bytree,
                "colsample_bylevel": s.colsample_bylevel, "learning_rate": s.learning_rate, "nthread": s.threads,
                "seed": seed, "verbosity": 0}

    def fit(self, obs: Observations) -> None:
        xgb = _xgboost()
        y, self._scale = zscored(obs.scores)
        x = discrete_encoding(self.context.codec, obs.nodes, obs.edges).numpy()
        self.booster = xgb.train(self._params(self.context.fit_seed(len(obs), bits=31)), xgb.DMatrix(x, label=y), num_boost_round=self.settings.rounds)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The fitted model's z-scored prediction for encodings ``x [M, D]``."""
        if self.booster is None:
            raise RuntimeError("the XGB scorer has not been fitted yet")
        return self.booster.predict(_xgboost().DMatrix(np.asarray(x, dtype=np.float32))).astype(np.float64)

    def score(self, cands: Candidates) -> list[Any]:
        mean, std = self._scale
        return (mean + std * self.predict(discrete_encoding(self.context.codec, cands.nodes, cands.edges).numpy())).tolist()


class XGBRankingScorer(XGBScorer):
    name = "xgb_ranking"
    Settings = XGBRankingSettings
    summary = "XGB, and the rank loss of its scores of the generator output reaches the generator (spec §6, QUIRK-8 fixed)"

    def objective(self, nodes, edges, targets, weights) -> Objective:
        recon_only = super().objective(nodes, edges, targets, weights)
        if self.booster is None or len(targets) < 2:
            return recon_only
        from ...model.blackbox import blackbox_rank, expected_score, rank_descending

        s, alpha = self.settings, self.context.alpha
        codec = self.context.codec
        true = torch.from_numpy(np.asarray(targets, dtype=np.float32))
        true_rank = rank_descending(true)
        generator = torch.Generator().manual_seed((self.context.seed * 7919 + len(targets)) % (1 << 63))

        def objective(out: torch.Tensor, recon: torch.Tensor) -> torch.Tensor:
            scores = expected_score(self.predict, out, codec.num_classes, codec.max_nodes, s.samples, generator)
            ranks = blackbox_rank(scores, s.rank_lambda, relative=True)
            rank_loss = ((ranks - true_rank) ** 2).mean() / len(ranks) ** 2  # in [0, 1/3]: like L_G, O(1)
            return recon_only(out, recon) + alpha * rank_loss

        return objective

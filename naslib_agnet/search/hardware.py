"""Constrained AG-Net (spec §7, generalised): accuracy under constraints ``metric <= limit`` /
``metric >= limit`` (the paper's Joint=0), or accuracy and metrics jointly (Joint=1).

Differences from :class:`~.agnet.AGNetSearch`, all from the spec: a predictor with one
output for accuracy and one per metric, whose input is the generator output with the
device one-hot appended to every layer; a loss whose every per-sample term is divided by
max(its detached value, 1); rank-sum training weights with a multiplicative penalty for
infeasible points; and candidates chosen by predicted rank sums. An observation with an
unknown metric value (NaN) counts as infeasible and adds no loss for that metric.

Every metric enters *oriented* (lower is better: a ``>=`` constraint or a maximised metric
negated, :mod:`naslib_agnet.benchmarks.constraints`). What the predictor regresses is the
setting ``metric_units``:

* ``"scaled"`` (the default): (oriented value - oriented limit) / spread, the spread being
  the standard deviation of the metric over the architectures evaluated before the first
  retraining (the initial random sample; centre: their mean for a metric without a limit),
  kept for the rest of the search, as the predictor is. Feasible means <= 0 in every constrained column. The
  search then does not depend on the metric's units or offset: ``x <= L`` in ms or in s, or
  written as ``-x >= -L``, gives the same trajectory (tests/test_constraints.py).
* ``"raw"`` (spec §7): the oriented value in the table's units. With HW-NAS-Bench's
  milliseconds the fresh predictor's metric output has to grow to several units, and the
  gradient that reaches the generator through its input pushes the generator's logits far
  out: after the first 30-epoch retraining on edgegpu 4 ms, 0, 1, 0, 930, 0 and 0 of 1,000
  latent draws decode to valid cells for seeds 0-5
  (``python scripts/hw_first_iteration.py --data-dir ../shared/data --seeds 6 search.agnet_metric_units raw``);
  other units or an offset (a metric near 40, a negated one) change what it does.
* ``"limit"``: oriented value / |oriented limit| (a variant kept for comparison; it needs a
  finite non-zero limit on every metric and is invariant to the units but not to an offset).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from ..benchmarks.constraints import Constraint, Objective, metric_names, metric_signs, parse_objectives
from ..model import ConditionedMLPPredictor, GeneratorConfig
from ..spaces import ArchKey, Codec
from .agnet import AGNetSearch
from .multiobjective import feasible, hardware_rank_weights, rank_sum_order
from .scorers import Candidates, Scorer, ScorerContext
from .scorers.ranker import RankerScorer
from .scorers.spec import SpecSettings
from .settings import AGNetSettings


#: the scorers the constrained search can use: the spec's conditioned predictor, and the ranker (the same
#: training; candidates ranked by MLP ensembles on their encodings, one per target)
HARDWARE_SCORERS = ("spec", "ranker")


def hardware_settings(scorer: str = "spec", **values: Any) -> AGNetSettings:
    """:class:`AGNetSettings` with the spec's hardware-aware values (§7), then ``values``: names of
    :class:`~.settings.LoopSettings` or :class:`~.settings.HardwareSettings` fields (e.g. ``lr``,
    ``metric_units``)."""
    from dataclasses import fields

    from .settings import HardwareSettings, LoopSettings

    hw_names = {f.name for f in fields(HardwareSettings)}
    unknown = set(values) - hw_names - {f.name for f in fields(LoopSettings)}
    if unknown:
        raise ValueError(f"unknown hardware-aware setting(s) {sorted(unknown)}")
    return AGNetSettings.build(scorer=scorer, hardware=True,
                               loop={k: v for k, v in values.items() if k not in hw_names},
                               hardware_settings={k: v for k, v in values.items() if k in hw_names})


def _normalised(term: torch.Tensor) -> torch.Tensor:
    """term / max(term.detach(), 1): caps each per-sample term's effective scale at 1 (spec §7)."""
    return term / term.detach().clamp(min=1.0)


class HardwareAGNetSearch(AGNetSearch):
    """AG-Net searching for accuracy under ``constraints`` (``joint=False``, Joint=0) or for accuracy
    and the ``objectives`` jointly (``joint=True``, Joint=1), infeasible points penalised in both.

    Args:
        codec, settings, generator_state, generator_config, seed: as :class:`AGNetSearch`
            (use :func:`hardware_settings` for the spec's values).
        constraints: :class:`~naslib_agnet.benchmarks.constraints.Constraint` s (all must hold).
        objectives: the metrics Joint=1 optimises next to accuracy (default: each constrained
            metric, in its constraint's direction); unused under Joint=0.
        joint: rank sums of accuracy and the objectives (Joint=1) instead of accuracy alone.
        condition: the device one-hot appended to the predictor's layers.

    :meth:`observe` takes one value per name in :attr:`metric_names` (constrained metrics first).
    """

    def __init__(self, codec: Codec, settings: AGNetSettings | None = None, *,
                 constraints: Sequence[Constraint] = (), objectives: Sequence[Objective] | None = None,
                 joint: bool, condition, generator_state: Mapping[str, torch.Tensor] | None = None,
                 generator_config: GeneratorConfig | None = None, seed: int = 0):
        settings = settings or hardware_settings()
        self.constraints = tuple(constraints)
        self.objectives = tuple(parse_objectives(None, self.constraints) if objectives is None else objectives)
        self.joint = bool(joint)
        if not self.constraints and not (self.joint and self.objectives):
            raise ValueError("the constrained search needs a constraint (or, for Joint=1, an objective metric)")
        self.metric_names = metric_names(self.constraints, self.objectives)
        #: per metric column: +1 where lower is better, -1 where higher is; the limits in those directions
        self._signs, self.oriented_limits = metric_signs(self.metric_names, self.constraints, self.objectives)
        #: per metric column: an objective of Joint=1 (Joint=0 ranks by accuracy alone)
        self.objective_mask = np.asarray([self.joint and any(o.metric == n for o in self.objectives)
                                          for n in self.metric_names])
        units = settings.hardware.metric_units
        if units == "limit" and not (np.isfinite(self.oriented_limits).all() and (self.oriented_limits != 0).all()):
            raise ValueError("metric_units 'limit' (config key search.agnet_metric_units) regresses value / |limit| "
                             "and needs a finite non-zero limit on every metric; use metric_units 'scaled' (the "
                             "default, independent of the metric's units and offset)")
        if settings.scorer not in HARDWARE_SCORERS:
            raise ValueError(f"the hardware-aware search supports only the scorers {', '.join(HARDWARE_SCORERS)} "
                             f"(search.agnet.scorer), got {settings.scorer!r}")
        self.condition = torch.as_tensor(np.asarray(condition, dtype=np.float32))
        self.metrics: list[np.ndarray] = []  # per observation: the raw values, one per metric column
        m = len(self.metric_names)
        self._center, self._spread = np.zeros(m), np.ones(m)  # target = (oriented - center) / spread
        self._units_fixed = False  # "scaled": set at the first retraining (from the initial sample), then kept
        super().__init__(codec, settings, generator_state=generator_state,
                         generator_config=generator_config, seed=seed)

    def _make_scorer(self, context: ScorerContext) -> Scorer:
        cls = ConditionedRankerScorer if self.settings.scorer == "ranker" else ConditionedScorer
        return cls(self.settings.scorer_settings, context, self.condition, 1 + len(self.metric_names))

    def observations(self):
        """As the loop's, with the metric targets (oriented, in the target units) for a scorer fitted apart."""
        obs = super().observations()
        self._fit_units(self._oriented())
        obs.metrics = (self._oriented() - self._center) / self._spread
        return obs

    # ----------------------------------------------------------------------------- tell
    def observe(self, arch: ArchKey, score: float, metrics=float("nan")) -> None:
        """Record an evaluated architecture's accuracy and its metric values, one per
        :attr:`metric_names` (a number for a single metric; NaN: not measured)."""
        values = np.atleast_1d(np.asarray(metrics, dtype=np.float64))
        if values.shape != (len(self.metric_names),):
            raise ValueError(f"observe({arch}): expected {len(self.metric_names)} metric value(s) for "
                             f"{self.metric_names}, got {metrics!r}")
        if np.isinf(values).any():
            raise ValueError(f"metric values of {arch} must be finite or NaN (unknown), got {metrics!r}")
        super().observe(arch, score)
        self.metrics.append(values)

    def _oriented(self) -> np.ndarray:
        return np.asarray(self.metrics, dtype=np.float64).reshape(-1, len(self.metric_names)) * self._signs

    def feasible_mask(self) -> np.ndarray:
        return feasible(self._oriented(), self.oriented_limits)

    def best_feasible(self) -> tuple[ArchKey, float, np.ndarray] | None:
        """(architecture, score, metric values) of the most accurate feasible observation; None if there is none."""
        ok = self.feasible_mask()
        if not ok.any():
            return None
        i = int(np.flatnonzero(ok)[np.argmax(np.asarray(self.scores)[ok])])
        return self.archs[i], self.scores[i], self.metrics[i]

    # --------------------------------------------------------------------- units of the targets
    def _fit_units(self, oriented: np.ndarray) -> None:
        """The centre and spread of each metric column's target (see the module docstring)."""
        units, limits = self.settings.hardware.metric_units, self.oriented_limits
        m = len(self.metric_names)
        if units == "raw":
            self._center, self._spread = np.zeros(m), np.ones(m)
        elif units == "limit":
            self._center, self._spread = np.zeros(m), np.abs(limits)
        elif self._units_fixed:
            return  # the units of the first retraining stay: the predictor carries over between iterations
        else:
            center, spread = np.zeros(m), np.ones(m)
            fixed = True
            for j in range(m):
                known = oriented[:, j][np.isfinite(oriented[:, j])]
                std = float(known.std()) if known.size > 1 else 0.0
                fixed &= bool(std > 0 and np.isfinite(std))
                spread[j] = std if std > 0 and np.isfinite(std) else 1.0
                if np.isfinite(limits[j]):
                    center[j] = limits[j]
                elif known.size:
                    center[j] = float(known.mean())
            self._center, self._spread, self._units_fixed = center, spread, fixed

    def _limits_in_target_units(self) -> np.ndarray:
        return (self.oriented_limits - self._center) / self._spread

    # ------------------------------------------------------------------------ the hooks
    def _weights(self) -> np.ndarray:
        if self.settings.loop.weighting == "uniform":
            return super()._weights()
        s, hw = self.settings.loop, self.settings.hardware
        oriented = self._oriented()
        if hw.metric_units == "scaled":  # violations of several constraints weigh alike in spreads
            self._fit_units(oriented)
            oriented, limits = (oriented - self._center) / self._spread, self._limits_in_target_units()
        else:
            limits = self.oriented_limits
        return hardware_rank_weights(self.scores, oriented, limits, self.objective_mask, k=s.weight_factor,
                                     penalty=hw.infeasible_penalty,
                                     infeasible_metric_rank=hw.infeasible_order == "accuracy+metric")

    def _targets(self) -> np.ndarray:
        oriented = self._oriented()
        self._fit_units(oriented)
        acc = np.asarray(self.scores, dtype=np.float32) * self.settings.scorer_settings.score_scale  # as the spec scorer
        metric = ((oriented - self._center) / self._spread).astype(np.float32)
        return np.concatenate([acc[:, None], metric], axis=1)

    def _objective(self, nodes: np.ndarray, edges: np.ndarray, targets: np.ndarray, weights: np.ndarray):
        alpha, lam = self.settings.loop.alpha, self.settings.hardware.metric_weight
        acc_t = torch.from_numpy(np.ascontiguousarray(targets[:, 0]))
        known = torch.from_numpy(np.isfinite(targets[:, 1:]))
        metric_t = torch.from_numpy(np.nan_to_num(targets[:, 1:], nan=0.0))
        w = torch.from_numpy(weights)
        predictor = self.scorer.predictor

        def objective(out: torch.Tensor, recon: torch.Tensor) -> torch.Tensor:
            pred = predictor(out)
            acc_term = _normalised((pred[:, 0] - acc_t) ** 2)
            metric_terms = torch.where(known, _normalised((pred[:, 1:] - metric_t) ** 2), torch.zeros(()))
            metric_term = metric_terms.mean(dim=1)
            per_sample = (1 - alpha) * _normalised(recon) + alpha * (lam * acc_term + (1 - lam) * metric_term)
            return (w * per_sample).mean()

        return objective

    def predicted_metrics(self, prediction) -> np.ndarray:
        """A candidate value's metric values (:class:`ConditionedScorer`) back in the table's units and directions."""
        return (np.asarray(prediction[1]) * self._spread + self._center) * self._signs

    def _select(self, candidates: list[tuple[ArchKey, Any]], num: int) -> list[ArchKey]:
        if not candidates:
            return []
        hw = self.settings.hardware
        acc = np.asarray([p[0] for _, p in candidates], dtype=np.float64)
        metric = np.asarray([p[1] for _, p in candidates], dtype=np.float64).reshape(len(candidates), -1)
        order = rank_sum_order(acc, metric, self._limits_in_target_units(), self.objective_mask,
                               hw.infeasible_penalty, infeasible_metric_rank=hw.infeasible_order == "accuracy+metric")
        return [candidates[i][0] for i in order[:num]]


class ConditionedScorer(Scorer):
    """The hardware-aware spec scorer (spec §3.2, §7): the conditioned predictor on the generator
    output, one output for accuracy and one per metric; its loss is the search's (:meth:`HardwareAGNetSearch._objective`).
    A candidate's value is (accuracy in %, metric values in the target units)."""

    name = "spec"
    Settings = SpecSettings
    reads_outputs = True

    def __init__(self, settings: SpecSettings, context: ScorerContext, condition: torch.Tensor, outputs: int):
        super().__init__(settings, context)
        self.predictor = ConditionedMLPPredictor(context.output_dim, condition, hidden_layers=settings.predictor_layers,
                                                 outputs=outputs)

    def parameters(self) -> list[torch.nn.Parameter]:
        return list(self.predictor.parameters())

    def modules(self) -> dict[str, torch.nn.Module]:
        return {"predictor": self.predictor}

    def score(self, cands: Candidates) -> list[Any]:
        with torch.no_grad():
            pred = self.predictor(cands.outputs).numpy().astype(np.float64)
        return [(row[0] / self.settings.score_scale, row[1:]) for row in pred]


class ConditionedRankerScorer(ConditionedScorer):
    """The ranker under constraints: the spec's conditioned training (:class:`ConditionedScorer`); after
    each retraining one MLP ensemble per target (accuracy, each metric in the target units) is fitted
    to the evaluated architectures' encodings, and a candidate's value is (the accuracy ensemble's
    acquisition value, the metric ensembles' means), ranked by the search's rank sums."""

    name = "ranker"
    reads_outputs = False

    def __init__(self, settings, context: ScorerContext, condition: torch.Tensor, outputs: int):
        super().__init__(settings, context, condition, outputs)
        self.rankers = [RankerScorer(settings, context) for _ in range(outputs)]  # accuracy, then each metric
        self._metric_fitted = [False] * (outputs - 1)  # a metric with < 2 known values this iteration: unscored

    def fit(self, obs) -> None:
        from .scorers import Observations

        self.rankers[0].fit(obs)
        for j, ranker in enumerate(self.rankers[1:]):
            known = np.isfinite(obs.metrics[:, j])
            self._metric_fitted[j] = bool(known.sum() >= 2)
            if self._metric_fitted[j]:
                ranker.fit(Observations([a for a, k in zip(obs.archs, known) if k], obs.metrics[known, j],
                                        obs.nodes[known], obs.edges[known]))

    def score(self, cands: Candidates) -> list[Any]:
        acc = np.asarray(self.rankers[0].score(cands), dtype=np.float64)
        metrics = np.full((len(cands), len(self.rankers) - 1), np.nan)
        for j, ranker in enumerate(self.rankers[1:]):
            if self._metric_fitted[j]:
                mean, std = ranker._scale
                metrics[:, j] = mean + std * ranker.members(cands).mean(0)
        return [(a, m) for a, m in zip(acc, metrics)]

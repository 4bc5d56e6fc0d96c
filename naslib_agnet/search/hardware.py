"""Hardware-aware AG-Net (spec §7): accuracy under a constraint ``metric <= limit`` (the
paper's Joint=0) or accuracy and the metric jointly (Joint=1).

Differences from :class:`~.agnet.AGNetSearch`, all from the spec: a two-output predictor
(accuracy, metric) whose input is the generator output with the device one-hot appended
to every layer; a loss whose every per-sample term is divided by max(its detached value,
1); rank-sum training weights with a multiplicative penalty for infeasible points; and
candidates chosen by predicted rank sums. An observation with an unknown metric value
(NaN) counts as infeasible and adds no metric loss.

Variant (not the spec; ``metric_units="limit"``): the predictor regresses metric / limit
instead of the raw metric. With the spec's raw milliseconds the fresh predictor's metric
output has to grow to several units, and the gradient that reaches the generator through
its input pushes the generator's logits far out: after the first 30-epoch retraining on
edgegpu 4 ms, 0, 1, 0, 930, 0 and 0 of 1,000 latent draws decode to valid cells for seeds
0-5; with metric / limit 948, 883, 885, 975, 937 and 985
(``python scripts/hw_first_iteration.py --data-dir ../shared/data --seeds 6
[search.agnet_metric_units limit]``).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from ..model import ConditionedMLPPredictor, GeneratorConfig, reconstruction_loss
from ..spaces import ArchKey, Codec
from .agnet import AGNetSearch, AGNetSettings
from .multiobjective import feasible, hardware_rank_weights, rank_sum_order

#: spec §7 settings that differ from the NB201 defaults (alpha, optimiser, candidate chunks 500..2,500)
HARDWARE_SETTINGS = {"alpha": 0.95, "lr": 2e-4, "weight_decay": 1e-4, "chunk_size": 500, "max_chunks": 5}


def hardware_settings(**overrides: Any) -> AGNetSettings:
    """:class:`AGNetSettings` with the spec's hardware-aware values (§7), then ``overrides``."""
    return AGNetSettings.from_mapping({**HARDWARE_SETTINGS, **overrides})


def _normalised(term: torch.Tensor) -> torch.Tensor:
    """term / max(term.detach(), 1): caps each per-sample term's effective scale at 1 (spec §7)."""
    return term / term.detach().clamp(min=1.0)


class HardwareAGNetSearch(AGNetSearch):
    """AG-Net searching for accuracy under ``metric <= limit`` (``joint=False``) or for
    accuracy and the metric jointly (``joint=True``).

    Args:
        codec, settings, generator_state, generator_config, seed: as :class:`AGNetSearch`
            (use :func:`hardware_settings` for the spec's values).
        limit: the constraint on the metric (``inf``: none).
        joint: also minimise the metric (rank sums of accuracy and metric).
        condition: the device one-hot appended to the predictor's layers.
    """

    def __init__(self, codec: Codec, settings: AGNetSettings | None = None, *, limit: float, joint: bool,
                 condition, generator_state: Mapping[str, torch.Tensor] | None = None,
                 generator_config: GeneratorConfig | None = None, seed: int = 0):
        settings = settings or hardware_settings()
        self.limit = float(limit)
        self.joint = bool(joint)
        units = settings.metric_units
        if units == "limit" and not (np.isfinite(self.limit) and self.limit > 0):
            raise ValueError(f"metric_units 'limit' (config key search.agnet_metric_units) regresses metric / limit "
                             f"and needs a finite positive limit, got {limit}; set one (hardware.limit) or use "
                             "metric_units 'raw'")
        if settings.predictor_input != "generated":
            raise ValueError(f"the hardware-aware search supports only predictor_input 'generated' (config key "
                             f"search.agnet_predictor_input), got {settings.predictor_input!r}")
        #: the predictor's metric target is metric * metric_scale
        self.metric_scale = 1.0 / self.limit if units == "limit" else 1.0
        self.condition = torch.as_tensor(np.asarray(condition, dtype=np.float32))
        self.metrics: list[float] = []
        super().__init__(codec, settings, generator_state=generator_state,
                         generator_config=generator_config, seed=seed)

    def _make_predictor(self, cfg: GeneratorConfig) -> torch.nn.Module:
        return ConditionedMLPPredictor(cfg.output_dim, self.condition, hidden_layers=self.settings.predictor_layers,
                                       outputs=2)

    # ----------------------------------------------------------------------------- tell
    def observe(self, arch: ArchKey, score: float, metric: float = float("nan")) -> None:
        """Record an evaluated architecture's accuracy and metric value (NaN: not measured)."""
        metric = float(metric)
        if np.isinf(metric):
            raise ValueError(f"metric value of {arch} must be finite or NaN (unknown), got {metric}")
        super().observe(arch, score)
        self.metrics.append(metric)

    def feasible_mask(self) -> np.ndarray:
        return feasible(self.metrics, self.limit)

    def best_feasible(self) -> tuple[ArchKey, float, float] | None:
        """(architecture, score, metric) of the most accurate feasible observation; None if there is none."""
        ok = self.feasible_mask()
        if not ok.any():
            return None
        i = int(np.flatnonzero(ok)[np.argmax(np.asarray(self.scores)[ok])])
        return self.archs[i], self.scores[i], self.metrics[i]

    # ------------------------------------------------------------------------ the hooks
    def _weights(self) -> np.ndarray:
        s = self.settings
        return hardware_rank_weights(self.scores, self.metrics, self.limit, self.joint, k=s.weight_factor,
                                     penalty=s.infeasible_penalty,
                                     infeasible_metric_rank=s.infeasible_order == "accuracy+metric")

    def _targets(self) -> np.ndarray:
        acc = np.asarray(self.scores, dtype=np.float32) * self.settings.score_scale
        metric = np.asarray(self.metrics, dtype=np.float32) * np.float32(self.metric_scale)
        return np.stack([acc, metric], axis=1)

    def _objective(self, targets: np.ndarray, weights: np.ndarray):
        alpha, lam = self.settings.alpha, self.settings.metric_weight
        acc_t = torch.from_numpy(np.ascontiguousarray(targets[:, 0]))
        known = torch.from_numpy(np.isfinite(targets[:, 1]))
        metric_t = torch.from_numpy(np.nan_to_num(targets[:, 1], nan=0.0))
        w = torch.from_numpy(weights)

        def objective(out: torch.Tensor, recon: torch.Tensor) -> torch.Tensor:
            pred = self.predictor(out)
            acc_term = _normalised((pred[:, 0] - acc_t) ** 2)
            metric_term = torch.where(known, _normalised((pred[:, 1] - metric_t) ** 2), torch.zeros(()))
            per_sample = (1 - alpha) * _normalised(recon) + alpha * (lam * acc_term + (1 - lam) * metric_term)
            return (w * per_sample).mean()

        return objective

    def _train_step(self, z: torch.Tensor, nodes: np.ndarray, edges: np.ndarray,
                    targets: np.ndarray, weights: np.ndarray) -> None:
        objective = self._objective(targets, weights)
        self.optimizer.zero_grad(set_to_none=False)
        if self.settings.engine == "numpy":
            from ..model.fast_backprop import objective_loss_and_grad

            objective_loss_and_grad(self.generator, z.numpy(), nodes, edges, objective)
        else:
            out = self.generator(z)
            recon = reconstruction_loss(out, torch.from_numpy(nodes), torch.from_numpy(edges),
                                        self.generator.config)
            objective(out, recon).backward()
        self.optimizer.step()

    def _predict(self, out: torch.Tensor) -> list[Any]:
        pred = self.predictor(out).numpy().astype(np.float64)
        return [(a / self.settings.score_scale, m / self.metric_scale) for a, m in pred.tolist()]

    def _select(self, candidates: list[tuple[ArchKey, Any]], num: int) -> list[ArchKey]:
        if not candidates:
            return []
        pred = np.asarray([p for _, p in candidates], dtype=np.float64)
        order = rank_sum_order(pred[:, 0], pred[:, 1], self.limit, self.joint, self.settings.infeasible_penalty,
                               infeasible_metric_rank=self.settings.infeasible_order == "accuracy+metric")
        return [candidates[i][0] for i in order[:num]]

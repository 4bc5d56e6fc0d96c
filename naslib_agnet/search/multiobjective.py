"""Accuracy under a hardware constraint, and accuracy and hardware cost jointly (spec §7).

Pure NumPy on arrays of accuracies (higher is better) and metric values (latency,
energy, ...; lower is better). A NaN metric value is an unknown measurement: it is never
feasible, ranks behind every measured value and never enters a Pareto front.
"""
from __future__ import annotations

import numpy as np

__all__ = ["feasible", "hardware_rank_weights", "rank_sum_order", "pareto_front", "hypervolume"]

#: The factor that pushes infeasible points behind feasible ones (spec §7).
INFEASIBLE_PENALTY = 1000.0


def feasible(metric, limit: float) -> np.ndarray:
    """``metric <= limit`` element-wise; unknown (NaN) values are infeasible."""
    metric = np.asarray(metric, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.isfinite(metric) & (metric <= limit)


def _ranks(values: np.ndarray, descending: bool) -> np.ndarray:
    """1-based ranks (1 = best); ties by position, NaN behind every number."""
    values = np.asarray(values, dtype=np.float64)
    key = np.where(np.isnan(values), np.inf, -values if descending else values)
    order = np.argsort(key, kind="stable")
    ranks = np.empty(values.size, dtype=np.float64)
    ranks[order] = np.arange(1, values.size + 1)
    return ranks


def _rank_sum(acc, metric, limit: float, joint: bool, penalty: float, infeasible: np.ndarray,
              infeasible_metric_rank: bool = False) -> np.ndarray:
    acc = np.asarray(acc, dtype=np.float64)
    if acc.ndim != 1 or acc.size == 0:
        raise ValueError("need a non-empty 1-d array of accuracies")
    metric = np.asarray(metric, dtype=np.float64)
    if metric.shape != acc.shape:
        raise ValueError(f"accuracies and metric values differ in shape: {acc.shape} vs {metric.shape}")
    score = _ranks(acc, descending=True)
    if joint:
        score = score + _ranks(metric, descending=False)
    elif infeasible_metric_rank:  # variant: infeasible points also rank by their metric under Joint=0
        score = score + np.where(infeasible, _ranks(metric, descending=False), 0.0)
    return score * np.where(infeasible, penalty, 1.0)


def hardware_rank_weights(acc, metric, limit: float, joint: bool, k: float = 0.01,
                          penalty: float = INFEASIBLE_PENALTY, infeasible_metric_rank: bool = False) -> np.ndarray:
    """AG-Net's training weights for hardware-aware search (spec §7).

    c_i = (r_acc,i + r_metric,i) * p_i with 1-based ranks (r_metric = 0 unless ``joint``),
    p_i = ``penalty`` for an infeasible point (metric > limit or unknown), else 1;
    w_i = 1 / (k |D| + rank of c_i), rank 0-based ascending, ties by position.
    ``infeasible_metric_rank`` (a variant, not the spec): with ``joint=False`` the infeasible
    points keep r_metric too, so that without any feasible point the faster ones weigh more.
    """
    acc = np.asarray(acc, dtype=np.float64)
    c = _rank_sum(acc, metric, limit, joint, penalty, ~feasible(metric, limit), infeasible_metric_rank)
    order = np.argsort(c, kind="stable")
    rank = np.empty(c.size, dtype=np.float64)
    rank[order] = np.arange(c.size)
    return 1.0 / (k * c.size + rank)


def rank_sum_order(pred_acc, pred_metric, limit: float, joint: bool,
                   penalty: float = INFEASIBLE_PENALTY, infeasible_metric_rank: bool = False) -> np.ndarray:
    """Candidate indices, best first, by AG-Net's selection rule (spec §7): rank by predicted
    accuracy (+ rank by predicted metric if ``joint``), times ``penalty`` where the predicted
    metric exceeds the limit; ties by position. ``infeasible_metric_rank``: as in
    :func:`hardware_rank_weights`, for the candidates predicted infeasible."""
    pred_metric = np.asarray(pred_metric, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        over = ~(pred_metric <= limit)
    score = _rank_sum(pred_acc, pred_metric, limit, joint, penalty, over, infeasible_metric_rank)
    return np.argsort(score, kind="stable")


def pareto_front(acc, metric) -> np.ndarray:
    """Indices of the non-dominated points (max accuracy, min metric), sorted by metric.

    A point is dominated when another is at least as good in both and better in one;
    of identical points the first is kept. Points with an unknown metric are left out.
    """
    acc = np.asarray(acc, dtype=np.float64)
    metric = np.asarray(metric, dtype=np.float64)
    idx = np.flatnonzero(np.isfinite(metric) & np.isfinite(acc))
    order = idx[np.lexsort((np.arange(idx.size), -acc[idx], metric[idx]))]  # metric asc, acc desc, position
    front, best = [], -np.inf
    for i in order:
        if acc[i] > best:
            front.append(int(i))
            best = acc[i]
    return np.asarray(front, dtype=np.intp)


def hypervolume(acc, metric, ref_acc: float, ref_metric: float) -> float:
    """Area dominated by the points and bounded by the reference point (``ref_acc``, ``ref_metric``):
    accuracy above ``ref_acc``, metric below ``ref_metric``. Points outside that box add nothing."""
    acc = np.asarray(acc, dtype=np.float64)
    metric = np.asarray(metric, dtype=np.float64)
    front = pareto_front(acc, metric)
    area, prev_acc = 0.0, ref_acc
    for i in front:  # metric ascending, accuracy ascending along the front
        if metric[i] >= ref_metric or acc[i] <= prev_acc:
            continue
        area += (acc[i] - prev_acc) * (ref_metric - metric[i])
        prev_acc = acc[i]
    return float(area)

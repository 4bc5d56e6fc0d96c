"""Accuracy under constraints, and accuracy and metrics jointly (spec §7, generalised).

Pure NumPy on arrays of accuracies (higher is better) and *oriented* metric values (lower
is better: a ``>=`` constraint or a maximised metric enters negated, see
:mod:`naslib_agnet.benchmarks.constraints`), one column per metric, with a limit per column
(``inf``: unconstrained). A NaN metric value is an unknown measurement: it never meets a
limit, ranks behind every measured value and never enters a Pareto front. A 1-d metric
array is one column.
"""
from __future__ import annotations

import numpy as np

__all__ = ["feasible", "violation", "hardware_rank_weights", "rank_sum_order", "pareto_front", "hypervolume"]

#: The factor that pushes infeasible points behind feasible ones (spec §7).
INFEASIBLE_PENALTY = 1000.0


def _columns(metric, limits) -> tuple[np.ndarray, np.ndarray]:
    metric = np.asarray(metric, dtype=np.float64)
    if metric.ndim == 1:
        metric = metric[:, None]
    limits = np.broadcast_to(np.asarray(limits, dtype=np.float64), (metric.shape[1],))
    return metric, limits


def feasible(metric, limits) -> np.ndarray:
    """Rows whose (oriented) values meet every finite limit, ``value <= limit``; an unknown (NaN)
    value in a constrained column is infeasible."""
    metric, limits = _columns(metric, limits)
    on = np.isfinite(limits)
    with np.errstate(invalid="ignore"):
        return (np.isfinite(metric[:, on]) & (metric[:, on] <= limits[on])).all(axis=1)


def violation(metric, limits) -> np.ndarray:
    """Per row, the sum over constrained columns of ``max(0, value - limit)`` (0: feasible; ``inf``
    where a constrained value is unknown). In the units given: pass normalised values to weigh
    several constraints alike."""
    metric, limits = _columns(metric, limits)
    on = np.isfinite(limits)
    over = np.maximum(metric[:, on] - limits[on], 0.0)
    return np.where(np.isnan(over), np.inf, over).sum(axis=1)


def _ranks(values: np.ndarray, descending: bool) -> np.ndarray:
    """1-based ranks (1 = best); ties by position, NaN behind every number."""
    values = np.asarray(values, dtype=np.float64)
    key = np.where(np.isnan(values), np.inf, -values if descending else values)
    order = np.argsort(key, kind="stable")
    ranks = np.empty(values.size, dtype=np.float64)
    ranks[order] = np.arange(1, values.size + 1)
    return ranks


def _rank_sum(acc, metric, limits, objectives, penalty: float, infeasible: np.ndarray,
              infeasible_metric_rank: bool = False) -> np.ndarray:
    acc = np.asarray(acc, dtype=np.float64)
    if acc.ndim != 1 or acc.size == 0:
        raise ValueError("need a non-empty 1-d array of accuracies")
    metric, limits = _columns(metric, limits)
    if metric.shape[0] != acc.shape[0]:
        raise ValueError(f"accuracies and metric values differ in length: {acc.shape[0]} vs {metric.shape[0]}")
    objectives = np.broadcast_to(np.asarray(objectives, dtype=bool), (metric.shape[1],))
    score = _ranks(acc, descending=True)
    for j in np.flatnonzero(objectives):  # Joint=1: + the rank of every objective metric
        score = score + _ranks(metric[:, j], descending=False)
    if infeasible_metric_rank and not objectives.any():
        # variant: under Joint=0 infeasible points also rank by how far they miss the limits
        score = score + np.where(infeasible, _ranks(violation(metric, limits), descending=False), 0.0)
    return score * np.where(infeasible, penalty, 1.0)


def hardware_rank_weights(acc, metric, limits, objectives=False, k: float = 0.01,
                          penalty: float = INFEASIBLE_PENALTY, infeasible_metric_rank: bool = False) -> np.ndarray:
    """AG-Net's training weights for constrained search (spec §7).

    c_i = (r_acc,i + sum over objective columns of r_metric,i) * p_i with 1-based ranks (no
    metric rank under Joint=0, ``objectives`` all False), p_i = ``penalty`` for an infeasible
    point (a limit missed or unknown), else 1; w_i = 1 / (k |D| + rank of c_i), rank 0-based
    ascending, ties by position. ``objectives``: one bool per metric column (or one for all).
    ``infeasible_metric_rank`` (a variant, not the spec): under Joint=0 the infeasible points also
    get the rank of their :func:`violation`, so that without any feasible point the nearer ones
    weigh more (for one constraint: the rank of the metric).
    """
    c = _rank_sum(acc, metric, limits, objectives, penalty, ~feasible(metric, limits), infeasible_metric_rank)
    order = np.argsort(c, kind="stable")
    rank = np.empty(c.size, dtype=np.float64)
    rank[order] = np.arange(c.size)
    return 1.0 / (k * c.size + rank)


def rank_sum_order(pred_acc, pred_metric, limits, objectives=False,
                   penalty: float = INFEASIBLE_PENALTY, infeasible_metric_rank: bool = False) -> np.ndarray:
    """Candidate indices, best first, by AG-Net's selection rule (spec §7): rank by predicted
    accuracy (+ ranks by the predicted objective metrics under Joint=1), times ``penalty`` where a
    predicted value misses its limit; ties by position. ``infeasible_metric_rank``: as in
    :func:`hardware_rank_weights`, for the candidates predicted infeasible."""
    over = ~feasible(pred_metric, limits)
    score = _rank_sum(pred_acc, pred_metric, limits, objectives, penalty, over, infeasible_metric_rank)
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

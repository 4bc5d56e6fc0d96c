"""Reading the ``hardware`` record of a run's summary.json (written by
:func:`~.runner.hardware_record`): constraints, feasibility, violations and the words every
line, table and plot uses for them. NumPy only, so the reports load fast."""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ..benchmarks.constraints import Constraint, Objective, describe, describe_values, oriented_matrix

__all__ = ["constraints_of", "objectives_of", "record_feasible", "oriented_values", "violations",
           "condition_text", "values_text", "front_axis", "query_values"]


def constraints_of(record: Mapping[str, Any]) -> tuple[Constraint, ...]:
    return tuple(Constraint(c["metric"], c["sense"], c["limit"]) for c in record.get("constraints") or ())


def objectives_of(record: Mapping[str, Any]) -> tuple[Objective, ...]:
    return tuple(Objective(o["metric"], o["sense"]) for o in record.get("objectives") or ())


def oriented_values(record: Mapping[str, Any], values) -> tuple[np.ndarray, np.ndarray]:
    """(values ``[n, M]`` turned so that lower is better, oriented limits ``[M]``)."""
    return oriented_matrix(values, record["metrics"], constraints_of(record), objectives_of(record))


def record_feasible(record: Mapping[str, Any], values: Iterable[float]) -> bool:
    """Whether one architecture's values (one per ``record["metrics"]``) meet every constraint."""
    from ..search.multiobjective import feasible

    oriented, limits = oriented_values(record, [list(values)])
    return bool(feasible(oriented, limits)[0])


def violations(record: Mapping[str, Any], values) -> np.ndarray:
    """Per row: how far the values miss the constraints, summed over constraints in units of each
    metric's spread in the table (0: feasible; inf: a constrained value unmeasured)."""
    from ..search.multiobjective import violation

    oriented, limits = oriented_values(record, values)
    spread = np.asarray([record.get("violation_spread", {}).get(m, 1.0) or 1.0 for m in record["metrics"]])
    return violation(oriented / spread, limits / spread)


def query_values(record: Mapping[str, Any], queries: list[dict[str, Any]]) -> np.ndarray:
    """``[n, M]``: each query's metric values (NaN where not measured)."""
    names = record["metrics"]
    return np.asarray([[math.nan if (q.get("metrics") or {}).get(m) is None else q["metrics"][m] for m in names]
                       for q in queries], dtype=np.float64).reshape(len(queries), len(names))


def condition_text(record: Mapping[str, Any]) -> str:
    """``'edgegpu_latency <= 4 ms'`` (every constraint, with units)."""
    return describe(constraints_of(record), objectives_of(record), record.get("units") or {})


def values_text(record: Mapping[str, Any], values: Mapping[str, Any] | None) -> str:
    """``'edgegpu_latency 3.2 ms'`` for one query's ``metrics`` mapping."""
    values = values or {}
    return describe_values(record["metrics"], [values.get(m) for m in record["metrics"]], record.get("units") or {})


def front_axis(record: Mapping[str, Any]) -> tuple[str, float, str]:
    """(metric, sign, axis label) of the metric the Pareto fronts and hypervolumes use."""
    front = record["front"]
    unit = (record.get("units") or {}).get(front["metric"])
    direction = "lower is better" if front["sign"] > 0 else "higher is better"
    return front["metric"], front["sign"], f"{front['metric']}" + (f" ({unit}, {direction})" if unit
                                                                    else f" ({direction})")


def upgrade_legacy(summary: dict[str, Any]) -> dict[str, Any]:
    """A summary.json written before 0.3.0 (one metric, ``metric <= limit``, per-query ``metric``)
    rewritten in place to the current record, so that ``report`` reads old run folders."""
    hw = summary.get("hardware")
    if not isinstance(hw, dict) or "constraints" in hw or "metric" not in hw:
        return summary
    from ..benchmarks.metrics import _guessed_unit

    metric, limit = hw["metric"], hw.get("limit")
    unit = _guessed_unit(metric)
    hw["constraints"] = [] if limit is None else [{"metric": metric, "sense": "<=", "limit": limit, "unit": unit}]
    hw["objectives"] = [{"metric": metric, "sense": "min"}]
    hw["metrics"], hw["units"] = [metric], {metric: unit}
    hw["condition"] = condition_text(hw)
    hw["front"] = {"metric": metric, "sign": 1.0}
    ref = hw.get("hypervolume_reference") or {}
    if metric in ref:
        ref["oriented_" + metric] = ref.pop(metric)
    if "table_min" in hw:
        hw["table_best"] = {metric: hw["table_min"]}
    if isinstance(hw.get("optimum"), dict) and metric in hw["optimum"]:
        hw["optimum"]["metrics"] = {metric: hw["optimum"].pop(metric)}
    for q in summary.get("queries") or []:
        if "metric" in q and "metrics" not in q:
            q["metrics"] = {metric: q.pop("metric")}
        if "best_feasible_metric" in q:
            value = q.pop("best_feasible_metric")
            q["best_feasible_metrics"] = None if value is None else {metric: value}
    return summary

"""A metric table with constraints and objectives: what the runner, the constrained optimizers and
the reports share through ``dataset_api["hardware"]``."""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from .constraints import (Constraint, Objective, describe, describe_values, metric_names, metric_signs,
                          parse_objectives)
from .errors import BenchmarkDataError
from .metrics import HW_NAS_BENCH_DEVICES, _guessed_unit
from .tabular import ArchKey, TabularOracle

__all__ = ["HardwareTask"]

class HardwareTask:
    """Constraints (all must hold) and objectives (Joint=1) on the columns of one metric table.

    Args:
        table: the metric table (:func:`~.metrics.load_metric_table`).
        constraints: e.g. ``(Constraint("edgegpu_latency", "<=", 4),)``; may be empty when there
            are objectives (a Joint=1 search without a constraint).
        objectives: default: each constrained metric, minimised under ``<=``, maximised under ``>=``.
    """

    def __init__(self, table: TabularOracle, constraints: Sequence[Constraint],
                 objectives: Sequence[Objective] | None = None):
        self.table = table
        self.constraints = tuple(constraints)
        self.objectives = tuple(parse_objectives(None, self.constraints) if objectives is None else objectives)
        if not self.constraints and not self.objectives:
            raise BenchmarkDataError("a hardware task needs a constraint or an objective metric")
        #: the metric columns, constrained ones first; per query, one value each
        self.metrics = metric_names(self.constraints, self.objectives)
        missing = [m for m in self.metrics if m not in table.metric_names]
        if missing:
            raise BenchmarkDataError(f"metric table {table.source} has no column {missing[0]!r}; its metric "
                                     f"columns are {table.metric_names}")
        self._values = np.stack([table.values(m) for m in self.metrics], axis=1).astype(np.float64)
        for j, m in enumerate(self.metrics):
            if np.isnan(self._values[:, j]).all():
                raise BenchmarkDataError(f"column {m!r} of {table.source} has no measured value")
        try:
            #: per metric column: +1 where lower is better, -1 where higher is; the limits in those directions
            self.signs, self.oriented_limits = metric_signs(self.metrics, self.constraints, self.objectives)
        except ValueError as exc:
            raise BenchmarkDataError(str(exc)) from None
        declared = getattr(table, "units", None) or {}
        #: unit per metric column (declared in the table, else guessed from the name; None: unknown)
        self.units = {m: declared.get(m) or _guessed_unit(m) for m in self.metrics}
        #: the device one-hot the predictor is conditioned on (every named device; zeros for none known)
        self.condition = self.condition_for(self.metrics)
        #: per metric column, the table's standard deviation: violations of several constraints are
        #: summed in these units to find the least-violating architecture
        self.spread = np.asarray([np.nanstd(self._values[:, j]) or 1.0 for j in range(len(self.metrics))])
        self.descriptions = {m: table.splits.get(m, m) for m in self.metrics}

    @staticmethod
    def condition_for(metrics: Iterable[str]) -> np.ndarray:
        """The HW-NAS-Bench device one-hot of metric columns named ``<device>_...`` (a ``neg_`` prefix
        ignored, so a negated column keeps its device); zeros for a column of no known device."""
        devices = {m.removeprefix("neg_").split("_", 1)[0] for m in metrics}
        return np.asarray([float(d in devices) for d in HW_NAS_BENCH_DEVICES], dtype=np.float32)

    # ------------------------------------------------------------------------------- words
    def constraint_text(self) -> str:
        """``'edgegpu_latency <= 4 ms and robust_acc >= 40 %'`` (:func:`~.constraints.describe`)."""
        return describe(self.constraints, self.objectives, self.units)

    def objective_text(self) -> str:
        return ", ".join(str(o) for o in self.objectives)

    def value_text(self, values: Iterable[float]) -> str:
        """``'edgegpu_latency 3.2 ms, robust_acc 41 %'`` for one architecture's values."""
        return describe_values(self.metrics, values, self.units)

    # ------------------------------------------------------------------------------ values
    def values(self, key: Iterable[int]) -> np.ndarray:
        """The metric values of one architecture, one per :attr:`metrics` (NaN: not measured)."""
        return self._values[self.table.index_of(key)].copy()

    def values_for(self, keys: Iterable[Iterable[int]]) -> np.ndarray:
        """``[n, M]``: the metric values of each architecture in ``keys``."""
        return np.asarray([self._values[self.table.index_of(k)] for k in keys], dtype=np.float64).reshape(
            -1, len(self.metrics))

    def oriented(self, values: np.ndarray) -> np.ndarray:
        """Values turned so that lower is better in every column."""
        return np.asarray(values, dtype=np.float64).reshape(-1, len(self.metrics)) * self.signs

    def feasible(self, values: np.ndarray) -> np.ndarray:
        """Rows of values ``[n, M]`` that meet every constraint (unmeasured: infeasible)."""
        from ..search.multiobjective import feasible

        return feasible(self.oriented(values), self.oriented_limits)

    def is_feasible(self, key: Iterable[int]) -> bool:
        return bool(self.feasible(self.values(key)[None])[0])

    def violation(self, values: np.ndarray) -> np.ndarray:
        """Per row: summed shortfall against the limits in units of each column's table spread
        (0: feasible; inf: a constrained value not measured)."""
        from ..search.multiobjective import violation

        return violation(self.oriented(values) / self.spread, self.oriented_limits / self.spread)

    def constrained_optimum(self, accuracy: TabularOracle, metric: str = "val_acc",
                            values: np.ndarray | None = None) -> tuple[ArchKey, float, np.ndarray] | None:
        """(architecture, accuracy, metric values) of the most accurate feasible architecture in the
        table; None when none is feasible. ``values``: :meth:`values_for` of ``accuracy.keys()``."""
        acc = accuracy.values(metric)
        keys = accuracy.keys()
        values = self.values_for(keys) if values is None else values
        ok = self.feasible(values)
        if not ok.any():
            return None
        i = int(np.flatnonzero(ok)[np.argmax(acc[ok])])
        return keys[i], float(acc[i]), values[i]

    def __repr__(self) -> str:
        return f"HardwareTask({self.constraint_text()}; objectives {self.objective_text()}; table={self.table.source})"

"""A tabular benchmark: a fixed table of metrics keyed by architecture."""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .errors import BenchmarkDataError

__all__ = ["ArchKey", "TabularOracle", "normalize_key"]

#: An architecture key: a tuple of ints (for NAS-Bench-201, NASLib's op-index tuple).
ArchKey = tuple[int, ...]


def normalize_key(key: Iterable[Any]) -> ArchKey:
    """Return ``key`` as a tuple of Python ints.

    Accepts any iterable of integer-like values (Python ints, numpy integers, a numpy
    array). Floats, strings and other non-integers are rejected.

    Raises:
        TypeError: if ``key`` is not an iterable of integers.
    """
    if type(key) is tuple and all(type(k) is int for k in key):
        return key  # fast path: already normalised
    if isinstance(key, (str, bytes)):
        raise TypeError(f"architecture key must be a sequence of ints, got the string {key!r}")
    try:
        return tuple(operator.index(k) for k in key)
    except TypeError as exc:
        raise TypeError(
            f"architecture key must be a sequence of ints (e.g. (4, 3, 3, 0, 0, 0)), "
            f"got {key!r}"
        ) from exc


class TabularOracle:
    """A read-only table of per-architecture metrics, answering queries in O(1).

    Args:
        name: short name of the table, e.g. ``"nasbench201/cifar10"``.
        keys: architecture keys in table order; each a tuple of ints, all distinct.
        metrics: metric name -> 1-D array with one value per key (stored as float64).
            NaN marks a missing value.
        source: where the table came from (usually the absolute path of the file);
            quoted in error messages.
        splits: optional description of each metric (what split, what unit, what
            schedule), e.g. ``{"val_acc": "cifar10-valid validation accuracy (%) ..."}``.

    Raises:
        BenchmarkDataError: if the keys are duplicated or malformed, or a metric array
            does not have one value per key.
    """

    def __init__(
        self,
        name: str,
        keys: Sequence[Iterable[int]],
        metrics: Mapping[str, Any],
        source: str,
        splits: Mapping[str, str] | None = None,
    ) -> None:
        self.name: str = name
        self.source: str = source
        self.splits: dict[str, str] = dict(splits or {})

        norm_keys: list[ArchKey] = []
        index: dict[ArchKey, int] = {}
        for row, raw in enumerate(keys):
            try:
                key = normalize_key(raw)
            except TypeError as exc:
                raise BenchmarkDataError(
                    f"{source}: row {row} of table {name!r} has an invalid architecture "
                    f"key: {exc}. Every key must be a tuple of ints."
                ) from exc
            if key in index:
                raise BenchmarkDataError(
                    f"{source}: architecture {key} appears twice in table {name!r} "
                    f"(rows {index[key]} and {row}); each architecture must appear exactly "
                    f"once. Regenerate or replace the file."
                )
            index[key] = row
            norm_keys.append(key)
        self._keys: list[ArchKey] = norm_keys
        self._index: dict[ArchKey, int] = index

        if not metrics:
            raise BenchmarkDataError(
                f"{source}: table {name!r} has no metrics; at least one metric column is required."
            )
        self._metrics: dict[str, np.ndarray] = {}
        for metric, values in metrics.items():
            arr = np.array(values, dtype=np.float64)  # a private copy
            if arr.ndim != 1 or arr.shape[0] != len(norm_keys):
                raise BenchmarkDataError(
                    f"{source}: metric {metric!r} of table {name!r} has shape {arr.shape}, "
                    f"expected ({len(norm_keys)},), one value per architecture."
                )
            arr.setflags(write=False)
            self._metrics[metric] = arr

    # -- container protocol -------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        try:
            return normalize_key(key) in self._index  # type: ignore[arg-type]
        except TypeError:
            return False

    def __repr__(self) -> str:
        return (
            f"TabularOracle(name={self.name!r}, rows={len(self)}, "
            f"metrics={self.metric_names}, source={self.source!r})"
        )

    # -- accessors ----------------------------------------------------------------------

    @property
    def metric_names(self) -> list[str]:
        """Names of the metrics this table holds, in insertion order."""
        return list(self._metrics)

    def keys(self) -> list[ArchKey]:
        """All architecture keys, in table order."""
        return list(self._keys)

    def index_of(self, key: Iterable[int]) -> int:
        """Row index of ``key`` in the table (O(1)).

        Raises:
            BenchmarkDataError: if the key is malformed or absent from the table.
        """
        try:
            norm = normalize_key(key)
        except TypeError as exc:
            raise BenchmarkDataError(
                f"cannot query table {self.name!r} ({self.source}): {exc}."
            ) from exc
        row = self._index.get(norm)
        if row is None:
            raise BenchmarkDataError(
                f"architecture {norm} is absent from the table {self.name!r} "
                f"({self.source}, {len(self)} architectures). Check that the key uses the "
                f"table's representation (for NAS-Bench-201: NASLib's op-index tuple of "
                f"NasBench201SearchSpace.get_hash(), 6 ints in 0..4) and that the table is "
                f"complete."
            )
        return row

    def query(self, key: Iterable[int]) -> dict[str, float]:
        """All metrics of one architecture, as ``{metric: value}``.

        Raises:
            BenchmarkDataError: if the key is malformed or absent from the table.
        """
        row = self.index_of(key)
        return {metric: float(arr[row]) for metric, arr in self._metrics.items()}

    def values(self, metric: str) -> np.ndarray:
        """The read-only column of ``metric``, aligned with :meth:`keys`.

        Raises:
            BenchmarkDataError: if the table has no such metric.
        """
        arr = self._metrics.get(metric)
        if arr is None:
            described = "; ".join(f"{m}: {d}" for m, d in self.splits.items())
            raise BenchmarkDataError(
                f"table {self.name!r} ({self.source}) has no metric {metric!r}; it has "
                f"{self.metric_names}." + (f" ({described})" if described else "")
            )
        return arr

    def best(self, metric: str, maximize: bool = True) -> tuple[ArchKey, float]:
        """The architecture with the highest (or lowest) value of ``metric``.

        Missing values (NaN) are ignored; ties go to the first row in table order.

        Raises:
            BenchmarkDataError: if the metric does not exist or has no values.
        """
        arr = self.values(metric)
        if arr.size == 0 or bool(np.all(np.isnan(arr))):
            raise BenchmarkDataError(
                f"table {self.name!r} ({self.source}) has no values for metric {metric!r}."
            )
        row = int(np.nanargmax(arr) if maximize else np.nanargmin(arr))
        return self._keys[row], float(arr[row])

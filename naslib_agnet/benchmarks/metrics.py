"""Per-architecture metric tables (hardware cost and the like) for the NB201 space.

A metric table is a CSV with a ``naslib_op_indices`` column (NASLib's NB201 op-index
tuple, dash-joined, e.g. ``4-3-3-0-0-0``) and numeric columns, one row per architecture:
HW-NAS-Bench's ``hw-nas-bench/hw_nas_bench_{dataset}.csv`` files in the data directory, or a
user's own file. It loads into a :class:`~.tabular.TabularOracle`; a missing measurement
(an empty cell, ``nan``, or HW-NAS-Bench's ``-1``) is stored as NaN and means *unknown*.

In a user's file a column's name says what it holds: ``*_latency`` (ms) and ``*_energy`` (mJ)
must not be negative, ``*_acc`` / ``*_accuracy`` are accuracies in percent and must lie in
[0, 100] (unless the name starts with ``neg_``: a negated metric). Other columns are unrestricted.
"""
from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .errors import BenchmarkDataError, check_range, csv_read_errors
from .nasbench201 import _canonical_dataset, _parse_dash_op_indices
from .tabular import ArchKey, TabularOracle

__all__ = ["HW_NAS_BENCH", "HW_NAS_BENCH_DEVICES", "HardwareObjective", "hw_nas_bench_path", "load_metric_table",
           "metric_table_path",
           "check_covers"]

#: The name that selects HW-NAS-Bench's tables in the data directory.
HW_NAS_BENCH = "hw-nas-bench"
#: HW-NAS-Bench's devices, in the order of AG-Net's device one-hot (spec §7).
HW_NAS_BENCH_DEVICES: tuple[str, ...] = ("edgegpu", "raspi4", "edgetpu", "pixel3", "eyeriss", "fpga")
_KEY_COLUMN = "naslib_op_indices"
_INDEX_COLUMNS = ("nb201_index",)  # row identifiers, not metrics
_UNITS = {"latency": "ms", "energy": "mJ"}
_ACCURACY_SUFFIXES = ("acc", "accuracy")
#: a column named ``neg_...`` holds a negated metric (e.g. ``neg_robust_acc``): its range is not checked
_NEGATED_PREFIX = "neg_"


def _suffix(column: str) -> str:
    """The last ``_``-separated word of a column name (``edgegpu_latency`` -> ``latency``)."""
    return column.rsplit("_", 1)[-1]


def _column_range(column: str) -> tuple[str, float, float | None, str] | None:
    """(what the column holds, low, high, fix) for a column of a user's table, from its name;
    None for a column of unknown meaning (unrestricted)."""
    suffix = _suffix(column)
    if suffix in _UNITS:
        article = "an" if suffix[0] in "aeiou" else "a"
        return (f"{article} {suffix} in {_UNITS[suffix]}", 0.0, None,
                "A missing measurement is an empty cell, not a negative number: correct the value or "
                "leave the cell empty.")
    if suffix in _ACCURACY_SUFFIXES and not column.startswith(_NEGATED_PREFIX):
        return ("an accuracy in percent", 0.0, 100.0,
                "The accuracies of a metric table are in percent (0..100, not fractions): correct the "
                "value, or leave the cell empty for a missing measurement.")
    return None


def hw_nas_bench_path(data_dir: str | os.PathLike[str], dataset: str) -> Path:
    """``{data_dir}/hw-nas-bench/hw_nas_bench_{dataset}.csv`` (dataset as NAS-Bench-201 names it)."""
    return Path(data_dir).expanduser().absolute() / HW_NAS_BENCH / f"hw_nas_bench_{_canonical_dataset(dataset)}.csv"


def metric_table_path(table: str | os.PathLike[str], data_dir: str | os.PathLike[str] | None = None,
                      dataset: str | None = None) -> Path:
    """The file a ``hardware.table`` value names (see :func:`load_metric_table`), whether it exists or not."""
    if str(table) == HW_NAS_BENCH:
        if data_dir is None or dataset is None:
            raise BenchmarkDataError("the hw-nas-bench metric table needs the data directory and the dataset")
        return hw_nas_bench_path(data_dir, dataset)
    text = str(table)
    if "{dataset}" in text:
        if dataset is None:
            raise BenchmarkDataError(f"metric table path {text} contains {{dataset}} but no dataset was given")
        text = text.replace("{dataset}", dataset)
    return Path(text).expanduser().absolute()


def load_metric_table(table: str | os.PathLike[str], data_dir: str | os.PathLike[str] | None = None,
                      dataset: str | None = None) -> TabularOracle:
    """Load a metric table.

    Args:
        table: ``"hw-nas-bench"`` for HW-NAS-Bench's table of ``dataset`` in ``data_dir``, or the
            path of a CSV (``{dataset}`` in the path is replaced by the dataset name, so one
            config can name per-dataset files).
        data_dir: the benchmark data directory (needed for ``"hw-nas-bench"``).
        dataset: the NB201 dataset (needed for ``"hw-nas-bench"`` and ``{dataset}`` paths).

    Every column other than ``naslib_op_indices`` becomes a metric; for HW-NAS-Bench,
    negative values (its ``-1`` for "not measured") become NaN. In a user's table a missing
    measurement is an empty cell (or ``nan``); a ``*_latency`` or ``*_energy`` column must not be
    negative and a ``*_acc`` / ``*_accuracy`` column (percent) must lie in [0, 100], except for a
    negated metric named ``neg_...``; other columns are unrestricted.

    Raises:
        BenchmarkDataError: for a missing or unreadable file, no ``naslib_op_indices`` column,
            a malformed key, a duplicated architecture, a non-numeric value or (user tables) a
            negative latency or energy or an accuracy outside [0, 100]; the message names the
            file, the line, the column and the fix.
    """
    path = metric_table_path(table, data_dir, dataset)
    negative_is_missing = str(table) == HW_NAS_BENCH
    if negative_is_missing:
        fix = f"replace it with an intact copy of HW-NAS-Bench's table ({path.name}), or pass --data-dir"
    else:
        fix = (f"give a CSV with a {_KEY_COLUMN!r} column (dash-joined NB201 op indices such as 4-3-3-0-0-0) "
               "and numeric metric columns")
    if not path.is_file():
        raise BenchmarkDataError(f"metric table {path} does not exist; {fix}")
    keys: list[ArchKey] = []
    columns: dict[str, list[float]] = {}
    with csv_read_errors(path, fix):
        with path.open("r", newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = [h.strip() for h in next(reader, [])]
            if _KEY_COLUMN not in header:
                raise BenchmarkDataError(f"{path} has no {_KEY_COLUMN!r} column (columns found: {header}); {fix}")
            i_key = header.index(_KEY_COLUMN)
            names = [(i, h) for i, h in enumerate(header) if i != i_key and h and h not in _INDEX_COLUMNS]
            if not names:
                raise BenchmarkDataError(f"{path} has no metric column besides {_KEY_COLUMN!r}; {fix}")
            columns = {h: [] for _, h in names}
            ranges = {h: None if negative_is_missing else _column_range(h) for _, h in names}
            for row in reader:
                if not row:
                    continue
                line = reader.line_num
                if len(row) != len(header):
                    raise BenchmarkDataError(f"{path}, line {line}: {len(row)} fields, expected {len(header)} "
                                             f"(as in the header); {fix}")
                key = _parse_dash_op_indices(row[i_key])
                if key is None:
                    raise BenchmarkDataError(f"{path}, line {line}: malformed {_KEY_COLUMN} {row[i_key]!r}; "
                                             "expected 6 dash-joined op indices in 0..4 such as '4-3-3-0-0-0'")
                keys.append(key)
                for i, name in names:
                    columns[name].append(_parse_value(row[i], path, line, name, negative_is_missing,
                                                      ranges[name]))
    if not keys:
        raise BenchmarkDataError(f"{path} has a header but no rows; {fix}")
    splits = {}
    for name in columns:
        unit = _UNITS.get(_suffix(name))
        missing = int(np.isnan(columns[name]).sum())
        splits[name] = (f"{name}" + (f" ({unit})" if unit else "") + f" from {path.name}"
                        + (f"; {missing} architectures not measured (NaN)" if missing else ""))
    name = f"{HW_NAS_BENCH}/{_canonical_dataset(dataset)}" if str(table) == HW_NAS_BENCH else path.stem
    return TabularOracle(name, keys, {k: np.asarray(v) for k, v in columns.items()}, source=str(path),
                         splits=splits)


def _parse_value(text: str, path: Path, line: int, column: str, negative_is_missing: bool,
                 value_range: tuple[str, float, float | None, str] | None = None) -> float:
    """One cell: NaN for a missing measurement, else a finite number within ``value_range``
    ((what, low, high, fix) from :func:`_column_range`; None: any number)."""
    text = text.strip()
    if text == "" or text.lower() in ("nan", "na", "none"):
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise BenchmarkDataError(f"{path}, line {line}: column {column!r} has the non-numeric value {text!r}; "
                                 "metric columns must hold numbers (leave a cell empty for a missing "
                                 "measurement)") from None
    if math.isinf(value):
        raise BenchmarkDataError(f"{path}, line {line}: column {column!r} is {text!r}; metric values must be "
                                 "finite (leave a cell empty for a missing measurement)")
    if negative_is_missing and value < 0:
        return math.nan
    if value_range is not None:
        expected, low, high, fix = value_range
        check_range(value, low, high, where=f"{path}, line {line}", what=f"column {column!r}", shown=repr(text),
                    expected=expected, fix=fix)
    return value


def check_covers(table: TabularOracle, keys: Iterable[ArchKey], what: str) -> None:
    """Raise BenchmarkDataError unless ``table`` has a row for every key (the whole search space)."""
    missing = [k for k in keys if k not in table]
    if missing:
        shown = ", ".join("-".join(map(str, k)) for k in missing[:3])
        raise BenchmarkDataError(
            f"metric table {table.source} lacks {len(missing):,} of the architectures of {what} "
            f"(e.g. {shown}); it needs one row per architecture (leave a metric cell empty where it was "
            "not measured)")


class HardwareObjective:
    """One metric of a metric table as a constraint ``metric <= limit`` (and, for a joint
    search, as a second objective to minimise): what the runner and the hardware-aware
    optimizer share through ``dataset_api["hardware"]``.

    Args:
        table: the metric table.
        metric: its column, e.g. ``"edgegpu_latency"``.
        limit: the constraint; ``inf`` for none.
    """

    def __init__(self, table: TabularOracle, metric: str, limit: float):
        if metric not in table.metric_names:
            raise BenchmarkDataError(f"metric table {table.source} has no column {metric!r}; its metric columns "
                                     f"are {table.metric_names}")
        limit = float(limit)
        if math.isnan(limit):
            raise BenchmarkDataError("the hardware limit must be a number (inf for no constraint)")
        self.table, self.metric, self.limit = table, metric, limit
        self._values = table.values(metric)
        if np.isnan(self._values).all():
            raise BenchmarkDataError(f"column {metric!r} of {table.source} has no measured value")
        device = metric.split("_", 1)[0]
        #: the device one-hot the predictor is conditioned on (zeros for a metric of no known device)
        self.condition = np.asarray([float(device == d) for d in HW_NAS_BENCH_DEVICES], dtype=np.float32)
        self.description = table.splits.get(metric, metric)

    def value(self, key: Iterable[int]) -> float:
        """The metric of one architecture; NaN when it was not measured."""
        return float(self._values[self.table.index_of(key)])

    def is_feasible(self, key: Iterable[int]) -> bool:
        value = self.value(key)
        return bool(np.isfinite(value) and value <= self.limit)

    def values_for(self, keys: Iterable[Iterable[int]]) -> np.ndarray:
        """The metric of each architecture in ``keys`` (NaN where not measured)."""
        return np.asarray([self.value(k) for k in keys], dtype=np.float64)

    def constrained_optimum(self, accuracy: TabularOracle, metric: str = "val_acc",
                            values: np.ndarray | None = None) -> tuple[ArchKey, float, float]:
        """(architecture, accuracy, metric value) of the most accurate feasible architecture in the table;
        ``values``: :meth:`values_for` of ``accuracy.keys()``, if the caller has it already."""
        acc = accuracy.values(metric)
        keys = accuracy.keys()
        values = self.values_for(keys) if values is None else values
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(values) & (values <= self.limit)
        if not ok.any():
            raise BenchmarkDataError(f"no architecture meets {self.metric} <= {self.limit}")
        i = int(np.flatnonzero(ok)[np.argmax(acc[ok])])
        return keys[i], float(acc[i]), float(values[i])

    def __repr__(self) -> str:
        return f"HardwareObjective({self.metric} <= {self.limit}, table={self.table.source})"

"""NAS-Bench-101 oracles: real NB101 data keyed by canonical cells.

Two sources are understood:

1. NASLib's ``nasbench_only108.pkl`` (:func:`load_nb101_pickle_oracle`):
   ``{md5: ({'module_adjacency', 'module_operations', 'trainable_parameters'},
   {108: [3 x {'final_validation_accuracy', 'final_test_accuracy', 'final_training_time', ...}]})}``.
   With the full file (423,624 cells) this is the paper's NB101 benchmark as is; the data
   folder here holds only NASLib's 30-cell test file in that format.
2. ``nb101_20k_val.csv`` (:func:`load_nb101_20k_oracle`): 20,001 cells identified only
   by their official hash, with mean validation accuracies after 4/12/36/108 epochs. The
   cells are recovered by joining the hashes to the enumeration of the whole space
   (:func:`~naslib_agnet.spaces.nasbench101_enumeration.load_cells`). It is a
   **sub-benchmark**: a cell outside the 20,001 cannot be evaluated (queries raise
   :class:`BenchmarkDataError` naming the cell hash; use ``arch in oracle`` to discard
   such candidates instead of scoring them), and it has no test accuracy.

Keys are the NB101 codec's canonical keys (NASLib's tuple form of the canonical pruned
cell, see :class:`~naslib_agnet.spaces.nasbench101.NasBench101Codec`). Queries accept
any NB101 tuple, pruned or not, in any vertex numbering: a cell is found by its official
hash. Accuracies are in percent (NASLib's ``query`` scale), averaged over the 3 runs.
"""
from __future__ import annotations

import csv
import math
import os
import pickle
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..spaces.nasbench101 import InvalidCellError, NasBench101Codec, spec_to_tuple, validate
from .errors import BenchmarkDataError, check_range, csv_read_errors
from .tabular import TabularOracle

__all__ = [
    "NB101_20K_CSV_NAME",
    "NB101_PICKLE_NAMES",
    "Nb101Oracle",
    "load_nb101_20k_oracle",
    "load_nb101_oracle",
    "load_nb101_pickle_oracle",
]

#: The 20,001-cell validation table of the data folder.
NB101_20K_CSV_NAME = "nb101_20k_val.csv"
#: NASLib's NB101 pickle (full data), then the 30-cell test file in the same format.
NB101_PICKLE_NAMES: tuple[str, ...] = ("nasbench_only108.pkl", "nasbench_only108_30archs.pkl")

_CODEC = NasBench101Codec()
_HINT_DATA_DIR = "pass --data-dir (data_dir=) pointing at the folder that contains nasbench101/"
_CSV_EPOCHS = (4, 12, 36, 108)
# What each numeric column of the 20k csv holds and its range (None: unbounded). The accuracies
# are fractions; the oracle reports them in percent (x 100).
_CSV_RANGES: dict[str, tuple[str, float, float | None]] = {
    **{f"{e}_final_validation_accuracy": ("a validation accuracy as a fraction (percent / 100)", 0.0, 1.0)
       for e in _CSV_EPOCHS},
    "final_training_time": ("a training time in seconds", 0.0, None),
    "trainable_parameters": ("a parameter count", 0.0, None),
}


class Nb101Oracle(TabularOracle):
    """A :class:`TabularOracle` of NB101 cells whose queries are matched by the official hash.

    ``hashes[i]`` is the md5 of ``keys()[i]``; ``scope`` says which cells the table covers
    (quoted when a cell is missing).
    """

    def __init__(self, name: str, keys: Sequence[Iterable[int]], hashes: Sequence[str],
                 metrics: Mapping[str, Any], source: str, splits: Mapping[str, str] | None = None,
                 scope: str = "") -> None:
        super().__init__(name, keys, metrics, source, splits)
        if len(hashes) != len(self):
            raise BenchmarkDataError(f"{source}: {len(hashes)} hashes for {len(self)} cells in table {name!r}")
        self.hashes: list[str] = list(hashes)
        self._row_of_hash = {h: i for i, h in enumerate(self.hashes)}
        self.scope = scope

    def __repr__(self) -> str:
        return (f"Nb101Oracle(name={self.name!r}, rows={len(self)}, metrics={self.metric_names}, "
                f"source={self.source!r})")

    def cell_hash(self, key: Iterable[int]) -> str:
        """The official hash of an NB101 tuple; :class:`BenchmarkDataError` if it is not a valid cell."""
        try:
            return _CODEC.cell_hash(tuple(key))
        except (InvalidCellError, TypeError) as exc:
            raise BenchmarkDataError(
                f"cannot query table {self.name!r} ({self.source}): {tuple(key)!r:.200} is not a valid "
                f"NB101 cell ({exc}). Keys are NASLib's NB101 tuples: the flattened n x n matrix, then "
                f"n op indices in ['input', 'output', 'maxpool3x3', 'conv1x1-bn-relu', 'conv3x3-bn-relu']."
            ) from exc

    def index_of(self, key: Iterable[int]) -> int:
        return self.index_of_hash(self.cell_hash(key))

    def index_of_hash(self, md5: str) -> int:
        """Row of the cell with this official hash; :class:`BenchmarkDataError` naming it if absent."""
        row = self._row_of_hash.get(str(md5).strip().lower())
        if row is None:
            raise BenchmarkDataError(
                f"NB101 cell {md5} is not in table {self.name!r} ({self.source}, {len(self):,} cells)"
                + (f": {self.scope}" if self.scope else "") + ". It cannot be evaluated on this table; "
                "discard such candidates (test `arch in oracle`) or load a table that holds the cell "
                "(NASLib's full nasbench_only108.pkl holds all 423,624)."
            )
        return row

    def query_hash(self, md5: str) -> dict[str, float]:
        """All metrics of the cell with this official hash."""
        row = self.index_of_hash(md5)
        return {metric: float(arr[row]) for metric, arr in self._metrics.items()}

    def key_of_hash(self, md5: str) -> tuple[int, ...]:
        return self._keys[self.index_of_hash(md5)]

    def has_hash(self, md5: str) -> bool:
        """True when the table holds the cell with this official hash."""
        return str(md5).strip().lower() in self._row_of_hash

    def __contains__(self, key: object) -> bool:
        try:
            return _CODEC.cell_hash(tuple(key)) in self._row_of_hash  # type: ignore[arg-type]
        except (InvalidCellError, TypeError, ValueError):
            return False


# --------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------


def _data_root(data_dir: str | os.PathLike[str]) -> Path:
    root = Path(data_dir).expanduser().absolute()
    if not root.is_dir():
        what = "is not a directory" if root.exists() else "does not exist"
        raise BenchmarkDataError(f"benchmark data directory {root} {what}; {_HINT_DATA_DIR}.")
    return root


def _find(root: Path, names: Sequence[str]) -> Path | None:
    for name in names:
        for path in (root / "nasbench101" / name, root / name):
            if path.is_file():
                return path
    return None


def load_nb101_oracle(data_dir: str | os.PathLike[str], source: str = "auto") -> Nb101Oracle:
    """An NB101 oracle from the data folder.

    ``source``: ``"pickle"`` (NASLib's ``nasbench_only108.pkl``, else the 30-cell file),
    ``"20k"`` (the 20,001-cell sub-benchmark), or ``"auto"``: the full NASLib pickle if
    present, else the 20k sub-benchmark.
    """
    root = _data_root(data_dir)
    if source not in ("auto", "pickle", "20k"):
        raise BenchmarkDataError(f"unknown NB101 data source {source!r}; expected 'auto', 'pickle' or '20k'")
    if source == "pickle" or (source == "auto" and _find(root, NB101_PICKLE_NAMES[:1])):
        path = _find(root, NB101_PICKLE_NAMES)
        if path is None:
            tried = ", ".join(str(root / "nasbench101" / n) for n in NB101_PICKLE_NAMES)
            raise BenchmarkDataError(f"no NASLib NB101 pickle in {root} (tried {tried}); {_HINT_DATA_DIR}.")
        return load_nb101_pickle_oracle(path)
    return load_nb101_20k_oracle(root)


# -- NASLib's pickle ------------------------------------------------------------------------


class _DataOnlyUnpickler(pickle.Unpickler):
    """Reconstructs plain data only (dicts, lists, numbers, numpy arrays)."""

    _ALLOWED = frozenset({
        ("builtins", "list"), ("builtins", "dict"), ("builtins", "tuple"), ("builtins", "int"),
        ("builtins", "float"), ("builtins", "set"), ("collections", "OrderedDict"), ("_codecs", "encode"),
        ("numpy", "dtype"), ("numpy", "ndarray"),
        ("numpy.core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
    })

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load object {module}.{name}: an NB101 pickle holds "
                                         "only dicts, lists, numbers and numpy arrays")
        return super().find_class(module, name)


_PICKLE_LAYOUT = ("expected NASLib's nasbench_only108.pkl layout {md5: ({'module_adjacency', "
                  "'module_operations', 'trainable_parameters'}, {108: [3 x {'final_validation_accuracy', "
                  "'final_test_accuracy', 'final_training_time', ...}]})}")


# What each field of a run holds and its range (None: unbounded): the accuracies are fractions.
_RUN_FIELDS: dict[str, tuple[str, float, float | None]] = {
    "final_validation_accuracy": ("a validation accuracy as a fraction (percent / 100)", 0.0, 1.0),
    "final_test_accuracy": ("a test accuracy as a fraction (percent / 100)", 0.0, 1.0),
    "final_training_time": ("a training time in seconds", 0.0, None),
}


def _mean(runs: list, field: str, where: str, fix: str) -> float:
    try:
        values = [float(run[field]) for run in runs]
    except (TypeError, KeyError, ValueError) as exc:
        raise BenchmarkDataError(f"{where}: a run has no numeric {field!r} ({type(exc).__name__}: {exc}); "
                                 f"{_PICKLE_LAYOUT}; {fix}.") from exc
    if not values or not all(math.isfinite(v) for v in values):
        raise BenchmarkDataError(f"{where}: {field!r} is {values!r:.100}, expected finite values; {fix}.")
    expected, low, high = _RUN_FIELDS[field]
    for i, value in enumerate(values):
        check_range(value, low, high, where=where, what=f"{field!r} of run {i}", shown=repr(value),
                    expected=expected, fix=f"The file is corrupted; {fix}.")
    return sum(values) / len(values)


def load_nb101_pickle_oracle(path: str | os.PathLike[str], verify_hashes: int | None = 5000) -> Nb101Oracle:
    """Read NASLib's ``nasbench_only108.pkl`` (or the 30-cell test file in its format).

    Metrics: ``val_acc`` and ``test_acc`` (percent, mean over the runs of
    ``final_validation_accuracy`` / ``final_test_accuracy`` at 108 epochs),
    ``train_time`` (s, mean ``final_training_time``) and ``params``
    (``trainable_parameters``). Keys are the canonical form of each stored cell.

    The stored md5 of every entry is checked against the cell (the official hash) when the
    file has at most ``verify_hashes`` entries, else on an evenly spread sample of that
    many (``None``: all).
    """
    path = Path(path).expanduser().absolute()
    fix = "replace it with NASLib's original nasbench_only108.pkl"
    if not path.is_file():
        raise BenchmarkDataError(f"{path} does not exist; {_PICKLE_LAYOUT}; {_HINT_DATA_DIR}.")
    try:
        with path.open("rb") as fh:
            data = _DataOnlyUnpickler(fh).load()
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means a bad file
        raise BenchmarkDataError(f"{path} cannot be unpickled ({type(exc).__name__}: {exc}); "
                                 f"{_PICKLE_LAYOUT}; {fix}.") from exc
    if not isinstance(data, dict) or not data:
        what = "an empty dict" if isinstance(data, dict) else f"a {type(data).__name__}"
        raise BenchmarkDataError(f"{path} holds {what}; {_PICKLE_LAYOUT}; {fix}.")
    n = len(data)
    check_every = 1 if verify_hashes is None or n <= verify_hashes else max(1, n // verify_hashes)
    keys, hashes = [], []
    val, test, time_s, params = [], [], [], []
    for i, (md5, entry) in enumerate(data.items()):
        where = f"{path}: entry {md5!r}"
        try:
            fixed, computed = entry
            matrix, ops = np.asarray(fixed["module_adjacency"]), list(fixed["module_operations"])
            runs = computed[108]
        except (TypeError, ValueError, KeyError) as exc:
            raise BenchmarkDataError(f"{where} does not have the expected layout ({type(exc).__name__}: {exc}); "
                                     f"{_PICKLE_LAYOUT}; {fix}.") from exc
        try:
            key = _CODEC.from_spec((matrix, ops))
            if i % check_every == 0:
                stored, real = str(md5), _CODEC.cell_hash(key)
                if stored != real:
                    raise BenchmarkDataError(f"{where}: the stored cell hashes to {real}, not to its key; "
                                             f"the file is corrupted; {fix}.")
        except InvalidCellError as exc:
            raise BenchmarkDataError(f"{where} holds an invalid NB101 cell ({exc}); {fix}.") from exc
        keys.append(key)
        hashes.append(str(md5).lower())
        val.append(100 * _mean(runs, "final_validation_accuracy", where, fix))
        test.append(100 * _mean(runs, "final_test_accuracy", where, fix))
        time_s.append(_mean(runs, "final_training_time", where, fix))
        n_params = float(fixed.get("trainable_parameters", math.nan))
        if not math.isnan(n_params):
            check_range(n_params, 0.0, None, where=where, what="'trainable_parameters'", shown=repr(n_params),
                        expected="a parameter count", fix=f"The file is corrupted; {fix}.")
        params.append(n_params)
    full = n >= 423_624
    return Nb101Oracle(
        name="nasbench101" if full else f"nasbench101/{path.stem}",
        keys=keys, hashes=hashes,
        metrics={"val_acc": val, "test_acc": test, "train_time": time_s, "params": params},
        source=str(path),
        splits={
            "val_acc": "CIFAR-10 validation accuracy (%) after 108 epochs, mean over the runs",
            "test_acc": "CIFAR-10 test accuracy (%) after 108 epochs, mean over the runs",
            "train_time": "training time (s) for 108 epochs, mean over the runs",
            "params": "trainable parameters",
        },
        scope="" if full else f"this file holds only {n:,} of the 423,624 NB101 cells",
    )


# -- the 20,001-cell table ------------------------------------------------------------------


def load_nb101_20k_oracle(data_dir: str | os.PathLike[str], cells=None) -> Nb101Oracle:
    """The 20,001-cell sub-benchmark: ``nb101_20k_val.csv`` joined to the enumerated cells.

    Metrics: ``val_acc`` (percent, 108 epochs, mean over 3 runs), ``val_acc_4ep``,
    ``val_acc_12ep``, ``val_acc_36ep``, ``train_time`` (s), ``params``. No test accuracy.

    ``cells``: the enumeration table (default
    :func:`~naslib_agnet.spaces.nasbench101_enumeration.load_cells`, built and cached on
    first use).
    """
    root = _data_root(data_dir)
    path = _find(root, (NB101_20K_CSV_NAME,))
    if path is None:
        raise BenchmarkDataError(
            f"no {NB101_20K_CSV_NAME} in {root} (tried {root / 'nasbench101' / NB101_20K_CSV_NAME} and "
            f"{root / NB101_20K_CSV_NAME}); {_HINT_DATA_DIR}.")
    fix = f"replace it with an intact copy of {NB101_20K_CSV_NAME}"
    columns = [f"{e}_final_validation_accuracy" for e in _CSV_EPOCHS] + [
        "final_training_time", "trainable_parameters", "nb101_hash"]
    hashes: list[str] = []
    values: list[list[float]] = []
    with csv_read_errors(path, f"{fix}."):
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in columns if c not in (reader.fieldnames or [])]
            if missing:
                raise BenchmarkDataError(f"{path} lacks the column(s) {missing}; expected the columns "
                                         f"{columns}; {fix}.")
            for line, row in enumerate(reader, start=2):
                md5 = row["nb101_hash"].strip().lower()
                if len(md5) != 32 or any(ch not in "0123456789abcdef" for ch in md5):
                    raise BenchmarkDataError(f"{path}, line {line}: nb101_hash {row['nb101_hash']!r} is not "
                                             f"a 32-digit md5; {fix}.")
                try:
                    numbers = [float(row[c]) for c in columns[:-1]]
                except (TypeError, ValueError):
                    numbers = [math.nan]
                if not all(math.isfinite(x) for x in numbers):
                    raise BenchmarkDataError(f"{path}, line {line}: non-numeric or missing value in "
                                             f"{ {c: row[c] for c in columns[:-1]} }; {fix}.")
                for c, x in zip(columns[:-1], numbers):
                    expected, low, high = _CSV_RANGES[c]
                    check_range(x, low, high, where=f"{path}, line {line}", what=f"column {c!r}",
                                shown=repr(row[c]), expected=expected, fix=f"The file is corrupted; {fix}.")
                hashes.append(md5)
                values.append(numbers)
    if not hashes:
        raise BenchmarkDataError(f"{path} has no rows; {fix}.")
    if len(set(hashes)) != len(hashes):
        raise BenchmarkDataError(f"{path}: {len(hashes) - len(set(hashes))} duplicate nb101_hash rows; {fix}.")
    if cells is None:
        from ..spaces.nasbench101_enumeration import load_cells

        cells = load_cells()
    keys = []
    for line, md5 in enumerate(hashes, start=2):
        index = cells.find(md5)
        if index is None:
            raise BenchmarkDataError(f"{path}, line {line}: hash {md5} is not the hash of any NB101 cell "
                                     f"(none of the {len(cells):,} enumerated cells has it); {fix}.")
        keys.append(spec_to_tuple(*validate(*cells.cell(index))))
    table = np.asarray(values, dtype=np.float64)
    metrics = {"val_acc": 100 * table[:, 3]}
    for j, epochs in enumerate(_CSV_EPOCHS[:3]):
        metrics[f"val_acc_{epochs}ep"] = 100 * table[:, j]
    metrics["train_time"] = table[:, 4]
    metrics["params"] = table[:, 5]
    return Nb101Oracle(
        name="nasbench101/20k-subset", keys=keys, hashes=hashes, metrics=metrics, source=str(path),
        splits={
            "val_acc": "CIFAR-10 validation accuracy (%) after 108 epochs, mean over 3 runs",
            **{f"val_acc_{e}ep": f"CIFAR-10 validation accuracy (%) after {e} epochs, mean over 3 runs"
               for e in _CSV_EPOCHS[:3]},
            "train_time": "training time (s) for 108 epochs", "params": "trainable parameters",
        },
        scope=(f"a sub-benchmark of {len(hashes):,} of the 423,624 NB101 cells (the first hashes in sorted "
               "order), validation accuracy only, no test accuracy"),
    )

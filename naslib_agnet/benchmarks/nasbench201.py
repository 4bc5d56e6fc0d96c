"""NAS-Bench-201 oracle: load real NB201 accuracies into a :class:`TabularOracle`.

Two file formats are understood, tried in this order:

1. ``nb201_accuracies.csv`` (the complete 15,625-row table described in the data
   folder's README), in ``{data_dir}/nasbench201/`` or directly in ``{data_dir}``.
   Gives ``val_acc`` and ``test_acc`` (percent, 200 epochs).
2. NASLib's ``nb201_<ds>_full_training.pickle`` files (``ImageNet16`` in the file
   name for ImageNet16-120), in ``{data_dir}`` or ``{data_dir}/nasbench201/``.
   These hold only ``eval_acc1es`` (which NASLib returns for both validation and
   test accuracy), so the resulting oracle exposes only ``val_acc``.

Keys are NASLib's op-index tuples (``NasBench201SearchSpace.get_hash()``): the ops of
edges (0→1, 0→2, 0→3, 1→2, 1→3, 2→3), with op indices 0 ``skip_connect``, 1 ``none``,
2 ``nor_conv_3x3``, 3 ``nor_conv_1x1``, 4 ``avg_pool_3x3``.
"""

from __future__ import annotations

import csv
import functools
import itertools
import math

import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from ..spaces.nasbench201 import (
    NB201_NUM_ARCHS,
    NB201_OP_NAMES,
    nb201_arch_str_to_op_indices,
    nb201_op_indices_to_arch_str,
)
from .errors import BenchmarkDataError, check_range, csv_read_errors
from .tabular import TabularOracle

__all__ = [
    "NB201_CSV_NAME",
    "NB201_DATASETS",
    "NB201_NUM_ARCHS",
    "NB201_OP_NAMES",
    "NB201_PICKLE_NAMES",
    "load_nb201_oracle",
    "nb201_data_file",
    "nb201_arch_str_to_op_indices",
    "nb201_op_indices_to_arch_str",
]

#: Datasets of NAS-Bench-201, as spelled in the csv column names.
NB201_DATASETS: tuple[str, ...] = ("cifar10", "cifar100", "ImageNet16-120")

#: File name of the complete NB201 accuracy table.
NB201_CSV_NAME: str = "nb201_accuracies.csv"

#: NASLib's pickle file name for each dataset.
NB201_PICKLE_NAMES: dict[str, str] = {
    "cifar10": "nb201_cifar10_full_training.pickle",
    "cifar100": "nb201_cifar100_full_training.pickle",
    "ImageNet16-120": "nb201_ImageNet16_full_training.pickle",
}

# The per-dataset key inside NASLib's pickle (cifar10 is trained on the train split and
# evaluated on the held-out validation split: 'cifar10-valid').
_PICKLE_DS_KEY: dict[str, str] = {
    "cifar10": "cifar10-valid",
    "cifar100": "cifar100",
    "ImageNet16-120": "ImageNet16-120",
}

_DATASET_ALIASES: dict[str, str] = {
    "cifar10": "cifar10",
    "cifar100": "cifar100",
    "imagenet16-120": "ImageNet16-120",
    "imagenet16": "ImageNet16-120",
}

_HINT_DATA_DIR = (
    "pass --data-dir (data_dir=) pointing at the folder that contains "
    f"nasbench201/{NB201_CSV_NAME}"
)


@functools.lru_cache(maxsize=1)
def _dash_op_indices_table() -> dict[str, tuple[int, ...]]:
    """All 15,625 valid dash-joined op-index strings, mapped to their tuples."""
    return {
        "-".join(map(str, ops)): ops
        for ops in itertools.product(range(len(NB201_OP_NAMES)), repeat=6)
    }


def _parse_dash_op_indices(text: str) -> tuple[int, ...] | None:
    """Parse ``'4-3-3-0-0-0'``; return None if it is not 6 ints in 0..4."""
    return _dash_op_indices_table().get(text.strip())


# --------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------


def _canonical_dataset(dataset: str) -> str:
    key = dataset.strip().lower() if isinstance(dataset, str) else None
    if key is None or key not in _DATASET_ALIASES:
        raise BenchmarkDataError(
            f"unknown NAS-Bench-201 dataset {dataset!r}; expected one of "
            f"{list(NB201_DATASETS)} ('ImageNet16' is accepted for 'ImageNet16-120')."
        )
    return _DATASET_ALIASES[key]


def load_nb201_oracle(data_dir: str | os.PathLike[str], dataset: str) -> TabularOracle:
    """Load the NAS-Bench-201 table of one dataset as a :class:`TabularOracle`.

    Args:
        data_dir: folder holding ``nasbench201/nb201_accuracies.csv`` (or the csv itself,
            or NASLib's ``nb201_<ds>_full_training.pickle`` files).
        dataset: ``'cifar10'``, ``'cifar100'`` or ``'ImageNet16-120'`` (``'ImageNet16'``
            is an alias).

    Returns:
        An oracle keyed by NASLib op-index tuples. From the csv: metrics ``val_acc`` and
        ``test_acc`` (percent, 200 epochs; cifar10's val is the ``cifar10-valid``
        split), all 15,625 architectures. From a NASLib pickle: ``val_acc`` only.

    Raises:
        BenchmarkDataError: if the folder or files are missing, malformed or incomplete,
            or the dataset is unknown. Never falls back to synthetic numbers.
    """
    ds = _canonical_dataset(dataset)
    root = Path(data_dir).expanduser().absolute()
    if not root.is_dir():
        what = "is not a directory" if root.exists() else "does not exist"
        raise BenchmarkDataError(
            f"benchmark data directory {root} {what}; {_HINT_DATA_DIR}."
        )

    path = nb201_data_file(root, ds)
    if path is None:
        tried = "\n  ".join(str(p) for p in _nb201_candidates(root, ds))
        raise BenchmarkDataError(
            f"no NAS-Bench-201 data for {ds!r} found in {root}. Tried:\n  {tried}\n"
            f"Expected the complete table {NB201_CSV_NAME} (or NASLib's {NB201_PICKLE_NAMES[ds]}); "
            f"{_HINT_DATA_DIR}."
        )
    return _load_csv(path, ds) if path.name == NB201_CSV_NAME else _load_pickle(path, ds)


def _nb201_candidates(root: Path, ds: str) -> list[Path]:
    pickle_name = NB201_PICKLE_NAMES[ds]
    return [root / "nasbench201" / NB201_CSV_NAME, root / NB201_CSV_NAME, root / pickle_name,
            root / "nasbench201" / pickle_name]


def nb201_data_file(data_dir: str | os.PathLike[str], dataset: str) -> Path | None:
    """The file :func:`load_nb201_oracle` reads for ``dataset``: the complete csv if there is one, else
    NASLib's pickle of the dataset; None when neither exists."""
    root = Path(data_dir).expanduser().absolute()
    return next((p for p in _nb201_candidates(root, _canonical_dataset(dataset)) if p.is_file()), None)


def _parse_accuracy(text: str, path: Path, line: int, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise BenchmarkDataError(
            f"{path}, line {line}: column {column!r} has value {text!r}, expected a finite "
            f"accuracy in percent. The file is corrupted; replace it with an intact copy "
            f"of {NB201_CSV_NAME}."
        )
    return check_range(
        value, 0.0, 100.0, where=f"{path}, line {line}", what=f"column {column!r}", shown=repr(text),
        expected="an accuracy in percent",
        fix=f"The file is corrupted; replace it with an intact copy of {NB201_CSV_NAME}.",
    )


def _load_csv(path: Path, ds: str) -> TabularOracle:
    """Read ``nb201_accuracies.csv``: all 15,625 rows, ``val_acc`` and ``test_acc``."""
    fix = f"replace {path} with an intact copy of the complete {NB201_CSV_NAME}"
    val_col, test_col = f"{ds}_val_acc", f"{ds}_test_acc"
    keys: list[tuple[int, ...]] = []
    val: list[float] = []
    test: list[float] = []
    seen: dict[tuple[int, ...], int] = {}
    duplicates = 0
    with csv_read_errors(path, f"{fix}."):
        with path.open("r", newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if not header:
                raise BenchmarkDataError(
                    f"{path} is empty (no header line); expected a csv with columns "
                    f"naslib_op_indices, {val_col}, {test_col} and {NB201_NUM_ARCHS:,} rows; {fix}."
                )
            header = [h.strip() for h in header]
            columns: dict[str, int] = {}
            for col in ("naslib_op_indices", val_col, test_col):
                if col not in header:
                    raise BenchmarkDataError(
                        f"{path} has no column {col!r} (required for dataset {ds!r}); "
                        f"columns found: {header}; {fix}."
                    )
                columns[col] = header.index(col)
            i_key, i_val, i_test = columns["naslib_op_indices"], columns[val_col], columns[test_col]
            needed = max(i_key, i_val, i_test) + 1
            for row in reader:
                if not row:  # blank line
                    continue
                line = reader.line_num
                if len(row) < needed:
                    raise BenchmarkDataError(
                        f"{path}, line {line}: {len(row)} fields, expected {len(header)} "
                        f"(as in the header); {fix}."
                    )
                key = _parse_dash_op_indices(row[i_key])
                if key is None:
                    raise BenchmarkDataError(
                        f"{path}, line {line}: malformed naslib_op_indices {row[i_key]!r}; "
                        f"expected 6 dash-joined op indices in 0..4 such as '4-3-3-0-0-0'; "
                        f"{fix}."
                    )
                v = _parse_accuracy(row[i_val], path, line, val_col)
                t = _parse_accuracy(row[i_test], path, line, test_col)
                if key in seen:
                    duplicates += 1
                    continue
                seen[key] = line
                keys.append(key)
                val.append(v)
                test.append(t)

    if duplicates or len(keys) != NB201_NUM_ARCHS:
        raise BenchmarkDataError(
            f"{path} is incomplete: read {len(keys) + duplicates:,} rows with "
            f"{len(keys):,} distinct architectures ({duplicates:,} duplicates), expected "
            f"{NB201_NUM_ARCHS:,} distinct architectures. A complete NAS-Bench-201 table is "
            f"required; {fix}."
        )

    name = f"nasbench201/{ds}"
    val_split = "cifar10-valid" if ds == "cifar10" else ds
    return TabularOracle(
        name=name,
        keys=keys,
        metrics={"val_acc": np.asarray(val), "test_acc": np.asarray(test)},
        source=str(path),
        splits={
            "val_acc": f"{val_split} validation accuracy (%) after 200 epochs "
            f"(as NASLib reports it; column {val_col})",
            "test_acc": f"{ds} test accuracy (%) after 200 epochs, mean over trained seeds "
            f"(NATS-Bench hp=200; column {test_col})",
        },
    )


class _DataOnlyUnpickler(pickle.Unpickler):
    """Unpickler that only reconstructs plain data (dicts, lists, numbers, numpy values)."""

    _ALLOWED: frozenset[tuple[str, str]] = frozenset(
        {
            ("collections", "OrderedDict"),
            ("collections", "defaultdict"),
            ("builtins", "list"),
            ("builtins", "dict"),
            ("builtins", "set"),
            ("builtins", "frozenset"),
            ("builtins", "tuple"),
            ("builtins", "float"),
            ("builtins", "int"),
            ("_codecs", "encode"),
            ("numpy", "dtype"),
            ("numpy", "ndarray"),
            ("numpy.core.multiarray", "scalar"),
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "scalar"),
            ("numpy._core.multiarray", "_reconstruct"),
        }
    )

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(
                f"refusing to load object {module}.{name}: a NASLib NB201 pickle holds only "
                f"dicts, lists and numbers"
            )
        return super().find_class(module, name)


def _load_pickle(path: Path, ds: str) -> TabularOracle:
    """Read NASLib's ``nb201_<ds>_full_training.pickle``: ``val_acc`` only."""
    ds_key = _PICKLE_DS_KEY[ds]
    layout = (
        f"expected NASLib's layout {{arch_str: {{{ds_key!r}: {{'eval_acc1es': [...], ...}}}}}}"
    )
    fix = (
        f"replace it with NASLib's original {path.name}, or {_HINT_DATA_DIR} instead"
    )
    try:
        with path.open("rb") as fh:
            data = _DataOnlyUnpickler(fh).load()
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means a bad file
        raise BenchmarkDataError(
            f"{path} cannot be unpickled ({type(exc).__name__}: {exc}); {layout}. "
            f"The file is corrupted or not a NASLib NB201 pickle; {fix}."
        ) from exc
    if not isinstance(data, dict) or not data:
        what = "an empty dict" if isinstance(data, dict) else f"a {type(data).__name__}"
        raise BenchmarkDataError(f"{path} holds {what}; {layout}; {fix}.")

    keys: list[tuple[int, ...]] = []
    val: list[float] = []
    for arch_str, entry in data.items():
        try:
            key = nb201_arch_str_to_op_indices(arch_str)
        except ValueError as exc:
            raise BenchmarkDataError(
                f"{path}: top-level key is not an NB201 arch string: {exc}; {fix}."
            ) from exc
        if not isinstance(entry, dict) or ds_key not in entry:
            found = sorted(map(str, entry)) if isinstance(entry, dict) else type(entry).__name__
            raise BenchmarkDataError(
                f"{path}: entry {arch_str!r} has no key {ds_key!r} (found {found}); "
                f"{layout}; {fix}."
            )
        record = entry[ds_key]
        if not isinstance(record, dict) or "eval_acc1es" not in record:
            found = sorted(map(str, record)) if isinstance(record, dict) else type(record).__name__
            raise BenchmarkDataError(
                f"{path}: entry {arch_str!r} [{ds_key!r}] has no key 'eval_acc1es' "
                f"(found {found}); {layout}; {fix}."
            )
        curve = record["eval_acc1es"]
        try:
            last = float(curve[-1])
        except (TypeError, ValueError, IndexError, KeyError):
            last = math.nan
        if not math.isfinite(last):
            raise BenchmarkDataError(
                f"{path}: entry {arch_str!r} [{ds_key!r}]['eval_acc1es'] is "
                f"{curve!r:.80}, expected a non-empty list of finite accuracies (%); {fix}."
            )
        check_range(
            last, 0.0, 100.0, where=f"{path}: entry {arch_str!r} [{ds_key!r}]",
            what="eval_acc1es[-1]", shown=repr(last), expected="an accuracy in percent",
            fix=f"The file is corrupted; {fix}.",
        )
        keys.append(key)
        val.append(last)

    val_split = "cifar10-valid" if ds == "cifar10" else ds
    return TabularOracle(
        name=f"nasbench201/{ds}",
        keys=keys,
        metrics={"val_acc": np.asarray(val)},
        source=str(path),
        splits={
            "val_acc": f"{val_split} validation accuracy (%) at the last training epoch "
            f"(eval_acc1es[-1] of NASLib's {path.name}). This table has no test accuracy: "
            f"NASLib's pickle stores only eval_acc1es, which NASLib returns for both "
            f"VAL_ACCURACY and TEST_ACCURACY; use nasbench201/{NB201_CSV_NAME} for test_acc.",
        },
    )

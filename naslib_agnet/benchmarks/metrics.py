"""Per-architecture metric tables (hardware cost and the like) for the NB201 space.

A metric table is a CSV with one row per architecture: HW-NAS-Bench's
``hw-nas-bench/hw_nas_bench_{dataset}.csv`` files in the data directory, or a user's own file
(the format in one place: ``docs/metric_tables.md``). It loads into a
:class:`~.tabular.TabularOracle`; a missing measurement (an empty cell, ``nan``, or
HW-NAS-Bench's ``-1``) is stored as NaN and means *unknown*.

A user's file:

* the key is a ``naslib_op_indices`` column (NASLib's NB201 op-index tuple, written
  ``4-3-3-0-0-0``, ``(4, 3, 3, 0, 0, 0)``, ``[4, 3, 3, 0, 0, 0]`` or ``4,3,3,0,0,0``) or, in a table
  without one, an ``arch_str`` column (NB201 arch strings). Where both are present,
  ``arch_str`` must name the same cell as ``naslib_op_indices`` on every row, and is not a metric.
* optional ``#`` lines before the header declare what the table was made for:
  ``# dataset: cifar10`` (one NB201 dataset or several, comma-separated), ``# input_size: 32``,
  ``# units: gpu_latency=s, robust_acc=%``; other ``#`` lines are comments. A table made for
  another dataset or input size than the run's is refused.
* every other column is a metric and holds numbers, except a column without a single number
  (a device name, say), which is text and ignored, with a note; a column whose name
  (``*_latency``, ``*_energy``, ``*_acc``, ``*_accuracy``) or declared unit makes it a metric
  is never text.
* a column's unit is the declared one, else guessed from its name: ``*_latency`` ms,
  ``*_energy`` mJ, ``*_acc`` / ``*_accuracy`` %. A latency or energy must not be negative; an
  accuracy in percent must lie in [0, 100] (unless the name starts with ``neg_``: a negated
  metric). Other columns are unrestricted.
"""
from __future__ import annotations

import csv
import itertools
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..spaces.nasbench201 import nb201_arch_str_to_op_indices
from .errors import BenchmarkDataError, check_range, csv_read_errors
from .nasbench201 import _canonical_dataset, _parse_dash_op_indices
from .tabular import ArchKey, TabularOracle

__all__ = ["HW_NAS_BENCH", "HW_NAS_BENCH_DEVICES", "hw_nas_bench_path", "load_metric_table",
           "metric_table_path",
           "check_covers"]

#: The name that selects HW-NAS-Bench's tables in the data directory.
HW_NAS_BENCH = "hw-nas-bench"
#: HW-NAS-Bench's devices, in the order of AG-Net's device one-hot (spec §7).
HW_NAS_BENCH_DEVICES: tuple[str, ...] = ("edgegpu", "raspi4", "edgetpu", "pixel3", "eyeriss", "fpga")
_KEY_COLUMN = "naslib_op_indices"
#: the NB201 arch-string column: the key of a table without ``naslib_op_indices``, else checked against it
_ARCH_STR_COLUMN = "arch_str"
_INDEX_COLUMNS = ("nb201_index",)  # row identifiers, not metrics
_UNITS = {"latency": "ms", "energy": "mJ"}
_ACCURACY_SUFFIXES = ("acc", "accuracy")
_PERCENT = ("%", "percent")
#: a column named ``neg_...`` holds a negated metric (e.g. ``neg_robust_acc``): its range is not checked
_NEGATED_PREFIX = "neg_"
#: cell texts that mean "not measured"
_MISSING = ("", "nan", "na", "none")
#: the side of the input images of each NB201 dataset, in pixels
_NB201_INPUT_SIZE = {"cifar10": 32, "cifar100": 32, "ImageNet16-120": 16}
_OP_INDEX_TEXT = frozenset("01234")
_KEY_FORMS = ("6 NASLib NB201 op indices in 0..4, written dash-joined '4-0-3-1-4-3', as a tuple "
              "'(4, 0, 3, 1, 4, 3)', as a list '[4, 0, 3, 1, 4, 3]', or comma- or space-separated "
              "'4,0,3,1,4,3' (quote a cell that holds commas)")
_METADATA_KEYS = {"dataset": "datasets", "datasets": "datasets", "input_size": "input_size", "units": "units"}


def _suffix(column: str) -> str:
    """The last ``_``-separated word of a column name (``edgegpu_latency`` -> ``latency``)."""
    return column.rsplit("_", 1)[-1]


def _guessed_unit(column: str) -> str | None:
    """The unit a column's name suggests: ``*_latency`` ms, ``*_energy`` mJ, ``*_acc`` /
    ``*_accuracy`` %, else None."""
    suffix = _suffix(column)
    if suffix in _UNITS:
        return _UNITS[suffix]
    return "%" if suffix in _ACCURACY_SUFFIXES else None


def _named_as_metric(column: str) -> bool:
    """Whether a column's name says it holds a metric (so it may not be a text column)."""
    return _suffix(column) in _UNITS or _suffix(column) in _ACCURACY_SUFFIXES


def _column_range(column: str, unit: str | None = None) -> tuple[str, float, float | None, str] | None:
    """(what the column holds, low, high, fix) for a column of a user's table, from its name and
    ``unit`` (None: the unit its name suggests); None for a column of unknown meaning
    (unrestricted). A latency or energy is >= 0 in any unit; an accuracy is in [0, 100] when its
    unit is percent and its name does not start with ``neg_``."""
    suffix = _suffix(column)
    unit = _guessed_unit(column) if unit is None else unit
    if suffix in _UNITS:
        article = "an" if suffix[0] in "aeiou" else "a"
        return (f"{article} {suffix} in {unit}", 0.0, None,
                "A missing measurement is an empty cell, not a negative number: correct the value or "
                "leave the cell empty.")
    if suffix in _ACCURACY_SUFFIXES and unit in _PERCENT and not column.startswith(_NEGATED_PREFIX):
        return ("an accuracy in percent", 0.0, 100.0,
                "The accuracies of a metric table are in percent (0..100, not fractions): correct the "
                "value, or leave the cell empty for a missing measurement.")
    return None


def hw_nas_bench_path(data_dir: str | os.PathLike[str], dataset: str) -> Path:
    """``{data_dir}/hw-nas-bench/hw_nas_bench_{dataset}.csv`` (dataset as NAS-Bench-201 names it)."""
    return Path(data_dir).expanduser().absolute() / HW_NAS_BENCH / f"hw_nas_bench_{_canonical_dataset(dataset)}.csv"


def metric_table_path(table: str | os.PathLike[str], data_dir: str | os.PathLike[str] | None = None,
                      dataset: str | None = None) -> Path:
    """The file a ``hardware.table`` value names (see :func:`load_metric_table`), whether it exists or not:
    ``"hw-nas-bench"`` is HW-NAS-Bench's table of ``dataset`` in ``data_dir``; in a path, ``{dataset}``
    is replaced by ``dataset``."""
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
    """Load a metric table (the format: the module docstring and ``docs/metric_tables.md``).

    Args:
        table: ``"hw-nas-bench"`` for HW-NAS-Bench's table of ``dataset`` in ``data_dir``, or the
            path of a CSV (``{dataset}`` in the path is replaced by the dataset name, so one
            config can name per-dataset files).
        data_dir: the benchmark data directory (needed for ``"hw-nas-bench"``).
        dataset: the run's NB201 dataset (needed for ``"hw-nas-bench"`` and ``{dataset}`` paths);
            a table that declares another dataset or input size is refused. None: not checked.

    Every numeric column other than the key (and ``nb201_index``) becomes a metric; for
    HW-NAS-Bench, negative values (its ``-1`` for "not measured") become NaN. In a user's table a
    missing measurement is an empty cell (or ``nan``); a latency or energy must not be negative and
    an accuracy in percent must lie in [0, 100], except for a negated metric named ``neg_...``;
    other columns are unrestricted.

    Returns:
        A :class:`~.tabular.TabularOracle` with three more attributes: ``units`` (metric column ->
        its unit, declared or guessed from the name, None if neither), ``notes`` (one line per
        ignored column or other non-fatal remark) and ``declared`` (the metadata lines:
        ``{"datasets": [...], "input_size": int | None, "units": {column: unit}}``).

    Raises:
        BenchmarkDataError: for a missing or unreadable file, no key column, a malformed key, a
            duplicated architecture, a malformed metadata line, a table made for another dataset
            or input size, a non-numeric value in a metric column, no metric column or (user
            tables) a value out of range; the message names the file, the line, the column and
            the fix.
    """
    path = metric_table_path(table, data_dir, dataset)
    negative_is_missing = str(table) == HW_NAS_BENCH
    if negative_is_missing:
        fix = f"replace it with an intact copy of HW-NAS-Bench's table ({path.name}), or pass --data-dir"
    else:
        fix = (f"give a CSV with a {_KEY_COLUMN!r} column (NB201 op indices such as 4-3-3-0-0-0) or an "
               f"{_ARCH_STR_COLUMN!r} column, and numeric metric columns (docs/metric_tables.md)")
    if not path.is_file():
        raise BenchmarkDataError(f"metric table {path} does not exist; {fix}")
    with csv_read_errors(path, fix):
        comments, header_line, header, rows = _read_csv_with_metadata(path)
    declared, declared_on = _parse_metadata(comments, path)
    _check_declared_dataset(declared, declared_on, dataset, path)

    seen: set[str] = set()
    for column in header:
        if column and column in seen:
            raise BenchmarkDataError(f"{path}, line {header_line}: column {column!r} appears twice in the header; "
                                     "give each column its own name")
        seen.add(column)
    if _KEY_COLUMN in header:
        key_column = _KEY_COLUMN
        i_check = header.index(_ARCH_STR_COLUMN) if _ARCH_STR_COLUMN in header else None
    elif _ARCH_STR_COLUMN in header:
        key_column, i_check = _ARCH_STR_COLUMN, None
    else:
        raise BenchmarkDataError(f"{path} has no {_KEY_COLUMN!r} column (nor an {_ARCH_STR_COLUMN!r} column; "
                                 f"columns found: {header}); {fix}")
    i_key = header.index(key_column)
    names = [(i, h) for i, h in enumerate(header) if i not in (i_key, i_check) and h and h not in _INDEX_COLUMNS]
    if not names:
        raise BenchmarkDataError(f"{path} has no metric column besides {key_column!r}; {fix}")
    unknown = [c for c in declared["units"] if c not in {h for _, h in names}]
    if unknown:
        raise BenchmarkDataError(f"{path}, line {declared_on['units']}: '# units:' names {unknown[0]!r}, which is "
                                 f"not a metric column of the table (they are {[h for _, h in names]}); correct the "
                                 "name or drop it from the line")
    if not rows:
        raise BenchmarkDataError(f"{path} has a header but no rows; {fix}")

    keys = _read_keys(rows, header, i_key, i_check, path, fix)
    columns: dict[str, list[float]] = {}
    units: dict[str, str | None] = {}
    notes: list[str] = []
    if i_check is not None:
        notes.append(f"column {_ARCH_STR_COLUMN!r} names the same architecture as {_KEY_COLUMN!r} on every row; "
                     f"ignored (the key is {_KEY_COLUMN!r})")
    text_columns = []
    for i, name in names:
        cells = [row[i] for _, row in rows]
        if name not in declared["units"] and not _named_as_metric(name) and _is_text(cells):
            text_columns.append(name)
            notes.append(f"column {name!r} is text; ignored (only numeric columns are metrics)")
            continue
        guess = _guessed_unit(name)
        unit = declared["units"].get(name, guess)
        if guess is not None and unit != guess:
            notes.append(f"column {name!r} is in {unit} as declared (its name suggests {guess})")
        value_range = None if negative_is_missing else _column_range(name, unit)
        columns[name] = [_parse_value(cell, path, line, name, negative_is_missing, value_range)
                         for (line, _), cell in zip(rows, cells)]
        units[name] = unit
    if not columns:
        raise BenchmarkDataError(f"{path} has no metric column besides {key_column!r} (text columns, ignored: "
                                 f"{text_columns}); metric columns hold numbers; {fix}")
    splits = {}
    for name, values in columns.items():
        unit = units[name]
        missing = int(np.isnan(values).sum())
        splits[name] = (f"{name}" + (f" ({unit})" if unit else "") + f" from {path.name}"
                        + (f"; {missing} architectures not measured (NaN)" if missing else ""))
    name = f"{HW_NAS_BENCH}/{_canonical_dataset(dataset)}" if str(table) == HW_NAS_BENCH else path.stem
    oracle = TabularOracle(name, keys, {k: np.asarray(v) for k, v in columns.items()}, source=str(path),
                           splits=splits)
    oracle.units = units
    oracle.notes = notes
    oracle.declared = declared
    return oracle


def _read_csv_with_metadata(path: Path) -> tuple[list[tuple[int, str]], int, list[str], list[tuple[int, list[str]]]]:
    """Read ``path`` (UTF-8, a byte-order mark allowed): the ``#`` lines before the header as
    (line, text after the ``#``), the header's line, the header, and the non-blank data rows as
    (line, cells); line numbers are the file's (1-based; a row's is the line it ends on)."""
    comments: list[tuple[int, str]] = []
    with path.open("r", newline="", encoding="utf-8-sig") as fh:
        line = 0
        first = None
        for text in fh:
            line += 1
            stripped = text.strip()
            if stripped.startswith("#"):
                comments.append((line, stripped[1:].strip()))
            elif stripped:
                first = text
                break
        if first is None:
            return comments, line, [], []
        offset = line - 1
        reader = csv.reader(itertools.chain([first], fh))
        header = [h.strip() for h in next(reader)]
        rows = [(offset + reader.line_num, row) for row in reader if row]
    return comments, offset + 1, header, rows


def _parse_metadata(comments: Sequence[tuple[int, str]], path: Path) -> tuple[dict[str, Any], dict[str, int]]:
    """The declarations among the ``#`` lines (``dataset``, ``input_size``, ``units``; anything
    else is a comment) as ``{"datasets": [...], "input_size": int | None, "units": {...}}``, and
    the line of each."""
    declared: dict[str, Any] = {"datasets": [], "input_size": None, "units": {}}
    lines: dict[str, int] = {}
    for line, text in comments:
        word, sep, value = text.partition(":")
        field = _METADATA_KEYS.get(word.strip().lower().replace(" ", "_").replace("-", "_"))
        if not sep or field is None:
            continue
        where = f"{path}, line {line}"
        if field in lines:
            raise BenchmarkDataError(f"{where}: a second '# {word.strip()}:' line (the first is line {lines[field]}); "
                                     "declare each of dataset, input_size and units once")
        lines[field] = line
        value = value.strip()
        items = [item.strip() for item in value.split(",") if item.strip()]
        if not items:
            raise BenchmarkDataError(f"{where}: '# {word.strip()}:' declares nothing; complete the line or remove it")
        if field == "datasets":
            for item in items:
                try:
                    canonical = _canonical_dataset(item)
                except BenchmarkDataError as exc:
                    raise BenchmarkDataError(f"{where}: {exc} Correct the '# dataset:' line or remove it.") from None
                if canonical not in declared["datasets"]:
                    declared["datasets"].append(canonical)
        elif field == "input_size":
            try:
                size = int(value)
                if size <= 0:
                    raise ValueError(value)
            except ValueError:
                raise BenchmarkDataError(f"{where}: '# input_size:' must be one positive whole number, the side "
                                         f"of the input images in pixels (32 for cifar10 and cifar100, 16 for "
                                         f"ImageNet16-120), got {value!r}") from None
            declared["input_size"] = size
        else:
            for item in items:
                column, eq, unit = (part.strip() for part in item.partition("="))
                if not eq or not column or not unit:
                    raise BenchmarkDataError(f"{where}: malformed '# units:' entry {item!r}; write comma-separated "
                                             "column=unit pairs, e.g. '# units: gpu_latency=ms, robust_acc=%'")
                if column in declared["units"]:
                    raise BenchmarkDataError(f"{where}: '# units:' gives column {column!r} twice")
                declared["units"][column] = unit
    size = declared["input_size"]
    if size is not None:
        other = [ds for ds in declared["datasets"] if _NB201_INPUT_SIZE[ds] != size]
        if other:
            n = _NB201_INPUT_SIZE[other[0]]
            raise BenchmarkDataError(f"{path}, line {lines['input_size']}: '# input_size: {size}' contradicts the "
                                     f"'# dataset:' line (line {lines['datasets']}): {other[0]}'s images are "
                                     f"{n}x{n}; correct or remove one of the two lines")
    return declared, lines


def _check_declared_dataset(declared: dict[str, Any], lines: dict[str, int], dataset: str | None,
                            path: Path) -> None:
    """Refuse a table declared for another dataset or input size than the run's (``dataset``;
    None: nothing to compare)."""
    if dataset is None:
        return
    try:
        run = _canonical_dataset(dataset)
    except BenchmarkDataError:
        run = str(dataset)
    remedy = (f"use the table made for {run}, put {{dataset}} in the table's path (hardware.table) so that "
              f"each dataset gets its own file, or remove the line if the values hold for {run} too")
    if declared["datasets"] and run not in declared["datasets"]:
        raise BenchmarkDataError(f"{path}, line {lines['datasets']}: the table was made for "
                                 f"{', '.join(declared['datasets'])} (its '# dataset:' line) and the run is on "
                                 f"{run}; {remedy}")
    size = declared["input_size"]
    if size is not None and run in _NB201_INPUT_SIZE and _NB201_INPUT_SIZE[run] != size:
        n = _NB201_INPUT_SIZE[run]
        raise BenchmarkDataError(f"{path}, line {lines['input_size']}: the table was made for {size}x{size} inputs "
                                 f"(its '# input_size:' line) and the run is on {run}, whose images are {n}x{n}; "
                                 f"{remedy}")


def _parse_op_indices(text: str) -> ArchKey | None:
    """A ``naslib_op_indices`` cell in any accepted form (``4-3-3-0-0-0``, ``(4, 3, 3, 0, 0, 0)``,
    ``[4, 3, 3, 0, 0, 0]``, ``4,3,3,0,0,0``, ``4 3 3 0 0 0``); None if it is not 6 op indices in 0..4."""
    key = _parse_dash_op_indices(text)  # the common form, a dictionary lookup
    if key is not None:
        return key
    inner = text.strip()
    if len(inner) >= 2 and inner[0] + inner[-1] in ("()", "[]"):
        inner = inner[1:-1].strip()
    separator = "-" if "-" in inner else "," if "," in inner else None  # None: whitespace
    parts = [part.strip() for part in inner.split(separator)]
    if len(parts) != 6 or any(part not in _OP_INDEX_TEXT for part in parts):
        return None
    return tuple(int(part) for part in parts)


def _parse_arch_str(text: str, path: Path, line: int) -> ArchKey:
    try:
        return nb201_arch_str_to_op_indices(text.strip())
    except ValueError as exc:
        raise BenchmarkDataError(f"{path}, line {line}: column {_ARCH_STR_COLUMN!r} has a malformed NB201 arch "
                                 f"string: {exc}") from None


def _read_keys(rows: Sequence[tuple[int, list[str]]], header: list[str], i_key: int, i_check: int | None,
               path: Path, fix: str) -> list[ArchKey]:
    """The key of each row (column ``i_key``: ``naslib_op_indices``, or ``arch_str`` in a table
    without one), checked against the ``arch_str`` column ``i_check`` where there is one."""
    keys: list[ArchKey] = []
    by_arch_str = header[i_key] == _ARCH_STR_COLUMN
    for line, row in rows:
        if len(row) != len(header):
            raise BenchmarkDataError(f"{path}, line {line}: {len(row)} fields, expected {len(header)} "
                                     f"(as in the header); {fix}")
        if by_arch_str:
            key = _parse_arch_str(row[i_key], path, line)
        else:
            key = _parse_op_indices(row[i_key])
            if key is None:
                raise BenchmarkDataError(f"{path}, line {line}: column {_KEY_COLUMN!r} has the malformed key "
                                         f"{row[i_key].strip()!r}; expected {_KEY_FORMS}")
        if i_check is not None and row[i_check].strip():
            named = _parse_arch_str(row[i_check], path, line)
            if named != key:
                raise BenchmarkDataError(
                    f"{path}, line {line}: column {_ARCH_STR_COLUMN!r} names the cell {'-'.join(map(str, named))} "
                    f"(in NASLib op indices) but column {_KEY_COLUMN!r} is {'-'.join(map(str, key))}; the two must "
                    f"name the same architecture: correct one of them, or drop the {_ARCH_STR_COLUMN!r} column")
        keys.append(key)
    return keys


def _is_text(cells: Iterable[str]) -> bool:
    """Whether a column is text: no cell is a number and some cell is not a missing value."""
    text = False
    for cell in cells:
        cell = cell.strip()
        if cell.lower() in _MISSING:
            continue
        try:
            float(cell)
        except ValueError:
            text = True
        else:
            return False
    return text


def _parse_value(text: str, path: Path, line: int, column: str, negative_is_missing: bool,
                 value_range: tuple[str, float, float | None, str] | None = None) -> float:
    """One cell: NaN for a missing measurement, else a finite number within ``value_range``
    ((what, low, high, fix) from :func:`_column_range`; None: any number)."""
    text = text.strip()
    if text.lower() in _MISSING:
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

"""Errors raised by the benchmark-oracle layer."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["BenchmarkDataError", "check_range", "csv_read_errors"]


class BenchmarkDataError(ValueError):
    """Benchmark data is missing, malformed, incomplete, or does not hold a requested entry.

    Every message names the offending file (absolute path) or value, states what was
    expected, and says how to fix it. The loaders never fall back to synthetic numbers:
    when real data cannot be read, this error is raised instead.
    """


@contextmanager
def csv_read_errors(path: Path, fix: str) -> Iterator[None]:
    """Turn a text-decoding or csv-parsing failure while reading ``path`` into a
    BenchmarkDataError that names the file and ends with ``fix``."""
    try:
        yield
    except UnicodeDecodeError as exc:
        raise BenchmarkDataError(f"{path} is not a UTF-8 text csv ({exc}); {fix}") from exc
    except csv.Error as exc:
        raise BenchmarkDataError(f"{path} is not a valid csv ({exc}); {fix}") from exc


def check_range(value: float, low: float | None, high: float | None, *, where: str, what: str, shown: str,
                expected: str, fix: str) -> float:
    """Return ``value`` if ``low <= value <= high`` (``None``: no bound on that side), else raise a
    BenchmarkDataError naming ``where`` (file and line or entry), ``what`` (the column or field),
    the value as ``shown`` and the range.

    The message reads ``"{where}: {what} has value {shown}, out of range: expected {expected} {range}.
    {fix}"``, e.g. ``".../nb201_accuracies.csv, line 7: column 'cifar10_val_acc' has value '150', out of
    range: expected an accuracy in percent in [0, 100]. The file is corrupted; ..."``.
    """
    if (low is None or value >= low) and (high is None or value <= high):
        return value
    if low is not None and high is not None:
        bounds = f"in [{low:g}, {high:g}]"
    elif low is not None:
        bounds = f">= {low:g}"
    else:
        bounds = f"<= {high:g}"
    raise BenchmarkDataError(f"{where}: {what} has value {shown}, out of range: expected {expected} {bounds}. {fix}")

"""Errors raised by the benchmark-oracle layer."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["BenchmarkDataError", "csv_read_errors"]


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

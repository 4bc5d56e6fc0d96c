"""Errors raised by the benchmark-oracle layer."""

from __future__ import annotations

__all__ = ["BenchmarkDataError"]


class BenchmarkDataError(ValueError):
    """Benchmark data is missing, malformed, incomplete, or does not hold a requested entry.

    Every message names the offending file (absolute path) or value, states what was
    expected, and says how to fix it. The loaders never fall back to synthetic numbers:
    when real data cannot be read, this error is raised instead.
    """

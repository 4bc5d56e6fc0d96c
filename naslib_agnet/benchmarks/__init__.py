"""Benchmark oracles: real tabular benchmark data keyed by NASLib architecture hashes.

The loaders are imported on first use (they pull in the search-space codecs and torch), so
that ``BenchmarkDataError`` and ``TabularOracle`` are cheap to import."""
import importlib

from .errors import BenchmarkDataError
from .tabular import TabularOracle

_LAZY = {"Nb101Oracle": ".nasbench101", "load_nb101_20k_oracle": ".nasbench101", "load_nb101_oracle": ".nasbench101",
         "load_nb101_pickle_oracle": ".nasbench101", "NB201_DATASETS": ".nasbench201",
         "load_nb201_oracle": ".nasbench201", "nb201_arch_str_to_op_indices": ".nasbench201",
         "nb201_op_indices_to_arch_str": ".nasbench201"}

__all__ = ["BenchmarkDataError", "TabularOracle", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

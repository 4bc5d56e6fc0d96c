"""Benchmark oracles: real tabular benchmark data keyed by NASLib architecture hashes."""

from .errors import BenchmarkDataError
from .nasbench101 import Nb101Oracle, load_nb101_20k_oracle, load_nb101_oracle, load_nb101_pickle_oracle
from .nasbench201 import (
    NB201_DATASETS,
    load_nb201_oracle,
    nb201_arch_str_to_op_indices,
    nb201_op_indices_to_arch_str,
)
from .tabular import TabularOracle

__all__ = [
    "BenchmarkDataError",
    "NB201_DATASETS",
    "Nb101Oracle",
    "TabularOracle",
    "load_nb101_20k_oracle",
    "load_nb101_oracle",
    "load_nb101_pickle_oracle",
    "load_nb201_oracle",
    "nb201_arch_str_to_op_indices",
    "nb201_op_indices_to_arch_str",
]

"""A lightweight NAS-Bench-201 search space with the NASLib graph methods black-box optimizers use.

It holds only the op-index tuple (NASLib's ``get_hash()``), answers ``query`` from a
:class:`~naslib_agnet.benchmarks.TabularOracle`, and needs neither NASLib nor torch
modules. Its ``dataset_api`` is built by :func:`make_nb201_dataset_api`.

Metrics: ``VAL_ACCURACY`` and ``TEST_ACCURACY`` are the table's validation and *true
test* accuracy (unlike NASLib's own NB201 query, which answers both from the
validation split). ``TRAIN_ACCURACY`` and ``TRAIN_TIME`` are not in the table and
return -1, NASLib's marker for an unavailable metric.
"""
from __future__ import annotations

import os

import numpy as np

from ..benchmarks import BenchmarkDataError, TabularOracle, load_nb201_oracle
from ..spaces.nasbench201 import NB201_OP_NAMES, nb201_op_indices_to_arch_str
from .naslib_api import Metric, metric_name
from .table_space import Neighbour, TableSpace

_NUM_OPS = len(NB201_OP_NAMES)


def canonical_dataset(dataset: str) -> str:
    """The NB201 dataset name as the table spells it (``CIFAR10`` -> ``cifar10``, ``ImageNet16`` ->
    ``ImageNet16-120``); BenchmarkDataError for an unknown one."""
    from ..benchmarks.nasbench201 import _canonical_dataset

    return _canonical_dataset(dataset)


def data_files(data_dir: str | os.PathLike[str], dataset: str) -> list:
    """The data file :func:`make_nb201_dataset_api` reads for ``dataset`` (none if it does not exist)."""
    from ..benchmarks.nasbench201 import nb201_data_file

    path = nb201_data_file(data_dir, dataset)
    return [] if path is None else [path]


def make_nb201_dataset_api(data_dir: str | os.PathLike[str], dataset: str) -> dict:
    """The ``dataset_api`` of :class:`NasBench201Space` for one dataset, read from ``data_dir``."""
    oracle = load_nb201_oracle(data_dir, dataset)
    return {"oracle": oracle, "nb201_oracle": oracle, "dataset": canonical_dataset(dataset)}


class NasBench201Space(TableSpace):
    """NASLib-protocol NB201 cell: ``clone``, ``set_spec``, ``get_hash``, ``query``, sampling, mutation."""

    space_name = "nasbench201"
    label = "NB201"

    def __init__(self, op_indices: tuple[int, ...] | None = None):
        self.op_indices: tuple[int, ...] | None = None
        if op_indices is not None:
            self.set_spec(op_indices)

    # ------------------------------------------------------------------ NASLib graph API
    def set_spec(self, op_indices, dataset_api=None) -> None:
        ops = tuple(int(v) for v in op_indices)
        if len(ops) != 6 or any(not 0 <= v < _NUM_OPS for v in ops):
            raise ValueError(f"NB201 op indices must be 6 integers in 0..{_NUM_OPS - 1}, got {op_indices!r}")
        self.op_indices = ops

    def set_op_indices(self, op_indices) -> None:
        self.set_spec(op_indices)

    def get_op_indices(self) -> tuple[int, ...]:
        if self.op_indices is None:
            raise ValueError("this NB201 graph has no architecture yet: call set_spec or "
                             "sample_random_architecture first")
        return self.op_indices

    def get_hash(self) -> tuple[int, ...]:
        return self.get_op_indices()

    def get_arch_str(self) -> str:
        return nb201_op_indices_to_arch_str(self.get_op_indices())

    def sample_random_architecture(self, dataset_api=None, load_labeled=False) -> None:
        """NASLib's rule: uniform op indices, rejecting cells whose 3 input or 3 output edges are all ``none``."""
        while True:
            ops = np.random.randint(_NUM_OPS, size=6).tolist()
            if (ops[0] == ops[1] == ops[2] == 1) or (ops[2] == ops[4] == ops[5] == 1):
                continue
            self.set_spec(ops)
            return

    def mutate(self, parent, dataset_api=None) -> None:
        """NASLib's mutation: copy the parent and change one random edge to a different op."""
        ops = list(parent.get_hash())
        edge = np.random.randint(len(ops))
        choices = [op for op in range(_NUM_OPS) if op != ops[edge]]
        ops[edge] = int(np.random.choice(choices))
        self.set_spec(ops)

    def get_nbhd(self, dataset_api=None) -> list:
        """All 24 one-edge neighbours, shuffled, as containers with an ``.arch`` (NASLib's layout)."""
        ops = self.get_op_indices()
        nbhd = []
        for edge in range(6):
            for op in range(_NUM_OPS):
                if op == ops[edge]:
                    continue
                child = NasBench201Space(ops[:edge] + (op,) + ops[edge + 1:])
                nbhd.append(Neighbour(child))
        np.random.shuffle(nbhd)
        return nbhd

    def query(self, metric=None, dataset=None, path=None, epoch=-1, full_lc=False, dataset_api=None):
        oracle = _oracle_for(dataset_api, dataset)
        name = metric_name(metric)
        if name == "RAW":
            return oracle.query(self.get_op_indices())
        if name in ("VAL_ACCURACY", "TEST_ACCURACY"):
            column = "val_acc" if name == "VAL_ACCURACY" else "test_acc"
            value = oracle.query(self.get_op_indices())
            if column not in value:
                raise BenchmarkDataError(f"{oracle.source} has no {column} column: {oracle.splits}")
            return value[column]
        if name in ("TRAIN_ACCURACY", "TRAIN_TIME", "TRAIN_LOSS", "VAL_LOSS", "TEST_LOSS"):
            return -1
        raise NotImplementedError(f"metric {name} is not available from the NB201 table "
                                  f"(available: VAL_ACCURACY, TEST_ACCURACY, RAW)")


def _oracle_for(dataset_api, dataset) -> TabularOracle:
    if not isinstance(dataset_api, dict) or "nb201_oracle" not in dataset_api:
        raise ValueError("NasBench201Space.query needs the dataset_api from make_nb201_dataset_api(data_dir, "
                         f"dataset); got {type(dataset_api).__name__}")
    if dataset is not None and dataset != dataset_api["dataset"]:
        raise ValueError(f"this dataset_api holds {dataset_api['dataset']!r} data; it cannot answer a query "
                         f"for dataset {dataset!r}: build one with make_nb201_dataset_api(data_dir, {dataset!r})")
    return dataset_api["nb201_oracle"]


__all__ = ["Metric", "NasBench201Space", "make_nb201_dataset_api"]

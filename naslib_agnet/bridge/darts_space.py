"""A lightweight DARTS / NAS-Bench-301 search space with the NASLib graph methods black-box optimizers use.

It holds one architecture as NASLib's NB301 compact form ``(normal, reduce)`` (made canonical:
each node's two inputs ordered by source, :mod:`naslib_agnet.spaces.darts`), answers ``query``
from a surrogate oracle (:class:`~naslib_agnet.benchmarks.nasbench301.YahpoNb301Oracle`) and needs
neither NASLib, nor ``nasbench301``, nor a torch model. Its ``dataset_api`` is built by
:func:`make_nb301_dataset_api`.

Sampling, mutation and neighbourhood follow NASLib's ``NasBench301SearchSpace`` (with numpy's
global generator, as NASLib's do): a random architecture draws, for each intermediate node of
each cell, two distinct inputs and two ops uniformly; a mutation changes one op or one input of
one cell, redrawn until the architecture differs; the neighbourhood is every single op change
and every single input change (to an input the node does not already use).

Metrics: ``VAL_ACCURACY`` is the surrogate's validation accuracy (%), ``TRAIN_TIME`` its runtime
(s); ``TEST_ACCURACY`` and the rest return -1, as NASLib's NB301 query does for a surrogate
(there is no test split). With YAHPO's surrogate the numbers are a **substitute** for the
official NAS-Bench-301 ones.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..benchmarks import BenchmarkDataError
from ..spaces import darts
from .naslib_api import Metric, metric_name
from .table_space import Neighbour, TableSpace

NUM_OPS = len(darts.OPS)
#: datasets of the NB301 space (NAS-Bench-301 is CIFAR-10 only): which surrogate answers
NB301_DATASETS = {
    "cifar10": "CIFAR-10 through YAHPO Gym's NB301 surrogate in {data_dir}/nasbench301/yahpo-nb301-v2 (a substitute "
               "for NAS-Bench-301's)",
    "cifar10-official": "CIFAR-10 through the official NAS-Bench-301 v1.0 surrogates (the nasbench301 package, model "
                        "files in {data_dir}/nasbench301/nb_models_1.0)",
}


def canonical_dataset(dataset: str) -> str:
    """``cifar10`` or ``cifar10-official`` (case-insensitive); BenchmarkDataError for another name."""
    names = {name.lower(): name for name in NB301_DATASETS}
    try:
        return names[str(dataset).strip().lower()]
    except KeyError:
        raise BenchmarkDataError(f"unknown nasbench301 dataset {dataset!r}; NAS-Bench-301 covers CIFAR-10, "
                                 "through one of: " + "; ".join(f"{k} = {v}" for k, v in NB301_DATASETS.items())
                                 ) from None


def data_files(data_dir: str | os.PathLike[str], dataset: str) -> list[Path]:
    """The surrogate files :func:`make_nb301_dataset_api` reads (those that exist)."""
    from ..benchmarks.nasbench301 import (ENCODING_FILE, MODEL_FILE, OFFICIAL_MODELS_DIR, OFFICIAL_PERFORMANCE,
                                          OFFICIAL_RUNTIME, YAHPO_NB301_DIR)

    root = Path(data_dir).expanduser().absolute()
    if canonical_dataset(dataset) == "cifar10-official":
        folder, names = root / OFFICIAL_MODELS_DIR, (OFFICIAL_PERFORMANCE, OFFICIAL_RUNTIME)
    else:
        folder, names = root / YAHPO_NB301_DIR, (MODEL_FILE, ENCODING_FILE)
    return [folder / name for name in names if (folder / name).exists()]


class SurrogateModel:
    """One of NASLib's ``dataset_api["nb301_model"]`` entries over an oracle: ``predict(config,
    representation="genotype", with_noise=...)`` returns the oracle's ``metric`` for a genotype (or a
    compact architecture, ``representation="compact"``), so NASLib's ``NasBench301SearchSpace.query``
    reads the same numbers as this package."""

    def __init__(self, oracle, metric: str):
        self.oracle = oracle
        self.metric = metric

    def predict(self, config, representation: str = "genotype", with_noise: bool = False, **kwargs) -> float:
        if with_noise:
            raise ValueError("this surrogate is deterministic: predict(..., with_noise=False) (NASLib's NB301 "
                             "query passes no with_noise; nasbench301's default True is not supported)")
        if representation == "genotype":
            arch = darts.genotype_to_compact(config)
        elif representation == "compact":
            arch = darts.canonical(config)
        elif representation == "configspace":
            arch = darts.config_to_compact(config)
        else:
            raise ValueError(f"representation {representation!r} is not supported: use genotype, compact or "
                             "configspace")
        return self.oracle.query(arch)[self.metric]


def make_nb301_dataset_api(data_dir: str | os.PathLike[str], dataset: str = "cifar10") -> dict:
    """The ``dataset_api`` of :class:`NasBench301Space` (and of NASLib's ``NasBench301SearchSpace``):
    ``oracle`` (the YAHPO NB301 surrogate) and NASLib's ``nb301_model`` pair (accuracy, runtime)."""
    from ..benchmarks.nasbench301 import load_official_nb301_oracle, load_yahpo_nb301_oracle

    dataset = canonical_dataset(dataset)
    load = load_official_nb301_oracle if dataset == "cifar10-official" else load_yahpo_nb301_oracle
    return nb301_dataset_api(load(data_dir), dataset)


def nb301_dataset_api(oracle, dataset: str = "cifar10") -> dict:
    """A ``dataset_api`` around any NB301 oracle (``query(arch) -> {"val_acc", "runtime"}``)."""
    return {"oracle": oracle, "dataset": dataset,
            "nb301_model": [SurrogateModel(oracle, "val_acc"), SurrogateModel(oracle, "runtime")]}


class NasBench301Space(TableSpace):
    """NASLib-protocol DARTS architecture: ``clone``, ``set_spec``, ``get_hash``, ``query``, sampling,
    mutation, neighbourhood."""

    space_name = "nasbench301"
    label = "NB301"

    def __init__(self, compact=None):
        self.compact: darts.Arch | None = None
        if compact is not None:
            self.set_spec(compact)

    # ------------------------------------------------------------------ NASLib graph API
    def set_spec(self, compact, dataset_api=None) -> None:
        """Any spelling of a compact architecture (lists, numpy ints, inputs in either order)."""
        self.compact = darts.canonical(compact)

    def set_compact(self, compact) -> None:
        self.set_spec(compact)

    def get_compact(self) -> darts.Arch:
        if self.compact is None:
            raise ValueError("this NB301 graph has no architecture yet: call set_spec or "
                             "sample_random_architecture first")
        return self.compact

    def get_hash(self) -> darts.Arch:
        return self.get_compact()

    def get_arch_str(self) -> str:
        """The DARTS genotype as DARTS prints it (train it with DARTS code)."""
        return darts.arch_to_genotype_str(self.get_compact())

    def get_genotype(self) -> darts.Genotype:
        return darts.compact_to_genotype(self.get_compact())

    def sample_random_architecture(self, dataset_api=None, load_labeled=False) -> None:
        if load_labeled:
            raise NotImplementedError("the NB301 training data (load_labeled=True) is not available here; the "
                                      "surrogate evaluates any architecture")
        cells = []
        for _ in darts.CELL_TYPES:
            pairs = []
            for d in darts.INTERMEDIATE_NODES:
                sources = np.random.choice(d, 2, replace=False)
                ops = np.random.choice(NUM_OPS, 2)
                pairs += [(int(sources[0]), int(ops[0])), (int(sources[1]), int(ops[1]))]
            cells.append(tuple(pairs))
        self.set_spec(tuple(cells))

    def mutate(self, parent, dataset_api=None) -> None:
        """NASLib's NB301 mutation (rate 1): one op or one input of one pair, redrawn until the
        architecture differs from the parent."""
        base = darts.canonical(parent.get_hash())
        while True:
            compact = [[list(p) for p in cell] for cell in base]
            cell, pair, part = np.random.choice(2), np.random.choice(8), np.random.choice(2)
            if part == 1:
                compact[cell][pair][1] = int(np.random.choice(NUM_OPS))
            else:
                choice = int(np.random.choice(pair // 2 + 2))
                if compact[cell][pair ^ 1][0] != choice:
                    compact[cell][pair][0] = choice
            child = darts.canonical(compact)
            if child != base:
                self.set_spec(child)
                return

    def get_nbhd(self, dataset_api=None) -> list:
        """Every single op change and input change, without duplicates, shuffled, as containers with an
        ``.arch`` (NASLib's layout)."""
        compact = self.get_compact()
        seen = {compact}
        nbhd = []
        for i, cell in enumerate(compact):
            for j, (source, op) in enumerate(cell):
                other = cell[j ^ 1][0]
                changes = [(source, o) for o in range(NUM_OPS) if o != op]
                changes += [(s, op) for s in range(j // 2 + 2) if s not in (source, other)]
                for change in changes:
                    new = [list(c) for c in compact]
                    new[i][j] = change
                    child = darts.canonical(new)
                    if child not in seen:
                        seen.add(child)
                        nbhd.append(Neighbour(NasBench301Space(child)))
        np.random.shuffle(nbhd)
        return nbhd

    def query(self, metric=None, dataset=None, path=None, epoch=-1, full_lc=False, dataset_api=None):
        if not isinstance(dataset_api, dict) or "oracle" not in dataset_api:
            raise ValueError("NasBench301Space.query needs the dataset_api from make_nb301_dataset_api(data_dir); "
                             f"got {type(dataset_api).__name__}")
        if dataset is not None and dataset not in NB301_DATASETS:
            raise ValueError(f"NAS-Bench-301 supports only CIFAR-10 ({', '.join(NB301_DATASETS)}), not {dataset!r}")
        values = dataset_api["oracle"].query(self.get_compact())
        name = metric_name(metric)
        if name == "RAW":
            return values
        if name == "VAL_ACCURACY":
            return values["val_acc"]
        if name == "TRAIN_TIME":
            return values["runtime"]
        return -1  # NASLib's NB301 query answers -1 for every other metric of a surrogate


__all__ = ["Metric", "NasBench301Space", "SurrogateModel", "make_nb301_dataset_api", "nb301_dataset_api"]

"""A lightweight NAS-Bench-101 search space with the NASLib graph methods black-box optimizers use.

It holds one cell as NASLib's NB101 tuple (the flattened n x n matrix, then n op
indices in ``['input', 'output', 'maxpool3x3', 'conv1x1-bn-relu', 'conv3x3-bn-relu']``)
of the *canonical pruned* cell, which is what :class:`~naslib_agnet.spaces.NasBench101Codec`
uses as its key and what NASLib's ``get_hash()`` returns after ``set_spec`` of that
spec. It answers ``query`` from an :class:`~naslib_agnet.benchmarks.Nb101Oracle` and needs
neither NASLib, nor ``nasbench``, nor TensorFlow. Its ``dataset_api`` is built by
:func:`make_nb101_dataset_api`; the dataset name chooses the data:

* ``cifar10``: NASLib's full ``nasbench_only108.pkl`` (all 423,624 cells, validation
  *and* test accuracy), looked up as ``{data_dir}/nasbench101/nasbench_only108.pkl``; an
  error when the file is not there (it is never replaced silently by a subset);
* ``cifar10-20k``: the 20,001-cell **sub-benchmark** ``nb101_20k_val.csv`` (the first
  20,001 official hashes in sorted order, joined to their cells through the enumeration
  of the space). It has validation accuracies only: ``TEST_ACCURACY`` is NaN (missing;
  the run records write it as null), never a made-up number.

Every method keeps to the cells the loaded table can evaluate:

* ``sample_random_architecture`` draws uniformly from the table's cells (on the 20k
  sub-benchmark: only cells inside the table; on the full table: uniform over the
  423,624 unique cells, whereas NASLib samples random 7 x 7 matrices and ops, which
  weights isomorphism classes unequally);
* ``mutate`` follows NASLib's NB101 rule (the parent on 7 vertices, every upper-triangle
  entry flipped with probability 1/7, every interior op changed to another op with
  probability 1/3, redrawn until valid) and additionally redraws until the child is a
  different cell that the table holds;
* ``get_nbhd`` follows NASLib's NB101 neighbourhood (every other op at every vertex,
  every single edge flip on the input->output paths, kept if valid) over the pruned cell,
  without isomorphic duplicates, restricted to cells the table holds.

On the 20k sub-benchmark only about 1 in 21 cells is in the table, so neighbourhoods are
small (often empty) and mutations are redrawn many times: a property of the
sub-benchmark, not of the algorithms.

Metrics: ``VAL_ACCURACY`` (108 epochs; ``epoch`` 4/12/36 on the 20k table),
``TEST_ACCURACY`` (NaN when the table has none), ``TRAIN_TIME``, ``PARAMETERS``, ``RAW``
(all columns); ``TRAIN_ACCURACY`` and the losses are not in the tables and return -1,
NASLib's marker for an unavailable metric.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from ..benchmarks import BenchmarkDataError, Nb101Oracle, load_nb101_20k_oracle, load_nb101_pickle_oracle
from ..spaces.nasbench101 import NB101_OPS, InvalidCellError, NasBench101Codec, cell_hash, tuple_to_spec
from .naslib_api import Metric, metric_name
from .table_space import Neighbour, TableSpace

_CODEC = NasBench101Codec()
NUM_VERTICES = 7
#: dataset names of :func:`make_nb101_dataset_api` -> what they load
NB101_DATASETS = {
    "cifar10": "NASLib's full nasbench_only108.pkl (all 423,624 cells, val and test accuracy)",
    "cifar10-20k": "the 20,001-cell sub-benchmark nb101_20k_val.csv (validation accuracy only)",
}
FULL_PICKLE = Path("nasbench101") / "nasbench_only108.pkl"
#: redraws of a mutation before giving up (the 20k table holds about 1 in 21 cells)
MAX_MUTATION_TRIES = 100_000


def canonical_dataset(dataset: str) -> str:
    """The NB101 dataset name as :data:`NB101_DATASETS` spells it (case-insensitive); BenchmarkDataError
    for an unknown one."""
    names = {name.lower(): name for name in NB101_DATASETS}
    try:
        return names[str(dataset).strip().lower()]
    except KeyError:
        raise BenchmarkDataError(f"unknown nasbench101 dataset {dataset!r}; choose one of: "
                                 + "; ".join(f"{k} = {v}" for k, v in NB101_DATASETS.items())) from None


def data_files(data_dir: str | os.PathLike[str], dataset: str) -> list[Path]:
    """The data files :func:`make_nb101_dataset_api` reads for ``dataset`` (those that exist)."""
    from ..benchmarks.nasbench101 import NB101_20K_CSV_NAME, _find

    root = Path(data_dir).expanduser().absolute()
    if canonical_dataset(dataset) == "cifar10":
        return [root / FULL_PICKLE] if (root / FULL_PICKLE).is_file() else []
    found = _find(root, (NB101_20K_CSV_NAME,))
    return [found] if found is not None else []


def make_nb101_dataset_api(data_dir: str | os.PathLike[str], dataset: str) -> dict:
    """The ``dataset_api`` of :class:`NasBench101Space`: dataset ``cifar10`` (full NASLib pickle,
    required) or ``cifar10-20k`` (the 20,001-cell sub-benchmark); see the module docstring."""
    root = Path(data_dir).expanduser().absolute()
    dataset = canonical_dataset(dataset)
    if dataset == "cifar10":
        path = root / FULL_PICKLE
        if not path.is_file():
            raise BenchmarkDataError(
                f"dataset cifar10 on nasbench101 needs NASLib's full nasbench_only108.pkl at {path}, which is "
                f"not there; put the file there, or use dataset cifar10-20k for the 20,001-cell sub-benchmark "
                f"(nasbench101/nb101_20k_val.csv, validation accuracy only)")
        oracle = load_nb101_pickle_oracle(path)
    else:
        oracle = load_nb101_20k_oracle(root)
    return nb101_dataset_api(oracle, dataset)


def nb101_dataset_api(oracle: Nb101Oracle, dataset: str = "cifar10") -> dict:
    """A ``dataset_api`` around any NB101 oracle (e.g. the 30-cell test file).

    ``candidate_filter`` (``arch in oracle``) is what AG-Net uses to discard generated cells
    the table cannot evaluate."""
    return {"oracle": oracle, "nb101_oracle": oracle, "dataset": dataset, "candidate_filter": oracle.__contains__,
            "nb101_keys": oracle.keys()}


class NasBench101Space(TableSpace):
    """NASLib-protocol NB101 cell: ``clone``, ``set_spec``, ``get_hash``, ``query``, sampling, mutation."""

    space_name = "nasbench101"
    label = "NB101"

    def __init__(self, spec=None):
        self.key: tuple[int, ...] | None = None
        if spec is not None:
            self.set_spec(spec)

    # ------------------------------------------------------------------ NASLib graph API
    def set_spec(self, spec, dataset_api=None) -> None:
        """A NASLib NB101 tuple (any n x n, pruned or not), a spec ``{'matrix', 'ops'}``, or an
        official md5 hash string (looked up in the dataset_api's table, else in the enumeration)."""
        if isinstance(spec, str):
            oracle = dataset_api.get("nb101_oracle") if isinstance(dataset_api, dict) else None
            if oracle is not None and oracle.has_hash(spec):
                self.key = _CODEC.canonical(oracle.key_of_hash(spec))
            else:
                try:
                    self.key = _CODEC.from_cell_hash(spec.strip().lower())
                except KeyError:
                    raise ValueError(f"{spec!r} is not the official hash of any NB101 cell") from None
            return
        self.key = _CODEC.from_spec(spec) if isinstance(spec, dict) else _CODEC.canonical(tuple(spec))

    def get_hash(self) -> tuple[int, ...]:
        if self.key is None:
            raise ValueError("this NB101 graph has no architecture yet: call set_spec or "
                             "sample_random_architecture first")
        return self.key

    def get_spec(self) -> dict:
        """NASLib's spec of the (canonical, pruned) cell: ``{'matrix': n x n ndarray, 'ops': [...]}``."""
        return _CODEC.to_spec(self.get_hash())

    def get_arch_str(self) -> str:
        """The official md5 hash of the cell (the key of NAS-Bench-101's data)."""
        return _CODEC.cell_hash(self.get_hash())

    def sample_random_architecture(self, dataset_api=None, load_labeled=False) -> None:
        """A cell drawn uniformly from the loaded table (only cells inside the table: on the 20k
        sub-benchmark one of its 20,001 cells), with numpy's global RNG."""
        keys = _api(dataset_api)["nb101_keys"]
        self.key = _CODEC.canonical(keys[np.random.randint(len(keys))])

    def mutate(self, parent, dataset_api=None, edits: int = 1) -> None:
        """NASLib's NB101 mutation of ``parent`` (see the module docstring), redrawn until the child
        is a valid cell, different from its parent, that the loaded table holds."""
        oracle = _api(dataset_api)["nb101_oracle"]
        key = parent.get_hash()
        for _ in range(max(1, int(edits))):
            key = _mutate_once(key, oracle)
        self.key = key

    def get_nbhd(self, dataset_api=None) -> list:
        """The cell's neighbours that the table holds (one op changed, or one edge flipped; no
        isomorphic duplicates), shuffled with numpy's global RNG, as containers with an ``.arch``."""
        oracle = _api(dataset_api)["nb101_oracle"]
        nbhd = [Neighbour(NasBench101Space(key)) for key in neighbour_keys(self.get_hash(), oracle)]
        np.random.shuffle(nbhd)
        return nbhd

    def query(self, metric=None, dataset=None, path=None, epoch=-1, full_lc=False, dataset_api=None):
        oracle = _oracle_for(dataset_api, dataset)
        name = metric_name(metric)
        if name == "RAW":
            return oracle.query(self.get_hash())
        values = oracle.query(self.get_hash())
        if name == "VAL_ACCURACY":
            if epoch in (-1, None, 108):
                return values["val_acc"]
            column = f"val_acc_{epoch}ep"
            if column not in values:
                raise BenchmarkDataError(f"{oracle.source} has no validation accuracy after {epoch} epochs; "
                                         f"its columns: {oracle.splits}")
            return values[column]
        if name == "TEST_ACCURACY":
            return values.get("test_acc", math.nan)  # NaN: the table has no test accuracy
        if name == "TRAIN_TIME":
            return values.get("train_time", -1)
        if name == "PARAMETERS":
            return values.get("params", -1)
        if name in ("TRAIN_ACCURACY", "TRAIN_LOSS", "VAL_LOSS", "TEST_LOSS"):
            return -1
        raise NotImplementedError(f"metric {name} is not available from the NB101 table "
                                  f"(available: VAL_ACCURACY, TEST_ACCURACY, TRAIN_TIME, PARAMETERS, RAW)")


# ---------------------------------------------------------------------------------- the rules
def _in_table(matrix: np.ndarray, ops: list[str], oracle: Nb101Oracle) -> tuple[str | None, bool]:
    """(official hash or None if invalid, whether the table holds the cell)."""
    try:
        md5 = cell_hash(matrix, ops)
    except InvalidCellError:
        return None, False
    return md5, oracle.has_hash(md5)


def _padded(key: tuple[int, ...]) -> tuple[np.ndarray, list[str]]:
    """The cell on 7 vertices: its own vertices first, the output last, unconnected vertices with
    random ops in between (NASLib's specs are 7 x 7; a pruned cell of n < 7 vertices is padded)."""
    matrix, ops = tuple_to_spec(key)
    n = len(ops)
    big = np.zeros((NUM_VERTICES, NUM_VERTICES), dtype=np.int64)
    big[: n - 1, : n - 1] = matrix[: n - 1, : n - 1]
    big[: n - 1, NUM_VERTICES - 1] = matrix[: n - 1, n - 1]
    extra = [NB101_OPS[i] for i in np.random.randint(len(NB101_OPS), size=NUM_VERTICES - n)]
    return big, ops[:-1] + extra + ["output"]


def _mutate_once(key: tuple[int, ...], oracle: Nb101Oracle) -> tuple[int, ...]:
    own = _CODEC.cell_hash(key)
    upper = np.triu(np.ones((NUM_VERTICES, NUM_VERTICES), dtype=bool), 1)
    for _ in range(MAX_MUTATION_TRIES):
        matrix, ops = _padded(key)
        flips = (np.random.random((NUM_VERTICES, NUM_VERTICES)) < 1.0 / NUM_VERTICES) & upper
        matrix = np.where(flips, 1 - matrix, matrix)
        for v in range(1, NUM_VERTICES - 1):
            if np.random.random() < 1.0 / len(NB101_OPS):
                others = [op for op in NB101_OPS if op != ops[v]]
                ops[v] = others[np.random.randint(len(others))]
        md5, held = _in_table(matrix, ops, oracle)
        if held and md5 != own:
            return _CODEC.canonical(oracle.key_of_hash(md5))
    raise RuntimeError(f"no mutation of NB101 cell {own} within {MAX_MUTATION_TRIES:,} draws is a different "
                       f"cell of table {oracle.name!r} ({len(oracle):,} cells)")


def neighbour_keys(key: tuple[int, ...], oracle: Nb101Oracle) -> list[tuple[int, ...]]:
    """Keys of the cells one op change or one edge flip away from ``key`` that ``oracle`` holds
    (distinct, excluding the cell itself), in a fixed order: op changes, then edge flips."""
    matrix, ops = tuple_to_spec(key)
    n = len(ops)
    seen = {_CODEC.cell_hash(key)}
    out = []

    def consider(m, o):
        md5, held = _in_table(m, o, oracle)
        if held and md5 not in seen:
            seen.add(md5)
            out.append(_CODEC.canonical(oracle.key_of_hash(md5)))

    for v in range(1, n - 1):
        for op in NB101_OPS:
            if op != ops[v]:
                consider(matrix, ops[:v] + [op] + ops[v + 1:])
    for v in range(1, n):
        for u in range(v):
            flipped = matrix.copy()
            flipped[u, v] = 1 - flipped[u, v]
            consider(flipped, ops)
    return out


def _api(dataset_api) -> dict:
    if not isinstance(dataset_api, dict) or "nb101_oracle" not in dataset_api:
        raise ValueError("NasBench101Space needs the dataset_api from make_nb101_dataset_api(data_dir, dataset); "
                         f"got {type(dataset_api).__name__}")
    if "nb101_keys" not in dataset_api:
        dataset_api["nb101_keys"] = dataset_api["nb101_oracle"].keys()
    return dataset_api


def _oracle_for(dataset_api, dataset) -> Nb101Oracle:
    api = _api(dataset_api)
    if dataset is not None and dataset != api["dataset"]:
        raise ValueError(f"this dataset_api holds {api['dataset']!r} data; it cannot answer a query for dataset "
                         f"{dataset!r}: build one with make_nb101_dataset_api(data_dir, {dataset!r})")
    return api["nb101_oracle"]


__all__ = ["Metric", "NB101_DATASETS", "NasBench101Space", "make_nb101_dataset_api", "nb101_dataset_api",
           "neighbour_keys"]

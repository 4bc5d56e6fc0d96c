"""DARTS (NAS-Bench-301) architecture encodings as NASLib's predictors see them (``encode_darts`` of
NASLib's ``naslib/search_spaces/nasbench301/encodings.py``).

Both take compact architectures ``(normal, reduce)``, 8 ``(source, op)`` pairs per cell
(:mod:`naslib_agnet.spaces.darts`); one architecture gives a 1-d vector, a list of them an
``(N, D)`` matrix.

Path encoding (BANANAS): one bit per (cell, cell input, op sequence) of every path from a cell
input through the intermediate nodes. A path that starts at input ``c`` (0: c_{k-2}, 1: c_{k-1})
of cell ``i`` (0 normal, 1 reduce) with ops ``(o_0, ..., o_{L-1})`` sets bit
``(2 i + c) * M + sum_j 7**j * (o_j + 1)`` with ``M = 7**0 + ... + 7**4 = 2801``; the encoding has
``4 M = 11,204`` bits. NASLib builds the paths from the first **7** of the 8 pairs of a cell (its
loop runs over ``range(len(OPS))``), so node 5's second input never contributes;
``naslib_compatible=True`` (the default, used by :class:`~naslib_agnet.baselines.Bananas`)
reproduces that on this package's canonical keys (each node's inputs ordered by source), and
``naslib_compatible=False`` uses all 8 pairs.

``adjacency_one_hot`` (NASLib's ``encode_adj``; despite the name the ops are not one-hot): per
cell the 7 x 7 adjacency of the DARTS nodes (inputs 0, 1, intermediate 2..5, output 6; each
intermediate node feeds the output), flattened, followed by the 8 op indices; normal cell first:
``2 (49 + 8) = 114`` values.
"""
from __future__ import annotations

import numpy as np

from ..spaces import darts

NUM_OPS = len(darts.OPS)
#: paths per (cell, input): op sequences of length 0..4 in base 7 with digits 1..7
MAX_PATHS = sum(NUM_OPS ** i for i in range(5))  # 2801
PATH_ENCODING_LENGTH = 4 * MAX_PATHS
ADJACENCY_LENGTH = 2 * (7 * 7 + 8)


def _as_archs(archs) -> tuple[list[darts.Arch], bool]:
    try:
        return [darts.check(archs)], True
    except ValueError:
        return [darts.check(a) for a in archs], False


def cell_paths(cell: darts.Cell, pairs: int = 8) -> list[tuple[int, tuple[int, ...]]]:
    """The ``(cell input, op sequence)`` of every path through the first ``pairs`` pairs of a cell."""
    into: list[list[tuple[int, tuple[int, ...]]]] = [[] for _ in darts.INTERMEDIATE_NODES]
    paths = []
    for j in range(pairs):
        source, op = cell[j]
        new = [(source, (op,))] if source < 2 else [(start, ops + (op,)) for start, ops in into[source - 2]]
        into[j // 2] += new
        paths += new
    return paths


def path_indices(arch, naslib_compatible: bool = True) -> list[int]:
    """The bit index of every path of one architecture (a path may repeat an index)."""
    pairs = 7 if naslib_compatible else 8
    indices = []
    for i, cell in enumerate(darts.check(arch)):
        for start, ops in cell_paths(cell, pairs):
            indices.append((2 * i + start) * MAX_PATHS + sum(NUM_OPS ** j * (op + 1) for j, op in enumerate(ops)))
    return indices


def encode_paths(archs, naslib_compatible: bool = True) -> np.ndarray:
    """NASLib's DARTS path encoding (11,204 float bits); see the module docstring."""
    items, single = _as_archs(archs)
    encoding = np.zeros((len(items), PATH_ENCODING_LENGTH), dtype=np.float32)
    for row, arch in enumerate(items):
        encoding[row, path_indices(arch, naslib_compatible)] = 1.0
    return encoding[0] if single else encoding


def encode_adjacency_one_hot(archs) -> np.ndarray:
    """NASLib's ``encode_adj`` for DARTS (114 values); see the module docstring."""
    items, single = _as_archs(archs)
    encoding = np.zeros((len(items), ADJACENCY_LENGTH), dtype=np.float32)
    for row, arch in enumerate(items):
        parts = []
        for cell in arch:
            matrix = np.zeros((7, 7), dtype=np.float32)
            for j, (source, _) in enumerate(cell):
                matrix[source, j // 2 + 2] = 1.0
            matrix[2:6, 6] = 1.0
            parts += [matrix.ravel(), np.array([op for _, op in cell], dtype=np.float32)]
        encoding[row] = np.concatenate(parts)
    return encoding[0] if single else encoding


ENCODERS = {"path": encode_paths, "adjacency_one_hot": encode_adjacency_one_hot}

__all__ = ["ADJACENCY_LENGTH", "ENCODERS", "MAX_PATHS", "PATH_ENCODING_LENGTH", "cell_paths",
           "encode_adjacency_one_hot", "encode_paths", "path_indices"]

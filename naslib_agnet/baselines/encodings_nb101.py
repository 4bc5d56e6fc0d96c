"""NAS-Bench-101 architecture encodings for the BANANAS/NPENAS predictors.

Both take NASLib NB101 tuples (``get_hash()`` of an NB101 graph: the flattened n x n
matrix, then n op indices in ``['input', 'output', 'maxpool3x3', 'conv1x1-bn-relu',
'conv3x3-bn-relu']``, n = 2..7); a list of them gives an ``(N, D)`` matrix, one tuple a
1-d vector.

Path encoding (BANANAS, White et al. 2021): one bit per input->output path *op
sequence*. A path through ``L`` interior vertices (L = 0..5) with ops
``(o_0, ..., o_{L-1})``, coded ``conv3x3-bn-relu`` 0, ``conv1x1-bn-relu`` 1, ``maxpool3x3``
2, sets bit ``(3^0 + ... + 3^(L-1)) + sum_j o_j * 3^j``: 3^0 + 3^1 + ... + 3^5 = 364 bits
(NASLib's NB101 length). The encoding depends only on the set of op sequences along
paths, so isomorphic cells encode alike.

Adjacency one-hot (NASLib's ``adjacency_one_hot`` layout for NB101, 36 bits): the 21
upper-triangle entries of the cell on 7 vertices (row-major; a pruned cell of n < 7
vertices keeps its interior vertices first and the output last, unused vertices empty),
then a 3-bit op one-hot per interior vertex (all zero for an unused one).
"""
from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from ..spaces.nasbench101 import NB101_OPS, tuple_to_spec

NUM_VERTICES = 7
NUM_OPS = len(NB101_OPS)
MAX_INTERIOR = NUM_VERTICES - 2
PATH_ENCODING_LENGTH = sum(NUM_OPS ** length for length in range(MAX_INTERIOR + 1))  # 364
ADJACENCY_ENCODING_LENGTH = NUM_VERTICES * (NUM_VERTICES - 1) // 2 + NUM_OPS * MAX_INTERIOR  # 36
_OFFSETS = [sum(NUM_OPS ** j for j in range(length)) for length in range(MAX_INTERIOR + 1)]
_OP_CODE = {op: i for i, op in enumerate(NB101_OPS)}
_UPPER = [(u, v) for u in range(NUM_VERTICES) for v in range(u + 1, NUM_VERTICES)]


@functools.lru_cache(maxsize=200_000)
def path_indices(key: tuple[int, ...]) -> tuple[int, ...]:
    """The sorted distinct path-encoding bits of one NB101 tuple."""
    matrix, ops = tuple_to_spec(key)
    n = len(ops)
    succ = [np.flatnonzero(matrix[v]).tolist() for v in range(n)]
    bits: set[int] = set()
    stack: list[tuple[int, tuple[int, ...]]] = [(0, ())]
    while stack:
        v, seq = stack.pop()
        for w in succ[v]:
            if w == n - 1:
                bits.add(_OFFSETS[len(seq)] + sum(code * NUM_OPS ** j for j, code in enumerate(seq)))
            else:
                stack.append((w, seq + (_OP_CODE[ops[w]],)))
    return tuple(sorted(bits))


def _keys(archs) -> tuple[list[tuple[int, ...]], bool]:
    if len(archs) and isinstance(archs[0], (int, np.integer)):
        return [tuple(int(v) for v in archs)], True
    return [tuple(int(v) for v in a) for a in archs], False


def encode_paths(archs: Sequence) -> np.ndarray:
    """Path encoding (364 float bits) of one NB101 tuple or a list of them."""
    keys, single = _keys(archs)
    encoding = np.zeros((len(keys), PATH_ENCODING_LENGTH), dtype=np.float32)
    for row, key in enumerate(keys):
        encoding[row, list(path_indices(key))] = 1.0
    return encoding[0] if single else encoding


def encode_adjacency_one_hot(archs: Sequence) -> np.ndarray:
    """Adjacency one-hot encoding (36 float bits) of one NB101 tuple or a list of them."""
    keys, single = _keys(archs)
    encoding = np.zeros((len(keys), ADJACENCY_ENCODING_LENGTH), dtype=np.float32)
    for row, key in enumerate(keys):
        matrix, ops = tuple_to_spec(key)
        n = len(ops)
        place = list(range(n - 1)) + [NUM_VERTICES - 1]  # vertex i of the cell -> vertex of the 7
        big = np.zeros((NUM_VERTICES, NUM_VERTICES), dtype=np.float32)
        big[np.ix_(place, place)] = matrix
        encoding[row, : len(_UPPER)] = [big[u, v] for u, v in _UPPER]
        for i, op in enumerate(ops[1:-1]):
            encoding[row, len(_UPPER) + NUM_OPS * i + _OP_CODE[op]] = 1.0
    return encoding[0] if single else encoding


ENCODERS = {"path": encode_paths, "adjacency_one_hot": encode_adjacency_one_hot}

__all__ = ["ADJACENCY_ENCODING_LENGTH", "ENCODERS", "PATH_ENCODING_LENGTH", "encode_adjacency_one_hot",
           "encode_paths", "path_indices"]

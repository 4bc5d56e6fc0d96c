"""NAS-Bench-201 architecture encodings as NASLib's predictors see them (``encode_201`` of NASLib Develop).

Both take NASLib op-index tuples, the ``get_hash()`` of an NB201 graph: six op indices
(``0 Identity, 1 Zero, 2 ReLUConvBN3x3, 3 ReLUConvBN1x1, 4 AvgPool1x1``) over NASLib's
edges ``(0->1, 0->2, 0->3, 1->2, 1->3, 2->3)``. One architecture (a length-6 sequence)
gives a 1-d vector; an ``(N, 6)`` array gives an ``(N, D)`` matrix.

Path encoding (BANANAS, White et al. 2021; ``encode_paths`` in
``naslib/search_spaces/nasbench201/encodings.py``): one bit per (input->output path,
op sequence). The cell has one path of length 1, two of length 2 and one of length 3;
a path of length ``L`` with ops ``(o_0, ..., o_{L-1})`` sets bit
``offset(L) + sum_j o_j * 5**j`` with ``offset = 0, 5, 30`` for ``L = 1, 2, 3``, so the
encoding has ``5 + 25 + 125 = 155`` bits and 3 or 4 of them are set (the two length-2
paths share a bit when their op pairs are equal). Paths through ``Zero`` edges are
encoded like any other.

NASLib reads the paths from the op indices with the edge positions
``[[3], [0, 4], [1, 5], [0, 2, 5]]``. Those are the paths in the *arch_str* edge order
(0->1 | 0->2, 1->2 | 0->3, 1->3, 2->3), applied to op indices in NASLib's edge order,
so its "length-1 path" is edge 1->2 and its length-3 path is 0->1, 0->3, 2->3.
``naslib_compatible=True`` (the default, used by :class:`~naslib_agnet.baselines.Bananas`)
reproduces that exactly, so the predictor sees the same inputs as NASLib's;
``naslib_compatible=False`` uses the cell's true paths ``[[2], [0, 4], [1, 5], [0, 3, 5]]``.
"""
from __future__ import annotations

import numpy as np

NUM_OPS = 5
NUM_EDGES = 6
PATH_ENCODING_LENGTH = NUM_OPS + NUM_OPS ** 2 + NUM_OPS ** 3  # 155

#: NASLib's path blueprints (edge positions into the op-index tuple), see the module docstring
NASLIB_PATH_BLUEPRINTS = ((3,), (0, 4), (1, 5), (0, 2, 5))
#: the cell's real input->output paths in NASLib's edge order
TRUE_PATH_BLUEPRINTS = ((2,), (0, 4), (1, 5), (0, 3, 5))
_OFFSETS = {1: 0, 2: NUM_OPS, 3: NUM_OPS + NUM_OPS ** 2}


def _as_ops(op_indices) -> tuple[np.ndarray, bool]:
    ops = np.asarray(op_indices, dtype=np.int64)
    single = ops.ndim == 1
    ops = np.atleast_2d(ops)
    if ops.ndim != 2 or ops.shape[1] != NUM_EDGES:
        raise ValueError(f"NB201 op indices must have shape (6,) or (N, 6), got {np.shape(op_indices)}")
    if ops.size and (ops.min() < 0 or ops.max() >= NUM_OPS):
        raise ValueError(f"NB201 op indices must lie in 0..{NUM_OPS - 1}")
    return ops, single


def path_indices(op_indices, naslib_compatible: bool = True) -> np.ndarray:
    """The bit index of each of the 4 paths: shape ``(4,)`` for one architecture, ``(N, 4)`` for many."""
    ops, single = _as_ops(op_indices)
    blueprints = NASLIB_PATH_BLUEPRINTS if naslib_compatible else TRUE_PATH_BLUEPRINTS
    columns = []
    for blueprint in blueprints:
        index = np.full(len(ops), _OFFSETS[len(blueprint)], dtype=np.int64)
        for j, edge in enumerate(blueprint):
            index += ops[:, edge] * NUM_OPS ** j
        columns.append(index)
    indices = np.stack(columns, axis=1)
    return indices[0] if single else indices


def encode_paths(op_indices, naslib_compatible: bool = True) -> np.ndarray:
    """NASLib's NB201 path encoding (155 float bits); see the module docstring."""
    indices = np.atleast_2d(path_indices(op_indices, naslib_compatible))
    encoding = np.zeros((len(indices), PATH_ENCODING_LENGTH), dtype=np.float32)
    np.put_along_axis(encoding, indices, 1.0, axis=1)
    return encoding[0] if np.asarray(op_indices).ndim == 1 else encoding


def encode_adjacency_one_hot(op_indices) -> np.ndarray:
    """NASLib's ``adjacency_one_hot`` for NB201: the six op indices one-hot, concatenated (30 bits)."""
    ops, single = _as_ops(op_indices)
    encoding = np.eye(NUM_OPS, dtype=np.float32)[ops].reshape(len(ops), NUM_EDGES * NUM_OPS)
    return encoding[0] if single else encoding


ENCODERS = {"path": encode_paths, "adjacency_one_hot": encode_adjacency_one_hot}

__all__ = ["ENCODERS", "NASLIB_PATH_BLUEPRINTS", "PATH_ENCODING_LENGTH", "TRUE_PATH_BLUEPRINTS",
           "encode_adjacency_one_hot", "encode_paths", "path_indices"]

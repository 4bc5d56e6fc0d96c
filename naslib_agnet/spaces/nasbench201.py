"""NAS-Bench-201 codec: the cell as AG-Net's 8-node node-labelled DAG (spec §2.5).

NB201 cells are edge-labelled (6 edges of a 4-node DAG, 5 ops). AG-Net turns each
edge into an operation node:

    node 0: input
    nodes 1..6: op(0->1), op(0->2), op(1->2), op(0->3), op(1->3), op(2->3)   (arch-string order)
    node 7: output

with one fixed adjacency for every cell; only the node labels vary. The codec's
architecture key is NASLib's op-index tuple (``NasBench201SearchSpace.get_hash()``):
edges in NASLib order (0->1, 0->2, 0->3, 1->2, 1->3, 2->3), op index 0 skip_connect,
1 none, 2 nor_conv_3x3, 3 nor_conv_1x1, 4 avg_pool_3x3.
"""
from __future__ import annotations

import itertools
import operator
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from .base import ArchKey, Codec, edge_index

#: Number of architectures in the NB201 cell space (5 ops ** 6 edges).
NB201_NUM_ARCHS: int = 15_625

#: Op names by NASLib op index.
NB201_OP_NAMES: tuple[str, ...] = (
    "skip_connect",
    "none",
    "nor_conv_3x3",
    "nor_conv_1x1",
    "avg_pool_3x3",
)

_NUM_EDGES = 6
_OP_INDEX = {name: i for i, name in enumerate(NB201_OP_NAMES)}
# Edge (src, dst) of each position of NASLib's op-index tuple.
_NASLIB_EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))
# Edge of each position of the arch_str, grouped by target node: 0→1 | 0→2, 1→2 | 0→3, 1→3, 2→3.
_ARCH_STR_EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
# _ARCH_STR_TO_NASLIB[i] = position in the arch_str of NASLib edge i.
_ARCH_STR_TO_NASLIB: tuple[int, ...] = tuple(_ARCH_STR_EDGES.index(e) for e in _NASLIB_EDGES)

# --------------------------------------------------------------------------------------
# Representation conversions
# --------------------------------------------------------------------------------------


def nb201_arch_str_to_op_indices(arch_str: str) -> tuple[int, ...]:
    """Convert an official NB201 arch string to NASLib's op-index tuple.

    ``'|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|'``
    becomes ``(4, 3, 3, 0, 0, 0)``.

    Raises:
        ValueError: if ``arch_str`` is not a well-formed NB201 cell string.
    """
    expected = (
        "expected '|op~0|+|op~0|op~1|+|op~0|op~1|op~2|' with op in "
        f"{list(NB201_OP_NAMES)}"
    )
    if not isinstance(arch_str, str):
        raise ValueError(f"NB201 arch string must be a str, got {arch_str!r}; {expected}")
    nodes = arch_str.strip().split("+")
    if len(nodes) != 3:
        raise ValueError(
            f"bad NB201 arch string {arch_str!r}: found {len(nodes)} node groups separated "
            f"by '+', {expected}"
        )
    ops_in_str_order: list[int] = []
    for target, group in enumerate(nodes, start=1):
        if len(group) < 2 or not (group.startswith("|") and group.endswith("|")):
            raise ValueError(
                f"bad NB201 arch string {arch_str!r}: node group {group!r} must start and "
                f"end with '|'; {expected}"
            )
        entries = group[1:-1].split("|")
        if len(entries) != target:
            raise ValueError(
                f"bad NB201 arch string {arch_str!r}: node {target} has {len(entries)} "
                f"input edges, expected {target}; {expected}"
            )
        for source, entry in enumerate(entries):
            op, sep, src = entry.partition("~")
            if not sep or op not in _OP_INDEX or src != str(source):
                raise ValueError(
                    f"bad NB201 arch string {arch_str!r}: edge entry {entry!r} into node "
                    f"{target} should be '<op>~{source}' with op in {list(NB201_OP_NAMES)}"
                )
            ops_in_str_order.append(_OP_INDEX[op])
    return tuple(ops_in_str_order[i] for i in _ARCH_STR_TO_NASLIB)


def nb201_op_indices_to_arch_str(op_indices: Iterable[int]) -> str:
    """Convert NASLib's op-index tuple to the official NB201 arch string.

    ``(4, 3, 3, 0, 0, 0)`` becomes
    ``'|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|'``.

    Raises:
        ValueError: if ``op_indices`` is not 6 integers in 0..4.
    """
    try:
        if isinstance(op_indices, (str, bytes)):
            raise TypeError("a string is not a sequence of op indices")
        ops = [operator.index(v) for v in op_indices]  # accepts numpy ints, rejects floats
    except TypeError as exc:
        raise ValueError(
            f"NB201 op indices must be 6 integers in 0..4, got {op_indices!r}"
        ) from exc
    if len(ops) != _NUM_EDGES or any(not 0 <= v < len(NB201_OP_NAMES) for v in ops):
        raise ValueError(
            f"NB201 op indices must be 6 integers in 0..4 (edges 0→1, 0→2, 0→3, 1→2, 1→3, "
            f"2→3; ops {list(NB201_OP_NAMES)}), got {op_indices!r}"
        )
    by_edge = dict(zip(_NASLIB_EDGES, ops))
    groups: list[str] = []
    for target in (1, 2, 3):
        entries = [f"{NB201_OP_NAMES[by_edge[(src, target)]]}~{src}" for src in range(target)]
        groups.append("|" + "|".join(entries) + "|")
    return "+".join(groups)




#: AG-Net's node vocabulary for NB201 (index 0 output, 1 input: the generator relies on it).
NODE_TYPES: tuple[str, ...] = ("output", "input", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3",
                               "skip_connect", "none")
_MAX_NODES = 8
#: The fixed adjacency of every NB201 cell in the 8-node form (0-based node ids).
FIXED_EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (0, 4), (1, 3), (1, 5), (2, 6), (3, 6),
                                            (4, 7), (5, 7), (6, 7))
# AG-Net operation node j (node j+1) holds the op of arch-string edge j, i.e. of NASLib position:
_NODE_TO_NASLIB_POS = np.array(_ARCH_STR_TO_NASLIB, dtype=np.int64).argsort()
# node class (2..6) -> NASLib op index, and back
_CLASS_TO_OP = np.array([-1, -1] + [_OP_INDEX[name] for name in NODE_TYPES[2:]], dtype=np.int64)
_OP_TO_CLASS = np.array([NODE_TYPES.index(name) for name in NB201_OP_NAMES], dtype=np.int64)


class NasBench201Codec(Codec):
    """NB201 cells <-> AG-Net's node-labelled 8-node graphs. Keys are NASLib op-index tuples."""

    name = "nasbench201"
    node_types = NODE_TYPES
    max_nodes = _MAX_NODES

    def __init__(self) -> None:
        edges = np.zeros(self.num_edges, dtype=np.float32)
        for u, v in FIXED_EDGES:
            edges[edge_index(u, v)] = 1.0
        self.fixed_edges = edges
        self._fixed_edges_bool = edges.astype(bool)

    def encode(self, archs: Sequence[ArchKey]) -> tuple[np.ndarray, np.ndarray]:
        ops = np.asarray(archs, dtype=np.int64).reshape(-1, 6)
        if ops.size and (ops.min() < 0 or ops.max() >= len(NB201_OP_NAMES)):
            raise ValueError(f"NB201 op indices must lie in 0..4, got {archs!r}")
        nodes = np.empty((ops.shape[0], _MAX_NODES), dtype=np.int64)
        nodes[:, 0] = NODE_TYPES.index("input")
        nodes[:, 7] = NODE_TYPES.index("output")
        nodes[:, 1:7] = _OP_TO_CLASS[ops[:, _NODE_TO_NASLIB_POS]]
        return nodes, np.repeat(self.fixed_edges[None], ops.shape[0], axis=0)

    def decode(self, node_types: np.ndarray, edges: np.ndarray,
               edge_logits: np.ndarray | None = None) -> list[ArchKey | None]:
        """Valid iff: 8 nodes (no ``output`` before the last), ``input`` only first, edges = the fixed set."""
        node_types = np.asarray(node_types)
        edges = np.asarray(edges).astype(bool)
        ops_part = node_types[:, 1:7]
        valid = ((ops_part >= 2).all(axis=1) & (node_types[:, 0] == NODE_TYPES.index("input"))
                 & (edges == self._fixed_edges_bool).all(axis=1))
        out: list[ArchKey | None] = [None] * node_types.shape[0]
        if valid.any():
            ops = np.empty((int(valid.sum()), 6), dtype=np.int64)
            ops[:, _NODE_TO_NASLIB_POS] = _CLASS_TO_OP[ops_part[valid]]
            for i, row in zip(np.flatnonzero(valid), ops.tolist()):
                out[i] = tuple(row)
        return out

    def enumerate(self) -> Iterator[ArchKey]:
        """All 15,625 cells, in NASLib's ``get_arch_iterator`` order."""
        return itertools.product(range(len(NB201_OP_NAMES)), repeat=6)

    def is_valid(self, arch: ArchKey) -> bool:
        return len(arch) == 6 and all(0 <= int(v) < len(NB201_OP_NAMES) for v in arch)

    def to_arch_str(self, arch: ArchKey) -> str:
        return nb201_op_indices_to_arch_str(arch)

    def from_arch_str(self, arch_str: str) -> ArchKey:
        return nb201_arch_str_to_op_indices(arch_str)

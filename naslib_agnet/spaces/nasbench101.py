"""NAS-Bench-101 cells: pruning, validity and the official isomorphism-invariant hash.

A cell is an upper-triangular adjacency matrix over at most 7 vertices (vertex 0 the
input, the last the output) with one operation per vertex. Written from the definitions
of the NAS-Bench-101 paper and its data format:

* pruning removes every vertex that is not on a path from the input to the output
  (the "extraneous" vertices), as ``ModelSpec`` does before hashing or querying;
* a valid cell has at most 7 vertices and 9 edges after pruning, ``input`` first,
  ``output`` last, the other vertices from :data:`NB101_OPS`, and the output reachable;
* the hash is the md5 fingerprint NAS-Bench-101 keys its data by: vertex labels
  (out-degree, in-degree, op) hashed, then refined once per vertex by the sorted
  hashes of in- and out-neighbours, then the md5 of the sorted final hashes;
* the canonical cell (:func:`canonical_cell`) is the member of an isomorphism class that
  NAS-Bench-101 stores; NASLib's tuple form is :func:`spec_to_tuple` / :func:`tuple_to_spec`;
* :class:`NasBench101Codec` maps cells to AG-Net's padded 7-node graphs and back (spec
  §2.5-2.6). The enumeration of all cells is in :mod:`.nasbench101_enumeration`.
"""
from __future__ import annotations

import functools
import hashlib
import itertools
import math
import operator
from collections.abc import Iterator, Sequence

import numpy as np

from .base import INPUT_CLASS, OUTPUT_CLASS, Codec

#: The three operations of an NB101 interior vertex, in the order the official hash labels them.
NB101_OPS: tuple[str, ...] = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
MAX_VERTICES = 7
MAX_EDGES = 9


class InvalidCellError(ValueError):
    """A matrix/ops pair that is not an NB101 cell; the message says why."""


def _check_shape(matrix: np.ndarray, ops: Sequence[str]) -> None:
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise InvalidCellError(f"the adjacency matrix must be square, got shape {matrix.shape}")
    if len(ops) != matrix.shape[0]:
        raise InvalidCellError(f"{len(ops)} ops for a {matrix.shape[0]}-vertex matrix")
    if not np.isin(matrix, (0, 1)).all():
        raise InvalidCellError("the adjacency matrix must hold only 0 and 1")
    if np.tril(matrix).any():
        raise InvalidCellError("the adjacency matrix must be strictly upper-triangular (a DAG in topological order)")


def prune(matrix, ops: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Drop the vertices not on an input->output path. Raises if the output is unreachable."""
    matrix = np.asarray(matrix, dtype=np.int64)
    _check_shape(matrix, ops)
    n = matrix.shape[0]
    from_input = {0}
    for v in range(1, n):
        if any(matrix[u, v] for u in from_input):
            from_input.add(v)
    to_output = {n - 1}
    for v in range(n - 2, -1, -1):
        if any(matrix[v, w] for w in to_output):
            to_output.add(v)
    if n - 1 not in from_input:
        raise InvalidCellError("the output is not reachable from the input")
    keep = sorted(from_input & to_output)
    return matrix[np.ix_(keep, keep)], [ops[i] for i in keep]


def validate(matrix, ops: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """The pruned cell if it is a valid NB101 cell, else :class:`InvalidCellError` naming the rule."""
    matrix = np.asarray(matrix, dtype=np.int64)
    _check_shape(matrix, ops)
    if matrix.shape[0] > MAX_VERTICES:
        raise InvalidCellError(f"{matrix.shape[0]} vertices; NB101 cells have at most {MAX_VERTICES}")
    if ops[0] != "input" or ops[-1] != "output":
        raise InvalidCellError(f"the first op must be 'input' and the last 'output', got {ops[0]!r} ... {ops[-1]!r}")
    unknown = [op for op in ops[1:-1] if op not in NB101_OPS]
    if unknown:
        raise InvalidCellError(f"unknown op(s) {unknown}; interior ops are {list(NB101_OPS)}")
    matrix, ops = prune(matrix, ops)
    if int(matrix.sum()) > MAX_EDGES:
        raise InvalidCellError(f"{int(matrix.sum())} edges after pruning; NB101 cells have at most {MAX_EDGES}")
    return matrix, ops


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def cell_hash(matrix, ops: Sequence[str]) -> str:
    """The official NB101 hash of a cell (pruned first), invariant to vertex renumbering."""
    matrix, ops = validate(matrix, ops)
    n = matrix.shape[0]
    labels = [-1] + [NB101_OPS.index(op) for op in ops[1:-1]] + [-2]
    out_degree = matrix.sum(axis=1).tolist()
    in_degree = matrix.sum(axis=0).tolist()
    hashes = [_md5(str((int(o), int(i), lab))) for o, i, lab in zip(out_degree, in_degree, labels)]
    preds = [[u for u in range(n) if matrix[u, v]] for v in range(n)]
    succs = [[w for w in range(n) if matrix[v, w]] for v in range(n)]
    for _ in range(n):
        hashes = [_md5("".join(sorted(hashes[u] for u in preds[v])) + "|"
                       + "".join(sorted(hashes[w] for w in succs[v])) + "|" + hashes[v]) for v in range(n)]
    return _md5(str(sorted(hashes)))


# --------------------------------------------------------------------------------------
# Canonical form: the member of an isomorphism class that NAS-Bench-101 stores
# --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _interior_permutations(n: int) -> np.ndarray:
    """All renumberings of the interior vertices 1..n-2 (input and output fixed), ``[(n-2)!, n]``."""
    return np.array([(0, *p, n - 1) for p in itertools.permutations(range(1, n - 1))] if n > 2 else [(0, 1)],
                    dtype=np.int64)


def canonical_cell(matrix, ops: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """The canonical member of the cell's isomorphism class (validated and pruned first).

    Among all renumberings of the interior vertices that keep the matrix upper-triangular,
    the one with the smallest edge code (edge u->v is bit ``v(v-1)/2 + u``), ties broken by
    the lexicographically smallest op labels (index order of :data:`NB101_OPS`). This is
    the first member NAS-Bench-101's generator meets (bit codes in increasing order,
    labelings in ``itertools.product`` order), i.e. the ``module_adjacency`` /
    ``module_operations`` its data stores for the class; it agrees with all 30 cells of
    NASLib's test file.
    """
    matrix, ops = validate(matrix, ops)
    n = matrix.shape[0]
    perms = _interior_permutations(n)
    src, dst = np.nonzero(matrix)
    new_src, new_dst = perms[:, src], perms[:, dst]
    upward = (new_src < new_dst).all(axis=1)
    bit = np.where(new_src < new_dst, new_dst * (new_dst - 1) // 2 + new_src, 0)
    codes = (np.int64(1) << bit).sum(axis=1)
    labels = np.array([NB101_OPS.index(op) for op in ops[1:-1]], dtype=np.int64)
    moved = np.empty((len(perms), n - 2), dtype=np.int64)
    moved[np.arange(len(perms))[:, None], perms[:, 1:-1] - 1] = labels  # label of vertex i goes to p[i]
    order = codes * 3 ** (n - 2) + moved @ (3 ** np.arange(n - 3, -1, -1, dtype=np.int64))
    best = int(np.argmin(np.where(upward, order, np.iinfo(np.int64).max)))
    p = perms[best]
    canon = np.zeros_like(matrix)
    canon[p[src], p[dst]] = 1
    return canon, ["input"] + [NB101_OPS[i] for i in moved[best]] + ["output"]


# --------------------------------------------------------------------------------------
# NASLib's representations
# --------------------------------------------------------------------------------------

#: NASLib's op list for the NB101 tuple form (``convert_spec_to_tuple``): index -> op.
NASLIB_OPS: tuple[str, ...] = ("input", "output", "maxpool3x3", "conv1x1-bn-relu", "conv3x3-bn-relu")


def spec_to_tuple(matrix, ops: Sequence[str]) -> tuple[int, ...]:
    """NASLib's tuple form of a spec: the flattened matrix, then the op indices in :data:`NASLIB_OPS`."""
    matrix = np.asarray(matrix)
    try:
        op_ids = [NASLIB_OPS.index(op) for op in ops]
    except ValueError:
        raise InvalidCellError(f"unknown op in {list(ops)}; NASLib's NB101 ops are {list(NASLIB_OPS)}") from None
    return tuple(int(v) for v in matrix.reshape(-1)) + tuple(op_ids)


def tuple_to_spec(key: Sequence[int]) -> tuple[np.ndarray, list[str]]:
    """The (matrix, ops) of NASLib's tuple form; the vertex count n follows from the length n*n + n."""
    try:
        values = [operator.index(v) for v in key]
    except TypeError:
        raise InvalidCellError(f"an NB101 tuple must hold integers, got {key!r}") from None
    n = (math.isqrt(1 + 4 * len(values)) - 1) // 2
    if n < 2 or n * n + n != len(values):
        raise InvalidCellError(f"an NB101 tuple has n*n + n entries (flattened n x n matrix, then n op "
                               f"indices) for some n >= 2; got {len(values)} entries")
    bad = [v for v in values[n * n:] if not 0 <= v < len(NASLIB_OPS)]
    if bad:
        raise InvalidCellError(f"unknown op index(es) {bad} in the NB101 tuple; NASLib's op indices are "
                               f"0..{len(NASLIB_OPS) - 1} = {list(NASLIB_OPS)}")
    matrix = np.array(values[:n * n], dtype=np.int64).reshape(n, n)
    return matrix, [NASLIB_OPS[v] for v in values[n * n:]]


# --------------------------------------------------------------------------------------
# The codec: NB101 cells <-> AG-Net's padded 7-node graphs (spec §2.5, §2.6)
# --------------------------------------------------------------------------------------

#: AG-Net's node vocabulary for NB101 (index 0 output, 1 input: the generator relies on it).
NODE_TYPES: tuple[str, ...] = ("output", "input", "conv1x1-bn-relu", "conv3x3-bn-relu", "maxpool3x3")
_OP_CLASS = {op: NODE_TYPES.index(op) for op in NB101_OPS}
_EDGES_7 = [(u, v) for v in range(1, MAX_VERTICES) for u in range(v)]  # column order, = base.edge_index
_NUM_VERTICES_OF_LENGTH = {n * n + n: n for n in range(2, MAX_VERTICES + 1)}
_NASLIB_TO_CLASS = np.array([NODE_TYPES.index(op) for op in NASLIB_OPS], dtype=np.int64)


class CanonicalKey(tuple):
    """A key the codec has canonicalised (a plain tuple otherwise: equal and hashing alike).

    The codec returns these so that encoding them again skips the canonicalisation."""

    __slots__ = ()


@functools.lru_cache(maxsize=200_000)
def _canonical_key(key: tuple[int, ...]) -> CanonicalKey:
    return CanonicalKey(spec_to_tuple(*canonical_cell(*tuple_to_spec(key))))


@functools.lru_cache(maxsize=200_000)
def _key_hash(key: tuple[int, ...]) -> str:
    return cell_hash(*tuple_to_spec(key))


@functools.lru_cache(maxsize=200_000)
def _decode_one(types: tuple[int, ...], code: int) -> tuple[int, ...] | None:
    n = len(types)
    matrix = np.zeros((n, n), dtype=np.int64)
    for bit, (u, v) in enumerate(_EDGES_7):
        if v >= n:
            break
        if (code >> bit) & 1:
            matrix[u, v] = 1
    ops = ["input"] + [NODE_TYPES[t] for t in types[1:-1]] + ["output"]
    try:
        return CanonicalKey(spec_to_tuple(*canonical_cell(matrix, ops)))
    except InvalidCellError:
        return None


def _as_key(arch) -> tuple[int, ...]:
    if isinstance(arch, dict):
        raise InvalidCellError("got a spec dict where an NB101 tuple is expected; use from_spec()")
    return tuple(arch)


class NasBench101Codec(Codec):
    """NB101 cells <-> AG-Net's node-labelled 7-node graphs (spec §2.5-2.6).

    Architecture keys are NASLib's tuple form (:func:`spec_to_tuple`) of the *canonical*
    pruned cell (:func:`canonical_cell`): the flattened n x n matrix, then n op indices
    (n = 2..7, so n*n + n entries). Every key the codec returns is canonical, so two
    isomorphic cells get the same key; :meth:`dedup_key` is the official md5 hash.

    Encoding: node classes in :data:`NODE_TYPES` padded to 7 with ``output`` (0); the 21
    column-ordered upper-triangle edge bits, zero for padded nodes. Decoding reads the
    nodes up to the first ``output``, requires ``input`` first and ops in between, builds
    the matrix from the edge bits among those nodes, prunes and validates (<= 9 edges,
    output reachable) and maps the cell to its canonical form; ``None`` when invalid.
    """

    name = "nasbench101"
    node_types = NODE_TYPES
    max_nodes = MAX_VERTICES

    # -- conversions ------------------------------------------------------------------

    def canonical(self, arch) -> tuple[int, ...]:
        """The canonical key of any NASLib NB101 tuple (pruned or not, any vertex numbering)."""
        if isinstance(arch, CanonicalKey):
            return arch
        return _canonical_key(_as_key(arch))

    def from_spec(self, spec) -> tuple[int, ...]:
        """Key of a NASLib spec ``{'matrix', 'ops'}`` or a ``(matrix, ops)`` pair (pruned, canonicalised)."""
        if isinstance(spec, dict):
            try:
                matrix, ops = spec["matrix"], spec["ops"]
            except KeyError as exc:
                raise InvalidCellError(f"an NB101 spec dict needs 'matrix' and 'ops', got keys {sorted(spec)}") from exc
        else:
            matrix, ops = spec
        return CanonicalKey(spec_to_tuple(*canonical_cell(np.asarray(matrix), list(ops))))

    def to_spec(self, arch) -> dict:
        """NASLib's spec ``{'matrix': n x n int ndarray, 'ops': [...]}`` of a key (as stored, pruned)."""
        matrix, ops = validate(*tuple_to_spec(_as_key(arch)))
        return {"matrix": matrix, "ops": ops}

    def from_naslib_hash(self, naslib_hash) -> tuple[int, ...]:
        """Key of NASLib's ``get_hash()`` tuple (e.g. a 56-tuple of an unpruned 7x7 spec)."""
        return self.canonical(naslib_hash)

    def to_naslib_hash(self, arch) -> tuple[int, ...]:
        """NASLib's tuple of the (canonical) cell: what ``get_hash()`` returns after ``set_spec(to_spec(arch))``."""
        return self.canonical(arch)

    def cell_hash(self, arch) -> str:
        """The official md5 hash (the key of NAS-Bench-101's data)."""
        return _key_hash(_as_key(arch))

    def from_cell_hash(self, md5: str) -> tuple[int, ...]:
        """Key of the cell with this official hash (reads the enumeration cache; KeyError if none)."""
        from .nasbench101_enumeration import load_cells

        return CanonicalKey(spec_to_tuple(*load_cells().lookup(md5)))

    # -- Codec interface ----------------------------------------------------------------

    def encode(self, archs) -> tuple[np.ndarray, np.ndarray]:
        """Targets of the canonical pruned cells: node classes ``[B, 7]`` int64, edges ``[B, 21]`` float32."""
        keys = [self.canonical(arch) for arch in archs]
        nodes = np.zeros((len(keys), MAX_VERTICES), dtype=np.int64)
        edges = np.zeros((len(keys), self.num_edges), dtype=np.float32)
        by_n: dict[int, list[int]] = {}
        for row, key in enumerate(keys):
            by_n.setdefault(_NUM_VERTICES_OF_LENGTH[len(key)], []).append(row)
        for n, rows in by_n.items():
            flat = np.array([keys[r] for r in rows], dtype=np.int64)
            nodes[rows, :n] = _NASLIB_TO_CLASS[flat[:, n * n:]]
            src, dst = np.array(_EDGES_7[: n * (n - 1) // 2]).T
            edges[rows, : n * (n - 1) // 2] = flat[:, src * n + dst]
        return nodes, edges

    def decode(self, node_types: np.ndarray, edges: np.ndarray,
               edge_logits: np.ndarray | None = None) -> list[tuple[int, ...] | None]:
        """Sampled ``[B, 7]`` classes and ``[B, 21]`` edge bits -> canonical keys, ``None`` where invalid."""
        node_types = np.asarray(node_types)
        edges = np.asarray(edges).astype(bool)
        if node_types.ndim != 2 or node_types.shape[1] != MAX_VERTICES or edges.shape != (len(node_types), self.num_edges):
            raise ValueError(f"expected node classes [B, {MAX_VERTICES}] and edges [B, {self.num_edges}], "
                             f"got {node_types.shape} and {edges.shape}")
        weights = 1 << np.arange(self.num_edges, dtype=np.int64)
        codes = (edges * weights).sum(axis=1).tolist()
        out: list[tuple[int, ...] | None] = []
        for types, code in zip(node_types.tolist(), codes):
            if OUTPUT_CLASS not in types:
                out.append(None)
                continue
            n = types.index(OUTPUT_CLASS) + 1
            types = types[:n]
            if n < 2 or types[0] != INPUT_CLASS or any(t < 2 or t >= len(NODE_TYPES) for t in types[1:-1]):
                out.append(None)
                continue
            out.append(_decode_one(tuple(types), code & ((1 << (n * (n - 1) // 2)) - 1)))
        return out

    def dedup_key(self, arch) -> str:
        """The official isomorphism-invariant hash."""
        return self.cell_hash(arch)

    def is_valid(self, arch) -> bool:
        try:
            validate(*tuple_to_spec(_as_key(arch)))
        except (InvalidCellError, TypeError):
            return False
        return True

    def enumerate(self) -> Iterator[tuple[int, ...]]:
        """All 423,624 cells (canonical keys, in hash order); enumerates once and caches, see
        :func:`~naslib_agnet.spaces.nasbench101_enumeration.load_cells`."""
        from .nasbench101_enumeration import load_cells

        return iter(cells_to_keys(load_cells()))


def cells_to_keys(cells) -> list[CanonicalKey]:
    """The keys of every cell of an :class:`~naslib_agnet.spaces.nasbench101_enumeration.Nb101Cells` table."""
    keys: list = [None] * len(cells)
    class_to_naslib = np.array([NASLIB_OPS.index(op) for op in NB101_OPS], dtype=np.int64)
    for n in np.unique(cells.num_vertices).tolist():
        rows = np.flatnonzero(cells.num_vertices == n)
        flat = np.zeros((len(rows), n * n + n), dtype=np.int64)
        codes = cells.codes[rows].astype(np.int64)
        for bit, (u, v) in enumerate(_EDGES_7[: n * (n - 1) // 2]):
            flat[:, u * n + v] = (codes >> bit) & 1
        flat[:, n * n] = NASLIB_OPS.index("input")
        flat[:, n * n + 1: n * n + n - 1] = class_to_naslib[cells.ops[rows, : n - 2]]
        flat[:, n * n + n - 1] = NASLIB_OPS.index("output")
        for r, key in zip(rows.tolist(), flat.tolist()):
            keys[r] = CanonicalKey(key)
    return keys

"""The DARTS / NAS-Bench-301 space: architecture keys, validity, sampling, conversions, codec.

An architecture is a pair ``(normal, reduce)`` of DARTS cells. A cell is NASLib's NB301
*compact* form: a tuple of 8 ``(source node, op index)`` pairs, two per intermediate
DARTS node 2..5 (pairs 2(d-2) and 2(d-2)+1 feed node d). Nodes 0 and 1 are the cell
inputs c_{k-2} and c_{k-1}; a source of node d is one of 0..d-1, the two sources of a
node differ, and the op index points into :data:`OPS` (NASLib's NB301 order). Keys are
*canonical*: each node's two inputs ordered by source (:func:`canonical`).

Conversions (each with its inverse): compact <-> DARTS :class:`Genotype` <-> its printed
form, compact <-> NB301's ConfigSpace dict, and cell <-> AG-Net's 11-node graph (spec
§2.5) with the spec's QUIRK-3 (encoder) and QUIRK-4 (decoder) fixed:

    node 0: input (c_{k-2})     node 1: input_1 (c_{k-1})
    nodes 2..9: one operation node per chosen DARTS edge, (2, 3) for DARTS node 2,
                (4, 5) for node 3, (6, 7) for node 4, (8, 9) for node 5; within a pair
                the smaller source first
    node 10: output

    edges: source 0 or 1 -> its operation node; source s >= 2 -> from *both* operation
           nodes of DARTS node s; every operation node -> 10.
"""
from __future__ import annotations

import ast
import operator
import re
from collections import namedtuple
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .base import Codec, edge_index

#: The 7 DARTS operations, by NASLib's NB301 op index (compact form, NB301 ConfigSpace order).
OPS: tuple[str, ...] = (
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
)
#: The generator's 11 node classes (spec §1): class of op index i is i + 4.
NODE_TYPES: tuple[str, ...] = ("output", "input", "input_1", "identity") + OPS
MAX_NODES = 11
NUM_EDGES = MAX_NODES * (MAX_NODES - 1) // 2  # 55
#: The intermediate DARTS nodes and the cell output's concatenation list.
INTERMEDIATE_NODES: tuple[int, ...] = (2, 3, 4, 5)
CONCAT: tuple[int, ...] = (2, 3, 4, 5)
CELL_TYPES: tuple[str, ...] = ("normal", "reduce")

OUTPUT_CLASS = NODE_TYPES.index("output")
INPUT_CLASS = NODE_TYPES.index("input")
INPUT_1_CLASS = NODE_TYPES.index("input_1")
IDENTITY_CLASS = NODE_TYPES.index("identity")
OP_CLASS_OFFSET = NODE_TYPES.index(OPS[0])  # 4
OUTPUT_NODE = MAX_NODES - 1  # 10

#: NB301 ConfigSpace parameter prefix (nasbench301, NASLib) and YAHPO's spelling of it.
CONFIG_PREFIX = "NetworkSelectorDatasetInfo:darts:"
YAHPO_CONFIG_PREFIX = "NetworkSelectorDatasetInfo_COLON_darts_COLON_"
#: First ``edge_{cell}_{i}`` index of each intermediate node: edge i = offset[d] + source.
EDGE_OFFSET: dict[int, int] = {2: 0, 3: 2, 4: 5, 5: 9}

Cell = tuple[tuple[int, int], ...]
Arch = tuple[Cell, Cell]

Genotype = namedtuple("Genotype", "normal normal_concat reduce reduce_concat")
Genotype.__doc__ = "A DARTS genotype (same fields as DARTS / NASLib / nasbench301); repr is DARTS' printed form."

_NUM_PAIRS = 8
_OP_INDEX = {name: i for i, name in enumerate(OPS)}
_CELL_NAMES = {"normal": "normal cell", "reduce": "reduction cell"}


def _node_of_pair(j: int) -> int:
    return 2 + j // 2


# --------------------------------------------------------------------------------------
# Validity and canonical form
# --------------------------------------------------------------------------------------


def _is_seq(value: Any) -> bool:
    return type(value) in (tuple, list) or (isinstance(value, Sequence) and not isinstance(value, (str, bytes)))


def _as_int(value: Any) -> int | None:
    if type(value) is int:
        return value
    if isinstance(value, (bool, np.bool_)):
        return None
    try:
        return operator.index(value)
    except TypeError:
        return None


def _normalise_cell(cell: Any) -> tuple[Cell | None, str | None]:
    """The cell as nested tuples of Python ints, or the reason it is not a valid cell."""
    expected = ("a cell is 8 (source node, op index) pairs, two per intermediate DARTS node 2..5 "
                "(pairs 2(d-2) and 2(d-2)+1 feed node d)")
    if not _is_seq(cell):
        return None, f"{expected}; got {cell!r}"
    if len(cell) != _NUM_PAIRS:
        return None, f"{expected}; got {len(cell)} pairs"
    pairs: list[tuple[int, int]] = []
    for j, pair in enumerate(cell):
        d = _node_of_pair(j)
        where = f"pair {j} (input {j % 2} of DARTS node {d})"
        if not _is_seq(pair) or len(pair) != 2:
            return None, f"{where} must be a (source node, op index) pair, got {pair!r}"
        src, op = _as_int(pair[0]), _as_int(pair[1])
        if src is None or op is None:
            return None, f"{where} must hold two integers (source node, op index), got {pair!r}"
        if not 0 <= src < d:
            return None, (f"{where} takes input from node {src}, but node {d} may only take inputs "
                          f"from earlier nodes 0..{d - 1}")
        if not 0 <= op < len(OPS):
            return None, f"{where} has op index {op}; op indices are 0..{len(OPS) - 1} for {list(OPS)}"
        pairs.append((src, op))
    for d in INTERMEDIATE_NODES:
        a, b = pairs[2 * (d - 2)], pairs[2 * (d - 2) + 1]
        if a[0] == b[0]:
            return None, (f"DARTS node {d} takes both inputs from node {a[0]}; its two inputs must "
                          f"come from two different nodes among 0..{d - 1}")
    return tuple(pairs), None


def why_invalid_cell(cell: Any) -> str | None:
    """Why ``cell`` is not a valid DARTS cell in compact form, or ``None`` if it is."""
    return _normalise_cell(cell)[1]


def _normalise_arch(arch: Any) -> tuple[Arch | None, str | None]:
    if not _is_seq(arch) or len(arch) != 2:
        n = len(arch) if _is_seq(arch) else None
        got = f"{n} elements" if n is not None else repr(arch)
        return None, ("a DARTS architecture is a pair (normal cell, reduction cell) in NASLib's "
                      f"compact form; got {got}")
    cells = []
    for cell_type, cell in zip(CELL_TYPES, arch):
        normal, reason = _normalise_cell(cell)
        if reason is not None:
            return None, f"{_CELL_NAMES[cell_type]}: {reason}"
        cells.append(normal)
    return (cells[0], cells[1]), None


def why_invalid(arch: Any) -> str | None:
    """Why ``arch`` is not a valid (normal, reduce) pair of compact cells, or ``None`` if it is."""
    return _normalise_arch(arch)[1]


def check_cell(cell: Any) -> Cell:
    """The cell as nested tuples of ints; ValueError naming the problem if it is invalid."""
    normal, reason = _normalise_cell(cell)
    if reason is not None:
        raise ValueError(f"invalid DARTS cell: {reason}")
    return normal


def check(arch: Any) -> Arch:
    """The architecture as nested tuples of ints; ValueError naming the problem if it is invalid."""
    normal, reason = _normalise_arch(arch)
    if reason is not None:
        raise ValueError(f"invalid DARTS architecture: {reason}")
    return normal


def _sort_cell(cell: Cell) -> Cell:
    out: list[tuple[int, int]] = []
    for j in range(0, _NUM_PAIRS, 2):
        a, b = cell[j], cell[j + 1]
        out.extend((a, b) if a[0] < b[0] else (b, a))
    return tuple(out)


def canonical_cell(cell: Any) -> Cell:
    """The cell with each node's two inputs ordered by source (same cell, one spelling)."""
    return _sort_cell(check_cell(cell))


def canonical(arch: Any) -> Arch:
    """The architecture with each node's two inputs ordered by source: the key used for dedup.

    Accepts any valid spelling (lists, numpy ints, unsorted pairs as NASLib's sampler makes).
    """
    normal, reduce = check(arch)
    return _sort_cell(normal), _sort_cell(reduce)


# --------------------------------------------------------------------------------------
# Random sampling (no enumeration)
# --------------------------------------------------------------------------------------

# _PAIR_TABLE[d - 2, k] = the k-th unordered source pair (a < b < d) of node d, padded with (0, 1).
_PAIRS_OF_NODE = {d: [(a, b) for b in range(d) for a in range(b)] for d in INTERMEDIATE_NODES}
_NUM_SOURCE_PAIRS = np.array([len(_PAIRS_OF_NODE[d]) for d in INTERMEDIATE_NODES])  # 1, 3, 6, 10
_PAIR_TABLE = np.zeros((4, int(_NUM_SOURCE_PAIRS.max()), 2), dtype=np.int64)
for _d in INTERMEDIATE_NODES:
    _PAIR_TABLE[_d - 2, :len(_PAIRS_OF_NODE[_d])] = _PAIRS_OF_NODE[_d]


def sample_cells(rng: np.random.Generator, n: int) -> list[Cell]:
    """``n`` independent random valid cells (canonical).

    Each intermediate node d takes 2 distinct inputs drawn uniformly among 0..d-1, each
    with an op drawn uniformly from :data:`OPS`, as NASLib's NB301 random sampling does.
    """
    pair_idx = rng.integers(0, _NUM_SOURCE_PAIRS, size=(n, 4))
    ops = rng.integers(0, len(OPS), size=(n, _NUM_PAIRS))
    sources = _PAIR_TABLE[np.arange(4)[None, :], pair_idx].reshape(n, _NUM_PAIRS)
    return [tuple(zip(s, o)) for s, o in zip(sources.tolist(), ops.tolist())]


def sample_cell(rng: np.random.Generator) -> Cell:
    """One random valid cell (see :func:`sample_cells`)."""
    return sample_cells(rng, 1)[0]


def sample(rng: np.random.Generator) -> Arch:
    """One random valid architecture: independent random normal and reduction cells."""
    normal, reduce = sample_cells(rng, 2)
    return normal, reduce


# --------------------------------------------------------------------------------------
# Compact <-> DARTS Genotype <-> printed genotype
# --------------------------------------------------------------------------------------


def compact_to_genotype(arch: Any) -> Genotype:
    """Compact ``(normal, reduce)`` -> DARTS ``Genotype`` (pair order kept; concat [2, 3, 4, 5])."""
    normal, reduce = check(arch)
    return Genotype(
        normal=[(OPS[op], src) for src, op in normal],
        normal_concat=list(CONCAT),
        reduce=[(OPS[op], src) for src, op in reduce],
        reduce_concat=list(CONCAT),
    )


def _genotype_cell(cells: Any, concat: Any, cell_type: str) -> Cell:
    name = _CELL_NAMES[cell_type]
    try:
        concat_list = [operator.index(v) for v in concat]
    except TypeError:
        concat_list = None
    if concat_list != list(CONCAT):
        raise ValueError(f"genotype {name}: {cell_type}_concat must be [2, 3, 4, 5] (all four intermediate "
                         f"nodes, as NB301 requires), got {concat!r}")
    if not _is_seq(cells) or len(cells) != _NUM_PAIRS:
        raise ValueError(f"genotype {name}: expected 8 (op name, source node) entries, two per intermediate "
                         f"node 2..5, got {cells!r}")
    pairs = []
    for j, entry in enumerate(cells):
        if not _is_seq(entry) or len(entry) != 2 or not isinstance(entry[0], str):
            raise ValueError(f"genotype {name}: entry {j} must be (op name, source node), e.g. "
                             f"('sep_conv_3x3', 0); got {entry!r}")
        op_name, src = entry
        if op_name not in _OP_INDEX:
            raise ValueError(f"genotype {name}: entry {j} has op {op_name!r}, which is not in the NB301 "
                             f"space; use one of {list(OPS)}")
        pairs.append((src, _OP_INDEX[op_name]))
    cell, reason = _normalise_cell(pairs)
    if reason is not None:
        raise ValueError(f"genotype {name}: {reason}")
    return cell


def genotype_to_compact(genotype: Any, canonicalize: bool = True) -> Arch:
    """DARTS ``Genotype`` (ours, NASLib's, nasbench301's or DARTS') -> compact ``(normal, reduce)``.

    With ``canonicalize`` (default) each node's inputs are ordered by source, which gives
    our key; ``canonicalize=False`` keeps the genotype's order (NASLib's conversion).
    """
    for field in Genotype._fields:
        if not hasattr(genotype, field):
            raise ValueError(f"a genotype needs the fields {Genotype._fields}; {genotype!r} has no {field!r}")
    normal = _genotype_cell(genotype.normal, genotype.normal_concat, "normal")
    reduce = _genotype_cell(genotype.reduce, genotype.reduce_concat, "reduce")
    if canonicalize:
        normal, reduce = _sort_cell(normal), _sort_cell(reduce)
    return normal, reduce


def genotype_to_str(genotype: Genotype) -> str:
    """DARTS' printed form, e.g. ``Genotype(normal=[('sep_conv_3x3', 0), ...], normal_concat=[2, 3, 4, 5], ...)``."""
    return (f"Genotype(normal={[(op, int(src)) for op, src in genotype.normal]!r}, "
            f"normal_concat={[int(v) for v in genotype.normal_concat]!r}, "
            f"reduce={[(op, int(src)) for op, src in genotype.reduce]!r}, "
            f"reduce_concat={[int(v) for v in genotype.reduce_concat]!r})")


def _literal(node: ast.AST, text: str, field: str) -> Any:
    # DARTS' own search code prints concat as range(2, 6); accept it as well as a list.
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range"
            and not node.keywords):
        try:
            return list(range(*[_literal(a, text, field) for a in node.args]))
        except TypeError:
            raise ValueError(f"cannot parse genotype field {field!r} in {text!r}: range() needs integers, "
                             "e.g. range(2, 6)") from None
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise ValueError(f"cannot parse genotype field {field!r} in {text!r}: only literal lists of "
                         "(op name, source) tuples and [2, 3, 4, 5] / range(2, 6) are allowed") from None


def parse_genotype(text: str) -> Genotype:
    """Parse DARTS' printed ``Genotype(normal=[...], normal_concat=[...], reduce=[...], reduce_concat=[...])``.

    Reads literals only (nothing is evaluated); ``range(2, 6)`` is accepted for concat.
    The result is checked: ValueError names the problem.
    """
    if not isinstance(text, str):
        raise ValueError(f"parse_genotype needs a string like \"Genotype(normal=[('sep_conv_3x3', 0), ...], "
                         f"...)\", got {text!r}")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise ValueError(f"not a printed DARTS genotype ({exc.msg}): {text!r}") from None
    func = tree.func if isinstance(tree, ast.Call) else None
    func_name = (func.id if isinstance(func, ast.Name)
                 else func.attr if isinstance(func, ast.Attribute) else None)
    if func_name != "Genotype":
        raise ValueError(f"expected \"Genotype(normal=[...], normal_concat=[...], reduce=[...], "
                         f"reduce_concat=[...])\", got {text!r}")
    if len(tree.args) > len(Genotype._fields):
        raise ValueError(f"Genotype takes 4 fields {Genotype._fields}, got {len(tree.args)} positional in {text!r}")
    values: dict[str, Any] = {}
    for field, arg in zip(Genotype._fields, tree.args):
        values[field] = _literal(arg, text, field)
    for kw in tree.keywords:
        if kw.arg not in Genotype._fields or kw.arg in values:
            raise ValueError(f"unexpected or repeated genotype field {kw.arg!r} in {text!r}; the fields are "
                             f"{Genotype._fields}")
        values[kw.arg] = _literal(kw.value, text, kw.arg)
    missing = [f for f in Genotype._fields if f not in values]
    if missing:
        raise ValueError(f"genotype string lacks {missing}: {text!r}")
    genotype = Genotype(**values)
    genotype_to_compact(genotype)  # validates
    return Genotype(normal=[tuple(e) for e in genotype.normal], normal_concat=list(genotype.normal_concat),
                    reduce=[tuple(e) for e in genotype.reduce], reduce_concat=list(genotype.reduce_concat))


def arch_to_genotype_str(arch: Any) -> str:
    """Compact -> printed DARTS genotype (trainable with DARTS' code)."""
    return genotype_to_str(compact_to_genotype(arch))


def genotype_str_to_arch(text: str) -> Arch:
    """Printed DARTS genotype -> canonical compact key."""
    return genotype_to_compact(parse_genotype(text))


# --------------------------------------------------------------------------------------
# Compact <-> NB301 ConfigSpace dict
# --------------------------------------------------------------------------------------

_CONFIG_KEY = re.compile(r"^(edge|inputs_node)_(normal|reduce)_(\d+)$")


def compact_to_config(arch: Any, yahpo_names: bool = False) -> dict[str, str]:
    """Compact -> NB301 ConfigSpace dict with the active architecture parameters only.

    Keys ``NetworkSelectorDatasetInfo:darts:edge_{normal,reduce}_{i}`` (op name of DARTS
    edge i = offset(d) + source, offsets 0, 2, 5, 9 for nodes 2..5) and
    ``...:inputs_node_{normal,reduce}_{3,4,5}`` (``"a_b"``, a < b). This is what NASLib's
    ``convert_compact_to_config`` and nasbench301's genotype converter produce; nasbench301
    adds its fixed training hyperparameters itself. ``yahpo_names`` spells ``:`` as
    ``_COLON_`` (YAHPO's ``config_space_v2.json`` / ``encoding_v2.json``).
    """
    prefix = YAHPO_CONFIG_PREFIX if yahpo_names else CONFIG_PREFIX
    config: dict[str, str] = {}
    for cell_type, cell in zip(CELL_TYPES, canonical(arch)):
        for d in INTERMEDIATE_NODES:
            (s0, op0), (s1, op1) = cell[2 * (d - 2)], cell[2 * (d - 2) + 1]
            config[f"{prefix}edge_{cell_type}_{EDGE_OFFSET[d] + s0}"] = OPS[op0]
            config[f"{prefix}edge_{cell_type}_{EDGE_OFFSET[d] + s1}"] = OPS[op1]
            if d > 2:
                config[f"{prefix}inputs_node_{cell_type}_{d}"] = f"{s0}_{s1}"
    return config


def _edge_to_node_source(i: int) -> tuple[int, int]:
    for d in reversed(INTERMEDIATE_NODES):
        if i >= EDGE_OFFSET[d]:
            return d, i - EDGE_OFFSET[d]
    raise AssertionError(i)


def config_to_compact(config: Any) -> Arch:
    """NB301 ConfigSpace dict (or ``Configuration``) -> canonical compact ``(normal, reduce)``.

    Reads ``edge_*`` / ``inputs_node_*`` parameters with the ``:`` or YAHPO ``_COLON_``
    spelling and ignores every other key (training hyperparameters, ``epoch``). Exactly the
    active parameters must be present; ValueError names the missing, inactive or bad one.
    """
    if hasattr(config, "get_dictionary"):
        config = config.get_dictionary()
    elif not isinstance(config, Mapping) and hasattr(config, "keys"):
        config = dict(config)
    if not isinstance(config, Mapping):
        raise ValueError(f"expected an NB301 ConfigSpace dict {{'{CONFIG_PREFIX}edge_normal_0': 'sep_conv_3x3', "
                         f"...}}, got {config!r}")
    params: dict[tuple[str, str, int], Any] = {}
    for key, value in config.items():
        if not isinstance(key, str):
            continue
        name = key.replace("_COLON_", ":")
        if not name.startswith(CONFIG_PREFIX):
            continue
        m = _CONFIG_KEY.match(name[len(CONFIG_PREFIX):])
        if m is None:
            continue  # e.g. ...:darts:layers, a training hyperparameter
        kind, cell_type, i = m.group(1), m.group(2), int(m.group(3))
        if (kind == "edge" and not 0 <= i < 14) or (kind == "inputs_node" and i not in (3, 4, 5)):
            raise ValueError(f"unknown NB301 parameter {key!r}: edges are edge_{{normal,reduce}}_0..13 and "
                             "inputs are inputs_node_{normal,reduce}_3..5")
        params[(kind, cell_type, i)] = value
    cells = []
    for cell_type in CELL_TYPES:
        pairs: list[tuple[int, int]] = []
        active_edges: set[int] = set()
        for d in INTERMEDIATE_NODES:
            if d == 2:
                sources = (0, 1)
            else:
                key = f"{CONFIG_PREFIX}inputs_node_{cell_type}_{d}"
                value = params.get(("inputs_node", cell_type, d))
                if value is None:
                    raise ValueError(f"missing {key!r}: every NB301 architecture names the two inputs of node "
                                     f"{d} as 'a_b' with 0 <= a < b < {d}")
                m = re.fullmatch(r"(\d+)_(\d+)", value) if isinstance(value, str) else None
                if m is None or not int(m.group(1)) < int(m.group(2)) < d:
                    raise ValueError(f"{key!r} = {value!r} is not a valid choice: expected 'a_b' with "
                                     f"0 <= a < b < {d}, e.g. '0_1'")
                sources = (int(m.group(1)), int(m.group(2)))
            for s in sources:
                i = EDGE_OFFSET[d] + s
                active_edges.add(i)
                op_name = params.get(("edge", cell_type, i))
                key = f"{CONFIG_PREFIX}edge_{cell_type}_{i}"
                if op_name is None:
                    raise ValueError(f"missing {key!r}: node {d} takes input {s}, so this edge needs an op "
                                     f"from {list(OPS)}")
                if not isinstance(op_name, str) or op_name not in _OP_INDEX:
                    raise ValueError(f"{key!r} = {op_name!r} is not an NB301 op; use one of {list(OPS)}")
                pairs.append((s, _OP_INDEX[op_name]))
        for kind, ct, i in params:
            if kind == "edge" and ct == cell_type and i not in active_edges:
                d, s = _edge_to_node_source(i)
                raise ValueError(f"{CONFIG_PREFIX}edge_{cell_type}_{i} (node {s} -> node {d}) is inactive: "
                                 f"inputs_node_{cell_type}_{d} does not include node {s}; remove it")
        cells.append(check_cell(pairs))
    return cells[0], cells[1]


# --------------------------------------------------------------------------------------
# Cell <-> AG-Net's 11-node graph
# --------------------------------------------------------------------------------------


def _group(darts_node: int) -> tuple[int, ...]:
    """Graph nodes that stand for a DARTS node: the input node, or the two operation nodes."""
    if darts_node < 2:
        return (darts_node,)
    return (2 * darts_node - 2, 2 * darts_node - 1)


# _SOURCE_EDGES[j, s] = edge indices (padded with NUM_EDGES, a scratch column) of "pair j takes source s".
_SOURCE_EDGES = np.full((_NUM_PAIRS, 6, 2), NUM_EDGES, dtype=np.int64)
for _j in range(_NUM_PAIRS):
    for _s in range(_node_of_pair(_j)):
        _idx = [edge_index(u, _j + 2) for u in _group(_s)]
        _SOURCE_EDGES[_j, _s, :len(_idx)] = _idx
_OUTPUT_EDGES = np.array([edge_index(g, OUTPUT_NODE) for g in range(2, OUTPUT_NODE)], dtype=np.int64)
# DARTS node of every graph node (output -> 6) and of both ends of every edge.
_DARTS_OF_NODE = np.array([0, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6], dtype=np.int64)
_EDGE_U = np.concatenate([np.arange(v) for v in range(1, MAX_NODES)])
_EDGE_V = np.concatenate([np.full(v, v) for v in range(1, MAX_NODES)])
_EDGE_SRC = _DARTS_OF_NODE[_EDGE_U]
_EDGE_DST = _DARTS_OF_NODE[_EDGE_V]
# Edges that can carry a DARTS edge s -> d: between an earlier DARTS node and an intermediate one.
_COLLAPSIBLE = (_EDGE_SRC < _EDGE_DST) & (_EDGE_DST >= 2) & (_EDGE_DST <= 5)


def cells_to_graphs(cells: Iterable[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Cells -> node classes ``[B, 11]`` int64 and column-ordered edge bits ``[B, 55]`` float32."""
    arr = np.array([canonical_cell(c) for c in cells], dtype=np.int64).reshape(-1, _NUM_PAIRS, 2)
    b = arr.shape[0]
    nodes = np.empty((b, MAX_NODES), dtype=np.int64)
    nodes[:, 0] = INPUT_CLASS
    nodes[:, 1] = INPUT_1_CLASS
    nodes[:, 2:OUTPUT_NODE] = arr[:, :, 1] + OP_CLASS_OFFSET
    nodes[:, OUTPUT_NODE] = OUTPUT_CLASS
    edges = np.zeros((b, NUM_EDGES + 1), dtype=np.float32)
    cols = _SOURCE_EDGES[np.arange(_NUM_PAIRS)[None, :], arr[:, :, 0]]  # [B, 8, 2]
    edges[np.arange(b)[:, None, None], cols] = 1.0
    edges[:, _OUTPUT_EDGES] = 1.0
    return nodes, edges[:, :NUM_EDGES]


def cell_to_graph(cell: Any) -> tuple[np.ndarray, np.ndarray]:
    """One cell -> (node classes int64 ``[11]``, edge bits float32 ``[55]``) per spec §2.5, QUIRK-3 fixed."""
    nodes, edges = cells_to_graphs([cell])
    return nodes[0], edges[0]


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -x)


def graph_to_cell(node_classes: Any, edge_bits: Any,
                  edge_logits: Any = None) -> tuple[Cell | None, str | None]:
    """Decode one sampled 11-node graph (spec §2.5/§2.6, QUIRK-4 fixed): ``(cell, None)`` or ``(None, reason)``.

    1. Nodes 2..9 must be labelled with DARTS ops (``identity`` is rejected: no NB301 op)
       and node 10 must be ``output`` with at least one incoming edge. The labels of nodes
       0 and 1 are not checked (as in the original code).
    2. Collapse to DARTS edges: s -> d exists if any graph node of s (input s, or an
       operation node of s) connects to an operation node of d, for s < d only.
    3. A node with more than 2 inputs keeps the 2 with the largest score when
       ``edge_logits`` ``[55]`` are given, score(s -> d) = sum of log-sigmoid logits over
       every graph edge between the nodes of s and the operation nodes of d (sampled or
       not, as in the original code; ties keep the smaller source); without logits it is
       rejected. Every intermediate node must end with exactly 2 inputs.
    4. Node d with sources s0 < s1 gets ops from labels of nodes 2(d-1) and 2(d-1)+1, i.e.
       ``ops[2(d-2)]`` and ``ops[2(d-2)+1]`` of the 8 operation labels.
    """
    nodes = np.asarray(node_classes).reshape(-1)
    bits = np.asarray(edge_bits).reshape(-1)
    if nodes.shape[0] != MAX_NODES or bits.shape[0] != NUM_EDGES:
        raise ValueError(f"an NB301 cell graph has {MAX_NODES} node classes and {NUM_EDGES} edge bits, got "
                         f"{nodes.shape[0]} and {bits.shape[0]}")
    for g in range(2, OUTPUT_NODE):
        c = int(nodes[g])
        d = _DARTS_OF_NODE[g]
        if c == IDENTITY_CLASS:
            return None, (f"operation node {g} (input {g % 2} of DARTS node {d}) is labelled 'identity', which "
                          "is not an NB301 operation (the surrogate has no such op)")
        if not OP_CLASS_OFFSET <= c < len(NODE_TYPES):
            name = NODE_TYPES[c] if 0 <= c < len(NODE_TYPES) else str(c)
            return None, (f"operation node {g} (input {g % 2} of DARTS node {d}) is labelled {name!r}; nodes "
                          f"2..9 must be DARTS operations {list(OPS)}")
    if int(nodes[OUTPUT_NODE]) != OUTPUT_CLASS:
        return None, f"node 10 is labelled {NODE_TYPES[int(nodes[OUTPUT_NODE])]!r}, not 'output'"
    on = bits.astype(bool)
    if not on[_EDGE_V == OUTPUT_NODE].any():
        return None, "the output node (10) has no incoming edge"
    adj = np.zeros((7, 7), dtype=bool)
    sel = on & _COLLAPSIBLE
    adj[_EDGE_SRC[sel], _EDGE_DST[sel]] = True
    scores = None
    if edge_logits is not None:
        logits = np.asarray(edge_logits, dtype=np.float64).reshape(-1)
        if logits.shape[0] != NUM_EDGES:
            raise ValueError(f"edge_logits must have {NUM_EDGES} entries (one per edge bit), got {logits.shape[0]}")
        scores = np.zeros((7, 7))
        np.add.at(scores, (_EDGE_SRC[_COLLAPSIBLE], _EDGE_DST[_COLLAPSIBLE]), _log_sigmoid(logits[_COLLAPSIBLE]))
    ops = (nodes[2:OUTPUT_NODE] - OP_CLASS_OFFSET).tolist()
    pairs: list[tuple[int, int]] = []
    for d in INTERMEDIATE_NODES:
        sources = np.flatnonzero(adj[:d, d])
        if len(sources) > 2:
            if scores is None:
                return None, (f"DARTS node {d} has {len(sources)} inputs (from nodes {sources.tolist()}); it needs "
                              "exactly 2: pass edge_logits to keep the 2 best-scored ones")
            order = np.argsort(-scores[sources, d], kind="stable")
            sources = np.sort(sources[order[:2]])
        if len(sources) != 2:
            return None, (f"DARTS node {d} has {len(sources)} input(s) (from nodes {sources.tolist()}); every "
                          "intermediate node needs exactly 2")
        pairs.append((int(sources[0]), ops[2 * (d - 2)]))
        pairs.append((int(sources[1]), ops[2 * (d - 2) + 1]))
    return tuple(pairs), None


def encode_arch(arch: Any) -> tuple[np.ndarray, np.ndarray]:
    """(normal, reduce) -> node classes ``[2, 11]`` and edge bits ``[2, 55]`` (row 0 normal, row 1 reduce)."""
    return cells_to_graphs(check(arch))


def decode_arch(node_classes: Any, edge_bits: Any,
                edge_logits: Any = None) -> tuple[Arch | None, str | None]:
    """Classes ``[2, 11]``, bits ``[2, 55]`` (optional logits ``[2, 55]``) -> ``(arch, None)`` or ``(None, reason)``."""
    nodes = np.asarray(node_classes).reshape(2, MAX_NODES)
    bits = np.asarray(edge_bits).reshape(2, NUM_EDGES)
    logits = None if edge_logits is None else np.asarray(edge_logits).reshape(2, NUM_EDGES)
    cells = []
    for k, cell_type in enumerate(CELL_TYPES):
        cell, reason = graph_to_cell(nodes[k], bits[k], None if logits is None else logits[k])
        if reason is not None:
            return None, f"{_CELL_NAMES[cell_type]}: {reason}"
        cells.append(cell)
    return (cells[0], cells[1]), None


class DartsCodec(Codec):
    """The DARTS space: an architecture is a (normal, reduction) pair of cells, each cell AG-Net's
    11-node graph (spec §2.5), both graphs of one generator with two input nodes and 4 GNN layers.
    Keys are canonical compact architectures; cells are canonical compact cells."""

    name = "nasbench301"
    node_types = NODE_TYPES
    max_nodes = MAX_NODES
    cells = CELL_TYPES
    input_nodes = 2
    gnn_layers = 4
    enumerable = False

    def key(self, arch: Any) -> Arch:
        return canonical(arch)

    def split(self, arch: Any) -> tuple[Cell, Cell]:
        return canonical(arch)

    def join(self, cells: Sequence[Any]) -> Arch:
        if len(cells) != 2:
            raise ValueError(f"a DARTS architecture is (normal, reduce), got {len(cells)} cell(s)")
        return canonical(tuple(cells))

    def dedup_key(self, arch: Any) -> Arch:
        return canonical(arch)

    def cell_dedup_key(self, cell: Any) -> Cell:
        return canonical_cell(cell)

    def sample_cells(self, rng: np.random.Generator, num: int) -> list[Cell]:
        """``num`` random valid cells (no enumeration)."""
        return sample_cells(rng, num)

    def sample(self, rng: np.random.Generator, num: int) -> list[Arch]:
        """``num`` random valid architectures."""
        return [sample(rng) for _ in range(num)]

    def encode(self, cells: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        """Cells -> node classes ``[B, 11]`` int64, edge bits ``[B, 55]`` float32."""
        return cells_to_graphs(cells)

    def decode(self, node_types: np.ndarray, edges: np.ndarray,
               edge_logits: np.ndarray | None = None) -> list[Cell | None]:
        """Classes ``[B, 11]``, bits ``[B, 55]`` (optional logits ``[B, 55]``) -> cells, ``None`` where invalid."""
        return [cell for cell, _ in self.decode_with_reasons(node_types, edges, edge_logits)]

    def decode_with_reasons(self, node_types: np.ndarray, edges: np.ndarray,
                            edge_logits: np.ndarray | None = None) -> list[tuple[Cell | None, str | None]]:
        """Like :meth:`decode`, with the reason for every rejected graph."""
        nodes = np.asarray(node_types).reshape(-1, MAX_NODES)
        bits = np.asarray(edges).reshape(-1, NUM_EDGES)
        logits = None if edge_logits is None else np.asarray(edge_logits).reshape(-1, NUM_EDGES)
        return [graph_to_cell(nodes[i], bits[i], None if logits is None else logits[i])
                for i in range(nodes.shape[0])]

    def is_valid(self, arch: Any) -> bool:
        return why_invalid(arch) is None

"""NB101 codec: padded 7-node targets, decoding with pruning and canonicalisation, NASLib formats."""
import pickle

import numpy as np
import pytest
import torch

from naslib_agnet.spaces import NasBench101Codec, edge_index, get_codec, sample_discrete
from naslib_agnet.spaces import nasbench101_enumeration as enum
from naslib_agnet.spaces.nasbench101 import (
    NASLIB_OPS,
    NODE_TYPES,
    CanonicalKey,
    InvalidCellError,
    cell_hash,
    spec_to_tuple,
    tuple_to_spec,
    validate,
)

C3, C1, MP = "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"


@pytest.fixture(scope="module")
def codec():
    return get_codec("nasbench101")


@pytest.fixture(scope="module")
def cells30(data_dir):
    with open(data_dir / "nasbench101" / "nasbench_only108_30archs.pkl", "rb") as fh:
        return pickle.load(fh)


@pytest.fixture(scope="module")
def small_cells():
    return enum.enumerate_cells(5, progress=False)


def renumbered(matrix, ops, rng):
    """The same cell with its interior vertices renumbered (kept upper-triangular)."""
    n = len(ops)
    while True:
        p = [0, *(1 + rng.permutation(n - 2)).tolist(), n - 1]
        m = np.asarray(matrix)[np.ix_(p, p)]
        if not np.tril(m).any():
            return m, [ops[i] for i in p]


def test_registered_with_the_spec_vocabulary(codec):
    assert isinstance(codec, NasBench101Codec) and codec.name == "nasbench101"
    assert codec.node_types == ("output", "input", C1, C3, MP)
    assert (codec.max_nodes, codec.num_classes, codec.num_edges) == (7, 5, 21)


def test_the_30_real_cells_round_trip(codec, cells30):
    rng = np.random.default_rng(0)
    keys = []
    for md5, (fixed, _) in cells30.items():
        matrix, ops = fixed["module_adjacency"], list(fixed["module_operations"])
        key = codec.from_spec({"matrix": matrix, "ops": ops})
        assert key == spec_to_tuple(matrix, ops)  # the stored cell is the canonical one
        spec = codec.to_spec(key)
        assert spec["matrix"].tolist() == matrix.tolist() and spec["ops"] == ops
        assert codec.cell_hash(key) == codec.dedup_key(key) == md5
        for _ in range(3):  # any renumbering maps back to the same key
            assert codec.from_spec(renumbered(matrix, ops, rng)) == key
        keys.append(key)
    nodes, edges = codec.encode(keys)
    assert codec.decode(nodes, edges) == keys
    assert len({codec.dedup_key(k) for k in keys}) == 30


def test_encoding_layout(codec):
    m = np.zeros((4, 4), dtype=int)
    m[0, 1] = m[0, 2] = m[1, 3] = m[2, 3] = 1
    key = codec.from_spec((m, ["input", MP, C3, "output"]))
    nodes, edges = codec.encode([key])
    # canonical order puts conv3x3 (label 0) before maxpool (label 2) on the symmetric vertices
    assert nodes[0].tolist() == [1, NODE_TYPES.index(C3), NODE_TYPES.index(MP), 0, 0, 0, 0]
    expected = np.zeros(21, dtype=np.float32)
    for u, v in [(0, 1), (0, 2), (1, 3), (2, 3)]:
        expected[edge_index(u, v)] = 1
    assert edges.dtype == np.float32 and edges[0].tolist() == expected.tolist()
    assert nodes.dtype == np.int64 and nodes.shape == (1, 7) and edges.shape == (1, 21)


def test_naslib_tuples(codec):
    # NASLib's 56-tuple of an unpruned 7x7 spec: vertex 5 is a dead end, vertex 3 unreachable
    m = np.zeros((7, 7), dtype=int)
    m[0, 1] = m[1, 2] = m[2, 6] = m[0, 5] = m[3, 4] = m[4, 6] = m[0, 4] = 1
    ops = ["input", C3, C1, MP, C3, MP, "output"]
    naslib_hash = spec_to_tuple(m, ops)
    assert len(naslib_hash) == 56 and naslib_hash[49:] == tuple(NASLIB_OPS.index(o) for o in ops)
    key = codec.from_naslib_hash(naslib_hash)
    pm, pops = validate(m, ops)
    assert pm.shape == (5, 5) and len(key) == 30 and codec.cell_hash(key) == cell_hash(m, ops)
    assert codec.to_naslib_hash(key) == key and codec.from_naslib_hash(key) == key
    back_m, back_ops = tuple_to_spec(key)
    assert cell_hash(back_m, back_ops) == cell_hash(pm, pops)
    assert codec.is_valid(key) and codec.is_valid(naslib_hash) and not codec.is_valid((1, 2, 3))


@pytest.mark.parametrize("spec, message", [
    ({"matrix": [[0, 1, 0], [0, 0, 1], [1, 0, 0]], "ops": ["input", C3, "output"]}, "upper-triangular"),
    ({"matrix": np.triu(np.ones((7, 7), dtype=int), 1), "ops": ["input"] + [C3] * 5 + ["output"]},
     "21 edges after pruning; NB101 cells have at most 9"),
    ({"matrix": [[0, 1, 0], [0, 0, 1], [0, 0, 0]], "ops": ["input", "conv5x5", "output"]}, "unknown op"),
    ({"matrix": [[0, 1, 0], [0, 0, 0], [0, 0, 0]], "ops": ["input", C3, "output"]}, "not reachable"),
    ({"matrix": np.zeros((8, 8), dtype=int), "ops": ["input"] + [C3] * 6 + ["output"]}, "at most 7"),
    ({"matrix": [[0, 1], [0, 0]]}, "needs 'matrix' and 'ops'"),
])
def test_bad_specs_are_named(codec, spec, message):
    with pytest.raises(InvalidCellError, match=message):
        codec.from_spec(spec)


@pytest.mark.parametrize("key, message", [
    ((0, 1, 0, 0, 0, 1, 2), "n\\*n \\+ n entries"),
    ((0, 1, 0, 0, 0, 9), "unknown op index"),
    ((0, 1, 0, 0, 0.5, 1), "must hold integers"),
    ((0, 1, 1, 0, 0, 1), "upper-triangular"),  # 1->0 edge: not a DAG in topological order
])
def test_bad_tuples_are_named(codec, key, message):
    with pytest.raises(InvalidCellError, match=message):
        codec.encode([key])


def padded(types, edge_list):
    nodes = np.zeros((1, 7), dtype=np.int64)
    nodes[0, :len(types)] = types
    edges = np.zeros((1, 21), dtype=bool)
    for u, v in edge_list:
        edges[0, edge_index(u, v)] = True
    return nodes, edges


I, O = 1, 0
K3, K1, KP = NODE_TYPES.index(C3), NODE_TYPES.index(C1), NODE_TYPES.index(MP)


def test_decode_prunes_and_canonicalises(codec):
    # 0 -> 2 -> 3(output), vertex 1 a dead end: pruned away
    key = codec.decode(*padded([I, K1, K3, O], [(0, 1), (0, 2), (2, 3)]))[0]
    assert key == codec.from_spec((np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]]), ["input", C3, "output"]))
    # two numberings of the same cell decode to the same key
    a = codec.decode(*padded([I, KP, K3, O], [(0, 1), (0, 2), (1, 3), (2, 3)]))[0]
    b = codec.decode(*padded([I, K3, KP, O], [(0, 1), (0, 2), (1, 3), (2, 3)]))[0]
    assert a == b and tuple_to_spec(a)[1] == ["input", C3, MP, "output"]
    # maxpool feeding conv3x3 is another cell than conv3x3 feeding maxpool
    e = codec.decode(*padded([I, KP, K3, O], [(0, 1), (1, 2), (2, 3)]))[0]
    f = codec.decode(*padded([I, K3, KP, O], [(0, 1), (1, 2), (2, 3)]))[0]
    assert codec.dedup_key(e) != codec.dedup_key(f)
    c = codec.decode(*padded([I, K3, K3, O], [(0, 1), (0, 2), (1, 3), (2, 3)]))[0]
    assert tuple_to_spec(c)[0].shape == (4, 4)
    # nodes after the first output, and the edges touching them, are ignored
    d = codec.decode(*padded([I, K3, O, K1, K1, K1, O], [(0, 1), (1, 2), (2, 3), (3, 6), (0, 6)]))[0]
    assert d == codec.from_spec((np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]]), ["input", C3, "output"]))


@pytest.mark.parametrize("types, edge_list", [
    ([K3, K3, O], [(0, 1), (1, 2)]),  # first node not input
    ([I, I, O], [(0, 1), (1, 2)]),  # input in the middle
    ([I, K3, K3, O], [(0, 1), (1, 2)]),  # output unreachable
    ([I, K3, K3, K3, K3, K3, O], [(u, v) for v in range(1, 7) for u in range(v)]),  # 21 > 9 edges
    ([I, K3, K3, K3, K3, K3, K3], [(0, 1)]),  # no output at all
])
def test_invalid_samples_decode_to_none(codec, types, edge_list):
    nodes, edges = padded(types, edge_list)
    assert codec.decode(nodes, edges) == [None]


def test_decode_checks_shapes(codec):
    with pytest.raises(ValueError, match=r"\[B, 7\]"):
        codec.decode(np.zeros((2, 8), dtype=int), np.zeros((2, 28)))


def test_decoding_generator_samples(codec):
    torch.manual_seed(0)
    node_logits = torch.randn(400, 7, 5)
    node_logits[:, 0, 1] += 6.0  # mostly input first
    edge_logits = torch.randn(400, 21) - 0.5
    types, edges = sample_discrete(node_logits, edge_logits, generator=torch.Generator().manual_seed(1))
    keys = codec.decode(types, edges)
    valid = [k for k in keys if k is not None]
    assert 20 < len(valid) < 400
    for key in valid:
        assert isinstance(key, CanonicalKey) and codec.canonical(tuple(key)) == key
        validate(*tuple_to_spec(key))
    nodes, enc = codec.encode(valid)
    assert codec.decode(nodes, enc) == valid


def test_enumerate_and_hash_lookup_read_the_cell_table(codec, small_cells, monkeypatch):
    monkeypatch.setattr(enum, "load_cells", lambda *a, **k: small_cells)
    keys = list(codec.enumerate())
    assert len(keys) == len(small_cells) == 2532
    for i in range(0, len(keys), 97):
        assert codec.cell_hash(keys[i]) == small_cells.hash_at(i)
        assert codec.from_cell_hash(small_cells.hash_at(i)) == keys[i]
        assert codec.canonical(tuple(keys[i])) == keys[i]
    nodes, edges = codec.encode(keys)
    assert codec.decode(nodes, edges) == keys
    with pytest.raises(KeyError, match="f" * 32):
        codec.from_cell_hash("f" * 32)

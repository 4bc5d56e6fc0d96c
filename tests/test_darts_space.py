"""The DARTS / NAS-Bench-301 space: keys, validity, sampling, conversions and the 11-node cell graph."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch

from naslib_agnet.spaces import darts as D
from naslib_agnet.spaces.base import edge_index, sample_discrete

DARTS_V2 = (
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
    "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], "
    "normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), "
    "('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], "
    "reduce_concat=[2, 3, 4, 5])"
)
# Op indices (NASLib NB301 order) written out by hand.
MAX, AVG, SKIP, SEP3, SEP5, DIL3, DIL5 = range(7)
# DARTS-V2, canonical: node 4 of the normal cell and nodes 3, 5 of the reduction cell are reordered by source.
V2_NORMAL = ((0, SEP3), (1, SEP3), (0, SEP3), (1, SEP3), (0, SKIP), (1, SEP3), (0, SKIP), (2, DIL3))
V2_REDUCE = ((0, MAX), (1, MAX), (1, MAX), (2, SKIP), (0, MAX), (2, SKIP), (1, MAX), (2, SKIP))
V2_ARCH = (V2_NORMAL, V2_REDUCE)
YAHPO = Path("nasbench301") / "yahpo-nb301-v2"


@pytest.fixture(scope="module")
def archs() -> list:
    rng = np.random.default_rng(20220806)
    return [D.sample(rng) for _ in range(10_000)]


def edges_of(bits: np.ndarray) -> set[tuple[int, int]]:
    return {(u, v) for v in range(1, 11) for u in range(v) if bits[edge_index(u, v)]}


# --------------------------------------------------------------------------------------
# constants and the codec's vocabulary
# --------------------------------------------------------------------------------------


def test_constants_and_codec_attributes():
    assert D.OPS == ("max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5",
                     "dil_conv_3x3", "dil_conv_5x5")
    assert D.NODE_TYPES == ("output", "input", "input_1", "identity", "max_pool_3x3", "avg_pool_3x3",
                            "skip_connect", "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5")
    assert D.MAX_NODES == 11
    codec = D.DartsCodec()
    assert (codec.name, codec.node_types, codec.max_nodes) == ("nasbench301", D.NODE_TYPES, 11)
    assert (codec.num_classes, codec.num_edges) == (11, 55)
    assert (codec.cells, codec.input_nodes, codec.gnn_layers) == (("normal", "reduce"), 2, 4)


def test_the_codec_splits_and_joins_architectures_into_canonical_cells():
    codec = D.DartsCodec()
    rng = np.random.default_rng(5)
    for _ in range(200):
        arch = D.sample(rng)
        loose = tuple(tuple(cell[j ^ 1] if j in (2, 3) else cell[j] for j in range(8)) for cell in arch)
        assert codec.key(loose) == arch == codec.join(codec.split(loose))
        assert codec.split(arch) == arch and codec.dedup_key(loose) == arch
    with pytest.raises(ValueError, match="normal, reduce"):
        codec.join(arch[:1])


# --------------------------------------------------------------------------------------
# round trips of 10,000 random architectures
# --------------------------------------------------------------------------------------


def test_sampled_keys_are_valid_canonical_and_hashable(archs):
    for arch in archs:
        assert D.why_invalid(arch) is None
        assert D.canonical(arch) == arch
        assert all(type(v) is int for cell in arch for pair in cell for v in pair)
    assert len(set(archs)) > 9_990  # the space has ~10^18 archs: (1*3*6*10 * 7^8)^2


def test_round_trip_compact_genotype_and_printed_string(archs):
    for arch in archs:
        genotype = D.compact_to_genotype(arch)
        assert D.genotype_to_compact(genotype) == arch
        text = repr(genotype)
        assert text == str(genotype) == D.genotype_to_str(genotype) == D.arch_to_genotype_str(arch)
        parsed = D.parse_genotype(text)
        assert parsed == genotype and D.genotype_to_compact(parsed) == arch
    assert all(D.genotype_str_to_arch(D.arch_to_genotype_str(arch)) == arch for arch in archs[:500])


def test_round_trip_compact_config(archs):
    for arch in archs:
        config = D.compact_to_config(arch)
        assert len(config) == 2 * (8 + 3)  # per cell: 8 edges + inputs_node_3..5
        assert D.config_to_compact(config) == arch
    for arch in archs[:2000]:
        assert D.config_to_compact(D.compact_to_config(arch, yahpo_names=True)) == arch


def test_round_trip_cell_graph_cell(archs):
    codec = D.DartsCodec()
    cells = [cell for arch in archs for cell in arch]
    nodes, edges = codec.encode(cells)
    assert nodes.shape == (20_000, 11) and nodes.dtype == np.int64
    assert edges.shape == (20_000, 55) and edges.dtype == np.float32
    assert set(np.unique(edges).tolist()) == {0.0, 1.0}
    assert codec.decode(nodes, edges) == cells
    # every op node feeds the output; inputs never feed it; 0->1 never set
    assert (edges[:, [edge_index(g, 10) for g in range(2, 10)]] == 1).all()
    assert (edges[:, [edge_index(0, 10), edge_index(1, 10), edge_index(0, 1)]] == 0).all()
    # single-cell helpers agree with the batch
    for k in (0, 1, 7777, 19_999):
        n, e = D.cell_to_graph(cells[k])
        assert (n == nodes[k]).all() and (e == edges[k]).all()
        assert D.graph_to_cell(n, e) == (cells[k], None)


def test_round_trip_arch_pair_of_graphs(archs):
    for arch in archs[:1000]:
        nodes, edges = D.encode_arch(arch)
        assert nodes.shape == (2, 11) and edges.shape == (2, 55)
        assert D.decode_arch(nodes, edges) == (arch, None)
    nodes, edges = D.encode_arch(V2_ARCH)
    assert (nodes[0] == D.cell_to_graph(V2_NORMAL)[0]).all()
    assert (edges[1] == D.cell_to_graph(V2_REDUCE)[1]).all()


# --------------------------------------------------------------------------------------
# DARTS-V2 by hand
# --------------------------------------------------------------------------------------


def test_darts_v2_genotype_string_and_compact():
    genotype = D.parse_genotype(DARTS_V2)
    assert str(genotype) == DARTS_V2
    assert D.genotype_to_compact(genotype) == V2_ARCH
    # NASLib's order (no canonicalisation) keeps the genotype's order and prints back identically
    raw = D.genotype_to_compact(genotype, canonicalize=False)
    assert raw[0][4:6] == ((1, SEP3), (0, SKIP)) and D.canonical(raw) == V2_ARCH
    assert D.arch_to_genotype_str(raw) == DARTS_V2
    # DARTS' search code prints concat as range(2, 6)
    assert D.genotype_str_to_arch(DARTS_V2.replace("[2, 3, 4, 5]", "range(2, 6)")) == V2_ARCH


def test_darts_v2_normal_cell_encoding_by_hand():
    nodes, bits = D.cell_to_graph(V2_NORMAL)
    # input, input_1, node 2: sep3 sep3, node 3: sep3 sep3, node 4: skip(0) sep3(1), node 5: skip(0) dil3(2), output
    assert nodes.tolist() == [1, 2, 7, 7, 7, 7, 6, 7, 6, 9, 0]
    expected = {(0, 2), (1, 3),            # node 2 <- 0, 1
                (0, 4), (1, 5),            # node 3 <- 0, 1
                (0, 6), (1, 7),            # node 4 <- 0, 1
                (0, 8), (2, 9), (3, 9),    # node 5 <- 0, and <- node 2 = both op nodes 2, 3 (QUIRK-3: not 4, 5)
                } | {(g, 10) for g in range(2, 10)}
    assert edges_of(bits) == expected
    assert np.flatnonzero(bits).tolist() == [1, 4, 6, 11, 15, 22, 28, 38, 39, 47, 48, 49, 50, 51, 52, 53, 54]


def test_darts_v2_reduction_cell_encoding_by_hand():
    nodes, bits = D.cell_to_graph(V2_REDUCE)
    assert nodes.tolist() == [1, 2, 4, 4, 4, 6, 4, 6, 4, 6, 0]
    expected = {(0, 2), (1, 3),            # node 2 <- 0, 1
                (1, 4), (2, 5), (3, 5),    # node 3 <- 1, node 2
                (0, 6), (2, 7), (3, 7),    # node 4 <- 0, node 2
                (1, 8), (2, 9), (3, 9),    # node 5 <- 1, node 2
                } | {(g, 10) for g in range(2, 10)}
    assert edges_of(bits) == expected


def test_darts_v2_config_by_hand():
    config = D.compact_to_config(V2_ARCH)
    p = D.CONFIG_PREFIX
    assert config[p + "edge_normal_0"] == "sep_conv_3x3" and config[p + "edge_normal_1"] == "sep_conv_3x3"
    # node 5 of the normal cell: skip from 0 (edge 9 + 0) and dil_conv_3x3 from node 2 (edge 9 + 2)
    assert config[p + "edge_normal_9"] == "skip_connect" and config[p + "edge_normal_11"] == "dil_conv_3x3"
    assert config[p + "inputs_node_normal_5"] == "0_2"
    # reduction node 3 <- 1, 2 (edges 2 + 1, 2 + 2); node 4 <- 0, 2 (edges 5, 7)
    assert config[p + "inputs_node_reduce_3"] == "1_2"
    assert (config[p + "edge_reduce_3"], config[p + "edge_reduce_4"]) == ("max_pool_3x3", "skip_connect")
    assert (config[p + "edge_reduce_5"], config[p + "edge_reduce_7"]) == ("max_pool_3x3", "skip_connect")
    assert p + "edge_normal_4" not in config and p + "inputs_node_normal_2" not in config


def test_quirk3_every_source_of_node5_encodes_to_the_right_op_nodes():
    base = list(V2_NORMAL)
    for s0, s1 in [(a, b) for b in range(5) for a in range(b)]:
        cell = tuple(base[:6] + [(s0, SEP5), (s1, AVG)])
        bits = D.cell_to_graph(cell)[1]
        into = {8: {u for (u, v) in edges_of(bits) if v == 8}, 9: {u for (u, v) in edges_of(bits) if v == 9}}
        want = {s: ({s} if s < 2 else {2 * s - 2, 2 * s - 1}) for s in range(5)}
        assert into == {8: want[s0], 9: want[s1]}, (s0, s1)


def test_quirk4_decoding_uses_all_eight_op_labels():
    cell = ((0, MAX), (1, AVG), (0, SKIP), (2, SEP3), (1, SEP5), (3, DIL3), (2, DIL5), (4, SKIP))
    nodes, bits = D.cell_to_graph(cell)
    assert nodes[2:10].tolist() == [4, 5, 6, 7, 8, 9, 10, 6]
    decoded, reason = D.graph_to_cell(nodes, bits)
    assert reason is None
    assert [op for _, op in decoded] == [MAX, AVG, SKIP, SEP3, SEP5, DIL3, DIL5, SKIP]
    assert decoded == cell


# --------------------------------------------------------------------------------------
# decoding: pruning by logits and rejections
# --------------------------------------------------------------------------------------


def _v2_normal_with_extra_input():
    """DARTS-V2 normal cell plus edge 1 -> 8: DARTS node 5 now has inputs 0, 1 and 2."""
    nodes, bits = D.cell_to_graph(V2_NORMAL)
    bits = bits.copy()
    bits[edge_index(1, 8)] = 1
    return nodes, bits


def test_node_with_three_inputs_is_rejected_without_logits():
    nodes, bits = _v2_normal_with_extra_input()
    cell, reason = D.graph_to_cell(nodes, bits)
    assert cell is None and "DARTS node 5 has 3 inputs" in reason and "edge_logits" in reason


def test_node_with_three_inputs_is_pruned_by_summed_log_sigmoid_logits():
    nodes, bits = _v2_normal_with_extra_input()
    zero = np.zeros(55)
    # All logits 0: score(0->5) = score(1->5) = 2 log(1/2) (edges 0->8, 0->9 / 1->8, 1->9),
    # score(2->5) = 4 log(1/2) (2->8, 2->9, 3->8, 3->9): keep sources 0 and 1; ops stay by position.
    assert D.graph_to_cell(nodes, bits, zero) == (V2_NORMAL[:6] + ((0, SKIP), (1, DIL3)), None)
    # Edges from node 2's op nodes very likely: score(2->5) ~ 0 > the tie of 0 and 1 -> keep 0 (smaller) and 2.
    logits = zero.copy()
    logits[[edge_index(u, v) for u in (2, 3) for v in (8, 9)]] = 20.0
    assert D.graph_to_cell(nodes, bits, logits) == (V2_NORMAL, None)
    # Source 1 likely, source 0 unlikely: keep 1 and 2.
    logits = zero.copy()
    logits[[edge_index(1, 8), edge_index(1, 9)]] = 20.0
    logits[[edge_index(0, 8), edge_index(0, 9)]] = -20.0
    assert D.graph_to_cell(nodes, bits, logits) == (V2_NORMAL[:6] + ((1, SKIP), (2, DIL3)), None)
    # The sum runs over every graph edge between the two DARTS nodes, sampled or not: the absent
    # edge 0 -> 9 at -20 sinks source 0 (score -20 - log 2 < 2 log(1/2) for 1 < 4 log(1/2) for 2).
    low_absent = zero.copy()
    low_absent[edge_index(0, 9)] = -20.0
    assert D.graph_to_cell(nodes, bits, low_absent) == (V2_NORMAL[:6] + ((1, SKIP), (2, DIL3)), None)
    # pruning only touches the node with too many inputs, and logits pass through the batch APIs
    codec = D.DartsCodec()
    assert codec.decode(nodes[None], bits[None], logits[None]) == [V2_NORMAL[:6] + ((1, SKIP), (2, DIL3))]
    n2, b2 = D.encode_arch(V2_ARCH)
    b2[0] = bits
    assert D.decode_arch(n2, b2)[0] is None
    arch, reason = D.decode_arch(n2, b2, np.stack([logits, zero]))
    assert reason is None and arch == (V2_NORMAL[:6] + ((1, SKIP), (2, DIL3)), V2_REDUCE)


def test_decoder_ignores_edges_that_are_no_darts_edge():
    nodes, bits = D.cell_to_graph(V2_NORMAL)
    bits = bits.copy()
    for u, v in [(0, 1), (2, 3), (4, 5), (8, 9), (0, 10), (1, 10)]:  # inside one DARTS node, inputs -> output
        bits[edge_index(u, v)] = 1
    assert D.graph_to_cell(nodes, bits) == (V2_NORMAL, None)
    # a second edge between the same DARTS nodes collapses to one DARTS edge (counts >= 2 clipped)
    bits[edge_index(2, 8)] = 1
    bits[edge_index(0, 9)] = 1
    assert D.graph_to_cell(nodes, bits) == (V2_NORMAL, None)


@pytest.mark.parametrize("change, reason", [
    (lambda n, b: n.__setitem__(6, D.IDENTITY_CLASS),
     "operation node 6 (input 0 of DARTS node 4) is labelled 'identity', which is not an NB301 operation"),
    (lambda n, b: n.__setitem__(9, D.INPUT_1_CLASS),
     "operation node 9 (input 1 of DARTS node 5) is labelled 'input_1'"),
    (lambda n, b: n.__setitem__(3, D.OUTPUT_CLASS), "is labelled 'output'; nodes 2..9 must be DARTS operations"),
    (lambda n, b: n.__setitem__(10, 7), "node 10 is labelled 'sep_conv_3x3', not 'output'"),
    (lambda n, b: b.__setitem__(slice(45, 55), 0), "the output node (10) has no incoming edge"),
    (lambda n, b: b.__setitem__(edge_index(1, 5), 0), "DARTS node 3 has 1 input(s) (from nodes [0])"),
    (lambda n, b: [b.__setitem__(edge_index(u, 9), 0) for u in (2, 3)], "DARTS node 5 has 1 input(s)"),
    (lambda n, b: b.__setitem__(slice(0, 45), 0), "DARTS node 2 has 0 input(s)"),
])
def test_decoder_rejections_have_reasons(change, reason):
    nodes, bits = D.cell_to_graph(V2_NORMAL)
    nodes, bits = nodes.copy(), bits.copy()
    change(nodes, bits)
    cell, why = D.graph_to_cell(nodes, bits)
    assert cell is None and reason in why
    assert D.DartsCodec().decode(nodes[None], bits[None]) == [None]


def test_decoder_on_generator_style_samples_returns_only_valid_cells():
    codec = D.DartsCodec()
    rng = np.random.default_rng(0)
    cells = D.sample_cells(rng, 500)
    nodes, bits = codec.encode(cells)
    # near-target logits with noise, discretised like the generator does (spec §2.4)
    gen = torch.Generator().manual_seed(0)
    node_logits = torch.from_numpy(np.eye(11)[nodes] * 6.0 + rng.normal(0, 1.5, (500, 11, 11))).float()
    edge_logits = torch.from_numpy((bits * 2 - 1) * 4.0 + rng.normal(0, 2.0, (500, 55))).float()
    types, edges = sample_discrete(node_logits, edge_logits, gen)
    decoded = codec.decode_with_reasons(types, edges, edge_logits.numpy())
    n_valid = 0
    for cell, why in decoded:
        assert (cell is None) != (why is None)
        if cell is not None:
            n_valid += 1
            assert D.why_invalid_cell(cell) is None and D.canonical_cell(cell) == cell
            assert D.graph_to_cell(*D.cell_to_graph(cell)) == (cell, None)
    assert 0 < n_valid < 500


# --------------------------------------------------------------------------------------
# validity
# --------------------------------------------------------------------------------------

OK = V2_NORMAL


def _with(pair_index, pair):
    cell = list(OK)
    cell[pair_index] = pair
    return tuple(cell)


@pytest.mark.parametrize("arch, reason", [
    ((OK,), "a pair (normal cell, reduction cell)"),
    ("abc", "a pair (normal cell, reduction cell)"),
    ((OK[:7], OK), "normal cell: a cell is 8 (source node, op index) pairs"),
    ((OK, OK + ((0, 1),)), "reduction cell: a cell is 8 (source node, op index) pairs, two per intermediate "
                           "DARTS node 2..5 (pairs 2(d-2) and 2(d-2)+1 feed node d); got 9 pairs"),
    ((_with(3, (3, SEP3)), OK), "pair 3 (input 1 of DARTS node 3) takes input from node 3, but node 3 may only "
                                "take inputs from earlier nodes 0..2"),
    ((_with(7, (5, SEP3)), OK), "node 5 may only take inputs from earlier nodes 0..4"),
    ((_with(0, (-1, SEP3)), OK), "takes input from node -1"),
    ((OK, _with(5, (1, 7))), "reduction cell: pair 5 (input 1 of DARTS node 4) has op index 7; op indices are 0..6"),
    ((_with(1, (1, -1)), OK), "has op index -1"),
    ((_with(5, (0, SEP3)), OK), "DARTS node 4 takes both inputs from node 0; its two inputs must come from two "
                                "different nodes"),
    ((_with(2, (0.0, SEP3)), OK), "pair 2 (input 0 of DARTS node 3) must hold two integers"),
    ((_with(2, (True, SEP3)), OK), "must hold two integers"),
    ((_with(2, (0, SEP3, 1)), OK), "must be a (source node, op index) pair"),
])
def test_validity_reasons(arch, reason):
    why = D.why_invalid(arch)
    assert why is not None and reason in why
    with pytest.raises(ValueError, match="invalid DARTS architecture") as info:
        D.check(arch)
    assert reason in str(info.value)


def test_valid_spellings_and_canonical_form():
    mutable = [[list(p) for p in OK], [list(p) for p in V2_REDUCE]]
    assert D.why_invalid(mutable) is None and D.canonical(mutable) == V2_ARCH
    numpy_ints = tuple(tuple((np.int64(s), np.int32(o)) for s, o in cell) for cell in V2_ARCH)
    assert D.canonical(numpy_ints) == V2_ARCH
    assert all(type(v) is int for cell in D.canonical(numpy_ints) for p in cell for v in p)
    swapped = tuple(OK[i ^ 1] for i in range(8))  # every node's inputs in reverse order: valid, same cell
    assert D.why_invalid_cell(swapped) is None and D.canonical_cell(swapped) == OK
    assert (D.cell_to_graph(swapped)[1] == D.cell_to_graph(OK)[1]).all()
    assert D.compact_to_config((swapped, OK)) == D.compact_to_config((OK, OK))
    codec = D.DartsCodec()
    assert codec.dedup_key((swapped, OK)) == codec.dedup_key((OK, OK)) == (OK, OK)
    assert codec.is_valid((OK, OK)) and not codec.is_valid((_with(0, (0, 9)), OK))
    with pytest.raises(ValueError, match="invalid DARTS cell: pair 0"):
        codec.encode([_with(0, (3, SEP3))])


# --------------------------------------------------------------------------------------
# genotype and config errors
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, reason", [
    ("hello", "expected \"Genotype(normal=[...]"),
    ("Genotype(normal=[", "not a printed DARTS genotype"),
    (DARTS_V2.replace("'max_pool_3x3', 0", "'none', 0"), "has op 'none', which is not in the NB301 space"),
    (DARTS_V2.replace("normal_concat=[2, 3, 4, 5]", "normal_concat=[4, 5]"), "normal_concat must be [2, 3, 4, 5]"),
    (DARTS_V2.replace(", reduce_concat=[2, 3, 4, 5]", ""), "lacks ['reduce_concat']"),
    (DARTS_V2.replace("('dil_conv_3x3', 2)", "('dil_conv_3x3', 5)"), "node 5 may only take inputs from earlier"),
    (DARTS_V2.replace("('dil_conv_3x3', 2)", "('dil_conv_3x3', __import__('os'))"), "only literal lists"),
    (DARTS_V2.replace("normal=", "normal=[], extra=1, normal_x="), "unexpected or repeated genotype field"),
])
def test_genotype_errors(text, reason):
    with pytest.raises(ValueError) as info:
        D.parse_genotype(text)
    assert reason in str(info.value)


def test_genotype_accepts_other_namedtuples_and_rejects_missing_fields():
    from collections import namedtuple
    other = namedtuple("Genotype", "normal normal_concat reduce reduce_concat")  # NASLib's / DARTS' own class
    g = other(**D.compact_to_genotype(V2_ARCH)._asdict())
    assert D.genotype_to_compact(g) == V2_ARCH
    with pytest.raises(ValueError, match="has no 'reduce_concat'"):
        D.genotype_to_compact(namedtuple("G", "normal normal_concat reduce")([], [], []))


def test_config_errors_name_the_parameter():
    p = D.CONFIG_PREFIX
    good = D.compact_to_config(V2_ARCH)
    cases = [
        ({k: v for k, v in good.items() if k != p + "inputs_node_normal_4"},
         "missing 'NetworkSelectorDatasetInfo:darts:inputs_node_normal_4'"),
        ({k: v for k, v in good.items() if k != p + "edge_reduce_11"},
         "missing 'NetworkSelectorDatasetInfo:darts:edge_reduce_11'"),
        ({**good, p + "edge_normal_10": "sep_conv_3x3"}, "edge_normal_10 (node 1 -> node 5) is inactive"),
        ({**good, p + "edge_normal_14": "sep_conv_3x3"}, "unknown NB301 parameter"),
        ({**good, p + "inputs_node_normal_3": "1_0"}, "is not a valid choice"),
        ({**good, p + "inputs_node_normal_3": "0_3"}, "is not a valid choice"),
        ({**good, p + "edge_normal_0": "none"}, "is not an NB301 op"),
        ([1, 2], "expected an NB301 ConfigSpace dict"),
    ]
    for config, reason in cases:
        with pytest.raises(ValueError) as info:
            D.config_to_compact(config)
        assert reason in str(info.value), (reason, str(info.value))
    # training hyperparameters and YAHPO's epoch are ignored
    extra = {**good, p + "layers": 20, p + "init_channels": 32, "NetworkSelectorDatasetInfo:network": "darts",
             "OptimizerSelector:sgd:learning_rate": 0.025, "epoch": 98}
    assert D.config_to_compact(extra) == V2_ARCH


def test_config_matches_the_nb301_config_space_files(data_dir, archs):
    """Keys, values and active set against YAHPO's copy of the NB301 ConfigSpace and its encoding."""
    space = json.loads((data_dir / YAHPO / "config_space_v2.json").read_text())
    encoding = json.loads((data_dir / YAHPO / "encoding_v2.json").read_text())
    choices = {h["name"]: h.get("choices") for h in space["hyperparameters"] if h["name"] != "epoch"}
    conditions = {c["child"]: (c["parent"], set(c["values"])) for c in space["conditions"]}
    assert {c["type"] for c in space["conditions"]} == {"IN"} and not space["forbiddens"]
    assert set(choices) == set(encoding) and len(choices) == 34  # no fixed keys in the architecture space
    for arch in archs[:2000] + [V2_ARCH]:
        config = D.compact_to_config(arch, yahpo_names=True)
        for key, value in config.items():
            assert value in choices[key] and value in encoding[key], (key, value)
        active = {name for name in choices
                  if name not in conditions or config.get(conditions[name][0]) in conditions[name][1]}
        assert set(config) == active
        plain = D.compact_to_config(arch)
        assert {k.replace(":", "_COLON_"): v for k, v in plain.items()} == config


# --------------------------------------------------------------------------------------
# the sampler
# --------------------------------------------------------------------------------------


def test_sampler_distribution(archs):
    for cell_index in (0, 1):
        cells = np.array([arch[cell_index] for arch in archs])  # [10000, 8, 2]
        ops = cells[:, :, 1]
        for j in range(8):
            counts = np.bincount(ops[:, j], minlength=7)
            assert counts.size == 7 and (np.abs(counts / len(archs) - 1 / 7) < 0.02).all(), (cell_index, j, counts)
        for d in (2, 3, 4, 5):
            pairs = Counter(map(tuple, cells[:, 2 * (d - 2):2 * (d - 2) + 2, 0].tolist()))
            allowed = {(a, b) for b in range(d) for a in range(b)}
            assert set(pairs) == allowed, (cell_index, d)
            n = len(allowed)
            assert all(abs(c / len(archs) - 1 / n) < 0.02 for c in pairs.values()), (cell_index, d, pairs)
    # normal and reduction cells are independent draws
    assert np.mean([a[0] == a[1] for a in archs]) == 0.0


def test_sampler_is_seeded():
    a = [D.sample(np.random.default_rng(3)) for _ in range(1)] + D.sample_cells(np.random.default_rng(3), 4)
    b = [D.sample(np.random.default_rng(3)) for _ in range(1)] + D.sample_cells(np.random.default_rng(3), 4)
    assert a == b
    assert D.sample(np.random.default_rng(4)) != D.sample(np.random.default_rng(3))
    assert D.DartsCodec().sample_cells(np.random.default_rng(3), 4) == D.sample_cells(np.random.default_rng(3), 4)
    assert all(D.why_invalid_cell(D.sample_cell(np.random.default_rng(s))) is None for s in range(50))

"""The NB201 codec: 8-node form <-> NASLib op indices <-> official arch string, over all 15,625 cells."""
import numpy as np
import pytest
import torch

from naslib_agnet.benchmarks import load_nb201_oracle
from naslib_agnet.spaces import edge_index, get_codec, sample_discrete
from naslib_agnet.spaces.nasbench201 import NODE_TYPES


@pytest.fixture(scope="module")
def codec():
    return get_codec("nasbench201")


def test_enumerates_every_cell_once(codec):
    archs = list(codec.enumerate())
    assert len(archs) == 15_625 == len(set(archs))


def test_round_trip_all_cells(codec):
    archs = list(codec.enumerate())
    nodes, edges = codec.encode(archs)
    assert nodes.shape == (15_625, 8) and edges.shape == (15_625, 28)
    assert codec.decode(nodes, edges) == archs
    for arch in archs:
        assert codec.from_arch_str(codec.to_arch_str(arch)) == arch


def test_matches_table_arch_strings(codec, data_dir):
    oracle = load_nb201_oracle(data_dir, "cifar10")
    import csv
    with open(data_dir / "nasbench201" / "nb201_accuracies.csv") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        arch = tuple(int(v) for v in row["naslib_op_indices"].split("-"))
        assert codec.to_arch_str(arch) == row["arch_str"]
        assert arch in oracle


def test_node_layout_of_a_known_cell(codec):
    # |avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|
    nodes, edges = codec.encode([(4, 3, 3, 0, 0, 0)])
    names = [NODE_TYPES[i] for i in nodes[0]]
    assert names == ["input", "avg_pool_3x3", "nor_conv_1x1", "skip_connect", "nor_conv_1x1",
                     "skip_connect", "skip_connect", "output"]
    expected = {(0, 1), (0, 2), (0, 4), (1, 3), (1, 5), (2, 6), (3, 6), (4, 7), (5, 7), (6, 7)}
    got = {(u, v) for v in range(8) for u in range(v) if edges[0, edge_index(u, v)]}
    assert got == expected


def test_decode_rejects_invalid_graphs(codec):
    nodes, edges = codec.encode([(0, 1, 2, 3, 4, 0)] * 4)
    nodes[1, 3] = 0  # an output node inside the cell
    nodes[2, 5] = 1  # a second input node
    edges[3, edge_index(1, 2)] = 1  # an edge outside the fixed adjacency
    assert codec.decode(nodes, edges) == [(0, 1, 2, 3, 4, 0), None, None, None]


def test_sample_discrete_follows_confident_logits(codec):
    nodes, edges = codec.encode([(2, 3, 4, 0, 1, 2), (1, 1, 0, 0, 4, 4)])
    node_logits = torch.full((2, 8, 7), -30.0)
    node_logits.scatter_(2, torch.from_numpy(nodes).unsqueeze(-1), 30.0)
    edge_logits = torch.from_numpy(edges * 60.0 - 30.0)
    types, bits = sample_discrete(node_logits, edge_logits, generator=torch.Generator().manual_seed(0))
    assert codec.decode(types, bits) == [(2, 3, 4, 0, 1, 2), (1, 1, 0, 0, 4, 4)]


def test_sample_discrete_truncates_after_first_output():
    node_logits = torch.full((1, 8, 7), -30.0)
    node_logits[0, :, 2] = 30.0
    node_logits[0, 3] = -30.0
    node_logits[0, 3, 0] = 30.0  # node 3 is output: the graph ends there
    edge_logits = torch.full((1, 28), 30.0)
    types, bits = sample_discrete(node_logits, edge_logits)
    assert types[0].tolist() == [2, 2, 2, 0, 0, 0, 0, 0]
    alive_edges = {edge_index(u, v) for v in range(1, 4) for u in range(v)}
    assert set(np.flatnonzero(bits[0])) == alive_edges


def test_unknown_space_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown search space 'nasbench1O1'.*nasbench201"):
        get_codec("nasbench1O1")

"""NB101 cells: the official hash reproduced bit-exactly on real data, pruning, validity."""
import pickle

import numpy as np
import pytest

from naslib_agnet.spaces.nasbench101 import InvalidCellError, cell_hash, prune, validate


@pytest.fixture(scope="module")
def cells30(data_dir):
    with open(data_dir / "nasbench101" / "nasbench_only108_30archs.pkl", "rb") as fh:
        return pickle.load(fh)


def test_hashes_of_the_30_real_cells(cells30):
    assert len(cells30) == 30
    for md5, (fixed, _) in cells30.items():
        assert cell_hash(fixed["module_adjacency"], fixed["module_operations"]) == md5


def random_topological_order(matrix, rng):
    """A uniformly drawn next vertex among those whose predecessors are placed (Kahn's algorithm)."""
    n = len(matrix)
    placed, order = set(), []
    while len(order) < n:
        ready = [v for v in range(n) if v not in placed and all(u in placed for u in range(n) if matrix[u, v])]
        v = ready[rng.integers(len(ready))]
        placed.add(v)
        order.append(v)
    return order


def test_hash_is_invariant_to_vertex_permutation(cells30):
    rng = np.random.default_rng(0)
    checked = 0
    for md5, (fixed, _) in cells30.items():
        matrix, ops = fixed["module_adjacency"], fixed["module_operations"]
        for _ in range(5):
            order = random_topological_order(matrix, rng)  # a renumbering that keeps the matrix upper-triangular
            permuted = matrix[np.ix_(order, order)]
            assert cell_hash(permuted, [ops[i] for i in order]) == md5
            checked += order != list(range(len(ops)))
    assert checked >= 30  # non-identity renumberings were actually tried


def test_pruning_removes_vertices_off_the_input_output_paths():
    ops = ["input", "conv3x3-bn-relu", "maxpool3x3", "conv1x1-bn-relu", "output"]
    m = np.zeros((5, 5), dtype=int)
    m[0, 1] = m[1, 4] = 1  # the main path
    m[0, 2] = 1  # vertex 2: a dead end (no way to the output)
    m[3, 4] = 1  # vertex 3: unreachable from the input
    pm, pops = prune(m, ops)
    assert pops == ["input", "conv3x3-bn-relu", "output"] and pm.tolist() == [[0, 1, 0], [0, 0, 1], [0, 0, 0]]
    # pruned-away vertices do not change the hash
    assert cell_hash(m, ops) == cell_hash(pm, pops)


@pytest.mark.parametrize("matrix, ops, message", [
    ([[0, 1], [1, 0]], ["input", "output"], "upper-triangular"),
    ([[0, 0], [0, 0]], ["input", "output"], "not reachable"),
    (np.triu(np.ones((8, 8), dtype=int), 1), ["input"] + ["conv3x3-bn-relu"] * 6 + ["output"], "at most 7"),
    (np.triu(np.ones((6, 6), dtype=int), 1), ["input"] + ["maxpool3x3"] * 4 + ["output"], "15 edges"),
    ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv5x5", "output"], "unknown op"),
    ([[0, 1], [0, 0]], ["output", "input"], "first op must be 'input'"),
])
def test_invalid_cells_are_named(matrix, ops, message):
    with pytest.raises(InvalidCellError, match=message):
        validate(np.asarray(matrix), ops)

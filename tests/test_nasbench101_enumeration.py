"""Enumeration of the NB101 cells: agrees with brute force on small cells, the whole space has
423,624 isomorphism classes, every cell is valid, pruned and canonical; the cache file."""
import itertools

import numpy as np
import pytest

from naslib_agnet.spaces import nasbench101_enumeration as enum
from naslib_agnet.spaces.nasbench101 import NB101_OPS, InvalidCellError, canonical_cell, cell_hash, prune, validate


def brute_force_hashes(max_vertices, max_edges):
    """Hash every upper-triangular matrix x labeling of up to ``max_vertices`` vertices that is valid."""
    found = set()
    for n in range(2, max_vertices + 1):
        edges = [(u, v) for v in range(1, n) for u in range(v)]
        for bits in range(2 ** len(edges)):
            m = np.zeros((n, n), dtype=int)
            for i, (u, v) in enumerate(edges):
                m[u, v] = (bits >> i) & 1
            try:
                pm, _ = prune(m, ["input"] + ["maxpool3x3"] * (n - 2) + ["output"])
            except InvalidCellError:
                continue
            if pm.shape[0] != n or pm.sum() > max_edges:  # smaller cells are met with fewer vertices
                continue
            for labels in itertools.product(NB101_OPS, repeat=n - 2):
                found.add(cell_hash(m, ["input", *labels, "output"]))
    return found


@pytest.fixture(scope="module")
def small():
    return enum.enumerate_cells(5, progress=False)


@pytest.mark.parametrize("max_vertices, max_edges", [(4, 9), (5, 9), (5, 5)])
def test_agrees_with_brute_force(max_vertices, max_edges):
    cells = enum.enumerate_cells(max_vertices, max_edges, progress=False)
    expected = brute_force_hashes(max_vertices, max_edges)
    assert {h.decode() for h in cells.hex_hashes()} == expected
    assert len(cells) == cells.num_classes == len(expected)


def test_every_cell_is_valid_pruned_canonical_and_hashed_right(small):
    assert len(small) == 1 + 6 + 84 + 2441  # isomorphism classes of 2, 3, 4, 5 vertices
    for i in range(len(small)):
        matrix, ops = small.cell(i)
        vm, vops = validate(matrix, ops)  # raises if invalid
        assert vm.shape == matrix.shape  # nothing to prune
        cm, cops = canonical_cell(matrix, ops)
        assert cm.tolist() == matrix.tolist() and cops == ops
        assert cell_hash(matrix, ops) == small.hash_at(i)


def test_hashes_sorted_and_unique_and_lookup(small):
    hexes = small.hex_hashes()
    assert (hexes[1:] > hexes[:-1]).all()
    some = small.hash_at(100)
    assert small.find(some) == 100 and small.find(some.upper()) == 100 and some in small
    matrix, ops = small.lookup(some)
    assert cell_hash(matrix, ops) == some
    missing = "0" * 32
    assert small.find(missing) is None and missing not in small
    with pytest.raises(KeyError, match=missing):
        small.index_of(missing)


def test_whole_space_has_423624_isomorphism_classes():
    """The structural part of the enumeration (no hashing): classes per vertex count."""
    per_n = {}
    for task in enum._tasks(7, 9):
        per_n[task.n] = per_n.get(task.n, 0) + len(task.labelings)
    assert per_n == {2: 1, 3: 6, 4: 84, 5: 2441, 6: 62010, 7: 359082}
    assert sum(per_n.values()) == enum.NB101_NUM_CELLS == 423_624


def test_parallel_hashing_gives_the_same_table(small):
    twice = enum.enumerate_cells(5, progress=False, processes=2)
    assert np.array_equal(twice.hashes, small.hashes) and np.array_equal(twice.codes, small.codes)
    assert np.array_equal(twice.ops, small.ops) and np.array_equal(twice.num_vertices, small.num_vertices)


# -- the cache ---------------------------------------------------------------------------


def test_cache_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("NASLIB_AGNET_CACHE", str(tmp_path / "a"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "b"))
    assert enum.cache_dir() == tmp_path / "a"
    monkeypatch.delenv("NASLIB_AGNET_CACHE")
    assert enum.cache_dir() == tmp_path / "b" / "naslib-agnet"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert enum.cache_dir().parts[-2:] == (".cache", "naslib-agnet")


def test_save_load_round_trip(small, tmp_path):
    path = tmp_path / "cells.npz"
    small.save(path)
    back = enum.Nb101Cells.load(path)
    for name in ("codes", "num_vertices", "ops", "hashes"):
        assert np.array_equal(getattr(back, name), getattr(small, name))
    assert back.lookup(small.hash_at(7))[1] == small.cell(7)[1]
    with pytest.raises(enum.CacheError, match="expected 423,624"):
        enum.Nb101Cells.load(path, expected=enum.NB101_NUM_CELLS)


def test_corrupt_cache_is_named(small, tmp_path):
    path = tmp_path / "cells.npz"
    small.save(path)
    good = path.read_bytes()
    path.write_bytes(good[:1000])  # truncated
    with pytest.raises(enum.CacheError, match=f"{path}.*unreadable.*delete"):
        enum.Nb101Cells.load(path)
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0xFF  # one damaged byte inside the compressed data
    path.write_bytes(bytes(flipped))
    with pytest.raises(enum.CacheError, match="unreadable"):
        enum.Nb101Cells.load(path)


def test_load_cells_builds_caches_and_rebuilds_a_corrupt_file(small, tmp_path, monkeypatch, capsys):
    calls = []

    def fake_enumerate(**kwargs):
        calls.append(kwargs)
        return small

    monkeypatch.setattr(enum, "enumerate_cells", fake_enumerate)
    monkeypatch.setattr(enum, "NB101_NUM_CELLS", len(small))
    monkeypatch.setattr(enum, "_LOADED", {})
    first = enum.load_cells(tmp_path, progress=False)
    path = tmp_path / enum.CACHE_FILE_NAME
    assert path.is_file() and len(calls) == 1 and len(first) == len(small)
    monkeypatch.setattr(enum, "_LOADED", {})
    again = enum.load_cells(tmp_path, progress=False)  # from the file
    assert len(calls) == 1 and np.array_equal(again.hashes, small.hashes)
    assert enum.load_cells(tmp_path, progress=False) is again  # kept in memory
    monkeypatch.setattr(enum, "_LOADED", {})
    path.write_bytes(b"not a zip file")
    rebuilt = enum.load_cells(tmp_path, progress=False)
    assert len(calls) == 2 and len(rebuilt) == len(small)
    err = capsys.readouterr().err
    assert str(path) in err and "Rebuilding" in err
    assert len(enum.Nb101Cells.load(path)) == len(small)  # the rebuilt file is good


def test_code_matrix_round_trip():
    m = np.zeros((7, 7), dtype=int)
    m[0, 1] = m[1, 6] = m[2, 5] = 1
    code = enum.matrix_to_code(m)
    assert code == (1 << 0) + (1 << (6 * 5 // 2 + 1)) + (1 << (5 * 4 // 2 + 2))
    assert enum.code_to_matrix(code, 7).tolist() == m.tolist()


def test_random_large_cells_canonicalise_into_the_enumeration():
    """6- and 7-vertex cells drawn at random: their canonical form is an enumerated representative."""
    reps = {(t.n, t.code, tuple(lab)) for t in enum._tasks(7, 9) if t.n >= 6 for lab in t.labelings.tolist()}
    rng = np.random.default_rng(1)
    checked = 0
    while checked < 300:
        n = int(rng.integers(6, 8))
        m = np.triu(rng.random((n, n)) < 0.4, 1).astype(int)
        ops = ["input", *rng.choice(NB101_OPS, n - 2), "output"]
        try:
            cm, cops = canonical_cell(m, ops)
        except InvalidCellError:
            continue
        if cm.shape[0] < 6:
            continue
        labels = tuple(NB101_OPS.index(op) for op in cops[1:-1])
        assert (cm.shape[0], enum.matrix_to_code(cm), labels) in reps
        checked += 1

"""NB101 oracles: NASLib's nasbench_only108.pkl format and the 20,001-cell sub-benchmark."""
import copy
import csv
import pickle

import numpy as np
import pytest

from naslib_agnet.benchmarks import BenchmarkDataError
from naslib_agnet.benchmarks.nasbench101 import (
    Nb101Oracle,
    load_nb101_20k_oracle,
    load_nb101_oracle,
    load_nb101_pickle_oracle,
)
from naslib_agnet.spaces import nasbench101_enumeration as enum
from naslib_agnet.spaces.nasbench101 import NasBench101Codec, cell_hash, spec_to_tuple

CODEC = NasBench101Codec()
PKL = "nasbench_only108_30archs.pkl"
COLUMNS = ["4_final_validation_accuracy", "12_final_validation_accuracy", "36_final_validation_accuracy",
           "108_final_validation_accuracy", "final_training_time", "trainable_parameters", "nb101_hash"]


@pytest.fixture(scope="module")
def pkl_path(data_dir):
    return data_dir / "nasbench101" / PKL


@pytest.fixture(scope="module")
def raw30(pkl_path):
    with open(pkl_path, "rb") as fh:
        return pickle.load(fh)


@pytest.fixture(scope="module")
def small_cells():
    return enum.enumerate_cells(5, progress=False)


# -- NASLib's pickle ------------------------------------------------------------------------


def test_pickle_oracle_on_the_30_real_cells(pkl_path, raw30, data_dir):
    oracle = load_nb101_oracle(data_dir, "pickle")
    assert isinstance(oracle, Nb101Oracle) and len(oracle) == 30
    assert oracle.source == str(pkl_path.absolute())
    rng = np.random.default_rng(0)
    for md5, (fixed, computed) in raw30.items():
        runs = computed[108]
        key = spec_to_tuple(fixed["module_adjacency"], fixed["module_operations"])
        got = oracle.query(key)
        assert got["val_acc"] == pytest.approx(100 * np.mean([r["final_validation_accuracy"] for r in runs]))
        assert got["test_acc"] == pytest.approx(100 * np.mean([r["final_test_accuracy"] for r in runs]))
        assert got["params"] == fixed["trainable_parameters"]
        assert oracle.query_hash(md5) == got and oracle.key_of_hash(md5) == key
        # any numbering of the cell finds it
        n = len(fixed["module_operations"])
        while True:
            p = [0, *(1 + rng.permutation(n - 2)).tolist(), n - 1]
            m = fixed["module_adjacency"][np.ix_(p, p)]
            if not np.tril(m).any():
                break
        other = spec_to_tuple(m, [fixed["module_operations"][i] for i in p])
        assert other in oracle and oracle.query(other) == got


def test_pickle_oracle_names_a_missing_cell(pkl_path):
    oracle = load_nb101_pickle_oracle(pkl_path)
    key = CODEC.from_spec((np.array([[0, 1], [0, 0]]), ["input", "output"]))
    md5 = cell_hash(np.array([[0, 1], [0, 0]]), ["input", "output"])
    assert key not in oracle
    with pytest.raises(BenchmarkDataError, match=f"{md5} is not in table.*only 30 of the 423,624"):
        oracle.query(key)
    with pytest.raises(BenchmarkDataError, match="not a valid NB101 cell"):
        oracle.query((0, 1, 1, 0, 0, 1))


def test_bad_pickles(tmp_path, raw30):
    garbage = tmp_path / "garbage.pkl"
    garbage.write_bytes(b"\x80\x04not a pickle")
    with pytest.raises(BenchmarkDataError, match=f"{garbage}.*cannot be unpickled.*nasbench_only108"):
        load_nb101_pickle_oracle(garbage)
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(pickle.dumps(print))
    with pytest.raises(BenchmarkDataError, match="refusing to load object builtins.print"):
        load_nb101_pickle_oracle(evil)
    layout = tmp_path / "layout.pkl"
    layout.write_bytes(pickle.dumps({"ab": {"module_adjacency": 1}}))
    with pytest.raises(BenchmarkDataError, match="'ab' does not have the expected layout"):
        load_nb101_pickle_oracle(layout)
    wrong = dict(raw30)
    md5 = next(iter(wrong))
    wrong["0" * 32] = wrong.pop(md5)
    bad_hash = tmp_path / "hash.pkl"
    bad_hash.write_bytes(pickle.dumps(wrong))
    with pytest.raises(BenchmarkDataError, match=f"the stored cell hashes to {md5}"):
        load_nb101_pickle_oracle(bad_hash)
    with pytest.raises(BenchmarkDataError, match="does not exist"):
        load_nb101_pickle_oracle(tmp_path / "absent.pkl")


@pytest.mark.parametrize("field, value, expected", [
    ("final_validation_accuracy", 1.5, "a validation accuracy as a fraction (percent / 100) in [0, 1]"),
    ("final_validation_accuracy", -0.05, "a validation accuracy as a fraction (percent / 100) in [0, 1]"),
    ("final_test_accuracy", 93.2, "a test accuracy as a fraction (percent / 100) in [0, 1]"),
    ("final_training_time", -1.0, "a training time in seconds >= 0"),
    ("trainable_parameters", -5.0, "a parameter count >= 0"),
])
def test_pickle_values_out_of_range(tmp_path, raw30, field, value, expected):
    data = copy.deepcopy(raw30)
    md5 = list(data)[7]
    fixed, computed = data[md5]
    if field == "trainable_parameters":
        fixed[field] = int(value)
        what = f"'{field}'"
    else:
        computed[108][1][field] = value
        what = f"'{field}' of run 1"
    path = tmp_path / "bad_range.pkl"
    path.write_bytes(pickle.dumps(data))
    with pytest.raises(BenchmarkDataError) as info:
        load_nb101_pickle_oracle(path)
    msg = str(info.value)
    assert f"{path}: entry {md5!r}: {what} has value {value!r}, out of range: expected {expected}." in msg
    assert "replace it with NASLib's original nasbench_only108.pkl" in msg


# -- the 20,001-cell sub-benchmark --------------------------------------------------------


def write_csv(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        writer.writerows(rows)


def test_20k_rows_join_to_their_cells(data_dir, small_cells, tmp_path):
    """The real csv rows whose cells have at most 5 vertices, joined through the enumeration."""
    with open(data_dir / "nasbench101" / "nb101_20k_val.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["nb101_hash"] in small_cells]
    assert len(rows) > 50
    write_csv(tmp_path / "nasbench101" / "nb101_20k_val.csv", [[r[c] for c in COLUMNS] for r in rows])
    oracle = load_nb101_20k_oracle(tmp_path, cells=small_cells)
    assert len(oracle) == len(rows) and "test_acc" not in oracle.metric_names
    for key, row in zip(oracle.keys(), rows):
        assert cell_hash(*_spec(key)) == row["nb101_hash"]
        got = oracle.query(key)
        assert got["val_acc"] == pytest.approx(100 * float(row["108_final_validation_accuracy"]))
        assert got["val_acc_4ep"] == pytest.approx(100 * float(row["4_final_validation_accuracy"]))
    outside = next(small_cells.hash_at(i) for i in range(len(small_cells))
                   if small_cells.hash_at(i) not in set(oracle.hashes))
    outside_key = spec_to_tuple(*small_cells.lookup(outside))
    assert outside_key not in oracle
    with pytest.raises(BenchmarkDataError, match=f"{outside} is not in table 'nasbench101/20k-subset'.*sub-benchmark"):
        oracle.query(outside_key)


def _spec(key):
    spec = CODEC.to_spec(key)
    return spec["matrix"], spec["ops"]


def test_auto_source_uses_the_20k_table_without_the_full_pickle(small_cells, tmp_path, monkeypatch):
    md5 = small_cells.hash_at(3)
    write_csv(tmp_path / "nasbench101" / "nb101_20k_val.csv", [[0.1, 0.2, 0.3, 0.9, 100.0, 1000, md5]])
    monkeypatch.setattr(enum, "load_cells", lambda *a, **k: small_cells)
    oracle = load_nb101_oracle(tmp_path)
    assert oracle.name == "nasbench101/20k-subset" and oracle.query_hash(md5)["val_acc"] == pytest.approx(90.0)


@pytest.mark.parametrize("rows, message", [
    ([[0.1, 0.2, 0.3, 0.9, 100.0, 1000, "xyz"]], "is not a 32-digit md5"),
    ([[0.1, 0.2, "n/a", 0.9, 100.0, 1000, "HASH"]], "non-numeric or missing value"),
    ([[0.1, 0.2, 0.3, 0.9, 100.0, 1000, "HASH"]] * 2, "1 duplicate nb101_hash"),
    ([[0.1, 0.2, 0.3, 0.9, 100.0, 1000, "f" * 32]], "hash f{32} is not the hash of any NB101 cell"),
    ([], "has no rows"),
])
def test_bad_20k_tables(small_cells, tmp_path, rows, message):
    rows = [[small_cells.hash_at(0) if v == "HASH" else v for v in r] for r in rows]
    write_csv(tmp_path / "nasbench101" / "nb101_20k_val.csv", rows)
    with pytest.raises(BenchmarkDataError, match=f"nb101_20k_val.csv.*{message}"):
        load_nb101_20k_oracle(tmp_path, cells=small_cells)


@pytest.mark.parametrize("column, value, expected", [
    ("108_final_validation_accuracy", "1.5", "a validation accuracy as a fraction (percent / 100) in [0, 1]"),
    ("108_final_validation_accuracy", "93.05", "a validation accuracy as a fraction (percent / 100) in [0, 1]"),
    ("4_final_validation_accuracy", "-0.1", "a validation accuracy as a fraction (percent / 100) in [0, 1]"),
    ("final_training_time", "-100.0", "a training time in seconds >= 0"),
    ("trainable_parameters", "-1", "a parameter count >= 0"),
])
def test_20k_values_out_of_range(small_cells, tmp_path, column, value, expected):
    good = [0.1, 0.2, 0.3, 0.9, 100.0, 1000]
    rows = [good + [small_cells.hash_at(i)] for i in range(3)]
    rows[1][COLUMNS.index(column)] = value
    path = tmp_path / "nasbench101" / "nb101_20k_val.csv"
    write_csv(path, rows)
    with pytest.raises(BenchmarkDataError) as info:
        load_nb101_20k_oracle(tmp_path, cells=small_cells)
    msg = str(info.value)
    assert f"{path}, line 3: column {column!r} has value {value!r}, out of range: expected {expected}." in msg
    assert "replace it with an intact copy of nb101_20k_val.csv" in msg


def test_missing_data_is_named(tmp_path, small_cells):
    with pytest.raises(BenchmarkDataError, match="does not exist; pass --data-dir"):
        load_nb101_oracle(tmp_path / "nowhere")
    with pytest.raises(BenchmarkDataError, match="no nb101_20k_val.csv in"):
        load_nb101_20k_oracle(tmp_path, cells=small_cells)
    with pytest.raises(BenchmarkDataError, match="no NASLib NB101 pickle"):
        load_nb101_oracle(tmp_path, "pickle")
    (tmp_path / "nasbench101").mkdir()
    (tmp_path / "nasbench101" / "nb101_20k_val.csv").write_text("a,b\n1,2\n")
    with pytest.raises(BenchmarkDataError, match="lacks the column"):
        load_nb101_20k_oracle(tmp_path, cells=small_cells)

"""Tests of the NAS-Bench-201 oracle (naslib_agnet.benchmarks).

The real-data tests read the data folder from ``NASLIB_AGNET_DATA`` (default:
``<repo root>/../shared/data``). If that folder is missing they FAIL: the oracle must be
checked against real numbers, never skipped.
"""

from __future__ import annotations

import csv
import itertools
import pickle
from pathlib import Path

import numpy as np
import pytest

from naslib_agnet.benchmarks import (
    NB201_DATASETS,
    BenchmarkDataError,
    TabularOracle,
    load_nb201_oracle,
    nb201_arch_str_to_op_indices,
    nb201_op_indices_to_arch_str,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
NB201_CSV_REL = Path("nasbench201") / "nb201_accuracies.csv"

EXPECTED_MAX_VAL = {"cifar10": 91.57, "cifar100": 73.26, "ImageNet16-120": 47.33}
EXPECTED_MAX_TEST = {"cifar10": 94.37, "cifar100": 73.51, "ImageNet16-120": 47.31}
TOL = 0.005

ROW0_KEY = (4, 3, 3, 0, 0, 0)
ROW0_ARCH_STR = (
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+"
    "|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
)


# --------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def csv_path(data_dir: Path) -> Path:
    return data_dir / NB201_CSV_REL


@pytest.fixture(scope="module")
def csv_lines(csv_path: Path) -> list[str]:
    """The real csv as text lines (header first), with line endings kept."""
    return csv_path.read_text(encoding="utf-8").splitlines(keepends=True)


@pytest.fixture(scope="module")
def oracles(data_dir: Path) -> dict[str, TabularOracle]:
    return {ds: load_nb201_oracle(data_dir, ds) for ds in NB201_DATASETS}


def _write_csv_dir(tmp_path: Path, lines: list[str]) -> Path:
    """Write ``lines`` as ``tmp_path/nasbench201/nb201_accuracies.csv``; return the file."""
    target = tmp_path / NB201_CSV_REL
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(lines), encoding="utf-8")
    return target


def _replace_field(line: str, header: list[str], column: str, value: str) -> str:
    fields = next(csv.reader([line]))
    fields[header.index(column)] = value
    return ",".join(fields) + "\n"


def _naslib_entry(ds_key: str, final_acc: float) -> dict:
    curve = [final_acc - 10.0, final_acc - 1.0, final_acc]
    return {
        ds_key: {
            "train_losses": [2.0, 1.0, 0.5],
            "eval_losses": [2.1, 1.1, 0.6],
            "train_acc1es": [50.0, 80.0, 99.0],
            "eval_acc1es": curve,
            "cost_info": {"flops": 1.0, "params": 0.1, "latency": 0.01, "train_time": 10.0},
        }
    }


# --------------------------------------------------------------------------------------
# Real data
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("dataset", NB201_DATASETS)
def test_full_table_loaded(oracles: dict[str, TabularOracle], dataset: str) -> None:
    oracle = oracles[dataset]
    assert len(oracle) == 15_625
    assert oracle.metric_names == ["val_acc", "test_acc"]
    assert set(oracle.keys()) == set(itertools.product(range(5), repeat=6))
    for metric in ("val_acc", "test_acc"):
        values = oracle.values(metric)
        assert values.dtype == np.float64 and values.shape == (15_625,)
        assert np.all(np.isfinite(values))
    assert set(oracle.splits) == {"val_acc", "test_acc"}


@pytest.mark.parametrize("dataset", NB201_DATASETS)
def test_table_maxima(oracles: dict[str, TabularOracle], dataset: str) -> None:
    oracle = oracles[dataset]
    best_val_key, best_val = oracle.best("val_acc")
    best_test_key, best_test = oracle.best("test_acc")
    assert best_val == pytest.approx(EXPECTED_MAX_VAL[dataset], abs=TOL)
    assert best_test == pytest.approx(EXPECTED_MAX_TEST[dataset], abs=TOL)
    assert oracle.query(best_val_key)["val_acc"] == best_val
    assert oracle.query(best_test_key)["test_acc"] == best_test
    worst_key, worst = oracle.best("val_acc", maximize=False)
    assert worst == float(oracle.values("val_acc").min())
    assert oracle.query(worst_key)["val_acc"] == worst


def test_query_row0(oracles: dict[str, TabularOracle]) -> None:
    oracle = oracles["cifar10"]
    result = oracle.query(ROW0_KEY)
    assert result == {
        "val_acc": pytest.approx(81.90, abs=1e-9),
        "test_acc": pytest.approx(85.8633, abs=1e-9),
    }
    assert oracle.keys()[0] == ROW0_KEY
    # numpy integers, lists and arrays are accepted as keys
    assert oracle.query(tuple(np.int64(v) for v in ROW0_KEY)) == result
    assert oracle.query(np.array(ROW0_KEY)) == result
    assert oracle.query(list(ROW0_KEY)) == result
    assert ROW0_KEY in oracle and np.array(ROW0_KEY, dtype=np.int32) in oracle
    assert (5, 0, 0, 0, 0, 0) not in oracle and "4-3-3-0-0-0" not in oracle


def test_imagenet16_alias(data_dir: Path, oracles: dict[str, TabularOracle]) -> None:
    alias = load_nb201_oracle(str(data_dir), "ImageNet16")
    assert alias.query(ROW0_KEY) == oracles["ImageNet16-120"].query(ROW0_KEY)


def test_csv_directly_in_data_dir(tmp_path: Path, csv_lines: list[str]) -> None:
    (tmp_path / "nb201_accuracies.csv").write_text("".join(csv_lines), encoding="utf-8")
    oracle = load_nb201_oracle(tmp_path, "cifar100")
    assert len(oracle) == 15_625
    assert oracle.source == str(tmp_path / "nb201_accuracies.csv")


def test_arch_str_round_trip_matches_csv(csv_path: Path) -> None:
    with csv_path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 15_625
    for row in rows:
        key = tuple(int(v) for v in row["naslib_op_indices"].split("-"))
        assert nb201_op_indices_to_arch_str(key) == row["arch_str"]
        assert nb201_arch_str_to_op_indices(row["arch_str"]) == key
    assert nb201_op_indices_to_arch_str(ROW0_KEY) == ROW0_ARCH_STR


def test_arch_str_round_trip_all_keys() -> None:
    strings = set()
    for key in itertools.product(range(5), repeat=6):
        arch_str = nb201_op_indices_to_arch_str(key)
        assert nb201_arch_str_to_op_indices(arch_str) == key
        strings.add(arch_str)
    assert len(strings) == 15_625


def test_naslib_notes_example() -> None:
    # the example from NASLib's conversions (edge order differs between the two forms)
    assert nb201_op_indices_to_arch_str((4, 3, 3, 3, 2, 3)) == (
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+"
        "|nor_conv_1x1~0|nor_conv_3x3~1|nor_conv_1x1~2|"
    )


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|",  # two nodes only
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|conv~2|",
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~0|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
    ],
)
def test_arch_str_rejects_malformed(bad: str) -> None:
    with pytest.raises(ValueError, match="NB201 arch string"):
        nb201_arch_str_to_op_indices(bad)


@pytest.mark.parametrize(
    "bad",
    [(4, 3, 3, 0, 0), (5, 0, 0, 0, 0, 0), (-1, 0, 0, 0, 0, 0), (2.5, 0, 0, 0, 0, 0), "430000", None],
)
def test_op_indices_rejects_malformed(bad: object) -> None:
    with pytest.raises(ValueError, match="6 integers in 0..4"):
        nb201_op_indices_to_arch_str(bad)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------
# NASLib pickle format
# --------------------------------------------------------------------------------------

PICKLE_ARCHS = {
    ROW0_ARCH_STR: 81.9,
    nb201_op_indices_to_arch_str((2, 2, 0, 4, 2, 0)): 90.39,
    nb201_op_indices_to_arch_str((1, 1, 1, 1, 1, 1)): 10.0,
}


@pytest.mark.parametrize(
    ("dataset", "file_name", "ds_key", "subdir"),
    [
        ("cifar10", "nb201_cifar10_full_training.pickle", "cifar10-valid", ""),
        ("cifar100", "nb201_cifar100_full_training.pickle", "cifar100", "nasbench201"),
        ("ImageNet16-120", "nb201_ImageNet16_full_training.pickle", "ImageNet16-120", ""),
    ],
)
def test_naslib_pickle(
    tmp_path: Path, dataset: str, file_name: str, ds_key: str, subdir: str
) -> None:
    target = tmp_path / subdir / file_name
    target.parent.mkdir(parents=True, exist_ok=True)
    data = {arch: _naslib_entry(ds_key, acc) for arch, acc in PICKLE_ARCHS.items()}
    target.write_bytes(pickle.dumps(data))

    oracle = load_nb201_oracle(tmp_path, dataset)
    assert len(oracle) == 3
    assert oracle.source == str(target)
    assert oracle.metric_names == ["val_acc"]
    for arch_str, acc in PICKLE_ARCHS.items():
        result = oracle.query(nb201_arch_str_to_op_indices(arch_str))
        assert result == {"val_acc": pytest.approx(acc)}
        assert "test_acc" not in result
    assert "no test accuracy" in oracle.splits["val_acc"]
    assert oracle.best("val_acc") == ((2, 2, 0, 4, 2, 0), pytest.approx(90.39))
    with pytest.raises(BenchmarkDataError, match="test_acc") as info:
        oracle.values("test_acc")
    assert "no test accuracy" in str(info.value)

    # a key that is valid NB201 but absent from this partial table
    absent = (0, 0, 0, 0, 0, 0)
    with pytest.raises(BenchmarkDataError) as info:
        oracle.query(absent)
    msg = str(info.value)
    assert str(absent) in msg and str(target) in msg and "absent from the table" in msg


def test_pickle_with_numpy_values(tmp_path: Path) -> None:
    entry = _naslib_entry("cifar10-valid", 0.0)
    entry["cifar10-valid"]["eval_acc1es"] = np.array([10.0, 55.5])
    target = tmp_path / "nb201_cifar10_full_training.pickle"
    target.write_bytes(pickle.dumps({ROW0_ARCH_STR: entry}))
    assert load_nb201_oracle(tmp_path, "cifar10").query(ROW0_KEY) == {"val_acc": 55.5}


@pytest.mark.parametrize("bad_acc", [-5.0, 150.0])
def test_pickle_accuracy_out_of_range(tmp_path: Path, bad_acc: float) -> None:
    data = {arch: _naslib_entry("cifar10-valid", acc) for arch, acc in PICKLE_ARCHS.items()}
    data[ROW0_ARCH_STR]["cifar10-valid"]["eval_acc1es"][-1] = bad_acc
    path = tmp_path / "nb201_cifar10_full_training.pickle"
    path.write_bytes(pickle.dumps(data))
    with pytest.raises(BenchmarkDataError) as info:
        load_nb201_oracle(tmp_path, "cifar10")
    msg = str(info.value)
    assert str(path) in msg and repr(ROW0_ARCH_STR) in msg and "'cifar10-valid'" in msg
    assert "eval_acc1es[-1]" in msg and repr(bad_acc) in msg
    assert "accuracy in percent in [0, 100]" in msg and "replace it" in msg


def test_csv_preferred_over_pickle(tmp_path: Path, csv_lines: list[str]) -> None:
    _write_csv_dir(tmp_path, csv_lines)
    (tmp_path / "nb201_cifar10_full_training.pickle").write_bytes(b"garbage")
    oracle = load_nb201_oracle(tmp_path, "cifar10")
    assert oracle.metric_names == ["val_acc", "test_acc"]


# --------------------------------------------------------------------------------------
# Error cases
# --------------------------------------------------------------------------------------


def test_missing_data_dir(tmp_path: Path) -> None:
    missing = tmp_path / "does-not-exist"
    with pytest.raises(BenchmarkDataError) as info:
        load_nb201_oracle(missing, "cifar10")
    msg = str(info.value)
    assert str(missing) in msg and "does not exist" in msg
    assert "--data-dir" in msg and "nasbench201/nb201_accuracies.csv" in msg


def test_data_dir_without_files(tmp_path: Path) -> None:
    with pytest.raises(BenchmarkDataError) as info:
        load_nb201_oracle(tmp_path, "ImageNet16-120")
    msg = str(info.value)
    assert str(tmp_path / "nasbench201" / "nb201_accuracies.csv") in msg
    assert str(tmp_path / "nb201_accuracies.csv") in msg
    assert str(tmp_path / "nb201_ImageNet16_full_training.pickle") in msg
    assert str(tmp_path / "nasbench201" / "nb201_ImageNet16_full_training.pickle") in msg
    assert "--data-dir" in msg


def test_unknown_dataset(data_dir: Path) -> None:
    with pytest.raises(BenchmarkDataError) as info:
        load_nb201_oracle(data_dir, "svhn")
    msg = str(info.value)
    assert "'svhn'" in msg
    for ds in NB201_DATASETS:
        assert ds in msg


def test_csv_missing_column(tmp_path: Path) -> None:
    path = _write_csv_dir(
        tmp_path,
        [
            "nb201_index,arch_str,naslib_op_indices,cifar10_val_acc\n",
            f"0,{ROW0_ARCH_STR},4-3-3-0-0-0,81.9\n",
        ],
    )
    with pytest.raises(BenchmarkDataError) as info:
        load_nb201_oracle(tmp_path, "cifar10")
    msg = str(info.value)
    assert str(path) in msg and "'cifar10_test_acc'" in msg
    assert "columns found" in msg and "cifar10_val_acc" in msg
    assert "replace" in msg


def test_csv_malformed_op_indices(tmp_path: Path, csv_lines: list[str]) -> None:
    header = csv_lines[0].strip().split(",")
    lines = list(csv_lines)
    lines[49] = _replace_field(lines[49], header, "naslib_op_indices", "4-3-3-0-0")  # line 50
    path = _write_csv_dir(tmp_path, lines)
    with pytest.raises(BenchmarkDataError) as info:
        load_nb201_oracle(tmp_path, "cifar10")
    msg = str(info.value)
    assert str(path) in msg and "line 50" in msg and "'4-3-3-0-0'" in msg
    assert "4-3-3-0-0-0" in msg  # shows the expected format


@pytest.mark.parametrize("bad_value", ["abc", "nan", ""])
def test_csv_non_numeric_accuracy(tmp_path: Path, csv_lines: list[str], bad_value: str) -> None:
    header = csv_lines[0].strip().split(",")
    lines = list(csv_lines)
    lines[1233] = _replace_field(lines[1233], header, "cifar100_test_acc", bad_value)  # line 1234
    path = _write_csv_dir(tmp_path, lines)
    with pytest.raises(BenchmarkDataError) as info:
        load_nb201_oracle(tmp_path, "cifar100")
    msg = str(info.value)
    assert str(path) in msg and "line 1234" in msg
    assert repr(bad_value) in msg and "cifar100_test_acc" in msg and "finite accuracy" in msg
    # other datasets' columns are not affected
    assert len(load_nb201_oracle(tmp_path, "cifar10")) == 15_625


@pytest.mark.parametrize("column", ["cifar10_val_acc", "cifar10_test_acc"])
@pytest.mark.parametrize("bad_value", ["-5", "150", "100.01"])
def test_csv_accuracy_out_of_range(
    tmp_path: Path, csv_lines: list[str], column: str, bad_value: str
) -> None:
    header = csv_lines[0].strip().split(",")
    lines = list(csv_lines)
    lines[776] = _replace_field(lines[776], header, column, bad_value)  # line 777
    path = _write_csv_dir(tmp_path, lines)
    with pytest.raises(BenchmarkDataError) as info:
        load_nb201_oracle(tmp_path, "cifar10")
    msg = str(info.value)
    assert str(path) in msg and "line 777" in msg and repr(column) in msg
    assert repr(bad_value) in msg and "accuracy in percent in [0, 100]" in msg
    assert "replace it with an intact copy" in msg
    # other datasets' columns are not affected
    assert len(load_nb201_oracle(tmp_path, "cifar100")) == 15_625


@pytest.mark.parametrize("bound", ["0", "100", "0.0", "100.0"])
def test_csv_accuracy_bounds_are_accepted(tmp_path: Path, csv_lines: list[str], bound: str) -> None:
    header = csv_lines[0].strip().split(",")
    lines = list(csv_lines)
    lines[1] = _replace_field(lines[1], header, "cifar10_test_acc", bound)  # row 0
    _write_csv_dir(tmp_path, lines)
    assert load_nb201_oracle(tmp_path, "cifar10").query(ROW0_KEY)["test_acc"] == float(bound)


def test_csv_truncated(tmp_path: Path, csv_lines: list[str]) -> None:
    path = _write_csv_dir(tmp_path, csv_lines[:100])
    with pytest.raises(BenchmarkDataError) as info:
        load_nb201_oracle(tmp_path, "cifar10")
    msg = str(info.value)
    assert str(path) in msg and "read 99 rows" in msg and "15,625" in msg
    assert "complete NAS-Bench-201 table is required" in msg


def test_csv_duplicate_architecture(tmp_path: Path, csv_lines: list[str]) -> None:
    lines = list(csv_lines)
    lines[3] = lines[2]  # one architecture twice, another one missing
    path = _write_csv_dir(tmp_path, lines)
    with pytest.raises(BenchmarkDataError) as info:
        load_nb201_oracle(tmp_path, "cifar10")
    msg = str(info.value)
    assert str(path) in msg and "15,624 distinct" in msg and "1 duplicates" in msg


@pytest.mark.parametrize("content", ["", "\n"])
def test_csv_empty(tmp_path: Path, content: str) -> None:
    path = _write_csv_dir(tmp_path, [content])
    with pytest.raises(BenchmarkDataError) as info:
        load_nb201_oracle(tmp_path, "cifar10")
    assert str(path) in str(info.value) and "empty" in str(info.value)


def test_csv_header_only(tmp_path: Path, csv_lines: list[str]) -> None:
    path = _write_csv_dir(tmp_path, csv_lines[:1])
    with pytest.raises(BenchmarkDataError) as info:
        load_nb201_oracle(tmp_path, "cifar10")
    assert str(path) in str(info.value) and "read 0 rows" in str(info.value)


def test_corrupted_pickle(tmp_path: Path) -> None:
    path = tmp_path / "nb201_cifar10_full_training.pickle"
    path.write_bytes(pickle.dumps({ROW0_ARCH_STR: _naslib_entry("cifar10-valid", 80.0)})[:-20])
    with pytest.raises(BenchmarkDataError) as info:
        load_nb201_oracle(tmp_path, "cifar10")
    msg = str(info.value)
    assert str(path) in msg and "cannot be unpickled" in msg and "replace it" in msg


def test_pickle_refuses_code_objects(tmp_path: Path) -> None:
    path = tmp_path / "nb201_cifar10_full_training.pickle"
    path.write_bytes(pickle.dumps({ROW0_ARCH_STR: Path("x")}))
    with pytest.raises(BenchmarkDataError) as info:
        load_nb201_oracle(tmp_path, "cifar10")
    assert str(path) in str(info.value) and "refusing to load" in str(info.value)


def test_pickle_wrong_layout(tmp_path: Path) -> None:
    path = tmp_path / "nb201_cifar10_full_training.pickle"
    # cifar10 must be stored under 'cifar10-valid'
    path.write_bytes(pickle.dumps({ROW0_ARCH_STR: _naslib_entry("cifar10", 80.0)}))
    with pytest.raises(BenchmarkDataError) as info:
        load_nb201_oracle(tmp_path, "cifar10")
    msg = str(info.value)
    assert str(path) in msg and "'cifar10-valid'" in msg and "found ['cifar10']" in msg

    entry = _naslib_entry("cifar10-valid", 80.0)
    del entry["cifar10-valid"]["eval_acc1es"]
    path.write_bytes(pickle.dumps({ROW0_ARCH_STR: entry}))
    with pytest.raises(BenchmarkDataError) as info:
        load_nb201_oracle(tmp_path, "cifar10")
    assert str(path) in str(info.value) and "'eval_acc1es'" in str(info.value)

    path.write_bytes(pickle.dumps({"not-an-arch": _naslib_entry("cifar10-valid", 80.0)}))
    with pytest.raises(BenchmarkDataError) as info:
        load_nb201_oracle(tmp_path, "cifar10")
    assert str(path) in str(info.value) and "'not-an-arch'" in str(info.value)

    path.write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(BenchmarkDataError) as info:
        load_nb201_oracle(tmp_path, "cifar10")
    assert str(path) in str(info.value) and "holds a list" in str(info.value)


def test_query_absent_arch(oracles: dict[str, TabularOracle], csv_path: Path) -> None:
    oracle = oracles["cifar10"]
    for bad in [(9, 9, 9, 9, 9, 9), (4, 3, 3, 0, 0)]:
        with pytest.raises(BenchmarkDataError) as info:
            oracle.query(bad)
        msg = str(info.value)
        assert str(bad) in msg and str(csv_path) in msg and "absent from the table" in msg
        assert "get_hash()" in msg
    with pytest.raises(BenchmarkDataError, match="sequence of ints"):
        oracle.query("4-3-3-0-0-0")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------
# TabularOracle on its own
# --------------------------------------------------------------------------------------


def test_tabular_oracle_basics() -> None:
    oracle = TabularOracle(
        "toy",
        keys=[(0, 1), (np.int64(1), 0), (2, 2)],
        metrics={"acc": [1.0, 3.0, np.nan], "loss": np.array([0.5, 0.1, 0.2])},
        source="memory",
        splits={"acc": "toy accuracy"},
    )
    assert len(oracle) == 3 and oracle.keys() == [(0, 1), (1, 0), (2, 2)]
    assert all(type(v) is int for key in oracle.keys() for v in key)
    assert oracle.best("acc") == ((1, 0), 3.0)  # NaN (missing) is ignored
    assert oracle.best("loss", maximize=False) == ((1, 0), 0.1)
    assert oracle.query((0, 1)) == {"acc": 1.0, "loss": 0.5}
    values = oracle.values("acc")
    with pytest.raises(ValueError):
        values[0] = 5.0  # read-only
    with pytest.raises(BenchmarkDataError, match="no metric 'f1'"):
        oracle.values("f1")


def test_tabular_oracle_rejects_bad_tables() -> None:
    with pytest.raises(BenchmarkDataError, match="appears twice"):
        TabularOracle("t", keys=[(0,), (0,)], metrics={"a": [1.0, 2.0]}, source="src")
    with pytest.raises(BenchmarkDataError, match="one value per architecture"):
        TabularOracle("t", keys=[(0,), (1,)], metrics={"a": [1.0]}, source="src")
    with pytest.raises(BenchmarkDataError, match="invalid architecture key"):
        TabularOracle("t", keys=[(0.5,)], metrics={"a": [1.0]}, source="src")

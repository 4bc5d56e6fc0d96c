"""The NB101 search space of the runner on the real 20,001-cell sub-benchmark: sampling, mutation and
neighbourhoods stay inside the table, queries match it, test accuracy is missing (never invented);
AG-Net discards generated cells outside the table; the baselines and the shipped generator on NB101."""
import json
import math
from functools import partial

import numpy as np
import pytest
import torch

from naslib_agnet.baselines import Bananas, LocalSearch, Npenas, RandomSearch, RegularizedEvolution
from naslib_agnet.baselines.encodings_nb101 import (ADJACENCY_ENCODING_LENGTH, PATH_ENCODING_LENGTH,
                                                    encode_adjacency_one_hot, encode_paths)
from naslib_agnet.benchmarks import BenchmarkDataError, load_nb101_pickle_oracle
from naslib_agnet.bridge import AGNet, Metric, NasBench101Space, make_nb101_dataset_api
from naslib_agnet.bridge.nasbench101_space import nb101_dataset_api, neighbour_keys
from naslib_agnet.model import Generator
from naslib_agnet.search import AGNetSearch, AGNetSettings
from naslib_agnet.spaces import get_codec
from naslib_agnet.spaces.nasbench101 import cell_hash, spec_to_tuple, tuple_to_spec
from naslib_agnet.weights import load_generator, shipped_path

from .helpers import make_optimizer

CODEC = get_codec("nasbench101")


@pytest.fixture(scope="module")
def api(data_dir):
    return make_nb101_dataset_api(data_dir, "cifar10-20k")


@pytest.fixture(scope="module")
def oracle(api):
    return api["nb101_oracle"]


class Counting:
    """Forwards to the real NB101 table and counts its metric lookups."""

    def __init__(self, oracle):
        self.oracle, self.calls = oracle, 0

    def query(self, key):
        self.calls += 1
        return self.oracle.query(key)

    def __contains__(self, key):
        return key in self.oracle

    def __getattr__(self, name):
        return getattr(self.oracle, name)


class AllCells:
    """A stand-in table holding every NB101 cell (membership only), to see unrestricted neighbourhoods."""

    name = "all cells"

    def __len__(self):
        return 423_624

    def has_hash(self, md5):
        return True

    def key_of_hash(self, md5):
        return CODEC.from_cell_hash(md5)


# ------------------------------------------------------------------------------------------- datasets
def test_dataset_names_choose_the_table(data_dir, api, oracle, tmp_path):
    assert api["dataset"] == "cifar10-20k" and len(oracle) == 20_001 and "test_acc" not in oracle.metric_names
    # cifar10 means NASLib's full pickle: required, never replaced by the sub-benchmark
    with pytest.raises(BenchmarkDataError, match="nasbench_only108.pkl.*cifar10-20k"):
        make_nb101_dataset_api(data_dir, "cifar10")
    with pytest.raises(BenchmarkDataError, match="unknown nasbench101 dataset 'cifar100'.*cifar10-20k"):
        make_nb101_dataset_api(data_dir, "cifar100")
    with pytest.raises(BenchmarkDataError, match="nb101_20k_val.csv"):
        make_nb101_dataset_api(tmp_path, "cifar10-20k")


# ------------------------------------------------------------------------------------------ the space
def test_sampling_draws_table_cells_in_naslib_tuple_form(api, oracle):
    np.random.seed(0)
    hashes = set()
    for _ in range(300):
        arch = NasBench101Space()
        arch.sample_random_architecture(dataset_api=api)
        key = arch.get_hash()
        assert key in oracle and CODEC.canonical(key) == key
        matrix, ops = tuple_to_spec(key)
        assert spec_to_tuple(matrix, ops) == key and ops[0] == "input" and ops[-1] == "output"
        assert arch.get_arch_str() == cell_hash(matrix, ops)
        hashes.add(arch.get_arch_str())
    assert len(hashes) > 290  # uniform over 20,001 cells
    np.random.seed(0)
    again = NasBench101Space()
    again.sample_random_architecture(dataset_api=api)
    first = NasBench101Space()
    np.random.seed(0)
    first.sample_random_architecture(dataset_api=api)
    assert again.get_hash() == first.get_hash()  # numpy's global RNG, as NASLib


def test_set_spec_accepts_naslib_forms(api, oracle):
    key = oracle.keys()[123]
    matrix, ops = tuple_to_spec(key)
    n = len(ops)
    # NASLib's unpruned 7 x 7 spec: the cell plus a dangling vertex before the output
    big = np.zeros((7, 7), dtype=int)
    big[: n - 1, : n - 1] = matrix[: n - 1, : n - 1]
    big[: n - 1, 6] = matrix[: n - 1, n - 1]
    if n < 7:
        big[0, 5] = 1  # a vertex fed by the input that reaches no output: pruned away
    big_ops = ops[:-1] + ["maxpool3x3"] * (7 - n) + ["output"]
    forms = [key, {"matrix": big, "ops": big_ops}, spec_to_tuple(big, big_ops), oracle.hashes[123]]
    for form in forms:
        arch = NasBench101Space()
        arch.set_spec(form, dataset_api=api)
        assert arch.get_hash() == key
    spec = NasBench101Space(key).get_spec()
    assert (spec["matrix"] == matrix).all() and spec["ops"] == ops
    with pytest.raises(ValueError):
        NasBench101Space().set_spec("0" * 32)
    with pytest.raises(ValueError, match="no architecture yet"):
        NasBench101Space().get_hash()


def test_query_matches_the_table_and_test_accuracy_is_missing(api, oracle):
    for row in (0, 777, 20_000):
        key = oracle.keys()[row]
        arch = NasBench101Space(key)
        values = oracle.query(key)
        assert arch.query(Metric.VAL_ACCURACY, "cifar10-20k", dataset_api=api) == values["val_acc"]
        assert arch.query(Metric.VAL_ACCURACY, dataset_api=api, epoch=108) == values["val_acc"]
        assert arch.query(Metric.VAL_ACCURACY, dataset_api=api, epoch=12) == values["val_acc_12ep"]
        assert math.isnan(arch.query(Metric.TEST_ACCURACY, "cifar10-20k", dataset_api=api))
        assert arch.query(Metric.TRAIN_TIME, dataset_api=api) == values["train_time"]
        assert arch.query(Metric.PARAMETERS, dataset_api=api) == values["params"]
        assert arch.query(Metric.RAW, dataset_api=api) == values
        assert arch.query(Metric.TRAIN_ACCURACY, dataset_api=api) == -1
    with pytest.raises(ValueError, match="cannot answer a query for dataset 'cifar10'"):
        arch.query(Metric.VAL_ACCURACY, "cifar10", dataset_api=api)


def test_query_outside_the_table_names_the_cell(api, oracle):
    # a cell one op change away from a table cell that the table does not hold
    key = oracle.keys()[5]
    outside = next(k for k in neighbour_keys(key, AllCells()) if k not in oracle)
    with pytest.raises(BenchmarkDataError, match=f"{CODEC.cell_hash(outside)}.*sub-benchmark"):
        NasBench101Space(outside).query(Metric.VAL_ACCURACY, dataset_api=api)


def test_full_format_answers_test_accuracy(data_dir):
    small = load_nb101_pickle_oracle(data_dir / "nasbench101" / "nasbench_only108_30archs.pkl")
    api = nb101_dataset_api(small)
    for key in small.keys():
        arch = NasBench101Space(key)
        assert arch.query(Metric.TEST_ACCURACY, "cifar10", dataset_api=api) == small.query(key)["test_acc"]
    np.random.seed(1)
    arch = NasBench101Space()
    arch.sample_random_architecture(dataset_api=api)
    assert arch.get_hash() in small


def test_mutations_stay_in_the_table_and_change_the_cell(api, oracle):
    np.random.seed(3)
    parent = NasBench101Space()
    parent.sample_random_architecture(dataset_api=api)
    children = set()
    for _ in range(60):
        child = NasBench101Space()
        child.mutate(parent, dataset_api=api)
        assert child.get_hash() in oracle and CODEC.canonical(child.get_hash()) == child.get_hash()
        assert child.get_arch_str() != parent.get_arch_str()
        children.add(child.get_hash())
        parent = child
    assert len(children) > 1
    # many different children of one 7-vertex parent
    parent = NasBench101Space(next(k for k in oracle.keys() if len(k) == 56))
    kids = set()
    for _ in range(40):
        child = NasBench101Space()
        child.mutate(parent, dataset_api=api)
        kids.add(child.get_hash())
    assert len(kids) > 10


def test_neighbourhood_is_the_table_part_of_the_one_edit_neighbourhood(api, oracle):
    np.random.seed(4)
    sizes = []
    for row in np.random.choice(len(oracle), 40, replace=False):
        key = oracle.keys()[row]
        full = neighbour_keys(key, AllCells())
        matrix, ops = tuple_to_spec(key)
        n = len(ops)
        assert len(full) <= 2 * (n - 2) + n * (n - 1) // 2 and len(full) >= 2 * (n - 2)  # op changes always valid
        assert len({CODEC.cell_hash(k) for k in full}) == len(full) and key not in full
        nbhd = NasBench101Space(key).get_nbhd(dataset_api=api)
        got = [m.arch.get_hash() for m in nbhd]
        assert sorted(got) == sorted(k for k in full if k in oracle)
        sizes.append(len(got))
    assert sum(sizes) > 0  # some cells have table neighbours; many have none on the sub-benchmark


# ------------------------------------------------------------------------------------------- AG-Net
def test_candidate_filter_discards_cells_outside_the_table(oracle):
    state, cfg = load_generator("nasbench101", "default")
    search = AGNetSearch(CODEC, AGNetSettings.build(space="nasbench101", loop={"retrain_epochs": 1, "max_chunks": 3}), generator_state=state,
                         generator_config=cfg, seed=0, candidate_filter=oracle.__contains__)
    rng = np.random.default_rng(0)
    for row in rng.choice(len(oracle), 16, replace=False):
        key = oracle.keys()[row]
        search.observe(key, oracle.query(key)["val_acc"])
    proposed = search.propose()
    assert proposed and all(arch in oracle for arch in proposed)
    assert all(arch in oracle for arch, _ in search.last_candidates)
    assert search.timings.filtered > 0  # most generated cells lie outside the 20,001
    reject_all = AGNetSearch(CODEC, AGNetSettings.build(space="nasbench101", loop={"retrain_epochs": 0, "max_chunks": 1}), generator_state=state,
                             generator_config=cfg, seed=0, candidate_filter=lambda arch: False)
    reject_all.observe(proposed[0], 90.0)
    assert reject_all.propose() == [] and reject_all.timings.filtered > 0


def test_short_agnet_search_on_the_sub_benchmark(api, oracle):
    torch.manual_seed(0)
    np.random.seed(0)
    config = {"dataset": "cifar10-20k", "seed": 0,
              "search": {"epochs": 64, "agnet": {"loop": {"max_chunks": 4}}}}
    opt = AGNet(config)
    counting = Counting(oracle)
    opt.adapt_search_space(NasBench101Space(), dataset_api={**api, "nb101_oracle": counting})
    assert opt.search.candidate_filter is not None and opt.settings.loop.retrain_epochs == 15
    for epoch in range(64):
        before = counting.calls
        opt.new_epoch(epoch)
        assert counting.calls - before == 1  # one table lookup per query, never for a discarded candidate
    archs = [m.arch.get_hash() for m in opt.history]
    assert all(a in oracle for a in archs) and len({CODEC.cell_hash(a) for a in archs}) == 64
    assert opt.search.timings.filtered > 0
    accs = [m.accuracy for m in opt.history]
    assert accs == [oracle.query(a)["val_acc"] for a in archs]
    assert max(accs[16:]) > max(accs[:16])  # beats its own initial random sample


def test_run_search_dispatches_nasbench101(data_dir, tmp_path):
    from naslib_agnet.experiments.config import load_config
    from naslib_agnet.experiments.runner import run_search

    config = load_config("configs/compare_nb101_20k.yaml",
                         ["optimizer", "rs", "out_dir", str(tmp_path), "search.epochs", "12"])
    config.pop("compare", None)
    out = run_search(config, data_dir, progress="off").path
    summary = json.loads((out / "summary.json").read_text())
    assert summary["search_space"] == "nasbench101" and summary["dataset"] == "cifar10-20k"
    assert len(summary["queries"]) == 12 and summary["finished"]
    for q in summary["queries"]:
        assert q["test_acc"] is None and q["best_test_acc"] is None  # no test accuracy in the table
        assert q["arch_str"] == cell_hash(*tuple_to_spec(q["arch"]))
    _, trajectory = json.loads((out / "errors.json").read_text())
    assert trajectory["test_acc"] == [-1] * 12  # errors.json: NASLib's -1 for "unavailable"


def test_full_pickle_route_records_test_accuracy(data_dir, tmp_path):
    """dataset cifar10 reads {data_dir}/nasbench101/nasbench_only108.pkl; here a link to the 30-cell file
    in NASLib's format stands in for the full table (outside the repository)."""
    from naslib_agnet.experiments.config import load_config
    from naslib_agnet.experiments.runner import run_search

    (tmp_path / "data" / "nasbench101").mkdir(parents=True)
    (tmp_path / "data" / "nasbench101" / "nasbench_only108.pkl").symlink_to(
        data_dir / "nasbench101" / "nasbench_only108_30archs.pkl")
    config = load_config("configs/agnet_nb101_cifar10.yaml",
                         ["out_dir", str(tmp_path / "runs"), "search.epochs", "24", "search.agnet.loop.retrain_epochs", "2",
                          "search.agnet.loop.max_chunks", "2"])
    out = run_search(config, tmp_path / "data", progress="off").path
    summary = json.loads((out / "summary.json").read_text())
    oracle = load_nb101_pickle_oracle(data_dir / "nasbench101" / "nasbench_only108_30archs.pkl")
    assert summary["dataset"] == "cifar10" and len(summary["queries"]) == 24
    assert len({q["arch_str"] for q in summary["queries"]}) == 24  # distinct cells, all from the 30
    for q in summary["queries"]:
        values = oracle.query(q["arch"])
        assert q["val_acc"] == values["val_acc"] and q["test_acc"] == values["test_acc"]
    assert summary["queries"][-1]["best_test_acc"] is not None


def test_agnet_config_has_the_nb101_settings():
    from naslib_agnet.bridge import settings_from_config
    from naslib_agnet.experiments.config import load_config

    for path in ("configs/agnet_nb101_cifar10.yaml", "configs/compare_nb101_20k.yaml"):
        config = load_config(path)
        settings = settings_from_config(config)
        loop = settings.loop
        assert config["search_space"] == "nasbench101" and loop.retrain_epochs == 15
        assert (loop.num_init, loop.top_k, loop.num_candidates, loop.batch_size) == (16, 16, 100, 16)
    assert load_config("configs/agnet_nb101_cifar10.yaml")["dataset"] == "cifar10"


# ----------------------------------------------------------------------------------------- baselines
make = partial(make_optimizer, space=NasBench101Space, dataset="cifar10-20k")


@pytest.mark.parametrize("cls", [RandomSearch, RegularizedEvolution, LocalSearch, Bananas, Npenas])
def test_baselines_contract_on_nb101(api, oracle, cls):
    counting = Counting(oracle)
    opt = make(cls, {**api, "nb101_oracle": counting}, num_init=5, population_size=8, sample_size=3, k=4,
               num_candidates=40, mlp_epochs=20, mlp_num_layers=3)
    for epoch in range(30):
        before = counting.calls
        opt.new_epoch(epoch)
        assert counting.calls - before == 1
        assert len(opt.history) == epoch + 1
    assert all(m.arch.get_hash() in oracle for m in opt.history)
    assert [m.accuracy for m in opt.history] == [oracle.query(m.arch.get_hash())["val_acc"] for m in opt.history]
    stats = opt.train_statistics(report_incumbent=True)
    assert stats[1] == max(m.accuracy for m in opt.history) and math.isnan(stats[2])
    if issubclass(cls, Bananas):
        assert opt.fits > 0 and opt.candidates and all(a.get_hash() in oracle for a in opt.candidates)


def test_nb101_encodings():
    # input -> output directly: the empty path (bit 0); input -> conv3x3 -> output: bit 1
    assert encode_paths((0, 1, 0, 0, 0, 1)).nonzero()[0].tolist() == [0]
    conv = spec_to_tuple(np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]]), ["input", "conv3x3-bn-relu", "output"])
    pool = spec_to_tuple(np.array([[0, 1, 1], [0, 0, 1], [0, 0, 0]]), ["input", "maxpool3x3", "output"])
    assert encode_paths(conv).nonzero()[0].tolist() == [1]
    assert encode_paths(pool).nonzero()[0].tolist() == [0, 3]
    enc = encode_paths([conv, pool])
    assert enc.shape == (2, PATH_ENCODING_LENGTH) == (2, 364)
    # isomorphic cells encode alike: any renumbering of the interior vertices
    matrix = np.array([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]])
    a = spec_to_tuple(matrix, ["input", "conv1x1-bn-relu", "maxpool3x3", "output"])
    b = spec_to_tuple(matrix, ["input", "maxpool3x3", "conv1x1-bn-relu", "output"])
    assert (encode_paths(a) == encode_paths(b)).all()
    adj = encode_adjacency_one_hot([conv, pool])
    assert adj.shape == (2, ADJACENCY_ENCODING_LENGTH) == (2, 36)
    assert adj[0, :21].sum() == 2 and adj[1, :21].sum() == 3 and adj[:, 21:].sum() == 2


# ---------------------------------------------------------------------------------- shipped weights
def test_shipped_nb101_generator_loads():
    path = shipped_path("nasbench101")
    payload = torch.load(path, map_location="cpu", weights_only=True)
    assert payload["search_space"] == "nasbench101"
    state, config = load_generator("nasbench101", "default")
    assert (config.num_classes, config.max_nodes) == (5, 7)
    Generator(config).load_state_dict(state)  # strict: every tensor matches
    meta = payload["meta"]
    assert "naslib-agnet pretrain --search-space nasbench101" in meta["command"]
    assert meta["training_cells"] == 423_624 and meta["sample_quality_uniform3"]["samples"] == 10_000
    assert meta["command"] in path.with_suffix(".md").read_text()

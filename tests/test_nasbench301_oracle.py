"""The YAHPO NB301 surrogate oracle on the real model files: input encoding, plausible values,
inactive parameters, caching, and the errors for missing files."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from naslib_agnet.benchmarks import BenchmarkDataError
from naslib_agnet.benchmarks.nasbench301 import (ENCODING_FILE, MODEL_FILE, YAHPO_NB301_DIR,
                                                 load_yahpo_nb301_oracle, yahpo_input_names)
from naslib_agnet.spaces import darts

pytest.importorskip("onnxruntime", reason="the NB301 surrogate needs onnxruntime (installed by make setup)")

DARTS_V2 = darts.Genotype(
    normal=[("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1),
            ("sep_conv_3x3", 1), ("skip_connect", 0), ("skip_connect", 0), ("dil_conv_3x3", 2)],
    normal_concat=[2, 3, 4, 5],
    reduce=[("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 1),
            ("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("max_pool_3x3", 1)],
    reduce_concat=[2, 3, 4, 5])


@pytest.fixture(scope="module")
def oracle(data_dir):
    return load_yahpo_nb301_oracle(data_dir)


def test_darts_v2_lands_where_the_data_readme_says(oracle):
    value = oracle.query(darts.genotype_to_compact(DARTS_V2))
    assert value["val_acc"] == pytest.approx(92.91, abs=0.01)  # README: 0.9291
    assert value["runtime"] > 0


def test_random_cells_lie_in_the_surrogates_range(oracle):
    rng = np.random.default_rng(1)
    values = np.array([m["val_acc"] for m in oracle.query_many([darts.sample(rng) for _ in range(500)])])
    assert values.min() >= 88.0 and values.max() <= 93.6
    assert 92.0 <= values.mean() <= 92.8  # README: 2,000 random cells, mean 0.924
    assert values.std() > 0.3  # the encoding reaches the model: different cells, different values


def test_the_encoding_zeroes_exactly_the_inactive_parameters(oracle):
    rng = np.random.default_rng(2)
    archs = [darts.sample(rng) for _ in range(50)]
    x = oracle.encode(archs)
    names = yahpo_input_names()
    for arch, row in zip(archs, x):
        active = set(darts.compact_to_config(arch, yahpo_names=True))
        assert {names[j] for j in np.flatnonzero(row)} == active
        assert len(active) == 2 * (8 + 3)  # 8 edges and 3 input choices per cell
    # the zeros matter: the model reads the inactive columns, so a non-zero one would change the value
    base = oracle.predict(archs[:1])[0, 0]
    inactive = next(j for j in range(28) if x[0, j] == 0)
    changed = x[:1].copy()
    changed[0, inactive] = 5
    out = oracle._session.run(None, {"x_cat": changed, "x_cont": np.full((1, 1), 98.0, dtype=np.float32)})[0]
    assert out[0, 0] != pytest.approx(base, abs=1e-6)


def test_the_answer_is_the_models_output_columns_at_the_epoch_asked(oracle, data_dir):
    archs = [darts.genotype_to_compact(DARTS_V2), darts.sample(np.random.default_rng(9))]
    raw = oracle.predict(archs)
    for arch, row in zip(archs, raw):
        value = oracle.query(arch)
        assert value["val_acc"] == pytest.approx(100.0 * float(row[0]))
        assert value["runtime"] == pytest.approx(float(row[2]))  # the third output (the fourth is its increase)
    early = load_yahpo_nb301_oracle(data_dir, epoch=20)
    seen = []
    run = early._session.run
    early._session = type("Spy", (), {"run": lambda self, out, feeds: seen.append(feeds["x_cont"]) or run(out, feeds)})()
    assert early.query(archs[0])["val_acc"] < oracle.query(archs[0])["val_acc"] - 1e-3
    assert float(seen[0][0, 0]) == 20.0


def test_an_architecture_in_any_spelling_gets_one_value(oracle):
    v2 = darts.genotype_to_compact(DARTS_V2, canonicalize=False)
    swapped = tuple(tuple(cell[j ^ 1] if j in (4, 5) else cell[j] for j in range(8)) for cell in v2)
    assert oracle.query(swapped) == oracle.query(v2) == oracle.query(darts.canonical(v2))
    fresh = load_yahpo_nb301_oracle(oracle.model_path.parents[2])
    for spelling in (v2, swapped, darts.canonical(v2)):
        fresh.query(spelling)
    assert len(fresh._cache) == 1  # one surrogate evaluation per architecture, whatever its spelling
    # a config dict and the string form reach the same architecture
    config = darts.compact_to_config(v2)
    assert oracle.query(darts.config_to_compact(config)) == oracle.query(v2)


def test_batched_and_single_queries_agree_and_are_cached(oracle):
    rng = np.random.default_rng(3)
    archs = [darts.sample(rng) for _ in range(20)]
    fresh = load_yahpo_nb301_oracle(oracle.model_path.parents[2])
    batched = fresh.query_many(archs)
    single = [oracle.query(a) for a in archs]
    for b, s in zip(batched, single):
        assert b["val_acc"] == pytest.approx(s["val_acc"], abs=1e-4)
    expected = batched[0]["val_acc"]
    returned = fresh.query(archs[0])
    returned["val_acc"] = -1.0  # the caller's copy, not the cache
    fresh.query_many(archs[:1])[0]["val_acc"] = -2.0
    assert fresh.query(archs[0])["val_acc"] == pytest.approx(expected)
    assert archs[0] in fresh and ((0, 0),) not in fresh


def test_invalid_architectures_and_missing_files_are_named(oracle, data_dir, tmp_path):
    bad = ((( 0, 3),) * 8, darts.sample(np.random.default_rng(0))[1])
    with pytest.raises(BenchmarkDataError, match="cannot query the NB301 surrogate"):
        oracle.query(bad)
    with pytest.raises(BenchmarkDataError, match="yahpo-nb301-v2"):
        load_yahpo_nb301_oracle(tmp_path)
    folder = tmp_path / YAHPO_NB301_DIR
    folder.mkdir(parents=True)
    shutil.copy(data_dir / YAHPO_NB301_DIR / ENCODING_FILE, folder / ENCODING_FILE)
    with pytest.raises(BenchmarkDataError, match="ONNX model"):
        load_yahpo_nb301_oracle(tmp_path)
    (folder / MODEL_FILE).write_bytes(b"not a model")
    with pytest.raises(BenchmarkDataError, match="not a readable ONNX model"):
        load_yahpo_nb301_oracle(tmp_path)


def test_the_oracle_says_it_is_a_substitute(oracle):
    assert oracle.substitute
    assert "substitute" in oracle.splits["val_acc"] and oracle.notes


# ------------------------------------------------------------------ the official surrogate's adapter
class _FakeEnsemble:
    """Records what nasbench301's ensemble would be asked."""

    def __init__(self, path, value):
        self.path, self.value, self.calls = path, value, []

    def predict(self, config, representation, with_noise=True):
        self.calls.append((config, representation, with_noise))
        return self.value


def test_the_official_adapter_passes_the_genotype_nasbench301_expects(tmp_path, monkeypatch):
    import sys
    import types

    from naslib_agnet.benchmarks.nasbench301 import OFFICIAL_MODELS_DIR, load_official_nb301_oracle

    models = tmp_path / OFFICIAL_MODELS_DIR
    (models / "xgb_v1.0").mkdir(parents=True)
    (models / "lgb_runtime_v1.0").mkdir()
    module = types.ModuleType("nasbench301")
    loaded = {}
    module.load_ensemble = lambda path: loaded.setdefault(path, _FakeEnsemble(path, 94.5 if "xgb" in path else 5000.0))
    monkeypatch.setitem(sys.modules, "nasbench301", module)
    oracle = load_official_nb301_oracle(tmp_path)
    arch = darts.genotype_to_compact(DARTS_V2)
    assert oracle.query(arch) == {"val_acc": 94.5, "runtime": 5000.0}
    perf = loaded[str(models / "xgb_v1.0")]
    genotype, representation, noise = perf.calls[0]
    assert representation == "genotype" and noise is False
    assert genotype.normal_concat == [2, 3, 4, 5] == genotype.reduce_concat
    assert darts.genotype_to_compact(genotype) == arch  # the same cells, DARTS' (op, input) lists
    assert sorted(genotype.normal) == sorted(DARTS_V2.normal) and sorted(genotype.reduce) == sorted(DARTS_V2.reduce)
    runtime = loaded[str(models / "lgb_runtime_v1.0")]
    assert runtime.calls[0][1:] == ("genotype", False)
    oracle.query(arch)
    assert len(perf.calls) == 1  # cached: one surrogate call per architecture
    assert not oracle.substitute


def test_the_official_adapter_says_what_is_missing(tmp_path, monkeypatch):
    import sys

    from naslib_agnet.benchmarks.nasbench301 import OFFICIAL_MODELS_DIR, load_official_nb301_oracle
    from naslib_agnet.bridge.darts_space import make_nb301_dataset_api

    with pytest.raises(BenchmarkDataError, match="nb_models_1.0.*figshare.*naslib/data/nb_models_1.0"):
        make_nb301_dataset_api(tmp_path, "cifar10-official")
    (tmp_path / OFFICIAL_MODELS_DIR / "xgb_v1.0").mkdir(parents=True)
    (tmp_path / OFFICIAL_MODELS_DIR / "lgb_runtime_v1.0").mkdir()
    monkeypatch.setitem(sys.modules, "nasbench301", None)  # import fails
    with pytest.raises(ImportError, match="pip install nasbench301"):
        load_official_nb301_oracle(tmp_path)
    with pytest.raises(BenchmarkDataError, match="cifar10-official"):
        make_nb301_dataset_api(tmp_path, "imagenet")

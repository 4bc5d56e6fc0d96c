"""The ``naslib`` scorer: NASLib's own predictors rank AG-Net's candidates, on the real NB201 table.

Every supported predictor (``PREDICTORS``) is fitted on 200 cells (cifar10 validation accuracy)
and orders 500 others (Spearman > 0.3), gives the same scores for the same seed, and the
adapter's encodings are NASLib's own (against ``NasBench201SearchSpace``); then one short
AG-Net search proposes through it. Skipped where NASLib is not importable (it is not on PyPI;
CI does not have it). Run it with NASLib (docs/naslib.md), e.g.

    PYTHONPATH=/path/to/NASLib OMP_NUM_THREADS=1 python -m pytest -q tests/test_naslib_predictor.py

It takes minutes: the neural predictors train for NASLib's default epochs (dngo, bananas, gcn,
seminas the longest).
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from naslib_agnet.bridge import make_nb201_dataset_api
from naslib_agnet.compat import apply_naslib_compat, naslib_importable
from naslib_agnet.search import AGNetSearch, AGNetSettings
from naslib_agnet.search.scorers import SCORERS, Candidates, Observations, ScorerContext
from naslib_agnet.search.scorers.naslib_predictor import (
    PREDICTORS,
    NASLibArch,
    NASLibPredictorScorer,
    NASLibPredictorSettings,
)
from naslib_agnet.spaces import get_codec
from naslib_agnet.weights import load_generator

pytestmark = pytest.mark.skipif(
    not naslib_importable(),
    reason="NASLib is not importable (it is not on PyPI): put a checkout of https://github.com/automl/NASLib "
           "(Develop branch) on PYTHONPATH to run the tests of the naslib scorer (docs/naslib.md)")


@pytest.fixture(scope="module", autouse=True)
def naslib_patched():
    apply_naslib_compat()


@pytest.fixture(scope="module")
def oracle(data_dir):
    return make_nb201_dataset_api(data_dir, "cifar10")["nb201_oracle"]


@pytest.fixture(scope="module")
def split(oracle):
    """200 cells to fit on and 500 others to rank, drawn once (as tests/test_scorers.py)."""
    keys = oracle.keys()
    order = np.random.default_rng(7).permutation(len(keys))
    fit = [keys[i] for i in order[:200]]
    held = [keys[i] for i in order[200:700]]
    return fit, val_acc(oracle, fit), held, val_acc(oracle, held)


def val_acc(oracle, archs):
    return np.asarray([oracle.query(a)["val_acc"] for a in archs], dtype=np.float64)


def make_scorer(predictor="xgb", seed=0, space="nasbench201", **settings):
    s = NASLibPredictorSettings.from_mapping({"predictor": predictor, **settings})
    return NASLibPredictorScorer(s, ScorerContext(codec=get_codec(space), output_dim=0, seed=seed, alpha=0.9))


def observations(codec, archs, scores):
    nodes, edges = codec.encode(archs)
    return Observations(list(archs), np.asarray(scores, dtype=np.float64), nodes, edges)


def scores_of(scorer, archs):
    nodes, edges = scorer.context.codec.encode(archs)
    return np.asarray(scorer.score(Candidates(list(archs), nodes, edges, None)), dtype=np.float64)


def fitted_scores(predictor, fit, fit_val, held, seed=0):
    scorer = make_scorer(predictor, seed=seed)
    scorer.fit(observations(scorer.context.codec, fit, fit_val))
    return scores_of(scorer, held)


def test_the_scorer_is_registered_with_its_settings():
    assert SCORERS["naslib"] is NASLibPredictorScorer
    settings = AGNetSettings.build(scorer="naslib")
    assert settings.scorer_settings == NASLibPredictorSettings()
    assert settings.to_dict()["naslib"] == {"predictor": "xgb", "encoding_type": "", "threads": 1, "verbose": False}
    for name in ("xgb", "gp", "ngb"):
        assert name in PREDICTORS


@pytest.mark.parametrize("predictor", sorted(PREDICTORS))
def test_every_predictor_ranks_held_out_cells(predictor, split):
    """Fitted on 200 cells, each predictor orders 500 others by validation accuracy (Spearman > 0.3)."""
    fit, fit_val, held, truth = split
    scores = fitted_scores(predictor, fit, fit_val, held)
    assert scores.shape == (500,) and np.isfinite(scores).all()
    # in the caller's units: % accuracy, not z-scores
    assert 30 < np.median(scores) < 100, f"{predictor}: median score {np.median(scores):.2f}"
    rho = spearmanr(scores, truth).statistic
    assert rho > 0.3, f"{predictor}: Spearman {rho:.2f}"


@pytest.mark.parametrize("predictor", sorted(PREDICTORS))
def test_every_predictor_is_deterministic_for_a_seed(predictor, split):
    """Same seed, same scores (on 40 cells, to keep the neural predictors short); the global
    random generators are left as they were."""
    fit, fit_val, held, _ = split
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    a = fitted_scores(predictor, fit[:40], fit_val[:40], held[:60], seed=3)
    assert np.array_equal(np.random.get_state()[1], before)
    b = fitted_scores(predictor, fit[:40], fit_val[:40], held[:60], seed=3)
    np.testing.assert_array_equal(a, b)


def test_the_seed_reaches_the_predictor(split):
    fit, fit_val, held, _ = split
    a = fitted_scores("rf", fit[:40], fit_val[:40], held[:60], seed=3)
    b = fitted_scores("rf", fit[:40], fit_val[:40], held[:60], seed=4)
    assert not np.array_equal(a, b)


def test_an_unknown_predictor_is_a_clear_error():
    with pytest.raises(ValueError, match=r"search\.agnet\.naslib\.predictor: unknown NASLib predictor 'xgboost'; "
                                         r"supported: xgb, lgb, ngb"):
        NASLibPredictorSettings.from_mapping({"predictor": "xgboost"})
    with pytest.raises(ValueError, match="unknown NASLib predictor 'lce'"):
        AGNetSettings.build(scorer="naslib", scorer_settings={"predictor": "lce"})


def test_an_encoding_the_predictor_cannot_read_is_a_clear_error():
    with pytest.raises(ValueError, match=r"'gcn' reads 'gcn', got 'path'"):
        NASLibPredictorSettings.from_mapping({"predictor": "gcn", "encoding_type": "path"})
    with pytest.raises(ValueError, match="'bananas' chooses its own encoding"):
        NASLibPredictorSettings.from_mapping({"predictor": "bananas", "encoding_type": "path"})
    with pytest.raises(ValueError, match="must be > 0"):
        NASLibPredictorSettings.from_mapping({"threads": 0})
    assert NASLibPredictorSettings.from_mapping({"predictor": "xgb", "encoding_type": "path"}).encoding == "path"
    assert NASLibPredictorSettings.from_mapping({"predictor": "bananas"}).encoding is None


def test_without_naslib_the_error_says_what_to_install(monkeypatch):
    from naslib_agnet import compat

    monkeypatch.setattr(compat, "naslib_importable", lambda: False)
    with pytest.raises(ImportError, match=r"needs NASLib, which is not on PyPI: put a checkout of "
                                          r"https://github.com/automl/NASLib .* on PYTHONPATH"):
        make_scorer()


@pytest.mark.parametrize("encoding", ["adjacency_one_hot", "path", "gcn", "bonas", "seminas"])
def test_the_adapter_encodes_as_naslibs_own_nb201_graph(encoding, oracle):
    """NASLibArch(key).encode(...) is what NASLib's NasBench201SearchSpace with set_op_indices(key) gives."""
    from naslib.search_spaces import NasBench201SearchSpace
    from naslib.utils.encodings import EncodingType

    for key in oracle.keys()[:: len(oracle.keys()) // 4][:4]:
        graph = NasBench201SearchSpace()
        graph.set_op_indices(list(key))
        ours = NASLibArch(key, "nasbench201").encode(encoding_type=EncodingType(encoding))
        theirs = graph.encode(encoding_type=EncodingType(encoding))
        if isinstance(theirs, dict):
            assert ours.keys() == theirs.keys()
            for name in theirs:
                np.testing.assert_array_equal(np.asarray(ours[name]), np.asarray(theirs[name]), err_msg=name)
        else:
            np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


def test_nb101_cells_are_padded_to_naslibs_seven_vertices():
    """A pruned 5-vertex cell reaches NASLib's 7 x 7 encoders padded with unconnected vertices: its
    paths (and so its path encoding) are unchanged, and the adjacency encoding has NASLib's length."""
    from naslib.search_spaces.nasbench101.encodings import encode_101_spec, encode_paths
    from naslib.utils.encodings import EncodingType

    codec = get_codec("nasbench101")
    matrix = np.zeros((5, 5), dtype=np.int64)
    for u, v in ((0, 1), (1, 2), (2, 4), (0, 3), (3, 4)):
        matrix[u, v] = 1
    ops = ["input", "conv3x3-bn-relu", "maxpool3x3", "conv1x1-bn-relu", "output"]
    key = codec.from_spec({"matrix": matrix, "ops": ops})
    arch = NASLibArch(key, "nasbench101")
    spec = arch.get_spec()
    assert spec["matrix"].shape == (7, 7) and len(spec["ops"]) == 7 and spec["ops"][-1] == "output"
    assert encode_paths(spec).sum() == 2  # input-conv3x3-maxpool-output and input-conv1x1-output
    assert len(arch.encode(encoding_type=EncodingType.ADJACENCY_ONE_HOT)) == len(
        encode_101_spec(spec, encoding_type=EncodingType.ADJACENCY_ONE_HOT)) == 21 + 15
    np.testing.assert_array_equal(arch.encode(encoding_type=EncodingType.PATH), encode_paths(spec))


def test_the_scorer_ranks_nb101_cells(data_dir):
    """NB101 (the 20k sub-benchmark): XGBoost on NASLib's NB101 path encoding ranks held-out cells."""
    from naslib_agnet.bridge import make_nb101_dataset_api

    oracle = make_nb101_dataset_api(data_dir, "cifar10-20k")["nb101_oracle"]
    keys = list(oracle.keys())
    order = np.random.default_rng(7).permutation(len(keys))
    fit, held = [keys[i] for i in order[:200]], [keys[i] for i in order[200:700]]
    fit_val = [oracle.query(a)["val_acc"] for a in fit]
    truth = [oracle.query(a)["val_acc"] for a in held]
    for encoding in ("path", "adjacency_one_hot"):
        scorer = make_scorer("xgb", space="nasbench101", encoding_type=encoding)
        scorer.fit(observations(scorer.context.codec, fit, fit_val))
        rho = spearmanr(scores_of(scorer, held), truth).statistic
        assert rho > 0.3, f"NB101 {encoding}: Spearman {rho:.2f}"


def test_one_candidate_and_too_few_observations(split):
    fit, fit_val, held, _ = split
    scorer = make_scorer("gp")
    scorer.fit(observations(scorer.context.codec, fit[:1], fit_val[:1]))
    assert scores_of(scorer, held[:3]).tolist() == [fit_val[0]] * 3  # nothing to fit: every candidate ties
    for predictor in ("gp", "bananas"):  # NASLib squeezes a single prediction to a scalar (each member's)
        scorer = make_scorer(predictor)
        scorer.fit(observations(scorer.context.codec, fit[:20], fit_val[:20]))
        one, three = scores_of(scorer, held[:1]), scores_of(scorer, held[:3])
        assert one.shape == (1,) and three.shape == (3,)
        assert one[0] == pytest.approx(three[0], rel=1e-5)


@pytest.mark.parametrize("predictor", ["xgb", "gp"])
def test_a_short_agnet_search_proposes_through_a_naslib_predictor(predictor, oracle):
    state, cfg = load_generator("nasbench201", "default")
    settings = AGNetSettings.build(scorer="naslib", loop={"retrain_epochs": 1},
                                   scorer_settings={"predictor": predictor})
    search = AGNetSearch(get_codec("nasbench201"), settings, generator_state=state, generator_config=cfg, seed=0)
    assert isinstance(search.scorer, NASLibPredictorScorer) and search.scorer.settings.predictor == predictor
    for key in oracle.keys()[:16]:
        search.observe(key, oracle.query(key)["val_acc"])
    chosen = search.propose()
    assert len(chosen) == 16 and len(set(chosen)) == 16 and not set(chosen) & set(search.archs)
    values = dict(search.last_candidates)
    assert sorted((values[a] for a in chosen), reverse=True) == sorted(values.values(), reverse=True)[:16]

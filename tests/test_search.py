"""The AG-Net search loop on the real NB201 table: candidates, de-duplication, improvement, the MetaOptimizer contract."""
import numpy as np
import pytest
import torch

from naslib_agnet.bridge import AGNet, Metric, NasBench201Space, make_nb201_dataset_api
from naslib_agnet.search import AGNetSearch, AGNetSettings
from naslib_agnet.search.settings import parse_assignments, settings_from_tree
from naslib_agnet.spaces import get_codec
from naslib_agnet.weights import load_generator


@pytest.fixture(scope="module")
def api(data_dir):
    return make_nb201_dataset_api(data_dir, "cifar10")


def shipped_search(seed=0, scorer="spec", scorer_settings=None, **loop):
    state, cfg = load_generator("nasbench201", "default")
    settings = AGNetSettings.build(scorer=scorer, loop=loop, scorer_settings=scorer_settings)
    return AGNetSearch(get_codec("nasbench201"), settings, generator_state=state, generator_config=cfg, seed=seed)


def test_candidates_are_valid_new_and_distinct(api):
    search = shipped_search(retrain_epochs=1)
    oracle = api["nb201_oracle"]
    rng = np.random.default_rng(0)
    keys = oracle.keys()
    for i in rng.choice(len(keys), 16, replace=False):
        search.observe(keys[i], oracle.query(keys[i])["val_acc"])
    search.retrain()
    candidates = search.generate_candidates()
    archs = [a for a, _ in candidates]
    assert len(archs) == 100 == len(set(archs))
    assert not set(archs) & set(search.archs)
    proposed = search.propose()
    assert len(proposed) == 16 and len(set(proposed)) == 16
    assert not set(proposed) & set(search.archs)
    # proposals are pending: the next round never proposes them again
    again = search.propose()
    assert not set(again) & set(proposed)


def test_propose_returns_the_top_k_by_prediction(api):
    search = shipped_search(retrain_epochs=0)
    search.observe((0, 1, 2, 3, 4, 0), 80.0)
    chosen = search.propose()
    scores = dict(search.last_candidates)
    ranked = sorted(scores.values(), reverse=True)
    assert sorted((scores[a] for a in chosen), reverse=True) == ranked[:16]


def test_observe_rejects_non_finite_scores():
    search = shipped_search()
    with pytest.raises(ValueError, match="finite"):
        search.observe((0, 0, 0, 0, 0, 0), float("nan"))


def run_agnet(api, queries, seed=0, **search_cfg):
    np.random.seed(seed)
    torch.manual_seed(seed)
    config = {"dataset": "cifar10", "seed": seed, "search": {"seed": seed, **search_cfg}}
    opt = AGNet(config)
    opt.adapt_search_space(NasBench201Space(), dataset_api=api)
    for epoch in range(queries):
        opt.new_epoch(epoch)
    return opt


@pytest.mark.parametrize("seed", [0, 1])
def test_short_search_runs_without_fallbacks(api, seed):
    opt = run_agnet(api, 48, seed=seed)
    assert len(opt.history) == 48 and len({m.arch.get_hash() for m in opt.history}) == 48
    assert opt.random_fallbacks == 0


def test_metaoptimizer_contract(api):
    opt = run_agnet(api, 18, agnet={"loop": {"retrain_epochs": 1}})
    train, val, test, train_time = opt.train_statistics(report_incumbent=True)
    best = opt.get_final_architecture()
    assert val == max(m.accuracy for m in opt.history)
    assert test == api["nb201_oracle"].query(best.get_hash())["test_acc"]
    assert train == -1 and train_time == -1  # not in the table: NASLib's marker for unavailable
    latest = opt.train_statistics(report_incumbent=False)
    assert latest[1] == opt.history[-1].accuracy
    assert set(opt.get_checkpointables()) == {"model"}
    module = opt.get_checkpointables()["model"]
    assert isinstance(module, torch.nn.Module) and len(module.state_dict()) > 0
    assert opt.test_statistics() == api["nb201_oracle"].query(best.get_hash())
    with pytest.raises(NotImplementedError):
        opt.get_op_optimizer()


def test_settings_are_config_keys_with_checked_types():
    with pytest.raises(ValueError, match="retrain_epochs must be of type int"):
        AGNet({"dataset": "cifar10", "search": {"agnet": {"loop": {"retrain_epochs": "thirty"}}}})
    with pytest.raises(ValueError, match="alpha must lie in"):
        AGNet({"dataset": "cifar10", "search": {"agnet": {"loop": {"alpha": 1.5}}}})
    opt = AGNet({"dataset": "cifar10", "search": {"agnet": {"loop": {"top_k": 8}}}})
    assert opt.settings.loop.top_k == 8 and opt.settings.loop.retrain_epochs == 30


def test_loop_defaults_are_the_specs_per_space_and_mode():
    assert settings_from_tree({}, space="nasbench201").loop.retrain_epochs == 30
    assert settings_from_tree({}, space="nasbench101").loop.retrain_epochs == 15  # spec §5.5
    hw = settings_from_tree({}, space="nasbench201", hardware=True).loop
    assert (hw.alpha, hw.lr, hw.weight_decay, hw.chunk_size, hw.max_chunks) == (0.95, 2e-4, 1e-4, 500, 5)  # spec §7
    assert settings_from_tree({"loop": {"lr": 0.01}}, hardware=True).loop.lr == 0.01  # a given value wins
    assert settings_from_tree({}, scorer="xgb").loop.retrain_epochs == 1  # spec §6
    assert settings_from_tree({"loop": {"retrain_epochs": 5}}, scorer="xgb").loop.retrain_epochs == 5


def test_variants_fill_nulls_and_refuse_a_contradiction():
    from naslib_agnet.bridge.optimizer import VARIANTS

    xgb = VARIANTS["agnet_xgb"]({"dataset": "cifar10", "search": {}})
    assert xgb.settings.scorer == "xgb"
    lso = VARIANTS["agnet_wo_lso"]({"dataset": "cifar10", "search": {"agnet": {"loop": {"lr": 0.002}}}})
    assert lso.settings.loop.weighting == "uniform" and lso.settings.loop.lr == 0.002
    with pytest.raises(ValueError, match="AG-Net with scorer 'xgb'"):
        VARIANTS["agnet_xgb"]({"dataset": "cifar10", "search": {"agnet": {"scorer": "spec"}}})
    assert AGNet({"dataset": "cifar10", "search": {"agnet": {"scorer": "xgb"}}}).settings.scorer == "xgb"


def test_flat_keys_of_older_configs_say_where_they_moved():
    with pytest.raises(ValueError, match=r"search.agnet_lr moved to search.agnet.loop.lr"):
        AGNet({"dataset": "cifar10", "search": {"agnet_lr": 0.001}})
    with pytest.raises(ValueError, match=r"agnet_predictor_input moved to search.agnet.scorer"):
        AGNet({"dataset": "cifar10", "search": {"agnet_predictor_input": "encoding"}})


def test_space_query_answers_true_test_accuracy(api):
    arch = NasBench201Space((4, 3, 3, 0, 0, 0))
    assert arch.query(Metric.VAL_ACCURACY, "cifar10", dataset_api=api) == pytest.approx(81.90)
    assert arch.query(Metric.TEST_ACCURACY, "cifar10", dataset_api=api) == pytest.approx(85.8633)
    with pytest.raises(ValueError, match="cifar100"):
        arch.query(Metric.VAL_ACCURACY, "cifar100", dataset_api=api)


@pytest.mark.parametrize("tree, message", [
    ({"loop": {"lr": 0.0}}, "loop.lr must be > 0"),
    ({"loop": {"latent_bound": -3.0}}, "latent_bound must be > 0"),
    ({"loop": {"top_k": 0}}, "top_k must be > 0"),
    ({"loop": {"weighting": "linear"}}, "weighting must be one of 'rank', 'uniform'"),
    ({"loop": {"retrain_epoch": 30}}, r"unknown AG-Net setting\(s\) \['search.agnet.loop.retrain_epoch'\]"),
    ({"scorer": "gp"}, "search.agnet.scorer must be one of 'spec'"),
    ({"ranker": {"acquisition": "ei"}, "scorer": "ranker"}, "ranker.acquisition must be one of 'mean', 'ucb', 'its'"),
    ({"ranker": {"members": 0}, "scorer": "ranker"}, "ranker.members must be > 0"),
    ({"hardware": {"metric_units": "ms"}}, "metric_units must be one of"),
    ({"engine": "numpy"}, r"unknown key\(s\) \['search.agnet.engine'\]"),
])
def test_bad_settings_name_the_key(tree, message):
    with pytest.raises(ValueError, match=message):
        AGNet({"dataset": "cifar10", "search": {"agnet": tree}})


def test_settings_parse_name_value_assignments():
    tree = parse_assignments(["scorer=ranker", "ranker.lr=1e-3", "ranker.epochs=50", "loop.weighting=uniform"])
    assert tree == {"scorer": "ranker", "ranker": {"lr": 0.001, "epochs": 50}, "loop": {"weighting": "uniform"}}
    settings = settings_from_tree(tree)
    assert settings.scorer_settings.lr == 0.001 and settings.loop.weighting == "uniform"
    with pytest.raises(ValueError, match="expected NAME=VALUE"):
        parse_assignments(["ranker.lr"])


def test_overrides_walk_into_the_nested_sections():
    from naslib_agnet.experiments.config import ConfigError, load_config

    config = load_config(None, ["search.agnet.loop.lr", "0.0005", "search.agnet.scorer", "xgb",
                                "search.agnet.xgb.max_depth", "4"])
    agnet = config["search"]["agnet"]
    assert (agnet["loop"]["lr"], agnet["scorer"], agnet["xgb"]["max_depth"]) == (0.0005, "xgb", 4)
    with pytest.raises(ConfigError, match="search.agnet_lr moved to search.agnet.loop.lr"):
        load_config(None, ["search.agnet_lr", "0.001"])
    with pytest.raises(ConfigError, match="max_depth.*must be of type int"):
        load_config(None, ["search.agnet.xgb.max_depth", "deep"])


def test_uniform_weighting_trains_on_every_observation_alike(api):
    """w/o LSO (spec §9) without QUIRK-11: equal weights over all evaluated architectures, so every
    one of them, not only the first 16, is drawn for retraining."""
    search = observed_search(api, weighting="uniform")
    oracle = api["nb201_oracle"]
    for key in oracle.keys()[1000:1032]:
        search.observe(key, oracle.query(key)["val_acc"])
    np.testing.assert_array_equal(search._weights(), np.ones(48))
    ranked = observed_search(api)
    for key in oracle.keys()[1000:1032]:
        ranked.observe(key, oracle.query(key)["val_acc"])
    w = ranked._weights()
    assert w[int(np.argmax(ranked.scores))] == w.max() > 3 * w.min()  # rank weights favour the best
    drawn = set()
    for _ in range(20):
        drawn.update(search.rng.choice(48, size=48, replace=True, p=np.ones(48) / 48).tolist())
    assert drawn == set(range(48))


def observed_search(api, seed=0, scorer="spec", scorer_settings=None, **loop):
    search = shipped_search(seed=seed, scorer=scorer, scorer_settings=scorer_settings, **loop)
    oracle = api["nb201_oracle"]
    keys = oracle.keys()
    for i in np.random.default_rng(seed).choice(len(keys), 16, replace=False):
        search.observe(keys[i], oracle.query(keys[i])["val_acc"])
    return search


def test_scorer_choice_beats_random_choice_from_the_same_pools(api):
    """The loop evaluates what its scorer ranks first: after retraining on 48 evaluated cells, the 16
    candidates chosen from each pool are better on average than the pool, over 10 seeds (a loop that
    picks at random, or a scorer that ranks at random, fails this). The ranker scorer: the spec's
    predictor does not rank its candidates (tests/test_scorers.py), so with it the choice is no
    better than random (mean gain -0.49 over seeds 0-11 of this setting, ranker +1.78:
    scripts/scorer_ranking.py)."""
    oracle = api["nb201_oracle"]
    keys = oracle.keys()
    gains = []
    for seed in range(10):
        search = shipped_search(seed=seed, scorer="ranker", scorer_settings={"acquisition": "mean"})
        rng = np.random.default_rng(100 + seed)
        for i in rng.choice(len(keys), 48, replace=False):
            search.observe(keys[i], oracle.query(keys[i])["val_acc"])
        chosen = search.propose()
        pool = [a for a, _ in search.last_candidates]
        if len(pool) <= 16:
            continue  # the generator lost its cells in this retraining: no choice to judge
        truth = {a: oracle.query(a)["val_acc"] for a in pool}
        gains.append(np.mean([truth[a] for a in chosen]) - np.mean(list(truth.values())))
    assert len(gains) >= 6
    assert np.mean(gains) > 0.5 and np.mean(np.asarray(gains) > 0) >= 0.75, gains

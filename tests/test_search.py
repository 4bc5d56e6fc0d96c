"""The AG-Net search loop on the real NB201 table: candidates, de-duplication, improvement, the MetaOptimizer contract."""
import numpy as np
import pytest
import torch

from naslib_agnet.bridge import AGNet, Metric, NasBench201Space, make_nb201_dataset_api
from naslib_agnet.search import AGNetSearch, AGNetSettings
from naslib_agnet.spaces import get_codec
from naslib_agnet.weights import load_generator


@pytest.fixture(scope="module")
def api(data_dir):
    return make_nb201_dataset_api(data_dir, "cifar10")


def shipped_search(seed=0, **settings):
    state, cfg = load_generator("nasbench201", "default")
    return AGNetSearch(get_codec("nasbench201"), AGNetSettings(**settings), generator_state=state,
                       generator_config=cfg, seed=seed)


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


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_short_search_beats_its_initial_sample(api, seed):
    opt = run_agnet(api, 64, seed=seed)
    vals = [m.accuracy for m in opt.history]
    assert len(vals) == 64 and len({m.arch.get_hash() for m in opt.history}) == 64
    assert opt.random_fallbacks == 0
    assert max(vals[16:]) > max(vals[:16])


def test_metaoptimizer_contract(api):
    opt = run_agnet(api, 18, agnet_retrain_epochs=1)
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
    with pytest.raises(ValueError, match="agnet_retrain_epochs|retrain_epochs.*int"):
        AGNet({"dataset": "cifar10", "search": {"agnet_retrain_epochs": "thirty"}})
    with pytest.raises(ValueError, match="alpha must lie in"):
        AGNet({"dataset": "cifar10", "search": {"agnet_alpha": 1.5}})
    opt = AGNet({"dataset": "cifar10", "search": {"agnet_top_k": 8}})
    assert opt.settings.top_k == 8 and opt.settings.retrain_epochs == 30


def test_space_query_answers_true_test_accuracy(api):
    arch = NasBench201Space((4, 3, 3, 0, 0, 0))
    assert arch.query(Metric.VAL_ACCURACY, "cifar10", dataset_api=api) == pytest.approx(81.90)
    assert arch.query(Metric.TEST_ACCURACY, "cifar10", dataset_api=api) == pytest.approx(85.8633)
    with pytest.raises(ValueError, match="cifar100"):
        arch.query(Metric.VAL_ACCURACY, "cifar100", dataset_api=api)


@pytest.mark.parametrize("name, value, message", [
    ("agnet_lr", 0.0, "lr must be > 0"),
    ("agnet_latent_bound", -3.0, "latent_bound must be > 0"),
    ("agnet_top_k", 0, "top_k must be >= 1"),
    ("agnet_engine", "cuda", "engine must be"),
    ("agnet_retrain_epoch", 30, r"unknown AG-Net config key\(s\) search.agnet_retrain_epoch"),
])
def test_bad_settings_name_the_key(name, value, message):
    with pytest.raises(ValueError, match=message):
        AGNet({"dataset": "cifar10", "search": {name: value}})

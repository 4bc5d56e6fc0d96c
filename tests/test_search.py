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


# --------------------------------------------------------------- predictor_input="encoding"
def observed_search(api, seed=0, **settings):
    search = shipped_search(seed=seed, **settings)
    oracle = api["nb201_oracle"]
    keys = oracle.keys()
    for i in np.random.default_rng(seed).choice(len(keys), 16, replace=False):
        search.observe(keys[i], oracle.query(keys[i])["val_acc"])
    return search


def step_grads(search, z, nodes, edges, targets, weights):
    search._train_step(z, nodes, edges, targets, weights)
    gen = [p.grad.clone() for p in search.generator.parameters()]
    pred = [p.grad.clone() for p in search.predictor.parameters()]
    return gen, pred


def test_encoding_step_trains_predictor_on_targets_and_generator_on_reconstruction(api):
    searches = {engine: observed_search(api, predictor_input="encoding", engine=engine)
                for engine in ("numpy", "torch")}
    search = searches["numpy"]
    nodes, edges = search.codec.encode(search.archs)
    targets = search._targets()
    weights = search._weights().astype(np.float32)
    z = torch.randn(16, search.generator.latent_dim, generator=torch.Generator().manual_seed(3))
    grads = {engine: step_grads(s, z, nodes, edges, targets, weights) for engine, s in searches.items()}
    for a, b in zip(grads["numpy"][0] + grads["numpy"][1], grads["torch"][0] + grads["torch"][1]):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-6)

    # the objective written out: generator <- (1 - alpha) weighted reconstruction, predictor <- alpha weighted MSE
    ref = observed_search(api, predictor_input="encoding", engine="torch")
    from naslib_agnet.model import reconstruction_loss
    alpha, w = ref.settings.alpha, torch.from_numpy(weights)
    recon = reconstruction_loss(ref.generator(z), torch.from_numpy(nodes), torch.from_numpy(edges),
                                ref.generator.config)
    gen_ref = torch.autograd.grad(((1 - alpha) * w * recon).mean(), list(ref.generator.parameters()))
    onehot = torch.nn.functional.one_hot(torch.from_numpy(nodes), ref.codec.num_classes).float().flatten(1)
    pred = ref.predictor(torch.cat([onehot, torch.from_numpy(edges)], 1))
    mse = (alpha * w * (pred - torch.from_numpy(targets)) ** 2).mean()
    pred_ref = torch.autograd.grad(mse, list(ref.predictor.parameters()))
    for a, b in zip(grads["torch"][0] + grads["torch"][1], list(gen_ref) + list(pred_ref)):
        torch.testing.assert_close(a, b)

    # the predictor's gradient does not depend on z (it reads the targets), the generator's does
    other = observed_search(api, predictor_input="encoding")
    gen2, pred2 = step_grads(other, torch.randn(16, 32), nodes, edges, targets, weights)
    for a, b in zip(pred2, grads["numpy"][1]):
        torch.testing.assert_close(a, b)
    assert any(not torch.allclose(a, b) for a, b in zip(gen2, grads["numpy"][0]))


def test_encoding_candidates_are_scored_on_their_own_encoding(api):
    search = observed_search(api, predictor_input="encoding", retrain_epochs=0)
    chosen = search.propose()
    archs = [a for a, _ in search.last_candidates]
    assert len(archs) == 100 == len(set(archs))
    with torch.no_grad():
        expected = search.predictor(search._encoding(*search.codec.encode(archs))) / search.settings.score_scale
    got = torch.tensor([score for _, score in search.last_candidates])
    torch.testing.assert_close(got, expected.float())
    ranked = sorted(search.last_candidates, key=lambda c: -c[1])
    assert chosen == [a for a, _ in ranked[:16]]


def test_encoding_predictor_learns_to_order_the_evaluated_architectures(api):
    search = observed_search(api, predictor_input="encoding")
    nodes, edges = search.codec.encode(search.archs)
    targets, weights = search._targets(), search._weights().astype(np.float32)

    def rho():
        with torch.no_grad():
            fit = search.predictor(search._encoding(nodes, edges)).numpy()
        ranks = [np.argsort(np.argsort(v)) for v in (fit, np.asarray(search.scores))]
        return np.corrcoef(*ranks)[0, 1]  # Spearman's rho

    before = rho()
    for _ in range(20):
        search._train_step(torch.zeros(16, 32), nodes, edges, targets, weights)
    assert rho() > max(0.3, before)


def test_predictor_input_is_checked():
    with pytest.raises(ValueError, match="predictor_input must be one of 'generated', 'encoding'"):
        AGNet({"dataset": "cifar10", "search": {"agnet_predictor_input": "graph"}})


@pytest.mark.parametrize("engine", ["numpy", "torch"])
def test_generated_plus_encoding_trains_as_the_spec_and_ranks_with_its_ranker(api, engine):
    """The ranker leaves the spec's training untouched (same generator and predictor after a
    retraining, same random streams, same candidates) and alone scores the candidates: the
    members' mean prediction on each candidate's encoding, mapped back to accuracy units."""
    spec = observed_search(api, retrain_epochs=2, engine=engine)
    both = observed_search(api, retrain_epochs=2, engine=engine, predictor_input="generated+encoding",
                           ranker_acquisition="mean")
    assert spec.ranker is None and both.ranker is not None
    spec.retrain()
    both.retrain()
    for a, b in zip([*spec.generator.parameters(), *spec.predictor.parameters()],
                    [*both.generator.parameters(), *both.predictor.parameters()]):
        assert torch.equal(a, b)  # bit for bit
    both.fit_ranker()
    candidates = both.generate_candidates()
    archs = [a for a, _ in candidates]
    assert archs == [a for a, _ in spec.generate_candidates()]  # same draws, same candidates
    members = both.ranker.predict(both._encoding(*both.codec.encode(archs)).numpy())
    assert members.shape == (both.settings.ranker_members, len(archs))
    scores = np.asarray(both.scores)
    expected = scores.mean() + scores.std() * members.mean(axis=0)
    np.testing.assert_allclose([c for _, c in candidates], expected, rtol=1e-6)
    # in accuracy units: on the cells it was fitted to, the ranker is within 1 point of the truth
    assert np.abs(np.asarray(both._rank_scores(both.archs)) - scores).mean() < 1.0


def test_ranker_settings_are_checked():
    for name in ("ranker_members", "ranker_layers", "ranker_width", "ranker_epochs"):
        with pytest.raises(ValueError, match=f"{name} must be >= 1"):
            AGNetSettings(**{name: 0}).validate()
    with pytest.raises(ValueError, match="ranker_lr must be > 0"):
        AGNetSettings(ranker_lr=0.0).validate()


def test_settings_parse_name_value_assignments():
    values = AGNetSettings.parse_assignments(["ranker_lr=1e-3", "ranker_epochs=50", "predictor_input=generated+encoding"])
    assert values == {"ranker_lr": 0.001, "ranker_epochs": 50, "predictor_input": "generated+encoding"}
    assert AGNetSettings.from_mapping(values).ranker_lr == 0.001
    with pytest.raises(ValueError, match="expected NAME=VALUE"):
        AGNetSettings.parse_assignments(["ranker_lr"])


def spearman(a, b):
    return np.corrcoef(np.argsort(np.argsort(a)), np.argsort(np.argsort(b)))[0, 1]


def test_ranker_orders_unseen_architectures_and_refits_deterministically(api):
    """Fitted to 64 evaluated cells of the real table, the ranker orders 500 other cells by
    their true validation accuracy; a fresh search with the same seed and observations fits the
    same ranker (what a resumed run relies on), another seed a different one; the fit does not
    touch the global torch RNG."""
    oracle = api["nb201_oracle"]
    keys = oracle.keys()
    order = np.random.default_rng(1).permutation(len(keys))

    def fitted(seed):
        search = shipped_search(seed=seed, predictor_input="generated+encoding", ranker_acquisition="mean")
        for i in order[:64]:
            search.observe(keys[i], oracle.query(keys[i])["val_acc"])
        return search

    search = fitted(0)
    held_out = [keys[i] for i in order[64:564]]
    torch.manual_seed(123)
    expected_draw = torch.rand(1)
    torch.manual_seed(123)
    search.fit_ranker()
    assert torch.rand(1) == expected_draw
    scores = search._rank_scores(held_out)
    truth = [oracle.query(a)["val_acc"] for a in held_out]
    assert spearman(scores, truth) > 0.5  # 0.62 here; a ranker that cannot order gives about 0
    np.testing.assert_array_equal(fitted(0)._rank_scores(held_out), scores)  # fits on first use
    assert not np.array_equal(fitted(1)._rank_scores(held_out), scores)
    search.observe(*held_out[0:1], truth[0])  # a new observation: the next scoring refits
    assert not np.array_equal(search._rank_scores(held_out[1:]), scores[1:])


def test_ranker_fit_is_timed_apart_from_retraining(api):
    spec = observed_search(api, retrain_epochs=1)
    both = observed_search(api, retrain_epochs=1, predictor_input="generated+encoding")
    spec.propose()
    both.propose()
    assert spec.timings.rank_fit == 0.0 and spec.timings.per_iteration[0]["rank_fit_s"] == 0.0
    assert both.timings.rank_fit > 0.0 and both.timings.per_iteration[0]["rank_fit_s"] == both.timings.rank_fit


def test_ranker_acquisitions_score_from_the_members_mean_and_spread(api):
    """"ucb" adds ``ranker_explore`` spreads to the members' mean ("mean"); "its" draws one value
    per candidate around it, repeatably for the same seed and observations, from its own
    generator: the global numpy RNG and the search's own streams do not move."""
    oracle = api["nb201_oracle"]
    keys = oracle.keys()
    order = np.random.default_rng(2).permutation(len(keys))
    held_out = [keys[i] for i in order[48:348]]

    def fitted(**settings):
        search = shipped_search(seed=0, predictor_input="generated+encoding", **settings)
        for i in order[:48]:
            search.observe(keys[i], oracle.query(keys[i])["val_acc"])
        search.fit_ranker()
        return search

    mean = np.asarray(fitted(ranker_acquisition="mean")._rank_scores(held_out))
    search = fitted(ranker_acquisition="ucb")
    members = search.ranker.predict(search._encoding(*search.codec.encode(held_out)).numpy())
    spread = np.asarray(search.scores).std() * members.std(axis=0)
    assert spread.min() > 0  # the members disagree
    np.testing.assert_allclose(search._rank_scores(held_out), mean + 0.5 * spread, rtol=1e-9)
    wide = fitted(ranker_acquisition="ucb", ranker_explore=2.0)._rank_scores(held_out)
    np.testing.assert_allclose(wide, mean + 2.0 * spread, rtol=1e-9)
    np.testing.assert_allclose(fitted(ranker_acquisition="ucb", ranker_explore=0.0)._rank_scores(held_out),
                               mean, rtol=1e-12)

    assert AGNetSettings().ranker_acquisition == "its"  # the default
    its = fitted()
    np.random.seed(5)
    expected_global = np.random.rand()
    np.random.seed(5)
    own_state, torch_states = its.rng.bit_generator.state, (its.torch_rng.get_state(), torch.get_rng_state())
    draws = np.asarray(its._rank_scores(held_out))
    assert np.random.rand() == expected_global and its.rng.bit_generator.state == own_state
    assert all(torch.equal(a, b) for a, b in zip(torch_states, (its.torch_rng.get_state(), torch.get_rng_state())))
    np.testing.assert_array_equal(fitted(ranker_acquisition="its")._rank_scores(held_out), draws)
    z = (draws - mean) / spread  # standard normal draws if "its" samples N(mean, spread)
    assert abs(z.mean()) < 0.3 and 0.8 < z.std() < 1.2
    assert spearman(draws, mean) > 0.3  # the draws still follow the mean


def test_ranker_acquisition_is_checked():
    with pytest.raises(ValueError, match="ranker_acquisition must be one of 'mean', 'ucb', 'its'"):
        AGNetSettings(ranker_acquisition="ei").validate()
    with pytest.raises(ValueError, match="ranker_explore must be >= 0"):
        AGNetSettings(ranker_explore=-1.0).validate()

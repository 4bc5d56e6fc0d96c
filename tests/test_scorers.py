"""The candidate scorers' contract, on the real NB201 table (cifar10): every registered scorer fits,
ranks held-out architectures better than chance, is deterministic for a seed, and trains the
generator as it says; then what each one adds (the ranker's acquisitions, XGB's parameters, the
rank loss of XGB + ranking reaching the generator)."""
import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from naslib_agnet.bridge import make_nb201_dataset_api
from naslib_agnet.model import reconstruction_loss
from naslib_agnet.model.train_step import train_step
from naslib_agnet.search import AGNetSearch, AGNetSettings
from naslib_agnet.search.scorers import SCORERS, Candidates, discrete_encoding
from naslib_agnet.spaces import get_codec
from naslib_agnet.weights import load_generator

pytest.importorskip("xgboost", reason="the XGB scorers need xgboost (make test installs xgboost-cpu)")

from naslib_agnet.compat import naslib_importable  # noqa: E402

#: scorers whose library is missing here (the NASLib predictors: tests/test_naslib_predictor.py runs them)
NEEDS_NASLIB = pytest.mark.skipif(not naslib_importable(), reason="the naslib scorer needs NASLib (docs/naslib.md)")


def scorer_params(*, spec_mark=None):
    """Every registered scorer as a test parameter, with the marks its environment needs."""
    params = []
    for name in sorted(SCORERS):
        marks = [NEEDS_NASLIB] if name == "naslib" else []
        if name == "spec" and spec_mark is not None:
            marks.append(spec_mark)
        params.append(pytest.param(name, marks=marks))
    return params


@pytest.fixture(scope="module")
def api(data_dir):
    return make_nb201_dataset_api(data_dir, "cifar10")


@pytest.fixture(scope="module")
def split(api):
    """200 cells to fit on and 500 others to rank, drawn once."""
    oracle = api["nb201_oracle"]
    keys = oracle.keys()
    order = np.random.default_rng(7).permutation(len(keys))
    fit = [keys[i] for i in order[:200]]
    held = [keys[i] for i in order[200:700]]
    val = lambda archs: [oracle.query(a)["val_acc"] for a in archs]  # noqa: E731
    return fit, val(fit), held, np.asarray(val(held))


def make_search(scorer, seed=0, scorer_settings=None, **loop):
    state, cfg = load_generator("nasbench201", "default")
    settings = AGNetSettings.build(scorer=scorer, loop=loop, scorer_settings=scorer_settings)
    return AGNetSearch(get_codec("nasbench201"), settings, generator_state=state, generator_config=cfg, seed=seed)


def fitted(scorer, split, seed=0, retrain_epochs=3, **scorer_settings):
    """A search of ``scorer`` that observed the 200 fit cells, retrained and fitted its scorer."""
    fit, fit_val, _, _ = split
    search = make_search(scorer, seed=seed, scorer_settings=scorer_settings or None, retrain_epochs=retrain_epochs)
    for arch, value in zip(fit, fit_val):
        search.observe(arch, value)
    search.retrain()
    search.scorer.fit(search.observations())
    return search


def held_out_scores(search, archs):
    """The scorer's values for ``archs``; a scorer that reads the generator output gets the output of
    the latent point that reconstructs each one best among a few draws (its encoding, softened)."""
    codec = search.codec
    nodes, edges = codec.encode(archs)
    outputs = None
    if search.scorer.reads_outputs:  # the output a candidate would come with: logits that decode to it
        onehot = discrete_encoding(codec, nodes, edges)
        n = codec.num_classes * codec.max_nodes
        outputs = torch.cat([(onehot[:, :n] * 2 - 1) * 6, (onehot[:, n:] * 2 - 1) * 6], 1)
    return np.asarray(search.scorer.score(Candidates(list(archs), nodes, edges, outputs)), dtype=np.float64)


SPEC_DOES_NOT_RANK = pytest.mark.xfail(strict=True, reason=(
    "the spec's joint predictor does not rank: Spearman 0.04 / -0.03 / 0.01 on 500 of its own candidates "
    "after 3 / 10 / 30 retraining epochs on 200 cells (ranker: 0.70 / 0.54 / 0.55); docs/variants.md"))


def candidate_ranking(search):
    """Spearman of the scorer's values of 500 generated candidates (unseen cells) with their validation accuracy."""
    search.settings.loop.num_candidates = 500
    candidates = search.generate_candidates()
    oracle_truth = [ORACLE["nb201_oracle"].query(a)["val_acc"] for a, _ in candidates]
    assert len(candidates) == 500
    return spearmanr([v for _, v in candidates], oracle_truth).statistic


ORACLE = {}


@pytest.mark.parametrize("name", scorer_params(spec_mark=SPEC_DOES_NOT_RANK))
def test_every_scorer_ranks_held_out_cells_better_than_chance(name, split, api):
    """Fitted on 200 cells of the real table, each scorer orders 500 others by validation accuracy
    (Spearman > 0.3; scores that ignore the cells give about 0): for a scorer of encodings the 500
    held-out cells of the split, for one of generator outputs (spec) 500 candidates it generated."""
    ORACLE.update(api)
    _, _, held, truth = split
    settings = {"acquisition": "mean"} if name == "ranker" else {}
    search = fitted(name, split, **settings)
    if search.scorer.reads_outputs:
        rho = candidate_ranking(search)
    else:
        scores = held_out_scores(search, held)
        assert scores.shape == (500,) and np.isfinite(scores).all()
        rho = spearmanr(scores, truth).statistic
    assert rho > 0.3, f"{name}: Spearman {rho:.2f}"


@pytest.mark.parametrize("name", scorer_params())
def test_every_scorer_is_deterministic_for_a_seed(name, split):
    _, _, held, _ = split
    a = held_out_scores(fitted(name, split, seed=3, retrain_epochs=1), held[:100])
    b = held_out_scores(fitted(name, split, seed=3, retrain_epochs=1), held[:100])
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", scorer_params())
def test_every_scorer_proposes_through_the_loop(name, api):
    oracle = api["nb201_oracle"]
    search = make_search(name, retrain_epochs=1)
    for key in oracle.keys()[:16]:
        search.observe(key, oracle.query(key)["val_acc"])
    chosen = search.propose()
    assert len(chosen) == 16 and len(set(chosen)) == 16 and not set(chosen) & set(search.archs)
    values = dict(search.last_candidates)
    assert sorted((values[a] for a in chosen), reverse=True) == sorted(values.values(), reverse=True)[:16]


def broken_scorer_fails_the_contract(split):
    """A scorer that returns noise fails the held-out test above (checks the test can fail)."""
    _, _, held, truth = split
    noise = np.random.default_rng(0).normal(size=len(held))
    return spearmanr(noise, truth).statistic <= 0.3


def test_the_contract_catches_a_scorer_that_ranks_at_random(split):
    assert broken_scorer_fails_the_contract(split)


# --------------------------------------------------------------------------------- the losses
def step_grads(search, seed=3):
    obs = search.observations()
    idx = np.arange(16)
    targets = search._targets()[idx]
    weights = search._weights()[idx].astype(np.float32)
    z = torch.randn(16, search.generator.latent_dim, generator=torch.Generator().manual_seed(seed))
    for p in [*search.generator.parameters(), *search.scorer.parameters()]:
        p.grad = None
    train_step(search.generator, z, obs.nodes[idx], obs.edges[idx],
               search._objective(obs.nodes[idx], obs.edges[idx], targets, weights), engine="reference")
    return [p.grad.clone() for p in search.generator.parameters()], z, idx, weights


def recon_only_grads(search, z, idx, weights):
    obs = search.observations()
    out = search.generator(z)
    recon = reconstruction_loss(out, torch.from_numpy(obs.nodes[idx]), torch.from_numpy(obs.edges[idx]),
                                search.generator.config)
    loss = ((1 - search.settings.loop.alpha) * torch.from_numpy(weights) * recon).mean()
    return torch.autograd.grad(loss, list(search.generator.parameters()))


@pytest.mark.parametrize("name", ["encoding", "xgb"])
def test_scorers_apart_from_the_generator_leave_it_the_reconstruction_gradient(name, split):
    search = fitted(name, split, retrain_epochs=0)
    grads, z, idx, w = step_grads(search)
    for a, b in zip(grads, recon_only_grads(search, z, idx, w)):
        torch.testing.assert_close(a, b)


def test_spec_scorer_gradient_reaches_the_generator(split):
    search = fitted("spec", split, retrain_epochs=0)
    grads, z, idx, w = step_grads(search)
    assert any(not torch.allclose(a, b, atol=1e-7) for a, b in zip(grads, recon_only_grads(search, z, idx, w)))


def test_xgb_ranking_rank_loss_reaches_the_generator_and_moves_ranks_toward_the_truth(split):
    """Not QUIRK-8: the generator's gradient under XGB + ranking differs from the reconstruction-only
    gradient, and steps along the rank term alone bring the ranks of the model's scores of the
    generated outputs closer to the batch's true ranks."""
    from naslib_agnet.model.blackbox import expected_score, rank_descending

    search = fitted("xgb_ranking", split, retrain_epochs=0, samples=16)  # the direction, with a finer estimate
    grads, z, idx, w = step_grads(search)
    recon = recon_only_grads(search, z, idx, w)
    diff = sum(float((a - b).norm()) for a, b in zip(grads, recon))
    assert diff > 0.1 * sum(float(b.norm()) for b in recon)  # here 1.3 against 0.001

    codec, scorer = search.codec, search.scorer
    true_rank = rank_descending(torch.tensor(np.asarray(search.scores)[idx]))

    def rank_error():
        """Mean squared rank error of the model's expected scores of the generated outputs (256 draws each)."""
        with torch.no_grad():
            scores = expected_score(scorer.predict, search.generator(z), codec.num_classes, codec.max_nodes, 256,
                                    torch.Generator().manual_seed(0))
        return float(((rank_descending(scores) - true_rank) ** 2).mean())

    before = rank_error()
    opt = torch.optim.SGD(search.generator.parameters(), lr=0.05)
    errors = []
    for _ in range(20):
        g, _, _, _ = step_grads(search, seed=3)  # same z: reconstruction plus the rank term
        r = recon_only_grads(search, z, idx, w)
        for p, a, b in zip(search.generator.parameters(), g, r):
            p.grad = a - b  # the rank term alone
        opt.step()
        errors.append(rank_error())
    assert np.mean(errors[-5:]) < 0.85 * before, (before, errors)  # 49.2 -> 26.8 here


def test_xgb_uses_the_specs_parameters_and_refits_from_scratch(split):
    search = fitted("xgb", split, retrain_epochs=0)
    import json

    tree = json.loads(search.scorer.booster.save_config())["learner"]["gradient_booster"]["tree_train_param"]
    assert {k: float(tree[k]) for k in ("max_depth", "eta", "min_child_weight", "colsample_bytree",
                                        "colsample_bylevel")} == pytest.approx(
        {"max_depth": 6, "eta": 0.3, "min_child_weight": 1, "colsample_bytree": 1, "colsample_bylevel": 1})
    assert search.scorer.booster.num_boosted_rounds() == 500
    search.scorer.fit(search.observations())
    assert search.scorer.booster.num_boosted_rounds() == 500  # refitted, not continued


def test_ranker_trains_as_the_spec_and_scores_with_its_ensemble(split):
    """The ranker leaves the spec's training untouched (same generator and predictor after a
    retraining, bit for bit) and alone scores the candidates: the members' mean on each
    candidate's encoding, in accuracy units."""
    spec = fitted("spec", split, retrain_epochs=1)
    ranker = fitted("ranker", split, retrain_epochs=1, acquisition="mean")
    for a, b in zip([*spec.generator.parameters(), *spec.predictor.parameters()],
                    [*ranker.generator.parameters(), *ranker.predictor.parameters()]):
        assert torch.equal(a, b)
    _, _, held, _ = split
    nodes, edges = ranker.codec.encode(held[:50])
    members = ranker.scorer.members(Candidates(list(held[:50]), nodes, edges, None))
    scores = np.asarray(ranker.scores)
    np.testing.assert_allclose(held_out_scores(ranker, held[:50]), scores.mean() + scores.std() * members.mean(0),
                               rtol=1e-6)


def test_ranker_acquisitions(split):
    """"ucb" adds ``explore`` spreads to the members' mean; "its" draws around it, repeatably."""
    _, _, held, _ = split
    mean = held_out_scores(fitted("ranker", split, retrain_epochs=0, acquisition="mean"), held)
    ucb = fitted("ranker", split, retrain_epochs=0, acquisition="ucb", explore=2.0)
    nodes, edges = ucb.codec.encode(held)
    spread = np.asarray(ucb.scores).std() * ucb.scorer.members(Candidates(list(held), nodes, edges, None)).std(0)
    np.testing.assert_allclose(held_out_scores(ucb, held), mean + 2.0 * spread, rtol=1e-9)
    its = held_out_scores(fitted("ranker", split, retrain_epochs=0), held)
    z = (its - mean) / spread
    assert abs(z.mean()) < 0.3 and 0.8 < z.std() < 1.2

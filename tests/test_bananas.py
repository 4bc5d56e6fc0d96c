"""BANANAS and NPENAS on the real NB201 table: path encoding, NASLib's contract and algorithm, determinism."""
from functools import partial

import numpy as np
import pytest
import torch

from naslib_agnet.baselines import Bananas, Npenas, RandomSearch
from naslib_agnet.baselines.bananas import acquisition_values
from naslib_agnet.baselines.encodings import (PATH_ENCODING_LENGTH, encode_adjacency_one_hot, encode_paths,
                                              path_indices)
from naslib_agnet.bridge import MetaOptimizer, NasBench201Space, make_nb201_dataset_api
from naslib_agnet.model.ensemble import MLP_DEFAULTS, MLPEnsemble

from .helpers import CountingOracle, make_optimizer

# a small, fast predictor for the tests; the defaults (NASLib's) are checked separately
FAST = {"mlp_epochs": 30, "mlp_num_layers": 4}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """The runners train the predictor with one torch thread (as naslib_agnet.cli does); so do the tests."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def api(data_dir):
    return make_nb201_dataset_api(data_dir, "cifar10")


make = partial(make_optimizer, space=NasBench201Space, dataset="cifar10")


def hamming(a, b):
    return sum(x != y for x, y in zip(a, b))


# ----------------------------------------------------------------------------- encodings
def test_path_encoding_matches_naslib_definition():
    assert PATH_ENCODING_LENGTH == 5 + 25 + 125 == 155
    ops = (0, 1, 2, 3, 4, 0)
    # NASLib's blueprints [[3], [0, 4], [1, 5], [0, 2, 5]]: 3 | 5 + 0 + 4*5 | 5 + 1 + 0 | 30 + 0 + 2*5 + 0
    assert tuple(path_indices(ops)) == (3, 25, 6, 40)
    enc = encode_paths(ops)
    assert enc.shape == (155,) and set(np.flatnonzero(enc)) == {3, 6, 25, 40}
    # the cell's true paths: 0->3 | 0->1,1->3 | 0->2,2->3 | 0->1,1->2,2->3
    assert tuple(path_indices(ops, naslib_compatible=False)) == (2, 25, 6, 30 + 0 + 3 * 5 + 0)
    # equal length-2 paths share a bit
    assert encode_paths((2,) * 6).sum() == 3 and set(np.flatnonzero(encode_paths((2,) * 6))) == {2, 17, 92}
    batch = np.random.RandomState(0).randint(5, size=(50, 6))
    assert np.array_equal(encode_paths(batch), np.stack([encode_paths(row) for row in batch]))
    assert encode_adjacency_one_hot(ops).shape == (30,)
    assert np.array_equal(encode_adjacency_one_hot(batch).reshape(50, 6, 5).argmax(-1), batch)
    with pytest.raises(ValueError):
        encode_paths((0, 1, 2, 3, 5, 0))


# ----------------------------------------------------------------------------- config and parts
def test_defaults_are_naslib_nas_bench_suite():
    opt = Bananas({"dataset": "cifar10", "search": {"epochs": 10}})
    assert (opt.num_init, opt.k, opt.num_ensemble, opt.acq_fn_type, opt.acq_fn_optimization, opt.encoding_type,
            opt.num_arches_to_mutate, opt.max_mutations, opt.num_candidates, opt.predictor_type) == \
        (10, 10, 3, "its", "mutation", "path", 5, 1, 200, "bananas")
    assert opt.mlp_hyperparams == MLP_DEFAULTS == {"num_layers": 20, "layer_width": 20, "batch_size": 32,
                                                   "lr": 0.001, "regularization": 0.2, "epochs": 500,
                                                   "loss": "mae"}
    npenas = Npenas({"dataset": "cifar10", "search": {"acq_fn_type": "its", "acq_fn_optimization": "random_sampling"}})
    assert (npenas.acq_fn_type, npenas.acq_fn_optimization, npenas.num_candidates) == ("exploit_only", "mutation", 200)
    for bad in ({"acq_fn_type": "pi"}, {"acq_fn_optimization": "evolution"}, {"predictor_type": "gcn"}):
        with pytest.raises(ValueError):
            Bananas({"dataset": "cifar10", "search": bad})
    with pytest.raises(RuntimeError, match="adapt_search_space"):
        opt.new_epoch(0)


def test_mlp_ensemble_fits_and_acquisitions():
    rng = np.random.RandomState(0)
    x = encode_paths(rng.randint(5, size=(40, 6)))
    y = 80 + 10 * x[:, :5].sum(1)  # a learnable target on the raw (percent) scale
    torch.manual_seed(0)
    ens = MLPEnsemble(3, epochs=150, num_layers=4)
    errors = ens.fit(x, y)
    assert errors.shape == (3,) and errors.max() < 3.0
    preds = ens.predict(x[:7])
    assert preds.shape == (3, 7) and not np.allclose(preds[0], preds[1])  # independent members
    mean, std = preds.mean(0), preds.std(0)
    assert np.allclose(acquisition_values(preds, y, "exploit_only"), mean)
    assert np.allclose(acquisition_values(preds, y, "ucb"), mean + 0.5 * std)
    ei = acquisition_values(preds, y, "ei")
    assert ei.shape == (7,) and np.all(ei >= 0)
    np.random.seed(1)
    its = acquisition_values(preds, y, "its")
    np.random.seed(1)
    assert np.allclose(its, np.random.normal(mean, std))


# ----------------------------------------------------------------------------- the search
@pytest.mark.parametrize("cls", [Bananas, Npenas])
def test_contract_one_query_per_epoch_and_mutation_candidates(api, cls):
    counting = CountingOracle(api["nb201_oracle"])
    opt = make(cls, {**api, "nb201_oracle": counting}, num_init=8, k=5, num_arches_to_mutate=3,
               num_candidates=60, **FAST)
    assert isinstance(opt, MetaOptimizer) and opt.using_step_function is False
    evaluated = set()
    for epoch in range(30):
        before = counting.calls
        fits = opt.fits
        ranked = sorted(opt.history, key=lambda m: m.accuracy)  # the state a new proposal sees
        opt.new_epoch(epoch)
        assert counting.calls - before == 1 and len(opt.history) == epoch + 1
        new = opt.history[-1].arch.get_hash()
        assert new not in evaluated  # never evaluated twice
        evaluated.add(new)
        if epoch < 8:
            assert opt.fits == 0
            continue
        if opt.fits > fits:  # a new proposal: k best of the unevaluated mutations of the top architectures
            assert len(opt.next_batch) == min(5, len(opt.candidates)) - 1
            parents = [a.get_hash() for a in opt.parents]
            assert sorted(m.accuracy for m in ranked[-3:]) == sorted(
                next(m.accuracy for m in ranked if m.arch.get_hash() == p) for p in parents)
            cands = [c.get_hash() for c in opt.candidates]
            assert len(cands) == len(set(cands)) and not set(cands) & (evaluated - {new})
            assert all(any(hamming(c, p) == 1 for p in parents) for c in cands)
            batch = {a.get_hash() for a in opt.next_batch} | {new}
            assert batch <= set(cands)
        assert any(hamming(new, p.get_hash()) == 1 for p in opt.parents)
    assert opt.fits >= 4
    oracle = api["nb201_oracle"]
    assert [m.accuracy for m in opt.history] == [oracle.query(m.arch.get_hash())["val_acc"] for m in opt.history]
    assert opt.get_final_architecture().query(opt.performance_metric, "cifar10", dataset_api=api) == \
        max(m.accuracy for m in opt.history)
    assert len(opt.train_statistics()) == 4


@pytest.mark.parametrize("search", [{"acq_fn_optimization": "random_sampling", "acq_fn_type": "ucb"},
                                    {"acq_fn_type": "ei", "max_mutations": 2},
                                    {"acq_fn_type": "exploit_only"}])
def test_other_acquisitions_and_random_sampling(api, search):
    opt = make(Bananas, api, num_init=5, k=4, num_candidates=40, **search, **FAST)
    for epoch in range(13):
        opt.new_epoch(epoch)
    hashes = [m.arch.get_hash() for m in opt.history]
    assert len(hashes) == len(set(hashes)) == 13 and opt.fits == 2
    if search.get("acq_fn_optimization") == "random_sampling":
        assert opt.parents == [] and len(opt.candidates) > 30
    else:
        limit = search.get("max_mutations", 1)
        assert all(min(hamming(c.get_hash(), p.get_hash()) for p in opt.parents) <= limit for c in opt.candidates)


def test_naslib_quirks_chain_mutations_and_allow_repeats(api):
    """``naslib_quirks``: each parent's candidates form NASLib's random walk (candidate i+1 is one
    mutation from candidate i), and nothing is filtered, so duplicates and evaluated ones stay."""
    opt = make(Bananas, api, num_init=6, k=30, num_arches_to_mutate=2, num_candidates=40, naslib_quirks=True,
               **FAST)
    for epoch in range(7):
        opt.new_epoch(epoch)
    assert opt.fits == 1 and len(opt.candidates) == 40  # 2 parents x 20, none dropped
    for j, parent in enumerate(opt.parents):
        walk = [parent.get_hash()] + [c.get_hash() for c in opt.candidates[20 * j:20 * (j + 1)]]
        assert all(hamming(a, b) == 1 for a, b in zip(walk, walk[1:]))
        assert max(hamming(parent.get_hash(), c) for c in walk) > 1  # a walk, not children of the parent
    for epoch in range(7, 60):
        opt.new_epoch(epoch)
    hashes = [m.arch.get_hash() for m in opt.history]
    assert len(hashes) == 60 and len(set(hashes)) < 60  # NASLib re-evaluates architectures
    with pytest.raises(ValueError, match="naslib_quirks must be true or false"):
        make(Bananas, api, naslib_quirks="yes")


def test_deterministic_under_seeds(api):
    def run(seed):
        opt = make(Bananas, api, seed, num_init=5, k=5, **FAST)
        for epoch in range(15):
            opt.new_epoch(epoch)
        return [m.arch.get_hash() for m in opt.history]

    assert run(3) == run(3) != run(4)


def test_bananas_beats_random_search(api):
    def best(cls, seed, **search):
        opt = make(cls, api, seed, **search)
        for epoch in range(100):
            opt.new_epoch(epoch)
        return max(m.accuracy for m in opt.history)

    seeds = range(3)
    rs = np.mean([best(RandomSearch, s) for s in seeds])
    bananas = np.mean([best(Bananas, s, mlp_epochs=60, mlp_num_layers=5) for s in seeds])
    assert bananas > rs


@pytest.mark.parametrize("loss", ["mae", "mse"])
def test_mlp_ensemble_numpy_gradient_matches_autograd(loss):
    torch.manual_seed(0)
    ens = MLPEnsemble(3, num_layers=5, layer_width=7, loss=loss, regularization=0.2)
    ens._init(11)
    ens._params = ens.flat.detach().numpy()
    rng = np.random.RandomState(0)
    x = rng.rand(3, 9, 11).astype(np.float32)
    y = (rng.rand(3, 9) * 10).astype(np.float32)
    grad = np.zeros_like(ens._params)
    value = ens._loss_and_grad(x, y, grad)
    reference = ens._torch_loss(torch.from_numpy(x), torch.from_numpy(y))
    reference.backward()
    assert value == pytest.approx(reference.item(), rel=1e-5)
    np.testing.assert_allclose(grad, ens.flat.grad.numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ens._np_forward(x)[..., 0], ens._forward(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)


def test_training_on_the_active_input_columns_is_the_same_training():
    from naslib_agnet.model.ensemble import MLPEnsemble

    rng = np.random.default_rng(0)
    x = np.zeros((40, 300), dtype=np.float32)
    for row in x:  # sparse bits, as DARTS' path encoding; most columns never set
        row[rng.choice(60, 6, replace=False)] = 1.0
    y = x[:, :10].sum(1) + rng.normal(0, 0.1, 40)
    test = np.zeros((15, 300), dtype=np.float32)
    for row in test:
        row[rng.choice(120, 6, replace=False)] = 1.0  # also columns no training row has
    preds = []
    for reduce in (True, False):
        torch.manual_seed(3)
        ens = MLPEnsemble(3, epochs=30)
        ens.reduce_inputs = reduce
        train_mae = ens.fit(x, y)
        preds.append((ens.predict(test), train_mae, ens.flat.detach().clone()))
    np.testing.assert_allclose(preds[0][0], preds[1][0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(preds[0][1], preds[1][1], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(preds[0][2], preds[1][2], rtol=1e-4, atol=1e-5)

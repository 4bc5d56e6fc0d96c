"""The built-in RS, RE and LS baselines on the real NB201 table: NASLib's contract, algorithms, determinism."""
from functools import partial

import numpy as np
import pytest
import torch

from naslib_agnet.baselines import LocalSearch, RandomSearch, RegularizedEvolution
from naslib_agnet.bridge import MetaOptimizer, NasBench201Space, make_nb201_dataset_api

from .helpers import CountingOracle, make_optimizer

BASELINES = [RandomSearch, RegularizedEvolution, LocalSearch]


class Attrs:
    """An attribute-style config node, like NASLib's CfgNode."""

    def __init__(self, **kw):
        self.__dict__.update(kw)


@pytest.fixture(scope="module")
def api(data_dir):
    return make_nb201_dataset_api(data_dir, "cifar10")


make = partial(make_optimizer, space=NasBench201Space, dataset="cifar10")


def run(cls, api, queries, seed=0, **search):
    opt = make(cls, api, seed, **search)
    for epoch in range(queries):
        opt.new_epoch(epoch)
    return opt


def hamming(a, b):
    return sum(x != y for x, y in zip(a.get_hash(), b.get_hash()))


@pytest.mark.parametrize("cls", BASELINES)
def test_metaoptimizer_contract(api, cls):
    counting = CountingOracle(api["nb201_oracle"])
    opt = make(cls, {**api, "nb201_oracle": counting}, num_init=5, population_size=8, sample_size=3)
    assert isinstance(opt, MetaOptimizer) and opt.using_step_function is False
    assert opt.last_architecture is None
    for epoch in range(60):  # through the random phase, mutations, neighbourhoods and restarts
        before = counting.calls
        opt.new_epoch(epoch)
        assert counting.calls - before == 1  # exactly one new table lookup per epoch
        assert len(opt.history) == epoch + 1
        assert opt.last_architecture is opt.history[-1].arch
    oracle = api["nb201_oracle"]
    assert [m.accuracy for m in opt.history] == [oracle.query(m.arch.get_hash())["val_acc"] for m in opt.history]

    best = opt.get_final_architecture()
    assert best.query(opt.performance_metric, "cifar10", dataset_api=api) == max(m.accuracy for m in opt.history)
    stats = opt.train_statistics(report_incumbent=True)
    assert len(stats) == 4
    assert stats == (-1, oracle.query(best.get_hash())["val_acc"], oracle.query(best.get_hash())["test_acc"], -1)
    latest = oracle.query(opt.last_architecture.get_hash())
    assert opt.train_statistics(report_incumbent=False) == (-1, latest["val_acc"], latest["test_acc"], -1)
    assert opt.test_statistics() == oracle.query(best.get_hash())
    with pytest.raises(NotImplementedError):
        opt.get_op_optimizer()
    model = opt.get_checkpointables()["model"]
    assert isinstance(model, torch.nn.Module)
    model.load_state_dict(model.state_dict())
    assert opt.get_model_size() == 0


@pytest.mark.parametrize("cls", BASELINES)
def test_attribute_config_and_defaults(api, cls):
    opt = cls(Attrs(dataset="cifar10", search=Attrs(epochs=10)))
    assert opt.dataset == "cifar10"
    if cls is RegularizedEvolution:
        assert (opt.sample_size, opt.population_size) == (10, 50)
    if cls is LocalSearch:
        assert opt.num_init == 10
    opt = cls(Attrs(dataset="cifar10", search=Attrs(sample_size=4, population_size=20, num_init=3, fidelity=-1)))
    expected = {RandomSearch: ("fidelity", -1), RegularizedEvolution: ("population_size", 20),
                LocalSearch: ("num_init", 3)}[cls]
    assert getattr(opt, expected[0]) == expected[1]
    with pytest.raises(RuntimeError, match="adapt_search_space"):
        opt.new_epoch(0)


@pytest.mark.parametrize("cls", BASELINES)
def test_deterministic_under_np_seed(api, cls):
    runs = [[m.arch.get_hash() for m in run(cls, api, 80, seed=s, num_init=5, population_size=10).history]
            for s in (3, 3, 4)]
    assert runs[0] == runs[1] != runs[2]


def test_re_population_and_mutation(api):
    opt = make(RegularizedEvolution, api, population_size=12, sample_size=4)
    for epoch in range(100):
        before = [m.arch for m in opt.population]
        opt.new_epoch(epoch)
        assert len(opt.population) == min(epoch + 1, 12)
        assert opt.population[-1] is opt.history[-1]
        if epoch >= 12:
            child = opt.population[-1].arch
            assert any(hamming(child, p) == 1 for p in before)
            assert opt.population[0] is opt.history[epoch - 11]  # the oldest died


def test_ls_evaluates_neighbours_of_chosen_except_restarts(api):
    opt = make(LocalSearch, api, num_init=5)
    for epoch in range(5):
        opt.new_epoch(epoch)
    assert opt.chosen is None and opt.best_arch.accuracy == max(m.accuracy for m in opt.history)
    moves = restarts = 0
    for epoch in range(5, 300):
        chosen, pending, best = opt.chosen, len(opt.nbhd), opt.best_arch
        opt.new_epoch(epoch)
        last = opt.history[-1]
        if opt.restarts > restarts:  # a restart: only when the neighbourhood ran out without improvement
            restarts = opt.restarts
            assert pending == 0 and best.accuracy <= chosen.accuracy
            assert opt.chosen is last and len(opt.nbhd) == 24
            continue
        assert hamming(last.arch, opt.chosen.arch) == 1  # a neighbour of chosen
        if opt.chosen is not chosen:  # a move: only to the best once the neighbourhood is exhausted
            moves += 1
            assert pending == 0 and opt.chosen is best
            assert chosen is None or best.accuracy > chosen.accuracy
        else:
            assert len(opt.nbhd) == pending - 1
    assert restarts >= 1 and moves >= 2


def test_re_and_ls_beat_random_search(api):
    def mean_best(cls):
        return np.mean([max(m.accuracy for m in run(cls, api, 150, seed=s).history) for s in range(5)])

    rs = mean_best(RandomSearch)
    assert mean_best(RegularizedEvolution) > rs
    assert mean_best(LocalSearch) > rs

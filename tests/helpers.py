"""Small test doubles and builders shared by the test modules."""
import numpy as np
import torch


class CountingOracle:
    """Forwards to the real table and counts its lookups."""

    def __init__(self, oracle):
        self.oracle = oracle
        self.calls = 0

    def query(self, key):
        self.calls += 1
        return self.oracle.query(key)

    def __getattr__(self, name):
        return getattr(self.oracle, name)


def make_optimizer(cls, api, seed=0, *, space, dataset, **search):
    """A black-box optimizer ``cls`` on a fresh ``space()`` with ``search`` settings (100 epochs), after
    seeding numpy and torch as the runner does."""
    np.random.seed(seed)
    torch.manual_seed(seed)
    opt = cls({"dataset": dataset, "search": {"epochs": 100, **search}})
    opt.adapt_search_space(space(), dataset_api=api)
    return opt

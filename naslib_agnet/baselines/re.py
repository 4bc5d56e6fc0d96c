"""Regularized evolution (NASLib's ``RegularizedEvolution``, Real et al. 2019).

The first ``population_size`` epochs fill the population with random architectures.
After that, each epoch draws ``sample_size`` members uniformly *with* replacement,
mutates the best of them (one edge changed) and evaluates the child, which joins the
population while the oldest member leaves (a ``deque(maxlen=population_size)``).
"""
from __future__ import annotations

import collections
from typing import Any

import numpy as np

from ..bridge.blackbox import BlackBoxOptimizer


class RegularizedEvolution(BlackBoxOptimizer):
    """``optimizer: re``. Config: ``search.sample_size`` (default 10), ``search.population_size``
    (default 50, NAS-Bench-Suite's value)."""

    CONFIG_DEFAULTS = {"sample_size": 10, "population_size": 50}

    def __init__(self, config: Any):
        super().__init__(config)
        self.sample_size = int(self.setting("sample_size"))
        self.population_size = int(self.setting("population_size"))
        if self.sample_size < 1 or self.population_size < 1:
            raise ValueError(f"RE needs sample_size >= 1 and population_size >= 1, got "
                             f"{self.sample_size} and {self.population_size}")
        self.population: collections.deque = collections.deque(maxlen=self.population_size)

    def new_epoch(self, epoch):
        if epoch < self.population_size or not self.population:
            arch = self._random_arch()
        else:
            members = list(self.population)
            # one draw at a time, as NASLib's np.random.choice(list(population)) loop does
            sample = [members[np.random.randint(len(members))] for _ in range(self.sample_size)]
            parent = max(sample, key=lambda m: m.accuracy)
            arch = self.search_space.clone()
            arch.mutate(parent.arch, dataset_api=self.dataset_api)
        self.population.append(self._evaluate(arch))

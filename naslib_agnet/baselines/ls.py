"""Local search (NASLib's ``LocalSearch``, White et al. 2020): best-improvement hill climbing with restarts.

The first ``num_init`` epochs evaluate random architectures; the best becomes
``chosen``. Each later epoch evaluates one neighbour popped from ``chosen``'s
(shuffled) neighbourhood. The neighbourhood is evaluated to the end before moving
(NASLib's rule): once it is exhausted, ``chosen`` moves to the best neighbour when one
beat it, and that architecture's neighbourhood is used next; otherwise (a local
optimum) the search restarts: one random architecture is evaluated and becomes
``chosen``, and its neighbourhood is used from the next epoch on. A neighbourhood that is
empty from the start (a sub-benchmark's table may hold no neighbour of a cell) counts as a
local optimum too.
"""
from __future__ import annotations

from typing import Any

from ..bridge.blackbox import BlackBoxOptimizer, _Evaluated


class LocalSearch(BlackBoxOptimizer):
    """``optimizer: ls``. Config: ``search.num_init`` (default 10)."""

    CONFIG_DEFAULTS = {"num_init": 10}

    def __init__(self, config: Any):
        super().__init__(config)
        self.num_init = int(self.setting("num_init"))
        self.nbhd: list = []  # neighbours of ``chosen`` not yet evaluated; popped from the end
        self.chosen: _Evaluated | None = None  # centre of the current neighbourhood
        self.best_arch: _Evaluated | None = None  # best since the last restart (NASLib's name)
        self.restarts = 0

    def new_epoch(self, epoch):
        if epoch < self.num_init or self.best_arch is None:
            model = self._evaluate(self._random_arch())
            if self.best_arch is None or model.accuracy > self.best_arch.accuracy:
                self.best_arch = model
            return
        if not self.nbhd and self.chosen is not None and self.best_arch.accuracy <= self.chosen.accuracy:
            # local optimum: no neighbour of ``chosen`` beat it; restart from a random architecture
            self.restarts += 1
            self.chosen = self.best_arch = self._evaluate(self._random_arch())
            self.nbhd = self.chosen.arch.get_nbhd(dataset_api=self.dataset_api)
            return
        if not self.nbhd:
            # first move after the initial sample, or the best neighbour improved on ``chosen``
            self.chosen = self.best_arch
            self.nbhd = self.chosen.arch.get_nbhd(dataset_api=self.dataset_api)
            if not self.nbhd:
                # no neighbour at all (possible on a sub-benchmark's table, e.g. NB101's 20k cells): a local
                # optimum, so restart as above
                self.restarts += 1
                self.chosen = self.best_arch = self._evaluate(self._random_arch())
                self.nbhd = self.chosen.arch.get_nbhd(dataset_api=self.dataset_api)
                return
        model = self._evaluate(self.nbhd.pop().arch)
        if model.accuracy > self.best_arch.accuracy:
            self.best_arch = model

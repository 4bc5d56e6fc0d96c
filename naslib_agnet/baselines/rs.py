"""Random search (NASLib's ``RandomSearch``): one uniformly random architecture per epoch."""
from __future__ import annotations

from typing import Any

from ..bridge.blackbox import BlackBoxOptimizer


class RandomSearch(BlackBoxOptimizer):
    """``optimizer: rs``. Config: ``search.fidelity`` (default -1: the table's final epoch),
    passed to ``query`` as ``epoch`` as NASLib does."""

    CONFIG_DEFAULTS = {"fidelity": -1}

    def __init__(self, config: Any):
        super().__init__(config)
        self.fidelity = int(self.setting("fidelity"))

    def new_epoch(self, epoch):
        self._evaluate(self._random_arch(), epoch=self.fidelity)

"""NASLib's names when NASLib is importable, local stand-ins with the same contract otherwise.

This is the only module that imports ``naslib``. Everything else in the package uses
``MetaOptimizer`` and ``Metric`` from here.
"""
from __future__ import annotations

import enum
from abc import ABCMeta, abstractmethod

try:  # pragma: no cover - exercised only where NASLib is installed
    from naslib.optimizers.core.metaclasses import MetaOptimizer  # type: ignore[import-not-found]
    from naslib.search_spaces.core.query_metrics import Metric  # type: ignore[import-not-found]

    NASLIB_AVAILABLE = True
except Exception:  # ImportError, or NASLib's own import-time breakage on a current stack
    NASLIB_AVAILABLE = False

    class Metric(enum.Enum):  # type: ignore[no-redef]
        """The members of ``naslib.search_spaces.core.query_metrics.Metric``."""

        RAW = -1
        ALL = 0
        TRAIN_ACCURACY = 1
        VAL_ACCURACY = 2
        TEST_ACCURACY = 3
        TRAIN_LOSS = 4
        VAL_LOSS = 5
        TEST_LOSS = 6
        TRAIN_TIME = 7
        VAL_TIME = 8
        TEST_TIME = 9
        FLOPS = 10
        LATENCY = 11
        PARAMETERS = 12
        EPOCH = 13
        HP = 14

    class MetaOptimizer(metaclass=ABCMeta):  # type: ignore[no-redef]
        """Stand-in for ``naslib.optimizers.core.metaclasses.MetaOptimizer`` (same contract)."""

        using_step_function = True

        def step(self, data_train, data_val):
            raise NotImplementedError()

        def train_statistics(self):
            if self.using_step_function:
                raise NotImplementedError()

        def test_statistics(self):
            return None

        @abstractmethod
        def adapt_search_space(self, search_space, scope=None, dataset_api=None):
            """Called once with the search space (and benchmark data) before the search."""

        def new_epoch(self, epoch):
            """Called at the start of every search epoch; black-box optimizers work here."""

        def before_training(self):
            pass

        def after_training(self):
            pass

        @abstractmethod
        def get_final_architecture(self):
            """The best architecture found, as a queryable search-space graph."""

        @abstractmethod
        def get_op_optimizer(self):
            """One-shot optimizers only; discrete optimizers raise NotImplementedError."""

        def get_model_size(self):
            return 0

        def get_checkpointables(self):
            return {}


def metric_name(metric) -> str:
    """The member name of a NASLib or local ``Metric`` (both enums share their names)."""
    return getattr(metric, "name", str(metric))


__all__ = ["MetaOptimizer", "Metric", "NASLIB_AVAILABLE", "metric_name"]

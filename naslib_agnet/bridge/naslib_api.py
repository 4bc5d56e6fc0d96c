"""NASLib's names when NASLib has been imported, local stand-ins with the same contract otherwise.

This is the only module that binds to ``naslib`` (besides :mod:`naslib_agnet.compat`, which
patches it, and ``--baselines naslib``). Everything else in the package uses
``MetaOptimizer`` and ``Metric`` from here.

Importing this module never imports NASLib and never patches anything. It binds to NASLib's
classes when NASLib has been imported before it, which is what a NASLib user does::

    from naslib_agnet.compat import apply_naslib_compat
    apply_naslib_compat()             # patches NASLib for Python 3.11+ and imports naslib
    from naslib_agnet.bridge import AGNet   # now a subclass of NASLib's MetaOptimizer

Otherwise (the ``naslib-agnet`` commands, NASLib absent or not imported yet) it uses the
stand-ins. :data:`NASLIB_AVAILABLE` says which; :data:`NASLIB_IMPORT_ERROR` says why NASLib's
classes could not be bound although NASLib had been imported.
"""
from __future__ import annotations

import enum
import logging
import sys
from abc import ABCMeta, abstractmethod

logger = logging.getLogger(__name__)

NASLIB_IMPORT_ERROR: str | None = None  # why NASLib was imported but its classes could not be bound

try:  # pragma: no cover - exercised only where NASLib is installed
    if "naslib" not in sys.modules:
        raise ImportError("NASLib has not been imported (call naslib_agnet.compat.apply_naslib_compat() first)")
    from naslib.optimizers.core.metaclasses import MetaOptimizer  # type: ignore[import-not-found]
    from naslib.search_spaces.core.query_metrics import Metric  # type: ignore[import-not-found]

    NASLIB_AVAILABLE = True
except Exception as _exc:  # ImportError, or NASLib's own import-time breakage on a current stack
    NASLIB_AVAILABLE = False
    if "naslib" in sys.modules:
        NASLIB_IMPORT_ERROR = f"{type(_exc).__name__}: {_exc}"
        logger.warning("NASLib is imported but its MetaOptimizer cannot be (%s); using the NASLib-free stand-ins",
                       NASLIB_IMPORT_ERROR)

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


__all__ = ["MetaOptimizer", "Metric", "NASLIB_AVAILABLE", "NASLIB_IMPORT_ERROR", "metric_name"]

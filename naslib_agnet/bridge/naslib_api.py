"""NASLib's names when NASLib is importable, local stand-ins with the same contract otherwise.

This is the only module that imports ``naslib`` (besides :mod:`naslib_agnet.compat`, which
patches it, and the registry's ``--baselines naslib``). Everything else in the package uses
``MetaOptimizer`` and ``Metric`` from here. Where NASLib is on the path, the shims of
:func:`naslib_agnet.compat.apply_naslib_compat` are applied (and logged) before it is
imported, since NASLib does not import on Python 3.11+ without them; ``NASLIB_AGNET_COMPAT=0``
turns that off.
"""
from __future__ import annotations

import enum
import logging
import os
from abc import ABCMeta, abstractmethod

from ..compat import apply_naslib_compat, naslib_importable

logger = logging.getLogger(__name__)

COMPAT_ENV = "NASLIB_AGNET_COMPAT"
NASLIB_IMPORT_ERROR: str | None = None  # why NASLib is on the path but could not be imported

try:  # pragma: no cover - exercised only where NASLib is installed
    if not naslib_importable():
        raise ImportError("No module named 'naslib'")
    # NASLib cannot even be imported on Python 3.11+/numpy 2 without the shims of naslib_agnet.compat
    # (collections.Iterable, ...); set NASLIB_AGNET_COMPAT=0 to import it unpatched
    if os.environ.get(COMPAT_ENV, "1") != "0":
        _patched = apply_naslib_compat()
        if _patched:
            logger.info("NASLib found: applied naslib_agnet.compat shims %s", ", ".join(_patched))
    from naslib.optimizers.core.metaclasses import MetaOptimizer  # type: ignore[import-not-found]
    from naslib.search_spaces.core.query_metrics import Metric  # type: ignore[import-not-found]

    NASLIB_AVAILABLE = True
except Exception as _exc:  # ImportError, or NASLib's own import-time breakage on a current stack
    NASLIB_AVAILABLE = False
    if naslib_importable():
        NASLIB_IMPORT_ERROR = f"{type(_exc).__name__}: {_exc}"
        logger.warning("NASLib is on the path but cannot be imported (%s); using the NASLib-free stand-ins",
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

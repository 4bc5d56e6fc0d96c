"""NASLib's black-box ``MetaOptimizer`` contract around one evaluation per epoch, shared by AG-Net and the baselines.

Like NASLib's discrete optimizers, a subclass evaluates exactly one new architecture
(one ``query(Metric.VAL_ACCURACY)``) per ``new_epoch``; every evaluated architecture
is kept, in order, in :attr:`BlackBoxOptimizer.history` (plain Python, not the
top-100 ``ModuleList`` NASLib keeps: its maximum is the same).
"""
from __future__ import annotations

from typing import Any, ClassVar

import torch

from .naslib_api import MetaOptimizer, Metric


def _get(node, key, default=None):
    """``node[key]`` for a dict, ``node.key`` for an attribute-style config (NASLib's CfgNode)."""
    if isinstance(node, dict):
        return node.get(key, default)
    return getattr(node, key, default)


class _Evaluated(torch.nn.Module):
    """NASLib's per-architecture container: ``.arch`` (a graph) and ``.accuracy`` (val acc)."""

    def __init__(self, arch, accuracy: float):
        super().__init__()
        self.arch = arch
        self.accuracy = accuracy


_NO_DEFAULT = object()


class BlackBoxOptimizer(MetaOptimizer):
    """Base of AG-Net and the built-in baselines: config, ``adapt_search_space``, reports, checkpointables.

    A subclass declares the ``search.*`` keys it reads in ``CONFIG_DEFAULTS`` (inherited ones
    included through :meth:`config_defaults`); they are the defaults of the run configs and of
    :meth:`setting`."""

    using_step_function = False
    CONFIG_DEFAULTS: ClassVar[dict[str, Any]] = {}

    def __init__(self, config: Any):
        super().__init__()
        self.config = config
        self.dataset = _get(config, "dataset")
        self.search_config = _get(config, "search", {})
        self.epochs = _get(self.search_config, "epochs")
        self.performance_metric = Metric.VAL_ACCURACY
        self.history: list[_Evaluated] = []
        self.search_space = None
        self.dataset_api = None
        # NASLib checkpoints its history of parameterless containers; there are no weights to save
        self._checkpoint = torch.nn.Module()

    @classmethod
    def config_defaults(cls) -> dict[str, Any]:
        """The ``search.*`` keys this optimizer reads, with their defaults (``CONFIG_DEFAULTS`` along the MRO)."""
        merged: dict[str, Any] = {}
        for klass in reversed(cls.__mro__):
            merged.update(vars(klass).get("CONFIG_DEFAULTS", {}))
        return merged

    def setting(self, key: str, default: Any = _NO_DEFAULT) -> Any:
        """``config.search.<key>``, or its default (:meth:`config_defaults`, else ``default``) when the
        config has no such key."""
        value = _get(self.search_config, key, None)
        if value is not None:
            return value
        if default is _NO_DEFAULT:
            return self.config_defaults()[key]
        return default

    def adapt_search_space(self, search_space, scope=None, dataset_api=None):
        if not getattr(search_space, "QUERYABLE", False):
            raise ValueError(f"{type(self).__name__} needs a queryable (benchmark) search space")
        self.search_space = search_space.clone()
        self.scope = scope if scope else getattr(search_space, "OPTIMIZER_SCOPE", None)
        self.dataset_api = dataset_api

    # ------------------------------------------------------------------ helpers for new_epoch
    def _random_arch(self):
        """A fresh random graph (not yet evaluated)."""
        if self.search_space is None:
            raise RuntimeError("call adapt_search_space(search_space, dataset_api=...) before new_epoch")
        arch = self.search_space.clone()
        arch.sample_random_architecture(dataset_api=self.dataset_api)
        return arch

    def _evaluate(self, arch, **query_kwargs: Any) -> _Evaluated:
        """The one query of an epoch: validation accuracy of ``arch``, recorded in the history."""
        accuracy = arch.query(self.performance_metric, self.dataset, dataset_api=self.dataset_api,
                              **query_kwargs)
        model = _Evaluated(arch, accuracy)
        self.history.append(model)
        return model

    # --------------------------------------------------------------------------- reports
    def train_statistics(self, report_incumbent=True):
        """(train_acc, valid_acc, test_acc, train_time) of the incumbent, or of the latest architecture."""
        arch = self.get_final_architecture() if report_incumbent else self.last_architecture
        if arch is None:
            raise RuntimeError("no architecture has been evaluated yet")
        query = lambda metric: arch.query(metric, self.dataset, dataset_api=self.dataset_api)  # noqa: E731
        return (query(Metric.TRAIN_ACCURACY), query(Metric.VAL_ACCURACY), query(Metric.TEST_ACCURACY),
                query(Metric.TRAIN_TIME))

    def test_statistics(self):
        return self.get_final_architecture().query(Metric.RAW, self.dataset, dataset_api=self.dataset_api)

    def get_final_architecture(self):
        """The evaluated architecture with the highest validation accuracy (the first one on ties)."""
        if not self.history:
            raise RuntimeError("no architecture has been evaluated yet")
        return max(self.history, key=lambda m: m.accuracy).arch

    @property
    def last_architecture(self):
        """The most recently evaluated architecture (what NASLib's bbo runner reports)."""
        return self.history[-1].arch if self.history else None

    def get_op_optimizer(self):
        raise NotImplementedError()

    def get_checkpointables(self):
        return {"model": self._checkpoint}

    def get_model_size(self):
        return 0.0

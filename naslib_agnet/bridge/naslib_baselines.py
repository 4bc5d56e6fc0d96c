"""NASLib's own black-box optimizers (RS, RE, LS, BANANAS, NPENAS) behind this package's run loop
(``naslib-agnet run|compare --baselines naslib``).

:func:`naslib_baseline_factory` builds NASLib's class inside a :class:`NASLibBaseline`, which
hands it NASLib's ``NasBench201SearchSpace`` and NASLib's NB201 ``dataset_api`` built from
the same table, and reports its architectures back in this package's terms.
"""
from __future__ import annotations

import copy
import functools
import sys
from collections.abc import Callable
from typing import Any

#: the optimizer names whose NASLib class ``--baselines naslib`` runs -> that class in ``naslib.optimizers``
NASLIB_BASELINES = {"rs": "RandomSearch", "re": "RegularizedEvolution", "ls": "LocalSearch",
                    "bananas": "Bananas", "npenas": "Npenas"}


def naslib_baseline_factory(name: str) -> Callable[[Any], "NASLibBaseline"]:
    """``factory(config)`` building NASLib's own ``name`` optimizer inside a :class:`NASLibBaseline`.

    Applies :func:`naslib_agnet.compat.apply_naslib_compat` first (NASLib does not import on
    Python 3.11+/numpy 2 without it) and says so on stderr; a ValueError says how to get NASLib
    when it is missing.
    """
    from ..compat import apply_naslib_compat_announced, naslib_importable

    if not naslib_importable():
        raise ValueError(f"--baselines naslib needs NASLib importable (for {name!r}); put a checkout of "
                         "https://github.com/automl/NASLib (Develop branch) on PYTHONPATH or use --baselines builtin")
    try:
        apply_naslib_compat_announced("--baselines naslib")
        import naslib.optimizers as naslib_optimizers  # type: ignore[import-not-found]
    except Exception as exc:
        raise ValueError(f"--baselines naslib: NASLib is on the path but 'import naslib.optimizers' failed "
                         f"({type(exc).__name__}: {exc}); see docs/naslib.md for the packages it needs") from exc
    naslib_class = getattr(naslib_optimizers, NASLIB_BASELINES[name])
    factory = functools.partial(NASLibBaseline, naslib_class)
    factory.naslib_class = naslib_class  # type: ignore[attr-defined]  # for the run's code fingerprint
    return factory


def naslib_config(config: Any):
    """A NASLib config (fvcore ``CfgNode``, attribute access) from this package's dict config."""
    from fvcore.common.config import CfgNode  # type: ignore[import-not-found]

    if isinstance(config, CfgNode):
        return config
    cfg = CfgNode(_plain(config), new_allowed=True)
    cfg.search.setdefault("seed", cfg.get("seed", 0))
    return cfg


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    return value


class _RecordingTable(dict):
    """NASLib's ``nb201_data`` dict that remembers the last architecture looked up while recording."""

    recording = False
    last_key: str | None = None

    def __getitem__(self, key):
        value = super().__getitem__(key)
        if self.recording:
            self.last_key = key
        return value


@functools.cache
def _light_nb201(naslib_nb201: type) -> type:
    """NASLib's ``NasBench201SearchSpace`` whose ``clone`` is a shallow copy while ``instantiate_model`` is False.

    Without torch modules an NB201 graph is just its op indices (``set_spec``, ``query`` and
    ``get_hash`` use nothing else, as in NASLib's own zero-cost path), so copying the shared
    macro-graph skeleton (NASLib's ``clone`` is a ``deepcopy``, about 0.1-0.7 s here) is not
    needed. Sampling, mutation, neighbourhoods and queries are NASLib's methods, unchanged.
    """

    graph_module = sys.modules[naslib_nb201.__module__]

    class LightNasBench201SearchSpace(naslib_nb201):
        def clone(self):
            if self.instantiate_model:
                return super().clone()
            return copy.copy(self)

        def get_nbhd(self, dataset_api=None):
            """NASLib's ``get_nbhd``, whose ``NasBench201SearchSpace()`` neighbours are light copies here."""
            if self.instantiate_model:
                return super().get_nbhd(dataset_api=dataset_api)
            blank = copy.copy(self)
            blank.op_indices = None
            original = graph_module.NasBench201SearchSpace
            graph_module.NasBench201SearchSpace = lambda: copy.copy(blank)
            try:
                return super().get_nbhd(dataset_api=dataset_api)
            finally:
                graph_module.NasBench201SearchSpace = original

    return LightNasBench201SearchSpace


class NASLibBaseline:
    """One of NASLib's own black-box optimizers (RS/RE/LS/BANANAS/NPENAS) behind this package's run loop.

    ``adapt_search_space`` given this package's :class:`~naslib_agnet.bridge.NasBench201Space`
    and its ``dataset_api`` hands the NASLib optimizer NASLib's own ``NasBench201SearchSpace``
    and NASLib's NB201 ``dataset_api`` (``{"nb201_data": ...}``) built from the same table, so
    the whole search (sampling, mutation, neighbourhoods, predictors) is NASLib's code. The
    space is used without torch modules (``instantiate_model = False``, as NASLib's zero-cost
    path does) and clones shallowly (:func:`_light_nb201`); this changes speed, not results. The
    architecture each ``new_epoch`` evaluated is the last one NASLib looked up in the table;
    :attr:`last_architecture`, :meth:`get_final_architecture` and :meth:`train_statistics`
    answer with this package's NB201 graph and oracle (true test accuracy; NASLib's NB201
    query would answer TEST_ACCURACY from the validation split). Given NASLib's own search
    space, everything is passed through unchanged.
    """

    using_step_function = False

    def __init__(self, naslib_class: type, config: Any):
        self.naslib_class = naslib_class
        self.config = naslib_config(config)
        self.optimizer = naslib_class(self.config)
        self.dataset = self.config.dataset
        self._space = None  # this package's NB201 space (None: NASLib's own space was given)
        self._dataset_api = None
        self._table: _RecordingTable | None = None
        self._last = None

    def adapt_search_space(self, search_space, scope=None, dataset_api=None):
        if isinstance(dataset_api, dict) and "nb201_oracle" in dataset_api:
            from naslib.search_spaces import NasBench201SearchSpace  # type: ignore[import-not-found]

            from ..benchmarks.naslib_format import nb201_naslib_data

            self._space, self._dataset_api = search_space, dataset_api
            self._table = _RecordingTable(nb201_naslib_data(dataset_api["nb201_oracle"], dataset_api["dataset"]))
            search_space, dataset_api = _light_nb201(NasBench201SearchSpace)(), {"nb201_data": self._table}
            search_space.instantiate_model = False
        elif not type(search_space).__module__.startswith("naslib."):
            raise ValueError(f"--baselines naslib runs NASLib's optimizers on nasbench201 only (NASLib's own space "
                             f"given this package's NB201 data); got {type(search_space).__name__}: use --baselines "
                             "builtin for this search space")
        self.optimizer.adapt_search_space(search_space, scope=scope, dataset_api=dataset_api)

    def new_epoch(self, epoch):
        if self._table is None:
            return self.optimizer.new_epoch(epoch)
        self._table.recording, self._table.last_key = True, None
        try:
            self.optimizer.new_epoch(epoch)
        finally:
            self._table.recording = False
        if self._table.last_key is None:
            raise RuntimeError(f"NASLib's {self.naslib_class.__name__} evaluated no architecture in epoch {epoch}")
        self._last = self._ours_from_arch_str(self._table.last_key)

    def _ours_from_arch_str(self, arch_str: str):
        from ..spaces.nasbench201 import nb201_arch_str_to_op_indices

        arch = self._space.clone()
        arch.set_spec(nb201_arch_str_to_op_indices(arch_str))
        return arch

    def _ours(self, naslib_arch):
        arch = self._space.clone()
        arch.set_spec(naslib_arch.get_hash())
        return arch

    @property
    def last_architecture(self):
        """The architecture evaluated in the latest epoch (this package's graph)."""
        return self._last

    def get_final_architecture(self):
        best = self.optimizer.get_final_architecture()
        return best if self._space is None else self._ours(best)

    def train_statistics(self, report_incumbent=True):
        if self._space is None:
            return self.optimizer.train_statistics(report_incumbent)
        from ..bridge.naslib_api import Metric

        arch = self.get_final_architecture() if report_incumbent else self._last
        query = lambda metric: arch.query(metric, self.dataset, dataset_api=self._dataset_api)  # noqa: E731
        return (query(Metric.TRAIN_ACCURACY), query(Metric.VAL_ACCURACY), query(Metric.TEST_ACCURACY),
                query(Metric.TRAIN_TIME))

    def test_statistics(self):
        return self.optimizer.test_statistics()

    def before_training(self):
        self.optimizer.before_training()

    def after_training(self):
        self.optimizer.after_training()

    def get_op_optimizer(self):
        raise NotImplementedError()

    def get_checkpointables(self):
        return self.optimizer.get_checkpointables()

    def get_model_size(self):
        return self.optimizer.get_model_size()

"""The optimizer registry behind ``optimizer: NAME`` in a config.

NASLib's runners hard-code their optimizers; here every optimizer is looked up by name:

* the package's own entries (``agnet`` and the built-in baselines),
* NASLib's classes for the baselines when NASLib is importable and ``baselines="naslib"``,
* other projects' optimizers, registered with :func:`register_optimizer` or through the
  entry-point group ``naslib_agnet.optimizers`` (``name = "package.module:Class"``).

A factory takes the run config and returns an object with NASLib's ``MetaOptimizer``
contract.

NASLib's own baselines (``baselines="naslib"``) are wrapped in :class:`NASLibBaseline`,
which hands them NASLib's ``NasBench201SearchSpace`` and NASLib's NB201 ``dataset_api``
built from the same table, and reports their architectures back in this package's terms.
"""
from __future__ import annotations

import copy
import functools
import sys
from collections.abc import Callable
from importlib import metadata
from typing import Any

ENTRY_POINT_GROUP = "naslib_agnet.optimizers"
NASLIB_BASELINES = {"rs": "RandomSearch", "re": "RegularizedEvolution", "ls": "LocalSearch",
                    "bananas": "Bananas", "npenas": "Npenas"}

Factory = Callable[[Any], Any]
_REGISTRY: dict[str, Factory] = {}


def register_optimizer(name: str, factory: Factory | None = None, *, replace: bool = False):
    """Register ``factory(config) -> optimizer`` under ``name``; usable as a decorator."""

    def add(obj: Factory) -> Factory:
        if name in _REGISTRY and _REGISTRY[name] is not obj and not replace:
            raise ValueError(f"an optimizer named {name!r} is already registered; pass replace=True to override it")
        _REGISTRY[name] = obj
        return obj

    return add(factory) if factory is not None else add


def implementation(name: str, baselines: str = "builtin") -> str:
    """Whose code runs ``optimizer: name``: ``"naslib"`` (NASLib's own class, ``baselines="naslib"``)
    or ``"builtin"`` (this package's, or a registered plugin's). Recorded in every summary.json."""
    return "naslib" if baselines == "naslib" and name in NASLIB_BASELINES else "builtin"


def _builtin() -> None:
    from ..baselines import Bananas, LocalSearch, Npenas, RandomSearch, RegularizedEvolution
    from ..bridge import AGNet, AGNetJoint

    for name, cls in (("agnet", AGNet), ("agnet_joint", AGNetJoint), ("rs", RandomSearch), ("re", RegularizedEvolution), ("ls", LocalSearch),
                      ("bananas", Bananas), ("npenas", Npenas)):
        _REGISTRY.setdefault(name, cls)


def _entry_points() -> dict[str, metadata.EntryPoint]:
    return {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def available_optimizers() -> list[str]:
    _builtin()
    return sorted(set(_REGISTRY) | set(_entry_points()))


def get_optimizer_factory(name: str, baselines: str = "builtin") -> Factory:
    """The factory for ``name``. ``baselines``: ``builtin`` or ``naslib`` (NASLib's own RS/RE/LS/BANANAS/NPENAS)."""
    if baselines not in ("builtin", "naslib"):
        raise ValueError(f"baselines must be 'builtin' or 'naslib', got {baselines!r}")
    if implementation(name, baselines) == "naslib":
        return naslib_baseline_factory(name)
    _builtin()
    if name in _REGISTRY:
        return _REGISTRY[name]
    eps = _entry_points()
    if name in eps:
        return eps[name].load()
    raise ValueError(f"unknown optimizer {name!r}; available: {available_optimizers()}")


# ------------------------------------------------------------------------- NASLib's own baselines
def naslib_baseline_factory(name: str) -> Factory:
    """``factory(config)`` building NASLib's own ``name`` optimizer inside a :class:`NASLibBaseline`.

    Applies :func:`naslib_agnet.compat.apply_naslib_compat` first (NASLib does not import on
    Python 3.11+/numpy 2 without it); a ValueError says how to get NASLib when it is missing.
    """
    from ..compat import apply_naslib_compat, naslib_importable

    if not naslib_importable():
        raise ValueError(f"--baselines naslib needs NASLib importable (for {name!r}); put a checkout of "
                         "https://github.com/automl/NASLib (Develop branch) on PYTHONPATH or use --baselines builtin")
    try:
        apply_naslib_compat()
        import naslib.optimizers as naslib_optimizers  # type: ignore[import-not-found]
    except Exception as exc:
        raise ValueError(f"--baselines naslib: NASLib is on the path but 'import naslib.optimizers' failed "
                         f"({type(exc).__name__}: {exc}); see docs/naslib.md for the packages it needs") from exc
    return functools.partial(NASLibBaseline, getattr(naslib_optimizers, NASLIB_BASELINES[name]))


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

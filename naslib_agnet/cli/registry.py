"""The optimizer registry behind ``optimizer: NAME`` in a config.

NASLib's runners hard-code their optimizers; here every optimizer is looked up by name:

* the package's own entries (``agnet`` and the built-in baselines),
* NASLib's classes for the baselines when NASLib is importable and ``baselines="naslib"``,
* other projects' optimizers, registered with :func:`register_optimizer` or through the
  entry-point group ``naslib_agnet.optimizers`` (``name = "package.module:Class"``).

A factory takes the run config and returns an object with NASLib's ``MetaOptimizer``
contract.
"""
from __future__ import annotations

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
    if baselines == "naslib" and name in NASLIB_BASELINES:
        from ..bridge.naslib_api import NASLIB_AVAILABLE

        if not NASLIB_AVAILABLE:
            raise ValueError(f"--baselines naslib needs NASLib importable (for {name!r}); install NASLib from "
                             "https://github.com/automl/NASLib (Develop branch) or use --baselines builtin")
        import naslib.optimizers as naslib_optimizers  # type: ignore[import-not-found]

        return getattr(naslib_optimizers, NASLIB_BASELINES[name])
    _builtin()
    if name in _REGISTRY:
        return _REGISTRY[name]
    eps = _entry_points()
    if name in eps:
        return eps[name].load()
    raise ValueError(f"unknown optimizer {name!r}; available: {available_optimizers()}")

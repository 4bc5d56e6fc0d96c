"""The optimizer registry behind ``optimizer: NAME`` in a config.

NASLib's runners hard-code their optimizers; here every optimizer is looked up by name:

* the package's own entries (``agnet``, ``agnet_joint`` and the built-in baselines),
* NASLib's classes for the baselines when NASLib is importable and ``baselines="naslib"``
  (:mod:`naslib_agnet.bridge.naslib_baselines`),
* other projects' optimizers, registered with :func:`register_optimizer` or through the
  entry-point group ``naslib_agnet.optimizers`` (``name = "package.module:Class"``).

A factory takes the run config and returns an object with NASLib's ``MetaOptimizer``
contract. It may declare, as attributes (a class's ``ClassVar`` s):

* ``CONFIG_DEFAULTS`` (or ``config_defaults()``): the ``search.*`` keys it reads, with their defaults. These are the
  config's defaults for the keys, so ``KEY VALUE`` overrides of them are accepted;
* ``check_config(config)``: raises ValueError for values it cannot run with (called when
  the config is loaded, so a bad value stops the run before anything is written);
* ``fingerprint(config)``: a dict of what else, besides its code and config, decides its
  results (AG-Net: the SHA-256 of the generator weights it starts from).
"""
from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from .config import ConfigError

ENTRY_POINT_GROUP = "naslib_agnet.optimizers"
#: the built-in optimizers: name -> "module:Class"
BUILTIN = {"agnet": "naslib_agnet.bridge.optimizer:AGNet", "agnet_joint": "naslib_agnet.bridge.optimizer:AGNetJoint",
           "rs": "naslib_agnet.baselines.rs:RandomSearch", "re": "naslib_agnet.baselines.re:RegularizedEvolution",
           "ls": "naslib_agnet.baselines.ls:LocalSearch", "bananas": "naslib_agnet.baselines.bananas:Bananas",
           "npenas": "naslib_agnet.baselines.npenas:Npenas"}
#: the optimizers ``--baselines naslib`` replaces by NASLib's own classes
NASLIB_REPLACEABLE = ("rs", "re", "ls", "bananas", "npenas")
BASELINES = ("builtin", "naslib")

Factory = Callable[[Any], Any]
_REGISTRY: dict[str, Factory] = {}


def register_optimizer(name: str, factory: Factory | None = None, *, replace: bool = False):
    """Register ``factory(config) -> optimizer`` under ``name``; usable as a decorator."""

    def add(obj: Factory) -> Factory:
        if (name in _REGISTRY and _REGISTRY[name] is not obj or name in BUILTIN) and not replace:
            raise ValueError(f"an optimizer named {name!r} is already registered; pass replace=True to override it")
        _REGISTRY[name] = obj
        return obj

    return add(factory) if factory is not None else add


def implementation(name: str, baselines: str = "builtin") -> str:
    """Whose code runs ``optimizer: name``: ``"naslib"`` (NASLib's own class, ``baselines="naslib"``)
    or ``"builtin"`` (this package's, or a registered plugin's). Recorded in every summary.json."""
    return "naslib" if baselines == "naslib" and name in NASLIB_REPLACEABLE else "builtin"


def builtin_optimizers() -> list[str]:
    return list(BUILTIN)


def _entry_points() -> dict[str, metadata.EntryPoint]:
    return {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def available_optimizers() -> list[str]:
    return sorted(set(BUILTIN) | set(_REGISTRY) | set(_entry_points()))


def _load(spec: str) -> Factory:
    import importlib

    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)


def get_optimizer_factory(name: str, baselines: str = "builtin") -> Factory:
    """The factory for ``name``. ``baselines``: ``builtin`` or ``naslib`` (NASLib's own RS/RE/LS/BANANAS/NPENAS).
    ConfigError for an unknown name, ValueError when NASLib is asked for but not importable."""
    if baselines not in BASELINES:
        raise ConfigError(f"baselines must be 'builtin' or 'naslib', got {baselines!r}")
    if implementation(name, baselines) == "naslib":
        from ..bridge.naslib_baselines import naslib_baseline_factory

        return naslib_baseline_factory(name)
    if name in _REGISTRY:
        return _REGISTRY[name]
    if name in BUILTIN:
        return _load(BUILTIN[name])
    eps = _entry_points()
    if name in eps:
        return eps[name].load()
    raise ConfigError(f"unknown optimizer {name!r}; available: {available_optimizers()}")


def _declared(name: str) -> Factory:
    """The factory that declares ``name``'s config keys: NASLib's classes read the same keys as the
    built-in ones, so the built-in declaration serves both implementations."""
    return get_optimizer_factory(name, "builtin")


def optimizer_defaults(name: str, baselines: str = "builtin") -> dict[str, Any]:
    """The ``search.*`` keys ``name`` reads, with their defaults: its ``config_defaults()`` (a
    :class:`~naslib_agnet.bridge.blackbox.BlackBoxOptimizer` merges ``CONFIG_DEFAULTS`` along its bases),
    else its ``CONFIG_DEFAULTS``."""
    factory = _declared(name)
    merged = getattr(factory, "config_defaults", None)
    return dict(merged() if callable(merged) else getattr(factory, "CONFIG_DEFAULTS", None) or {})


def check_optimizer_config(config: dict[str, Any], baselines: str = "builtin") -> None:
    """The optimizer's own check of the config (its ``check_config``), as a ConfigError."""
    check = getattr(_declared(config["optimizer"]), "check_config", None)
    if check is not None:
        try:
            check(config)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None


# --------------------------------------------------------------------------------- fingerprints
#: code that only reads or presents finished runs: not part of a run's code fingerprint
NOT_RUN_CODE = ("cli/", "experiments/report.py", "experiments/hardware_report.py", "experiments/grid.py")
_PACKAGE = Path(__file__).resolve().parents[1]
_code_cache: dict[str, str] = {}


def _sha_of_files(files: list[Path], root: Path) -> str:
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def package_code_fingerprint() -> str:
    """SHA-256 prefix of this package's Python sources that a run executes (all but :data:`NOT_RUN_CODE`)."""
    if "package" not in _code_cache:
        files = sorted(f for f in _PACKAGE.rglob("*.py")
                       if not f.relative_to(_PACKAGE).as_posix().startswith(NOT_RUN_CODE))
        _code_cache["package"] = _sha_of_files(files, _PACKAGE)
    return _code_cache["package"]


def _source_file(factory: Factory) -> Path | None:
    target = getattr(factory, "naslib_class", None) or getattr(factory, "func", None) or factory
    try:
        return Path(inspect.getfile(target)).resolve()
    except (TypeError, OSError):
        return None


def run_fingerprint(config: dict[str, Any], baselines: str = "builtin") -> dict[str, Any]:
    """What, besides its config, decides a run's results: this package's version and code, the
    optimizer's code when it lives elsewhere (a plugin, NASLib's class) and what the optimizer's
    ``fingerprint(config)`` adds (AG-Net: its generator weights). A finished or interrupted run is
    reused only when this matches what it recorded."""
    from .. import __version__

    name = config["optimizer"]
    factory = get_optimizer_factory(name, baselines)
    fingerprint: dict[str, Any] = {"naslib_agnet": __version__, "code_sha256": package_code_fingerprint()}
    source = _source_file(factory)
    if source is not None and _PACKAGE not in source.parents:
        fingerprint["optimizer_code_sha256"] = _sha_of_files([source], source.parent)
    extra = getattr(_declared(name), "fingerprint", None)
    if extra is not None:
        fingerprint.update(extra(config))
    return fingerprint

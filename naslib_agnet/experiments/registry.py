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
           "agnet_ranker": "naslib_agnet.bridge.optimizer:AGNetRanker",
           "agnet_xgb": "naslib_agnet.bridge.optimizer:AGNetXGB",
           "agnet_xgb_ranking": "naslib_agnet.bridge.optimizer:AGNetXGBRanking",
           "agnet_wo_lso": "naslib_agnet.bridge.optimizer:AGNetWithoutLSO",
           "agnet_wo_backprop": "naslib_agnet.bridge.optimizer:AGNetWithoutBackprop",
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
_code_cache: dict[str, str] = {}  #: sha prefixes by file set (code) and by file, size and mtime (data)


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


def _external_code_fingerprint(factory: Factory) -> str | None:
    """SHA-256 prefix of the Python sources of the top-level package (or module) that defines ``factory``
    when it is not this package (a plugin, NASLib's class); None for code of this package or without a file."""
    import sys

    target = getattr(factory, "naslib_class", None) or getattr(factory, "func", None) or factory
    module = sys.modules.get(getattr(target, "__module__", "") or "")
    top = sys.modules.get(module.__name__.split(".")[0]) if module is not None else None
    try:
        path = Path(inspect.getfile(top)).resolve()
    except (TypeError, OSError):
        return None
    if path == _PACKAGE / "__init__.py" or _PACKAGE in path.parents:
        return None
    key = str(path)
    if key not in _code_cache:
        root = path.parent
        files = sorted(root.rglob("*.py")) if path.name == "__init__.py" else [path]
        _code_cache[key] = _sha_of_files(files, root)
    return _code_cache[key]


def data_fingerprint(config: dict[str, Any], data_dir: str | Path) -> str:
    """SHA-256 prefix of the contents of the data files a run of ``config`` reads from ``data_dir`` (the
    benchmark table of its dataset and, under a ``hardware:`` metric, the metric table): a run is reused
    only with the same data, wherever the data directory lies."""
    from .config import hardware_section
    from .spaces import get_space

    files = list(get_space(config["search_space"]).data_files(data_dir, config["dataset"]))
    section = hardware_section(config)
    if section is not None:
        from ..benchmarks.metrics import metric_table_path

        files.append(metric_table_path(section["table"], data_dir, config["dataset"]))
    digest = hashlib.sha256()
    for f in files:
        if not f.is_file():
            continue  # the loader says what is missing
        stat = f.stat()
        key = f"data:{f.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
        if key not in _code_cache:
            h = hashlib.sha256()
            with f.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
            _code_cache[key] = h.hexdigest()
        digest.update(_code_cache[key].encode())
    return digest.hexdigest()[:16]


def run_fingerprint(config: dict[str, Any], baselines: str = "builtin", data_dir: str | Path | None = None
                    ) -> dict[str, Any]:
    """What, besides its config, decides a run's results: this package's version and code, the
    optimizer's code when it lives elsewhere (a plugin's or NASLib's package), what the optimizer's
    ``fingerprint(config)`` adds (AG-Net: its generator weights) and, given ``data_dir``, the data it
    reads. A finished or interrupted run is reused only when this matches what it recorded."""
    from .. import __version__

    name = config["optimizer"]
    factory = get_optimizer_factory(name, baselines)
    fingerprint: dict[str, Any] = {"naslib_agnet": __version__, "code_sha256": package_code_fingerprint()}
    external = _external_code_fingerprint(factory)
    if external is not None:
        fingerprint["optimizer_code_sha256"] = external
    extra = getattr(_declared(name), "fingerprint", None)
    if extra is not None:
        fingerprint.update(extra(config))
    if data_dir is not None:
        fingerprint["data_sha256"] = data_fingerprint(config, data_dir)
    return fingerprint

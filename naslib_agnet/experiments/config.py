"""NASLib-style run configs: a YAML file, defaults beneath it, ``KEY VALUE`` overrides.

Keys and layout follow NASLib's bbo runner (``optimizer``, ``search_space``, ``dataset``,
``seed``, ``out_dir``, ``config_id``, ``search: {epochs, ...}``). The defaults come from
two places: the run's own keys (:data:`RUN_DEFAULTS`, the ``hardware:`` section) and each
optimizer's ``CONFIG_DEFAULTS`` (the ``search.*`` keys it reads, declared on its class, so
a plugin optimizer's keys take overrides too). A key missing from the file takes its
default. Refused, with a message that names the key and the fix: an empty file, an
unknown key in the file or an override (keys that NASLib's own configs carry are accepted
and unused: :data:`NASLIB_ONLY_KEYS`), a value of the wrong type, a budget below one
query, an unknown search space or dataset (aliases such as ``CIFAR10`` or ``ImageNet16``
are rewritten to the canonical name, so a run's folder and report row never depend on
the spelling).
"""
from __future__ import annotations

import copy
import difflib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """A config file or override that cannot be used; the message says what to change."""


#: the run's own keys (the optimizer's come from its class); ``search.epochs`` is the query budget
RUN_DEFAULTS: dict[str, Any] = {"seed": 0, "optimizer": "agnet", "search_space": "nasbench201",
                                "dataset": "cifar10", "out_dir": "runs", "config_id": 0,
                                "search": {"epochs": 192, "checkpoint_freq": 5000}}
#: ``hardware:``: constraints on a metric table's columns (``METRIC <= LIMIT`` / ``METRIC >= LIMIT``) and the
#: metrics agnet_joint optimises next to accuracy (null: the constrained ones); see :func:`hardware_section`
HARDWARE_DEFAULTS: dict[str, Any] = {"table": "hw-nas-bench", "constraints": None, "objectives": None}
#: keys whose value may be a string or a list of strings (or null), whatever the file had
FREE_FORM_KEYS = ("hardware.constraints", "hardware.objectives")
#: keys of NASLib's own bbo configs (``discrete_config.yaml``, ``create_configs.py``) that no optimizer
#: here reads: a NASLib config with them loads, and they are kept in the run record, unused
NASLIB_ONLY_KEYS: dict[str, tuple[str, ...]] = {
    "": ("evaluation",),
    "search": ("predictor", "debug_predictor", "budgets", "batch_size", "data_size", "cutout", "cutout_length",
               "cutout_prob", "train_portion", "seed"),
}
#: keys that do not change what a run computes (NASLib's checkpoint frequency: this runner writes after every query)
NOT_IDENTITY: dict[str, tuple[str, ...]] = {"": ("out_dir", "compare", *NASLIB_ONLY_KEYS[""]),
                                            "search": ("checkpoint_freq",)}
#: top-level sections of a grid's config (``naslib-agnet compare``) that a single run accepts and ignores
GRID_SECTIONS = ("compare",)
SEED_MAX = 2**32 - 1  # numpy's legacy seeding, which NASLib's optimizers use


def optimizer_search_defaults(names: Iterable[str] = (), baselines: str = "builtin") -> dict[str, Any]:
    """The ``search.*`` defaults of every built-in optimizer and of ``names``, each declared by the
    optimizer's ``CONFIG_DEFAULTS``; two optimizers that give one key different defaults are an error."""
    from .registry import builtin_optimizers, optimizer_defaults

    merged: dict[str, Any] = {}
    owner: dict[str, str] = {}
    for name in [*builtin_optimizers(), *names]:
        for key, value in optimizer_defaults(name, baselines).items():
            if key in merged and merged[key] != value:
                raise ConfigError(f"optimizers {owner[key]!r} and {name!r} both declare search.{key}, with defaults "
                                  f"{merged[key]!r} and {value!r}; a plugin must name its own keys (e.g. with "
                                  "its name as prefix)")
            merged.setdefault(key, value)
            owner.setdefault(key, name)
    return merged


def default_config(optimizers: Iterable[str] = (), baselines: str = "builtin") -> dict[str, Any]:
    """The full default config: the run's keys, the hardware section and the ``search.*`` keys of
    every built-in optimizer and of ``optimizers`` (plugins)."""
    config = copy.deepcopy(RUN_DEFAULTS)
    config["search"].update(copy.deepcopy(optimizer_search_defaults(optimizers, baselines)))  # nested defaults: never shared
    config["hardware"] = dict(HARDWARE_DEFAULTS)
    return config


def read_config_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The mapping in a YAML config file; ConfigError for a missing, unreadable or empty file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist; pass --config-file with the path of a YAML "
                          "config such as configs/agnet_nb201_cifar10.yaml")
    try:
        loaded = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc}") from exc
    if loaded is None or loaded == {}:
        raise ConfigError(f"config file {path} is empty (or holds only comments); a run config names at least "
                          "its optimizer, search_space and dataset: start from configs/agnet_nb201_cifar10.yaml")
    if not isinstance(loaded, dict):
        raise ConfigError(f"config file {path} must hold a mapping of keys, got {type(loaded).__name__}")
    return loaded


def load_config(path: str | os.PathLike[str] | None, overrides: list[str] | None = None,
                baselines: str = "builtin", sections: Iterable[str] = (),
                optimizers: Iterable[str] = ()) -> dict[str, Any]:
    """Defaults, then the YAML file (if given), then ``KEY VALUE`` overrides; checked throughout.

    ``sections``: extra top-level sections the caller handles itself (``compare``), kept as given (a
    ``compare:`` section is accepted always, so a grid's config also runs one run, which ignores it);
    ``optimizers``: more optimizers (besides the config's) whose ``search.*`` keys are known keys."""
    overrides = list(overrides or [])
    pairs = override_pairs(overrides)
    loaded = read_config_file(path) if path is not None else {}
    optimizer = dict(pairs).get("optimizer", loaded.get("optimizer", RUN_DEFAULTS["optimizer"]))
    config = default_config([str(optimizer), *optimizers], baselines)
    extra = {k: copy.deepcopy(loaded[k]) for k in sections if k in loaded}
    _merge(config, {k: v for k, v in loaded.items() if k not in (*GRID_SECTIONS, *sections)}, source=str(path))
    apply_overrides(config, [w for pair in pairs for w in pair])
    check_config(config, baselines)
    config.update(extra)
    return config


def check_config(config: dict[str, Any], baselines: str = "builtin") -> None:
    """Check the run keys, normalise the dataset name and let the optimizer check its own keys."""
    from .registry import check_optimizer_config
    from .spaces import canonical_dataset

    if not 0 <= config["seed"] <= SEED_MAX:
        raise ConfigError(f"seed must be an integer in 0..{SEED_MAX}, got {config['seed']}")
    if config["config_id"] < 0:
        raise ConfigError(f"config_id must be an integer >= 0 (it names the folder config_<id>), "
                          f"got {config['config_id']}")
    epochs = config["search"]["epochs"]
    if epochs < 1:
        raise ConfigError(f"search.epochs is the query budget and must be >= 1, got {epochs}")
    if not str(config["out_dir"]).strip():
        raise ConfigError("out_dir is empty; name the folder the run folders go under, e.g. out_dir runs")
    config["dataset"] = canonical_dataset(config["search_space"], config["dataset"])
    normalise_hardware(config)
    check_optimizer_config(config, baselines)


def hardware_section(config: dict[str, Any]) -> dict[str, Any] | None:
    """The checked ``hardware:`` section, or None when it names no constraint and no objective.

    Keys: ``table`` (``hw-nas-bench`` for HW-NAS-Bench's table of the run's dataset in the data
    directory, or a CSV path, ``{dataset}`` replaced), ``constraints`` (``METRIC <= LIMIT`` or
    ``METRIC >= LIMIT``; several as a list or comma-separated; null: none), ``objectives``
    (``min METRIC`` / ``max METRIC``, what ``agnet_joint`` optimises next to accuracy; null:
    each constrained metric in its constraint's direction). Returns ``table`` and the parsed
    :class:`~naslib_agnet.benchmarks.constraints.Constraint` and ``Objective`` tuples.
    """
    from ..benchmarks.constraints import parse_constraints, parse_objectives

    section = config.get("hardware")
    if section is None:
        return None
    if not isinstance(section, dict):
        raise ConfigError(f"'hardware' must be a mapping with keys {', '.join(HARDWARE_DEFAULTS)}; got {section!r}")
    legacy = sorted(set(section) & {"metric", "limit"})
    if legacy:
        raise _unknown_key(f"hardware.{legacy[0]}", section, "hardware")
    unknown = sorted(set(section) - set(HARDWARE_DEFAULTS))
    if unknown:
        raise ConfigError(f"hardware: unknown key(s) {unknown}; known keys: {sorted(HARDWARE_DEFAULTS)}")
    table = section.get("table", HARDWARE_DEFAULTS["table"])
    if not isinstance(table, str) or not table:
        raise ConfigError(f"hardware.table must be 'hw-nas-bench' or the path of a CSV, got {table!r}")
    try:
        constraints = tuple(sorted(parse_constraints(section.get("constraints")), key=lambda c: c.metric))
        given = section.get("objectives")
        objectives = parse_objectives(given, constraints)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if not constraints and not objectives:
        return None
    return {"table": table, "constraints": constraints, "objectives": objectives}


def normalise_hardware(config: dict[str, Any]) -> None:
    """Write the ``hardware:`` section in one spelling (so a run's identity does not depend on it):
    constraints as a list of ``'METRIC <= LIMIT'`` strings, objectives as given, or null."""
    section = hardware_section(config)
    hardware = config.get("hardware")
    if not isinstance(hardware, dict):
        return
    if section is None:
        hardware["constraints"], hardware["objectives"] = None, None
        return
    hardware["constraints"] = [str(c) for c in section["constraints"]] or None  # sorted by metric: order means nothing
    if hardware.get("objectives") is not None:
        hardware["objectives"] = [str(o) for o in section["objectives"]] or None  # the first: the report's front


def _unknown_key(name: str, node: dict, source: str) -> ConfigError:
    if name in ("hardware.metric", "hardware.limit"):
        return ConfigError(f"{source}: {name!r} was replaced by hardware.constraints, which also states the direction: "
                           "write 'constraints: edgegpu_latency <= 4' in the file, or the override "
                           "hardware.constraints \"edgegpu_latency <= 4\" (several: comma-separated; a floor: "
                           "'robust_acc >= 40')")
    if name.startswith("search.agnet_"):
        from ..search.settings import legacy_hint

        hint = legacy_hint(name.split(".", 1)[1])
        if hint:
            return ConfigError(f"{source}: {hint} (AG-Net's settings nest under search.agnet since 0.4: "
                               "docs/variants.md)")
    known = sorted(node)
    close = difflib.get_close_matches(name.rsplit(".", 1)[-1], known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ConfigError(f"{source}: {name!r} is not a config key{hint}; known keys here: {known}")


def _merge(base: dict, new: dict, source: str, prefix: str = "") -> None:
    section = prefix.rstrip(".")
    for key, value in new.items():
        name = f"{prefix}{key}"
        if key not in base:
            if key in NASLIB_ONLY_KEYS.get(section, ()):
                base[key] = copy.deepcopy(value)  # NASLib's own key: kept, unused
                continue
            raise _unknown_key(name, base, source)
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{source}: '{name}' must be a mapping, got {value!r}")
            _merge(base[key], value, source, prefix=f"{name}.")
        else:
            base[key] = _checked(name, value, base[key], source)


def _checked(name: str, value: Any, like: Any, source: str) -> Any:
    """``value`` converted to the type of the default ``like``, or a ConfigError (null only where the
    default is null); the hardware task's keys take a string or a list (checked by :func:`hardware_section`)."""
    if like is None or name in FREE_FORM_KEYS:
        return value
    kind = type(like)
    if kind is bool:
        if isinstance(value, bool):
            return value
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif kind is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif kind is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
    else:
        return value
    raise ConfigError(f"{source}: '{name}' must be of type {kind.__name__} (like its default {like!r}), "
                      f"got {value!r}")


def override_pairs(overrides: list[str]) -> list[tuple[str, str]]:
    """NASLib's ``KEY VALUE`` words as pairs; an odd count or an option among them is an error."""
    options = [w for w in overrides if w.startswith("--")]
    if options:
        raise ConfigError(f"{options[0]} comes after the KEY VALUE overrides; options go first, before the "
                          f"overrides, e.g. naslib-agnet COMMAND --config-file FILE {options[0]} ... seed 3")
    if len(overrides) % 2:
        raise ConfigError(f"overrides come in KEY VALUE pairs, got an odd number of words: {overrides}")
    return list(zip(overrides[::2], overrides[1::2]))


def apply_overrides(config: dict[str, Any], overrides: list[str]) -> None:
    """NASLib's ``KEY VALUE`` pairs: ``seed 3``, ``dataset cifar100``, ``search.epochs 96``,
    ``search.agnet.loop.lr 0.0005`` (dots walk into sections, as NASLib's ``merge_from_list``)."""
    for key, raw in override_pairs(overrides):
        parts = key.split(".")
        if not all(parts):
            raise ConfigError(f"override key {key!r}: use KEY or SECTION.KEY, e.g. 'seed 3' or 'search.epochs 96'")
        node = config
        for depth, part in enumerate(parts[:-1]):
            if not isinstance(node.get(part), dict):
                where = ".".join(parts[:depth]) or "the config"
                raise ConfigError(f"override key {key!r}: there is no section {'.'.join(parts[:depth + 1])!r} "
                                  f"(sections of {where}: {sorted(k for k, v in node.items() if isinstance(v, dict))})")
            node = node[part]
        leaf = parts[-1]
        if leaf not in node or isinstance(node[leaf], dict):
            raise _unknown_key(key, {k: v for k, v in node.items() if not isinstance(v, dict)}, "override")
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = raw
        node[leaf] = _checked(key, value, node[leaf], "override")


def run_dir(config: dict[str, Any]) -> Path:
    """NASLib's bbo layout: ``{out_dir}/{search_space}/{dataset}/{optimizer}/config_{config_id}/{seed}``."""
    return (Path(config["out_dir"]).expanduser() / config["search_space"] / config["dataset"] / config["optimizer"]
            / f"config_{config['config_id']}" / str(config["seed"]))


def run_identity(config: dict[str, Any], baselines: str = "builtin") -> dict[str, Any]:
    """What makes two runs the same run: the config without ``out_dir`` (the folder may move), with
    ``search`` cut down to the run's keys and its optimizer's own (another optimizer's settings, or a
    NASLib-only key, do not change what this one computes)."""
    from .registry import optimizer_defaults

    keys = (set(RUN_DEFAULTS["search"]) | set(optimizer_defaults(config["optimizer"], baselines))) - set(
        NOT_IDENTITY["search"])
    identity = {k: copy.deepcopy(v) for k, v in config.items() if k not in (*NOT_IDENTITY[""], "search")}
    identity["search"] = {k: v for k, v in config["search"].items() if k in keys}
    from .registry import get_optimizer_factory

    resolve = getattr(get_optimizer_factory(config["optimizer"], "builtin"), "identity_settings", None)
    if resolve is not None:  # the settings the optimizer will run with, defaults resolved (AG-Net: search.agnet)
        identity["search"].update(resolve(config))
    section = hardware_section(config)
    identity["hardware"] = None if section is None else {
        "table": section["table"], "constraints": [str(c) for c in section["constraints"]],
        "objectives": [str(o) for o in section["objectives"]]}
    return identity

"""NASLib-style run configs: a YAML file, package defaults beneath it, ``KEY VALUE`` overrides.

Keys and layout follow NASLib's bbo runner (``optimizer``, ``search_space``, ``dataset``,
``seed``, ``out_dir``, ``config_id``, ``search: {epochs, ...}``). Unlike NASLib, a key
missing from the file takes its package default, and an override with an unknown key
or a value of the wrong type is refused with a message that names the key.
"""
from __future__ import annotations

import copy
import os
from dataclasses import fields
from pathlib import Path
from typing import Any

import yaml

from ..search import AGNetSettings


class ConfigError(ValueError):
    """A config file or override that cannot be used; the message says what to change."""


def default_config() -> dict[str, Any]:
    # NAS-Bench-Suite's defaults for the baselines (RE: sample_size 10, population_size 50; LS, BANANAS and
    # NPENAS: num_init 10; BANANAS and NPENAS: the rest), so that NASLib-style overrides of them are accepted;
    # naslib_quirks (BANANAS/NPENAS, not a NASLib key): reproduce NASLib's re-evaluations and chained mutations
    search: dict[str, Any] = {"epochs": 192, "checkpoint_freq": 5000, "fidelity": -1, "sample_size": 10,
                              "population_size": 50, "num_init": 10, "k": 10, "num_ensemble": 3,
                              "predictor_type": "bananas", "acq_fn_type": "its", "acq_fn_optimization": "mutation",
                              "encoding_type": "path", "num_arches_to_mutate": 5, "max_mutations": 1,
                              "num_candidates": 200, "naslib_quirks": False, "agnet_pretrained": "default"}
    for f in fields(AGNetSettings):
        search["agnet_" + f.name] = f.default
    # hardware: a metric table column as a constraint (metric <= limit) and, for agnet_joint, a second objective
    hardware = {"table": "hw-nas-bench", "metric": "none", "limit": None}
    return {"seed": 0, "optimizer": "agnet", "search_space": "nasbench201", "dataset": "cifar10",
            "out_dir": "runs", "config_id": 0, "search": search, "hardware": hardware}


def load_config(path: str | os.PathLike[str] | None, overrides: list[str] | None = None) -> dict[str, Any]:
    """Defaults, then the YAML file (if given), then ``KEY VALUE`` overrides; types checked throughout."""
    config = default_config()
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist; pass --config-file with the path of a YAML "
                              "config such as configs/agnet_nb201_cifar10.yaml")
        try:
            loaded = yaml.safe_load(path.read_text())
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {path} must hold a mapping of keys, got {type(loaded).__name__}")
        _merge(config, loaded, source=str(path))
    hardware = config.get("hardware")
    if isinstance(hardware, dict) and type(hardware.get("limit")) is int:
        hardware["limit"] = float(hardware["limit"])  # 'limit: 4' in a file: overrides such as 2.5 stay valid
    apply_overrides(config, overrides or [])
    AGNetSettings.from_mapping({f.name: config["search"]["agnet_" + f.name] for f in fields(AGNetSettings)})
    hardware_section(config)
    return config


def hardware_section(config: dict[str, Any]) -> dict[str, Any] | None:
    """The checked ``hardware:`` section, or None when it names no metric.

    Keys: ``table`` (``hw-nas-bench`` for HW-NAS-Bench's table of the run's dataset in the data
    directory, or a CSV path, ``{dataset}`` replaced), ``metric`` (a column, e.g.
    ``edgegpu_latency``; ``none`` = no hardware objective), ``limit`` (feasible iff
    ``metric <= limit``; null = no constraint).
    """
    section = config.get("hardware")
    if section is None:
        return None
    if not isinstance(section, dict):
        raise ConfigError(f"'hardware' must be a mapping with keys table, metric, limit; got {section!r}")
    unknown = sorted(set(section) - {"table", "metric", "limit"})
    if unknown:
        raise ConfigError(f"hardware: unknown key(s) {unknown}; known keys: ['limit', 'metric', 'table']")
    metric, table, limit = section.get("metric", "none"), section.get("table", "hw-nas-bench"), section.get("limit")
    if not isinstance(metric, str) or not metric:
        raise ConfigError(f"hardware.metric must be a column name such as edgegpu_latency (or none), got {metric!r}")
    if not isinstance(table, str) or not table:
        raise ConfigError(f"hardware.table must be 'hw-nas-bench' or the path of a CSV, got {table!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, float)) or limit != limit):
        raise ConfigError(f"hardware.limit must be a number (e.g. 4 for 4 ms) or null for no constraint, "
                          f"got {limit!r}")
    if metric == "none":
        if limit is not None:
            raise ConfigError("hardware.limit is set but hardware.metric is none: name the metric it limits")
        return None
    return {"table": table, "metric": metric, "limit": float("inf") if limit is None else float(limit)}


def _merge(base: dict, new: dict, source: str, prefix: str = "") -> None:
    for key, value in new.items():
        name = f"{prefix}{key}"
        if key not in base:  # keys without a default are kept as they are (NASLib configs carry extras)
            base[key] = copy.deepcopy(value)
            continue
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{source}: '{name}' must be a mapping, got {value!r}")
            _merge(base[key], value, source, prefix=f"{name}.")
        else:
            base[key] = _checked(name, value, base[key], source)


def _checked(name: str, value: Any, like: Any, source: str) -> Any:
    """``value`` converted to the type of the default ``like``, or a ConfigError."""
    if like is None or value is None:
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


def apply_overrides(config: dict[str, Any], overrides: list[str]) -> None:
    """NASLib's ``KEY VALUE`` pairs: ``seed 3``, ``dataset cifar100``, ``search.epochs 96`` (one dot at most)."""
    if len(overrides) % 2:
        raise ConfigError(f"overrides come in KEY VALUE pairs, got an odd number of words: {overrides}")
    for key, raw in zip(overrides[::2], overrides[1::2]):
        parts = key.split(".")
        if len(parts) > 2 or not all(parts):
            raise ConfigError(f"override key {key!r}: use KEY or SECTION.KEY (one dot at most), "
                              "e.g. 'seed 3' or 'search.epochs 96'")
        node = config
        if len(parts) == 2:
            if not isinstance(config.get(parts[0]), dict):
                raise ConfigError(f"override key {key!r}: there is no section {parts[0]!r} "
                                  f"(sections: {sorted(k for k, v in config.items() if isinstance(v, dict))})")
            node = config[parts[0]]
        leaf = parts[-1]
        if leaf not in node or isinstance(node[leaf], dict):
            known = sorted(k for k, v in node.items() if not isinstance(v, dict))
            raise ConfigError(f"override key {key!r} is not a config key; known keys here: {known}")
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = raw
        node[leaf] = _checked(key, value, node[leaf], "override")


def run_dir(config: dict[str, Any]) -> Path:
    """NASLib's bbo layout: ``{out_dir}/{search_space}/{dataset}/{optimizer}/config_{config_id}/{seed}``."""
    return (Path(config["out_dir"]) / config["search_space"] / config["dataset"] / config["optimizer"]
            / f"config_{config['config_id']}" / str(config["seed"]))

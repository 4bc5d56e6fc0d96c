"""Run one search from a config: build space, data and optimizer, loop over queries, write results.

The loop mirrors NASLib's ``Trainer.search`` for black-box optimizers (one
``new_epoch`` = one query, then ``train_statistics(report_incumbent=False)``), so the
same optimizer object behaves here as under NASLib.
"""
from __future__ import annotations

import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..bridge import NasBench101Space, NasBench201Space, make_nb101_dataset_api, make_nb201_dataset_api
from .config import ConfigError, hardware_section, run_dir
from .registry import get_optimizer_factory, implementation
from .results import RunRecorder

SPACES = {"nasbench201": (NasBench201Space, make_nb201_dataset_api),
          "nasbench101": (NasBench101Space, make_nb101_dataset_api)}


def _oracle(dataset_api: dict[str, Any]):
    """The table of a space's dataset_api (``nb201_oracle`` or ``nb101_oracle``)."""
    return dataset_api["nb101_oracle"] if "nb101_oracle" in dataset_api else dataset_api["nb201_oracle"]


def set_seed(seed: int) -> None:
    """Seed Python, numpy and torch, as NASLib's ``utils.set_seed`` does."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def build(config: dict[str, Any], data_dir: str | Path, baselines: str = "builtin"):
    """(optimizer, dataset_api) for a config; clear errors for unknown names."""
    space_name = config["search_space"]
    if space_name not in SPACES:
        raise ConfigError(f"unknown search_space {space_name!r}; supported: {sorted(SPACES)}")
    try:
        factory = get_optimizer_factory(config["optimizer"], baselines)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    space_cls, make_api = SPACES[space_name]
    dataset_api = make_api(data_dir, config["dataset"])
    hardware = build_hardware(config, data_dir, _oracle(dataset_api))
    if hardware is not None:
        dataset_api["hardware"] = hardware
    optimizer = factory(config)
    optimizer.adapt_search_space(space_cls(), dataset_api=dataset_api)
    return optimizer, dataset_api


def build_hardware(config: dict[str, Any], data_dir: str | Path, oracle):
    """The config's hardware objective (metric table column + limit), checked to cover the whole space."""
    section = hardware_section(config)
    if section is None:
        return None
    from ..benchmarks.metrics import HardwareObjective, check_covers, load_metric_table

    table = load_metric_table(section["table"], data_dir, config["dataset"])
    check_covers(table, oracle.keys(), f"the {config['search_space']} space")
    if section["metric"] not in table.metric_names:
        raise ConfigError(f"hardware.metric {section['metric']!r} is not a column of {table.source}; "
                          f"its metric columns are {table.metric_names}")
    return HardwareObjective(table, section["metric"], section["limit"])


def hardware_record(hardware, oracle) -> dict[str, Any]:
    """What summary.json says about the hardware objective: metric, limit, the table's constrained
    optimum and the reference point of the hypervolume (worst accuracy, worst metric value in the table)."""
    import math

    from ..search.multiobjective import feasible, hypervolume

    val = oracle.values("val_acc")
    metric = hardware.values_for(oracle.keys())
    ref = (float(np.min(val)), float(np.nanmax(metric)))
    record = {"metric": hardware.metric, "limit": hardware.limit if math.isfinite(hardware.limit) else None,
              "table": hardware.table.source, "description": hardware.description,
              "feasible": f"{hardware.metric} <= limit; an unmeasured architecture is infeasible",
              "table_feasible_share": float(np.mean(feasible(metric, hardware.limit))),
              "hypervolume_reference": {"val_acc": ref[0], hardware.metric: ref[1]},
              "table_hypervolume": hypervolume(val, metric, *ref)}
    try:
        arch, acc, value = hardware.constrained_optimum(oracle, values=metric)
        test = oracle.query(arch).get("test_acc")
        record["optimum"] = {"arch": list(arch), "val_acc": acc, "test_acc": test, hardware.metric: value}
    except ValueError:
        record["optimum"] = None
    return record


def start_search(config: dict[str, Any], data_dir: str | Path, baselines: str = "builtin"):
    """Seed everything and build (optimizer, dataset_api): the start of every run, and what a script
    that steps a run itself (``benchmarks/nb201_diagnose.py``) calls to replay it exactly."""
    set_seed(int(config["seed"]))
    torch.set_num_threads(1)  # tiny networks: one thread is fastest and lets runs go side by side
    return build(config, data_dir, baselines)


def run_search(config: dict[str, Any], data_dir: str | Path, progress: bool = True,
               baselines: str = "builtin") -> Path:
    """Run the configured search; returns the run folder holding errors.json and summary.json."""
    optimizer, dataset_api = start_search(config, data_dir, baselines)
    out = run_dir(config)
    oracle = _oracle(dataset_api)
    hardware = dataset_api.get("hardware")
    recorder = RunRecorder(out, config, splits=dict(oracle.splits),
                           hardware=None if hardware is None else hardware_record(hardware, oracle),
                           implementation=implementation(config["optimizer"], baselines))
    recorder.trajectory["params"] = optimizer.get_model_size()
    epochs = int(config["search"]["epochs"])
    bar = _progress(epochs, f"{config['optimizer']} {config['dataset']} seed {config['seed']}", progress)
    optimizer.before_training()
    try:
        for epoch in range(epochs):
            start = time.perf_counter()
            optimizer.new_epoch(epoch)
            stats = optimizer.train_statistics(report_incumbent=False)
            runtime = time.perf_counter() - start
            arch = optimizer.last_architecture
            metrics = oracle.query(arch.get_hash())
            recorder.add(list(arch.get_hash()), arch.get_arch_str(), metrics["val_acc"],
                         metrics.get("test_acc"), stats, runtime,
                         metric=None if hardware is None else hardware.value(arch.get_hash()))
            recorder.write(finished=False, extra=_extras(optimizer))
            bar.update(1)
            bar.set_postfix(_postfix(recorder.queries[-1]))
    finally:
        bar.close()
    optimizer.after_training()
    recorder.write(finished=True, extra=_extras(optimizer))
    return out


def _postfix(query: dict[str, Any]) -> dict[str, str]:
    if "best_feasible_val_acc" not in query:
        return {"best_val": f"{query['best_val_acc']:.2f}"}
    best = query["best_feasible_val_acc"]
    return {"best_feasible_val": "none yet" if best is None else f"{best:.2f}"}


def _extras(optimizer) -> dict[str, Any]:
    search = getattr(optimizer, "search", None)
    if search is None:
        return {}
    t = search.timings
    return {"agnet": {"settings": search.settings.to_dict(), "retrain_s": t.retrain, "rank_fit_s": t.rank_fit,
                      "generate_s": t.generate,
                      "train_steps": t.steps, "latent_draws": t.latent_draws, "iterations": t.iterations,
                      "random_fallbacks": optimizer.random_fallbacks,
                      "generator_sha256": optimizer.generator_fingerprint}}


def _progress(total: int, desc: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="query", disable=not enabled, file=sys.stderr, mininterval=1.0)

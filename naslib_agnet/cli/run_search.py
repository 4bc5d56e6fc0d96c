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

from ..bridge import NasBench201Space, make_nb201_dataset_api
from .config import ConfigError, run_dir
from .registry import get_optimizer_factory
from .results import RunRecorder

SPACES = {"nasbench201": (NasBench201Space, make_nb201_dataset_api)}


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
    optimizer = factory(config)
    optimizer.adapt_search_space(space_cls(), dataset_api=dataset_api)
    return optimizer, dataset_api


def run_search(config: dict[str, Any], data_dir: str | Path, progress: bool = True,
               baselines: str = "builtin") -> Path:
    """Run the configured search; returns the run folder holding errors.json and summary.json."""
    set_seed(int(config["seed"]))
    torch.set_num_threads(1)  # tiny networks: one thread is fastest and lets runs go side by side
    optimizer, dataset_api = build(config, data_dir, baselines)
    out = run_dir(config)
    oracle = dataset_api["nb201_oracle"]
    recorder = RunRecorder(out, config, splits=dict(oracle.splits))
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
                         metrics.get("test_acc"), stats, runtime)
            recorder.write(finished=False, extra=_extras(optimizer))
            bar.update(1)
            bar.set_postfix(best_val=f"{recorder.queries[-1]['best_val_acc']:.2f}")
    finally:
        bar.close()
    optimizer.after_training()
    recorder.write(finished=True, extra=_extras(optimizer))
    return out


def _extras(optimizer) -> dict[str, Any]:
    search = getattr(optimizer, "search", None)
    if search is None:
        return {}
    t = search.timings
    return {"agnet": {"settings": search.settings.to_dict(), "retrain_s": t.retrain, "generate_s": t.generate,
                      "train_steps": t.steps, "latent_draws": t.latent_draws, "iterations": t.iterations,
                      "random_fallbacks": optimizer.random_fallbacks}}


def _progress(total: int, desc: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="query", disable=not enabled, file=sys.stderr, mininterval=1.0)

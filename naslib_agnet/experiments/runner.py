"""Run one search from a config: build space, data and optimizer, loop over queries, write results.

The loop mirrors NASLib's ``Trainer.search`` for black-box optimizers (one
``new_epoch`` = one query, then ``train_statistics(report_incumbent=False)``), so the
same optimizer object behaves here as under NASLib. What the run folder already holds
decides what happens (:mod:`.rundir`): a new run, a finished one left as it is, an
interrupted one resumed, or a refusal.
"""
from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .config import ConfigError, hardware_section, run_dir, run_identity
from .progress import DEFAULT_EVERY, Progress
from .registry import get_optimizer_factory, implementation, run_fingerprint
from .rundir import ResumeMismatch, RunLock, RunRecorder, inspect_run, move_aside, prepare_run_folder, refusal
from .spaces import get_space


def _oracle(dataset_api: dict[str, Any]):
    """The oracle of a space's dataset_api (every space's builder puts it under ``oracle``: a table or a
    surrogate, ``query(arch) -> {metric: value}``)."""
    return dataset_api["oracle"]


def set_seed(seed: int) -> None:
    """Seed Python, numpy and torch, as NASLib's ``utils.set_seed`` does."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def build(config: dict[str, Any], data_dir: str | Path, baselines: str = "builtin"):
    """(optimizer, dataset_api) for a config; clear errors for unknown names."""
    space = get_space(config["search_space"])
    factory = get_optimizer_factory(config["optimizer"], baselines)
    dataset_api = space.make_dataset_api(data_dir, config["dataset"])
    hardware = build_hardware(config, data_dir, _oracle(dataset_api))
    if hardware is not None:
        dataset_api["hardware"] = hardware
    optimizer = factory(config)
    optimizer.adapt_search_space(space.space(), dataset_api=dataset_api)
    return optimizer, dataset_api


def build_hardware(config: dict[str, Any], data_dir: str | Path, oracle):
    """The config's :class:`~naslib_agnet.benchmarks.hardware_task.HardwareTask` (metric table,
    constraints, objectives), the table checked to cover the whole space; None without a ``hardware:`` task."""
    section = hardware_section(config)
    if section is None:
        return None
    from ..benchmarks.errors import BenchmarkDataError
    from ..benchmarks.hardware_task import HardwareTask
    from ..benchmarks.metrics import check_covers, load_metric_table

    table = load_metric_table(section["table"], data_dir, config["dataset"])
    check_covers(table, oracle.keys(), f"the {config['search_space']} space")
    try:
        return HardwareTask(table, section["constraints"], section["objectives"])
    except BenchmarkDataError as exc:
        raise ConfigError(f"hardware: {exc}") from None


def hardware_record(hardware, oracle) -> dict[str, Any]:
    """What summary.json says about the hardware task: constraints, objectives and units, the table's
    constrained optimum, its best value of each metric, and the reference point of the hypervolume
    over validation accuracy and the *front metric* (the first objective, else the first constrained
    metric): the worst accuracy and the worst value of that metric in the table."""
    from ..search.multiobjective import hypervolume

    val = oracle.values("val_acc")
    values = hardware.values_for(oracle.keys())
    oriented = hardware.oriented(values)
    front = hardware.objectives[0].metric if hardware.objectives else hardware.constraints[0].metric
    j = hardware.metrics.index(front)
    signs = hardware.signs
    ref = (float(np.min(val)), float(np.nanmax(oriented[:, j])))
    best = np.nanmin(oriented, axis=0) * signs  # the best value of each metric, in its own direction
    record = {"table": hardware.table.source,
              "constraints": [{"metric": c.metric, "sense": c.sense, "limit": c.limit,
                               "unit": hardware.units.get(c.metric)} for c in hardware.constraints],
              "objectives": [{"metric": o.metric, "sense": o.sense} for o in hardware.objectives],
              "metrics": list(hardware.metrics), "units": dict(hardware.units),
              "descriptions": dict(hardware.descriptions),
              "condition": hardware.constraint_text(),
              "feasible": f"{hardware.constraint_text()}; an unmeasured architecture is infeasible",
              "table_feasible_share": float(np.mean(hardware.feasible(values))),
              "table_best": {m: float(v) for m, v in zip(hardware.metrics, best)},
              "violation_spread": {m: float(s) for m, s in zip(hardware.metrics, hardware.spread)},
              "front": {"metric": front, "sign": float(signs[j])},
              "hypervolume_reference": {"val_acc": ref[0], "oriented_" + front: ref[1]},
              "table_hypervolume": hypervolume(val, oriented[:, j], *ref)}
    found = hardware.constrained_optimum(oracle, values=values)
    if found is None:
        record["optimum"] = None
    else:
        arch, acc, opt_values = found
        record["optimum"] = {"arch": list(arch), "val_acc": acc, "test_acc": oracle.query(arch).get("test_acc"),
                             "metrics": {m: float(v) for m, v in zip(hardware.metrics, opt_values)}}
    return record


def start_search(config: dict[str, Any], data_dir: str | Path, baselines: str = "builtin"):
    """Seed everything and build (optimizer, dataset_api): the start of every run, and what a script
    that steps a run itself (``scripts/nb201_diagnose.py``) calls to replay it exactly."""
    set_seed(int(config["seed"]))
    torch.set_num_threads(1)  # tiny networks: one thread is fastest and lets runs go side by side
    return build(config, data_dir, baselines)


@dataclass
class RunResult:
    """What :func:`run_search` did: ``status`` ``ran`` (a new run), ``resumed`` (an interrupted run,
    ``replayed`` recorded queries checked and kept) or ``skipped`` (already finished, left as it was)."""

    path: Path
    status: str
    summary: dict[str, Any]
    replayed: int = 0
    moved_aside: Path | None = None  #: where ``force`` moved a conflicting run


def run_search(config: dict[str, Any], data_dir: str | Path, *, baselines: str = "builtin", force: bool = False,
               progress: str = "auto", every: int = DEFAULT_EVERY, command: str = "search",
               log: Callable[[str], None] | None = None) -> RunResult:
    """Run the configured search into its run folder (:func:`~.config.run_dir`), under the folder's
    lock: a new run, a finished one skipped, an interrupted one resumed; a conflicting folder is
    refused (:func:`~.rundir.refusal`) or, with ``force``, moved aside first (as is, with ``force``, an
    interrupted run whose record the replay does not reproduce). ``progress``: a
    :class:`~.progress.Progress` mode; ``command``: the command named in messages; ``log``: start-up
    notes (what is being loaded, a constraint nothing in the table meets)."""
    folder = run_dir(config)
    prepare_run_folder(folder, config["out_dir"])
    identity = run_identity(config, baselines)
    fingerprint = run_fingerprint(config, baselines, data_dir)
    impl = implementation(config["optimizer"], baselines)
    with RunLock(folder):
        state = inspect_run(folder, identity, fingerprint, impl, int(config["search"]["epochs"]))
        moved = None
        if state.state == "conflict":
            if not force:
                raise refusal(state.reason, config, command)
            moved = move_aside(folder)
            state.state, state.queries = "new", []
        if state.state == "finished":
            return RunResult(folder, "skipped", state.summary or {})
        log = log or (lambda _: None)
        try:
            _search(config, data_dir, folder, baselines, identity, fingerprint, state.queries, progress, every, log)
        except ResumeMismatch:
            if not force:
                raise
            moved = move_aside(folder)  # the record does not reproduce: with force, keep it aside, run afresh
            log(f"the record did not reproduce under its seed; moved it to {moved} and starting afresh")
            state.queries = []
            _search(config, data_dir, folder, baselines, identity, fingerprint, [], progress, every, log)
        summary = json.loads((folder / "summary.json").read_text())
        return RunResult(folder, "resumed" if state.queries else "ran", summary, len(state.queries), moved)


def _search(config: dict[str, Any], data_dir: str | Path, out: Path, baselines: str, identity: dict[str, Any],
            fingerprint: dict[str, Any], recorded: list[dict[str, Any]], progress: str, every: int,
            log: Callable[[str], None]) -> None:
    log(f"loading {config['search_space']}/{config['dataset']} from {data_dir} ...")
    optimizer, dataset_api = start_search(config, data_dir, baselines)
    oracle = _oracle(dataset_api)
    hardware = dataset_api.get("hardware")
    record = None if hardware is None else hardware_record(hardware, oracle)
    for note in getattr(getattr(hardware, "table", None), "notes", None) or ():
        log(f"metric table: {note}")
    if record is not None and record["optimum"] is None and hardware.constraints:
        best = hardware.value_text(record["table_best"][m] for m in hardware.metrics)
        log(f"warning: no architecture in the table meets {hardware.constraint_text()} (the table's best value of "
            f"each: {best}); this run cannot find a feasible one")
    recorder = RunRecorder(out, config, splits=dict(oracle.splits), hardware=record,
                           implementation=implementation(config["optimizer"], baselines), identity=identity,
                           fingerprint=fingerprint, recorded=recorded)
    recorder.trajectory["params"] = optimizer.get_model_size()
    epochs = int(config["search"]["epochs"])
    label = f"{config['optimizer']} {config['dataset']} seed {config['seed']}"
    if hardware is not None:
        label += f" ({hardware.constraint_text()})"
    bar = Progress(epochs, label, progress, every)
    if recorded:
        bar.note(f"resuming: replaying the {len(recorded)} recorded queries under the same seed, checking each")
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
                         metrics=None if hardware is None else hardware.values(arch.get_hash()))
            recorder.write(finished=False, extra=_extras(optimizer))
            bar.update(epoch + 1, _postfix(recorder.queries[-1]))
    finally:
        bar.close()
    optimizer.after_training()
    recorder.write(finished=True, extra=_extras(optimizer))


def _postfix(query: dict[str, Any]) -> str:
    if "best_feasible_val_acc" not in query:
        return f"best val {query['best_val_acc']:.2f}"
    best = query["best_feasible_val_acc"]
    return "best feasible val " + ("none yet" if best is None else f"{best:.2f}")


def _extras(optimizer) -> dict[str, Any]:
    search = getattr(optimizer, "search", None)
    if search is None:
        return {}
    t = search.timings
    return {"agnet": {"settings": search.settings.to_dict(), "retrain_s": t.retrain, "rank_fit_s": t.rank_fit,
                      "generate_s": t.generate,
                      "train_steps": t.steps, "latent_draws": t.latent_draws, "iterations": t.iterations,
                      "random_fallbacks": optimizer.random_fallbacks}}

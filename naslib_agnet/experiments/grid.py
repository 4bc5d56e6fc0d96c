"""``naslib-agnet compare``: a grid of runs, resumable, followed by its report (:mod:`.report`).

``compare`` takes a run config (the keys of ``configs/agnet_nb201_cifar10.yaml``) with an
extra top-level section::

    compare:
      optimizers: [agnet, rs, re, ls]
      datasets: [cifar10, cifar100, ImageNet16-120]
      seeds: 10                       # a count (seeds 0..9) or a list of seeds
      budgets: [16, 32, 48, 96, 144, 192]

and runs every (optimizer, dataset, seed) cell as its own ``run_search`` in a pool of
worker processes (one fresh process per cell: forkserver, or spawn where there is none), in the NASLib folder layout
``{out_dir}/{search_space}/{dataset}/{optimizer}/config_{config_id}/{seed}``.

An optional ``tasks:`` mapping multiplies the grid by named variants of the config, each a
set of ``KEY: VALUE`` overrides (the command line's keys), run under ``{out_dir}/{task}/``,
e.g. the hardware-aware tasks of ``configs/compare_hw_nb201.yaml``::

      tasks:
        edgegpu_2ms: {hardware.constraints: edgegpu_latency <= 2}

Each cell is one :func:`~.runner.run_search`, so a cell's folder follows the rule of every
run folder (:mod:`.rundir`): a finished run of the same config, code and data is skipped and left
as it is, an interrupted one is resumed (its recorded queries replayed and checked), a
conflicting one is refused before any worker starts, or moved aside and rerun with
``force``. Run the same command again after an interruption: it loses at most the query
each worker was on.
"""
from __future__ import annotations

import copy
import json
import multiprocessing as mp
import os
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..benchmarks.errors import BenchmarkDataError
from .config import (ConfigError, apply_overrides, check_config, hardware_section, override_pairs, run_dir,
                     run_identity)
from .report import STANDARD_BUDGETS, headline, load_run, write_report
from .rundir import ResumeMismatch, inspect_run, refusal

COMPARE_KEYS = ("optimizers", "datasets", "seeds", "budgets", "tasks")


# ---------------------------------------------------------------------------------------------- the plan
@dataclass(frozen=True)
class CompareSpec:
    optimizers: list[str]
    datasets: list[str]
    seeds: list[int]
    budgets: list[int]
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)  #: name -> overrides; empty: one plain grid


@dataclass
class Cell:
    optimizer: str
    dataset: str
    seed: int
    config: dict[str, Any]
    out: Path
    state: str = "new"  # new | finished | resume | conflict (then replaced with force)
    task: str | None = None

    @property
    def label(self) -> str:
        return (f"{self.task}: " if self.task else "") + f"{self.optimizer} {self.dataset} seed {self.seed}"


def _str_list(section: dict, key: str) -> list[str]:
    value = section.get(key)
    if value is None:
        raise ConfigError(f"compare.{key} is missing: give a list, e.g. compare: {{{key}: [...]}}")
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"compare.{key} must be a list of names, got {value!r}")
    if not value:
        raise ConfigError(f"compare.{key} is empty: list at least one")
    dup = sorted({v for v in value if value.count(v) > 1})
    if dup:
        raise ConfigError(f"compare.{key} lists {dup} more than once")
    return list(value)


def _int_list(section: dict, key: str, minimum: int) -> list[int]:
    value = section[key]
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise ConfigError(f"compare.{key} must be a list of integers, got {value!r}")
    if not value:
        raise ConfigError(f"compare.{key} is empty: list at least one")
    bad = [v for v in value if v < minimum]
    if bad:
        raise ConfigError(f"compare.{key} must be integers >= {minimum}, got {bad}")
    if len(set(value)) != len(value):
        raise ConfigError(f"compare.{key} lists {sorted({v for v in value if value.count(v) > 1})} more than once")
    return list(value)


def parse_compare(config: dict[str, Any], baselines: str = "builtin") -> CompareSpec:
    """The validated ``compare:`` section of a config; ConfigError with the fix otherwise."""
    section = config.get("compare")
    if section is None:
        raise ConfigError("the config has no 'compare:' section; add one with optimizers, datasets, seeds and "
                          "budgets (see configs/compare_nb201.yaml)")
    if not isinstance(section, dict):
        raise ConfigError(f"'compare' must be a mapping with keys {list(COMPARE_KEYS)}, got {section!r}")
    unknown = sorted(set(section) - set(COMPARE_KEYS))
    if unknown:
        raise ConfigError(f"compare: unknown key(s) {unknown}; known keys: {list(COMPARE_KEYS)}")
    optimizers = _str_list(section, "optimizers")
    from .registry import get_optimizer_factory
    from .spaces import canonical_dataset

    for name in optimizers:
        try:
            get_optimizer_factory(name, baselines)
        except ValueError as exc:
            raise ConfigError(f"compare.optimizers: {exc}") from None
    datasets = [canonical_dataset(config["search_space"], d) for d in _str_list(section, "datasets")]
    dup = sorted({d for d in datasets if datasets.count(d) > 1})
    if dup:
        raise ConfigError(f"compare.datasets names {dup} more than once (under different spellings)")
    seeds_value = section.get("seeds")
    if seeds_value is None:
        raise ConfigError("compare.seeds is missing: give a count (e.g. 10 for seeds 0..9) or a list of seeds")
    if isinstance(seeds_value, int) and not isinstance(seeds_value, bool):
        if seeds_value < 1:
            raise ConfigError(f"compare.seeds: a seed count must be >= 1, got {seeds_value}")
        seeds = list(range(seeds_value))
    else:
        seeds = _int_list(section, "seeds", 0)
    epochs = int(config["search"]["epochs"])
    if section.get("budgets") is None:
        budgets = [b for b in STANDARD_BUDGETS if b < epochs] + [epochs]
    else:
        budgets = sorted(_int_list(section, "budgets", 1))
        above = [b for b in budgets if b > epochs]
        if above:
            raise ConfigError(f"compare.budgets {above} above search.epochs ({epochs}): every run stops after "
                              f"search.epochs queries; lower the budgets or raise search.epochs")
    return CompareSpec(optimizers, datasets, seeds, budgets, _tasks(config, section.get("tasks")))


def _tasks(config: dict[str, Any], value: Any) -> dict[str, dict[str, Any]]:
    """The checked ``compare.tasks`` mapping (each task's overrides applied once to a copy of the config)."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not value:
        raise ConfigError(f"compare.tasks must be a non-empty mapping of task name -> {{KEY: VALUE}} overrides, "
                          f"got {value!r}")
    tasks = {}
    for name, overrides in value.items():
        if (not isinstance(name, str) or not name or not name[0].isalnum()
                or not all(ch.isalnum() or ch in "-_." for ch in name)):
            raise ConfigError(f"compare.tasks: task name {name!r} must be a folder name of letters, digits, '-', "
                              "'_' and '.' that starts with a letter or digit")
        if not isinstance(overrides, dict):
            raise ConfigError(f"compare.tasks.{name} must be a mapping of KEY: VALUE overrides, got {overrides!r}")
        if any(k in ("optimizer", "dataset", "seed", "out_dir") for k in overrides):
            raise ConfigError(f"compare.tasks.{name}: optimizer, dataset, seed and out_dir are set by the grid")
        try:
            task_config(config, name, overrides)
        except ConfigError as exc:
            raise ConfigError(f"compare.tasks.{name}: {exc}") from None
        tasks[name] = dict(overrides)
    return tasks


def task_config(config: dict[str, Any], name: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """The config of one task: ``overrides`` applied (types checked), results under ``{out_dir}/{name}``."""
    from .config import normalise_hardware

    cfg = copy.deepcopy({k: v for k, v in config.items() if k != "compare"})
    words = [w for key, value in overrides.items() for w in (str(key), json.dumps(value))]
    apply_overrides(cfg, words)
    normalise_hardware(cfg)
    cfg["out_dir"] = str(Path(cfg["out_dir"]) / name)
    return cfg


def load_compare_config(path: str | os.PathLike[str], overrides: list[str] | None = None,
                        baselines: str = "builtin") -> dict[str, Any]:
    """:func:`~.config.load_config` with the ``compare:`` section, where ``compare.KEY VALUE`` overrides
    may change a value's type (``compare.seeds 3`` or ``compare.seeds [0, 5]``); :func:`parse_compare`
    checks them. The ``search.*`` keys of every optimizer the grid names are known keys."""
    from .config import load_config, read_config_file

    pairs = override_pairs(list(overrides or []))
    section = read_config_file(path).get("compare") if path is not None else None
    section = dict(section) if isinstance(section, dict) else {}
    for key, raw in pairs:
        if key.startswith("compare."):
            name = key.removeprefix("compare.")
            if name not in COMPARE_KEYS:
                raise ConfigError(f"override key {key!r}: compare keys are {list(COMPARE_KEYS)}")
            try:
                section[name] = yaml.safe_load(raw)
            except yaml.YAMLError as exc:
                raise ConfigError(f"override {key}: {raw!r} is not a YAML value ({exc})") from None
    names = section.get("optimizers")
    names = [names] if isinstance(names, str) else names if isinstance(names, list) else []
    config = load_config(path, [w for k, v in pairs if not k.startswith("compare.") for w in (k, v)],
                         baselines=baselines, sections=("compare",),
                         optimizers=[n for n in names if isinstance(n, str)])
    if section or "compare" in config:
        config["compare"] = section
    return config


def cell_config(config: dict[str, Any], optimizer: str, dataset: str, seed: int,
                baselines: str = "builtin") -> dict[str, Any]:
    """The run config of one cell: the base config without ``compare:``, with optimizer/dataset/seed set
    and checked as a run config (the dataset in its canonical spelling)."""
    cfg = copy.deepcopy({k: v for k, v in config.items() if k != "compare"})
    apply_overrides(cfg, ["optimizer", optimizer, "dataset", dataset, "seed", str(seed)])
    check_config(cfg, baselines)
    return cfg


def classify(cell: Cell, baselines: str = "builtin", data_dir: str | Path | None = None) -> str:
    """Set ``cell.state`` from its folder (:func:`~.rundir.inspect_run`); returns the reason of a conflict
    (empty otherwise). The worker judges the folder again under its lock before it writes."""
    from .registry import implementation, run_fingerprint

    state = inspect_run(cell.out, run_identity(cell.config, baselines),
                        run_fingerprint(cell.config, baselines, data_dir),
                        implementation(cell.optimizer, baselines), int(cell.config["search"]["epochs"]))
    cell.state = state.state
    return state.reason


def plan_cells(config: dict[str, Any], spec: CompareSpec, baselines: str = "builtin",
               force: bool = False, data_dir: str | Path | None = None) -> list[Cell]:
    """All cells, seed-major (so a partial grid already covers every optimizer and task), classified.
    A conflicting cell is refused here, before any worker starts, unless ``force``."""
    bases = {name: task_config(config, name, o) for name, o in spec.tasks.items()} or {None: config}
    cells, conflicts = [], []
    for seed in spec.seeds:
        for task, base in bases.items():
            for dataset in spec.datasets:
                for optimizer in spec.optimizers:
                    cfg = cell_config(base, optimizer, dataset, seed, baselines)
                    cell = Cell(optimizer, dataset, seed, cfg, run_dir(cfg), task=task)
                    reason = classify(cell, baselines, data_dir)
                    if reason:
                        conflicts.append((cell, reason))
                    cells.append(cell)
    if conflicts and not force:
        cell, reason = conflicts[0]
        more = f" ({len(conflicts) - 1} more cells likewise)" if len(conflicts) > 1 else ""
        raise refusal(f"{cell.label}: {reason}{more}", cell.config, "compare", out_dir=config["out_dir"])
    return cells


# ---------------------------------------------------------------------------------------------- workers
def run_cell(job: dict[str, Any]) -> dict[str, Any]:
    """One cell (in a worker process): :func:`~.runner.run_search` under the folder's rule."""
    from .runner import run_search

    start = time.perf_counter()
    result = {"label": job["label"], "resumed": 0}
    try:
        res = run_search(job["config"], job["data_dir"], baselines=job["baselines"], force=job["force"],
                         progress="off", command="compare")
        result.update(ok=True, status=res.status, resumed=res.replayed, queries=res.summary.get("num_queries"),
                      headline=headline(res.summary),
                      moved_aside=None if res.moved_aside is None else str(res.moved_aside))
    except (ConfigError, ResumeMismatch, BenchmarkDataError) as exc:  # a message, not a crash
        result.update(ok=False, error=str(exc), traceback=None)
    except Exception as exc:  # noqa: BLE001 - reported by the parent; the other cells go on
        result.update(ok=False, error=f"{type(exc).__name__}: {exc}",
                      traceback="".join(traceback.format_exception(exc)))
    result["wall_s"] = time.perf_counter() - start
    return result


# modules a forkserver imports once, so that each fresh worker process starts without importing torch
PRELOAD = ["naslib_agnet.experiments.runner", "naslib_agnet.experiments.grid", "naslib_agnet.baselines",
           "naslib_agnet.bridge"]


def _context(start_method: str | None):
    """``forkserver`` (where available) or ``spawn``. Either way every cell gets a fresh process
    (maxtasksperchild=1) that shares no state with this one: a forkserver child is forked from
    a clean server process that has only imported :data:`PRELOAD` (which saves the ~3-5 s torch
    import per cell that ``spawn`` pays)."""
    if start_method is None:
        start_method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
    if start_method not in ("forkserver", "spawn"):
        raise ConfigError(f"start method must be 'forkserver' or 'spawn', got {start_method!r}")
    ctx = mp.get_context(start_method)
    if start_method == "forkserver":
        ctx.set_forkserver_preload(PRELOAD)
    return ctx


def run_compare(config: dict[str, Any], data_dir: str | Path, jobs: int | None = None, baselines: str = "builtin",
                report_dir: str | Path | None = None, log: Callable[[str], None] = print,
                start_method: str | None = None, force: bool = False) -> tuple[list[Cell], list[dict]]:
    """Run (or resume) the grid, then write the report for its cells; returns (cells, failures).

    ``jobs``: worker processes (default: the number of CPUs); ``force``: replace conflicting cells
    (moved aside first); ``start_method``: ``forkserver`` (default where available) or ``spawn``."""
    from .spaces import get_space

    if jobs is not None and jobs < 1:
        raise ConfigError(f"--jobs must be >= 1 (worker processes), got {jobs}")
    spec = parse_compare(config, baselines)
    space = get_space(config["search_space"])
    data_dir = str(Path(data_dir).expanduser().resolve())
    for dataset in spec.datasets:  # clear errors (unknown dataset, missing data) before any worker starts
        space.make_dataset_api(data_dir, dataset)
    cells = plan_cells(config, spec, baselines, force, data_dir)
    todo = [c for c in cells if c.state != "finished"]
    todo.sort(key=lambda c: c.state != "resume")  # interrupted cells first
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo) or 1))
    counts = {s: sum(c.state == s for c in cells) for s in ("finished", "resume", "new", "conflict")}
    tasks = f"{len(spec.tasks)} tasks x " if spec.tasks else ""
    replace = f", {counts['conflict']} to replace (--force)" if counts["conflict"] else ""
    log(f"compare: {len(cells)} cells ({tasks}{len(spec.optimizers)} optimizers x {len(spec.datasets)} datasets x "
        f"{len(spec.seeds)} seeds, {config['search']['epochs']} queries each): {counts['finished']} finished "
        f"(skipped), {counts['resume']} to resume, {counts['new']} to run{replace}; {jobs} worker(s)")
    failures = []
    if todo:
        payload = [{"label": c.label, "config": c.config, "data_dir": data_dir, "baselines": baselines,
                    "force": force} for c in todo]
        start = time.perf_counter()
        with _context(start_method).Pool(jobs, maxtasksperchild=1) as pool:
            for done, res in enumerate(pool.imap_unordered(run_cell, payload, chunksize=1), 1):
                head = f"[{done}/{len(todo)}] {res['label']}"
                replay = f", replayed {res['resumed']} recorded queries" if res["resumed"] else ""
                if res["ok"] and res["status"] == "skipped":
                    log(f"{head}: finished meanwhile (by another process), left as it is: {res['headline']}")
                elif res["ok"]:
                    moved = f", the conflicting run moved to {res['moved_aside']}" if res["moved_aside"] else ""
                    log(f"{head}: {res['headline']} in {res['wall_s']:.1f} s{replay}{moved}")
                else:
                    failures.append(res)
                    log(f"{head}: FAILED after {res['wall_s']:.1f} s{replay}: {res['error']}")
        log(f"compare: ran {len(todo)} cells in {time.perf_counter() - start:.1f} s"
            + (f", {len(failures)} failed" if failures else ""))
    report_root = Path(report_dir or config["out_dir"])
    for task in spec.tasks or [None]:
        folders = [c.out for c in cells if c.task == task and (c.out / "summary.json").is_file()]
        if folders:
            runs = [load_run(p) for p in folders]
            paths = write_report(runs, report_root / task if task else report_root, spec.budgets,
                                 optimizer_order=spec.optimizers, log=log)
            log("report: " + ", ".join(str(p) for p in paths))
    folders = [c.out for c in cells if (c.out / "summary.json").is_file()]
    if folders and any(hardware_section(c.config) is not None for c in cells):
        from .hardware_report import write_hardware_report

        paths = write_hardware_report(folders, report_root, spec.budgets, optimizer_order=spec.optimizers,
                                      task_order=list(spec.tasks), log=log)
        log("hardware report: " + ", ".join(str(p) for p in paths))
    return cells, failures

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
        edgegpu_2: {hardware.metric: edgegpu_latency, hardware.limit: 2}

Resume. A cell whose ``summary.json`` says ``"finished": true`` (and whose recorded config
equals the cell's config) is skipped and its files are not touched. A cell with a partial
``summary.json`` (interrupted) is run again from its first query under the same seed; while
the new run re-derives the queries already on disk, each one is checked against the
recorded one (architecture, its val/test accuracy, best-so-far values) and the files on disk
are left as they are; only once the new run has gone past the recorded queries are they
rewritten. So an interruption loses at most the query in progress, a second interruption
during the replay loses nothing, a run that does not reproduce its record stops with an
error naming the first differing query (the record stays untouched), and a resumed cell ends
with the same ``queries``/trajectory as an uninterrupted run (timings aside). The replay
recomputes the recorded queries: it saves no compute, it keeps and verifies the results.
"""
from __future__ import annotations

import copy
import json
import multiprocessing as mp
import os
import time
import traceback
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .config import ConfigError, apply_overrides, run_dir
from .report import STANDARD_BUDGETS, load_run, write_report

COMPARE_KEYS = ("optimizers", "datasets", "seeds", "budgets", "tasks")
# the fields of a summary.json query that a replay must reproduce exactly
REPLAY_FIELDS = ("query", "arch", "arch_str", "val_acc", "test_acc", "best_val_acc", "best_test_acc", "best_arch")
# config keys that may differ between the recorded run and its resumption
IGNORED_CONFIG_KEYS = ("out_dir",)



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
    state: str = "new"  # new | finished | resume
    recorded: list[dict[str, Any]] = field(default_factory=list)
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
    from .registry import available_optimizers, get_optimizer_factory

    for name in optimizers:
        try:
            get_optimizer_factory(name, baselines)
        except ValueError as exc:
            if "unknown optimizer" in str(exc):
                raise ConfigError(f"compare.optimizers: unknown optimizer {name!r}; available: "
                                  f"{available_optimizers()}") from None
            raise ConfigError(f"compare.optimizers: {exc}") from None
    datasets = _str_list(section, "datasets")
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
        if not isinstance(name, str) or not name or not all(ch.isalnum() or ch in "-_." for ch in name):
            raise ConfigError(f"compare.tasks: task name {name!r} must be a non-empty folder name of letters, "
                              "digits, '-', '_' and '.'")
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
    from .config import hardware_section

    cfg = copy.deepcopy({k: v for k, v in config.items() if k != "compare"})
    words = [w for key, value in overrides.items() for w in (str(key), json.dumps(value))]
    apply_overrides(cfg, words)
    hardware_section(cfg)
    cfg["out_dir"] = str(Path(cfg["out_dir"]) / name)
    return cfg


def load_compare_config(path: str | os.PathLike[str], overrides: list[str] | None = None) -> dict[str, Any]:
    """:func:`load_config` where ``compare.KEY VALUE`` overrides may change a value's type
    (``compare.seeds 3`` or ``compare.seeds [0, 5]``); :func:`parse_compare` checks them."""
    from .config import load_config

    overrides = list(overrides or [])
    if len(overrides) % 2:
        raise ConfigError(f"overrides come in KEY VALUE pairs, got an odd number of words: {overrides}")
    pairs = list(zip(overrides[::2], overrides[1::2]))
    config = load_config(path, [w for k, v in pairs if not k.startswith("compare.") for w in (k, v)])
    for key, raw in pairs:
        if key.startswith("compare."):
            name = key.removeprefix("compare.")
            if name not in COMPARE_KEYS:
                raise ConfigError(f"override key {key!r}: compare keys are {list(COMPARE_KEYS)}")
            if not isinstance(config.get("compare"), dict):
                config["compare"] = {}
            try:
                config["compare"][name] = yaml.safe_load(raw)
            except yaml.YAMLError as exc:
                raise ConfigError(f"override {key}: {raw!r} is not a YAML value ({exc})") from None
    return config


def cell_config(config: dict[str, Any], optimizer: str, dataset: str, seed: int) -> dict[str, Any]:
    """The run config of one cell: the base config without ``compare:``, with optimizer/dataset/seed set."""
    cfg = copy.deepcopy({k: v for k, v in config.items() if k != "compare"})
    apply_overrides(cfg, ["optimizer", optimizer, "dataset", dataset, "seed", str(seed)])
    return cfg


def _jsonable_config(config: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps({k: v for k, v in config.items() if k not in IGNORED_CONFIG_KEYS}))


def _flat(d: dict, prefix: str = "") -> dict[str, Any]:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


#: settings whose default changed after they were introduced -> the value a run recorded before the
#: key existed behaved as (``_check_ranker`` refuses such a run where it would be taken as the default)
PREDATING_VALUES = {"search.agnet_ranker_acquisition": "mean"}


def _config_diff(recorded: dict, current: dict) -> list[str]:
    """The keys whose values differ. A key the recorded config lacks while the current one holds
    its default is no difference: the run predates that setting, which behaved as the default
    (or as its value in ``PREDATING_VALUES``, for a setting whose default changed later)."""
    from .config import default_config

    a, b = _flat(_jsonable_config(recorded)), _flat(_jsonable_config(current))
    defaults = _flat(_jsonable_config(default_config()))

    def predates(k: str) -> bool:
        return k not in a and ((k in defaults and b[k] == defaults[k])
                               or (k in PREDATING_VALUES and b[k] == PREDATING_VALUES[k]))

    return [f"{k}: recorded {a.get(k, '<absent>')!r}, now {b.get(k, '<absent>')!r}"
            for k in sorted(set(a) | set(b)) if a.get(k, "<absent>") != b.get(k, "<absent>") and not predates(k)]


def classify(cell: Cell, implementation: str = "builtin") -> None:
    """Set ``cell.state`` from its folder: ``finished`` (skip), ``resume`` (partial) or ``new``.

    Raises ConfigError when the folder holds a run of a different config, a run of the other
    implementation (NASLib's own class vs. the built-in one, ``implementation``; a summary.json
    without the field counts as built-in), or a run this project did not write (an
    ``errors.json`` with queries but no ``summary.json``).
    """
    summary_path, errors_path = cell.out / "summary.json", cell.out / "errors.json"
    if not summary_path.is_file():
        if errors_path.is_file():
            try:
                _, trajectory = json.loads(errors_path.read_text())
                n = len(trajectory.get("valid_acc", []))
            except (ValueError, TypeError, AttributeError):
                n = None
            if n is None or n > 1:
                raise ConfigError(f"{cell.label}: {cell.out} holds an errors.json without summary.json (a NASLib "
                                  "run?); not overwriting it: use another out_dir or config_id, or delete the folder")
        cell.state = "new"  # nothing or at most the first query's errors.json: start afresh
        return
    try:
        summary = json.loads(summary_path.read_text())
        recorded_config = json.loads(errors_path.read_text())[0]
    except (OSError, ValueError, IndexError, KeyError) as exc:
        raise ConfigError(f"{cell.label}: cannot read the run record in {cell.out} ({exc}); delete the folder "
                          "to rerun the cell") from None
    _check_ranker(cell, summary)  # before the config diff: its messages say more for these runs
    diff = _config_diff(recorded_config, cell.config)
    if diff:
        raise ConfigError(f"{cell.label}: {cell.out} holds a run of a different config ({'; '.join(diff)}); "
                          "use another config_id or out_dir, or delete the folder to rerun it")
    _check_generator(cell, summary)
    recorded_impl = summary.get("implementation", "builtin")
    if recorded_impl != implementation:
        flag = {"naslib": "--baselines naslib", "builtin": "--baselines builtin"}
        raise ConfigError(f"{cell.label}: {cell.out} holds a run of the {recorded_impl} {cell.optimizer} "
                          f"({flag.get(recorded_impl, recorded_impl)}), this grid asks for the {implementation} one; "
                          "give each implementation its own out_dir (e.g. out_dir runs/compare_naslib)")
    queries = summary.get("queries", [])
    epochs = int(cell.config["search"]["epochs"])
    if summary.get("finished") and len(queries) == epochs:
        cell.state = "finished"
    else:
        cell.state = "resume" if queries else "new"
        cell.recorded = queries


def _check_generator(cell: Cell, summary: dict[str, Any]) -> None:
    """An AG-Net run must have started from the same generator weights as the cell would now: the
    config's ``agnet_pretrained: default`` names the shipped file, whose contents may have changed.
    A run recorded before the fingerprint existed cannot be checked and is taken as it is."""
    recorded = (summary.get("agnet") or {}).get("generator_sha256")
    if recorded is None:
        return
    from ..weights import generator_fingerprint

    pretrained = str(cell.config["search"].get("agnet_pretrained", "default"))
    current = generator_fingerprint(cell.config["search_space"], pretrained)
    if current != recorded:
        now = ("names no readable file now" if current is None and pretrained.lower() != "none"
               else f"is now {current}...")
        raise ConfigError(f"{cell.label}: {cell.out} holds a run that started from other generator weights "
                          f"(sha256 {recorded}..., search.agnet_pretrained {pretrained!r} {now}; "
                          "were the shipped weights re-trained?); use another out_dir or config_id, or delete "
                          "the folder to rerun it")


def _check_ranker(cell: Cell, summary: dict[str, Any]) -> None:
    """A finished ``agnet_predictor_input: generated+encoding`` run is reused only if it ran the
    ranker the cell asks for. Two earlier rankers are told apart by the settings they recorded:
    without ``ranker_*`` keys, the single MLP trained inside the loop; without
    ``ranker_acquisition``, the ensemble scoring by its members' mean, which the current default
    (``its``) replaced, so such a run counts as ``mean``, not as the default."""
    if str(cell.config["search"].get("agnet_predictor_input", "generated")) != "generated+encoding":
        return
    settings = (summary.get("agnet") or {}).get("settings")
    if not isinstance(settings, dict) or settings.get("predictor_input") != "generated+encoding":
        return  # not a ranker run: the config diff speaks for it
    if "ranker_members" not in settings:
        raise ConfigError(f"{cell.label}: {cell.out} holds a generated+encoding run of the earlier single-MLP "
                          "ranker (its settings have no ranker_* keys), not of the current ensemble ranker; use "
                          "another out_dir or config_id, or delete the folder to rerun it")
    from ..search import AGNetSettings

    wanted = str(cell.config["search"].get("agnet_ranker_acquisition", AGNetSettings.ranker_acquisition))
    if "ranker_acquisition" not in settings and wanted != "mean":
        raise ConfigError(f"{cell.label}: {cell.out} holds a generated+encoding run from before "
                          "ranker_acquisition existed, which ranked by the members' mean, not by "
                          f"{wanted!r}; add search.agnet_ranker_acquisition mean to reuse it as such, or use "
                          "another out_dir or config_id, or delete the folder to rerun it")


def plan_cells(config: dict[str, Any], spec: CompareSpec, baselines: str = "builtin") -> list[Cell]:
    """All cells, seed-major (so a partial grid already covers every optimizer and task), classified
    (``baselines``: whose baselines the grid runs, see :func:`~.registry.implementation`)."""
    from .registry import implementation

    bases = {name: task_config(config, name, o) for name, o in spec.tasks.items()} or {None: config}
    cells = []
    for seed in spec.seeds:
        for task, base in bases.items():
            for dataset in spec.datasets:
                for optimizer in spec.optimizers:
                    cfg = cell_config(base, optimizer, dataset, seed)
                    cell = Cell(optimizer, dataset, seed, cfg, run_dir(cfg), task=task)
                    classify(cell, implementation(optimizer, baselines))
                    cells.append(cell)
    return cells


# ---------------------------------------------------------------------------------------------- replay
class ResumeMismatch(RuntimeError):
    """A resumed run did not reproduce the queries recorded by the interrupted one."""


def _replay_recorder(base: type, recorded: list[dict[str, Any]]) -> type:
    """A RunRecorder subclass that checks the first queries against ``recorded`` and keeps the
    record on disk untouched until the new run has gone past it."""
    from .results import _jsonable

    class ReplayRecorder(base):
        def add(self, *args, **kwargs) -> None:
            super().add(*args, **kwargs)
            i = len(self.queries) - 1
            if i < len(recorded):
                new = json.loads(json.dumps(self.queries[-1], default=_jsonable))
                old = recorded[i]
                diff = [k for k in REPLAY_FIELDS if new.get(k) != old.get(k)]
                if diff:
                    raise ResumeMismatch(
                        f"query {i + 1} of the resumed run differs from the recorded one in {diff} "
                        f"(recorded {[old.get(k) for k in diff]}, now {[new.get(k) for k in diff]}): the run does "
                        f"not reproduce under its seed (other code or data version?); the record in {self.out_dir} "
                        "is left as it was: delete that folder to rerun the cell from scratch")

        def write(self, finished: bool, extra: dict[str, Any] | None = None) -> None:
            if finished or len(self.queries) >= len(recorded):
                super().write(finished, extra)

    return ReplayRecorder


@contextmanager
def replaying(recorded: list[dict[str, Any]]):
    """Within the block, ``run_search`` records through the replay recorder (no change to run_search.py)."""
    from . import run_search as rs_module

    original = rs_module.RunRecorder
    rs_module.RunRecorder = _replay_recorder(original, recorded)
    try:
        yield
    finally:
        rs_module.RunRecorder = original


def run_cell(job: dict[str, Any]) -> dict[str, Any]:
    """One cell (in a worker process): ``run_search``, replaying a partial record if there is one."""
    from .run_search import run_search

    start = time.perf_counter()
    result = {"label": job["label"], "resumed": len(job["recorded"])}
    try:
        with replaying(job["recorded"]):
            out = run_search(job["config"], job["data_dir"], progress=False, baselines=job["baselines"])
        summary = json.loads((out / "summary.json").read_text())
        last = summary["queries"][-1]
        result.update(ok=True, queries=len(summary["queries"]), best_val=last["best_val_acc"],
                      best_test=last["best_test_acc"])
    except Exception as exc:  # noqa: BLE001 - reported by the parent; the other cells go on
        result.update(ok=False, error=f"{type(exc).__name__}: {exc}",
                      traceback="".join(traceback.format_exception(exc)))
    result["wall_s"] = time.perf_counter() - start
    return result


# modules a forkserver imports once, so that each fresh worker process starts without importing torch
PRELOAD = ["naslib_agnet.cli.run_search", "naslib_agnet.cli.compare", "naslib_agnet.baselines", "naslib_agnet.bridge"]


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
                start_method: str | None = None) -> tuple[list[Cell], list[dict]]:
    """Run (or resume) the grid, then write the report for its cells; returns (cells, failures).

    ``start_method``: ``forkserver`` (default where available) or ``spawn``; see :func:`_context`."""
    from .run_search import SPACES

    spec = parse_compare(config, baselines)
    space = config["search_space"]
    if space not in SPACES:
        raise ConfigError(f"unknown search_space {space!r}; supported: {sorted(SPACES)}")
    data_dir = str(Path(data_dir).expanduser().resolve())
    for dataset in spec.datasets:  # clear errors (unknown dataset, missing data) before any worker starts
        SPACES[space][1](data_dir, dataset)
    cells = plan_cells(config, spec, baselines)
    todo = [c for c in cells if c.state != "finished"]
    todo.sort(key=lambda c: c.state != "resume")  # interrupted cells first
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo) or 1))
    counts = {s: sum(c.state == s for c in cells) for s in ("finished", "resume", "new")}
    tasks = f"{len(spec.tasks)} tasks x " if spec.tasks else ""
    log(f"compare: {len(cells)} cells ({tasks}{len(spec.optimizers)} optimizers x {len(spec.datasets)} datasets x "
        f"{len(spec.seeds)} seeds, {config['search']['epochs']} queries each): {counts['finished']} finished "
        f"(skipped), {counts['resume']} to resume, {counts['new']} to run; {jobs} worker(s)")
    failures = []
    if todo:
        payload = [{"label": c.label, "config": c.config, "data_dir": data_dir, "baselines": baselines,
                    "recorded": c.recorded} for c in todo]
        start = time.perf_counter()
        with _context(start_method).Pool(jobs, maxtasksperchild=1) as pool:
            for done, res in enumerate(pool.imap_unordered(run_cell, payload, chunksize=1), 1):
                head = f"[{done}/{len(todo)}] {res['label']}"
                replay = f", replayed {res['resumed']} recorded queries" if res["resumed"] else ""
                if res["ok"]:
                    test = "-" if res["best_test"] is None else f"{res['best_test']:.2f}"
                    log(f"{head}: {res['queries']} queries, best val {res['best_val']:.2f} test {test} "
                        f"in {res['wall_s']:.1f} s{replay}")
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
    if folders and any(c.config.get("hardware", {}).get("metric", "none") != "none" for c in cells):
        from .hardware_report import write_hardware_report

        paths = write_hardware_report(folders, report_root, spec.budgets, optimizer_order=spec.optimizers,
                                      task_order=list(spec.tasks), log=log)
        log("hardware report: " + ", ".join(str(p) for p in paths))
    return cells, failures

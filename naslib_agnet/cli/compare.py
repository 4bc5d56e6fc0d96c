"""``naslib-agnet compare`` and ``naslib-agnet report``: a grid of runs and its results table and plot.

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

``report`` walks a folder for ``*/config_*/<seed>/`` run folders, written by this project
(``summary.json``) or by NASLib's bbo runner (``errors.json`` only), and writes
``results.csv``, ``results.md`` (mean ± std over seeds of the best-by-validation
architecture's val and test accuracy at each budget) and ``best_val_vs_queries.png``.
"""
from __future__ import annotations

import copy
import csv
import json
import math
import multiprocessing as mp
import os
import statistics
import time
import traceback
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .config import ConfigError, apply_overrides, run_dir

STANDARD_BUDGETS = (16, 32, 48, 96, 144, 192)
COMPARE_KEYS = ("optimizers", "datasets", "seeds", "budgets")
DATASET_ORDER = ("cifar10", "cifar100", "ImageNet16-120")
# the fields of a summary.json query that a replay must reproduce exactly
REPLAY_FIELDS = ("query", "arch", "arch_str", "val_acc", "test_acc", "best_val_acc", "best_test_acc", "best_arch")
# config keys that may differ between the recorded run and its resumption
IGNORED_CONFIG_KEYS = ("out_dir",)

NASLIB_TEST_NOTE = "no test accuracy: NASLib's errors.json test_acc on NB201 is the validation split"
CSV_NAME, MD_NAME, PNG_NAME = "results.csv", "results.md", "best_val_vs_queries.png"


# ---------------------------------------------------------------------------------------------- the plan
@dataclass(frozen=True)
class CompareSpec:
    optimizers: list[str]
    datasets: list[str]
    seeds: list[int]
    budgets: list[int]


@dataclass
class Cell:
    optimizer: str
    dataset: str
    seed: int
    config: dict[str, Any]
    out: Path
    state: str = "new"  # new | finished | resume
    recorded: list[dict[str, Any]] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.optimizer} {self.dataset} seed {self.seed}"


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
    return CompareSpec(optimizers, datasets, seeds, budgets)


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


def _config_diff(recorded: dict, current: dict) -> list[str]:
    a, b = _flat(_jsonable_config(recorded)), _flat(_jsonable_config(current))
    return [f"{k}: recorded {a.get(k, '<absent>')!r}, now {b.get(k, '<absent>')!r}"
            for k in sorted(set(a) | set(b)) if a.get(k, "<absent>") != b.get(k, "<absent>")]


def classify(cell: Cell) -> None:
    """Set ``cell.state`` from its folder: ``finished`` (skip), ``resume`` (partial) or ``new``.

    Raises ConfigError when the folder holds a run of a different config, or a run this
    project did not write (an ``errors.json`` with queries but no ``summary.json``).
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
    diff = _config_diff(recorded_config, cell.config)
    if diff:
        raise ConfigError(f"{cell.label}: {cell.out} holds a run of a different config ({'; '.join(diff)}); "
                          "use another config_id or out_dir, or delete the folder to rerun it")
    queries = summary.get("queries", [])
    epochs = int(cell.config["search"]["epochs"])
    if summary.get("finished") and len(queries) == epochs:
        cell.state = "finished"
    else:
        cell.state = "resume" if queries else "new"
        cell.recorded = queries


def plan_cells(config: dict[str, Any], spec: CompareSpec) -> list[Cell]:
    """All cells, seed-major (so a partial grid already covers every optimizer), classified."""
    cells = []
    for seed in spec.seeds:
        for dataset in spec.datasets:
            for optimizer in spec.optimizers:
                cfg = cell_config(config, optimizer, dataset, seed)
                cell = Cell(optimizer, dataset, seed, cfg, run_dir(cfg))
                classify(cell)
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
    cells = plan_cells(config, spec)
    todo = [c for c in cells if c.state != "finished"]
    todo.sort(key=lambda c: c.state != "resume")  # interrupted cells first
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo) or 1))
    counts = {s: sum(c.state == s for c in cells) for s in ("finished", "resume", "new")}
    log(f"compare: {len(cells)} cells ({len(spec.optimizers)} optimizers x {len(spec.datasets)} datasets x "
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
    folders = [c.out for c in cells if (c.out / "summary.json").is_file()]
    if folders:
        runs = [load_run(p) for p in folders]
        paths = write_report(runs, Path(report_dir or config["out_dir"]), spec.budgets,
                             optimizer_order=spec.optimizers, log=log)
        log("report: " + ", ".join(str(p) for p in paths))
    return cells, failures


# ---------------------------------------------------------------------------------------------- report
@dataclass
class RunRecord:
    path: Path
    source: str  # "naslib_agnet" (summary.json) or "naslib" (errors.json only)
    search_space: str
    dataset: str
    optimizer: str
    config_id: str
    seed: str
    finished: bool | None
    best_val: list[float]
    best_test: list[float | None] | None  # None: no test accuracy (NASLib folders)


def find_run_folders(root: str | Path) -> list[Path]:
    """Folders ``*/config_*/<seed>/`` under ``root`` (or ``root`` itself) holding summary.json or errors.json."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"run folder {root} does not exist")
    found = set()
    for name in ("summary.json", "errors.json"):
        for f in root.rglob(name):
            d = f.parent
            if d.name.lstrip("-").isdigit() and d.parent.name.startswith("config_"):
                found.add(d)
    return sorted(found)


def _running_best(valid: list, test: list | None) -> tuple[list[float], list[float | None] | None]:
    best_val, best_test, cur_v, cur_t = [], [], -math.inf, None
    for i, v in enumerate(valid):
        if v is not None and not (isinstance(v, float) and math.isnan(v)) and v > cur_v:
            cur_v = float(v)
            cur_t = test[i] if test is not None and i < len(test) else None
        best_val.append(cur_v if cur_v > -math.inf else math.nan)
        best_test.append(cur_t)
    return best_val, (best_test if test is not None else None)


def load_run(path: str | Path) -> RunRecord:
    """One run folder: this project's summary.json, or else NASLib's errors.json."""
    path = Path(path)
    layout = {"seed": path.name, "config_id": path.parent.name.removeprefix("config_"),
              "optimizer": path.parent.parent.name, "dataset": path.parents[2].name,
              "search_space": path.parents[3].name if len(path.parents) > 3 else "?"}
    summary_path = path / "summary.json"
    if summary_path.is_file():
        s = json.loads(summary_path.read_text())
        q = s.get("queries", [])
        return RunRecord(path, "naslib_agnet", str(s.get("search_space", layout["search_space"])),
                         str(s.get("dataset", layout["dataset"])), str(s.get("optimizer", layout["optimizer"])),
                         str(s.get("config_id", layout["config_id"])), str(s.get("seed", layout["seed"])),
                         bool(s.get("finished")), [float(x["best_val_acc"]) for x in q],
                         [x.get("best_test_acc") for x in q])
    try:
        config, trajectory = json.loads((path / "errors.json").read_text())
        valid = list(trajectory["valid_acc"])
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"{path / 'errors.json'} is not NASLib's lightweight errors.json "
                         f"([config, {{'valid_acc': [...], ...}}]): {exc}") from None
    config = config if isinstance(config, dict) else {}
    best_val, _ = _running_best(valid, None)

    def get(key: str) -> str:
        return str(config.get(key, layout[key]))

    return RunRecord(path, "naslib", get("search_space"), get("dataset"), get("optimizer"), get("config_id"),
                     get("seed"), None, best_val, None)


def _mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


@dataclass
class Group:
    search_space: str
    dataset: str
    name: str  # optimizer label as shown
    optimizer: str
    source: str
    config_id: str
    runs: list[RunRecord]


def group_runs(runs: Iterable[RunRecord], optimizer_order: list[str] | None = None) -> list[Group]:
    """Runs grouped by (search space, dataset, optimizer, source, config_id), in display order."""
    groups: dict[tuple, list[RunRecord]] = {}
    for r in runs:
        groups.setdefault((r.search_space, r.dataset, r.optimizer, r.source, r.config_id), []).append(r)
    configs_per = {}
    for ss, ds, opt, src, cid in groups:
        configs_per.setdefault((ss, ds, opt, src), set()).add(cid)
    order = list(optimizer_order or [])
    out = []
    for (ss, ds, opt, src, cid), rs in groups.items():
        name = opt + (" (NASLib)" if src == "naslib" else "")
        if len(configs_per[(ss, ds, opt, src)]) > 1:
            name += f" config_{cid}"
        out.append(Group(ss, ds, name, opt, src, cid, sorted(rs, key=lambda r: (len(r.seed), r.seed))))

    def key(g: Group):
        ds_rank = DATASET_ORDER.index(g.dataset) if g.dataset in DATASET_ORDER else len(DATASET_ORDER)
        opt_rank = order.index(g.optimizer) if g.optimizer in order else len(order)
        return (g.search_space, ds_rank, g.dataset, opt_rank, g.optimizer, g.source != "naslib_agnet", g.config_id)

    return sorted(out, key=key)


def table_rows(groups: list[Group], budgets: list[int]) -> list[dict[str, Any]]:
    """One row per group and budget: mean and sample std over the seeds that reached the budget."""
    rows = []
    for g in groups:
        for b in budgets:
            reached = [r for r in g.runs if len(r.best_val) >= b]
            row = {"search_space": g.search_space, "dataset": g.dataset, "optimizer": g.name, "source": g.source,
                   "config_id": g.config_id, "budget": b, "n_seeds": len(reached), "n_runs": len(g.runs),
                   "val_mean": None, "val_std": None, "test_mean": None, "test_std": None,
                   "test_note": "" if g.source == "naslib_agnet" else NASLIB_TEST_NOTE}
            if reached:
                row["val_mean"], row["val_std"] = _mean_std([r.best_val[b - 1] for r in reached])
                tests = [r.best_test[b - 1] for r in reached if r.best_test is not None]
                if g.source == "naslib_agnet" and len(tests) == len(reached) and None not in tests:
                    row["test_mean"], row["test_std"] = _mean_std([float(t) for t in tests])
            rows.append(row)
    return rows


def _fmt(mean, std) -> str:
    return "–" if mean is None else f"{mean:.2f} ± {std:.2f}"


def render_markdown(groups: list[Group], rows: list[dict], budgets: list[int]) -> str:
    multi_space = len({g.search_space for g in groups}) > 1
    by = {(r["search_space"], r["dataset"], r["optimizer"], r["config_id"], r["budget"]): r for r in rows}
    lines = [("Mean ± std (sample std over seeds) of the best-by-validation architecture after q queries: "
              "validation accuracy / that architecture's test accuracy (%)."), "",
             "| dataset | optimizer | seeds | " + " | ".join(f"q={b}" for b in budgets) + " |",
             "|---|---|---|" + "---|" * len(budgets)]
    naslib = partial = unfinished = False
    for g in groups:
        cells = []
        for b in budgets:
            r = by[(g.search_space, g.dataset, g.name, g.config_id, b)]
            test = _fmt(r["test_mean"], r["test_std"])
            if g.source == "naslib":
                test, naslib = "–†", True
            cell = f"{_fmt(r['val_mean'], r['val_std'])} / {test}"
            if 0 < r["n_seeds"] < r["n_runs"]:
                cell += f" (n={r['n_seeds']})"
                partial = True
            cells.append(cell)
        n_unfinished = sum(r.finished is False for r in g.runs)
        seeds = str(len(g.runs)) + (f" ({n_unfinished} unfinished)" if n_unfinished else "")
        unfinished |= bool(n_unfinished)
        ds = f"{g.search_space}/{g.dataset}" if multi_space else g.dataset
        lines.append(f"| {ds} | {g.name} | {seeds} | " + " | ".join(cells) + " |")
    notes = []
    if naslib:
        notes.append("† Folders written by NASLib's own runner (errors.json only): best-so-far = running max of "
                     "its per-query valid_acc; the test column is left blank because NASLib's \"test_acc\" on "
                     "NAS-Bench-201 is the same eval_acc1es number as valid_acc, i.e. the validation split "
                     "(cifar10-valid for cifar10), not a test accuracy.")
    if partial:
        notes.append("(n=k): only k seeds had reached that many queries; the mean is over those.")
    if unfinished:
        notes.append("unfinished: interrupted runs, counted with the queries they completed.")
    notes.append("–: no run reached that budget.")
    return "\n".join(lines + [""] + notes) + "\n"


def write_csv(path: Path, rows: list[dict]) -> None:
    cols = ["search_space", "dataset", "optimizer", "source", "config_id", "budget", "n_seeds", "n_runs",
            "val_mean", "val_std", "test_mean", "test_std", "test_note"]
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if r[k] is None else r[k]) for k in cols})


def plot(groups: list[Group], budgets: list[int], path: Path) -> None:
    """Mean best-so-far val accuracy vs. queries, ±std band; one panel per dataset, one line per optimizer."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    panels: dict[tuple[str, str], list[Group]] = {}
    for g in groups:
        panels.setdefault((g.search_space, g.dataset), []).append(g)
    multi_space = len({ss for ss, _ in panels}) > 1
    fig, axes = plt.subplots(1, len(panels), figsize=(4.8 * len(panels), 3.8), squeeze=False)
    for ax, ((ss, ds), gs) in zip(axes[0], panels.items()):
        lows, highs = [], []
        for g in gs:
            length = max(len(r.best_val) for r in g.runs)
            mean, std = np.full(length, np.nan), np.full(length, np.nan)
            for q in range(length):
                vals = [r.best_val[q] for r in g.runs if len(r.best_val) > q]
                mean[q], std[q] = _mean_std(vals)
            x = np.arange(1, length + 1)
            (line,) = ax.plot(x, mean, label=g.name, lw=1.5)
            ax.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.2, lw=0)
            q0 = min(length, max(1, budgets[0] if budgets else 1)) - 1
            lows.append(mean[q0] - std[q0])
            highs.append(np.nanmax(mean + std))
        hi, lo = float(np.nanmax(highs)), float(np.nanmin(lows))
        if math.isfinite(lo) and math.isfinite(hi) and lo < hi:
            ax.set_ylim(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))
        ax.set_title(f"{ss}/{ds}" if multi_space else ds)
        ax.set_xlabel("queries")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_ylabel("best validation accuracy so far (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_report(runs: list[RunRecord], out: Path, budgets: list[int] | None = None,
                 optimizer_order: list[str] | None = None, log: Callable[[str], None] = print) -> list[Path]:
    """results.csv, results.md and best_val_vs_queries.png (if matplotlib is installed) in ``out``."""
    if not runs:
        raise ValueError("no runs to report")
    longest = max(len(r.best_val) for r in runs)
    if not budgets:
        budgets = [b for b in STANDARD_BUDGETS if b < longest] + [longest]
    budgets = sorted({int(b) for b in budgets})
    if budgets[0] < 1:
        raise ValueError(f"budgets must be >= 1, got {budgets}")
    groups = group_runs(runs, optimizer_order)
    rows = table_rows(groups, budgets)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / CSV_NAME, rows)
    (out / MD_NAME).write_text(render_markdown(groups, rows, budgets))
    paths = [out / CSV_NAME, out / MD_NAME]
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        log("report: matplotlib is not installed, so no plot (pip install matplotlib)")
    else:
        plot(groups, budgets, out / PNG_NAME)
        paths.append(out / PNG_NAME)
    return paths


def run_report(run_root: str | Path, budgets: list[int] | None = None, out: str | Path | None = None,
               log: Callable[[str], None] = print) -> list[Path]:
    """``naslib-agnet report``: every run folder under ``run_root``."""
    folders = find_run_folders(run_root)
    if not folders:
        raise FileNotFoundError(f"no run folders under {run_root}: expected .../config_<id>/<seed>/ folders "
                                "holding summary.json (this project) or errors.json (NASLib)")
    runs = [load_run(p) for p in folders]
    paths = write_report(runs, Path(out or run_root), budgets, log=log)
    log(f"report: {len(runs)} runs from {run_root}")
    return paths

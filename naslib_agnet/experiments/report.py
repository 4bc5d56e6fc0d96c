"""``naslib-agnet report``: the results table (CSV, markdown) and plot of folders of runs.

It walks folders for ``*/config_*/<seed>/`` run folders, written by this project
(``summary.json``) or by NASLib's bbo runner (``errors.json`` only; there the per-epoch
``valid_acc`` is the latest architecture's, so best-so-far is its running maximum), and
writes ``results.csv``, ``results.md`` (mean ± std over seeds of the best-by-validation
architecture's val and test accuracy at each budget) and ``best_val_vs_queries.png``.
A run folder it cannot read (a damaged record) or one without a query is left out and named
in the report's log, not allowed to stop the report of the others. :func:`headline` is the
one-line result of a run, as ``search`` and ``compare`` print it.
"""
from __future__ import annotations

import csv
import json
import math
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

STANDARD_BUDGETS = (16, 32, 48, 96, 144, 192)
DATASET_ORDER = ("cifar10", "cifar100", "ImageNet16-120")
NASLIB_TEST_NOTE = "no test accuracy: NASLib's errors.json test_acc on NB201 is the validation split"
CSV_NAME, MD_NAME, PNG_NAME = "results.csv", "results.md", "best_val_vs_queries.png"


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
    wall_time_s: float | None = None  # the run's search time (summary.json); None for NASLib folders
    implementation: str = "builtin"  # whose optimizer code ran: "builtin" or "naslib" (NASLib's own class)
    origin: str = ""  # the report folder it came from, where runs of several folders would otherwise be pooled
    #: under a hardware task, its constraints in words (``'edgegpu_latency <= 4 ms'``): best_val and
    #: best_test are then those of the best *feasible* architecture so far (NaN / None: none yet)
    condition: str | None = None
    #: the oracle's own words on its validation accuracy where it is a substitute (YAHPO's NB301 surrogate)
    substitute: str | None = None


def substitute_note(summary: dict[str, Any]) -> str | None:
    """The run's validation split in words if its oracle is a substitute surrogate, else None."""
    split = (summary.get("splits") or {}).get("val_acc")
    return split if isinstance(split, str) and "substitute" in split else None


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


class RunRecordError(ValueError):
    """A run record (summary.json or errors.json) that cannot be read; the message names the file."""


def read_summary(path: str | Path) -> dict[str, Any]:
    """A run folder's summary.json, or RunRecordError naming the file and what is wrong with it."""
    path = Path(path)
    try:
        summary = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise RunRecordError(f"{path} cannot be read ({exc})") from None
    except ValueError as exc:
        raise RunRecordError(f"{path} is not valid JSON (truncated or damaged: {exc}); rerun that run with "
                             "--force (the damaged folder is moved aside) or delete the folder") from None
    if not isinstance(summary, dict) or not isinstance(summary.get("queries"), list):
        raise RunRecordError(f"{path} is not a naslib-agnet run summary (no 'queries' list)")
    from .hardware_record import upgrade_legacy

    return upgrade_legacy(summary)  # a constrained run recorded before 0.3.0 reads as a current one


def headline(summary: dict[str, Any]) -> str:
    """The result of a run in one line: the best architecture by validation accuracy, or under a
    hardware constraint the best *feasible* one (naming the constraints and units), or that none
    was feasible and the least-violating architecture evaluated; then AG-Net's random fallbacks,
    if any."""
    queries = summary.get("queries") or []
    n = len(queries)
    if not n:
        return "no query evaluated"
    last = queries[-1]

    def test(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.2f}"

    hw = summary.get("hardware")
    if not hw:
        line = f"best val {last['best_val_acc']:.2f} (its test {test(last['best_test_acc'])}) after {n} queries"
    else:
        from .hardware_record import condition_text, query_values, values_text, violations

        condition = condition_text(hw)
        if last.get("best_feasible_val_acc") is None:
            miss = violations(hw, query_values(hw, queries))
            i = int(min(range(n), key=lambda k: (miss[k], -queries[k]["val_acc"])))
            near = (f"least violating: val {queries[i]['val_acc']:.2f} with {values_text(hw, queries[i].get('metrics'))}"
                    if np.isfinite(miss[i]) else "no evaluated architecture was measured")
            best = hw.get("table_best") or {}
            table = (f" (the table's best: {values_text(hw, best)})" if best and hw.get("optimum") is None else "")
            line = f"NO feasible architecture ({condition}) in {n} queries; {near}{table}"
        else:
            line = (f"best feasible ({condition}): val {last['best_feasible_val_acc']:.2f} (its test "
                    f"{test(last['best_feasible_test_acc'])}, {values_text(hw, last.get('best_feasible_metrics'))}) "
                    f"after {n} queries")
    if substitute_note(summary):
        line += " (a substitute surrogate's accuracy, not NAS-Bench-301's: see the run's splits)"
    agnet = summary.get("agnet") or {}
    fallbacks = agnet.get("random_fallbacks") or 0
    if fallbacks:
        line += (f"; AG-Net found no new valid candidate in {fallbacks} of its {agnet.get('iterations', '?')} "
                 "iterations (a random architecture was evaluated instead)")
    return line


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
        s = read_summary(summary_path)
        q = s["queries"]
        condition, prefix = None, "best_"
        if s.get("hardware"):
            from .hardware_record import condition_text

            condition, prefix = condition_text(s["hardware"]), "best_feasible_"
        best_val = [math.nan if x.get(prefix + "val_acc") is None else float(x[prefix + "val_acc"]) for x in q]
        return RunRecord(path, "naslib_agnet", str(s.get("search_space", layout["search_space"])),
                         str(s.get("dataset", layout["dataset"])), str(s.get("optimizer", layout["optimizer"])),
                         str(s.get("config_id", layout["config_id"])), str(s.get("seed", layout["seed"])),
                         bool(s.get("finished")), best_val,
                         [x.get(prefix + "test_acc") for x in q], s.get("wall_time_s"),
                         str(s.get("implementation", "builtin")), condition=condition,
                         substitute=substitute_note(s))
    try:
        config, trajectory = json.loads((path / "errors.json").read_text())
        valid = list(trajectory["valid_acc"])
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise RunRecordError(f"{path / 'errors.json'} is not NASLib's lightweight errors.json "
                         f"([config, {{'valid_acc': [...], ...}}]): {exc}") from None
    config = config if isinstance(config, dict) else {}
    best_val, _ = _running_best(valid, None)

    def get(key: str) -> str:
        return str(config.get(key, layout[key]))

    return RunRecord(path, "naslib", get("search_space"), get("dataset"), get("optimizer"), get("config_id"),
                     get("seed"), None, best_val, None, implementation="naslib")


def mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


#: Student's t, 97.5 % quantile, for 1..30 degrees of freedom (beyond: the normal 1.96)
T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def t_half_width(values: list[float]) -> float:
    """Half width of the 95 % Student-t interval of the mean of ``values`` (at least two), e.g.
    per-seed differences of two settings: t(0.975, n-1) * sd / sqrt(n)."""
    n = len(values)
    if n < 2:
        raise ValueError("a t-interval needs at least two values")
    t = T975[n - 2] if n - 1 <= len(T975) else 1.96
    return t * statistics.stdev(values) / math.sqrt(n)


@dataclass
class Group:
    search_space: str
    dataset: str
    name: str  # optimizer label as shown
    optimizer: str
    source: str
    config_id: str
    runs: list[RunRecord]
    implementation: str = "builtin"
    condition: str | None = None  #: the runs' hardware constraints in words (None: unconstrained)


def group_runs(runs: Iterable[RunRecord], optimizer_order: list[str] | None = None) -> list[Group]:
    """Runs grouped by (search space, dataset, optimizer, implementation, source, config_id), in display
    order. NASLib's own optimizers (run by NASLib or by this package's runner) are labelled "(NASLib)"."""
    groups: dict[tuple, list[RunRecord]] = {}
    for r in runs:
        src = (r.implementation, r.source)
        groups.setdefault((r.search_space, r.dataset, r.optimizer, src, r.config_id, r.origin, r.condition),
                          []).append(r)
    configs_per = {}
    for ss, ds, opt, src, cid, _, _ in groups:
        configs_per.setdefault((ss, ds, opt, src), set()).add(cid)
    labels: dict[tuple, set] = {}
    for ss, ds, opt, src, cid, _, _ in groups:
        labels.setdefault((ss, ds, opt, src[0]), set()).add(src[1])
    order = list(optimizer_order or [])
    out = []
    for (ss, ds, opt, src, cid, origin, cond), rs in groups.items():
        impl, source = src
        name = opt + (" (NASLib)" if impl == "naslib" else "")
        if len(labels[(ss, ds, opt, impl)]) > 1:  # NASLib's runner and this package's, side by side
            name += " [NASLib runner]" if source == "naslib" else " [naslib-agnet runner]"
        if len(configs_per[(ss, ds, opt, src)]) > 1:
            name += f" config_{cid}"
        if origin:
            name += f" [{origin}]"
        out.append(Group(ss, ds, name, opt, source, cid, sorted(rs, key=lambda r: (len(r.seed), r.seed)), impl,
                         cond))

    def key(g: Group):
        ds_rank = DATASET_ORDER.index(g.dataset) if g.dataset in DATASET_ORDER else len(DATASET_ORDER)
        opt_rank = order.index(g.optimizer) if g.optimizer in order else len(order)
        return (g.search_space, ds_rank, g.dataset, g.condition or "", opt_rank, g.optimizer,
                g.implementation != "builtin", g.source != "naslib_agnet", g.config_id)

    return sorted(out, key=key)


def table_rows(groups: list[Group], budgets: list[int]) -> list[dict[str, Any]]:
    """One row per group and budget: mean and sample std over the seeds that reached the budget."""
    rows = []
    for g in groups:
        for b in budgets:
            reached = [r for r in g.runs if len(r.best_val) >= b]
            found = [r for r in reached if not math.isnan(r.best_val[b - 1])]  # under a constraint: a feasible one
            row = {"search_space": g.search_space, "dataset": g.dataset, "optimizer": g.name, "source": g.source,
                   "config_id": g.config_id, "condition": g.condition or "", "budget": b,
                   "n_seeds": len(found), "n_runs": len(g.runs), "n_reached": len(reached),
                   "val_mean": None, "val_std": None, "test_mean": None, "test_std": None,
                   "test_note": "" if g.source == "naslib_agnet" else NASLIB_TEST_NOTE,
                   "wall_s_mean": _mean_wall_time(g.runs)}
            if found:
                row["val_mean"], row["val_std"] = mean_std([r.best_val[b - 1] for r in found])
                tests = [r.best_test[b - 1] for r in found if r.best_test is not None]
                if g.source == "naslib_agnet" and len(tests) == len(found) and None not in tests:
                    row["test_mean"], row["test_std"] = mean_std([float(t) for t in tests])
            rows.append(row)
    return rows


def _mean_wall_time(runs: list[RunRecord]) -> float | None:
    """Mean search time of the group's finished runs (s); None when none recorded one."""
    times = [r.wall_time_s for r in runs if r.finished and r.wall_time_s is not None]
    return statistics.mean(times) if times else None


def format_mean_std(mean, std) -> str:
    return "–" if mean is None else f"{mean:.2f} ± {std:.2f}"


def render_markdown(groups: list[Group], rows: list[dict], budgets: list[int]) -> str:
    multi_space = len({g.search_space for g in groups}) > 1
    by = {(r["search_space"], r["dataset"], r["condition"], r["optimizer"], r["config_id"], r["budget"]): r
          for r in rows}
    constrained = any(g.condition for g in groups)
    lines = [("Mean ± std (sample std over seeds) of the best-by-validation architecture after q queries: "
              "validation accuracy / that architecture's test accuracy (%)."
              + (" Under a constraint (named after the dataset): the best-by-validation *feasible* architecture; "
                 "a run that has not found one yet is left out of the mean (n=k)." if constrained else "")), "",
             "| dataset | optimizer | seeds | s/run | " + " | ".join(f"q={b}" for b in budgets) + " |",
             "|---|---|---|---|" + "---|" * len(budgets)]
    naslib = partial = unfinished = False
    for g in groups:
        cells = []
        for b in budgets:
            r = by[(g.search_space, g.dataset, g.condition or "", g.name, g.config_id, b)]
            test = format_mean_std(r["test_mean"], r["test_std"])
            if g.source == "naslib":
                test, naslib = "–†", True
            cell = f"{format_mean_std(r['val_mean'], r['val_std'])} / {test}"
            if r["n_seeds"] < r["n_runs"] and (r["n_seeds"] or r["n_reached"]):
                cell += f" (n={r['n_seeds']})"
                partial = True
            cells.append(cell)
        n_unfinished = sum(r.finished is False for r in g.runs)
        seeds = str(len(g.runs)) + (f" ({n_unfinished} unfinished)" if n_unfinished else "")
        unfinished |= bool(n_unfinished)
        ds = f"{g.search_space}/{g.dataset}" if multi_space else g.dataset
        if g.condition:
            ds += f" ({g.condition})"
        wall = _mean_wall_time(g.runs)
        wall = "–" if wall is None else f"{wall:.1f}"
        lines.append(f"| {ds} | {g.name} | {seeds} | {wall} | " + " | ".join(cells) + " |")
    notes = []
    substitutes = sorted({r.substitute for g in groups for r in g.runs if r.substitute})
    for text in substitutes:
        notes.append(f"Substitute benchmark: {text}.")
    if naslib:
        notes.append("† Folders written by NASLib's own runner (errors.json only): best-so-far = running max of "
                     "its per-query valid_acc; the test column is left blank because NASLib's \"test_acc\" on "
                     "NAS-Bench-201 is the same eval_acc1es number as valid_acc, i.e. the validation split "
                     "(cifar10-valid for cifar10), not a test accuracy.")
    if partial:
        notes.append("(n=k): only k seeds had reached that many queries" + (
            " and (under a constraint) found a feasible architecture" if constrained else "")
            + "; the mean is over those. –: none had.")
    if unfinished:
        notes.append("unfinished: interrupted runs, counted with the queries they completed.")
    notes.append("s/run: mean wall time of a finished run's search (queries, proposals, training), as in its "
                 "summary.json; NASLib folders record none. –: no run reached that budget.")
    return "\n".join(lines + [""] + notes) + "\n"


def write_csv(path: Path, rows: list[dict]) -> None:
    cols = ["search_space", "dataset", "condition", "optimizer", "source", "config_id", "budget", "n_seeds", "n_runs",
            "val_mean", "val_std", "test_mean", "test_std", "test_note", "wall_s_mean"]
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

    panels: dict[tuple[str, str, str | None], list[Group]] = {}
    for g in groups:
        panels.setdefault((g.search_space, g.dataset, g.condition), []).append(g)
    multi_space = len({ss for ss, _, _ in panels}) > 1
    cols = min(len(panels), 5)
    rows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.8 * cols, 3.8 * rows), squeeze=False)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    for ax, ((ss, ds, cond), gs) in zip(axes.flat, panels.items()):
        lows, highs = [], []
        for g in gs:
            length = max(len(r.best_val) for r in g.runs)
            mean, std = np.full(length, np.nan), np.full(length, np.nan)
            for q in range(length):
                vals = [r.best_val[q] for r in g.runs if len(r.best_val) > q and not math.isnan(r.best_val[q])]
                if vals:  # under a constraint: the runs that have found a feasible architecture
                    mean[q], std[q] = mean_std(vals)
            x = np.arange(1, length + 1)
            (line,) = ax.plot(x, mean, label=g.name, lw=1.5)
            ax.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.2, lw=0)
            q0 = min(length, max(1, budgets[0] if budgets else 1)) - 1
            if np.isfinite(mean[q0:]).any():  # under a constraint a group may have found nothing feasible
                lows.append(np.nanmin(mean[q0:] - std[q0:]))
                highs.append(np.nanmax(mean + std))
        lo, hi = (float(min(lows)), float(max(highs))) if lows else (math.nan, math.nan)
        if math.isfinite(lo) and math.isfinite(hi) and lo < hi:
            ax.set_ylim(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))
        title = f"{ss}/{ds}" if multi_space else ds
        if any(r.substitute for g in gs for r in g.runs):
            title += " (substitute surrogate)"
        ax.set_title(title + (f"\n{cond}" if cond else ""), fontsize=10 if cond else None)
        ax.set_xlabel("queries")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_ylabel("best feasible validation accuracy so far (%)" if cond
                      else "best validation accuracy so far (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_report(runs: list[RunRecord], out: Path, budgets: list[int] | None = None,
                 optimizer_order: list[str] | None = None, log: Callable[[str], None] = print) -> list[Path]:
    """results.csv, results.md and best_val_vs_queries.png (if matplotlib is installed) in ``out``;
    runs without a query are left out (and said so)."""
    empty = [r for r in runs if not r.best_val]
    for r in empty:
        log(f"report: left out {r.path}: no query recorded")
    runs = [r for r in runs if r.best_val]
    if not runs:
        raise ValueError("no runs to report" + (" (every run folder is empty of queries)" if empty else ""))
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


def _label_runs_pooled_across_folders(runs: list[RunRecord], root_of: dict[Path, str],
                                      warn: Callable[[str], None]) -> None:
    """Runs of one table row and seed from two folders are not pooled: such rows get their folder's name."""
    def row(r: RunRecord) -> tuple:
        return r.search_space, r.dataset, r.optimizer, r.implementation, r.source, r.config_id

    roots: dict[tuple, set[str]] = {}
    for r in runs:
        roots.setdefault((*row(r), r.seed), set()).add(root_of[r.path.resolve()])
    clashing = {key[:-1] for key, where in roots.items() if len(where) > 1}
    for r in runs:
        if row(r) in clashing:
            r.origin = root_of[r.path.resolve()]
    for key in sorted(clashing, key=str):
        warn(f"report: {key[2]} on {key[1]} (config_{key[5]}) has runs of the same seed in several folders; "
             "their rows are kept apart, labelled with the folder")


def run_report(run_roots: str | Path | list[str | Path], budgets: list[int] | None = None,
               out: str | Path | None = None, log: Callable[[str], None] = print,
               warn: Callable[[str], None] | None = None) -> list[Path]:
    """``naslib-agnet report``: every run folder under the folders ``run_roots`` (e.g. this project's
    grid and NASLib's runner's output, side by side), written to ``out`` (default: the one folder).
    Unreadable run folders and runs without a query are left out and named through ``warn``."""
    from .hardware_report import load_hardware_run, write_hardware_report

    roots = [Path(r) for r in ([run_roots] if isinstance(run_roots, (str, Path)) else run_roots)]
    if out is None:
        if len(roots) > 1:
            raise ValueError("report over several folders: say where the report goes with --out DIR")
        out = roots[0]
    warn = warn or log
    folders, root_of = [], {}
    for root in roots:
        found = find_run_folders(root)
        if not found:
            raise FileNotFoundError(f"no run folders under {root}: expected .../config_<id>/<seed>/ folders "
                                    "holding summary.json (this project) or errors.json (NASLib)")
        for folder in found:  # a folder reached through two of the roots is read once
            if folder.resolve() not in root_of:
                root_of[folder.resolve()] = str(root)
                folders.append(folder)
    plain, hardware, skipped = [], {}, []
    for p in folders:
        try:
            summary = load_hardware_run(p)
            run = load_run(p)  # a constrained run's: its best *feasible* architecture so far
        except RunRecordError as exc:
            skipped.append(str(exc))
            continue
        if not run.best_val:
            skipped.append(f"{p}: no query recorded")
            continue
        if summary is not None:
            hardware[p] = summary
        plain.append(run)
    for reason in skipped:
        warn(f"report: left out {reason}")
    _label_runs_pooled_across_folders(plain, root_of, warn)
    if not plain and not hardware:
        raise ValueError(f"no readable run with at least one query under {', '.join(map(str, roots))}")
    paths = []
    if plain:
        paths += write_report(plain, Path(out), budgets, log=log)
        log(f"report: {len(plain)} runs from {', '.join(map(str, roots))}")
    if hardware:
        longest = max(len(summary["queries"]) for summary in hardware.values())
        hw_budgets = budgets or [b for b in STANDARD_BUDGETS if b < longest] + [longest]
        paths += write_hardware_report(list(hardware), Path(out), hw_budgets, log=log, roots=roots)
        log(f"hardware report: {len(hardware)} runs made under a hardware metric")
    return paths

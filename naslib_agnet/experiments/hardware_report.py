"""The hardware-aware report (paper Table 5 style) of runs made under a ``hardware:`` metric.

For every (task, dataset, optimizer) and query budget B, over the runs (seeds):

* ``best``: the run whose best *feasible* architecture within its first B queries has the
  highest validation accuracy, with that architecture's metric value (best of the runs);
* ``mean_val``: mean ± std over runs of that best feasible validation accuracy (a run
  that has found nothing feasible yet is counted in ``no_feasible`` and left out);
* ``feasibility``: mean share of the first B evaluated architectures that meet the
  constraint (an unmeasured architecture does not);
* ``optimum_runs``: runs whose best feasible architecture reaches the table's constrained
  optimum (its validation accuracy);
* ``hv``: hypervolume of the first B evaluated points (validation accuracy up, metric
  down) against the reference point recorded in each run's summary (worst accuracy and
  worst metric value of the whole table), divided by the hypervolume of the whole table
  (1.0 = the table's Pareto front); ``hv_union``: the same for the union of all runs;
* ``ranksum_*``: the architecture the authors' code reports for Joint=1 (smallest sum of
  accuracy rank and metric rank among the first B, feasible or not), for reference.

Writes ``hardware_results.csv`` (every budget), ``hardware_runs.csv`` (one row per run and
budget, with its Pareto front), ``hardware_results.md`` (the largest budget) and
``hardware_fronts.png`` (per task: each optimizer's Pareto front of all its runs' evaluated
architectures, the constraint and the table's constrained optimum).
"""
from __future__ import annotations

import csv
import json
import math
import re
import statistics
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ..search.multiobjective import feasible, hypervolume, pareto_front
from ..benchmarks.constraints import parse_objectives
from .hardware_record import (condition_text, constraints_of, front_axis, objectives_of, oriented_values,
                              query_values)
from .report import read_summary

CSV_NAME, RUNS_CSV_NAME, MD_NAME = "hardware_results.csv", "hardware_runs.csv", "hardware_results.md"
PNG_NAME = "hardware_fronts.png"


def load_hardware_run(folder: str | Path) -> dict[str, Any] | None:
    """A run folder's summary.json if it was made under a hardware metric, else None."""
    path = Path(folder) / "summary.json"
    if not path.is_file():
        return None
    summary = read_summary(path)
    if "hardware" not in summary:
        return None
    summary["path"] = str(Path(folder))
    return summary


def _task_of(run: dict[str, Any]) -> str:
    """The constraints in words, and the objectives where they are not the constrained metrics in
    their constraints' directions (they decide the front metric, so such runs are another task)."""
    hw = run["hardware"]
    constraints, objectives = constraints_of(hw), objectives_of(hw)
    text = condition_text(hw)
    if constraints and objectives != parse_objectives(None, constraints):
        text += "; " + ", ".join(map(str, objectives))
    return text


def run_metrics(run: dict[str, Any], budget: int) -> dict[str, Any]:
    """The per-run figures of one budget (see the module docstring)."""
    hw = run["hardware"]
    queries = run["queries"][:budget]
    val = np.asarray([q["val_acc"] for q in queries], dtype=np.float64)
    values = query_values(hw, queries)
    oriented, limits = oriented_values(hw, values)
    ok = feasible(oriented, limits)
    name, sign, _ = front_axis(hw)
    j = hw["metrics"].index(name)
    metric = oriented[:, j]  # the front metric, lower is better
    last = queries[-1]
    ref = hw["hypervolume_reference"]
    ref_acc, ref_metric = ref["val_acc"], ref["oriented_" + name]
    front = pareto_front(val, metric)
    optimum = hw.get("optimum") or {}
    ranks = np.argsort(np.argsort(-val, kind="stable"), kind="stable") + np.argsort(
        np.argsort(np.where(np.isnan(metric), np.inf, metric), kind="stable"), kind="stable")
    pick = int(np.argmin(ranks))
    best_metrics = last.get("best_feasible_metrics")
    return {"queries": len(queries), "condition": condition_text(hw),
            "front_limit": (None if not math.isfinite(limits[j]) else float(limits[j] * sign)),
            "best_feasible_val": last.get("best_feasible_val_acc"),
            "best_feasible_test": last.get("best_feasible_test_acc"),
            "best_feasible_metric": None if best_metrics is None else best_metrics.get(name),
            "best_feasible_metrics": best_metrics,
            "best_feasible_arch": last.get("best_feasible_arch"),
            "optimum": (bool(optimum) and last.get("best_feasible_val_acc") is not None
                        and last["best_feasible_val_acc"] >= optimum["val_acc"]),
            "feasibility": float(ok.mean()) if len(ok) else math.nan,
            "hv": hypervolume(val, metric, ref_acc, ref_metric) / hw["table_hypervolume"],
            "front": [[float(val[i]), float(metric[i] * sign)] for i in front],
            "ranksum_val": float(val[pick]), "ranksum_metric": float(metric[pick] * sign),
            "ranksum_feasible": bool(ok[pick]),
            "points": (val, metric)}


def _mean_std(values: list[float]) -> tuple[float, float]:
    if not values:
        return math.nan, math.nan
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def aggregate(runs: list[dict[str, Any]], budget: int) -> dict[str, Any]:
    """Table-5 figures of the runs of one (task, dataset, optimizer) at one budget."""
    per_run = [run_metrics(r, budget) for r in runs]
    found = [m for m in per_run if m["best_feasible_val"] is not None]
    best = max(found, key=lambda m: m["best_feasible_val"]) if found else None
    hw = runs[0]["hardware"]
    ref = hw["hypervolume_reference"]
    name, sign, label = front_axis(hw)
    val = np.concatenate([m["points"][0] for m in per_run])
    metric = np.concatenate([m["points"][1] for m in per_run])
    optimum = hw.get("optimum") or {}
    mean_val, std_val = _mean_std([m["best_feasible_val"] for m in found])
    mean_feas, _ = _mean_std([m["feasibility"] for m in per_run])
    mean_hv, std_hv = _mean_std([m["hv"] for m in per_run])
    return {"runs": len(runs), "budget": budget, "no_feasible": len(per_run) - len(found),
            "best_val": None if best is None else best["best_feasible_val"],
            "best_test": None if best is None else best["best_feasible_test"],
            "best_metric": None if best is None else best["best_feasible_metric"],
            "mean_val": mean_val, "std_val": std_val, "feasibility": mean_feas,
            "optimum_runs": sum(m["optimum"] for m in per_run),
            "optimum_val": optimum.get("val_acc"), "optimum_metric": (optimum.get("metrics") or {}).get(name),
            "front_metric": name, "front_sign": sign, "front_label": label,
            "front_limit": per_run[0]["front_limit"], "condition": per_run[0]["condition"],
            "hv": mean_hv, "hv_std": std_hv,
            "hv_union": hypervolume(val, metric, ref["val_acc"], ref["oriented_" + name]) / hw["table_hypervolume"],
            "ranksum_val": statistics.fmean(m["ranksum_val"] for m in per_run),
            "ranksum_feasible": statistics.fmean(float(m["ranksum_feasible"]) for m in per_run),
            "per_run": per_run}


def _group(runs: Iterable[dict[str, Any]], task_of: Callable[[dict], str]) -> dict[tuple[str, str, str], list]:
    groups: dict[tuple[str, str, str], list] = {}
    for r in runs:  # NASLib's own classes (--baselines naslib) apart from the built-in ones of the same name
        name = r["optimizer"] + (" (NASLib)" if r.get("implementation") == "naslib" else "")
        groups.setdefault((task_of(r), r["dataset"], name), []).append(r)
    return groups


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


def _g(value: Any) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.4g}"


def render_markdown(table: dict[tuple[str, str, str], dict], optimizers: list[str], tasks: list[str],
                    budget: int) -> str:
    datasets = sorted({d for _, d, _ in table})
    lines = [f"Budget: {budget} queries. Accuracy = validation accuracy (%); the metric value shown is the task's "
             "front metric (column 'front metric', in its unit). constraint = what a feasible architecture meets "
             "(an unmeasured one does not). best = best feasible of the runs (val, metric); mean = mean ± std of "
             "the runs' best feasible val; feas = mean share of evaluated architectures meeting the constraints; "
             "opt = runs that found the table's constrained optimum; HV = mean hypervolume of each run's evaluated "
             "architectures (validation accuracy and the front metric, each in its better direction) against the "
             "reference point (lowest validation accuracy, worst front-metric value of the whole table), divided "
             "by the whole table's hypervolume (1 = the table's Pareto front).", ""]
    for dataset in datasets:
        if len(datasets) > 1:
            lines += [f"### {dataset}", ""]
        head = "| task | constraint | front metric | optimum (val, metric) |" + "".join(
            f" {o} best | {o} mean | {o} feas | {o} opt | {o} HV |" for o in optimizers)
        lines += [head, "|" + "---|" * (4 + 5 * len(optimizers))]
        for task in tasks:
            cells = [table.get((task, dataset, o)) for o in optimizers]
            any_cell = next((c for c in cells if c), None)
            if any_cell is None:
                continue
            row = (f"| {task} | {any_cell['condition']} | {any_cell['front_label']} | "
                   f"{_fmt(any_cell['optimum_val'])}, {_g(any_cell['optimum_metric'])} |")
            for c in cells:
                if c is None:
                    row += " - | - | - | - | - |"
                    continue
                best = "none feasible" if c["best_val"] is None else f"{_fmt(c['best_val'])}, {_g(c['best_metric'])}"
                none = f" ({c['no_feasible']} runs none)" if c["no_feasible"] else ""
                row += (f" {best} | {_fmt(c['mean_val'])} ± {_fmt(c['std_val'])}{none} | {_fmt(c['feasibility'])} |"
                        f" {c['optimum_runs']}/{c['runs']} | {_fmt(c['hv'], 3)} |")
            lines.append(row)
        lines.append("")
    lines += _scoreboard(table, optimizers, tasks)
    return "\n".join(lines) + "\n"


def _scoreboard(table: dict, optimizers: list[str], tasks: list[str]) -> list[str]:
    """How AG-Net (agnet, agnet_joint, and either of them) compares with RS, task by task."""
    agnets = [o for o in optimizers if o.startswith("agnet")]
    if "rs" not in optimizers or not agnets:
        return []
    datasets = sorted({d for _, d, _ in table})
    out = []
    for dataset in datasets:
        pairs = [(table[(t, dataset, "rs")], {o: table[(t, dataset, o)] for o in agnets if (t, dataset, o) in table})
                 for t in tasks if (t, dataset, "rs") in table]
        pairs = [(rs, ours) for rs, ours in pairs if ours]
        if not pairs:
            continue
        lines = [f"{dataset}, {len(pairs)} tasks; number of tasks where", "",
                 "| | " + " | ".join(agnets) + (" | either |" if len(agnets) > 1 else " |"),
                 "|---|" + "---|" * (len(agnets) + (len(agnets) > 1))]
        # a variant's mean is over the runs that found something feasible: it only counts as above rs's
        # when it has no more such empty runs than rs
        checks = {"mean val above rs": lambda c, rs: not math.isnan(c["mean_val"]) and (
                      math.isnan(rs["mean_val"]) or c["mean_val"] > rs["mean_val"])
                      and c["no_feasible"] <= rs["no_feasible"],
                  "constrained optimum found (best of the runs)": lambda c, rs: c["optimum_runs"] > 0,
                  "feasibility ratio above rs": lambda c, rs: c["feasibility"] > rs["feasibility"]}
        for name, check in checks.items():
            counts = [sum(o in ours and check(ours[o], rs) for rs, ours in pairs) for o in agnets]
            if len(agnets) > 1:
                counts.append(sum(any(check(c, rs) for c in ours.values()) for rs, ours in pairs))
            lines.append(f"| {name} | " + " | ".join(map(str, counts)) + " |")
        out += lines + [""]
    return out


def _natural(text: str) -> list:
    """Sort key that orders 'raspi4_2ms' before 'raspi4_10ms'."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def write_hardware_report(folders: Iterable[str | Path], out: str | Path, budgets: list[int],
                          optimizer_order: list[str] | None = None, task_order: list[str] | None = None,
                          log: Callable[[str], None] = print, roots: Iterable[str | Path] = ()) -> list[Path]:
    """Write the three report files for the hardware-aware runs among ``folders``; returns their paths.

    A run's task is the name in ``task_order`` found in its path, else the folder under the one of
    ``roots`` that holds it, above ``{search_space}/{dataset}/...`` (a ``compare.tasks`` folder), else
    ``"metric <= limit"``."""
    runs = [r for r in (load_hardware_run(f) for f in folders) if r is not None]
    if not runs:
        return []
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    task_names = {}
    for r in runs:  # the compare task folder (the folder above {search_space}/{dataset}/...), else "metric <= limit"
        parts = Path(r["path"]).parts
        named = [t for t in (task_order or []) if t in parts]
        for root in roots if not named else ():
            path, root = Path(r["path"]).resolve(), Path(root).resolve()
            if root in path.parents:
                rel = path.relative_to(root).parts
                named = [rel[0]] if len(rel) == 6 else []
        task_names[r["path"]] = named[0] if named else _task_of(r)
    groups = _group(runs, lambda r: task_names[r["path"]])
    optimizers = list(optimizer_order or sorted({k[2] for k in groups}))
    optimizers += sorted({k[2] for k in groups} - set(optimizers))
    tasks = [t for t in (task_order or []) if t in {k[0] for k in groups}]
    tasks += sorted({k[0] for k in groups} - set(tasks), key=_natural)
    rows, run_rows, final = [], [], {}
    for budget in budgets:
        for key, members in groups.items():
            usable = [r for r in members if len(r["queries"]) >= budget]
            if not usable:
                continue
            agg = aggregate(usable, budget)
            task, dataset, optimizer = key
            rows.append({"task": task, "dataset": dataset, "optimizer": optimizer,
                         **{k: v for k, v in agg.items() if k != "per_run"}})
            for r, m in zip(usable, agg["per_run"]):
                run_rows.append({"task": task, "dataset": dataset, "optimizer": optimizer, "seed": r["seed"],
                                 **{k: v for k, v in m.items() if k != "points"}})
            if budget == max(budgets):
                final[key] = agg
    paths = [out / CSV_NAME, out / RUNS_CSV_NAME, out / MD_NAME]
    for path, data in ((paths[0], rows), (paths[1], run_rows)):
        with path.open("w", newline="") as fh:
            if data:
                writer = csv.DictWriter(fh, fieldnames=list(data[0]))
                writer.writeheader()
                for row in data:
                    writer.writerow({k: json.dumps(v) if isinstance(v, (list, dict)) else v for k, v in row.items()})
    paths[2].write_text(render_markdown(final, optimizers, tasks, max(budgets)))
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        log("hardware report: matplotlib is not installed, so no plot")
    else:
        plot_fronts(final, optimizers, tasks, out / PNG_NAME)
        paths.append(out / PNG_NAME)
    return paths


def plot_fronts(table: dict[tuple[str, str, str], dict], optimizers: list[str], tasks: list[str], path: Path) -> None:
    """One panel per (task, dataset): each optimizer's front over the union of its runs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [(t, d) for t in tasks for d in sorted({k[1] for k in table}) if any((t, d, o) in table for o in optimizers)]
    if not keys:
        return
    cols = min(5, len(keys))
    rows = math.ceil(len(keys) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.8 * rows), squeeze=False)
    labels = set()
    for ax, (task, dataset) in zip(axes.flat, keys):
        limit = optimum = None
        for o in optimizers:
            agg = table.get((task, dataset, o))
            if agg is None:
                continue
            val = np.concatenate([m["points"][0] for m in agg["per_run"]])
            metric = np.concatenate([m["points"][1] for m in agg["per_run"]])
            front = pareto_front(val, metric)  # oriented: lower is better; drawn in the metric's own values
            ax.step(metric[front] * agg["front_sign"], val[front], where="post", label=o, lw=1.2)
            limit = agg["front_limit"]
            optimum = (agg["optimum_metric"], agg["optimum_val"])
            labels.add(agg["front_label"])
            xlabel = agg["front_label"]
            title = task if agg["condition"] == task else f"{task}\n{agg['condition']}"
        if limit is not None and math.isfinite(limit):
            ax.axvline(limit, color="grey", ls="--", lw=0.8)
        if optimum and optimum[0] is not None:
            ax.plot(*optimum, marker="*", color="black", ms=8, ls="none", label="constrained optimum")
            ax.set_ylim(bottom=optimum[1] - 8)  # the interesting part: near the constrained optimum
        ax.set_title(title if len({k[1] for k in keys}) == 1 else f"{title} ({dataset})", fontsize=8)
        ax.set_xlabel(xlabel, fontsize=7)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(keys):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    if len(labels) == 1:  # one metric: one axis name for the figure
        for ax in axes.flat:
            ax.set_xlabel("")
        fig.supxlabel(labels.pop(), fontsize=9)
    fig.supylabel("validation accuracy (%)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
